"""efsim.load against the result files read independently (the csv and json modules, float()):
every cell, every dtype, the settings from run.json, shards, and errors that name the file."""
import csv
import json
import math
import os
import shutil
import subprocess
import unittest

import common

import efsim  # noqa: E402  (common puts analysis/ on the path)

SWEEPS = None


def setUpModule():
    global SWEEPS
    SWEEPS = common.Sweeps()
    SWEEPS.few = SWEEPS.run("few", common.FEW, report=False)


def tearDownModule():
    SWEEPS.close()


def same(a, b):
    """Equal values, NaN equal to NaN, <NA> to None."""
    if a is None or (not isinstance(a, str) and a is getattr(__import__("pandas"), "NA")):
        return b is None or b is __import__("pandas").NA
    if isinstance(a, float) and math.isnan(a):  # a missing float is NaN
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


DYNAMIC = """seed: 4
network_model: textbook
platform:
  kind: edge
  classes:
    - {bandwidth: 1Mbps, latency: 10ms, share: 1}
    - {bandwidth: 100kbps, latency: 50ms, share: 1}
  round_deadline: 50ms
  master_power: {idle: 10, busy: 20}
  dynamics:
    - workers: all
      power: {idle: 1, busy: 2, transfer: 0.5}
problem:
  dataset: synthetic
  synthetic: {samples: 400, dim: 100, nnz_per_row: 10}
  workers: 4
stop: {max_rounds: 20}
runs:
  - method: gd
  - method: ef21
    compressor: {kind: top_k, k: 5}
"""

LAZY = """seed: 4
network_model: textbook
problem:
  dataset: synthetic
  synthetic: {samples: 400, dim: 100, nnz_per_row: 10}
  workers: 4
stop: {max_rounds: 20}
runs:
  - method: clag
    compressor: {kind: top_k, k: 5}
    zeta: 1
"""


class LoadOptionalColumns(unittest.TestCase):
    """Columns efsim appends only for some runs (participation, energy, skipped uploads): read
    with their dtypes, <NA> where a run has none, and a foreign column is still an error."""

    def test_participation_energy_and_skips(self):
        out = SWEEPS.run("dynamic", DYNAMIC, report=False)
        res = efsim.load(out)
        self.assertIn("energy_J", res.summary.columns)
        self.assertIn("energy_to_target_J", res.summary.columns)
        for col in ("uploads_used", "uploads_dropped", "workers_off", "time_lost_s", "energy_J"):
            self.assertIn(col, res.traces.columns, col)
        self.assertEqual(str(res.traces["uploads_used"].dtype), "Int64")
        for run_id in res.summary["run_id"]:
            with open(os.path.join(out, "runs", run_id, "trace.csv"), newline="") as f:
                rows = list(csv.DictReader(f))
            t = res.trace(run_id)
            self.assertEqual(len(t), len(rows))
            for i, r in enumerate(rows):
                self.assertEqual(int(t["uploads_used"].iloc[i]), int(r["uploads_used"]))
                self.assertEqual(float(t["energy_J"].iloc[i]), float(r["energy_J"]))
        lazy_out = SWEEPS.run("lazy", LAZY, report=False)
        lazy = efsim.load(lazy_out)
        self.assertNotIn("energy_J", lazy.summary.columns)
        with open(os.path.join(lazy_out, "runs", "clag-top_k5-x1-z1", "trace.csv"),
                  newline="") as f:
            rows = list(csv.DictReader(f))
        skipped = lazy.trace("clag-top_k5-x1-z1")["uploads_skipped"]
        self.assertEqual([int(v) for v in skipped], [int(r["uploads_skipped"]) for r in rows])
        gd = res.trace("gd-identity-x1")
        self.assertGreater(int(gd["uploads_dropped"].iloc[-1]), 0)  # the slow class misses
        trace = os.path.join(out, "runs", "gd-identity-x1", "trace.csv")
        with open(trace) as f:
            text = f.read()
        with open(trace, "w") as f:
            f.write(text.replace("energy_J", "joules", 1))
        with self.assertRaises(efsim.LoadError) as e:
            efsim.load(out)
        self.assertIn(trace + ":1: unexpected header", str(e.exception))


class Load(unittest.TestCase):
    def setUp(self):
        self.res = efsim.load(SWEEPS.few)
        with open(os.path.join(SWEEPS.few, "summary.csv"), newline="") as f:
            self.rows = list(csv.DictReader(f))

    def test_summary_has_every_cell_typed(self):
        s = self.res.summary
        self.assertEqual(list(s["run_id"]), [r["run_id"] for r in self.rows])
        self.assertEqual(list(s.columns[:len(efsim.SUMMARY_COLUMNS)]), list(efsim.SUMMARY_COLUMNS))
        for col, dtype in efsim.SUMMARY_COLUMNS.items():
            self.assertEqual(str(s[col].dtype), dtype, col)
        for i, r in enumerate(self.rows):
            for col, dtype in efsim.SUMMARY_COLUMNS.items():
                text, got = r[col], s[col].iloc[i]
                if text == "":
                    want = None
                elif dtype == "float64":
                    want = float(text)
                elif dtype == "Int64":
                    want = int(text)
                elif dtype == "boolean":
                    want = {"yes": True, "no": False}[text]
                else:
                    want = text
                self.assertTrue(same(got, want), "%s %s: %r != %r" % (r["run_id"], col, got, want))
        # The tuning group's flags, and no to-target cells where the target was not reached.
        best = dict(zip(s["run_id"], s["best_in_group"]))
        self.assertIs(bool(best["ef21-top_k20-x8"]), True)
        self.assertIs(bool(best["ef21-top_k20-x2"]), False)
        self.assertIs(best["gd-identity-x1"], __import__("pandas").NA)
        missed = s[s["stop_reason"] == "max_rounds"]
        self.assertTrue(missed["time_to_target_s"].isna().all())
        self.assertTrue(missed["rounds_to_target"].isna().all())

    def test_settings_come_from_run_json(self):
        s = self.res.summary.set_index("run_id")
        for run_id in s.index:
            with open(os.path.join(SWEEPS.few, "runs", run_id, "run.json")) as f:
                j = json.load(f)
            self.assertEqual(s.loc[run_id, "multiplier"], j["stepsize"]["theory_multiplier"])
            self.assertEqual(s.loc[run_id, "stepsize_rule"], "theory_multiplier")
            self.assertEqual(s.loc[run_id, "gamma"], j["stepsize"]["gamma"])
            self.assertEqual(s.loc[run_id, "alpha"], j["compressor"]["alpha"])
            self.assertEqual(s.loc[run_id, "L"], j["smoothness"]["L"])
            self.assertEqual(s.loc[run_id, "workers"], 4)
            self.assertEqual(s.loc[run_id, "dim"], 400)
            self.assertEqual(s.loc[run_id, "network_model"], "textbook")
            self.assertEqual(s.loc[run_id, "seed"], 4)
            self.assertEqual(s.loc[run_id, "target_grad_norm_sq"], 1e-6)
            self.assertTrue(math.isinf(s.loc[run_id, "max_sim_time_s"]))  # "inf" in run.json
            self.assertTrue(math.isnan(s.loc[run_id, "f_star"]))          # "nan" in run.json
        self.assertEqual(self.res.target, 1e-6)
        self.assertEqual(self.res.scenario, "few")

    def test_traces_are_every_row_of_every_trace_with_the_settings(self):
        t = self.res.traces
        total = 0
        for r in self.rows:
            with open(os.path.join(SWEEPS.few, "runs", r["run_id"], "trace.csv"), newline="") as f:
                rows = list(csv.DictReader(f))
            total += len(rows)
            mine = self.res.trace(r["run_id"])
            self.assertEqual(len(mine), len(rows))
            for i, row in enumerate(rows):
                for col, text in row.items():
                    want = int(text) if col == "round" else float(text)
                    self.assertTrue(same(mine[col].iloc[i], want), "%s %s row %d" % (r["run_id"], col, i))
            # The run's settings on every one of its rows.
            self.assertEqual(set(mine["method"]), {r["method"]})
            self.assertEqual(set(mine["gamma"]), {float(r["gamma"])})
            self.assertEqual(set(mine["k"]), {int(r["k"])})
        self.assertEqual(len(t), total)
        self.assertEqual(str(t["round"].dtype), "int64")
        self.assertEqual(str(t["run_id"].dtype), "string")
        self.assertEqual(str(t["multiplier"].dtype), "float64")
        for col in efsim.TRACE_COLUMNS:
            self.assertEqual(str(t[col].dtype), efsim.TRACE_COLUMNS[col], col)
        # In the sweep's order, rounds ascending within a run.
        order = list(dict.fromkeys(t["run_id"]))
        self.assertEqual(order, [r["run_id"] for r in self.rows])
        with self.assertRaises(KeyError):
            self.res.trace("no-such-run")

    def test_shards_merged_by_efsim_report(self):
        shards = []
        for i in (1, 2):
            shards.append(SWEEPS.run("shard%d" % i, common.FEW, "--shard", "%d/2" % i, report=False,
                                     scenario_name="few"))
        merged = os.path.join(SWEEPS.root, "merged")
        r = subprocess.run([common.BINARY, "report", shards[0], shards[1], "--out", merged, "--quiet"],
                           capture_output=True, text=True)
        self.assertIn(r.returncode, (0, 1), r.stderr)  # 1: no report without matplotlib
        res = efsim.load([merged] + shards)
        self.assertEqual(list(res.summary["run_id"]), list(self.res.summary["run_id"]))
        self.assertTrue(res.summary.equals(self.res.summary))
        self.assertTrue(res.traces.equals(self.res.traces))

    def test_sweep_mixing_lazy_and_eager_methods(self):
        """clag and pp_marina traces have a last column, uploads_skipped: a sweep that mixes them
        with other methods loads (the report once failed on it), the column is read cell by
        cell, and the other runs have <NA> there."""
        mixed = SWEEPS.run("mixed", common.FEW.split("runs:")[0] + """runs:
  - method: ef21
    compressor: {kind: top_k, k: 20}
  - method: clag
    compressor: {kind: top_k, k: 20}
    zeta: 100
  - method: pp_marina
    compressor: {kind: rand_k_unbiased, k: 20}
    pp_clients: 2
""", report=False)
        res = efsim.load(mixed)
        t = res.traces
        self.assertEqual(str(t["uploads_skipped"].dtype), "Int64")
        self.assertTrue(t[t["run_id"] == "ef21-top_k20-x1"]["uploads_skipped"].isna().all())
        for run_id in ("clag-top_k20-x1-z100", "pp_marina-rand_k_unbiased20-x1-pc2"):
            with open(os.path.join(mixed, "runs", run_id, "trace.csv"), newline="") as f:
                want = [int(r["uploads_skipped"]) for r in csv.DictReader(f)]
            self.assertEqual(list(res.trace(run_id)["uploads_skipped"]), want, run_id)
            self.assertGreater(want[-1], 0, run_id)
        # A sweep without such runs has no such column.
        self.assertNotIn("uploads_skipped", self.res.traces.columns)

    def test_errors_name_the_file(self):
        with self.assertRaises(efsim.LoadError) as e:
            efsim.load(os.path.join(SWEEPS.root, "nothing"))
        self.assertIn("nothing: no such results folder", str(e.exception))
        broken = os.path.join(SWEEPS.root, "broken")
        shutil.copytree(SWEEPS.few, broken)
        trace = os.path.join(broken, "runs", "ef-top_k5-x8", "trace.csv")
        with open(trace) as f:
            text = f.read()
        with open(trace, "w") as f:
            f.write(text.replace("round,", "rnd,", 1))
        with self.assertRaises(efsim.LoadError) as e:
            efsim.load(broken)
        self.assertIn(trace + ":1: unexpected header", str(e.exception))
        with open(trace, "w") as f:
            f.write(text.replace("\n1,", "\nx,", 1))
        with self.assertRaises(efsim.LoadError) as e:
            efsim.load(broken)
        self.assertIn(trace, str(e.exception))
        os.remove(os.path.join(broken, "summary.csv"))
        with self.assertRaises(efsim.LoadError) as e:
            efsim.load(broken)
        self.assertIn("summary.csv: no such file", str(e.exception))


if __name__ == "__main__":
    unittest.main()
