"""The reports' small figures, drawn in the compendium's style and embedded in the page.

Each figure is written as SVG (text as outlines, so Chinese renders without any font on the
reader's machine: :func:`analysis.plots.style.use_style` registers Noto Sans SC) and embedded
as a ``data:`` URI, so a page is one self-contained file. What is drawn is rounded first
(:func:`analysis.io.outputs.quantize_figure`) and the SVG carries no date and a fixed hash salt,
so the same tables give the same bytes.

* :func:`position_figure`: where a community's score stands among all communities;
* :func:`elements_figure`: its element scores against its type and its efficient peers;
* :func:`overview_figure`: every community's score with its interval (the overview).
"""

from __future__ import annotations

import base64
import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.io.outputs import quantize_figure
from analysis.plots.style import PALETTE, type_colors, use_style
from analysis.reports.data import Run
from analysis.reports.text import Phrases

__all__ = ["WIDTH", "data_uri", "position_figure", "elements_figure", "overview_figure"]

#: Width of every report figure (inches): one column of an A4 page.
WIDTH = 6.3
_GREY, _LIGHT, _HIGHLIGHT = "#7f7f7f", "#c8c8c8", "#111111"


def data_uri(fig) -> str:
    """``fig`` as an SVG ``data:`` URI (reproducible bytes); the figure is closed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str

    Examples
    --------
    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> uri = data_uri(fig)
    >>> uri.startswith("data:image/svg+xml;base64,"), uri == data_uri(plt.subplots(figsize=(2, 1))[0])
    (True, True)
    """
    quantize_figure(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "analysis-reports", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style() -> None:
    use_style()
    matplotlib.rcParams.update({"font.size": 9, "axes.labelsize": 9, "legend.fontsize": 8,
                                "xtick.labelsize": 8, "ytick.labelsize": 8})


def position_figure(run: Run, community: str, p: Phrases):
    """Every community's shrunken score with its 95% interval, ``community`` highlighted.

    Communities are ordered by score; the communities of the same type are drawn in the type's
    colour, the others in grey.

    Parameters
    ----------
    run : Run
    community : str
    p : Phrases

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> fig = position_figure(load_run(paths.ROOT / "data" / "processed"), "C03", Phrases("en"))
    >>> len(fig.axes); plt.close(fig)
    1
    """
    _style()
    r = run.ranks.sort_values(["score_eb", "community_id"], ascending=[False, True], kind="stable")
    x = np.arange(1, len(r) + 1)
    ctype = r["community_type"].astype(str)
    own_type = str(run.ranks.loc[community, "community_type"])
    colour = type_colors(run.ranks["community_type"])[own_type] if run.has_types else _GREY
    fig, ax = plt.subplots(figsize=(WIDTH, 2.1))
    others = r.index != community
    if run.has_types:
        groups = [(others & (ctype != own_type), _LIGHT, p.plain("fig.other_communities")),
                  (others & (ctype == own_type), colour,
                   p.plain("fig.same_type", type=p.term(own_type)))]
    else:
        groups = [(others, _GREY, p.plain("fig.other_communities"))]
    groups.append((r.index == community, _HIGHLIGHT, p.plain("label.this_community")))
    for mask, c, label in groups:
        mask = np.asarray(mask)
        if not mask.any():
            continue
        ax.vlines(x[mask], r["score_eb_lower"][mask], r["score_eb_upper"][mask], color=c,
                  lw=2.2 if c == _HIGHLIGHT else 1.2)
        ax.plot(x[mask], r["score_eb"][mask], "o", color=c, ms=5 if c == _HIGHLIGHT else 3,
                label=label)
    ax.set_xlim(0.3, len(r) + 0.7)
    ax.set_xticks([1, len(r)])
    ax.set_xticklabels([p.plain("fig.highest"), p.plain("fig.lowest")])
    ax.set_ylabel(p.plain("fig.score_axis"))
    ax.grid(axis="x", visible=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, handlelength=1,
              borderaxespad=0.2)
    fig.tight_layout()
    return fig


def elements_figure(table: pd.DataFrame, run: Run, p: Phrases, *, has_peers: bool):
    """A community's element scores (with intervals where known), type mean and peers' mean.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`analysis.reports.compare.element_table`.
    run : Run
    p : Phrases
    has_peers : bool
        Draw the peers' mean.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.compare import element_table
    >>> from analysis.reports.data import load_run
    >>> run = load_run(paths.ROOT / "data" / "processed")
    >>> fig = elements_figure(element_table(run, "C01"), run, Phrases("zh"), has_peers=True)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()][0]
    '多元主体'
    >>> plt.close(fig)
    """
    _style()
    names = [run.element_names[p.labels][e] for e in table["element"]]
    y = np.arange(len(table))[::-1]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.34 * len(table) + 1.1))
    if table["se"].notna().any():
        ax.hlines(y, table["lower"], table["upper"], color=PALETTE[0], lw=2)
    ax.plot(table["type_mean"], y, "D", mfc="white", mec=_GREY, mew=1.4, ms=6,
            label=p.plain("label.type_mean" if run.has_types else "label.all_mean"))
    if has_peers and table["peer_mean"].notna().any():
        ax.plot(table["peer_mean"], y, "s", mfc="white", mec=PALETTE[3], mew=1.4, ms=6,
                label=p.plain("label.peer_mean"))
    ax.plot(table["score"], y, "o", color=PALETTE[0], ms=7, label=p.plain("label.this_community"))
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_ylim(-0.6, len(table) - 0.4)
    ax.set_xlabel(p.plain("fig.score_axis"))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False,
              borderaxespad=0.2)
    fig.tight_layout()
    return fig


def overview_figure(run: Run, p: Phrases):
    """Every community's shrunken score with its 95% interval, ordered by score, by type.

    Parameters
    ----------
    run : Run
    p : Phrases

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> fig = overview_figure(load_run(paths.ROOT / "data" / "processed"), Phrases("en"))
    >>> len(fig.axes[0].get_yticklabels()); plt.close(fig)
    47
    """
    _style()
    r = run.ranks.sort_values(["score_eb", "community_id"], ascending=[True, False], kind="stable")
    y = np.arange(len(r))
    ctype = r["community_type"].astype(str)
    colours = type_colors(ctype) if run.has_types else {t: PALETTE[0] for t in ctype.unique()}
    fig, ax = plt.subplots(figsize=(WIDTH, 0.115 * len(r) + 1.1))
    for t in sorted(ctype.unique()):
        m = np.asarray(ctype == t)
        ax.hlines(y[m], r["score_eb_lower"][m], r["score_eb_upper"][m], color=colours[t], lw=1.3)
        ax.plot(r["score_eb"][m], y[m], "o", color=colours[t], ms=3.5,
                label=p.term(t) if run.has_types else None)
    ax.set_yticks(y)
    ax.set_yticklabels(list(r.index), fontsize=6)
    ax.set_ylim(-0.8, len(r) - 0.2)
    ax.set_xlabel(p.plain("fig.score_axis"))
    ax.grid(axis="y", visible=False)
    if run.has_types:
        ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
