"""Figures of the improvement-path step: the importance-performance map, what-if
scenarios, the budget frontier and DEA efficiencies. Each function draws on a given axis and
returns it; saving is left to :func:`analysis.io.outputs.savefig`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.plots.style import PALETTE, type_colors

QUADRANT_POS = {"concentrate here": (1, 0), "keep up the good work": (1, 1),
                "low priority": (0, 0), "possible overkill": (0, 1)}


def plot_ipma(table: pd.DataFrame, ax, group="all", level: str = "construct",
              title: str | None = None, min_span: float = 15.0, limits=None,
              reference: str | None = None):
    """Importance (x) against performance (y) for one group, split at the means.

    The performance axis spans at least ``min_span`` points of the 0-100 scale, so that a
    spread of two or three points is not blown up to the full height of the panel. When the
    table carries intervals (:func:`analysis.study.ipma.ipma_intervals`), each element
    gets whiskers (importance: bootstrap interval; performance: 1.96 standard errors) and
    points classed *within noise* are drawn hollow.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`analysis.study.ipma.ipma`.
    ax : matplotlib.axes.Axes
    group : str
        Which ``group`` of the table to draw.
    level : {"construct", "item"}
    title : str, optional
        Default ``"<group>: <level>s"``.
    min_span : float
        Smallest span of the performance axis, in points of the 0-100 scale.
    limits : tuple of float, optional
        ``(x0, x1, y0, y1)``: fixed axes, for panels that must share scales (see
        :func:`ipma_limits`).
    reference : str, optional
        Another group (e.g. ``"all"``) drawn as grey rings for comparison.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        No rows for ``group`` and ``level``.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"group": "all", "level": "construct", "construct": ["A", "B"],
    ...                   "item": "", "importance": [0.2, 0.4], "performance": [60.0, 50.0]})
    >>> fig, ax = plt.subplots()
    >>> plot_ipma(t, ax).get_title()
    'all: constructs'
    >>> plt.close(fig)
    """
    sub = table[(table["group"] == group) & (table["level"] == level)]
    if sub.empty:
        raise ValueError(f"no IPMA rows for group {group!r}, level {level!r}")
    x, y = sub["importance"].to_numpy(), sub["performance"].to_numpy()
    labels = (sub["construct"] if level == "construct" else sub["item"]).to_numpy()
    constructs = list(dict.fromkeys(table.loc[table["level"] == "construct", "construct"]))
    colours = [PALETTE[constructs.index(c) % len(PALETTE)] for c in sub["construct"]]
    if reference is not None and reference != group:
        ref = table[(table["group"] == reference) & (table["level"] == level)]
        ref = ref.set_index(["construct", "item"] if level == "item" else "construct")
        key = list(zip(sub["construct"], sub["item"])) if level == "item" else list(sub["construct"])
        ref = ref.reindex(key)
        ax.scatter(ref["importance"], ref["performance"], s=60, facecolors="none",
                   edgecolors="0.6", zorder=2, label=f"{reference}")
        ax.vlines(x, ref["performance"].to_numpy(), y, color="0.7", lw=0.8, zorder=1)
    size = 60 if level == "construct" else 30
    interval_cols = {"importance_lower", "importance_upper", "performance_se"}
    if level == "construct" and interval_cols <= set(sub.columns):
        # bootstrap interval of the importance, 1.96 standard errors of the performance
        lo, hi = sub["importance_lower"].to_numpy(), sub["importance_upper"].to_numpy()
        half = 1.96 * sub["performance_se"].to_numpy()
        for xi, yi, l, h, e, c in zip(x, y, lo, hi, half, colours):
            ax.errorbar([xi], [yi], xerr=[[xi - l], [h - xi]], yerr=[e], fmt="none", ecolor=c,
                        elinewidth=0.9, capsize=2, alpha=0.8, zorder=2)
    noise = (sub["quadrant"] == "within noise").to_numpy() if "quadrant" in sub else \
        np.zeros(len(sub), bool)
    ax.scatter(x[~noise], y[~noise], c=[c for c, n in zip(colours, noise) if not n], s=size,
               zorder=3)
    if noise.any():  # hollow: the quadrant could flip with another sample of residents
        ax.scatter(x[noise], y[noise], s=size, facecolors="white", zorder=3, linewidths=1.5,
                   edgecolors=[c for c, n in zip(colours, noise) if n])
        ax.scatter([], [], s=size, facecolors="white", edgecolors="0.3", linewidths=1.5,
                   label="within noise")
    for xi, yi, lab in zip(x, y, labels):
        ax.annotate(lab, (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=8)
    mx, my = x.mean(), y.mean()
    ax.axvline(mx, color="grey", lw=0.8, ls="--")
    ax.axhline(my, color="grey", lw=0.8, ls="--")
    if limits is None:
        limits = ipma_limits(sub, min_span=min_span)
    x0, x1, y0, y1 = limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    for name, (right, top) in QUADRANT_POS.items():  # corners, in axes coordinates
        ax.text(0.98 if right else 0.02, 0.98 if top else 0.02, name, transform=ax.transAxes,
                fontsize=8, color="grey", ha="right" if right else "left",
                va="top" if top else "bottom", style="italic")
    ax.set_xlabel("importance (total effect on performance)")
    ax.set_ylabel("performance (0-100)")
    ax.set_title(title if title is not None else f"{group}: {level}s")
    return ax


def ipma_limits(rows: pd.DataFrame, min_span: float = 15.0) -> tuple[float, float, float, float]:
    """Axis limits ``(x0, x1, y0, y1)`` that show every row of an IPMA table.

    The performance range is padded to at least ``min_span`` points, centred on the data.

    Parameters
    ----------
    rows : DataFrame
        ``importance`` and ``performance`` columns (several groups for shared panels).
    min_span : float

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> ipma_limits(pd.DataFrame({"importance": [0.2, 0.4], "performance": [60.0, 62.0]}))
    (0.17, 0.43, 53.5, 68.5)
    """
    x, y = rows["importance"].to_numpy(float), rows["performance"].to_numpy(float)
    if {"importance_lower", "importance_upper", "performance_se"} <= set(rows.columns):
        half = 1.96 * rows["performance_se"].to_numpy(float)  # whiskers stay inside
        x = np.concatenate([rows["importance_lower"].to_numpy(float),
                            rows["importance_upper"].to_numpy(float)])
        y = np.concatenate([y - half, y + half])
    pad_x = 0.15 * (x.max() - x.min() or 1)
    x0, x1 = x.min() - pad_x, x.max() + pad_x
    span = max(1.3 * (y.max() - y.min()), min_span)
    mid = (y.max() + y.min()) / 2
    return (round(float(x0), 6), round(float(x1), 6), round(float(mid - span / 2), 6),
            round(float(mid + span / 2), 6))


def plot_whatif(table: pd.DataFrame, ax):
    """Predicted change in performance per scenario, with bootstrap intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`analysis.study.whatif.whatif` (``scenario delta ci_lower ci_upper``);
        intervals are drawn when none is missing.
    ax : matplotlib.axes.Axes

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"scenario": ["MS +10", "CS +10"], "delta": [2.0, 1.5],
    ...                   "ci_lower": [1.0, 0.5], "ci_upper": [3.0, 2.5]})
    >>> fig, ax = plt.subplots()
    >>> [float(b.get_width()) for b in plot_whatif(t, ax).patches]
    [2.0, 1.5]
    >>> plt.close(fig)
    """
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["delta"], color=PALETTE[0], alpha=0.8)
    if table["ci_lower"].notna().all():
        err = np.vstack([table["delta"] - table["ci_lower"], table["ci_upper"] - table["delta"]])
        ax.errorbar(table["delta"], y, xerr=err, fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(y, table["scenario"])
    ax.set_xlabel("predicted change in performance (points, 0-100)")
    return ax


def plot_frontier(front: pd.DataFrame, ax, budget: float | None = None):
    """Optimal predicted gain against budget, stacked by element.

    Parameters
    ----------
    front : pandas.DataFrame
        :func:`analysis.methods.budget.frontier` (``budget element pv_gain``, with ``total``
        rows, which are not drawn).
    ax : matplotlib.axes.Axes
    budget : float, optional
        Marks the actual budget with a dashed line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.methods.budget import frontier
    >>> front = frontier([0.3, 0.2], [1.0, 2.0], [50.0, 60.0], budgets=[0, 10, 20],
    ...                  names=["A", "B"])
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in plot_frontier(front, ax, budget=10).get_legend().get_texts()]
    ['A', 'B']
    >>> plt.close(fig)
    """
    parts = front[front["element"] != "total"].pivot(index="budget", columns="element",
                                                     values="pv_gain")
    order = list(dict.fromkeys(front.loc[front["element"] != "total", "element"]))
    parts = parts[order]
    ax.stackplot(parts.index, parts.T.to_numpy(), labels=order,
                 colors=PALETTE[:len(order)], alpha=0.85)
    if budget is not None:
        ax.axvline(budget, color="black", lw=0.8, ls="--")
    ax.set_xlabel("budget (10k yuan)")
    ax.set_ylabel("predicted gain in performance (points)")
    ax.legend(loc="upper left", ncols=len(order))
    return ax


def plot_efficiency(eff: pd.DataFrame, ax, types: pd.Series | None = None,
                    colours: dict | None = None):
    """DEA efficiency of every community, ranked: BCC (variable returns, dot) and CCR
    (constant returns, cross) per row, coloured by community type; efficient units are
    named with the number of inefficient communities whose peer set they belong to.

    Parameters
    ----------
    eff : DataFrame
        :func:`analysis.study.improvement.community_efficiency` (``unit efficiency_crs
        efficiency_vrs efficient_vrs peers``).
    ax : matplotlib Axes
    types : Series, optional
        community id -> type.
    colours : dict, optional
        type -> colour (default :func:`analysis.plots.style.type_colors` of ``types``).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> eff = pd.DataFrame({"unit": ["C1", "C2"], "efficiency_crs": [0.8, 1.0],
    ...                     "efficiency_vrs": [0.9, 1.0], "efficient_vrs": [False, True],
    ...                     "peers": ["C2", "C2"]})
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in plot_efficiency(eff, ax).get_yticklabels()]
    ['C1', 'C2  (peer of 1)']
    >>> plt.close(fig)
    """
    e = eff.sort_values(["efficiency_vrs", "efficiency_crs", "unit"],
                        ascending=[True, True, False], kind="stable").reset_index(drop=True)
    y = np.arange(len(e))
    if types is not None:
        colours = colours or type_colors(types)
        col = [colours.get(str(t), "0.5") for t in types.reindex(e["unit"])]
        for t, c in colours.items():
            ax.scatter([], [], color=c, label=t, s=25)
    else:
        col = [PALETTE[0]] * len(e)
    peer_count: dict[str, int] = {}
    for unit, peers in zip(e["unit"], e["peers"].fillna("") if "peers" in e else [""] * len(e)):
        for q in str(peers).split(";"):
            if q and q != unit:
                peer_count[q] = peer_count.get(q, 0) + 1
    ax.hlines(y, e["efficiency_crs"], e["efficiency_vrs"], color="0.75", lw=1, zorder=1)
    ax.scatter(e["efficiency_vrs"], y, c=col, s=28, zorder=3)
    ax.scatter(e["efficiency_crs"], y, c=col, marker="x", s=18, zorder=3, linewidths=1)
    ax.scatter([], [], color="0.3", s=28, label="BCC (variable returns)")
    ax.scatter([], [], color="0.3", marker="x", s=18, label="CCR (constant returns)")
    names = [f"{u}  (peer of {peer_count.get(u, 0)})" if ok else str(u)
             for u, ok in zip(e["unit"], e.get("efficient_vrs", e["efficiency_vrs"] >= 1 - 1e-9))]
    ax.set_yticks(y, names, fontsize=7)
    ax.set_ylim(-0.8, len(e) - 0.2)
    ax.set_xlabel("efficiency (1 = on the frontier)")
    ax.legend(loc="lower right", fontsize=7)
    return ax
