"""Loads an efsim results folder into pandas DataFrames (see the package's docstring)."""
import json
import math
import os

import pandas as pd

# summary.csv, column by column (the order efsim writes them), with the dtype each is read as.
# Empty cells (no target reached, no tuning group, no platform name) are <NA> / NaN.
SUMMARY_COLUMNS = {
    "run_id": "string",
    "method": "string",
    "compressor": "string",          # label, e.g. top_k100
    "k": "Int64",
    "gamma": "float64",              # the stepsize used
    "stop_reason": "string",         # target, max_rounds, max_sim_time, diverged, failed, pending
    "rounds": "Int64",
    "sim_time_s": "float64",
    "final_grad_norm_sq": "float64",
    "rounds_to_target": "Int64",
    "time_to_target_s": "float64",
    "bits_up_to_target": "float64",  # per worker (mean over workers)
    "bits_down_to_target": "float64",
    "speedup_vs_gd": "float64",
    "tune_group": "string",
    "best_in_group": "boolean",      # yes / no; <NA> outside a tuning group
    "platform": "string",            # the platform's name in a sweep over platforms
}

# trace.csv: one row per round (round 0 is the starting point).
TRACE_COLUMNS = {
    "round": "int64",
    "sim_time_s": "float64",
    "f": "float64",
    "grad_norm_sq": "float64",
    "bits_up_per_worker": "float64",
    "bits_down_per_worker": "float64",
    "time_down_s": "float64",
    "time_compute_s": "float64",
    "time_up_s": "float64",
    "time_idle_s": "float64",
    "time_master_s": "float64",
    "train_accuracy": "float64",
    "test_loss": "float64",
    "test_accuracy": "float64",
}

# Columns efsim appends only when a run has them, in this order: the lazy methods' skipped
# uploads; with a round deadline or availability, the participation (cumulative); with power
# figures, the cumulative Joules. Runs without them get <NA>.
OPTIONAL_TRACE_COLUMNS = {
    "uploads_skipped": "Int64",
    "uploads_used": "Int64",
    "uploads_dropped": "Int64",
    "workers_off": "Int64",
    "time_lost_s": "float64",
    "energy_J": "float64",
}
# summary.csv's energy columns, in sweeps where some run measured energy.
OPTIONAL_SUMMARY_COLUMNS = {
    "energy_J": "float64",
    "energy_to_target_J": "float64",
}


def _stepsize_rule(j):
    keys = [k for k in j.get("stepsize", {}) if k != "gamma"]
    return keys[0] if keys else "gamma"


def _multiplier(j):
    rule = _stepsize_rule(j)
    return j["stepsize"][rule] if rule != "gamma" else None


# The run's settings from run.json, added to both tables: column, dtype, how to read it.
SETTINGS = [
    ("scenario", "string", lambda j: j["scenario"]),
    ("stepsize_rule", "string", _stepsize_rule),   # theory_multiplier, pl_theory_multiplier, gamma
    ("multiplier", "float64", _multiplier),       # of the theoretical stepsize; NaN for a fixed gamma
    ("alpha", "float64", lambda j: j["compressor"]["alpha"]),
    ("delta", "float64", lambda j: j["compressor"]["delta"]),
    ("batch", "Int64", lambda j: j["stochastic"]["batch"]),
    ("batch_init", "Int64", lambda j: j["stochastic"]["batch_init"]),
    ("eta", "float64", lambda j: j["stochastic"]["eta"]),
    ("beta", "float64", lambda j: j["stochastic"]["beta"]),
    ("seed", "UInt64", lambda j: j["seed"]),
    ("network_model", "string", lambda j: j["network_model"]),
    ("platform_description", "string", lambda j: j["platform"]),
    ("problem", "string", lambda j: j["problem"]),
    ("workers", "Int64", lambda j: j["workers"]),
    ("dim", "Int64", lambda j: j["dim"]),
    ("value_bits", "Int64", lambda j: j["wire"]["value_bits"]),
    ("index_bits", "Int64", lambda j: j["wire"]["index_bits"]),
    ("L", "float64", lambda j: j["smoothness"]["L"]),
    ("L_tilde", "float64", lambda j: j["smoothness"]["L_tilde"]),
    ("f_star", "float64", lambda j: j["f_star"]),
    ("max_rounds", "Int64", lambda j: j["stop"]["max_rounds"]),
    ("target_grad_norm_sq", "float64", lambda j: j["stop"]["grad_norm_sq"]),
    ("max_sim_time_s", "float64", lambda j: j["stop"]["max_sim_time_s"]),
    ("divergence_factor", "float64", lambda j: j["stop"]["divergence_factor"]),
    ("final_f", "float64", lambda j: j["result"]["f"]),
    ("fingerprint", "string", lambda j: j["fingerprint"]),
]

# Settings the summary already has, repeated in the traces so that each trace row names its run.
_SUMMARY_SETTINGS = ["method", "compressor", "k", "gamma", "tune_group", "platform"]


class LoadError(Exception):
    """A results folder that cannot be read; the message names the file."""


class Results:
    """The results of one sweep.

    summary   DataFrame, one row per run (in the sweep's order): summary.csv's columns, then the
              run's settings (SETTINGS); runs without results (pending, failed) have <NA> settings.
    traces    DataFrame, one row per run and round: run_id, the run's settings (method,
              compressor, k, gamma, tune_group, platform and SETTINGS), then trace.csv's columns.
    target    the sweep's target on ||grad f(x^k)||^2, or None without one.
    scenario  the scenario's name.
    run_json  run id -> run.json as a dict.
    dirs      the folders read.
    """

    def __init__(self, summary, traces, target, scenario, run_json, dirs):
        self.summary = summary
        self.traces = traces
        self.target = target
        self.scenario = scenario
        self.run_json = run_json
        self.dirs = dirs

    def trace(self, run_id):
        """One run's trace (a copy, indexed from 0)."""
        t = self.traces[self.traces["run_id"] == run_id]
        if t.empty and run_id not in set(self.summary["run_id"]):
            raise KeyError(run_id)
        return t.reset_index(drop=True)

    def __repr__(self):
        return "<efsim.Results %s: %d runs, %d trace rows>" % (
            self.scenario, len(self.summary), len(self.traces))


def _float(v):
    """run.json numbers: JSON numbers, or "inf" / "nan" as strings."""
    if v is None:
        return math.nan
    return float(v)


def _read_csv(path, columns, optional=None):
    with open(path, newline="") as f:
        header = f.readline().rstrip("\r\n")
    names = header.split(",")
    base, extra = names[:len(columns)], names[len(columns):]
    optional = optional or {}
    order = list(optional)
    in_order = all(c in optional for c in extra) and \
        [order.index(c) for c in extra] == sorted(order.index(c) for c in extra)
    if base != list(columns) or not in_order:
        raise LoadError("%s:1: unexpected header (expected %s)" % (path, ",".join(columns)))
    columns = dict(columns)
    columns.update((c, optional[c]) for c in extra)
    # round_trip: the doubles efsim wrote, bit for bit. Empty cells (and nan) are missing.
    floats = [c for c, t in columns.items() if t == "float64"]
    try:
        raw = pd.read_csv(path, dtype={c: ("float64" if c in floats else str) for c in columns},
                          keep_default_na=False, na_values=["", "nan", "-nan"],
                          float_precision="round_trip")
    except ValueError as e:
        raise LoadError("%s: %s" % (path, e)) from None
    out = pd.DataFrame(index=raw.index)
    for col, dtype in columns.items():
        cells = raw[col]
        try:
            if dtype == "string":
                out[col] = cells.astype("string")
            elif dtype == "boolean":
                out[col] = cells.map({"yes": True, "no": False}).astype("boolean")
            elif dtype.lower().endswith("int64"):
                out[col] = pd.to_numeric(cells).astype(dtype)
            else:
                out[col] = cells
        except (ValueError, TypeError) as e:
            raise LoadError("%s: column %s: %s" % (path, col, e)) from None
    return out


def _as_list(dirs):
    if isinstance(dirs, (str, os.PathLike)):
        return [os.fspath(dirs)]
    return [os.fspath(d) for d in dirs]


def load(dirs, summary=None):
    """Reads a results folder (or several: a merged report's folder and the shards it merged).

    dirs     a folder written by `efsim run` / `efsim report`, or a list of them; each run's
             runs/<run-id>/ is taken from the first folder that has it.
    summary  the summary.csv to read (default: the first folder's).
    Raises LoadError naming the file when something is missing or malformed.
    """
    dirs = _as_list(dirs)
    if not dirs:
        raise LoadError("no results folder given")
    for d in dirs:
        if not os.path.isdir(d):
            raise LoadError("%s: no such results folder" % d)
    summary_path = summary or os.path.join(dirs[0], "summary.csv")
    if not os.path.isfile(summary_path):
        raise LoadError("%s: no such file (run `efsim report %s` first)" % (summary_path, dirs[0]))
    table = _read_csv(summary_path, SUMMARY_COLUMNS, OPTIONAL_SUMMARY_COLUMNS)

    target, scenario = None, None
    for d in dirs:
        p = os.path.join(d, "sweep.json")
        if os.path.isfile(p):
            try:
                with open(p) as f:
                    sweep = json.load(f)
            except (OSError, ValueError) as e:
                raise LoadError("%s: %s" % (p, e)) from None
            t = _float(sweep.get("target_grad_norm_sq", 0))
            target = t if t > 0 else None
            scenario = sweep.get("scenario")
            break

    run_json, traces = {}, []
    for run_id in table["run_id"]:
        for d in dirs:
            run_dir = os.path.join(d, "runs", run_id)
            jp = os.path.join(run_dir, "run.json")
            if not os.path.isfile(jp):
                continue
            try:
                with open(jp) as f:
                    run_json[run_id] = json.load(f)
            except (OSError, ValueError) as e:
                raise LoadError("%s: %s" % (jp, e)) from None
            t = _read_csv(os.path.join(run_dir, "trace.csv"), TRACE_COLUMNS,
                          OPTIONAL_TRACE_COLUMNS)
            t.insert(0, "run_id", pd.array([run_id] * len(t), dtype="string"))
            traces.append(t)
            break

    settings = {col: [] for col, _, _ in SETTINGS}
    for run_id in table["run_id"]:
        j = run_json.get(run_id)
        for col, dtype, get in SETTINGS:
            if j is None:
                v = None
            else:
                try:
                    v = get(j)
                except (KeyError, TypeError, IndexError):
                    raise LoadError("%s: runs/%s/run.json: no %s" % (dirs[0], run_id, col)) from None
            if dtype == "float64":
                v = _float(v)
            settings[col].append(v)
    for col, dtype, _ in SETTINGS:
        table[col] = pd.array(settings[col], dtype=dtype)
    if scenario is None and run_json:
        scenario = next(iter(run_json.values())).get("scenario")

    keep = ["run_id"] + _SUMMARY_SETTINGS + [c for c, _, _ in SETTINGS]
    if traces:
        # A column only some runs have (e.g. uploads_skipped of clag, lag, pp_marina) is <NA>
        # for the others.
        for c, dtype in OPTIONAL_TRACE_COLUMNS.items():
            if any(c in t.columns for t in traces):
                for t in traces:
                    if c not in t.columns:
                        t[c] = pd.array([None] * len(t), dtype=dtype)
        long = pd.concat(traces, ignore_index=True)
        long = long.merge(table[keep], on="run_id", how="left", sort=False)
        extra = [c for c in OPTIONAL_TRACE_COLUMNS if c in long.columns]
        long = long[keep + list(TRACE_COLUMNS) + extra]
    else:
        long = pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             [("run_id", "string")] + [(c, table[c].dtype) for c in keep[1:]] +
                             list(TRACE_COLUMNS.items())})
    return Results(table, long, target, scenario or os.path.basename(os.path.abspath(dirs[0])),
                   run_json, dirs)
