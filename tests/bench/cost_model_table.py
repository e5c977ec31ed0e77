#!/usr/bin/env python3
"""The compute model against the host: runs the cost_model/ benchmarks of efsim_bench
(tests/bench/cost_model_bench.cpp) and prints Markdown tables: per operation and size the flops
the model charges, the measured host time, and the effective rate (charged flops / seconds);
then per operation family the spread of that rate across sizes (max/min). A constant rate means
the formula has the shape of the real cost; a rate that drifts by more than 2x across sizes
means the real cost grows with something the formula does not count (or counts too much).
Finally, for the synthetic GLM sweeps, a least-squares fit of the host time to
a nnz + b rows + c d (ns each), the shape a corrected formula would need.

  python3 tests/bench/cost_model_table.py [--bench build/tests/bench/efsim_bench] [--json FILE]
      [--repetitions 3] [--min-time 0.2] [--save FILE]
"""
import argparse
import json
import os
import subprocess
import sys

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
PREFIX = "cost_model/"


def run(a):
    if not os.path.exists(a.bench):
        sys.exit("error: %s: no such benchmark binary (build the efsim_bench target)" % a.bench)
    cmd = [a.bench, "--benchmark_filter=" + a.filter, "--benchmark_format=json",
           "--benchmark_min_time=%s" % a.min_time]
    if a.repetitions > 1:
        cmd += ["--benchmark_repetitions=%d" % a.repetitions,
                "--benchmark_report_aggregates_only=true"]
    print("running: " + " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def rows_of(data):
    """name -> benchmark entry: the median aggregate when repeated, else the single run."""
    out = {}
    for b in data["benchmarks"]:
        if b.get("error_occurred") or not b.get("run_name", b["name"]).startswith(PREFIX):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
            name = b["run_name"]
        else:
            name = b["name"]
        for suffix in ("/real_time", "/manual_time"):  # UseRealTime() adds it to the names
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        out[name] = b
    return out


def fmt_time(t):
    if t < 1e-6:
        return "%.0f ns" % (t * 1e9)
    if t < 1e-3:
        return "%.2f µs" % (t * 1e6)
    if t < 1:
        return "%.2f ms" % (t * 1e3)
    return "%.2f s" % t


def solve3(m, v):
    """Solves the 3x3 system m x = v (Gaussian elimination with partial pivoting)."""
    m = [row[:] + [v[i]] for i, row in enumerate(m)]
    for c in range(3):
        p = max(range(c, 3), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(3):
            if r != c and m[c][c]:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][3] / m[i][i] if m[i][i] else float("nan") for i in range(3)]


def fit(points):
    """Least squares, relative error: t ~ a nnz + b rows + c d over (nnz, rows, d, t)."""
    ata = [[0.0] * 3 for _ in range(3)]
    atb = [0.0] * 3
    for nnz, rows, d, t in points:
        x = [nnz / t, rows / t, d / t]  # each equation divided by t: relative residuals
        for i in range(3):
            atb[i] += x[i]
            for j in range(3):
                ata[i][j] += x[i] * x[j]
    return solve3(ata, atb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=os.path.join("build", "tests", "bench", "efsim_bench"))
    ap.add_argument("--json", help="read this benchmark JSON instead of running the benchmarks")
    ap.add_argument("--save", help="also write the benchmark JSON to this file")
    ap.add_argument("--filter", default=PREFIX, help="--benchmark_filter (default cost_model/)")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", default="0.2", help="--benchmark_min_time per benchmark (s)")
    a = ap.parse_args()
    if a.json:
        with open(a.json) as f:
            text = f.read()
    else:
        text = run(a)
        if a.save:
            with open(a.save, "w") as f:
                f.write(text)
    data = json.loads(text)
    ctx = data.get("context", {})
    print("Host: %s CPU(s) at %s MHz, load average at start %s; %d repetition(s), median "
          "shown.\n" % (ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
                        " ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?",
                        max([b.get("repetitions", 1) for b in data["benchmarks"]] + [1])))

    runs = rows_of(data)
    families = {}
    print("| operation | size | charged flops | measured time | effective Gflop/s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, b in runs.items():
        family, size = name[len(PREFIX):].rsplit("/", 1)
        t = b["real_time"] * UNIT[b["time_unit"]]
        charged = b.get("charged_flops", 0.0)
        rate = charged / t / 1e9 if t > 0 else 0.0
        print("| %s | %s | %.3g | %s | %s |" % (family, size, charged, fmt_time(t),
                                                "%.3g" % rate if charged > 0 else "— (0 charged)"))
        families.setdefault(family, []).append((size, rate, charged, t, b))

    print("\n| operation family | effective Gflop/s, smallest → largest size | spread (max/min) "
          "| shape |")
    print("| --- | --- | ---: | --- |")
    for family, items in families.items():
        rates = [r for _, r, c, _, _ in items if c > 0]
        if not rates:
            print("| %s | — | — | charged 0 flops |" % family)
            continue
        lo, hi = min(rates), max(rates)
        spread = hi / lo if lo > 0 else float("inf")
        verdict = "ok" if spread <= 2 else "**wrong (>2x)**"
        print("| %s | %s | %.1f× | %s |" % (family, " → ".join("%.3g" % r for r in rates), spread,
                                             verdict))

    # The GLM gradients' per-nnz, per-row and per-coordinate costs, from the synthetic sweeps.
    fits = []
    for loss in ("logistic", "least_squares"):
        pts = []
        for family, items in families.items():
            if not family.startswith(loss + "/synth_"):
                continue
            for _, _, _, t, b in items:
                rows, d = b.get("rows"), b.get("d")
                nnz_row = {"synth_dim": 10, "synth_rows": 10}.get(family.split("/")[1])
                if nnz_row is None:
                    nnz_row = int(b["run_name"].split("nnz_row", 1)[1].split("/")[0])
                if rows and d:
                    pts.append((rows * nnz_row, rows, d, t))
        if len(pts) >= 3:
            fits.append((loss, fit(pts), len(pts)))
    if fits:
        print("\n| GLM gradient (synthetic sweeps) | ns per non-zero | ns per row | ns per "
              "coordinate | points |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for loss, (a_, b_, c_), n in fits:
            print("| %s | %.2f | %.2f | %.3f | %d |" % (loss, a_ * 1e9, b_ * 1e9, c_ * 1e9, n))
        print("\n(charged, algorithms/core/cost.hpp: 4 flops per non-zero, 50 per logistic row or 8 "
              "per squares row, 1 per coordinate + 2 if regularised; at R Gflop/s that is 4/R, "
              "50/R (8/R), 1/R (3/R) ns.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
