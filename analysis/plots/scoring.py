"""Figures of the community scores: rank bands, radar profiles, element scores by type and
Sobol indices.

They draw the tables of :mod:`analysis.study.scoring`
(:func:`~analysis.study.scoring.composite_index`,
:func:`~analysis.study.rank_uncertainty.uncertainty_analysis`) on a given (or new) axis and return
the axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.plots.style import type_colors

# --- figures -------------------------------------------------------------------------------------


def plot_caterpillar(summary: pd.DataFrame, group: str = "community_id", ax=None,
                     types: pd.Series | None = None, colours: dict | None = None):
    """Nominal rank (cross), median rank (dot) and 5th-95th percentile band per community.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``UncertaintyResult.summary`` of :func:`analysis.study.rank_uncertainty.uncertainty_analysis`.
    group : str
        Column naming the communities.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when not given.
    types : pandas.Series, optional
        Community id -> type: bands and dots take the type's colour and the legend names
        the types.
    colours : dict, optional
        type -> colour (default :func:`analysis.plots.style.type_colors` of ``types``).

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
    from matplotlib.lines import Line2D

    s = summary.sort_values("nominal_rank", kind="stable").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, max(4.0, 0.18 * len(s) + 1)))
    y = np.arange(len(s))
    if types is not None:
        colours = colours or type_colors(types)
        col = [colours.get(str(t), "0.4") for t in types.reindex(s[group])]
    else:
        colours, col = {}, ["#1b6ca8"] * len(s)
    ax.hlines(y, s["rank_p05"], s["rank_p95"], colors=col, lw=2.4, alpha=0.55)
    ax.scatter(s["median_rank"], y, color=col, s=20, zorder=3)
    ax.plot(s["nominal_rank"], y, "x", color="black", ms=5, zorder=4)
    ax.set_yticks(y, s[group], fontsize=8)
    ax.tick_params(axis="x", labelsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("rank across Monte Carlo runs (1 = best)")
    handles = [Line2D([], [], color="0.4", lw=2.4, alpha=0.55, label="5th-95th percentile"),
               Line2D([], [], marker="o", ls="", color="0.4", label="median rank"),
               Line2D([], [], marker="x", ls="", color="black", label="nominal rank")]
    handles += [Line2D([], [], color=c, lw=4, label=t) for t, c in colours.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


def plot_element_heatmap(scores: pd.DataFrame, element_names: Sequence[str],
                         group: str = "community_id", type_col: str = "community_type",
                         ax=None, colours: dict | None = None, overall: str | None = "score"):
    """Element scores (0-100) of every community as a heatmap, communities grouped by type.

    Rows are communities, sorted by type and, within a type, by ``overall`` (best first);
    each cell shows the score; a colour strip at the left marks the community type
    (:func:`analysis.plots.style.type_colors`).

    Parameters
    ----------
    scores : DataFrame
        One row per community: ``group``, ``type_col``, the element columns and ``overall``.
    element_names : sequence of str
    group, type_col : str
    ax : Axes, optional
    colours : dict, optional
        type -> colour.
    overall : str or None
        Column to sort by within a type, also drawn as the last column.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    cols = list(element_names) + ([overall] if overall and overall in scores else [])
    d = scores.sort_values([type_col, overall if overall in scores else group],
                           ascending=[True, False], kind="stable").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.17 * len(d) + 1.5))
    values = d[cols].to_numpy(float)
    im = ax.imshow(values, cmap="RdYlBu", vmin=np.floor(np.nanmin(values) / 5) * 5,
                   vmax=np.ceil(np.nanmax(values) / 5) * 5, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=6)
    colours = colours or type_colors(scores[type_col])
    for i, t in enumerate(d[type_col]):
        ax.add_patch(Rectangle((-1.05, i - 0.5), 0.4, 1, color=colours.get(str(t), "0.5"),
                               clip_on=False))
    starts = [i for i in range(len(d)) if i == 0 or d[type_col].iat[i] != d[type_col].iat[i - 1]]
    for i in starts[1:]:
        ax.axhline(i - 0.5, color="black", lw=1)
    ax.set_xticks(range(len(cols)), cols)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(d)), d[group], fontsize=6.5)
    ax.tick_params(axis="y", pad=14)
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.grid(False)
    for t, c in colours.items():
        ax.scatter([], [], marker="s", color=c, label=t)
    ax.legend(loc="upper left", bbox_to_anchor=(1.25, 1.0), fontsize=8, title=None)
    ax.figure.colorbar(im, ax=ax, label="score (0-100)", shrink=0.5, pad=0.02)
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
    palette = palette or type_colors(order)
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
