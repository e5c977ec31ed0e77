"""The report's figures: one visual channel per sweep axis, static (matplotlib) and interactive
(plotly) from one description.

    enc = encode(res.summary)                  # which axis gets which channel
    fig = convergence(res, enc, "sim_time_s")  # a Figure spec: .mpl() and .plotly()

Channels. The settings that vary over the plotted runs are the sweep's axes (platform, network
model, method, compressor, stepsize, batch, ...). Panels: one per platform (or network model),
or one per method when there are more than 12 curves. Colour: the first remaining axis (a
palette colour per method; a sequential colour map for a numeric axis). Within one colour, the
next axis is the shade (darker = larger) and any further ones the line style. The uncompressed
baseline (GD) is drawn in every method panel as a black reference instead of a panel of its own.
"""
import colorsys
import math

import numpy as np

# Sweep axes in the order they take channels: (column, name in captions, value formatter).
AXES = [
    ("platform", "platform", str),
    ("network_model", "network model", str),
    ("method", "method", str),
    ("compressor", "compressor", str),
    ("multiplier", "stepsize", lambda v: "%g× theory" % v),
    ("gamma_fixed", "stepsize", lambda v: "γ = %g" % v),
    ("batch", "batch", lambda v: "batch %d" % v),
    ("eta", "η", lambda v: "η = %g" % v),
    ("beta", "β", lambda v: "β = %g" % v),
    ("seed", "seed", lambda v: "seed %d" % v),
    ("id_settings", "settings in the run id", str),
    ("run_id", "run", str),
]
NUMERIC = {"multiplier", "gamma_fixed", "batch", "eta", "beta", "seed"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#bcbd22", "#7f7f7f"]
STYLES = ["-", "--", ":", "-."]
PLOTLY_DASH = {"-": "solid", "--": "dash", ":": "dot", "-.": "dashdot"}
BASELINE_METHOD = "gd"  # the registry's uncompressed method
MAX_CURVES_ONE_PANEL = 12


def id_settings(row):
    """The run id's settings after its method, compressor and stepsize (e.g. "ls4" for
    local_steps 4, "tau2", "tree", "dmodel"; None without any): settings that run.json does not
    hold, so that runs differing only there still get their own look."""
    rid = str(row["run_id"])
    plat = row.get("platform")
    if isinstance(plat, str) and plat and rid.endswith("@" + plat):
        rid = rid[: -len(plat) - 1]
    head = "%s-%s-" % (row["method"], row["compressor"])
    if not rid.startswith(head):
        return None
    rest = rid[len(head):].split("-")[1:]  # after the stepsize token (x2, xpl1, g0.5)
    return "-".join(rest) or None


def _value(row, col):
    if col == "id_settings":
        return id_settings(row)
    if col == "gamma_fixed":
        return row["gamma"] if row["stepsize_rule"] == "gamma" else None
    v = row.get(col)
    if v is None:
        return None
    try:
        if isinstance(v, float) and math.isnan(v):
            return None
    except TypeError:
        pass
    if v is getattr(__import__("pandas"), "NA"):
        return None
    return v


def _sort_key(col, v):
    if v is None:
        return (0, 0, "")
    if col in NUMERIC:
        return (1, float(v), "")
    if col == "compressor":
        # top_k100 < top_k1000: the kind, then the number in the label.
        head = v.rstrip("0123456789.")
        tail = v[len(head):]
        try:
            return (1, 0, head, float(tail))
        except ValueError:
            return (1, 0, v, 0.0)
    return (1, 0, str(v))


def _shade(hex_colour, rank, count):
    """The rank-th of count shades of a colour, lightest first (darker = larger)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, l, s = colorsys.rgb_to_hls(r, g, b)
    if count > 1:
        l = 0.7 - (0.7 - 0.22) * rank / (count - 1)
    r, g, b = colorsys.hls_to_rgb(h, l, s)
    return "#%02x%02x%02x" % tuple(int(round(255 * c)) for c in (r, g, b))


def _sequential(rank, count):
    """Viridis (without its lightest yellow), by rank."""
    import matplotlib
    t = 0.0 if count <= 1 else 0.9 * rank / (count - 1)
    r, g, b, _ = matplotlib.colormaps["viridis"](t)
    return "#%02x%02x%02x" % tuple(int(round(255 * c)) for c in (r, g, b))


class Style:
    def __init__(self, colour, linestyle, label, group, run_id, reference=False):
        self.colour, self.linestyle, self.label, self.group = colour, linestyle, label, group
        self.run_id, self.reference = run_id, reference


class Encoding:
    """Which axis drives which channel, and each plotted run's style.

    runs        the plotted run ids, in the sweep's order
    panel_axis  column whose values are the panels (None: one panel)
    panels      [(panel title, [run ids])]; reference runs appear in every panel
    styles      run id -> Style
    legend      [(header or None, [(label, Style)])]: the legend's groups, in order
    channels    [(channel, axis name)] for captions, e.g. ("colour", "method")
    """

    def describe(self):
        parts = ["%s: %s" % (c, a) for c, a in self.channels]
        if self.reference:
            parts.append("black: %s (the uncompressed baseline, in every panel)" % BASELINE_METHOD)
        return "; ".join(parts)


def encode(summary, run_ids=None):
    """The encoding of the runs of a summary DataFrame (efsim.load(...).summary), restricted to
    run_ids (default: all)."""
    rows = []
    for _, r in summary.iterrows():
        if run_ids is not None and r["run_id"] not in run_ids:
            continue
        rows.append({col: _value(r, col) for col, _, _ in AXES})
    enc = Encoding()
    enc.runs = [r["run_id"] for r in rows]
    names = {c: n for c, n, _ in AXES}
    fmt = {c: f for c, _, f in AXES}

    def varying(rs, cols):
        return [c for c in cols if len({r[c] for r in rs}) > 1]

    candidates = [c for c, _, _ in AXES if c != "run_id"]
    axes = varying(rows, candidates)
    # The run id is an axis only where the settings do not tell runs apart.
    seen = {}
    for r in rows:
        seen.setdefault(tuple(r[c] for c in axes), []).append(r)
    if any(len(v) > 1 for v in seen.values()):
        axes.append("run_id")

    panel_axis = None
    if "platform" in axes:
        panel_axis = "platform"
    elif "network_model" in axes:
        panel_axis = "network_model"
    elif len(rows) > MAX_CURVES_ONE_PANEL and "method" in axes:
        panel_axis = "method"
    enc.panel_axis = panel_axis
    rest = [c for c in axes if c != panel_axis]

    # GD drawn as a reference in every method panel (when there are few GD runs).
    reference = []
    if panel_axis == "method":
        gd = [r for r in rows if r["method"] == BASELINE_METHOD]
        if 0 < len(gd) <= 3 and len(gd) < len(rows):
            reference = gd
    enc.reference = bool(reference)
    ref_ids = {r["run_id"] for r in reference}
    main = [r for r in rows if r["run_id"] not in ref_ids]

    panels = []
    if panel_axis:
        values = list(dict.fromkeys(r[panel_axis] for r in main))  # the sweep's order
        for v in values:
            members = [r["run_id"] for r in main if r[panel_axis] == v]
            panels.append((fmt[panel_axis](v) if v is not None else "–", members + sorted(ref_ids, key=enc.runs.index)))
    else:
        panels.append(("", list(enc.runs)))
    enc.panels = panels

    enc.styles, enc.legend, enc.channels = {}, [], []
    if panel_axis:
        enc.channels.append(("panels", names[panel_axis]))
    colour_axis = next((c for c in rest if c in varying(main, rest)), None)
    if colour_axis is None:  # one curve per panel: one colour
        colour_axis = rest[0] if rest else None
    if colour_axis is not None:
        enc.channels.append(("colour", names[colour_axis]))
    shade_names, style_names = [], []

    def key(r):
        return tuple(r[c] for c in rest)

    # Runs that share every non-panel setting share a style and a legend entry.
    by_key = {}
    for r in main:
        by_key.setdefault(key(r), []).append(r)
    reps = [v[0] for v in by_key.values()]

    def place(group_rows, base, header, numeric_colour):
        subs = [c for c in rest if c != colour_axis and c in varying(group_rows, rest)]
        # The shade takes the setting with the most values; line styles the others. Should the
        # styles repeat (more than four combinations), the shade runs over all settings: no two
        # runs of a colour look alike.
        by_count = sorted(subs, key=lambda c: -len({r[c] for r in group_rows}))
        shade_axis, style_axes = (by_count[0], by_count[1:]) if subs else (None, [])
        if numeric_colour:
            shade_axis, style_axes = None, subs
        combos = {tuple(r[c] for c in style_axes) for r in group_rows}
        whole = shade_axis is not None and len(combos) > len(STYLES)
        for c, lst in ([(c, shade_names) for c in subs] if whole else [(shade_axis, shade_names)]) + \
                [(c, style_names) for c in style_axes]:
            if c and names[c] not in lst:
                lst.append(names[c])
        def shade_of(r):
            return tuple(r[c] for c in subs) if whole else r[shade_axis]

        def shade_key(v):
            return tuple(_sort_key(c, x) for c, x in zip(subs, v)) if whole else _sort_key(shade_axis, v)
        shade_vals = sorted({shade_of(r) for r in group_rows}, key=shade_key) if shade_axis else []
        style_vals = sorted({tuple(r[c] for c in style_axes) for r in group_rows},
                            key=lambda t: tuple(_sort_key(c, v) for c, v in zip(style_axes, t)))
        entries = []
        ordered = sorted(group_rows, key=lambda r: tuple(_sort_key(c, r[c]) for c in [colour_axis] + by_count if c))
        for r in ordered:
            colour = base
            if shade_axis:
                colour = _shade(base, shade_vals.index(shade_of(r)), len(shade_vals))
            ls = STYLES[style_vals.index(tuple(r[c] for c in style_axes)) % len(STYLES)]
            label = ", ".join(fmt[c](r[c]) if r[c] is not None else "–" for c in by_count)
            if numeric_colour:
                own = fmt[colour_axis](r[colour_axis]) if r[colour_axis] is not None else "–"
                label = own + (", " + label if label else "")
            if not label:
                label = header or r["run_id"]
            st = Style(colour, ls, label, header, r["run_id"])
            entries.append((label, st))
            for twin in by_key[key(r)]:
                enc.styles[twin["run_id"]] = Style(colour, ls, label, header, twin["run_id"])
        return entries, shade_axis, style_axes

    if colour_axis in NUMERIC:
        vals = sorted({r[colour_axis] for r in reps}, key=lambda v: _sort_key(colour_axis, v))
        entries = []
        for i, v in enumerate(vals):
            members = [r for r in reps if r[colour_axis] == v]
            e, _, _ = place(members, _sequential(i, len(vals)), names[colour_axis], True)
            entries += e
        enc.legend.append((names[colour_axis], entries))
    elif colour_axis is not None:
        vals = sorted({r[colour_axis] for r in reps}, key=lambda v: _sort_key(colour_axis, v)) \
            if colour_axis not in ("method",) else list(dict.fromkeys(r[colour_axis] for r in reps))
        palette = PALETTE if len(vals) <= len(PALETTE) else [
            _sequential(i, len(vals)) for i in range(len(vals))]
        for i, v in enumerate(vals):
            members = [r for r in reps if r[colour_axis] == v]
            header = fmt[colour_axis](v) if v is not None else "–"
            e, _, _ = place(members, palette[i % len(palette)], header, False)
            if len(e) == 1 and e[0][0] == header:
                enc.legend.append((None, e))
            else:
                enc.legend.append((header, e))
    else:
        for r in main:
            enc.styles[r["run_id"]] = Style(PALETTE[0], "-", r["run_id"], None, r["run_id"])
        enc.legend.append((None, [(r["run_id"], enc.styles[r["run_id"]]) for r in main[:1]]))
    # Each colour's own first varying setting is its shade (e.g. the stepsize for GD, the
    # compressor for EF21): the caption names them all.
    if shade_names:
        enc.channels.append(("shade (darker = larger)", " or ".join(shade_names)))
    if style_names:
        enc.channels.append(("line style", ", ".join(style_names)))
    if reference:
        entries = []
        for i, r in enumerate(reference):
            subs = [c for c in rest if c != "method" and c in varying(reference, rest)]
            label = BASELINE_METHOD + (" " + ", ".join(fmt[c](r[c]) for c in subs if r[c] is not None) if subs else "")
            st = Style("#000000", STYLES[i % len(STYLES)], label, "reference", r["run_id"], True)
            enc.styles[r["run_id"]] = st
            entries.append((label, st))
        enc.legend.append(("reference", entries))
    return enc


# ---------------------------------------------------------------------------------------------
# Figures


def _finite_positive(a):
    a = np.asarray(a, dtype=float)
    return a[np.isfinite(a) & (a > 0)]


class Curve:
    """A run's curve; `raw` (x, y): the noisy points it smooths, drawn faint under it."""

    def __init__(self, run_id, x, y, style, note="", raw=None):
        self.run_id, self.x, self.y, self.style, self.note = run_id, x, y, style, note
        self.raw = raw


class Figure:
    """A figure of one or more panels, drawn by mpl() or plotly().

    panels    [(title, [Curve])]
    bars      instead of curves: [(title, [(Style or None, label, value, text)])] (horizontal bars)
    """

    def __init__(self, name, title, xlabel, ylabel, enc, panels=None, bars=None, xlog=False,
                 ylog=True, ylim=None, hline=None, caption=""):
        self.name, self.title, self.xlabel, self.ylabel, self.enc = name, title, xlabel, ylabel, enc
        self.panels, self.bars = panels or [], bars
        self.xlog, self.ylog, self.ylim, self.hline = xlog, ylog, ylim, hline
        self.caption = caption

    # -- matplotlib ------------------------------------------------------------------------
    def _grid(self, n):
        cols = 1 if n == 1 else 2 if n in (2, 4) else 3
        return (n + cols - 1) // cols, cols

    def _legend_items(self, used):
        from matplotlib.lines import Line2D
        handles, labels, headers = [], [], []
        used_keys = {(self.enc.styles[r].group, self.enc.styles[r].label) for r in used}
        for header, entries in self.enc.legend:
            entries = [(l, st) for l, st in entries if (st.group, st.label) in used_keys]
            if not entries:
                continue
            if header:
                handles.append(Line2D([], [], linestyle="none"))
                labels.append(header)
                headers.append(len(labels) - 1)
            for label, st in entries:
                handles.append(Line2D([], [], color=st.colour, linestyle=st.linestyle, linewidth=1.6))
                labels.append(label)
        if self.hline is not None:
            handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=1))
            labels.append(self.hline[1])
        return handles, labels, headers

    def mpl(self, plt):
        """A matplotlib figure; the legend is outside the axes, on the right."""
        content = self.bars if self.bars is not None else self.panels
        n = max(1, len(content))
        rows, cols = self._grid(n)
        if self.bars is not None:
            height = max(len(b) for _, b in self.bars) * 0.22 + 1.2
            fig, axs = plt.subplots(rows, cols, figsize=(4.6 * cols, height * rows), sharex=True,
                                    squeeze=False)
        else:
            w, h = (7.0, 4.2) if n == 1 else (4.4, 3.1)
            fig, axs = plt.subplots(rows, cols, figsize=(w * cols, h * rows), sharex=True,
                                    sharey=True, squeeze=False)
        used = set()
        for i, ax in enumerate(axs.flat):
            if i >= len(content):
                ax.set_visible(False)
                continue
            title, items = content[i]
            if self.bars is not None:
                self._mpl_bars(ax, items, used)
            else:
                for c in items:
                    used.add(c.run_id)
                    lw = 1.3 if c.style.reference else 1.6
                    if c.raw is not None:
                        ax.plot(c.raw[0], c.raw[1], color=c.style.colour, linestyle="none",
                                marker=".", markersize=1.5, alpha=0.25, zorder=1)
                    ax.plot(c.x, c.y, color=c.style.colour, linestyle=c.style.linestyle, linewidth=lw,
                            zorder=1.5 if c.style.reference else 2)
                if self.hline is not None:
                    ax.axhline(self.hline[0], color="grey", linestyle="--", linewidth=1)
                ax.set_yscale("log" if self.ylog else "linear")
                if self.xlog:
                    ax.set_xscale("log")
                if self.ylim:
                    ax.set_ylim(*self.ylim)
                ax.grid(True, which="major", alpha=0.3)
            if title:
                ax.set_title(title, fontsize=10)
            ax.tick_params(labelsize=8)
            bottom = i + cols >= len(content)  # no panel below: this one shows the x-axis
            ax.set_xlabel(self.xlabel if bottom else "", fontsize=9)
            if bottom:
                ax.xaxis.set_tick_params(labelbottom=True)
            if self.bars is None and i % cols == 0:
                ax.set_ylabel(self.ylabel, fontsize=9)
        # Bars are labelled on their axis: no legend.
        handles, labels, headers = self._legend_items(used) if self.bars is None else ([], [], [])
        fig.tight_layout()
        if handles:
            ncol = 1 + len(handles) // 40
            leg = fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.98),
                             fontsize=8, frameon=False, ncol=ncol, handlelength=2.4,
                             borderaxespad=0.2)
            for i, t in enumerate(leg.get_texts()):
                if i in headers:
                    t.set_fontweight("bold")
            fig.efsim_legend = leg
        return fig

    def _mpl_bars(self, ax, items, used):
        ys, labels = [], []
        y = 0
        for st, label, value, text in items:
            if st is None:  # a group's header row
                labels.append(label)
                ys.append(y)
                ax.text(0, y, "", va="center")
            else:
                used.add(st.run_id)
                labels.append(label)
                ys.append(y)
                if value is not None:
                    ax.barh(y, value, color=st.colour, height=0.75)
                if text:
                    ax.annotate(text, (value or 0, y), xytext=(3, 0), textcoords="offset points",
                                va="center", fontsize=7, color="#444")
            y += 1
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=8)
        for tick, (st, _, _, _) in zip(ax.get_yticklabels(), items):
            if st is None:
                tick.set_fontweight("bold")
        ax.set_ylim(y - 0.5, -0.5)
        ax.grid(True, axis="x", alpha=0.3)
        ax.margins(x=0.12)

    # -- plotly --------------------------------------------------------------------------------
    def plotly(self):
        """An interactive plotly figure: hovering names the run; clicking a legend entry hides
        its curves (in every panel)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
        content = self.bars if self.bars is not None else self.panels
        n = max(1, len(content))
        rows, cols = self._grid(n)
        titles = [t for t, _ in content] if any(t for t, _ in content) else None
        fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_xaxes=True,
                            shared_yaxes=self.bars is None, horizontal_spacing=0.06 if self.bars is None else 0.15,
                            vertical_spacing=0.12 if rows > 1 else 0.08)
        shown = set()
        group_titled = set()
        for i, (title, items) in enumerate(content):
            row, col = i // cols + 1, i % cols + 1
            if self.bars is not None:
                self._plotly_bars(fig, go, items, row, col)
                continue
            for c in items:
                st = c.style
                key = (st.group, st.label)
                show = key not in shown
                shown.add(key)
                legendgroup = "%s|%s" % key
                kw = {}
                if show and st.group and st.group not in group_titled:
                    kw["legendgrouptitle_text"] = st.group
                    group_titled.add(st.group)
                if c.raw is not None:
                    rx, ry = _thin(c.raw[0], c.raw[1])
                    fig.add_trace(go.Scatter(
                        x=rx, y=ry, mode="markers", name=st.label, legendgroup=legendgroup,
                        showlegend=False, opacity=0.25,
                        marker=dict(color=st.colour, size=2.5), hoverinfo="skip"),
                        row=row, col=col)
                x, y = _thin(c.x, c.y)
                fig.add_trace(go.Scatter(
                    x=x, y=y, mode="lines", name=st.label, legendgroup=legendgroup,
                    showlegend=show, line=dict(color=st.colour, dash=PLOTLY_DASH[st.linestyle],
                                               width=1.4 if st.reference else 1.8),
                    hovertemplate="<b>" + c.run_id + "</b>" + (" " + c.note if c.note else "") +
                    "<br>" + self.xlabel + ": %{x:.4g}<br>" + self.ylabel + ": %{y:.3e}<extra></extra>",
                    **kw), row=row, col=col)
            if self.hline is not None and items:
                # A trace, not a shape: it has a legend entry and hides like a run.
                xs = [v for c in items for v in (c.x[0], c.x[-1]) if len(c.x) and math.isfinite(v)]
                fig.add_trace(go.Scatter(
                    x=[min(xs), max(xs)], y=[self.hline[0]] * 2, mode="lines", name=self.hline[1],
                    legendgroup="target", showlegend="target" not in shown,
                    line=dict(color="grey", dash="dash", width=1), hoverinfo="skip"), row=row, col=col)
                shown.add("target")
        ytype = "log" if self.ylog else "linear"
        if self.bars is None:
            yrange = None
            if self.ylim:
                yrange = [math.log10(v) for v in self.ylim] if self.ylog else list(self.ylim)
            fig.update_yaxes(type=ytype, range=yrange, exponentformat="power", showgrid=True)
            fig.update_xaxes(type="log" if self.xlog else "linear", showgrid=True)
            for r in range(1, rows + 1):
                fig.update_yaxes(title_text=self.ylabel, row=r, col=1)
        fig.update_xaxes(title_text=self.xlabel, row=rows)
        fig.update_layout(template="plotly_white", height=(300 if self.bars is None else
                                                           max(220, 22 * max(len(b) for _, b in content) + 90)) * rows + 60,
                          margin=dict(l=60, r=20, t=40, b=50), hovermode="closest",
                          legend=dict(groupclick="toggleitem", tracegroupgap=4, font=dict(size=11)),
                          font=dict(size=12))
        return fig

    def _plotly_bars(self, fig, go, items, row, col):
        labels, values, colours, hover, texts = [], [], [], [], []
        for st, label, value, text in items:
            # A group's header row in bold, its runs under it. Plotly's category axis needs
            # distinct names: a zero-width space tells apart equal labels of two groups.
            name = ("<b>%s</b>" % label) if st is None else label
            while name in labels:
                name += "\u200b"
            labels.append(name)
            values.append(value if value is not None else 0)
            colours.append(st.colour if st is not None else "rgba(0,0,0,0)")
            hover.append("" if st is None else "<b>%s</b><br>%s" % (st.run_id, text or "%.4g s" % value))
            texts.append(text or "")
        top = max([v for v in values if v] or [1.0])
        fig.update_xaxes(range=[0, top * 1.35], row=row, col=col)  # room for the labels
        fig.add_trace(go.Bar(y=labels, x=values, orientation="h", marker_color=colours,
                             text=texts, textposition="outside", hovertext=hover,
                             hoverinfo="text", showlegend=False), row=row, col=col)
        fig.update_yaxes(autorange="reversed", row=row, col=col, tickfont=dict(size=11))


def _thin(x, y, most=1200):
    """At most about `most` points per curve, values to 6 digits: the page stays small and the
    curve looks the same. The x-range is cut into most / 2 columns (finer than a plot's pixels);
    each keeps its points of lowest and highest y (and its first point when y has no value
    there), and the first and last points stay: spikes survive, unlike with every k-th point."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) > most:
        idx = thin_indices(x, y, most // 2)
        x, y = x[idx], y[idx]

    def r6(a):
        return [None if not math.isfinite(v) else float("%.6g" % v) for v in a]
    return r6(x), r6(y)


def thin_indices(x, y, columns):
    """The indices _thin keeps: per column of equal width in x, the first points of lowest and
    highest y (or the column's first point when none of its y is finite), and the ends."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    fin = np.isfinite(x)
    lo, hi = (float(x[fin].min()), float(x[fin].max())) if fin.any() else (0.0, 0.0)
    width = (hi - lo) / columns if hi > lo else 1.0
    col = np.where(fin, np.clip(((x - lo) / width).astype(int) if hi > lo else 0, 0, columns - 1),
                   -1)
    keep = {0, n - 1}
    order = np.argsort(col, kind="stable")
    bounds = np.flatnonzero(np.diff(col[order])) + 1
    for members in np.split(order, bounds):
        if col[members[0]] < 0:
            keep.update(members.tolist())  # points with no x: kept as they are
            continue
        vals = y[members]
        ok = np.isfinite(vals)
        if not ok.any():
            keep.add(int(members[0]))
            continue
        good = members[ok]
        keep.add(int(good[np.argmin(vals[ok])]))
        keep.add(int(good[np.argmax(vals[ok])]))
    return np.array(sorted(keep), dtype=int)


def moving_window(rounds):
    """The moving average's window (rounds) for a run of `rounds` rounds: about a fiftieth of it,
    at least 1 (no smoothing for short runs, where the raw points are readable)."""
    return max(1, int(round(rounds / 50.0)))


def moving_average(v, window):
    """The centred mean of v over `window` rows (fewer at the ends), NaN values skipped."""
    v = np.asarray(v, dtype=float)
    if window <= 1:
        return v.copy()
    ok = np.isfinite(v)
    vals = np.where(ok, v, 0.0)
    csum = np.concatenate([[0.0], np.cumsum(vals)])
    ccnt = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(len(v))
    a = np.clip(i - window // 2, 0, len(v))
    b = np.clip(i - window // 2 + window, 0, len(v))
    cnt = ccnt[b] - ccnt[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (csum[b] - csum[a]) / np.maximum(cnt, 1), np.nan)


def y_limits(curves, target):
    """A floor and a ceiling for log-scale ‖∇f‖² curves, and a sentence saying what they cut.

    With a target: the floor is a decade below it (below the target nothing changes the time to
    it).
    Without: the lowest curve minimum, unless a few curves (at most a quarter) go more than three
    decades below all others (GD at machine precision): those leave the bottom of the plot.
    The ceiling: the power of ten above the highest value of the runs that did not diverge
    (diverged runs leave the top)."""
    mins, highs, seen = [], [], set()
    for c in curves:
        if c.run_id in seen:  # a reference run drawn in every panel
            continue
        seen.add(c.run_id)
        v = _finite_positive(c.y)
        if len(v):
            mins.append((float(v.min()), c.run_id))
            highs.append(float(v.max()) if c.note != "(diverged)" else float(v[0]))
    if not mins:
        return None, ""
    top = 10 ** math.ceil(math.log10(max(highs) * 1.5))
    mins.sort()
    if target and target > 0:
        floor = target / 10
        cut = [m for m in mins if m[0] < floor]
        why = "a decade below the target"
    else:
        dropped = 0
        while (dropped + 1 < len(mins) and dropped < max(1, len(mins) // 4) and
               mins[dropped][0] < 1e-3 * mins[dropped + 1][0]):
            dropped += 1
        cut = mins[:dropped]
        floor = 10 ** math.floor(math.log10(mins[dropped][0]))
        why = "below the other runs' lowest values"
    if floor >= top:  # a target above every value
        floor, cut = top / 10, [m for m in mins if m[0] < top / 10]
        why = "a decade below the top"
    note = ""
    if cut:
        names = ", ".join("%s (to %.2g)" % (rid, m) for m, rid in cut[:4]) + (
            " and %d more" % (len(cut) - 4) if len(cut) > 4 else "")
        note = "The y-axis stops at %.0e (%s): %s go%s on below it." % (
            floor, why, names, "es" if len(cut) == 1 else "")
    if any(c.note == "(diverged)" for c in curves):
        note += (" " if note else "") + "Runs that diverged leave the top of the plot."
    return (floor, top), note


# ---------------------------------------------------------------------------------------------
# The report's figures from a Results (efsim.load) and an Encoding.

X_AXES = {
    "sim_time_s": ("simulated time (s)", 1.0, "simulated time"),
    "bits_up_per_worker": ("uplink Mbit per worker", 1e-6, "uplink bits per worker"),
    "bits_down_per_worker": ("downlink Mbit per worker", 1e-6,
                             "downlink bits per worker (what each worker received)"),
    "round": ("communication rounds", 1.0, "rounds"),
    "energy_J": ("energy (kJ, every host and worker link)", 1e-3, "energy"),
}


def _by_run(res, run_ids):
    out = {}
    for run_id, t in res.traces.groupby("run_id", sort=False):
        if run_id in run_ids:
            out[run_id] = t
    return out


def convergence(res, enc, xcol, y="grad_norm_sq"):
    """‖∇f(xᵏ)‖² (or f − f*: y="gap"; test accuracy: y="test_accuracy"; the uploads the master
    used per round: y="participation", with a round deadline or availability) against xcol."""
    xlabel, scale, xname = X_AXES[xcol]
    traces = _by_run(res, set(enc.runs))
    summary = res.summary.set_index("run_id")
    ylabel = {"grad_norm_sq": "‖∇f(xᵏ)‖²", "gap": "f(xᵏ) − f*", "test_accuracy": "test accuracy",
              "participation": "uploads used per round"}[y]
    ylog = y not in ("test_accuracy", "participation")
    # Log x for bits when the runs' totals differ by 20 times or more (on a linear axis the
    # smaller ones would be squeezed into the first twentieth).
    xlog = False
    if xcol.startswith("bits"):
        ends = [float(t[xcol].max()) for t in traces.values() if float(t[xcol].max()) > 0]
        xlog = bool(ends) and max(ends) >= 20 * min(ends)
    # Participation is noisy round to round: a moving average over the raw points (kept faint),
    # one window for the figure, from its longest run.
    window = 1
    if y == "participation":
        window = moving_window(max([float(t["round"].max()) for t in traces.values()] or [0]))
        if window > 1:
            ylabel = "uploads used per round (mean over %d rounds)" % window
    panels, everything = [], []
    for title, members in enc.panels:
        curves = []
        for run_id in members:
            t = traces.get(run_id)
            if t is None:
                continue
            x = t[xcol].to_numpy(dtype=float) * scale
            if y == "gap":
                v = t["f"].to_numpy(dtype=float) - float(summary.loc[run_id, "f_star"])
            elif y == "participation":  # cumulative counts -> per round between recorded rows
                used = t["uploads_used"].to_numpy(dtype=float)
                rounds = t["round"].to_numpy(dtype=float)
                v = np.full(len(used), np.nan)
                v[1:] = np.diff(used) / np.maximum(np.diff(rounds), 1)
            else:
                v = t[y].to_numpy(dtype=float)
            v = np.where(np.isfinite(v) & ((v > 0) if ylog else True), v, np.nan)
            if xlog:
                keep = x > 0
                x, v = x[keep], v[keep]
            reason = summary.loc[run_id, "stop_reason"]
            raw = None
            if window > 1:
                # The window in trace rows (a row per round unless the trace skips rounds).
                gap = max(float(t["round"].iloc[-1]) / max(len(t) - 1, 1), 1.0)
                raw, v = (x, v), moving_average(v, max(1, int(round(window / gap))))
            c = Curve(run_id, x, v, enc.styles[run_id], "(diverged)" if reason == "diverged" else "",
                      raw=raw)
            curves.append(c)
        panels.append((title, curves))
        everything += curves
    target = res.target if y == "grad_norm_sq" else None
    ylim, clip_note = (y_limits(everything, target) if ylog else (None, ""))
    name = {"grad_norm_sq": "convergence_", "gap": "optimality_gap_", "test_accuracy": "test_accuracy_",
            "participation": "participation_"}[y] + \
        {"sim_time_s": "time", "bits_up_per_worker": "bits", "bits_down_per_worker": "bits_down",
         "round": "rounds", "energy_J": "energy"}[xcol]
    title = "%s against %s" % (ylabel, xname)
    caption = [title + "."]
    if window > 1:
        caption = ["Uploads the master used per round against rounds: a centred moving average over "
                   "%d rounds (about a fiftieth of the longest run), the raw per-round counts as faint "
                   "points." % window]
    if xlog:
        caption.append("Log x-axis: the runs' bit totals differ by up to %.0f times (round 0, before "
                       "any bits, is not shown)." % (max(ends) / min(ends)))
    if clip_note:
        caption.append(clip_note)
    caption.append("Encoding: " + enc.describe() + ".")
    hline = (target, "target") if target else None
    return Figure(name, title, xlabel, ylabel, enc, panels=panels, xlog=xlog, ylog=ylog, ylim=ylim,
                  hline=hline, caption=" ".join(caption))


def time_to_target(res, enc):
    """A bar per run: simulated time to the target, grouped as the legend is; None without a
    target."""
    if not res.target:
        return None
    summary = res.summary.set_index("run_id")
    content = []
    for title, members in enc.panels:
        items = []
        members = set(members)
        for header, entries in enc.legend:
            runs = [r for r in enc.runs if r in members and
                    (enc.styles[r].group, enc.styles[r].label) in {(s.group, s.label) for _, s in entries}]
            if not runs:
                continue
            if header and len(entries) > 1:
                items.append((None, header, None, ""))
            for r in runs:
                st = enc.styles[r]
                t = summary.loc[r, "time_to_target_s"]
                sp = summary.loc[r, "speedup_vs_gd"]
                if not (isinstance(t, float) and math.isnan(t)):
                    text = "%.3g s" % t + ("" if math.isnan(sp) else " (%.2f× GD)" % sp)
                    items.append((st, st.label, float(t), text))
                else:
                    reason = summary.loc[r, "stop_reason"]
                    items.append((st, st.label, None,
                                  "diverged" if reason == "diverged" else "not reached (%s)" % reason))
        content.append((title, items))
    caption = ("Simulated time until ‖∇f(xᵏ)‖² ≤ %g, per run, grouped and coloured as in the "
               "convergence plots; the speedup is over the fastest GD run on the same platform."
               % res.target)
    return Figure("time_to_target", "Simulated time to the target", "simulated time to target (s)", "",
                  enc, bars=content, ylog=False, caption=caption)


def breakdown(res, enc, plt):
    """Where the time of an average round went, per run (means over workers): a matplotlib
    figure with the legend outside the axes."""
    parts = [("time_down_s", "waiting for the broadcast"), ("time_compute_s", "computing"),
             ("time_up_s", "uploading"), ("time_idle_s", "waiting for the slowest upload"),
             ("time_master_s", "master")]
    traces = _by_run(res, set(enc.runs))
    names = [r for r in enc.runs if r in traces]
    fig, ax = plt.subplots(figsize=(7.0, 0.26 * len(names) + 1.2))
    left = np.zeros(len(names))
    colours = ["#9ecae1", "#fdae6b", "#3182bd", "#d9d9d9", "#756bb1"]
    for (col, label), colour in zip(parts, colours):
        widths = []
        for r in names:
            t = traces[r]
            rounds = float(t["round"].iloc[-1])
            widths.append(1e3 * float(t[col].iloc[-1]) / rounds if rounds else 0.0)
        ax.barh(names, widths, left=left, label=label, color=colour, height=0.75)
        left = left + np.asarray(widths)
    ax.set_xlabel("simulated ms per round (mean over workers)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.efsim_legend = fig.legend(loc="upper left", bbox_to_anchor=(1.0, 0.98), fontsize=8,
                                  frameon=False)
    return fig
