"""The report as a reader meets it: one channel per sweep axis, legends that never cover the
axes, sensible axes, right-aligned tables, interactive and self-contained HTML, the same bytes
twice, and (where chromium is installed) plots that a browser really draws."""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import unittest

import common

import efsim  # noqa: E402  (common puts analysis/ on the path)
from efsim import plots  # noqa: E402

sys.path.insert(0, common.ANALYSIS)
import report  # noqa: E402

SWEEPS = None


def setUpModule():
    global SWEEPS
    SWEEPS = common.Sweeps()
    SWEEPS.many = SWEEPS.run("many", common.MANY)
    SWEEPS.few = SWEEPS.run("few", common.FEW)
    SWEEPS.platforms = SWEEPS.run("platforms", common.PLATFORMS)
    SWEEPS.settings = SWEEPS.run("settings", common.SETTINGS, report=False)  # figures only
    SWEEPS.dynamic = SWEEPS.run("dynamic", common.DYNAMIC)


def tearDownModule():
    SWEEPS.close()


def mpl_figures(folder):
    res = efsim.load(folder)
    headline = report.headline_rows(report.records(res.summary))
    figs, plt = report.figures(res, headline)
    return res, figs, plt


def read(path):
    with open(path) as f:
        return f.read()


def overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


class Legends(unittest.TestCase):
    def check_legends_clear(self, folder):
        res, figs, plt = mpl_figures(folder)
        self.assertTrue(figs)
        for spec, fig in figs:
            name = spec if isinstance(spec, str) else spec.name
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            leg = getattr(fig, "efsim_legend", None)
            if leg is not None:
                lb = leg.get_window_extent(renderer)
                for ax in fig.axes:
                    if not ax.get_visible():
                        continue
                    # The axes with their tick labels, title and axis labels.
                    self.assertFalse(overlaps(lb, ax.get_tightbbox(renderer)),
                                     "%s: the legend covers an axes (%s vs %s)" %
                                     (name, lb, ax.get_tightbbox(renderer)))
                # The saved PNG (bbox_inches="tight") keeps the whole legend.
                tight = fig.get_tightbbox(renderer)
                dpi = fig.dpi
                self.assertLessEqual(lb.x1, tight.x1 * dpi + 1, name)
                self.assertGreaterEqual(lb.y0, tight.y0 * dpi - 1, name)
            plt.close(fig)


class LegendAndEncoding(Legends):
    def test_legend_never_covers_the_axes(self):
        for folder in (SWEEPS.many, SWEEPS.few, SWEEPS.platforms, SWEEPS.settings):
            with self.subTest(folder=os.path.basename(folder)):
                self.check_legends_clear(folder)

    def test_curves_in_a_panel_never_share_a_look(self):
        # The complaint: three runs drawn in one blue. Within a panel, every curve has its own
        # (colour, line style); runs differing only by panel share one.
        for folder in (SWEEPS.many, SWEEPS.few, SWEEPS.platforms, SWEEPS.settings):
            res = efsim.load(folder)
            enc = plots.encode(res.summary)
            for title, members in enc.panels:
                looks = [(enc.styles[r].colour, enc.styles[r].linestyle) for r in members]
                self.assertEqual(len(looks), len(set(looks)), "%s panel %r" % (folder, title))

    def test_many_runs_get_one_panel_per_method_and_gd_as_reference(self):
        res = efsim.load(SWEEPS.many)
        enc = plots.encode(res.summary)
        self.assertEqual(enc.panel_axis, "method")
        self.assertEqual([t for t, _ in enc.panels], ["ef", "ef21", "ef21_plus"])
        for _, members in enc.panels:
            self.assertIn("gd-identity-x1", members)       # the reference, in every panel
            self.assertEqual(len(members), 5)
        # Colour is the stepsize, one per multiplier, the same in every panel.
        self.assertIn(("colour", "stepsize"), enc.channels)
        by_mult = {}
        for _, row in res.summary.iterrows():
            if row["method"] != "gd":
                by_mult.setdefault(row["multiplier"], set()).add(enc.styles[row["run_id"]].colour)
        self.assertEqual(len(by_mult), 4)
        self.assertTrue(all(len(c) == 1 for c in by_mult.values()))
        self.assertEqual(len({next(iter(c)) for c in by_mult.values()}), 4)
        labels = [l for _, entries in enc.legend for l, _ in entries]
        self.assertEqual(labels, ["1× theory", "4× theory", "16× theory", "64× theory", "gd"])

    def test_few_runs_share_one_panel_coloured_by_method_shaded_within(self):
        res = efsim.load(SWEEPS.few)
        headline = [r["run_id"] for r in report.headline_rows(report.records(res.summary))]
        enc = plots.encode(res.summary, headline)
        self.assertIsNone(enc.panel_axis)
        self.assertEqual(enc.channels[0], ("colour", "method"))
        self.assertEqual([h for h, _ in enc.legend], ["gd", "ef", None])  # one EF21 run: no header
        gd1, gd2 = enc.styles["gd-identity-x1"], enc.styles["gd-identity-x2"]
        ef5, ef50 = enc.styles["ef-top_k5-x8"], enc.styles["ef-top_k50-x8"]
        self.assertNotEqual(gd1.colour, gd2.colour)
        self.assertEqual((gd1.label, gd2.label), ("1× theory", "2× theory"))
        self.assertEqual((ef5.label, ef50.label), ("top_k5", "top_k50"))

        def lightness(c):
            return sum(int(c[i:i + 2], 16) for i in (1, 3, 5))
        self.assertGreater(lightness(gd1.colour), lightness(gd2.colour))  # darker = larger
        self.assertGreater(lightness(ef5.colour), lightness(ef50.colour))
        self.assertNotIn("ef21-top_k20-x2", enc.styles)  # lost its tuning group: not plotted

    def test_settings_only_in_the_run_id_still_get_a_channel(self):
        res = efsim.load(SWEEPS.settings)
        enc = plots.encode(res.summary)
        self.assertIsNone(enc.panel_axis)
        self.assertIn(("shade (darker = larger)", "settings in the run id"), enc.channels)
        self.assertEqual(enc.channels[0], ("colour", "compressor"))  # one method: the next axis
        st = enc.styles["local_sgd-identity-g10-ls4"]
        self.assertEqual((st.group, st.label), ("identity", "ls4, γ = 10"))
        self.assertEqual(len({(s.group, s.label) for s in enc.styles.values()}), 7)
        self.assertEqual(plots.id_settings({"run_id": "ef21-top_k5-x2-tau3-tree@slow", "method": "ef21",
                                            "compressor": "top_k5", "platform": "slow"}), "tau3-tree")
        self.assertIsNone(plots.id_settings({"run_id": "gd-identity-x1", "method": "gd",
                                             "compressor": "identity", "platform": None}))

    def test_platforms_are_panels_in_the_sweeps_order(self):
        res = efsim.load(SWEEPS.platforms)
        enc = plots.encode(res.summary)
        self.assertEqual(enc.panel_axis, "platform")
        self.assertEqual([t for t, _ in enc.panels], ["slow", "fast"])
        # The same run on both platforms looks the same.
        self.assertEqual(vars(enc.styles["ef21-top_k5-x16@slow"])["colour"],
                         vars(enc.styles["ef21-top_k5-x16@fast"])["colour"])


FIG1 = os.path.join(common.SOURCE, "scenarios", "papers", "ef21_figure1_a9a.yaml")
A9A = os.path.join(common.SOURCE, "..", "shared", "datasets", "a9a")


@unittest.skipUnless(os.path.exists(A9A), "needs ../shared/datasets/a9a")
class PaperFigure(Legends):
    """The 25 runs of the EF21 paper's Figure 1 (scenarios/papers/ef21_figure1_a9a.yaml, fewer
    rounds): the report the issue found unreadable."""

    def test_figure1_reads(self):
        out = os.path.join(SWEEPS.root, "fig1")
        r = subprocess.run([common.BINARY, "run", FIG1, "--set", "stop.max_rounds=60", "--set",
                            "problem.dataset=" + A9A, "--out", out, "--quiet", "--jobs", "2",
                            "--no-report"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.check_legends_clear(out)
        res = efsim.load(out)
        self.assertEqual(len(res.summary), 25)
        enc = plots.encode(res.summary)
        self.assertEqual([t for t, _ in enc.panels], ["ef", "ef21", "ef21_plus"])
        self.assertEqual([h for h, _ in enc.legend], ["stepsize", "reference"])
        self.assertEqual(len(enc.legend[0][1]), 8)
        colours = [st.colour for _, st in enc.legend[0][1]]
        self.assertEqual(len(set(colours)), 8)
        self.assertNotIn(enc.styles["gd-identity-x1"].colour, colours)
        up = plots.convergence(res, enc, "bits_up_per_worker")
        self.assertTrue(up.xlog)  # Top-1 against GD's 123 dense values: 76 times fewer bits
        # No target: no empty to-target columns, and the outcome says where runs stopped.
        rows = report.records(res.summary)
        t = report.table(report.headline_rows(rows), 0.0)
        self.assertEqual(t.head, ["run", "method", "compressor", "stepsize", "outcome", "final ‖∇f‖²"])
        self.assertEqual(t.body[1][4], "stopped (max_rounds)")
        self.assertEqual(t.body, report.table(rows, 0.0).body)  # so no "All runs" table


class Axes(unittest.TestCase):
    def curve(self, run_id, values):
        return plots.Curve(run_id, list(range(len(values))), values, None)

    def test_floor_is_a_decade_below_the_target(self):
        (lo, hi), note = plots.y_limits([self.curve("a", [2.0, 1e-3, 1e-7]),
                                         self.curve("b", [1.5, 1e-2])], 1e-6)
        self.assertEqual(lo, 1e-7)
        self.assertEqual(hi, 10.0)  # the power of ten above the largest start
        self.assertEqual(note, "")
        (lo, _), note = plots.y_limits([self.curve("gd", [1.0, 1e-30]), self.curve("b", [1.0, 1e-5])], 1e-6)
        self.assertEqual(lo, 1e-7)
        self.assertIn("gd (to 1e-30)", note)

    def test_without_a_target_a_far_outlier_leaves_the_bottom(self):
        curves = [self.curve("gd", [0.5, 6.6e-33])] + [
            self.curve("r%d" % i, [0.5, 10.0 ** -(5 + i)]) for i in range(8)]
        (lo, _), note = plots.y_limits(curves, None)
        self.assertEqual(lo, 1e-12)  # r7's minimum, 1e-12, rounded down to a power of ten
        self.assertIn("gd (to 6.6e-33) goes on below it", note)
        # No outlier: everything shown.
        (lo, _), note = plots.y_limits(curves[1:], None)
        self.assertEqual(lo, 1e-12)
        self.assertEqual(note, "")

    def test_bits_axis_is_logarithmic_when_totals_differ_by_decades(self):
        res = efsim.load(SWEEPS.many)  # Top-2 of d = 2000 against GD's dense vectors
        enc = plots.encode(res.summary)
        up = plots.convergence(res, enc, "bits_up_per_worker")
        ends = res.traces.groupby("run_id").bits_up_per_worker.max()
        self.assertGreaterEqual(ends.max() / ends.min(), 20)
        self.assertTrue(up.xlog)
        self.assertIn("Log x-axis", up.caption)
        for _, curves in up.panels:
            for c in curves:
                self.assertTrue(all(x > 0 for x in c.x))
        rounds = plots.convergence(res, enc, "round")
        self.assertFalse(rounds.xlog)


class Page(unittest.TestCase):
    # A failure names the missing text, not the whole page.
    def assertIn(self, needle, haystack, msg=None):
        if needle not in haystack:
            self.fail(msg or "%r not in the page" % needle)

    def assertNotIn(self, needle, haystack, msg=None):
        if needle in haystack:
            self.fail(msg or "%r in the page" % needle)

    def assertRegex(self, text, pattern, msg=None):
        if not re.search(pattern, text):
            self.fail(msg or "no match for %r in the page" % pattern)

    def assertNotRegex(self, text, pattern, msg=None):
        if re.search(pattern, text):
            self.fail(msg or "a match for %r in the page" % pattern)

    def test_report_files_and_figures(self):
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SWEEPS.few, "plots", "*.png")))
        self.assertEqual(names, ["convergence_bits.png", "convergence_bits_down.png",
                                 "convergence_rounds.png", "convergence_time.png",
                                 "time_breakdown.png", "time_to_target.png"])
        md = read(os.path.join(SWEEPS.few, "report.md"))
        for n in names:
            self.assertIn("](plots/%s)" % n, md)

    @unittest.skipUnless(common.have("plotly"), "needs python3-plotly")
    def test_html_is_interactive_and_self_contained(self):
        page = read(os.path.join(SWEEPS.few, "report.html"))
        self.assertEqual(len(re.findall(r"<div id=\"fig-", page)), 6 - 1)  # all but the breakdown
        self.assertEqual(page.count("<img alt="), 1)                        # the breakdown
        self.assertNotRegex(page, r"<script[^>]+src=")                      # nothing fetched
        # plotly.js travels gzipped (Debian's is the unminified 8.7 MB build): the page stays
        # small, and every figure waits for it to be unpacked.
        self.assertIn("DecompressionStream('gzip')", page)
        self.assertNotIn("plotly.js v", page)
        self.assertLess(len(page.encode("utf-8")), 3.5e6)
        self.assertEqual(page.count("window.efsimPlotly.then(function () {"), 6 - 1)
        self.assertNotIn("src='plots/", page)
        self.assertIn('"groupclick":"toggleitem"', page.replace(" ", ""))
        for run_id in ("gd-identity-x2", "ef-top_k50-x8", "ef21-top_k20-x8"):
            self.assertIn("<b>%s</b>" % run_id, page)  # hovering names the run
        self.assertIn('"legendgrouptitle":{"text":"gd"}', page.replace(" ", ""))

    def test_tables_right_aligned_not_wrapped_not_repeated(self):
        page = read(os.path.join(SWEEPS.few, "report.html"))
        self.assertIn("white-space:nowrap", page)
        self.assertRegex(page, r"<td class='num'>[0-9.]+×</td>")     # speedup, right-aligned
        self.assertRegex(page, r"<th class='num'>sim\. time to target \(s\)</th>")
        self.assertNotIn("<th>platform</th>", page)                  # no platform names: hidden
        self.assertIn("<h2>All runs</h2>", page)                     # a tuning group: differs
        md = read(os.path.join(SWEEPS.few, "report.md"))
        self.assertIn("|---|---|---|---|---|---:|", md)
        many = read(os.path.join(SWEEPS.many, "report.html"))
        self.assertNotIn("<h2>All runs</h2>", many)                  # it would repeat the first
        plat = read(os.path.join(SWEEPS.platforms, "report.html"))
        self.assertIn("<th>platform</th>", plat)
        # The CSV keeps every column.
        csv_head = read(os.path.join(SWEEPS.few, "time_to_target.csv")).split("\n")[0]
        self.assertTrue(csv_head.startswith("run,platform,method,"))

    def test_every_run_shows_its_uplink_and_downlink_bits(self):
        """Runs that missed the target have no to-target bits; the whole-run columns give every
        run's uplink and downlink bits per worker, read here from its trace independently."""
        res = efsim.load(SWEEPS.few)
        rows = report.with_run_bits(report.records(res.summary), res.traces)
        t = report.table(rows, res.target)
        up = t.head.index("Mbit up / worker, whole run")
        down = t.head.index("Mbit down / worker, whole run")
        missed = 0
        for row in t.body:
            with open(os.path.join(SWEEPS.few, "runs", row[0], "trace.csv")) as f:
                last = f.read().strip().split("\n")[-1].split(",")
            self.assertEqual(row[up], format(float(last[4]) / 1e6, ".4g"), row[0])
            self.assertEqual(row[down], format(float(last[5]) / 1e6, ".4g"), row[0])
            missed += row[t.head.index("Mbit up / worker")] == "–"
        self.assertGreater(missed, 0)  # some run missed the target: the whole-run columns matter
        page = read(os.path.join(SWEEPS.few, "report.html"))
        self.assertIn("<th class='num'>Mbit down / worker, whole run</th>", page)

    def test_energy_and_participation_table(self):
        """With power figures and a round deadline the report shows every run's Joules (total,
        per worker class, the master's, to the target) and its participation per round, read
        here independently from run.json and the trace's last row; without them, no section."""
        import json
        res = efsim.load(SWEEPS.dynamic)
        rows = report.headline_rows(report.records(res.summary))
        t = report.environment_table(rows, res)
        self.assertEqual(t.head[3:9], ["energy (kJ)", "energy to target (kJ)", "class 0 (kJ)",
                                       "class 1 (kJ)", "master (kJ)", "uploads used / round"])
        dropped = 0
        for row in t.body:
            run = os.path.join(SWEEPS.dynamic, "runs", row[0])
            with open(os.path.join(run, "run.json")) as f:
                j = json.load(f)
            e = j["energy"]
            self.assertEqual(row[3], format(e["total_J"] / 1e3, ".4g"))
            self.assertEqual(row[5:7], [format(v / 1e3, ".4g") for v in e["by_class_J"]])
            self.assertEqual(row[7], format(e["master_J"] / 1e3, ".4g"))
            self.assertAlmostEqual(sum(e["by_class_J"]) + e["master_J"], e["total_J"],
                                   delta=1e-9 * e["total_J"])
            with open(os.path.join(run, "trace.csv")) as f:
                lines = f.read().strip().split("\n")
            head, last = lines[0].split(","), lines[-1].split(",")
            rounds = j["result"]["rounds"]
            used = float(last[head.index("uploads_used")])
            self.assertEqual(row[8], format(used / rounds, ".3g"))
            dropped += float(last[head.index("uploads_dropped")])
        self.assertGreater(dropped, 0)  # the deadline and the off-going phones cost uploads
        page = read(os.path.join(SWEEPS.dynamic, "report.html"))
        self.assertIn("<h2>Energy and participation</h2>", page)
        self.assertNotIn("Energy and participation", read(os.path.join(SWEEPS.few, "report.md")))

    def test_participation_moving_average(self):
        """The participation plot: a centred moving average (window about a fiftieth of the
        longest run, named on the axis) over the raw per-round counts, which stay as faint points
        and are the trace's differences of uploads_used."""
        import numpy as np
        # A centred mean leaves a line unchanged away from the ends; a constant stays constant
        # whatever values are missing.
        line = np.arange(20.0)
        ma = plots.moving_average(line, 5)
        np.testing.assert_allclose(ma[2:18], line[2:18])
        self.assertAlmostEqual(ma[0], 1.0)  # mean of 0, 1, 2
        holes = np.full(30, 7.0)
        holes[[0, 5, 6, 29]] = np.nan
        np.testing.assert_allclose(plots.moving_average(holes, 4), np.full(30, 7.0))
        self.assertEqual(plots.moving_window(2000), 40)
        self.assertEqual(plots.moving_window(20), 1)

        res = efsim.load(SWEEPS.dynamic)
        ids = list(res.summary["run_id"])
        fig = plots.convergence(res, plots.encode(res.summary, ids), "round", y="participation")
        rounds = max(float(t["round"].max()) for _, t in res.traces.groupby("run_id"))
        window = max(1, int(round(rounds / 50)))
        self.assertGreater(window, 1)  # the sweep runs long enough to be smoothed
        self.assertIn("mean over %d rounds" % window, fig.ylabel)
        for _, curves in fig.panels:
            for c in curves:
                with open(os.path.join(SWEEPS.dynamic, "runs", c.run_id, "trace.csv")) as f:
                    lines = f.read().strip().split("\n")
                head = lines[0].split(",")
                used = [float(l.split(",")[head.index("uploads_used")]) for l in lines[1:]]
                self.assertIsNotNone(c.raw)
                np.testing.assert_allclose(c.raw[1][1:], np.diff(used))
                np.testing.assert_allclose(c.y, plots.moving_average(c.raw[1], window))
        page = read(os.path.join(SWEEPS.dynamic, "report.html"))
        self.assertIn("moving average over %d rounds" % window, page)

    def test_thinning_keeps_the_extremes(self):
        """Long curves are cut to about 1,200 points per curve for the page, keeping each
        column's lowest and highest points: a one-round spike and dip survive, as do the ends."""
        import numpy as np
        n = 100000
        x = np.arange(n, dtype=float)
        y = 50 + np.sin(x * 0.37) * 5
        y[31337], y[77777] = 95.0, 3.0
        tx, ty = plots._thin(x, y)
        self.assertLessEqual(len(tx), 1202)
        self.assertIn(95.0, ty)
        self.assertIn(3.0, ty)
        self.assertEqual((tx[0], tx[-1]), (0.0, n - 1.0))
        self.assertEqual(tx, sorted(tx))
        # Every column keeps its extremes: the envelope of the thinned curve is the original's.
        cols = np.minimum((x / ((n - 1) / 600)).astype(int), 599)
        tcols = np.minimum((np.asarray(tx) / ((n - 1) / 600)).astype(int), 599)
        for k in (0, 123, 599):
            self.assertAlmostEqual(max(np.asarray(ty)[tcols == k]), float(y[cols == k].max()),
                                   delta=1e-4)  # the page keeps 6 digits
            self.assertAlmostEqual(min(np.asarray(ty)[tcols == k]), float(y[cols == k].min()),
                                   delta=1e-4)
        # Short curves are untouched (up to the 6 digits).
        sx, sy = plots._thin(x[:100], y[:100])
        self.assertEqual(len(sx), 100)

    def test_same_results_same_bytes(self):
        out = os.path.join(SWEEPS.root, "again")
        os.makedirs(out)
        shutil.copy(os.path.join(SWEEPS.few, "summary.csv"), out)

        def digest(d):
            h = {}
            for p in ["report.html", "report.md", "time_to_target.csv"] + \
                    [os.path.join("plots", os.path.basename(x)) for x in glob.glob(os.path.join(d, "plots", "*"))]:
                with open(os.path.join(d, p), "rb") as f:
                    h[p] = hashlib.sha256(f.read()).hexdigest()
            return h
        r = subprocess.run([sys.executable, os.path.join(common.ANALYSIS, "report.py"), "--quiet",
                            "--out", out, SWEEPS.few], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(digest(SWEEPS.few), digest(out))

    def test_bad_folder_is_exit_2_naming_it(self):
        out = os.path.join(SWEEPS.root, "bad")
        os.makedirs(out)
        r = subprocess.run([sys.executable, os.path.join(common.ANALYSIS, "report.py"), "--out", out,
                            out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn(os.path.join(out, "summary.csv"), r.stderr)


@unittest.skipUnless(shutil.which("chromium") and common.have("plotly"), "needs chromium and python3-plotly")
class Browser(unittest.TestCase):
    def test_chromium_draws_every_interactive_plot(self):
        # The DOM after plotly.js ran: one drawn plot (main-svg) per figure, legend texts with
        # the runs' labels, and the group titles.
        page = os.path.join(SWEEPS.many, "report.html")
        profile = os.path.join(SWEEPS.root, "chromium-profile")
        r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update",
                            "--user-data-dir=" + profile, "--virtual-time-budget=20000",
                            "--dump-dom", "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=300)
        dom = r.stdout
        self.assertEqual(len(re.findall(r"class=\"plot-container plotly\"", dom)), 5, r.stderr[-2000:])
        legend = re.findall(r"class=\"legendtext\"[^>]*>([^<]*)<", dom)
        for label in ("stepsize", "1× theory", "64× theory", "reference", "gd", "target"):
            self.assertIn(label, legend)


if __name__ == "__main__":
    unittest.main()
