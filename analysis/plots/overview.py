"""Describing a survey before analysing it: sample, item distributions, missingness."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.plots.style import PALETTE


def plot_item_distributions(dist: pd.DataFrame):
    """Stacked horizontal bars of answer shares per item, grouped by construct."""
    cats = [c for c in dist.columns if c.isdigit()]
    colours = plt.get_cmap("RdYlBu")(np.linspace(0.1, 0.9, len(cats)))
    fig, ax = plt.subplots(figsize=(7.5, 0.26 * len(dist) + 1.2))
    left = np.zeros(len(dist))
    y = np.arange(len(dist))[::-1]
    for c, col in zip(cats, colours):
        ax.barh(y, dist[c], left=left, color=col, label=c, height=0.8)
        left += dist[c].to_numpy()
    ax.set_yticks(y, dist["item"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of answers (after reverse coding)")
    ax.legend(title="answer", ncols=len(cats), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.grid(False)
    return fig


def plot_missingness(miss: pd.DataFrame):
    """Heatmap of missing shares by item (rows) and community type (columns)."""
    data = miss.set_index("item")
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * len(data) + 1.5))
    im = ax.imshow(data.to_numpy() * 100, aspect="auto", cmap="Greys", vmin=0)
    ax.set_yticks(range(len(data)), data.index)
    ax.set_xticks(range(data.shape[1]), [c.replace(" ", "\n") for c in data.columns], fontsize=8)
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="% missing")
    return fig


def plot_sample(sizes: pd.DataFrame, by: str = "community_type"):
    """Respondents per community, one strip per community type."""
    fig, ax = plt.subplots(figsize=(7, 3))
    for k, (t, g) in enumerate(sizes.groupby(by, sort=False)):
        ax.scatter(g["respondents"], np.full(len(g), k), color=PALETTE[k % len(PALETTE)], s=25)
    ax.set_yticks(range(sizes[by].nunique()), list(dict.fromkeys(sizes[by])))
    ax.set_xlabel("respondents per community")
    return fig
