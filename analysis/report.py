#!/usr/bin/python3
"""efsim report: time-to-accuracy tables and plots from result files.

Usage: analysis/report.py --out OUT [--quiet] DIR [DIR...]

Reads only result files: OUT/summary.csv (written by `efsim report` / `efsim run`) and
DIR/runs/<run-id>/{run.json,trace.csv} of each result folder (one sweep, or its shards).
Writes into OUT:
  report.html        self-contained (plots embedded as PNG data URIs)
  report.md          the same tables in Markdown, plots linked from plots/
  time_to_target.csv the headline table (best stepsize per tuning group)
  plots/*.png        convergence vs simulated time, uplink bits and rounds; time breakdown
Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import base64
import csv
import html
import io
import json
import math
import os
import sys


def fnum(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def read_summary(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def find_run(dirs, run_id):
    for d in dirs:
        p = os.path.join(d, "runs", run_id)
        if os.path.isfile(os.path.join(p, "run.json")):
            return p
    return None


def read_trace(path):
    cols = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for k, v in row.items():
                cols.setdefault(k, []).append(float(v))
    return cols


def fmt(v, spec=".4g", none="–"):
    return none if v is None else format(v, spec)


def headline_rows(rows):
    """Untuned runs, and the winner of each tuning group."""
    return [r for r in rows if not r["tune_group"] or r["best_in_group"] == "yes"]


def outcome(r):
    reason = r["stop_reason"]
    if reason in ("failed", "pending"):
        return reason
    if r["time_to_target_s"]:
        return "reached"
    if reason == "diverged":
        return "diverged"
    return "not reached (" + reason + ")"


def stepsize_text(r, run_json):
    if run_json is None:
        return fmt(fnum(r["gamma"]))
    step = run_json.get("stepsize", {})
    gamma = fmt(fnum(r["gamma"]))
    if "theory_multiplier" in step:
        return "%s× theory (γ = %s)" % (fmt(fnum(step["theory_multiplier"]), "g"), gamma)
    if "pl_theory_multiplier" in step:
        return "%s× PL theory (γ = %s)" % (fmt(fnum(step["pl_theory_multiplier"]), "g"), gamma)
    return "γ = " + gamma


def table(rows, runs, target):
    head = ["run", "platform", "method", "compressor", "stepsize", "outcome", "rounds to target",
            "sim. time to target (s)", "Mbit up / worker", "Mbit down / worker",
            "speedup vs GD", "final ‖∇f‖²"]
    body = []
    for r in rows:
        rj = runs.get(r["run_id"], (None, None))[0]
        up, down = fnum(r["bits_up_to_target"]), fnum(r["bits_down_to_target"])
        sp = fnum(r["speedup_vs_gd"])
        body.append([
            r["run_id"], r.get("platform") or "–", r["method"], r["compressor"], stepsize_text(r, rj), outcome(r),
            r["rounds_to_target"] or "–", fmt(fnum(r["time_to_target_s"])),
            fmt(None if up is None else up / 1e6), fmt(None if down is None else down / 1e6),
            "–" if sp is None else "%.2f×" % sp, fmt(fnum(r["final_grad_norm_sq"]), ".3e"),
        ])
    return head, body


def tuning_table(rows, runs):
    groups = {}
    for r in rows:
        if r["tune_group"]:
            groups.setdefault(r["tune_group"], []).append(r)
    head = ["tuning group", "multipliers tried", "winner", "its outcome"]
    body = []
    for g, members in groups.items():
        tried, winner = [], None
        for m in members:
            rj = runs.get(m["run_id"], (None, None))[0]
            mult = (rj or {}).get("stepsize", {}).get("theory_multiplier")
            tried.append(fmt(fnum(mult), "g") + "×")
            if m["best_in_group"] == "yes":
                winner = m
        body.append([g, ", ".join(tried), winner["run_id"] if winner else "–",
                     outcome(winner) if winner else "–"])
    return head, body


def md_table(head, body):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in body:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(out)


def html_table(head, body):
    out = ["<table><thead><tr>" + "".join("<th>%s</th>" % html.escape(h) for h in head) + "</tr></thead><tbody>"]
    for row in body:
        cls = ""
        text = " ".join(str(c) for c in row)
        if "diverged" in text:
            cls = ' class="bad"'
        elif "failed" in text or "pending" in text:
            cls = ' class="bad"'
        out.append("<tr%s>" % cls + "".join("<td>%s</td>" % html.escape(str(c)) for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def plots(rows, runs, target, plots_dir, plt):
    os.makedirs(plots_dir, exist_ok=True)
    made = []
    series = []
    for r in headline_rows(rows):
        if r["run_id"] not in runs:
            continue
        rj, tr = runs[r["run_id"]]
        series.append((r["run_id"], r["stop_reason"], tr))
    if not series:
        return made

    def legend(ax, fig, loc="best"):
        # Up to 12 curves: a legend inside the axes. More (a sweep over platforms or network
        # models): beside the axes, in columns, so it neither covers the curves nor overflows.
        n = len(ax.get_legend_handles_labels()[0])
        if n <= 12:
            ax.legend(fontsize=7, loc=loc)
            fig.tight_layout()
            return
        cols = (n + 29) // 30
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=cols,
                  borderaxespad=0.0)
        fig.wide_legend = True  # saved with the legend's extent (bbox_inches="tight")

    def save(fig, name, title):
        path = os.path.join(plots_dir, name)
        tmp = path + ".tmp.png"
        if getattr(fig, "wide_legend", False):
            fig.savefig(tmp, dpi=100, metadata={"Software": None}, bbox_inches="tight")
        else:
            fig.savefig(tmp, dpi=100, metadata={"Software": None})
        os.replace(tmp, path)
        plt.close(fig)
        made.append((name, title))

    axes_spec = [("sim_time_s", 1.0, "simulated time (s)", "convergence_time.png",
                  "‖∇f(xᵏ)‖² against simulated time"),
                 ("bits_up_per_worker", 1e-6, "uplink Mbit per worker", "convergence_bits.png",
                  "‖∇f(xᵏ)‖² against uplink bits per worker"),
                 ("round", 1.0, "communication rounds", "convergence_rounds.png",
                  "‖∇f(xᵏ)‖² against rounds")]
    # f - f* against simulated time, when the problem knows f* (least squares, quadratics).
    f_star = None
    for r in headline_rows(rows):
        if r["run_id"] in runs:
            f_star = fnum(runs[r["run_id"]][0].get("f_star"))
            break
    if f_star is not None and math.isfinite(f_star):
        fig, ax = plt.subplots(figsize=(8, 4.8))
        for run_id, reason, tr in series:
            gap = [v - f_star if math.isfinite(v) and v - f_star > 0 else float("nan") for v in tr["f"]]
            ax.semilogy(tr["sim_time_s"], gap, label=run_id)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("f(xᵏ) − f*")
        ax.grid(True, which="both", alpha=0.3)
        legend(ax, fig)
        save(fig, "optimality_gap_time.png", "f(xᵏ) − f* against simulated time")

    # Test accuracy against simulated time, when a test set was given.
    if any(any(math.isfinite(v) for v in tr.get("test_accuracy", [])) for _, _, tr in series):
        fig, ax = plt.subplots(figsize=(8, 4.8))
        for run_id, reason, tr in series:
            ax.plot(tr["sim_time_s"], tr["test_accuracy"], label=run_id)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("test accuracy")
        ax.grid(True, alpha=0.3)
        legend(ax, fig)
        save(fig, "test_accuracy_time.png", "Test accuracy against simulated time")

    for col, scale, label, name, title in axes_spec:
        fig, ax = plt.subplots(figsize=(8, 4.8))
        for run_id, reason, tr in series:
            y = [v if math.isfinite(v) and v > 0 else float("nan") for v in tr["grad_norm_sq"]]
            ax.semilogy([v * scale for v in tr[col]], y, label=run_id + (" (diverged)" if reason == "diverged" else ""))
        if target and target > 0:
            ax.axhline(target, color="grey", linestyle="--", linewidth=1, label="target")
        ax.set_xlabel(label)
        ax.set_ylabel("‖∇f(xᵏ)‖²")
        ax.grid(True, which="both", alpha=0.3)
        legend(ax, fig)
        save(fig, name, title)

    # Where the time of an average round went, per run (means over workers).
    parts = [("time_down_s", "waiting for the broadcast"), ("time_compute_s", "computing"),
             ("time_up_s", "uploading"), ("time_idle_s", "waiting for the slowest upload"),
             ("time_master_s", "master")]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(series) + 1.6))
    names = [s[0] for s in series]
    left = [0.0] * len(series)
    for col, label in parts:
        widths = []
        for run_id, reason, tr in series:
            rounds = tr["round"][-1] if tr["round"] else 0
            widths.append(1e3 * tr[col][-1] / rounds if rounds else 0.0)
        ax.barh(names, widths, left=left, label=label)
        left = [a + b for a, b in zip(left, widths)]
    ax.set_xlabel("simulated ms per round (mean over workers)")
    ax.invert_yaxis()
    legend(ax, fig, "lower right")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    save(fig, "time_breakdown.png", "Where a round's time goes")
    return made


def model_comparison(rows, runs):
    """Runs of a sweep over several network models (network_model: [..., ns3]): per run and
    platform, each model's mean round time and time to target against ns-3's, and the
    platforms where the fastest run to the target differs from ns-3's (a conclusion that flips).
    Returns (head, body, flips) or None without ns-3 and another model."""
    cells, labels, bases, models = {}, [], [], []
    for r in rows:
        rj = runs.get(r["run_id"], (None, None))[0]
        if not rj or not r.get("platform"):
            continue
        model = rj.get("network_model", "")
        plat = r["platform"]
        if plat == model:
            base = ""
        elif plat.endswith("-" + model):
            base = plat[: -len(model) - 1]
        else:
            continue
        label = r["run_id"][: -len(plat) - 1]
        rounds, sim = fnum(r["rounds"]), fnum(r["sim_time_s"])
        cells[(label, base, model)] = (sim / rounds if rounds and sim is not None else None,
                                       fnum(r["time_to_target_s"]))
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
    return head, body, flips


def main():
    ap = argparse.ArgumentParser(description="efsim report from result files")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    summary_path = os.path.join(args.out, "summary.csv")
    if not os.path.isfile(summary_path):
        print("error: %s: no such file (run `efsim report DIR` first)" % summary_path, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("error: the report needs matplotlib (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 2

    rows = read_summary(summary_path)
    runs = {}
    for r in rows:
        d = find_run(args.dirs, r["run_id"])
        if d:
            with open(os.path.join(d, "run.json")) as f:
                rj = json.load(f)
            runs[r["run_id"]] = (rj, read_trace(os.path.join(d, "trace.csv")))
    target = 0.0
    for d in args.dirs:
        p = os.path.join(d, "sweep.json")
        if os.path.isfile(p):
            with open(p) as f:
                target = fnum(json.load(f).get("target_grad_norm_sq")) or 0.0
            break
    any_run = next(iter(runs.values()), (None, None))[0] or {}
    title = "efsim report: " + (any_run.get("scenario") or os.path.basename(os.path.abspath(args.dirs[0])))

    setting = [
        ("problem", any_run.get("problem", "–")),
        ("platform", any_run.get("platform", "–")),
        ("network model", ", ".join(sorted({rj.get("network_model", "–") for rj, _ in runs.values()})) or "–"),
        ("wire", "%s-bit values, %s-bit indices" % (any_run.get("wire", {}).get("value_bits", "–"),
                                                   any_run.get("wire", {}).get("index_bits", "–"))),
        ("target", "‖∇f(xᵏ)‖² ≤ %g" % target if target > 0 else "none (runs stop at their limits)"),
        ("runs", "%d (%d with results)" % (len(rows), len(runs))),
    ]
    head, body = table(headline_rows(rows), runs, target)
    full_head, full_body = table(rows, runs, target)
    tune_head, tune_body = tuning_table(rows, runs)
    # A sweep over several platforms: the same runs side by side.
    platform_names = []
    for r in rows:
        if r.get("platform") and r["platform"] not in platform_names:
            platform_names.append(r["platform"])
    cmp_head, cmp_body = [], []
    if len(platform_names) > 1:
        cells = {}
        labels = []
        for r in rows:
            label = r["run_id"][: -len(r["platform"]) - 1] if r["platform"] else r["run_id"]
            if label not in labels:
                labels.append(label)
            t = fnum(r["time_to_target_s"])
            sp = fnum(r["speedup_vs_gd"])
            cells[(label, r["platform"])] = ("%.4g s" % t + (" (%.2f×)" % sp if sp is not None else "")) if t is not None else outcome(r)
        cmp_head = ["run"] + platform_names
        cmp_body = [[l] + [cells.get((l, p), "–") for p in platform_names] for l in labels]
    figures = plots(rows, runs, target, os.path.join(args.out, "plots"), plt)
    models = model_comparison(rows, runs)
    models_note = ("Each model's error against ns-3 (packet-level TCP; a new connection per "
                   "message) on the same run and platform: the mean simulated time of a round, "
                   "and the time to the target. The iterates are the same under every model; "
                   "only time differs.")

    # time_to_target.csv: the headline table.
    tmp = os.path.join(args.out, "time_to_target.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(body)
    os.replace(tmp, os.path.join(args.out, "time_to_target.csv"))

    notes = ("Time to target is the simulated time of the first round whose iterate meets the "
             "target (no interpolation). Bits are per worker: uplink is the mean over workers, "
             "downlink what each worker received. Speedup is the fastest GD run's time to "
             "target on the same platform divided by the run's.")
    md = ["# " + title, ""]
    md += ["- **%s**: %s" % (k, v) for k, v in setting]
    md += ["", "## Time to accuracy", "", md_table(head, body), "", notes, ""]
    if cmp_body:
        md += ["## Platforms side by side", "", md_table(cmp_head, cmp_body), "",
               "Cells: simulated time to the target (speedup over GD on the same platform).", ""]
    if models:
        md += ["## How accurate is simulated time: network models against ns-3", "",
               md_table(models[0], models[1]), "", models_note, ""]
        md += ["Conclusions that flip between models:", ""] + \
              (["- " + f for f in models[2]] or ["- none: every model names the same fastest run"]) + [""]
    if tune_body:
        md += ["## Stepsize tuning", "", md_table(tune_head, tune_body), ""]
    md += ["## Plots", ""] + ["![%s](plots/%s)" % (t, n) for n, t in figures]
    md += ["", "## All runs", "", md_table(full_head, full_body), ""]
    tmp = os.path.join(args.out, "report.md.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(md))
    os.replace(tmp, os.path.join(args.out, "report.md"))

    style = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f0f0f0} tr.bad td{color:#a00}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px} dt{font-weight:600}
"""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title><style>%s</style></head><body>"
             % (html.escape(title), style), "<h1>%s</h1><dl>" % html.escape(title)]
    parts += ["<dt>%s</dt><dd>%s</dd>" % (html.escape(k), html.escape(str(v))) for k, v in setting]
    parts += ["</dl><h2>Time to accuracy</h2>", html_table(head, body), "<p>%s</p>" % html.escape(notes)]
    if cmp_body:
        parts += ["<h2>Platforms side by side</h2>", html_table(cmp_head, cmp_body),
                  "<p>Cells: simulated time to the target (speedup over GD on the same platform).</p>"]
    if models:
        parts += ["<h2>How accurate is simulated time: network models against ns-3</h2>",
                  html_table(models[0], models[1]), "<p>%s</p>" % html.escape(models_note),
                  "<p>Conclusions that flip between models:</p><ul>%s</ul>" %
                  "".join("<li>%s</li>" % html.escape(f) for f in
                          (models[2] or ["none: every model names the same fastest run"]))]
    if tune_body:
        parts += ["<h2>Stepsize tuning</h2>", html_table(tune_head, tune_body)]
    parts.append("<h2>Plots</h2>")
    for name, t in figures:
        with open(os.path.join(args.out, "plots", name), "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        parts.append("<h3>%s</h3><img alt='%s' src='data:image/png;base64,%s'>" % (html.escape(t), html.escape(t), data))
    parts += ["<h2>All runs</h2>", html_table(full_head, full_body), "</body></html>"]
    tmp = os.path.join(args.out, "report.html.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(parts))
    os.replace(tmp, os.path.join(args.out, "report.html"))
    if not args.quiet:
        print("report: " + os.path.abspath(os.path.join(args.out, "report.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
