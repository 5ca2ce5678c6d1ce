"""Figures describing the survey before it is analysed: answer distributions, missingness,
sample sizes.

They draw the tables of :mod:`analysis.study.describe`
(:func:`~analysis.study.describe.item_distribution`,
:func:`~analysis.study.describe.missingness`,
:func:`~analysis.study.describe.respondents_per_community`) and return a new figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.plots.style import type_colors


def plot_item_distributions(dist: pd.DataFrame, anchors=None):
    """Diverging stacked bars of answer shares per item, grouped by construct.

    Disagreement extends left of zero and agreement right of it; the middle category is
    split in half across zero (Robbins & Heiberger 2011), so items compare at a glance.

    Parameters
    ----------
    dist : DataFrame
        :func:`analysis.study.describe.item_distribution` (``item construct 1 2 ... k``).
    anchors : sequence of str, optional
        Verbal labels of the categories, lowest first, e.g. from the codebook's
        ``value_labels`` (default: the category codes, since a survey's scale may be of
        agreement, satisfaction or frequency).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Robbins, N. B., & Heiberger, R. M. (2011). Plotting Likert and other rating scales.
    *Proceedings of the Joint Statistical Meetings*, 1058-1066.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> from analysis.study.describe import item_distribution
    >>> cb = load_codebook()
    >>> fig = plot_item_distributions(item_distribution(load_survey(codebook=cb), cb))
    >>> len(fig.axes[0].get_yticklabels())
    25
    >>> plt.close(fig)
    """
    cats = [c for c in dist.columns if c.isdigit()]
    k = len(cats)
    if anchors is None:
        anchors = cats
    anchors = [f"{c} {a}" if a != c else c for c, a in zip(cats, anchors)]
    colours = plt.get_cmap("RdBu")(np.linspace(0.12, 0.88, k))
    if k % 2:
        colours[k // 2] = (0.82, 0.82, 0.82, 1.0)
    shares = dist[cats].to_numpy(float)
    mid = k // 2
    neg = shares[:, :mid].sum(axis=1) + (shares[:, mid] / 2 if k % 2 else 0)
    fig, ax = plt.subplots(figsize=(8.0, 0.26 * len(dist) + 1.6))
    y = np.arange(len(dist))[::-1]
    left = -neg
    for j, (c, col) in enumerate(zip(cats, colours)):
        ax.barh(y, shares[:, j], left=left, color=col, label=anchors[j], height=0.78,
                edgecolor="white", linewidth=0.3)
        left = left + shares[:, j]
    ax.axvline(0, color="0.2", lw=0.8)
    ax.set_yticks(y, dist["item"], fontsize=8)
    lim = min(1.0, np.ceil(max(neg.max(), (1.0 - neg).max()) * 10) / 10 + 0.02)
    ax.set_xlim(-lim, lim)
    ticks = np.arange(-1.0, 1.01, 0.25)
    ticks = ticks[np.abs(ticks) <= lim + 1e-9]
    ax.set_xticks(ticks, [f"{abs(t):.0%}" for t in ticks])
    ax.set_xlabel("share of answers (after reverse coding): low answers to the left, high to the right")
    if "construct" in dist.columns:
        cons = dist["construct"].to_numpy()
        starts = [i for i in range(len(cons)) if i == 0 or cons[i] != cons[i - 1]]
        for i in starts[1:]:
            ax.axhline(y[i] + 0.5, color="0.5", lw=0.6)
        for n, i in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(cons)
            ax.text(1.01, (y[i] + y[end - 1]) / 2, cons[i], transform=ax.get_yaxis_transform(),
                    va="center", ha="left", fontsize=9, fontweight="bold")
    ax.legend(ncols=k, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8,
              handlelength=1.2, columnspacing=0.9)
    ax.grid(False)
    return fig


def plot_missingness(miss: pd.DataFrame):
    """Heatmap of missing shares by item (rows) and community type (columns).

    Parameters
    ----------
    miss : pandas.DataFrame
        :func:`analysis.study.describe.missingness` (``item`` and one share column per group).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> miss = pd.DataFrame({"item": ["A1", "A2"], "all": [0.01, 0.03], "type a": [0.0, 0.05]})
    >>> fig = plot_missingness(miss)
    >>> fig.axes[0].images[0].get_array().shape
    (2, 2)
    >>> plt.close(fig)
    """
    data = miss.set_index("item")
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * len(data) + 1.5))
    im = ax.imshow(data.to_numpy() * 100, aspect="auto", cmap="Greys", vmin=0)
    ax.set_yticks(range(len(data)), data.index)
    ax.set_xticks(range(data.shape[1]), [c.replace(" ", "\n") for c in data.columns], fontsize=8)
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="% missing")
    return fig


def plot_sample(sizes: pd.DataFrame, by: str = "community_type"):
    """Respondents per community, one strip per community type.

    Parameters
    ----------
    sizes : pandas.DataFrame
        :func:`analysis.study.describe.respondents_per_community` (``respondents`` and ``by``).
    by : str
        The grouping column (one strip per level).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> sizes = pd.DataFrame({"community_type": ["a", "a", "b"], "respondents": [30, 25, 40]})
    >>> fig = plot_sample(sizes)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    >>> plt.close(fig)
    """
    fig, ax = plt.subplots(figsize=(7, 3))
    colours = type_colors(sizes[by])
    for k, (t, g) in enumerate(sizes.groupby(by, sort=False)):
        ax.scatter(g["respondents"], np.full(len(g), k), color=colours[str(t)], s=25)
    ax.set_yticks(range(sizes[by].nunique()), list(dict.fromkeys(sizes[by])))
    ax.set_xlabel("respondents per community")
    return fig
