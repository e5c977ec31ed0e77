#!/usr/bin/env python3
"""Whole-run benchmarks of efsim: the figures of the README's Performance section.

    ./run.sh build && python3 tests/bench/perf_table.py [--repeat 5] [--quick] [--only NAMES]

Needs a Release build (build/efsim, build/tests/bench/efsim_bench). Each figure is the median
of --repeat runs (wall-clock host time of `efsim run --jobs 1 --threads 1`, peak RSS of the run's
process tree); item 6 also runs efsim on every core (--threads). Prints Markdown tables. Not part of the test suite: timings belong here, not in tests.
Data: ../shared/datasets/a9a beside the repository and Debian's dataset-fashion-mnist; a figure
whose data is missing is reported as skipped. The NumPy anchor (--only numpy) runs its reference
under an interpreter that has NumPy and SciPy (this one, else Debian's /usr/bin/python3 with
python3-numpy and python3-scipy).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EFSIM = ROOT / "build" / "efsim"
BENCH = ROOT / "build" / "tests" / "bench" / "efsim_bench"
A9A = Path(os.environ.get("EFSIM_A9A", ROOT.parent / "shared" / "datasets" / "a9a"))
FMNIST = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def run_timed(args):
    """Runs a command; returns (wall seconds, peak RSS in bytes of its process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"perf_table: {' '.join(map(str, args))} failed:\n{err}")
    return wall, usage.ru_maxrss * 1024


def run_timed_cpu(args):
    """Runs a command; returns (wall seconds, CPU seconds (user + system) of its process tree,
    peak RSS in bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"perf_table: {' '.join(map(str, args))} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def efsim_run_cpu(scenario_text, tmp, name, repeat):
    """Median wall seconds, CPU seconds and peak RSS of `efsim run --jobs 1 --threads 1`."""
    path = Path(tmp) / f"{name}.yaml"
    path.write_text(scenario_text)
    runs = [run_timed_cpu([EFSIM, "run", path, "--out", Path(tmp) / name, "--fresh", "--no-report",
                           "--quiet", "--jobs", "1", "--threads", "1"]) for _ in range(repeat)]
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))


EDGE_FLEET = """  kind: edge
  classes:
    - {bandwidth: 10Mbps, latency: 50ms, share: 0.5, speed: 0.5Gf}
    - {bandwidth: 100Mbps, latency: 10ms, share: 0.3, speed: 4Gf}
    - {bandwidth: 1Mbps, latency: 80ms, share: 0.2}"""

POPULATION_METHODS = {
    "dcgd": """  - method: dcgd
    compressor: {kind: rand_k_unbiased, k: 10}""",
    "ef21": """  - method: ef21
    compressor: {kind: top_k, k: 10}""",
}


def population_scenario(clients, tau, rounds, model, materialize="sampled", method="dcgd",
                        platform="star"):
    """DCGD Rand-10 or EF21 Top-10 (EF21-PP) with tau-nice sampling over a population of one-row
    clients (d = 100), on a star or a 3-class edge fleet."""
    where = ("platform: {kind: star, bandwidth: 10Mbps, latency: 10ms}" if platform == "star"
             else "platform:\n" + EDGE_FLEET)
    return f"""seed: 1
{where}
network_model: {model}
problem:
  kind: logistic
  dataset: synthetic
  synthetic: {{samples: {clients}, dim: 100, nnz_per_row: 10}}
  workers: {clients}
metrics: {{every: 50}}
stop: {{max_rounds: {rounds}}}
runs:
{POPULATION_METHODS[method]}
    participation: {{tau: {tau}, materialize: {materialize}}}
    stepsize: {{gamma: 0.5}}
"""


def efsim_run(scenario_text, tmp, name, repeat, jobs=1):
    """Median wall seconds and median peak RSS of `efsim run` on a scenario."""
    path = Path(tmp) / f"{name}.yaml"
    path.write_text(scenario_text)
    walls, rss = [], []
    for _ in range(repeat):
        w, r = run_timed([EFSIM, "run", path, "--out", Path(tmp) / name, "--fresh", "--no-report",
                          "--quiet", "--jobs", str(jobs), "--threads", "1"])
        walls.append(w)
        rss.append(r)
    return statistics.median(walls), statistics.median(rss)


def bench_us(name, repeat):
    """Median real time per iteration (microseconds) of one Google Benchmark."""
    out = subprocess.run([BENCH, f"--benchmark_filter=^{name}$", "--benchmark_format=json",
                          f"--benchmark_repetitions={repeat}", "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    for b in runs:
        if b.get("aggregate_name") == "median":
            return b["real_time"] * scale[b["time_unit"]]
    if runs and "error_message" not in runs[0]:  # a single repetition: no aggregates
        return statistics.median(b["real_time"] * scale[b["time_unit"]] for b in runs)
    sys.exit(f"perf_table: no result for {name}: {out}")


def interleaved(repeat, benches, scenario_text, tmp, name):
    """Alternates one repetition of each benchmark with one `efsim run` (this machine's speed
    drifts by several percent over minutes; a ratio taken within one repetition cancels it).
    Returns per repetition: ({bench: us per iteration}, wall seconds, peak RSS)."""
    path = Path(tmp) / f"{name}.yaml"
    path.write_text(scenario_text)
    reps = []
    for _ in range(repeat):
        times = {b: bench_us(b, 1) for b in benches}
        wall, rss = run_timed([EFSIM, "run", path, "--out", Path(tmp) / name, "--fresh", "--no-report",
                               "--quiet", "--jobs", "1", "--threads", "1"])
        reps.append((times, wall, rss))
    return reps


def med(values):
    return statistics.median(list(values))


def a9a_scenario(rounds, stepsizes=None):
    step = f"\n    stepsize: {{theory_multiplier: {stepsizes}}}" if stepsizes else ""
    return f"""seed: 1
platform: {{kind: star, bandwidth: 10Mbps, latency: 1ms}}
problem: {{kind: logistic, dataset: {A9A}, dim: 123, lambda: 0.1, workers: 20}}
stop: {{max_rounds: {rounds}}}
runs:
  - method: ef21
    compressor: {{kind: top_k, k: 1}}{step}
"""


def fleet_scenario(n, rounds, samples, tau=None):
    if tau:
        run = f"""  - method: dcgd
    compressor: {{kind: rand_k_unbiased, k: 10}}
    participation: {{tau: {tau}}}
    stepsize: {{gamma: 0.5}}"""
    else:
        run = """  - method: ef21
    compressor: {kind: top_k, k: 10}"""
    return f"""seed: 1
platform: {{kind: star, bandwidth: 10Mbps, latency: 10ms}}
problem:
  kind: logistic
  dataset: synthetic
  synthetic: {{samples: {samples}, dim: 100, nnz_per_row: 10}}
  workers: {n}
stop: {{max_rounds: {rounds}}}
runs:
{run}
"""


def everyone_scenario(n, rounds, model):
    """EF21 Top-10, every worker in every round, 10 rows per worker (d = 100), a star."""
    return fleet_scenario(n, rounds, 10 * n) + f"network_model: {model}\n"


def mlp_scenario(rounds):
    return f"""seed: 1
platform: {{kind: star, bandwidth: 100Mbps, latency: 1ms}}
problem: {{kind: mlp, hidden: 512, train_samples: 10000, split: iid, workers: 20}}
metrics: {{every: 1000000}}
stop: {{max_rounds: {rounds}}}
runs:
  - method: ef21
    compressor: {{kind: top_k, k: 20000}}
    batch: 32
    stepsize: {{gamma: 0.1}}
"""


def mib(b):
    return f"{b / 2**20:.0f} MiB"


# --- The NumPy/SciPy anchor (issue 17): efsim's whole run against a script doing only the math ---

def numpy_reference(path, dim, workers, rounds, gamma, lam):
    """The math of `rounds` rounds of EF21 Top-1 on a LIBSVM data set, as a user would write it
    with NumPy/SciPy: per round and worker the local loss and gradient with two sparse products
    (margins A_i x, then A_i^T s), Top-1 of the difference to g_i (its value rounded to 32 bits,
    as on efsim's wire), the EF21 updates, and the trace's f and |grad f|^2. No simulation, no
    I/O: the data is parsed before the clock starts. Returns (wall seconds, CPU seconds, final f,
    final |grad|^2)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.special import expit
    labels, rows, cols, vals = [], [], [], []
    with open(path) as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            for item in parts[1:]:
                k, v = item.split(":")
                rows.append(len(labels))
                cols.append(int(k) - 1)
                vals.append(float(v))
            labels.append(float(parts[0]))
    A = sp.csr_matrix((np.array(vals), (np.array(rows), np.array(cols))), shape=(len(labels), dim))
    y = np.where(np.array(labels) == min(labels), -1.0, 1.0)
    N = len(labels)
    per = N // workers
    blocks = [(i * per, N if i == workers - 1 else (i + 1) * per) for i in range(workers)]
    As = [A[a:b] for a, b in blocks]
    ys = [y[a:b] for a, b in blocks]

    def local(i, x):
        Ai, yi = As[i], ys[i]
        t = -yi * (Ai @ x)
        value = np.logaddexp(0.0, t).mean()
        grad = Ai.T @ (-yi * expit(t)) / Ai.shape[0]
        q = 1.0 + x * x
        return value + lam * np.sum(x * x / q), grad + lam * 2.0 * x / (q * q)

    def top1(v):
        k = int(np.argmax(np.abs(v)))
        return k, float(np.float32(v[k]))

    start, cpu_start = time.perf_counter(), time.process_time()
    x = np.zeros(dim)
    g_i = np.zeros((workers, dim))
    for i in range(workers):  # round 0: g_i = C(grad f_i(x^0))
        _, grad = local(i, x)
        k, c = top1(grad)
        g_i[i, k] += c
    g = g_i.mean(axis=0)
    f = gnorm = float("nan")
    for _ in range(rounds):
        x = x - gamma * g
        fs, grads = 0.0, np.zeros(dim)
        for i in range(workers):
            value, grad = local(i, x)
            fs += value
            grads += grad
            k, c = top1(grad - g_i[i])
            g_i[i, k] += c
            g[k] += c / workers
        f, gnorm = fs / workers, float(np.dot(grads, grads)) / workers**2
    return time.perf_counter() - start, time.process_time() - cpu_start, f, gnorm


def numpy_python():
    """An interpreter with NumPy and SciPy: this one, else Debian's."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and subprocess.run([exe, "-c", "import numpy, scipy.sparse, scipy.special"],
                                  capture_output=True).returncode == 0:
            return exe
    return None


def numpy_anchor(repeat, quick, tmp):
    """efsim's whole run of EF21 Top-1 on a9a (n = 20, a trace row every round) against the
    NumPy reference of the same rounds, alternated run by run; prints the table."""
    print("## 6. efsim against a NumPy/SciPy script doing only the math (EF21 Top-1, a9a, n = 20)\n")
    exe = numpy_python()
    if not A9A.exists():
        print(f"skipped: {A9A} not found\n")
        return
    if exe is None:
        print("skipped: no python3 with NumPy and SciPy (apt-get install python3-numpy python3-scipy)\n")
        return
    rounds = 100 if quick else 1000
    path = Path(tmp) / "anchor.yaml"
    path.write_text(a9a_scenario(rounds))
    out = Path(tmp) / "anchor"
    cores = os.cpu_count() or 1
    counts = [cores, 1] if cores > 1 else [1]  # efsim's default for one run, and one thread

    def efsim_once(threads):
        start = time.perf_counter()
        proc = subprocess.Popen([EFSIM, "run", path, "--out", out, "--fresh", "--no-report", "--quiet",
                                 "--jobs", "1", "--threads", str(threads)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"perf_table: efsim run {path} failed:\n{err}")
        run = json.loads(next(out.glob("runs/*/run.json")).read_text())
        return wall, usage.ru_utime + usage.ru_stime, run

    reps = []  # per repetition: the NumPy run between efsim on `cores` threads and on one
    for _ in range(repeat):
        rep = {}
        wall, cpu, run = efsim_once(counts[0])
        rep[counts[0]] = (wall, cpu)
        gamma = run["stepsize"]["gamma"]
        ref = subprocess.run([exe, __file__, "--numpy-reference", str(A9A), str(rounds), repr(gamma)],
                             check=True, capture_output=True, text=True).stdout.split()
        rep.update({"ref_wall": float(ref[0]), "ref_cpu": float(ref[1]), "f": float(ref[2]),
                    "gnorm": float(ref[3]), "result": run["result"]})
        for t in counts[1:]:
            wall, cpu, _ = efsim_once(t)
            rep[t] = (wall, cpu)
        reps.append(rep)
    result, last = reps[-1]["result"], reps[-1]
    agree = max(abs(last["f"] - result["f"]) / abs(result["f"]),
                abs(last["gnorm"] - result["grad_norm_sq"]) / abs(result["grad_norm_sq"]))
    print("| rounds | efsim whole run (start-up, loading a9a, simulation, trace) | NumPy/SciPy, math only "
          "| NumPy / efsim: wall-clock | NumPy / efsim: CPU time |")
    print("| --- | --- | --- | --- | --- |")
    for t in counts:
        label = f"--threads {t}" + (" (the default for one run here)" if t == cores else "")
        print(f"| {rounds} | {med(r[t][0] for r in reps):.2f} s (CPU {med(r[t][1] for r in reps):.2f} s), "
              f"{label} "
              f"| {med(r['ref_wall'] for r in reps):.2f} s (CPU {med(r['ref_cpu'] for r in reps):.2f} s) "
              f"| **{med(r['ref_wall'] / r[t][0] for r in reps):.2f}x** "
              f"| {med(r['ref_cpu'] / r[t][1] for r in reps):.2f}x |")
    print()
    print(f"ratios: medians over {repeat} repetition(s), each running efsim on {counts[0]} thread(s), the NumPy "
          + ("reference and efsim on 1 thread back to back" if len(counts) > 1 else "reference back to back")
          + f" ({cores} cores here; the NumPy script uses one). efsim's CPU time is its "
          "process's user + system time (all its threads), NumPy's that of its math. The reference's final f "
          f"and |grad f|^2 agree with efsim's to {agree:.1e} relative (the same math; its sums run in "
          "another order)\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per figure (median); default 5")
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test, not the figures)")
    ap.add_argument("--only", default="overhead,fleet,memory,mlp,sweep,numpy,population,everyone",
                    help="comma-separated subset of: overhead,fleet,memory,mlp,sweep,numpy,population,"
                         "everyone")
    ap.add_argument("--numpy-reference", nargs=3, metavar=("DATA", "ROUNDS", "GAMMA"),
                    help=argparse.SUPPRESS)  # internal: one run of the NumPy anchor's reference
    def round_list(text):
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated round counts, got '{text}'")
        if any(v < 1 for v in values):
            raise argparse.ArgumentTypeError(f"round counts must be >= 1, got '{text}'")
        return values

    ap.add_argument("--mlp-rounds", default=[200], type=round_list,
                    help="comma-separated round counts of the MLP figure (default 200; the "
                         "README also quotes 1000)")
    a = ap.parse_args()
    if a.numpy_reference:
        wall, cpu, f, gnorm = numpy_reference(Path(a.numpy_reference[0]), 123, 20,
                                              int(a.numpy_reference[1]), float(a.numpy_reference[2]), 0.1)
        print(wall, cpu, repr(f), repr(gnorm))
        return
    only = set(a.only.split(","))
    for f in (EFSIM, BENCH) if only & {"overhead", "mlp"} else (EFSIM,):  # the micro-benchmarks
        if not f.exists():
            sys.exit(f"perf_table: {f} missing: build in Release first (./run.sh build)")
    q = 10 if a.quick else 1
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores; median of {a.repeat} runs\n")
    with tempfile.TemporaryDirectory(prefix="efsim-perf-") as tmp:
        if "overhead" in only:
            print("## 1. Overhead: EF21 Top-1, a9a, n = 20, trace every round\n")
            if not A9A.exists():
                print(f"skipped: {A9A} not found\n")
            else:
                rounds = 5000 // q
                b_fixed, b_iter = "gradients/a9a_n20", "gradients/a9a_n20_ef21_iterates/iterations:5000"
                b_round = "round/ef21_top1_a9a_n20/iterations:5000"
                reps = interleaved(a.repeat, [b_fixed, b_iter, b_round], a9a_scenario(rounds), tmp, "a9a")
                fixed = med(t[b_fixed] for t, _, _ in reps) * rounds / 1e6
                bare = med(t[b_iter] for t, _, _ in reps) * rounds / 1e6
                round_only = med(t[b_round] for t, _, _ in reps) * rounds / 1e6
                wall = med(w for _, w, _ in reps)
                ratio = med(w / (t[b_iter] * rounds / 1e6) for t, w, _ in reps)
                ratio_fixed = med(w / (t[b_fixed] * rounds / 1e6) for t, w, _ in reps)
                print("| rounds | bare gradients at x = 0.01 | bare gradients at the run's iterates "
                      "| method, no simulator | whole run | host ms/round | overhead ratio "
                      "(at x = 0.01) | peak RSS |")
                print("| --- | --- | --- | --- | --- | --- | --- | --- |")
                print(f"| {rounds} | {fixed:.2f} s | {bare:.2f} s | {round_only:.2f} s | {wall:.2f} s | "
                      f"{1e3 * wall / rounds:.3f} | {ratio:.2f} ({ratio_fixed:.2f}) | "
                      f"{mib(med(r for _, _, r in reps))} |\n")
                print("ratio: the median over repetitions of (whole run / bare gradients), each pair "
                      "measured back to back\n")
        if "fleet" in only:
            print("## 2. Fleet scale: synthetic logistic, d = 100, 10 rows per worker, star\n")
            print("| workers | per round | rounds | whole run | host ms/round | peak RSS |")
            print("| --- | --- | --- | --- | --- | --- |")
            cases = [(10, None, 1000), (100, None, 1000), (1000, None, 1000), (10000, None, 20),
                     (10000, 100, 1000)]
            for n, tau, rounds in cases:
                rounds = max(2, rounds // q)
                wall, rss = efsim_run(fleet_scenario(n, rounds, 10 * n, tau), tmp, f"fleet{n}", a.repeat)
                who = f"{tau} sampled (DCGD)" if tau else "all (EF21 Top-10)"
                print(f"| {n} | {who} | {rounds} | {wall:.2f} s | {1e3 * wall / rounds:.2f} | {mib(rss)} |")
            print()
        if "memory" in only:
            print("## 3. Memory: 100,000 rows x d = 100 (10 nnz/row), 100 sampled per round, 20 rounds\n")
            rows = 100000
            data_bytes = rows * 10 * 16 + (rows + 1) * 8 + rows * 8  # CSR values+indices, row ptr, labels
            # The process itself (binary, SimGrid, libraries): a tiny run.
            base = efsim_run(fleet_scenario(10, 2, 100), tmp, "mem0", a.repeat)[1]
            r_small = efsim_run(fleet_scenario(100, 20 // q or 2, rows, 100), tmp, "mem100", a.repeat)[1]
            r_big = efsim_run(fleet_scenario(10000, 20 // q or 2, rows, 100), tmp, "mem10k", a.repeat)[1]
            per_worker = (r_big - r_small) / (10000 - 100)
            data_share = (r_small - base - 100 * per_worker) / data_bytes
            print("| dataset in memory | process alone | RSS, n = 100 | RSS, n = 10,000 | bytes per simulated worker | (RSS - process - workers) / dataset |")
            print("| --- | --- | --- | --- | --- | --- |")
            print(f"| {mib(data_bytes)} | {mib(base)} | {mib(r_small)} | {mib(r_big)} | {per_worker:,.0f} | "
                  f"{data_share:.2f} |\n")
        if "mlp" in only:
            print("## 4. MLP 784-512-10 (d = 407,050), n = 20, batch 32, EF21 Top-20000\n")
            if not FMNIST.exists():
                print("skipped: dataset-fashion-mnist not installed\n")
            else:
                b_grad, b_round, b_row = ("gradients/mlp_n20_b32", "round/ef21_top20000_mlp_n20_b32/iterations:200",
                                          "evaluation/mlp_train10k_test10k")
                print("| rounds | minibatch gradients alone | observer rows (f, ∇f, test) | the rest "
                      "(loading, method, codec, SimGrid) | of which outside the method | whole run "
                      "| share: minibatch gradients | share: all model math | peak RSS |")
                print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
                for r in a.mlp_rounds:
                    rounds = max(2, r // q)
                    reps = interleaved(a.repeat, [b_grad, b_round, b_row], mlp_scenario(rounds), tmp,
                                       f"mlp{rounds}")
                    trace = next((Path(tmp) / f"mlp{rounds}" / "runs").glob("*/trace.csv"))
                    rows = sum(1 for _ in open(trace)) - 1  # the observer's metrics rows
                    grads = med(t[b_grad] for t, _, _ in reps) * rounds / 1e6
                    row = med(t[b_row] for t, _, _ in reps) / 1e6
                    wall = med(w for _, w, _ in reps)
                    rest = med(w - (t[b_grad] * rounds + rows * t[b_row]) / 1e6 for t, w, _ in reps)
                    outside = med(w - (t[b_round] * rounds + rows * t[b_row]) / 1e6 for t, w, _ in reps)
                    share = med(t[b_grad] * rounds / 1e6 / w for t, w, _ in reps)
                    share_all = med((t[b_grad] * rounds + rows * t[b_row]) / 1e6 / w for t, w, _ in reps)
                    print(f"| {rounds} | {grads:.2f} s | {rows} x {row:.2f} s | {rest:.2f} s | "
                          f"{outside:.2f} s | {wall:.2f} s | {100 * share:.0f} % | {100 * share_all:.0f} % "
                          f"| {mib(med(r for _, _, r in reps))} |")
                print("\nthe method: EF21 through its Node/Master objects without SimGrid "
                      f"({med(t[b_round] for t, _, _ in reps) / 1e3:.1f} ms per round, of which "
                      f"{med(t[b_grad] for t, _, _ in reps) / 1e3:.1f} ms minibatch gradients); shares: "
                      "medians over repetitions, each measured back to back\n")
        if "sweep" in only:
            print("## 5. A 4-run sweep (EF21 Top-1 on a9a, 4 stepsizes) with --jobs 1 and 2\n")
            if not A9A.exists():
                print(f"skipped: {A9A} not found\n")
            else:
                text = a9a_scenario(2000 // q, "[1, 2, 4, 8]")
                w1, _ = efsim_run(text, tmp, "sweep1", a.repeat, jobs=1)
                w2, _ = efsim_run(text, tmp, "sweep2", a.repeat, jobs=2)
                print("| --jobs 1 | --jobs 2 | speedup |")
                print("| --- | --- | --- |")
                print(f"| {w1:.2f} s | {w2:.2f} s | {w1 / w2:.2f}x |\n")
        if "numpy" in only:
            numpy_anchor(a.repeat, a.quick, tmp)

        if "population" in only:
            print("## 8. Populations: DCGD Rand-10, 1,000 of the clients sampled per round (tau-nice, "
                  "materialize: sampled), one row of d = 100 each, metrics every 50 rounds\n")
            print("| clients | network model | rounds | whole run | CPU | host ms/round | peak RSS |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for clients in (10**4, 10**5, 10**6):
                for model in ("simgrid", "analytic"):
                    rounds = max(2, 1000 // q)
                    wall, cpu_s, rss = efsim_run_cpu(population_scenario(clients, 1000, rounds, model),
                                                     tmp, f"pop{clients}{model}", a.repeat)
                    print(f"| {clients:,} | {model} | {rounds} | {wall:.2f} s | {cpu_s:.2f} s | "
                          f"{1e3 * wall / rounds:.1f} | {mib(rss)} |")
            rounds = max(2, 1000 // q)
            wall, cpu_s, rss = efsim_run_cpu(population_scenario(10**4, 1000, rounds, "simgrid", "all"),
                                             tmp, "popall", a.repeat)
            print(f"| 10,000, every client built (materialize: all) | simgrid | {rounds} | {wall:.2f} s | "
                  f"{cpu_s:.2f} s | {1e3 * wall / rounds:.1f} | {mib(rss)} |\n")
            print("EF21-PP Top-10 (each client parks its g_i: the coordinates it differs from 0 "
                  "in, or all d)\n")
            print("| clients | network model | rounds | whole run | CPU | host ms/round | peak RSS |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for clients in (10**4, 10**5, 10**6):
                for model in ("simgrid", "analytic"):
                    rounds = max(2, 1000 // q)
                    wall, cpu_s, rss = efsim_run_cpu(
                        population_scenario(clients, 1000, rounds, model, method="ef21"), tmp,
                        f"pop21{clients}{model}", a.repeat)
                    print(f"| {clients:,} | {model} | {rounds} | {wall:.2f} s | {cpu_s:.2f} s | "
                          f"{1e3 * wall / rounds:.1f} | {mib(rss)} |")
            rounds = max(2, 1000 // q)
            wall, cpu_s, rss = efsim_run_cpu(
                population_scenario(10**6, 1000, rounds, "simgrid", method="ef21", platform="edge"),
                tmp, "pop21edge", a.repeat)
            print(f"| 1,000,000, a 3-class edge fleet | simgrid | {rounds} | {wall:.2f} s | "
                  f"{cpu_s:.2f} s | {1e3 * wall / rounds:.1f} | {mib(rss)} |\n")
        if "everyone" in only:
            print("## 9. Everyone every round: EF21 Top-10, 10 rows per worker, d = 100, a star\n")
            print("| workers | network model | rounds | whole run | CPU | host ms/round | peak RSS |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            cases = [(1000, "textbook", 100), (10000, "textbook", 10), (1000, "analytic", 100),
                     (10000, "analytic", 100), (100000, "analytic", 100)]
            for n, model, rounds in cases:
                rounds = max(2, rounds // q)
                wall, cpu_s, rss = efsim_run_cpu(everyone_scenario(n, rounds, model), tmp,
                                                 f"all{n}{model}", a.repeat)
                print(f"| {n:,} | {model} | {rounds} | {wall:.2f} s | {cpu_s:.2f} s | "
                      f"{1e3 * wall / rounds:.1f} | {mib(rss)} |")
            print()


if __name__ == "__main__":
    main()
