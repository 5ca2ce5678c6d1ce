"""Scoring communities: composite index, fuzzy grades, TOPSIS, and uncertainty of the ranks.

The steps follow the OECD/JRC *Handbook on Constructing Composite Indicators* (Nardo et al.
2008): residents' answers are averaged per community (justified by :mod:`analysis.methods.agreement`),
each indicator (item) is normalised, weighted and aggregated into five element scores and one
overall performance score; the ranking is then stress-tested by a Monte Carlo over the
methodological choices with Sobol sensitivity indices (Saisana, Saltelli & Tarantola 2005).

Communities with fewer than ``k`` respondents are never scored: they are listed as suppressed
(statistical disclosure control), so no published number describes a handful of residents.

All data shipped with the compendium are synthetic; no score here is a result of the original
study.

References
----------
Nardo, M., Saisana, M., Saltelli, A., Tarantola, S., Hoffman, A., & Giovannini, E. (2008).
*Handbook on Constructing Composite Indicators: Methodology and User Guide*. OECD/JRC.

Saisana, M., Saltelli, A., & Tarantola, S. (2005). Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators. *Journal of the Royal
Statistical Society A*, 168(2), 307-323.

Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making*. Springer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# --- figures -------------------------------------------------------------------------------------


def plot_caterpillar(summary: pd.DataFrame, group: str = "community_id", ax=None):
    """Nominal rank (cross), median rank (dot) and 5th-95th percentile band per community."""
    import matplotlib.pyplot as plt

    s = summary.sort_values("nominal_rank", kind="stable").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, max(4.0, 0.16 * len(s) + 1)))
    y = np.arange(len(s))
    ax.hlines(y, s["rank_p05"], s["rank_p95"], color="#1b6ca8", lw=2, alpha=0.6,
              label="5th-95th percentile")
    ax.plot(s["median_rank"], y, "o", color="#1b6ca8", ms=4, label="median rank")
    ax.plot(s["nominal_rank"], y, "x", color="#d1495b", ms=5, label="nominal rank")
    ax.set_yticks(y, s[group], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("rank across Monte Carlo runs (1 = best)")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_radar(scores: pd.DataFrame, communities: Mapping[str, str], element_names: Sequence[str],
               group: str = "community_id", ax=None, colors: Sequence[str] | None = None):
    """Radar chart of element scores (0-100) for a few communities, ``{label: community_id}``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5), subplot_kw={"projection": "polar"})
    angles = np.linspace(0, 2 * np.pi, len(element_names), endpoint=False)
    closed = np.r_[angles, angles[:1]]
    colors = colors or ["#1b6ca8", "#edae49", "#d1495b", "#00798c", "#66a182"]
    s = scores.set_index(group)
    for (label, cid), c in zip(communities.items(), colors):
        v = s.loc[cid, list(element_names)].to_numpy(float)
        ax.plot(closed, np.r_[v, v[:1]], color=c, lw=1.5, label=f"{label} ({cid})")
        ax.fill(closed, np.r_[v, v[:1]], color=c, alpha=0.12)
    ax.set_xticks(angles, list(element_names))
    ax.set_ylim(0, 100)
    ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=8)
    return ax


def plot_elements_by_type(scores: pd.DataFrame, element_names: Sequence[str],
                          type_col: str = "community_type", ax=None, palette=None):
    """Element scores of the communities, grouped by community type (box and points)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    long = scores.melt(id_vars=[type_col], value_vars=list(element_names),
                       var_name="element", value_name="element score")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, 4.5))
    order = sorted(long[type_col].unique())
    sns.boxplot(data=long, x="element", y="element score", hue=type_col, hue_order=order,
                ax=ax, palette=palette, fliersize=0, linewidth=0.8)
    # a swarm, not a jittered strip: no random numbers, so the figure is byte-reproducible
    sns.swarmplot(data=long, x="element", y="element score", hue=type_col, hue_order=order,
                  ax=ax, palette=palette, dodge=True, size=2.5, legend=False,
                  edgecolor="k", linewidth=0.3)
    ax.legend(title=None, fontsize=8, ncol=2, loc="lower left")
    return ax


def plot_sobol(sobol: pd.DataFrame, ax=None):
    """First-order and total Sobol indices of the rank shift, with 95 % intervals."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    x = np.arange(len(sobol))
    ax.bar(x - 0.2, sobol["S1"], 0.4, yerr=sobol["S1_conf"], label="first order $S_i$",
           color="#1b6ca8", capsize=3)
    ax.bar(x + 0.2, sobol["ST"], 0.4, yerr=sobol["ST_conf"], label="total $S_{Ti}$",
           color="#edae49", capsize=3)
    ax.set_xticks(x, sobol["factor"], rotation=15)
    ax.set_ylabel("share of rank-shift variance")
    ax.axhline(0, color="k", lw=0.6)
    ax.legend()
    return ax
