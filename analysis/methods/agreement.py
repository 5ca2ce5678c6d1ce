"""Agreement: between two coders (Cohen's kappa) and among residents of a group (ICC, rwg(j)).

* Coder agreement: :func:`confusion_table`, :func:`agreement_weights`,
  :func:`kappa_from_table` and :func:`cohen_kappa` give Cohen's unweighted and weighted
  kappa with the large-sample standard errors of Fleiss, Cohen & Everitt (1969), as
  ``psych::cohen.kappa``.
* Within-group agreement, the justification for averaging residents' answers per
  community: :func:`icc` (ICC(1), ICC(2); Bliese 2000, as ``multilevel::ICC1``/``ICC2``),
  :func:`rwg_j` (James, Demaree & Wolf 1984, as ``multilevel::rwg.j``) with its
  :func:`uniform_null_variance`, and :func:`aggregation_table` which reports both per
  construct from :func:`scale_scores`; :func:`group_sizes` applies the disclosure threshold.

References
----------
Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
Psychological Measurement*, 20, 37-46.
Cohen, J. (1968). Weighted kappa. *Psychological Bulletin*, 70, 213-220.
Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Large sample standard errors of kappa and
weighted kappa. *Psychological Bulletin*, 72, 323-327.
James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group interrater
reliability with and without response bias. *Journal of Applied Psychology*, 69, 85-98.
Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In K. J.
Klein & S. W. J. Kozlowski (Eds.), *Multilevel Theory, Research, and Methods in
Organizations* (pp. 349-381). Jossey-Bass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

# --------------------------------------------------------------------------------------------
# Agreement: Cohen's kappa
# --------------------------------------------------------------------------------------------

def confusion_table(reference, coded, categories=None) -> pd.DataFrame:
    """Cross-tabulate two codings: rows the reference, columns the coder, all categories kept.

    Parameters
    ----------
    reference, coded : array-like of str
        Labels for the same documents, in the same order.
    categories : sequence of str, optional
        Row/column order; default the reference's labels in first-seen order, then any other
        labels of ``coded``. Labels outside ``categories`` raise an error.

    Returns
    -------
    pandas.DataFrame
        Counts (int), index named ``reference``, columns named ``coded``.

    Raises
    ------
    ValueError
        The codings differ in length, or use labels outside ``categories``.

    Examples
    --------
    >>> confusion_table(["a", "a", "b"], ["a", "b", "b"]).to_numpy().tolist()
    [[1, 1], [0, 1]]
    """
    ref = pd.Series(list(reference), dtype=object)
    cod = pd.Series(list(coded), dtype=object)
    if len(ref) != len(cod):
        raise ValueError(f"the two codings differ in length: {len(ref)} and {len(cod)}")
    if categories is None:
        categories = list(dict.fromkeys(list(ref) + list(cod)))
    categories = list(categories)
    for name, s in (("reference", ref), ("coded", cod)):
        extra = sorted(set(s) - set(categories))
        if extra:
            raise ValueError(f"{name} labels {extra} are not among the categories {categories}")
    k = len(categories)
    pos = {c: i for i, c in enumerate(categories)}
    table = np.zeros((k, k), dtype=int)
    for a, b in zip(ref, cod):
        table[pos[a], pos[b]] += 1
    return pd.DataFrame(table, index=pd.Index(categories, name="reference"),
                        columns=pd.Index(categories, name="coded"))


def agreement_weights(k: int, kind: str | None) -> np.ndarray:
    """Agreement weights for ``k`` ordered categories: 1 on the diagonal.

    ``None`` gives the identity (unweighted kappa); ``"linear"`` 1 - |i-j|/(k-1);
    ``"quadratic"`` 1 - (i-j)^2/(k-1)^2 (Fleiss & Cohen 1973; psych's default, expressed there
    as disagreement weights (i-j)^2).

    Parameters
    ----------
    k : int
        Number of categories.
    kind : {None, "linear", "quadratic"}

    Returns
    -------
    numpy.ndarray, shape (k, k)

    Raises
    ------
    ValueError
        For another ``kind``.

    References
    ----------
    Cohen, J. (1968). Weighted kappa. *Psychological Bulletin*, 70, 213-220.
    Fleiss, J. L. & Cohen, J. (1973). The equivalence of weighted kappa and the intraclass
    correlation coefficient as measures of reliability. *Educational and Psychological
    Measurement*, 33, 613-619.

    Examples
    --------
    >>> agreement_weights(3, "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """
    if kind is None:
        return np.eye(k)
    d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / max(k - 1, 1)
    if kind == "linear":
        return 1.0 - d
    if kind == "quadratic":
        return 1.0 - d ** 2
    raise ValueError(f"weights must be None, 'linear', 'quadratic' or a matrix, got {kind!r}")


def kappa_from_table(table, weights=None, n: float | None = None,
                     alpha: float = 0.05) -> pd.DataFrame:
    """Cohen's (weighted) kappa with its large-sample standard error from a square table.

    kappa_w = (p_o - p_e) / (1 - p_e) with p_o = sum w_ij p_ij, p_e = sum w_ij p_i. p_.j
    (Cohen 1960; Cohen 1968 for agreement weights w, 1 on the diagonal). The standard error
    is the non-null large-sample one of Fleiss, Cohen & Everitt (1969, eq. 13 and its
    unweighted special case), which is the multinomial delta-method variance:

    var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2]
          / (n (1 - p_e)^2),  wbar_i. = sum_j p_.j w_ij,  wbar_.j = sum_i p_i. w_ij.

    The Wald interval kappa +/- z se is clipped to [-1, 1] (as psych::cohen.kappa does).

    Parameters
    ----------
    table : array-like (k, k)
        Counts or proportions; rows rater 1, columns rater 2.
    weights : None, "linear", "quadratic" or array (k, k)
        Agreement weights (similarities, 1 on the diagonal); ``None`` is unweighted kappa.
    n : float, optional
        Number of subjects; required when ``table`` holds proportions (sums to 1).
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``n, kappa, se, ci_low, ci_high, p_observed, p_expected``.

    References
    ----------
    Cohen, J. (1960). Educ. Psychol. Meas. 20, 37-46. Cohen, J. (1968). Psychol. Bull. 70,
    213-220. Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Psychol. Bull. 72, 323-327.

    Examples
    --------
    >>> t = [[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]  # Cohen (1968)
    >>> print(round(kappa_from_table(t, n=200).loc[0, "kappa"], 3))
    0.492
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"table must be square, got shape {t.shape}")
    if (t < 0).any() or t.sum() <= 0:
        raise ValueError("table must hold non-negative counts or proportions with a positive sum")
    if n is None:
        if np.isclose(t.sum(), 1.0) and not np.allclose(t, np.round(t)):
            raise ValueError("table holds proportions: give the number of subjects n")
        n = t.sum()
    k = t.shape[0]
    w = (agreement_weights(k, weights) if weights is None or isinstance(weights, str)
         else np.asarray(weights, dtype=float))
    if w.shape != (k, k):
        raise ValueError(f"weights must be {k} x {k}, got {w.shape}")
    p = t / t.sum()
    row, col = p.sum(axis=1), p.sum(axis=0)
    p_o = float((w * p).sum())
    p_e = float((w * np.outer(row, col)).sum())
    if np.isclose(p_e, 1.0):
        raise ValueError("expected agreement is 1 (one category only): kappa is undefined")
    kappa = (p_o - p_e) / (1.0 - p_e)
    wbar_row = w @ col  # wbar_i.
    wbar_col = row @ w  # wbar_.j
    inner = w - (wbar_row[:, None] + wbar_col[None, :]) * (1.0 - kappa)
    var = ((p * inner ** 2).sum() - (kappa - p_e * (1.0 - kappa)) ** 2) / (n * (1.0 - p_e) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    return pd.DataFrame([{"n": float(n), "kappa": kappa, "se": se,
                          "ci_low": max(kappa - z * se, -1.0), "ci_high": min(kappa + z * se, 1.0),
                          "p_observed": p_o, "p_expected": p_e}])


def cohen_kappa(reference, coded, categories=None, weights=None,
                alpha: float = 0.05) -> pd.DataFrame:
    """Cohen's kappa between two codings of the same documents, with a confidence interval.

    Parameters
    ----------
    reference, coded : array-like of str
        The two codings (e.g. hand-assigned and dictionary-coded stage).
    categories : sequence of str, optional
        All categories, in order (the order matters for weighted kappa). Labels a coder never
        used still count (they affect nothing but the table's shape); labels outside the
        list raise an error.
    weights : None, "linear", "quadratic" or array
        See :func:`kappa_from_table`.
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``n, kappa, se, ci_low, ci_high, p_observed, p_expected``.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
    Psychological Measurement*, 20, 37-46.
    Cohen, J. (1968). Weighted kappa. *Psychological Bulletin*, 70, 213-220.

    Examples
    --------
    >>> print(cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "a"]).loc[0, "kappa"])
    0.5
    """
    table = confusion_table(reference, coded, categories)
    return kappa_from_table(table.to_numpy(), weights=weights, alpha=alpha)

__all__ = [
    "confusion_table",
    "agreement_weights",
    "kappa_from_table",
    "cohen_kappa",
    "icc",
    "rwg_j",
    "uniform_null_variance",
    "scale_scores",
    "aggregation_table",
    "group_sizes",
]

#: Conventional thresholds (Bliese 2000; LeBreton & Senter 2008) quoted in the tables.
RWG_THRESHOLD = 0.70
ICC2_THRESHOLD = 0.70


def uniform_null_variance(n_options: int) -> float:
    """Variance of a discrete uniform answer on an ``A``-point scale, ``(A^2 - 1) / 12``.

    This is the expected within-group variance if residents answered at random, the null
    against which rwg compares the observed variance (James, Demaree & Wolf 1984).

    Parameters
    ----------
    n_options : int
        Number of answer options ``A`` (at least 2).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``n_options`` is not an integer of at least 2.

    References
    ----------
    James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. *Journal of Applied Psychology*, 69, 85-98.

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

    Raises
    ------
    ValueError
        Fewer than two groups, no more respondents than groups, a missing group label, or
        equal group means (ICC undefined).

    References
    ----------
    Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In K. J.
    Klein & S. W. J. Kozlowski (Eds.), *Multilevel Theory, Research, and Methods in
    Organizations* (pp. 349-381). Jossey-Bass.

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

    References
    ----------
    James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. *Journal of Applied Psychology*, 69, 85-98.

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


def scale_scores(survey: pd.DataFrame, items_by_construct: Mapping[str, Sequence[str]],
                     min_items: int = 1) -> pd.DataFrame:
    """Respondent scale scores: the mean of each construct's available items.

    A respondent with fewer than ``min_items`` answered items on a construct gets NaN for it.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (items recoded).
    items_by_construct : mapping of str to sequence of str
        Construct -> its item columns (e.g. :func:`analysis.io.codebook.construct_items`).
    min_items : int
        Fewest answered items for a score.

    Returns
    -------
    pandas.DataFrame
        One column per construct, indexed like ``survey``.

    Raises
    ------
    KeyError
        Naming the construct and the item columns missing from ``survey``.

    Examples
    --------
    >>> df = pd.DataFrame({"A1": [1, 2], "A2": [3, None]})
    >>> scale_scores(df, {"A": ["A1", "A2"]})["A"].tolist()
    [2.0, 2.0]
    >>> scale_scores(df, {"A": ["A1", "A2"]}, min_items=2)["A"].tolist()
    [2.0, nan]
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


def group_sizes(survey: pd.DataFrame, group: str = "community_id", k: int = 5) -> pd.DataFrame:
    """Respondents per community and whether the community is suppressed (``n < k``).

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level data with the column ``group``.
    group : str
        Column holding the community id.
    k : int
        Disclosure threshold: communities with fewer respondents are suppressed.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``group``, ``n_respondents``, ``suppressed``, sorted by group.

    Raises
    ------
    KeyError
        If ``group`` is not a column of ``survey``.
    ValueError
        If ``k`` is not a positive integer.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["a", "a", "a", "b"]})
    >>> group_sizes(df, k=2).to_dict("records")
    [{'community_id': 'a', 'n_respondents': 3, 'suppressed': False}, {'community_id': 'b', 'n_respondents': 1, 'suppressed': True}]
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

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (items recoded) with the column ``group``.
    items_by_construct : mapping of str to sequence of str
        Construct -> its item columns.
    group : str
        Column holding the community id.
    n_options : int
        Number of answer options of the items (for the rwg(j) null variance).
    k : int
        Disclosure threshold for the rwg(j) summary.

    Returns
    -------
    pandas.DataFrame
        One row per construct: ``construct``, ``icc1``, ``icc2``, ``f``, ``p_value``,
        ``rwg_j_median``, ``rwg_j_mean``, ``rwg_j_min``, ``share_rwg_ge_070`` and
        ``n_groups_rwg`` (communities entering the rwg(j) summary).

    References
    ----------
    Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In K. J.
    Klein & S. W. J. Kozlowski (Eds.), *Multilevel Theory, Research, and Methods in
    Organizations* (pp. 349-381). Jossey-Bass.
    James, L. R., Demaree, R. G. & Wolf, G. (1984). *Journal of Applied Psychology*, 69, 85-98.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 2,
    ...                    "A1": [4, 4, 5, 1, 5, 3, 2, 2], "A2": [4, 5, 5, 2, 4, 1, 3, 2],
    ...                    "A3": [5, 4, 4, 2, 5, 2, 2, 3]})
    >>> t = aggregation_table(df, {"A": ["A1", "A2", "A3"]}, k=3)
    >>> t[["icc1", "icc2", "rwg_j_median", "n_groups_rwg"]].round(3).to_dict("records")
    [{'icc1': 0.431, 'icc2': 0.669, 'rwg_j_median': 0.469, 'n_groups_rwg': 2}]
    """
    scores = scale_scores(survey, items_by_construct)
    sizes = group_sizes(survey, group, k)
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
