"""Figures of the improvement-path step: the importance-performance map, what-if
scenarios, the budget frontier and DEA efficiencies. Each function draws on a given axis and
returns it; saving is left to :func:`analysis.io.outputs.savefig`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.plots.style import PALETTE

QUADRANT_POS = {"concentrate here": (1, 0), "keep up the good work": (1, 1),
                "low priority": (0, 0), "possible overkill": (0, 1)}


def plot_ipma(table: pd.DataFrame, ax, group="all", level: str = "construct",
              title: str | None = None):
    """Importance (x) against performance (y) for one group, split at the means."""
    sub = table[(table["group"] == group) & (table["level"] == level)]
    if sub.empty:
        raise ValueError(f"no IPMA rows for group {group!r}, level {level!r}")
    x, y = sub["importance"].to_numpy(), sub["performance"].to_numpy()
    labels = (sub["construct"] if level == "construct" else sub["item"]).to_numpy()
    constructs = list(dict.fromkeys(table.loc[table["level"] == "construct", "construct"]))
    colours = [PALETTE[constructs.index(c) % len(PALETTE)] for c in sub["construct"]]
    ax.scatter(x, y, c=colours, s=60 if level == "construct" else 30, zorder=3)
    for xi, yi, lab in zip(x, y, labels):
        ax.annotate(lab, (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=8)
    mx, my = x.mean(), y.mean()
    ax.axvline(mx, color="grey", lw=0.8, ls="--")
    ax.axhline(my, color="grey", lw=0.8, ls="--")
    pad_x = 0.15 * (x.max() - x.min() or 1)
    pad_y = 0.15 * (y.max() - y.min() or 1)
    x0, x1 = x.min() - pad_x, x.max() + pad_x
    y0, y1 = y.min() - pad_y, y.max() + pad_y
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


def plot_whatif(table: pd.DataFrame, ax):
    """Predicted change in performance per scenario, with bootstrap intervals."""
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["delta"], color=PALETTE[0], alpha=0.8)
    if table["ci_lower"].notna().all():
        err = np.vstack([table["delta"] - table["ci_lower"], table["ci_upper"] - table["delta"]])
        ax.errorbar(table["delta"], y, xerr=err, fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(y, table["scenario"])
    ax.set_xlabel("predicted change in performance (points, 0-100)")
    return ax


def plot_frontier(front: pd.DataFrame, ax, budget: float | None = None):
    """Optimal predicted gain against budget, stacked by element."""
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


def plot_efficiency(eff: pd.DataFrame, ax, types: pd.Series | None = None):
    """CRS against VRS efficiency per community (scale efficiency is their ratio)."""
    colours = PALETTE[0]
    if types is not None:
        levels = sorted(types.unique())
        colours = [PALETTE[levels.index(t) % len(PALETTE)] for t in types.reindex(eff["unit"])]
        for i, t in enumerate(levels):
            ax.scatter([], [], color=PALETTE[i % len(PALETTE)], label=t)
        ax.legend(loc="lower right", fontsize=8)
    ax.scatter(eff["efficiency_crs"], eff["efficiency_vrs"], c=colours, s=25, zorder=3)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("CCR efficiency (constant returns)")
    ax.set_ylabel("BCC efficiency (variable returns)")
    return ax
