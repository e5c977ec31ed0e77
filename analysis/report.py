#!/usr/bin/python3
"""efsim report: time-to-accuracy tables and plots from result files.

Usage: analysis/report.py --out OUT [--quiet] DIR [DIR...]

Reads only result files, through the efsim Python package beside this script (efsim.load):
OUT/summary.csv (written by `efsim report` / `efsim run`) and DIR/runs/<run-id>/{run.json,trace.csv}
of each result folder (one sweep, or its shards). Writes into OUT:
  report.html        self-contained: interactive plots (plotly.js embedded, gzipped, unpacked by the
                     browser; hovering names the run,
                     clicking a legend entry hides it), or the PNGs without python3-plotly
  report.md          the same tables in Markdown, plots linked from plots/
  time_to_target.csv the headline table (best stepsize per tuning group)
  plots/*.png        convergence against simulated time, uplink and downlink bits and rounds; time
                     to target; time breakdown (static, for papers and report.md)
Needs pandas and matplotlib (Debian: python3-pandas, python3-matplotlib); python3-plotly for the
interactive HTML.
"""
import argparse
import base64
import csv
import html
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def val(v):
    """A DataFrame cell as a plain Python value; None for <NA> / NaN."""
    try:
        import pandas as pd
        if v is pd.NA:
            return None
    except ImportError:
        pass
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def fmt(v, spec=".4g", none="–"):
    return none if v is None else format(v, spec)


class Table:
    """A table: header, rows of text cells, and which columns hold numbers (right-aligned)."""

    def __init__(self, head, body, numeric=()):
        self.head, self.body, self.numeric = head, body, set(numeric)

    def without_empty(self, column):
        """The table without `column` when no row has a value there."""
        if column not in self.head:
            return self
        i = self.head.index(column)
        if any(row[i] not in ("", "–") for row in self.body):
            return self
        keep = [j for j in range(len(self.head)) if j != i]
        numeric = {self.head[j] for j in self.numeric_idx() if j != i}
        return Table([self.head[j] for j in keep], [[row[j] for j in keep] for row in self.body],
                     numeric)

    def numeric_idx(self):
        return [i for i, h in enumerate(self.head) if h in self.numeric]

    def md(self):
        num = set(self.numeric_idx())
        out = ["| " + " | ".join(self.head) + " |",
               "|" + "".join("---:|" if i in num else "---|" for i in range(len(self.head)))]
        for row in self.body:
            out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        return "\n".join(out)

    def html(self):
        num = set(self.numeric_idx())

        def cls(i):
            return " class='num'" if i in num else ""
        out = ["<div class='scroll'><table><thead><tr>" +
               "".join("<th%s>%s</th>" % (cls(i), html.escape(h)) for i, h in enumerate(self.head)) +
               "</tr></thead><tbody>"]
        for row in self.body:
            text = " ".join(str(c) for c in row)
            bad = any(w in text for w in ("diverged", "failed", "pending"))
            out.append("<tr%s>" % (" class='bad'" if bad else "") +
                       "".join("<td%s>%s</td>" % (cls(i), html.escape(str(c))) for i, c in enumerate(row)) +
                       "</tr>")
        out.append("</tbody></table></div>")
        return "\n".join(out)


def records(summary):
    return [{k: val(v) for k, v in r.items()} for r in summary.to_dict("records")]


def headline_rows(rows):
    """Untuned runs, and the winner of each tuning group."""
    return [r for r in rows if not r["tune_group"] or r["best_in_group"]]


def outcome(r, target=True):
    reason = r["stop_reason"]
    if reason in ("failed", "pending"):
        return reason
    if not target:  # runs stop at their limits
        return "stopped (%s)" % reason if reason != "diverged" else reason
    if r["time_to_target_s"] is not None:
        return "reached"
    if reason == "diverged":
        return "diverged"
    return "not reached (" + reason + ")"


def stepsize_text(r):
    gamma = fmt(r["gamma"])
    rule = r.get("stepsize_rule")
    if rule == "theory_multiplier":
        return "%s× theory (γ = %s)" % (fmt(r["multiplier"], "g"), gamma)
    if rule == "pl_theory_multiplier":
        return "%s× PL theory (γ = %s)" % (fmt(r["multiplier"], "g"), gamma)
    return "γ = " + gamma


def table(rows, target, hide_empty_platform=True):
    """The runs' table. Without a target the to-target columns would be empty: left out (not in
    the CSV, which keeps a fixed layout)."""
    head = ["run", "platform", "method", "compressor", "stepsize", "outcome", "rounds to target",
            "sim. time to target (s)", "Mbit up / worker", "Mbit down / worker",
            "speedup vs GD", "final ‖∇f‖²", "Mbit up / worker, whole run",
            "Mbit down / worker, whole run"]
    body = []
    for r in rows:
        up, down, sp = r["bits_up_to_target"], r["bits_down_to_target"], r["speedup_vs_gd"]
        up_run, down_run = r.get("bits_up_run"), r.get("bits_down_run")
        body.append([
            r["run_id"], r["platform"] or "–", r["method"], r["compressor"], stepsize_text(r), outcome(r, target > 0),
            fmt(r["rounds_to_target"], "d"), fmt(r["time_to_target_s"]),
            fmt(None if up is None else up / 1e6), fmt(None if down is None else down / 1e6),
            "–" if sp is None else "%.2f×" % sp, fmt(r["final_grad_norm_sq"], ".3e"),
            fmt(None if up_run is None else up_run / 1e6),
            fmt(None if down_run is None else down_run / 1e6),
        ])
    numeric = head[6:]
    t = Table(head, body, numeric)
    if not hide_empty_platform:  # time_to_target.csv: a fixed layout
        return t
    # Every run's uplink and downlink bits, reached the target or not (from its trace's last row;
    # rows without a trace have none).
    for col in head[12:]:
        t = t.without_empty(col)
    if not target > 0:
        for col in head[6:11]:
            t = t.without_empty(col)
    return t.without_empty("platform")


def with_run_bits(rows, traces):
    """rows, each with bits_up_run and bits_down_run: the uplink bits per worker and the downlink
    bits each worker received over the whole run (the last row of its trace)."""
    last = traces.groupby("run_id").tail(1).set_index("run_id") if len(traces) else None
    out = []
    for r in rows:
        r = dict(r)
        if last is not None and r["run_id"] in last.index:
            r["bits_up_run"] = val(last.at[r["run_id"], "bits_up_per_worker"])
            r["bits_down_run"] = val(last.at[r["run_id"], "bits_down_per_worker"])
        out.append(r)
    return out


def environment_table(rows, res):
    """Real environments (README): per run, the Joules (total, to the target, per worker class and
    the master's, from run.json's energy block) and the participation of its rounds (means per
    round of the trace's cumulative uploads_used, uploads_dropped, workers_off; the time lost
    waiting for uploads that missed the deadline). None when no run measured either."""
    traces = res.traces
    last = traces.groupby("run_id").tail(1).set_index("run_id") if len(traces) else None
    has_part = last is not None and "uploads_used" in last.columns
    energy = {rid: j.get("energy") for rid, j in res.run_json.items() if j.get("energy")}
    if not energy and not has_part:
        return None
    classes = max((len(e.get("by_class_J") or []) for e in energy.values()), default=0)
    head = ["run", "outcome", "sim. time to target (s)"]
    if energy:
        head += ["energy (kJ)", "energy to target (kJ)"]
        head += ["class %d (kJ)" % c for c in range(classes)] + ["master (kJ)"]
    if has_part:
        head += ["uploads used / round", "dropped / round", "off / round", "time lost (s)"]
    body = []
    for r in rows:
        rid = r["run_id"]
        if rid not in res.run_json:
            continue
        cells = [rid, outcome(r), fmt(r["time_to_target_s"])]
        if energy:
            e = energy.get(rid) or {}
            kj = lambda v: fmt(None if v is None else v / 1e3)  # noqa: E731
            by_class = list(e.get("by_class_J") or [])
            by_class += [None] * (classes - len(by_class))
            to_target = res.summary.set_index("run_id").at[rid, "energy_to_target_J"] \
                if "energy_to_target_J" in res.summary.columns else None
            cells += [kj(e.get("total_J")), kj(val(to_target))] + [kj(v) for v in by_class] + \
                [kj(e.get("master_J"))]
        if has_part:
            rounds = r["rounds"] or 0
            row = last.loc[rid] if rid in last.index else None
            def per_round(col):
                v = None if row is None else val(row[col])
                return fmt(None if v is None or rounds <= 0 else v / rounds, ".3g")
            lost = None if row is None else val(row["time_lost_s"])
            cells += [per_round("uploads_used"), per_round("uploads_dropped"),
                      per_round("workers_off"), fmt(lost)]
        body.append(cells)
    return Table(head, body, head[2:])


def tuning_table(rows, target):
    groups = {}
    for r in rows:
        if r["tune_group"]:
            groups.setdefault(r["tune_group"], []).append(r)
    head = ["tuning group", "multipliers tried", "winner", "its outcome"]
    body = []
    for g, members in groups.items():
        tried = [fmt(m["multiplier"], "g") + "×" for m in members]
        winner = next((m for m in members if m["best_in_group"]), None)
        body.append([g, ", ".join(tried), winner["run_id"] if winner else "–",
                     outcome(winner, target) if winner else "–"])
    return Table(head, body)


def platforms_table(rows, target):
    """A sweep over several platforms: the same runs side by side (None otherwise)."""
    names = list(dict.fromkeys(r["platform"] for r in rows if r["platform"]))
    if len(names) < 2:
        return None
    cells, labels = {}, []
    for r in rows:
        label = r["run_id"][: -len(r["platform"]) - 1] if r["platform"] else r["run_id"]
        if label not in labels:
            labels.append(label)
        t, sp = r["time_to_target_s"], r["speedup_vs_gd"]
        cells[(label, r["platform"])] = ("%.4g s" % t + (" (%.2f×)" % sp if sp is not None else "")) \
            if t is not None else outcome(r, target > 0)
    return Table(["run"] + names, [[l] + [cells.get((l, p), "–") for p in names] for l in labels], names)


def model_comparison(rows):
    """Runs of a sweep over several network models (network_model: [..., ns3]): per run and
    platform, each model's mean round time and time to target against ns-3's, and the
    platforms where the fastest run to the target differs from ns-3's (a conclusion that flips).
    Returns (Table, flips) or None without ns-3 and another model."""
    cells, labels, bases, models = {}, [], [], []
    for r in rows:
        if r["network_model"] is None or not r["platform"]:
            continue
        model = r["network_model"]
        plat = r["platform"]
        if plat == model:
            base = ""
        elif plat.endswith("-" + model):
            base = plat[: -len(model) - 1]
        else:
            continue
        label = r["run_id"][: -len(plat) - 1]
        rounds, sim = r["rounds"], r["sim_time_s"]
        cells[(label, base, model)] = (sim / rounds if rounds and sim is not None else None,
                                       r["time_to_target_s"])
        for lst, v in ((labels, label), (bases, base), (models, model)):
            if v not in lst:
                lst.append(v)
    if "ns3" not in models or len(models) < 2:
        return None
    others = [m for m in models if m != "ns3"]

    def err(v, ref):
        return "%+.0f %%" % (100 * (v / ref - 1)) if v is not None and ref else "–"

    head = ["run", "platform", "ns-3 s/round"] + ["%s, round" % m for m in others] + \
           ["ns-3 to target (s)"] + ["%s, to target" % m for m in others]
    body = []
    for base in bases:
        for label in labels:
            ref = cells.get((label, base, "ns3"))
            if not ref:
                continue
            row = [label, base or "–", fmt(ref[0])]
            row += [err(cells.get((label, base, m), (None, None))[0], ref[0]) for m in others]
            row += [fmt(ref[1], none="not reached")]
            row += [err(cells.get((label, base, m), (None, None))[1], ref[1]) for m in others]
            body.append(row)
    flips = []
    for base in bases:
        def winner(model):
            best = None
            for label in labels:
                t = cells.get((label, base, model), (None, None))[1]
                if t is not None and (best is None or t < best[1]):
                    best = (label, t)
            return best
        truth = winner("ns3")
        for m in others:
            w = winner(m)
            if truth and w and w[0] != truth[0]:
                flips.append("%s: under %s %s reaches the target first (%.4g s); under ns-3 %s "
                             "does (%.4g s)" % (base or "the platform", m, w[0], w[1], truth[0], truth[1]))
    return Table(head, body, head[2:]), flips


def _plotly_div(fig, div_id):
    """The figure as a <div> and its script, without plotly.js (embedded once in <head>); a fixed
    div id, so the same results give the same page."""
    import re
    import plotly.io as pio
    page = pio.to_html(fig, include_plotlyjs=False, full_html=False,
                       config={"displaylogo": False, "responsive": True,
                               "toImageButtonOptions": {"format": "svg", "filename": div_id}})
    uuids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page))
    for u in uuids:  # plotly 5.4 names the div with a random uuid
        page = page.replace(u, div_id)
    # Draw once plotly.js is unpacked (_plotlyjs_script).
    page = re.sub(r"(<script type=\"text/javascript\">)(.*?)(</script>)",
                  lambda m: m.group(1) + "window.efsimPlotly.then(function () {" + m.group(2) +
                  "});" + m.group(3), page, flags=re.S)
    return page


def _plotlyjs_script():
    """plotly.js, embedded gzipped (base64) and unpacked by the browser (DecompressionStream):
    Debian's plotly.js is the unminified 8.7 MB build, 95 % of a report; gzipped it is 1.9 MB.
    The figures' scripts wait for it (window.efsimPlotly, see _plotly_div). gzip without a
    timestamp: the same results give the same page."""
    import base64
    import gzip
    from plotly.offline import get_plotlyjs
    packed = base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0))
    return ("<script type='text/javascript'>window.efsimPlotly = (async function () {"
            "var b = atob('%s'); var u = new Uint8Array(b.length);"
            "for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);"
            "var s = new Blob([u]).stream().pipeThrough(new DecompressionStream('gzip'));"
            "(0, eval)(await new Response(s).text());})();</script>" % packed.decode("ascii"))


def save_png(fig, path, plt):
    """A PNG with the legend's extent (it sits outside the axes); no timestamp, so the same
    results give the same bytes."""
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.08)
    os.replace(tmp, path)
    plt.close(fig)


def figures(res, headline):
    """The report's figures: [(name, title, caption, png file name, plotly HTML or None)]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from efsim import plots

    ids = [r["run_id"] for r in headline if r["run_id"] in set(res.traces["run_id"])]
    if not ids:
        return [], plt
    enc = plots.encode(res.summary, ids)
    specs = []
    f_star = res.summary.set_index("run_id").loc[ids, "f_star"]
    if f_star.notna().all() and all(math.isfinite(v) for v in f_star):
        specs.append(plots.convergence(res, enc, "sim_time_s", y="gap"))
    acc = res.traces[res.traces["run_id"].isin(ids)]["test_accuracy"]
    if acc.notna().any():
        specs.append(plots.convergence(res, enc, "sim_time_s", y="test_accuracy"))
    for x in ("sim_time_s", "bits_up_per_worker", "bits_down_per_worker", "round"):
        specs.append(plots.convergence(res, enc, x))
    # Real environments (README): energy as an axis, and how many uploads each round used.
    shown = res.traces[res.traces["run_id"].isin(ids)]
    if "energy_J" in shown.columns and shown["energy_J"].notna().all():
        specs.append(plots.convergence(res, enc, "energy_J"))
    if "uploads_used" in shown.columns and shown["uploads_used"].notna().all():
        specs.append(plots.convergence(res, enc, "round", y="participation"))
    ttt = plots.time_to_target(res, enc)
    if ttt is not None:
        specs.append(ttt)
    return [(s, s.mpl(plt)) for s in specs] + [("breakdown", plots.breakdown(res, enc, plt))], plt


def main():
    ap = argparse.ArgumentParser(description="efsim report from result files")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    summary_path = os.path.join(args.out, "summary.csv")
    if not os.path.isfile(summary_path):
        print("report.py: error: %s: no such file (run `efsim report DIR` first)" % summary_path, file=sys.stderr)
        return 2
    try:
        import matplotlib  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as e:
        print("report.py: error: the report needs pandas and matplotlib (Debian: apt-get install python3-pandas "
              "python3-matplotlib): %s" % e, file=sys.stderr)
        return 2
    try:
        import plotly  # noqa: F401
        have_plotly = True
    except ImportError:
        have_plotly = False
    import efsim
    try:
        res = efsim.load(args.dirs, summary=summary_path)
    except efsim.LoadError as e:
        print("report.py: error: %s" % e, file=sys.stderr)
        return 2

    rows = with_run_bits(records(res.summary), res.traces)
    with_results = [r for r in rows if r["run_id"] in res.run_json]
    target = res.target or 0.0
    any_run = next(iter(res.run_json.values()), {})
    title = "efsim report: " + (any_run.get("scenario") or os.path.basename(os.path.abspath(args.dirs[0])))
    setting = [
        ("problem", any_run.get("problem", "–")),
        ("platform", any_run.get("platform", "–")),
        ("network model", ", ".join(sorted({r["network_model"] for r in with_results})) or "–"),
        ("wire", "%s-bit values, %s-bit indices" % (any_run.get("wire", {}).get("value_bits", "–"),
                                                   any_run.get("wire", {}).get("index_bits", "–"))),
        ("target", "‖∇f(xᵏ)‖² ≤ %g" % target if target > 0 else "none (runs stop at their limits)"),
        ("runs", "%d (%d with results)" % (len(rows), len(with_results))),
    ]
    headline = headline_rows(rows)
    main_table = table(headline, target)
    full_table = table(rows, target)
    tuning = tuning_table(rows, target > 0)
    env = environment_table(headline, res)
    env_note = ("Energy: SimGrid's host and link energy plugins over the whole run (every device's "
                "idle power included, sampled or not), per worker class of the platform and the "
                "master's; to target: up to the first round that meets it. Participation: per "
                "round, the uploads the master used, those dropped at the round deadline or lost "
                "to a worker going off, and the sampled workers that were off; time lost: the "
                "total time rounds waited past their last used upload.")
    side_by_side = platforms_table(rows, target)
    models = model_comparison(rows)
    models_note = ("Each model's error against ns-3 (packet-level TCP; a new connection per "
                   "message) on the same run and platform: the mean simulated time of a round, "
                   "and the time to the target. The iterates are the same under every model; "
                   "only time differs.")

    # time_to_target.csv: the headline table, every column (platform too: a fixed layout).
    tmp = os.path.join(args.out, "time_to_target.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        t = table(headline, target, hide_empty_platform=False)
        w.writerow(t.head)
        w.writerows(t.body)
    os.replace(tmp, os.path.join(args.out, "time_to_target.csv"))

    plots_dir = os.path.join(args.out, "plots")
    os.makedirs(plots_dir, exist_ok=True)
    figs, plt = figures(res, headline)
    made = []
    for spec, fig in figs:
        if spec == "breakdown":
            name, ftitle = "time_breakdown", "Where a round's time goes"
            caption = ("Simulated milliseconds of an average round per run (means over workers), "
                       "split into waiting for the broadcast, computing, uploading, waiting for the "
                       "slowest upload, and the master's work.")
            interactive = None
        else:
            name, ftitle, caption = spec.name, spec.title, spec.caption
            interactive = spec.plotly() if have_plotly else None
        save_png(fig, os.path.join(plots_dir, name + ".png"), plt)
        made.append((name, ftitle, caption, interactive))

    notes = ("Time to target is the simulated time of the first round whose iterate meets the "
             "target (no interpolation). Bits are per worker: uplink is the mean over workers, "
             "downlink what each worker received. Speedup is the fastest GD run's time to "
             "target on the same platform divided by the run's.") if target > 0 else (
        "No target: every run stops at its limits, and the table shows where it ended.")
    same_tables = full_table.body == main_table.body
    md = ["# " + title, ""]
    md += ["- **%s**: %s" % (k, v) for k, v in setting]
    md += ["", "## Time to accuracy", "", main_table.md(), "", notes, ""]
    if side_by_side:
        md += ["## Platforms side by side", "", side_by_side.md(), "",
               "Cells: simulated time to the target (speedup over GD on the same platform).", ""]
    if models:
        md += ["## How accurate is simulated time: network models against ns-3", "",
               models[0].md(), "", models_note, ""]
        md += ["Conclusions that flip between models:", ""] + \
              (["- " + f for f in models[1]] or ["- none: every model names the same fastest run"]) + [""]
    if env:
        md += ["## Energy and participation", "", env.md(), "", env_note, ""]
    if tuning.body:
        md += ["## Stepsize tuning", "", tuning.md(), ""]
    md += ["## Plots", ""]
    for name, ftitle, caption, _ in made:
        md += ["![%s](plots/%s.png)" % (ftitle, name), "", "*%s*" % caption, ""]
    if not same_tables:
        md += ["## All runs", "", full_table.md(), ""]
    tmp = os.path.join(args.out, "report.md.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(md))
    os.replace(tmp, os.path.join(args.out, "report.md"))

    style = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1280px;padding:0 1em;color:#222}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0} tr.bad td{color:#a00}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
figure{margin:1.5em 0} figcaption{font-size:13px;color:#444;max-width:70em}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px} dt{font-weight:600}
"""
    head = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title><style>%s</style>"
            % (html.escape(title), style)]
    if any(m[3] is not None for m in made):
        head.append(_plotlyjs_script())
    parts = head + ["</head><body>", "<h1>%s</h1><dl>" % html.escape(title)]
    parts += ["<dt>%s</dt><dd>%s</dd>" % (html.escape(k), html.escape(str(v))) for k, v in setting]
    parts += ["</dl><h2>Time to accuracy</h2>", main_table.html(), "<p>%s</p>" % html.escape(notes)]
    if side_by_side:
        parts += ["<h2>Platforms side by side</h2>", side_by_side.html(),
                  "<p>Cells: simulated time to the target (speedup over GD on the same platform).</p>"]
    if models:
        parts += ["<h2>How accurate is simulated time: network models against ns-3</h2>",
                  models[0].html(), "<p>%s</p>" % html.escape(models_note),
                  "<p>Conclusions that flip between models:</p><ul>%s</ul>" %
                  "".join("<li>%s</li>" % html.escape(f) for f in
                          (models[1] or ["none: every model names the same fastest run"]))]
    if env:
        parts += ["<h2>Energy and participation</h2>", env.html(),
                  "<p>%s</p>" % html.escape(env_note)]
    if tuning.body:
        parts += ["<h2>Stepsize tuning</h2>", tuning.html()]
    parts.append("<h2>Plots</h2>")
    if any(m[3] is not None for m in made):
        parts.append("<p>Interactive: hovering a curve names its run; clicking a legend entry hides "
                     "it (double-click: only it); drag to zoom, double-click to reset. The static "
                     "figures are in plots/*.png.</p>")
    else:
        parts.append("<p>Static figures (interactive plots need python3-plotly).</p>")
    for name, ftitle, caption, interactive in made:
        parts.append("<figure><h3>%s</h3>" % html.escape(ftitle))
        if interactive is not None:
            parts.append(_plotly_div(interactive, "fig-" + name))
        else:
            with open(os.path.join(plots_dir, name + ".png"), "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            parts.append("<img alt='%s' src='data:image/png;base64,%s'>" % (html.escape(ftitle), data))
        parts.append("<figcaption>%s</figcaption></figure>" % html.escape(caption))
    if not same_tables:
        parts += ["<h2>All runs</h2>", full_table.html()]
    parts.append("</body></html>")
    tmp = os.path.join(args.out, "report.html.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(parts))
    os.replace(tmp, os.path.join(args.out, "report.html"))
    if not args.quiet:
        print("report: " + os.path.abspath(os.path.join(args.out, "report.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
