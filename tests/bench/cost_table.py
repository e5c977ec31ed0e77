#!/usr/bin/env python3
"""The compute model, checked: runs the cost/ benchmarks of efsim_bench (cost_check_bench.cpp)
and prints, per operation and size, the flops the model charges, the host time, and the
effective rate (charged flops / host seconds). Per operation family, the spread (max/min rate
across sizes): about 1 when the formula's shape is right; far from 1 when the real cost grows
with something the formula does not count.

  python3 tests/bench/cost_table.py [--bench build/tests/bench/efsim_bench] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=os.path.join("build", "tests", "bench", "efsim_bench"))
    ap.add_argument("--json", help="read this benchmark JSON instead of running the benchmarks")
    ap.add_argument("--min-time", default="0.2", help="--benchmark_min_time per benchmark (s)")
    a = ap.parse_args()
    if a.json:
        with open(a.json) as f:
            data = json.load(f)
    else:
        if not os.path.exists(a.bench):
            print("error: %s: no such benchmark binary (./run.sh build)" % a.bench, file=sys.stderr)
            return 2
        out = subprocess.run([a.bench, "--benchmark_filter=cost/", "--benchmark_format=json",
                              "--benchmark_min_time=" + a.min_time],
                             check=True, capture_output=True, text=True).stdout
        data = json.loads(out)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    families = {}
    print("| operation | size | charged flops | host time | effective Gflop/s |")
    print("| --- | --- | --- | --- | --- |")
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            continue
        name = b["name"]
        family, size = name.rsplit("/", 1)
        rate = b.get("flops_per_s", 0.0) / 1e9
        t = b["real_time"] * unit[b["time_unit"]]
        print("| %s | %s | %.3g | %.3g ms | %.2f |" % (family[len("cost/"):], size,
                                                     b.get("charged_flops", 0), t * 1e3, rate))
        families.setdefault(family, []).append(rate)
    print("\n| operation | effective Gflop/s (min … max) | spread |")
    print("| --- | --- | --- |")
    for family, rates in families.items():
        lo, hi = min(rates), max(rates)
        print("| %s | %.2f … %.2f | %.1f× |" % (family[len("cost/"):], lo, hi, hi / lo if lo else float("inf")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
