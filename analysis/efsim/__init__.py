"""efsim results in pandas.

    import sys; sys.path.insert(0, "analysis")    # from the repository's root
    import efsim
    res = efsim.load("results/quickstart")
    res.summary       # one row per run: summary.csv and the run's settings (run.json)
    res.traces        # one row per run and round: trace.csv and the same settings

Reads only result files (summary.csv, sweep.json, runs/<run-id>/{run.json,trace.csv}), as written
by `efsim run` and `efsim report`. Needs pandas (Debian: python3-pandas).
"""
from .results import (LoadError, Results, SETTINGS, SUMMARY_COLUMNS, TRACE_COLUMNS, load)

__all__ = ["load", "Results", "LoadError", "SUMMARY_COLUMNS", "TRACE_COLUMNS", "SETTINGS"]
