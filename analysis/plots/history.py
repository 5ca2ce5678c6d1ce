"""Figures of the history step: the policy milestones on a timeline with the fitted stage
boundaries, and the value orientations by stage.

They draw the tables of :mod:`analysis.study.history` on a given (or new) axis and return
the axis. Text is in English: no CJK font is assumed to be available to matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.io.corpus import STAGES
from analysis.plots.style import PALETTE

# --------------------------------------------------------------------------------------------
# Figures (English text: no CJK font is assumed to be available to matplotlib)
# --------------------------------------------------------------------------------------------

def plot_timeline(table: pd.DataFrame, fitted: pd.DataFrame, ax=None, colors=None):
    """Timeline of milestones coloured by hand-assigned stage, with fitted boundaries.

    Rows are the hand-assigned stages; filled markers where the coder agrees, open where it
    does not, grey crosses for unverified (U) items. Shaded bands show where every optimal
    segmentation puts each fitted boundary; dashed lines the study's stage changes.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`analysis.study.history.coded_corpus_table` with the corpus' ``year``
        (``stage_hand``, ``agree``, ``status``, ``year``).
    fitted : pandas.DataFrame
        :func:`analysis.study.history.fit_periodisation` (``after_year``, ``before_year``).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.
    colors : sequence of colours, optional
        One per stage; default the compendium's palette.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.io.corpus import load_corpus, load_stage_codebook
    >>> from analysis.study.history import code_corpus, coded_corpus_table, fit_periodisation
    >>> corpus = load_corpus()
    >>> coded = code_corpus(corpus, load_stage_codebook())
    >>> table = coded_corpus_table(corpus, coded).merge(corpus[["id", "year"]], on="id")
    >>> ax = plot_timeline(table, fit_periodisation(corpus.merge(coded, on="id")))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Management', 'Service', 'Construction', 'Governance']
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt


    colors = colors or PALETTE[:4]
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 3.6))
    ypos = {s: i for i, s in enumerate(STAGES)}
    for s in STAGES:
        d = table[table["stage_hand"] == s]
        col = colors[ypos[s]]
        for agree, face in ((True, col), (False, "white")):
            e = d[(d["agree"] == agree) & (d["status"] != "U")]
            ax.scatter(e["year"], [ypos[s]] * len(e), s=46, facecolors=face, edgecolors=col,
                           linewidths=1.4, zorder=3)
        u = d[d["status"] == "U"]
        ax.scatter(u["year"], [ypos[s]] * len(u), marker="x", color="0.4", zorder=3)
    for _, b in fitted.iterrows():
        ax.axvspan(b["after_year"], b["before_year"], color="0.85", zorder=0)
    study = table.sort_values("year")
    change = study["stage_hand"].ne(study["stage_hand"].shift()) & study.index.isin(
        study.index[1:])
    years = study["year"].to_numpy()
    for i in np.flatnonzero(change.to_numpy()):
        ax.axvline((years[i - 1] + years[i]) / 2, color="0.3", linestyle="--", linewidth=1,
                   zorder=1)
    ax.set_yticks(range(4), [s.capitalize() for s in STAGES])
    ax.set_ylim(-0.6, 3.6)
    ax.set_xlabel("Year")
    ax.set_title("Policy milestones by hand-assigned stage; grey bands: fitted boundaries "
                 "(coder), dashed: study's stage changes", fontsize=9)
    from matplotlib.lines import Line2D
    legend = [Line2D([], [], marker="o", linestyle="", color="0.3", label="coder agrees"),
              Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                     markeredgecolor="0.3", label="coder differs"),
              Line2D([], [], marker="x", linestyle="", color="0.4", label="unverified (U)")]
    ax.legend(handles=legend, loc="lower right", fontsize=8)
    if "id" in table.columns:
        _label_milestones(table, ax, ypos)
    return ax


def _label_milestones(table: pd.DataFrame, ax, ypos) -> None:
    """Number every milestone beside its marker and list the numbers with their titles
    under the axis (one line each)."""
    t = table.sort_values(["year", "id"], kind="stable").reset_index(drop=True)
    last: dict[str, float] = {}
    for k, r in enumerate(t.itertuples(), start=1):
        yv = ypos[r.stage_hand]
        near = r.year - last.get(r.stage_hand, -1e9) < 2.5
        last[r.stage_hand] = r.year
        ax.annotate(str(k), (r.year, yv), xytext=(0, 7 if not near or k % 2 else -11),
                    textcoords="offset points", ha="center", fontsize=6.5, color="0.2")
    if "title_en" not in t.columns:
        return
    fig = ax.figure
    n = len(t)
    key = fig.add_axes((0.0, -0.09 - 0.026 * n, 1.0, 0.026 * n))
    key.axis("off")
    key.set_xlim(0, 1)
    key.set_ylim(n, 0)
    for k, r in enumerate(t.itertuples()):
        key.text(0.0, k + 0.5, f"{k + 1}", fontsize=6.5, va="center", ha="right")
        key.text(0.01, k + 0.5, f"{str(r.date)[:7]}", fontsize=6.5, va="center", color="0.3")
        key.text(0.075, k + 0.5, str(r.title_en), fontsize=6.5, va="center")


def plot_value_heatmap(counts: pd.DataFrame, ax=None):
    r"""Heatmap of a stage x value-orientation count table, shaded by row share, annotated.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`analysis.study.history.value_by_stage` (stages x value orientations, counts).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> counts = pd.DataFrame([[6, 0], [1, 3]], index=["management", "service"],
    ...                       columns=["control_stability", "welfare_services"])
    >>> ax = plot_value_heatmap(counts)
    >>> ax.texts[0].get_text()
    '6\n(100%)'
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    tot = counts.sum(axis=1).replace(0, np.nan)
    share = counts.div(tot, axis=0).fillna(0.0)
    im = ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            val = share.iat[i, j]
            ax.text(j, i, f"{counts.iat[i, j]}\n({val:.0%})", ha="center", va="center",
                    fontsize=8, color="white" if val > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), [c.replace("_", "\n") for c in counts.columns])
    ax.set_yticks(range(counts.shape[0]), [s.capitalize() for s in counts.index])
    ax.set_xlabel("Value orientation (term occurrences)")
    ax.set_ylabel("Hand-assigned stage")
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, label="share of the stage's value terms")
    return ax
