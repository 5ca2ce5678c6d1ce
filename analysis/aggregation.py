"""Justifying aggregation of resident responses to communities: ICC(1), ICC(2) and rwg(j).

A community score is the mean of its residents' answers. That mean describes the community
only if residents of one community agree more than residents of different communities
(ICC(1)), if the mean is reliable at the observed group sizes (ICC(2)), and if residents
within a community agree with each other beyond what random answering would give (rwg(j)).
Definitions follow Bliese (2000) and the R package ``multilevel`` (``ICC1``, ``ICC2`` on an
``aov`` fit; ``rwg.j``), which is the reference the tests check against.

References
----------
Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability: Implications
for data aggregation and analysis. In K. J. Klein & S. W. J. Kozlowski (Eds.), *Multilevel
theory, research, and methods in organizations* (pp. 349-381). Jossey-Bass.

James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater reliability
with and without response bias. *Journal of Applied Psychology*, 69(1), 85-98.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "icc",
    "rwg_j",
    "uniform_null_variance",
    "construct_scores",
    "aggregation_table",
    "community_sizes",
]

#: Conventional thresholds (Bliese 2000; LeBreton & Senter 2008) quoted in the tables.
RWG_THRESHOLD = 0.70
ICC2_THRESHOLD = 0.70


def uniform_null_variance(n_options: int) -> float:
    """Variance of a discrete uniform answer on an ``A``-point scale, ``(A^2 - 1) / 12``.

    This is the expected within-group variance if residents answered at random, the null
    against which rwg compares the observed variance (James, Demaree & Wolf 1984).

    Examples
    --------
    >>> uniform_null_variance(5)
    2.0
    """
    if isinstance(n_options, bool) or not isinstance(n_options, (int, np.integer)) or n_options < 2:
        raise ValueError(f"n_options must be an integer >= 2 (points on the scale), got {n_options!r}")
    return (n_options**2 - 1) / 12.0


def _as_groups(groups, n: int, what: str) -> pd.Series:
    g = pd.Series(np.asarray(groups), name="group")
    if len(g) != n:
        raise ValueError(f"groups has {len(g)} entries but {what} has {n}")
    bad = g.index[g.isna()]
    if len(bad):
        raise ValueError(f"groups has missing labels at rows {list(bad[:5])}")
    return g


def icc(values, groups) -> dict:
    """ICC(1) and ICC(2) from a one-way ANOVA of ``values`` on ``groups``.

    ``ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW)`` with ``k`` the mean group size
    (``N / J``), and ``ICC(2) = (MSB - MSW) / MSB``, the reliability of the group means
    (Bliese 2000). Missing values are dropped first, as ``aov`` does; this matches
    ``multilevel::ICC1`` and ``multilevel::ICC2`` exactly, including unbalanced groups.

    Parameters
    ----------
    values : array-like of float
        One value per respondent (an item or a scale score).
    groups : array-like
        Group label per respondent (e.g. ``community_id``).

    Returns
    -------
    dict
        ``icc1``, ``icc2``, ``f`` (ANOVA F), ``p_value``, ``msb``, ``msw``, ``df_between``,
        ``df_within``, ``n`` (non-missing respondents), ``n_groups`` and ``mean_group_size``.

    Examples
    --------
    >>> r = icc([1, 2, 1, 4, 5, 4], ["a", "a", "a", "b", "b", "b"])
    >>> round(r["icc1"], 4), round(r["icc2"], 4)
    (0.9294, 0.9753)
    """
    x = pd.Series(np.asarray(values, dtype=float)).reset_index(drop=True)
    g = _as_groups(groups, len(x), "values")
    keep = x.notna()
    x, g = x[keep], g[keep]
    n = len(x)
    counts = g.value_counts()
    n_groups = len(counts)
    if n_groups < 2 or n - n_groups < 1:
        raise ValueError(f"icc needs at least 2 groups and more respondents than groups "
                         f"(got {n} non-missing values in {n_groups} groups)")
    means = x.groupby(g).transform("mean")
    ssw = float(((x - means) ** 2).sum())
    ssb = float(((means - x.mean()) ** 2).sum())
    df_b, df_w = n_groups - 1, n - n_groups
    msb, msw = ssb / df_b, ssw / df_w
    if msb == 0:
        raise ValueError("icc is undefined: all group means are equal (between-group mean square is 0)")
    k = n / n_groups
    f = msb / msw if msw > 0 else np.inf
    return {
        "icc1": (msb - msw) / (msb + (k - 1) * msw),
        "icc2": (msb - msw) / msb,
        "f": f,
        "p_value": float(stats.f.sf(f, df_b, df_w)),
        "msb": msb,
        "msw": msw,
        "df_between": df_b,
        "df_within": df_w,
        "n": n,
        "n_groups": n_groups,
        "mean_group_size": k,
    }


def rwg_j(items, groups, n_options: int) -> pd.Series:
    """Multi-item within-group agreement rwg(j) per group (James, Demaree & Wolf 1984).

    For a group with ``J`` items and mean observed item variance ``s``,
    ``rwg(j) = J (1 - s/σ²) / (J (1 - s/σ²) + s/σ²)`` with the uniform null variance
    ``σ² = (A² - 1) / 12``. As in ``multilevel::rwg.j``: respondents with any missing item are
    dropped (listwise), ``s`` is truncated at ``σ²`` (so rwg(j) lies in [0, 1]), and a group
    with a single respondent gets NaN.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Respondents x items of one construct, on an ``n_options``-point scale.
    groups : array-like
        Group label per respondent.
    n_options : int
        Number of answer options ``A`` (5 for a 1-5 Likert item).

    Returns
    -------
    pandas.Series
        One rwg(j) per group (index: group label, sorted), name ``"rwg_j"``.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"a": [4, 4, 5, 1, 5, 3], "b": [4, 5, 5, 2, 4, 1]})
    >>> rwg_j(items, ["x", "x", "x", "y", "y", "y"], n_options=5).round(4).tolist()
    [0.9091, 0.0]
    """
    null = uniform_null_variance(n_options)
    X = pd.DataFrame(items).reset_index(drop=True)
    if X.shape[1] < 1:
        raise ValueError("rwg_j needs at least one item column")
    g = _as_groups(groups, len(X), "items")
    complete = X.notna().all(axis=1)
    X, g = X[complete].astype(float), g[complete]
    out = {}
    for label, block in X.groupby(g, sort=True):
        if len(block) < 2:
            out[label] = np.nan
            continue
        s = min(float(block.var(ddof=1).mean()), null)
        ratio = s / null
        J = X.shape[1]
        out[label] = J * (1 - ratio) / (J * (1 - ratio) + ratio)
    res = pd.Series(out, name="rwg_j", dtype=float)
    res.index.name = "group"
    return res


def construct_scores(survey: pd.DataFrame, items_by_construct: Mapping[str, Sequence[str]],
                     min_items: int = 1) -> pd.DataFrame:
    """Respondent scale scores: the mean of each construct's available items.

    A respondent with fewer than ``min_items`` answered items on a construct gets NaN for it.

    Examples
    --------
    >>> df = pd.DataFrame({"A1": [1, 2], "A2": [3, None]})
    >>> construct_scores(df, {"A": ["A1", "A2"]})["A"].tolist()
    [2.0, 2.0]
    """
    out = {}
    for construct, cols in items_by_construct.items():
        missing = [c for c in cols if c not in survey.columns]
        if missing:
            raise KeyError(f"construct {construct}: item columns {missing} not in the survey")
        block = survey[list(cols)].astype(float)
        score = block.mean(axis=1)
        score[block.notna().sum(axis=1) < min_items] = np.nan
        out[construct] = score
    return pd.DataFrame(out, index=survey.index)


def community_sizes(survey: pd.DataFrame, group: str = "community_id", k: int = 5) -> pd.DataFrame:
    """Respondents per community and whether the community is suppressed (``n < k``).

    Returns a tidy frame: ``group``, ``n_respondents``, ``suppressed``.
    """
    if group not in survey.columns:
        raise KeyError(f"column {group!r} not in the survey")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    n = survey.groupby(group, sort=True).size().rename("n_respondents").reset_index()
    n["suppressed"] = n["n_respondents"] < k
    return n


def aggregation_table(survey: pd.DataFrame, items_by_construct: Mapping[str, Sequence[str]], *,
                      group: str = "community_id", n_options: int = 5, k: int = 5) -> pd.DataFrame:
    """Aggregation statistics per construct: ICC(1), ICC(2), F test and rwg(j) summary.

    ICC uses respondents' scale scores (mean of available items) in all communities; the
    rwg(j) summary is over communities with at least ``k`` respondents, since a
    community-level agreement value from fewer residents is not published.

    Returns
    -------
    pandas.DataFrame
        One row per construct: ``construct``, ``icc1``, ``icc2``, ``f``, ``p_value``,
        ``rwg_j_median``, ``rwg_j_mean``, ``rwg_j_min``, ``share_rwg_ge_070`` and
        ``n_groups_rwg`` (communities entering the rwg(j) summary).
    """
    scores = construct_scores(survey, items_by_construct)
    sizes = community_sizes(survey, group, k)
    published = set(sizes.loc[~sizes["suppressed"], group])
    rows = []
    for construct, cols in items_by_construct.items():
        r = icc(scores[construct], survey[group])
        agree = rwg_j(survey[list(cols)], survey[group], n_options)
        agree = agree[agree.index.isin(published)].dropna()
        rows.append({
            "construct": construct,
            "icc1": r["icc1"], "icc2": r["icc2"], "f": r["f"], "p_value": r["p_value"],
            "rwg_j_median": agree.median(), "rwg_j_mean": agree.mean(), "rwg_j_min": agree.min(),
            "share_rwg_ge_070": float((agree >= RWG_THRESHOLD).mean()),
            "n_groups_rwg": len(agree),
        })
    return pd.DataFrame(rows)
