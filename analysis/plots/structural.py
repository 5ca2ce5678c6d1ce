r"""Figures of the structural model, drawn with matplotlib only (no Graphviz): the path
diagram, a forest plot of indirect effects and latent means by community type.

Each function draws on a given axis and returns it; saving is left to
:func:`analysis.io.outputs.savefig`. Inputs are the tidy tables of :mod:`analysis.sem` and
:mod:`analysis.study.structural`.

The path diagram follows the conventions of RAM graphs (McArdle & McDonald 1984; the
semPlot package of Epskamp 2015 for layout ideas): latent variables as ellipses, observed
items as rectangles, single-headed arrows for regressions and loadings, labelled with
completely standardised coefficients; significance is marked with stars and non-significant
paths are dashed.

Example
-------
>>> import matplotlib.pyplot as plt
>>> from semopy.examples import holzinger39
>>> from analysis.sem import fit_sem
>>> result = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
...                  holzinger39.get_data())
>>> fig, ax = plt.subplots(figsize=(10, 6))
>>> ax = path_diagram(result.estimates, ax)
>>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

from analysis.plots.style import PALETTE, type_colors

__all__ = ["stars", "layered_layout", "path_diagram", "forest_plot", "latent_means_plot"]


def stars(p: float) -> str:
    """``***`` p < .001, ``**`` p < .01, ``*`` p < .05, else ``""`` (NaN: ``""``).

    Parameters
    ----------
    p : float or None
        A p-value.

    Returns
    -------
    str

    Examples
    --------
    >>> [stars(p) for p in (0.0004, 0.004, 0.04, 0.4, float("nan"))]
    ['***', '**', '*', '', '']
    """
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def layered_layout(edges: Sequence[tuple[str, str]], nodes: Sequence[str] | None = None,
                   dx: float = 2.6, dy: float = 1.9) -> dict[str, tuple[float, float]]:
    """Positions from the longest path to each node (causal layers left to right).

    Nodes alone in their layer alternate above and below the centre line so that arrows
    skipping a layer do not run through the node in between; nodes sharing a layer are
    spread vertically. Isolated nodes form layer 0 (e.g. the parallel model's elements).

    Parameters
    ----------
    edges : sequence of (predictor, outcome)
    nodes : sequence, optional
        All nodes (order kept within a layer); default: those in ``edges``.
    dx, dy : float
        Horizontal distance between layers and vertical spacing within a layer.

    Returns
    -------
    dict
        node -> (x, y).

    Raises
    ------
    ValueError
        The edges contain a cycle.

    Examples
    --------
    >>> layered_layout([("a", "b"), ("b", "c")])["c"][0]
    5.2
    """
    nodes = list(dict.fromkeys(list(nodes or []) + [n for e in edges for n in e]))
    preds = {n: [a for a, b in edges if b == n] for n in nodes}
    layer: dict[str, int] = {}

    def depth(n, seen=()):
        if n in seen:
            raise ValueError(f"the edges contain a cycle through {n}")
        if n not in layer:
            layer[n] = 1 + max((depth(p, seen + (n,)) for p in preds[n]), default=-1)
        return layer[n]

    for n in nodes:
        depth(n)
    last = max(layer.values())
    by_layer: dict[int, list[str]] = {}
    for n in nodes:
        by_layer.setdefault(layer[n], []).append(n)
    pos = {}
    flip = 1
    for k in sorted(by_layer):
        members = by_layer[k]
        if len(members) == 1:
            y = 0.0 if k == last else 0.5 * dy * flip
            flip = -flip
            pos[members[0]] = (k * dx, y)
        else:
            ys = np.linspace(1, -1, len(members)) * dy * (len(members) - 1) / 2 * (
                1.3 if len(members) == 2 else 1.0)
            for n, y in zip(members, ys):
                pos[n] = (k * dx, float(y))
    return pos


def _segment_distance(p, a, b) -> float:
    p, a, b = (np.asarray(v, float) for v in (p, a, b))
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1)
    return float(np.hypot(*(p - (a + t * ab))))


def _ellipse_reach(u, half_w: float, half_h: float) -> float:
    """Distance from an ellipse's centre to its boundary along the unit vector ``u``."""
    return 1.0 / max(np.hypot(u[0] / half_w, u[1] / half_h), 1e-12)


def _label_spot(a, b, placed, centres, segments=(), min_gap: float = 0.75,
                min_line: float = 0.3, reach: float = 0.0, aspect: float = 2.4,
                head: float = 0.3, node_size: tuple[float, float] = (1.0, 0.55)
                ) -> tuple[float, float]:
    """A point on the arrow a-b for a coefficient label, away from earlier labels, nodes,
    the other arrows and the arrowhead.

    Only the visible part of the arrow counts (``reach`` = how far the nodes extend from
    the centres along it, plus ``head`` for the arrowhead at ``b``); fractions 0.5, 0.4,
    0.6, 0.32, 0.68, 0.25 of that part are
    tried and the first whose distance to every placed label is at least ``min_gap`` and
    to every other arrow at least ``min_line`` is kept (else the one with the most room).
    Distances stretch the vertical by ``aspect``, the width-to-height ratio of a label, so
    a line passing just above or below a label counts as touching it.
    """
    (x0, y0), (x1, y1) = a, b
    length = max(np.hypot(x1 - x0, y1 - y0), 1e-9)
    t0 = min(reach / length, 0.45)
    t1 = max(1 - (reach + head) / length, t0 + 0.05)
    best, best_d = None, -np.inf
    scale = np.array([1.0, aspect])
    for f in (0.5, 0.4, 0.6, 0.32, 0.68, 0.25):
        t = t0 + f * (t1 - t0)
        p = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
        ps = np.asarray(p) * scale
        d_lab = min((np.hypot(p[0] - q[0], (p[1] - q[1]) * 1.8) for q in placed), default=9.0)
        d_node = min(np.hypot((p[0] - c[0]) / node_size[0], (p[1] - c[1]) / node_size[1])
                     for c in centres)
        d_line = min((_segment_distance(ps, np.asarray(s0) * scale, np.asarray(s1) * scale)
                      for s0, s1 in segments
                      if (tuple(s0), tuple(s1)) != (tuple(a), tuple(b))), default=9.0)
        d = min(d_lab / min_gap, d_node, d_line / min_line)
        if d >= 1:
            return p
        if d > best_d:
            best, best_d = p, d
    return best


def _rows(estimates: pd.DataFrame, op: str) -> pd.DataFrame:
    est = estimates
    if "group" in est.columns:
        raise ValueError("path_diagram draws single-group fits; pass one group's rows")
    return est[est["op"] == op]


def path_diagram(estimates: pd.DataFrame, ax, *, show_items: bool = False,
                 positions: Mapping[str, tuple[float, float]] | None = None,
                 show_covariances: bool = False, colours: Mapping[str, str] | None = None,
                 title: str | None = None, digits: int = 2):
    r"""Draw the structural model with completely standardised coefficients.

    Parameters
    ----------
    estimates : DataFrame
        ``SEMResult.estimates`` (``lhs op rhs est pvalue std_all``) of a single-group fit.
    ax : matplotlib Axes
    show_items : bool
        Also draw the indicators (rectangles) with their standardised loadings.
    positions : mapping, optional
        latent -> (x, y); default :func:`layered_layout` of the regressions.
    show_covariances : bool
        Draw covariances among latent variables as curved two-headed arrows.
    colours : mapping, optional
        latent -> face colour; default: the compendium's palette.
    title : str, optional
    digits : int
        Decimals of the coefficients.

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        No latent variables or regressions, or ``positions`` lacking a latent variable.

    Notes
    -----
    Each endogenous latent shows its R-squared (1 minus the standardised residual
    variance). Stars: * p < .05, ** p < .01, *** p < .001 (z test of the unstandardised
    estimate); non-significant paths are dashed and grey.

    References
    ----------
    McArdle, J. J. & McDonald, R. P. (1984). Some algebraic properties of the reticular action
    model for moment structures. *British Journal of Mathematical and Statistical Psychology*,
    37, 234-251 (RAM graph conventions).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> fit = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
    ...               holzinger39.get_data())
    >>> fig, ax = plt.subplots(figsize=(10, 6))
    >>> ax = path_diagram(fit.estimates, ax, show_items=True)
    >>> any(t.get_text().startswith("0.") for t in ax.texts)  # standardised coefficients
    True
    >>> plt.close(fig)
    """
    meas = _rows(estimates, "=~")
    regs = _rows(estimates, "~")
    lv = list(dict.fromkeys(list(meas["lhs"]) + list(regs["lhs"]) + list(regs["rhs"])))
    lv = [v for v in lv if v in set(meas["lhs"]) or v in set(regs["lhs"])]
    if not lv:
        raise ValueError("no latent variables or regressions to draw")
    edges = list(zip(regs["rhs"], regs["lhs"]))
    pos = dict(positions) if positions is not None else layered_layout(edges, lv)
    missing = [v for v in lv if v not in pos]
    if missing:
        raise ValueError(f"positions lack {missing}")
    colours = dict(colours or {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(lv)})
    W, H = 1.25, 0.72
    patches = {}
    var = _rows(estimates, "~~")
    resid = {r.lhs: r.std_all for r in var.itertuples() if r.lhs == r.rhs}
    endo = set(regs["lhs"])
    node_texts = []  # (text, largest height as a share of the ellipse's height)
    for v in lv:
        x, y = pos[v]
        e = Ellipse((x, y), W, H, facecolor=colours.get(v, "white"), edgecolor="black",
                    lw=1.2, alpha=0.9, zorder=3)
        ax.add_patch(e)
        patches[v] = e
        has_r2 = v in endo and v in resid
        node_texts.append((ax.text(x, y + (0.1 if has_r2 else 0), v, ha="center",
                                   va="center", fontsize=12, fontweight="bold",
                                   color="white", zorder=4), 0.36))
        if has_r2:
            node_texts.append((ax.text(x, y - 0.17, f"R² = {1 - resid[v]:.2f}", ha="center",
                                       va="center", fontsize=8, color="white", zorder=4),
                               0.24))
    # items
    extent = [np.array(p) for p in pos.values()]
    if show_items:
        cx = np.mean([p[0] for p in pos.values()])
        for v in lv:
            items = meas[meas["lhs"] == v]
            if items.empty:
                continue
            x, y = pos[v]
            k = len(items)
            bw, bh, gap = 0.46, 0.3, 0.16
            if y == 0 and abs(x - cx) > 1e-9:  # on the centre line: a column beside it
                side = 1 if x > cx else -1
                xs = np.full(k, x + side * 1.35)
                ys = y - (np.arange(k) - (k - 1) / 2) * (bh + gap)
            else:
                side = 1 if y >= 0 else -1
                xs = x + (np.arange(k) - (k - 1) / 2) * (bw + gap)
                ys = np.full(k, y + side * 1.05)
            for r, xi, yi in zip(items.itertuples(), xs, ys):
                rect = Rectangle((xi - bw / 2, yi - bh / 2), bw, bh, facecolor="white",
                                 edgecolor="0.3", lw=0.8, zorder=3)
                ax.add_patch(rect)
                ax.text(xi, yi, r.rhs, ha="center", va="center", fontsize=7, zorder=4)
                arr = FancyArrowPatch(patchA=patches[v], patchB=rect, posA=(x, y),
                                      posB=(xi, yi), arrowstyle="-|>", mutation_scale=8,
                                      lw=0.6, color="0.45", zorder=2, shrinkA=0, shrinkB=0)
                ax.add_patch(arr)
                # halfway between the ellipse's edge and the box's edge
                L = max(np.hypot(xi - x, yi - y), 1e-9)
                u = ((xi - x) / L, (yi - y) / L)
                t_e = _ellipse_reach(u, W / 2, H / 2) / L
                t_b = 1 - min(bw / 2 / max(abs(u[0]), 1e-9), bh / 2 / max(abs(u[1]), 1e-9)) / L
                t = (t_e + t_b) / 2
                mx, my = x + t * (xi - x), y + t * (yi - y)
                ax.text(mx, my, f"{r.std_all:.{digits}f}", fontsize=6.5, ha="center",
                        va="center", color="0.25", zorder=5,
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
                extent.append(np.array([xi, yi]))
    # regressions
    placed: list[tuple[float, float]] = []
    segments = [(pos[r.rhs], pos[r.lhs]) for r in regs.itertuples()]
    for r in regs.itertuples():
        a, b = r.rhs, r.lhs
        (x0, y0), (x1, y1) = pos[a], pos[b]
        sig = np.isfinite(r.pvalue) and r.pvalue < 0.05
        arr = FancyArrowPatch(patchA=patches[a], patchB=patches[b], posA=(x0, y0),
                              posB=(x1, y1), arrowstyle="-|>", mutation_scale=16,
                              lw=1.8 if sig else 1.0, color="black" if sig else "0.55",
                              linestyle="-" if sig else (0, (4, 3)), zorder=2,
                              shrinkA=0, shrinkB=2)
        ax.add_patch(arr)
        L = max(np.hypot(x1 - x0, y1 - y0), 1e-9)
        reach = _ellipse_reach(((x1 - x0) / L, (y1 - y0) / L), W / 2, H / 2) + 0.12
        lx, ly = _label_spot((x0, y0), (x1, y1), placed, list(pos.values()), segments,
                             reach=reach)
        placed.append((lx, ly))
        ax.text(lx, ly, f"{r.std_all:.{digits}f}{stars(r.pvalue)}", ha="center",
                va="center", fontsize=9, zorder=6,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="0.7", lw=0.5))
    if show_covariances:
        xs_, ys_ = [q[0] for q in pos.values()], [q[1] for q in pos.values()]
        k = len(lv)
        extent += _correlation_table(ax, var, lv, digits, left=min(xs_) - 1.2 - 1.05 * k,
                                     top=max(ys_))
    pts = np.array(extent)
    ax.set_xlim(pts[:, 0].min() - 1.0, pts[:, 0].max() + 1.0)
    ax.set_ylim(pts[:, 1].min() - 0.8, pts[:, 1].max() + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    _fit_node_texts(ax, node_texts, H)
    if title:
        ax.set_title(title)
    ax.text(0.0, 0.0, "standardised coefficients (std.all); * p<.05, ** p<.01, *** p<.001; "
            "dashed: not significant", transform=ax.transAxes, fontsize=7, color="0.35",
            va="top")
    return ax


def _fit_node_texts(ax, node_texts, height: float) -> None:
    """Shrink the names and R² inside the ellipses so that they stay inside them at the
    axis' scale (points per data unit, aspect equal)."""
    fig = ax.figure
    w_in, h_in = fig.get_size_inches() * np.array(ax.get_position().size)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    ppu = 72 * min(w_in / abs(x1 - x0), h_in / abs(y1 - y0))
    for text, share in node_texts:
        text.set_fontsize(min(text.get_fontsize(), share * height * ppu))


def _correlation_table(ax, var: pd.DataFrame, lv: Sequence[str], digits: int, left: float,
                       top: float, cell: tuple[float, float] = (1.05, 0.55)) -> list:
    """The latent covariances (standardised: correlations) as a lower-triangular table in
    data coordinates left of the diagram, instead of tangled two-headed arcs. Returns the
    corners of the table (for the axis limits)."""
    cov = var[(var["lhs"] != var["rhs"]) & var["lhs"].isin(lv) & var["rhs"].isin(lv)]
    if cov.empty:
        return []
    names = [v for v in lv if v in set(cov["lhs"]) | set(cov["rhs"])]
    look = {}
    for r in cov.itertuples():
        look[(r.lhs, r.rhs)] = look[(r.rhs, r.lhs)] = (r.std_all, r.pvalue)
    cw, ch = cell
    x_lab = left + 0.45
    ax.text(left, top + 0.15, "correlations of the latent variables", fontsize=8,
            color="0.25", ha="left", va="bottom")
    for i, a in enumerate(names[1:], start=1):
        yi = top - i * ch
        ax.text(x_lab, yi, a, ha="right", va="center", fontsize=8, fontweight="bold")
        for j, b in enumerate(names[:i]):
            if (a, b) in look:
                r_, p_ = look[(a, b)]
                ax.text(x_lab + (j + 0.55) * cw, yi, f"{r_:.{digits}f}{stars(p_)}",
                        ha="center", va="center", fontsize=7, color="0.15")
    for j, b in enumerate(names[:-1]):
        ax.text(x_lab + (j + 0.55) * cw, top - 0.35 * ch, b, ha="center", va="center",
                fontsize=8, fontweight="bold")
    return [np.array([left, top + 0.4]),
            np.array([x_lab + len(names) * cw, top - len(names) * ch])]


def forest_plot(eff: pd.DataFrame, ax, *, effects: Sequence[str] = ("specific",),
                kinds: Sequence[str] = ("perc", "bca"), colours: Mapping[str, str] | None = None,
                title: str | None = None):
    """Point estimates and bootstrap intervals of (indirect) effects, one row per path.

    Parameters
    ----------
    eff : DataFrame
        :func:`analysis.study.structural.effects` with CIs from
        :func:`analysis.study.structural.attach_bootstrap` (``ci_lower_<kind>``, ``ci_upper_<kind>``).
    ax : matplotlib Axes
    effects : which ``effect`` rows to show (``specific``, ``indirect``, ``total``, ``direct``)
    kinds : interval kinds to draw (slightly offset; the first solid, the second hollow)
    colours : mapping element -> colour
    title : str, optional

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        No rows of the requested effects, or intervals of a kind missing.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> eff = pd.DataFrame({"element": ["MS", "CS"], "effect": "specific",
    ...                     "path": ["MS -> CS -> PV", "CS -> OM -> PV"],
    ...                     "name": ["ind_MS_CS", "ind_CS_OM"], "est": [0.05, 0.08],
    ...                     "ci_lower_perc": [0.01, 0.03], "ci_upper_perc": [0.09, 0.13]})
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in forest_plot(eff, ax, kinds=("perc",)).get_yticklabels()]
    ['MS -> CS -> PV', 'CS -> OM -> PV']
    >>> plt.close(fig)
    """
    sub = eff[eff["effect"].isin(effects) & (eff["name"] != "")].reset_index(drop=True)
    if sub.empty:
        raise ValueError(f"no rows with effect in {list(effects)}")
    for k in kinds:
        if f"ci_lower_{k}" not in sub.columns:
            raise ValueError(f"no {k!r} intervals: run attach_bootstrap first")
    els = list(dict.fromkeys(sub["element"]))
    colours = dict(colours or {e: PALETTE[i % len(PALETTE)] for i, e in enumerate(els)})
    y = np.arange(len(sub))[::-1].astype(float)
    off = np.linspace(0.15, -0.15, len(kinds)) if len(kinds) > 1 else [0.0]
    names = {"perc": "percentile", "bca": "BCa"}
    for j, (k, o) in enumerate(zip(kinds, off)):
        lo, hi = sub[f"ci_lower_{k}"].to_numpy(), sub[f"ci_upper_{k}"].to_numpy()
        c = [colours[e] for e in sub["element"]]
        ax.hlines(y + o, lo, hi, colors=c, lw=1.6 if j == 0 else 1.0)
        ax.scatter(sub["est"], y + o, c=c if j == 0 else "white", edgecolors=c, s=22, zorder=3,
                   label=f"95% {names.get(k, k)} interval")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(sub["path"] if effects == ("specific",) else
                       sub["path"].where(~sub["path"].str.startswith("("),
                                         sub["element"] + " " + sub["effect"]), fontsize=8)
    ax.set_xlabel("unstandardised effect on the outcome (bootstrap 95% intervals)")
    ax.grid(axis="y", visible=False)
    leg = ax.legend(loc="upper right", fontsize=8)
    for h in leg.legend_handles:
        h.set_edgecolor("0.3")
    if title:
        ax.set_title(title)
    return ax


def latent_means_plot(means: pd.DataFrame, ax, *, truth: pd.DataFrame | None = None,
                      colours: Mapping[str, str] | None = None, title: str | None = None):
    """Latent mean differences from the reference group, in pooled latent SD units.

    Parameters
    ----------
    means : DataFrame
        :func:`analysis.study.heterogeneity.latent_means` (``construct group est ci_lower ci_upper d``);
        the reference group (all zeros) is drawn as the zero line.
    ax : matplotlib Axes
    truth : DataFrame, optional
        ``construct group true_d`` (:func:`analysis.study.heterogeneity.implied_type_means`), drawn as
        open diamonds.
    colours : mapping group -> colour
        Default :func:`analysis.plots.style.type_colors` of the groups, as in every figure.
    title : str, optional

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        If ``means`` lacks the columns above.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> means = pd.DataFrame({"construct": ["A", "B", "A", "B"],
    ...                       "group": ["ref", "ref", "g2", "g2"],
    ...                       "est": [0.0, 0.0, 0.3, -0.2], "ci_lower": [0.0, 0.0, 0.1, -0.4],
    ...                       "ci_upper": [0.0, 0.0, 0.5, 0.0], "d": [0.0, 0.0, 0.4, -0.25]})
    >>> fig, ax = plt.subplots()
    >>> latent_means_plot(means, ax).get_ylabel().splitlines()[0]
    'latent mean minus ref'
    >>> plt.close(fig)
    """
    need = {"construct", "group", "est", "ci_lower", "ci_upper", "d"}
    if not need <= set(means.columns):
        raise ValueError(f"means lack columns {sorted(need - set(means.columns))}")
    ref = means.groupby("group", sort=False)["est"].apply(lambda s: bool((s == 0).all()))
    ref_group = [g for g, r in ref.items() if r]
    sub = means[~means["group"].isin(ref_group)]
    constructs = list(dict.fromkeys(means["construct"]))
    groups = list(dict.fromkeys(sub["group"]))
    all_groups = list(dict.fromkeys(means["group"]))
    colours = dict(colours or type_colors(all_groups))   # the types' colours of every figure
    width = 0.8 / max(len(groups), 1)
    for j, g in enumerate(groups):
        s = sub[sub["group"] == g].set_index("construct").reindex(constructs)
        x = np.arange(len(constructs)) + (j - (len(groups) - 1) / 2) * width
        scale = s["d"] / s["est"]
        lo, hi = s["ci_lower"] * scale, s["ci_upper"] * scale
        ax.errorbar(x, s["d"], yerr=[s["d"] - lo, hi - s["d"]], fmt="o", color=colours[g],
                    capsize=2, ms=5, lw=1.2, label=g)
        if truth is not None:
            t = truth[truth["group"] == g].set_index("construct").reindex(constructs)
            ax.scatter(x, t["true_d"], marker="D", facecolors="none", edgecolors=colours[g],
                       s=28, zorder=4, label="_nolegend_")
    ax.axhline(0, color="0.3", lw=0.9)
    ax.set_xticks(np.arange(len(constructs)))
    ax.set_xticklabels(constructs)
    ref_txt = ref_group[0] if ref_group else "group 1"
    ax.set_ylabel(f"latent mean minus {ref_txt}\n(pooled latent SD units, 95% CI)")
    if truth is not None:
        ax.scatter([], [], marker="D", facecolors="none", edgecolors="0.3", s=28,
                   label="population value")
    ax.legend(fontsize=8, ncol=2, loc="best")
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return ax


def twolevel_paths_plot(paths: pd.DataFrame, ax, *, title: str | None = None):
    """Within- and between-community paths of a two-level chain, side by side.

    Each structural path is a row; the within-community estimate (filled) and the
    between-community estimate (open) are drawn with their 95% Wald intervals. With loadings
    equal across levels the two levels' latent variables share a metric, so the
    unstandardised paths are comparable (Jak 2019).

    Parameters
    ----------
    paths : DataFrame
        :func:`analysis.study.multilevel.twolevel_paths` (``predictor outcome est_within
        ci_lower_within ci_upper_within est_between ci_lower_between ci_upper_between``).
    ax : matplotlib Axes
    title : str, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> p = pd.DataFrame({"predictor": ["A"], "outcome": ["B"], "est_within": [0.5],
    ...                   "ci_lower_within": [0.4], "ci_upper_within": [0.6],
    ...                   "est_between": [0.7], "ci_lower_between": [0.1],
    ...                   "ci_upper_between": [1.3]})
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in twolevel_paths_plot(p, ax).get_yticklabels()]
    ['A → B']
    >>> plt.close(fig)
    """
    need = {"predictor", "outcome"} | {f"{a}_{lvl}" for a in ("est", "ci_lower", "ci_upper")
                                       for lvl in ("within", "between")}
    missing = sorted(need - set(paths.columns))
    if missing:
        raise ValueError(f"twolevel_paths_plot: columns {missing} missing")
    y = np.arange(len(paths))[::-1].astype(float)
    # neutral colours: PALETTE's entries are the community types' colours in other figures
    styles = (("within", -0.15, "0.15", "0.15", "within communities (residents)"),
              ("between", 0.15, "white", "0.45", "between communities"))
    for lvl, off, face, edge, name in styles:
        ax.hlines(y + off, paths[f"ci_lower_{lvl}"], paths[f"ci_upper_{lvl}"], colors=edge,
                  lw=1.6)
        ax.scatter(paths[f"est_{lvl}"], y + off, facecolors=face, edgecolors=edge, s=30,
                   zorder=3, label=name)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{p} → {o}" for p, o in zip(paths["predictor"], paths["outcome"])])
    ax.set_xlabel("unstandardised path (95% intervals; loadings equal across levels)")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    return ax
