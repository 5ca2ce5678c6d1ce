"""Figures of the indicator system (notebook 02): item correlations, parallel analysis, EFA
loadings and the element weights of each weighting scheme.

Each function draws on a given axis and returns it; saving is left to
:func:`analysis.plots.edition.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.plots.style import PALETTE

__all__ = ["plot_item_correlations", "plot_parallel_analysis", "plot_efa_loadings",
           "plot_weights"]


def plot_item_correlations(R: pd.DataFrame, groups: Mapping[str, Sequence[str]], ax,
                           title: str | None = None):
    """Heatmap of an item correlation matrix with the constructs' blocks outlined.

    Parameters
    ----------
    R : DataFrame
        Square correlation matrix, items in construct order.
    groups : mapping
        construct -> its items (in the order of ``R``).
    ax : Axes
    title : str, optional

    Returns
    -------
    Axes
    """
    import seaborn as sns

    sns.heatmap(R, vmin=-1, vmax=1, cmap="RdBu_r", square=True, ax=ax,
                cbar_kws={"label": "Pearson r (pairwise)", "shrink": 0.8})
    for e in np.cumsum([len(groups[c]) for c in groups])[:-1]:
        ax.axhline(e, color="black", lw=0.8)
        ax.axvline(e, color="black", lw=0.8)
    ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return ax


def plot_parallel_analysis(pa: pd.DataFrame, ax, title: str | None = None):
    """Observed eigenvalues against the 95th percentile of random data's (Horn 1965).

    Parameters
    ----------
    pa : DataFrame
        ``factor observed_fa random_fa`` (:func:`analysis.methods.factor.parallel_analysis`).
    ax : Axes
    title : str, optional

    Returns
    -------
    Axes

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30(2), 179-185.
    """
    ax.plot(pa["factor"], pa["observed_fa"], "o-", color=PALETTE[0], label="observed (factors)")
    ax.plot(pa["factor"], pa["random_fa"], "--", color=PALETTE[1], label="random, 95th percentile")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("factor")
    ax.set_ylabel("eigenvalue of the reduced correlation matrix")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_efa_loadings(loadings: pd.DataFrame, ax, title: str | None = None):
    """Annotated heatmap of EFA pattern loadings (items x factors).

    Parameters
    ----------
    loadings : DataFrame
        Items in rows, factors in columns (column labels as they should read).
    ax : Axes
    title : str, optional

    Returns
    -------
    Axes
    """
    import seaborn as sns

    sns.heatmap(loadings, vmin=-1, vmax=1, cmap="RdBu_r", annot=True, fmt=".2f",
                annot_kws={"size": 7}, cbar_kws={"label": "pattern loading"}, ax=ax)
    ax.grid(False)
    ax.set_xlabel("factor (construct whose items load on it)")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return ax


def plot_weights(table: pd.DataFrame, schemes: Sequence[str], ax, element: str = "element",
                 title: str | None = None):
    """Grouped bars: the weight of each element under each weighting scheme.

    Parameters
    ----------
    table : DataFrame
        One row per element: ``element`` and one column per scheme.
    schemes : sequence of str
        The scheme columns to draw, in order.
    ax : Axes
    element : str
    title : str, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> t = pd.DataFrame({"element": ["A", "B"], "equal": [0.5, 0.5], "ahp": [0.7, 0.3]})
    >>> len(plot_weights(t, ["equal", "ahp"], ax).patches)
    4
    >>> plt.close(fig)
    """
    width = 0.8 / len(schemes)
    x = np.arange(len(table))
    for k, s in enumerate(schemes):
        ax.bar(x + (k - (len(schemes) - 1) / 2) * width, table[s], width, label=s,
               color=PALETTE[k % len(PALETTE)])
    ax.set_xticks(x, table[element])
    ax.set_ylabel("element weight (sum of its item weights)")
    if title:
        ax.set_title(title)
    ax.legend(ncol=3, fontsize=8)
    return ax
