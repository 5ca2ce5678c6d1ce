"""Figures of the community scores: rank bands, radar profiles, element scores by type and
Sobol indices.

They draw the tables of :mod:`analysis.study.scoring`
(:func:`~analysis.study.scoring.composite_index`,
:func:`~analysis.study.scoring.uncertainty_analysis`) on a given (or new) axis and return
the axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# --- figures -------------------------------------------------------------------------------------


def plot_caterpillar(summary: pd.DataFrame, group: str = "community_id", ax=None):
    """Nominal rank (cross), median rank (dot) and 5th-95th percentile band per community.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``UncertaintyResult.summary`` of :func:`analysis.study.scoring.uncertainty_analysis`.
    group : str
        Column naming the communities.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> s = pd.DataFrame({"community_id": ["C1", "C2"], "nominal_rank": [2, 1],
    ...                   "median_rank": [2, 1], "rank_p05": [1, 1], "rank_p95": [2, 2]})
    >>> ax = plot_caterpillar(s)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['C2', 'C1']
    >>> plt.close(ax.figure)
    """
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
    """Radar chart of element scores (0-100) for a few communities, ``{label: community_id}``.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`analysis.study.scoring.composite_index` (``group`` and one column per element).
    communities : mapping of str to str
        Legend label -> community id.
    element_names : sequence of str
        The element columns, one spoke each.
    group : str
        Column naming the communities.
    ax : matplotlib.axes.Axes, optional
        A polar axis; a new one when not given.
    colors : sequence of colours, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> sc = pd.DataFrame({"community_id": ["C1", "C2"], "A": [60, 70], "B": [50, 40],
    ...                    "C": [80, 65]})
    >>> ax = plot_radar(sc, {"best": "C1", "worst": "C2"}, ["A", "B", "C"])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['best (C1)', 'worst (C2)']
    >>> plt.close(ax.figure)
    """
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
    """Element scores of the communities, grouped by community type (box and points).

    Parameters
    ----------
    scores : pandas.DataFrame
        Element scores with the column ``type_col`` (one row per community).
    element_names : sequence of str
        The element columns.
    type_col : str
        Column holding the community type (one box per type and element).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.
    palette : optional
        seaborn palette for the types.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> sc = pd.DataFrame({"community_type": ["a", "a", "b", "b"], "A": [60, 70, 50, 55],
    ...                    "B": [40, 45, 65, 60]})
    >>> ax = plot_elements_by_type(sc, ["A", "B"])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['A', 'B']
    >>> plt.close(ax.figure)
    """
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
    """First-order and total Sobol indices of the rank shift, with 95 % intervals.

    Parameters
    ----------
    sobol : pandas.DataFrame
        ``UncertaintyResult.sobol`` (``factor S1 S1_conf ST ST_conf``).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S. (2010).
    Variance based sensitivity analysis of model output. Design and estimator for the total
    sensitivity index. *Computer Physics Communications*, 181, 259-270.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> sob = pd.DataFrame({"factor": ["weighting", "normalisation"], "S1": [0.5, 0.2],
    ...                     "S1_conf": [0.1, 0.1], "ST": [0.6, 0.3], "ST_conf": [0.1, 0.1]})
    >>> ax = plot_sobol(sob)
    >>> len(ax.patches)
    4
    >>> plt.close(ax.figure)
    """
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
