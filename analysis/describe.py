"""Describing a survey before analysing it: sample, item distributions, missingness."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .codebook import construct_items
from .figures import PALETTE


def sample_by_type(survey: pd.DataFrame, by: str = "community_type") -> pd.DataFrame:
    """Communities and respondents per community type (or any grouping column).

    Examples
    --------
    >>> from analysis.survey import load_survey
    >>> sample_by_type(load_survey())["communities"].sum()
    48
    """
    sizes = survey.groupby([by, "community_id"]).size()
    g = sizes.groupby(level=0)
    out = pd.DataFrame({"communities": g.size(), "respondents": g.sum(),
                        "median_size": g.median(), "min_size": g.min(), "max_size": g.max()})
    out.loc["all"] = [sizes.size, sizes.sum(), sizes.median(), sizes.min(), sizes.max()]
    return out.astype(int).rename_axis(by).reset_index()


def item_distribution(survey: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Share of answers in each scale category per item (missing answers excluded).

    Items are as analysed, i.e. after reverse coding. Returns a wide table: one row per
    item, one column per category, plus ``n`` and ``mean``.
    """
    lo, hi = int(codebook["scale_min"].min()), int(codebook["scale_max"].max())
    items = codebook["item"].tolist()
    counts = {it: survey[it].value_counts().reindex(range(lo, hi + 1), fill_value=0)
              for it in items}
    out = pd.DataFrame(counts).T
    n = out.sum(axis=1)
    out = out.div(n, axis=0)
    out.columns = [str(c) for c in out.columns]
    out.insert(0, "construct", codebook.set_index("item").loc[items, "construct"])
    out["n"] = n.astype(int)
    out["mean"] = survey[items].mean()
    return out.rename_axis("item").reset_index()


def missingness(survey: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Share of missing answers per item, overall and by community type."""
    items = codebook["item"].tolist()
    miss = survey[items].isna()
    out = miss.groupby(survey["community_type"]).mean().T if "community_type" in survey else None
    overall = miss.mean().rename("all")
    res = pd.concat([overall, out], axis=1) if out is not None else overall.to_frame()
    return res.rename_axis("item").reset_index()


def missing_patterns(survey: pd.DataFrame, codebook: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The most frequent missingness patterns (which items are missing together)."""
    items = codebook["item"].tolist()
    miss = survey[items].isna()
    labels = miss.apply(lambda r: ", ".join(np.array(items)[r.to_numpy()]) or "(complete)", axis=1)
    counts = labels.value_counts()
    out = pd.DataFrame({"pattern": counts.index, "respondents": counts.to_numpy()})
    out["share"] = out["respondents"] / len(survey)
    out = out.sort_values(["respondents", "pattern"], ascending=[False, True], kind="mergesort")
    return out.head(top).reset_index(drop=True).assign(
        n_patterns=counts.size)


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


def community_sizes(survey: pd.DataFrame, by: str = "community_type") -> pd.DataFrame:
    """Respondents per community with its type."""
    return (survey.groupby([by, "community_id"], sort=False).size()
            .rename("respondents").reset_index())
