"""Community scores with their sampling error: a bootstrap of residents within communities,
empirical-Bayes (shrunken) scores, rank intervals and grade probabilities.

A community is judged on the 15-60 residents who answered, so its score is an estimate. This
module resamples residents **within** each community (the communities themselves are fixed:
they are the units being ranked, not a sample of them), which gives each community score a
standard error, each rank an interval and each grade a probability.

* :func:`resample_means`: the vectorised bootstrap of community means (multinomial counts of
  residents within each community; Efron & Tibshirani 1993, ch. 6; Davison & Hinkley 1997,
  sec. 3.8 on resampling within strata).
* :func:`score_draws`: the 0-100 element and overall scores (or fuzzy scores) of every
  replicate, computed exactly as :func:`analysis.study.scoring.composite_index` (``scale``
  normalisation, arithmetic aggregation) and :func:`analysis.study.scoring.fuzzy_evaluation`
  compute them from the means.
* :func:`shrink`: empirical-Bayes shrinkage of community scores towards the mean (the normal
  -normal model with a moment estimate of the between-community variance; Efron & Morris 1975,
  Morris 1983).
* :func:`rank_intervals`: ranks of the replicates, optionally combined with the rank shifts of
  the method Monte Carlo (:class:`analysis.study.rank_uncertainty.UncertaintyResult`).
* :func:`grade_probabilities`: the share of replicates whose fuzzy score falls in each grade.

References
----------
Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
*Journal of the American Statistical Association*, 70(350), 311-319.
Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications. *Journal
of the American Statistical Association*, 78(381), 47-55.
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge
University Press.
Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations: statistical
issues in comparisons of institutional performance. *Journal of the Royal Statistical Society
A*, 159(3), 385-443 (rank intervals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items, elements
from analysis.study.scoring import GRADES, community_means, item_weights

__all__ = ["CommunityDraws", "resample_means", "score_draws", "shrink", "rank_intervals",
           "grade_probabilities", "significant_shortfall", "community_ranks"]


def resample_means(values: pd.DataFrame, groups: pd.Series, n_boot: int, seed,
                   order: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap of group means, resampling rows within each group.

    Each replicate draws, in every group of ``n_g`` rows, ``n_g`` rows with replacement
    (multinomial counts), and takes the column means over the drawn rows' non-missing values.

    Parameters
    ----------
    values : pandas.DataFrame
        Rows = residents, numeric columns (NaN = no answer).
    groups : pandas.Series
        Group of each row (aligned with ``values``).
    n_boot : int
        Number of replicates (>= 1).
    seed : int or numpy.random.Generator
        Seed; the same seed gives identical draws.
    order : sequence, optional
        Groups to return, in this order (default: sorted unique groups).

    Returns
    -------
    (point, draws) : tuple of numpy.ndarray
        ``point`` (groups x columns): the plain means; ``draws`` (n_boot x groups x columns).
        A replicate in which a group has no drawn answer on a column gets that group's plain
        mean (possible only for a column almost always missing in a tiny group).

    Raises
    ------
    ValueError
        ``n_boot`` < 1, or a group of ``order`` without rows.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*,
    sec. 3.8 (stratified resampling).

    Examples
    --------
    >>> v = pd.DataFrame({"x": [1.0, 3.0, 10.0, 20.0]})
    >>> g = pd.Series(["a", "a", "b", "b"])
    >>> point, draws = resample_means(v, g, n_boot=2000, seed=1)
    >>> point[:, 0].tolist(), draws.shape
    ([2.0, 15.0], (2000, 2, 1))
    >>> bool(set(np.unique(draws[:, 0, 0])) <= {1.0, 2.0, 3.0})
    True
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    g = pd.Series(np.asarray(groups), index=values.index)
    order = sorted(g.dropna().unique()) if order is None else list(order)
    X = values.to_numpy(float)
    M = ~np.isnan(X)
    X0 = np.where(M, X, 0.0)
    point = np.full((len(order), X.shape[1]), np.nan)
    draws = np.empty((n_boot, len(order), X.shape[1]))
    codes = g.to_numpy()
    for k, grp in enumerate(order):
        rows = np.flatnonzero(codes == grp)
        if not len(rows):
            raise ValueError(f"group {grp!r} has no rows")
        n = len(rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            point[k] = X0[rows].sum(0) / M[rows].sum(0)
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
            d = (counts @ X0[rows]) / (counts @ M[rows])
        draws[:, k] = np.where(np.isnan(d), point[k], d)
    return point, draws


@dataclass
class CommunityDraws:
    """Bootstrap replicates of community scores (resident resampling within communities).

    Attributes
    ----------
    communities : list
        Community ids (rows of ``point``, axis 1 of ``draws``).
    columns : list of str
        Score columns: the elements, then ``"score"`` (overall).
    point : pandas.DataFrame
        The scores of the observed data (communities x columns).
    draws : numpy.ndarray
        n_boot x communities x columns.
    """

    communities: list
    columns: list
    point: pd.DataFrame
    draws: np.ndarray

    def se(self) -> pd.DataFrame:
        """Bootstrap standard errors, communities x columns.

        Returns
        -------
        pandas.DataFrame
            The standard deviation of the replicates (``ddof=1``).

        Examples
        --------
        >>> d = CommunityDraws(["a"], ["score"], pd.DataFrame({"score": [1.0]}, index=["a"]),
        ...                    np.array([[[0.0]], [[2.0]]]))
        >>> float(d.se().loc["a", "score"])
        1.4142135623730951
        """
        return pd.DataFrame(self.draws.std(axis=0, ddof=1), index=self.communities,
                            columns=self.columns)


def score_draws(survey: pd.DataFrame, codebook: pd.DataFrame, weights, n_boot: int, seed, *,
                k: int = 5, group: str = "community_id", kind: str = "index",
                grades: pd.DataFrame = GRADES) -> CommunityDraws:
    """Element and overall 0-100 scores of every community under resident resampling.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (:func:`analysis.io.survey.load_survey`).
    codebook : pandas.DataFrame
    weights : mapping or pandas.Series
        Item (or element) weights summing to one, as accepted by
        :func:`analysis.study.scoring.item_weights` (e.g. one of
        :func:`analysis.study.scoring.weighting_schemes`).
    n_boot : int
        Replicates.
    seed : int
    k : int
        Disclosure threshold: communities with fewer respondents are not scored.
    group : str
        Community id column.
    kind : {"index", "fuzzy"}
        ``index``: items on 0-100 with the scale limits, weighted arithmetic means (the
        ``scale`` / ``arithmetic`` composite index); ``fuzzy``: each answer replaced by the value
        of its grade, i.e. the fuzzy comprehensive score ``B @ values``.
    grades : pandas.DataFrame
        Grade table for ``kind="fuzzy"`` (:data:`analysis.study.scoring.GRADES`).

    Returns
    -------
    CommunityDraws

    Raises
    ------
    ValueError
        Unknown ``kind``.

    Notes
    -----
    Both scores are weighted sums of item means over residents, so replicates only need the
    resampled item means (:func:`resample_means`); a replicate with every count equal to one
    reproduces the observed scores exactly (checked in the tests).

    References
    ----------
    Nardo et al. (2008), OECD/JRC *Handbook on Constructing Composite Indicators*, step 7
    (uncertainty analysis).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook(); survey = load_survey(codebook=cb)
    >>> d = score_draws(survey, cb, "equal", n_boot=50, seed=1)
    >>> d.draws.shape, d.columns[-1]
    ((50, 47, 6), 'score')
    """
    if kind not in ("index", "fuzzy"):
        raise ValueError(f"kind must be 'index' or 'fuzzy', got {kind!r}")
    means = community_means(survey, codebook, k=k, group=group)  # validates, suppresses
    w = item_weights(weights, codebook) if not isinstance(weights, str) else None
    if w is None:
        from analysis.study.scoring import scheme_weights
        w = scheme_weights(weights, means, codebook, survey)
    items = list(w.index)
    keep = survey[group].isin(means.index)
    vals = survey.loc[keep, items].astype(float)
    if kind == "index":
        lim = codebook.set_index("item").loc[items, ["scale_min", "scale_max"]].astype(float)
        vals = 100 * (vals - lim["scale_min"]) / (lim["scale_max"] - lim["scale_min"])
    else:
        mapped = pd.DataFrame(np.nan, index=vals.index, columns=items)
        for codes, value in zip(grades["answers"], grades["value"]):
            mapped = mapped.mask(vals.isin([float(c) for c in codes]), float(value))
        vals = mapped
    ids = list(means.index)
    point, draws = resample_means(vals, survey.loc[keep, group], n_boot, seed, order=ids)
    wv = w.to_numpy(float)
    by_construct = construct_items(codebook)
    els = [e for e in elements(codebook) if w.index.isin(by_construct[e]).any()]
    cols = els + ["score"]
    W = np.zeros((len(items), len(cols)))
    for j, e in enumerate(els):
        sel = w.index.isin(by_construct[e])
        W[sel, j] = wv[sel] / wv[sel].sum()
    W[:, -1] = wv / wv.sum()
    return CommunityDraws(ids, cols, pd.DataFrame(point @ W, index=ids, columns=cols),
                          draws @ W)


def shrink(scores: pd.DataFrame, se: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Empirical-Bayes (shrunken) community scores with posterior standard errors.

    For each column: observed score ``y_c`` with sampling variance ``s_c^2``; the normal-normal
    model ``y_c ~ N(theta_c, s_c^2)``, ``theta_c ~ N(mu, tau^2)``. ``mu`` is the precision-
    weighted mean and ``tau^2`` the moment estimate ``max(0, var(y) - mean(s^2))`` (Morris
    1983, eq. 3.5 with equal weights); the shrunken score is
    ``mu + B_c (y_c - mu)`` with ``B_c = tau^2 / (tau^2 + s_c^2)`` and its posterior
    standard error ``sqrt(B_c) s_c`` (the uncertainty of ``mu`` and ``tau^2`` is ignored, a
    small correction with dozens of communities). Small communities (large ``s_c``) move most.

    Parameters
    ----------
    scores : pandas.DataFrame
        Communities x score columns (e.g. ``CommunityDraws.point``).
    se : pandas.DataFrame
        Their sampling standard errors, same shape (e.g. ``CommunityDraws.se()``).
    level : float
        Coverage of the reported posterior interval.

    Returns
    -------
    pandas.DataFrame
        Long: ``community_id``, ``column``, ``raw``, ``se_raw``, ``shrunk``, ``se``,
        ``ci_lower``, ``ci_upper``, ``shrinkage`` (``1 - B_c``), ``tau``.

    Raises
    ------
    ValueError
        Shapes or labels of ``scores`` and ``se`` differ, or a standard error is not positive.

    References
    ----------
    Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    *Journal of the American Statistical Association*, 78(381), 47-55.
    Efron, B. & Morris, C. (1975). *JASA*, 70(350), 311-319.

    Examples
    --------
    >>> y = pd.DataFrame({"score": [40.0, 50.0, 60.0, 70.0]}, index=list("abcd"))
    >>> s = pd.DataFrame({"score": [5.0, 5.0, 5.0, 20.0]}, index=list("abcd"))
    >>> out = shrink(y, s).set_index("community_id")
    >>> out["shrunk"].round(2).tolist()   # d, measured worst, moves most
    [43.78, 50.35, 56.92, 53.06]
    """
    if list(scores.index) != list(se.index) or list(scores.columns) != list(se.columns):
        raise ValueError("scores and se must have the same communities and columns")
    if not (se.to_numpy(float) > 0).all():
        bad = se.columns[(~(se > 0)).any()].tolist()
        raise ValueError(f"standard errors must be positive (column(s) {bad})")
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for col in scores.columns:
        y = scores[col].to_numpy(float)
        s2 = se[col].to_numpy(float) ** 2
        tau2 = max(0.0, float(np.var(y, ddof=1) - s2.mean()))
        prec = 1.0 / (tau2 + s2)
        mu = float((prec * y).sum() / prec.sum())
        b = tau2 / (tau2 + s2)
        post = mu + b * (y - mu)
        post_se = np.sqrt(b * s2)
        for c, yi, si, pi, psi, bi in zip(scores.index, y, np.sqrt(s2), post, post_se, b):
            rows.append({"community_id": c, "column": col, "raw": yi, "se_raw": si,
                         "shrunk": pi, "se": psi, "ci_lower": pi - z * psi,
                         "ci_upper": pi + z * psi, "shrinkage": 1 - bi, "tau": np.sqrt(tau2)})
    return pd.DataFrame(rows)


def rank_intervals(draws: np.ndarray, communities: Sequence, point: np.ndarray | None = None,
                   method_ranks: pd.DataFrame | None = None, level: float = 0.95,
                   seed=0) -> pd.DataFrame:
    """Rank of every community with an interval from resampled scores (1 = best).

    Parameters
    ----------
    draws : numpy.ndarray
        n_boot x communities: replicate scores (higher = better), e.g. one column of
        ``CommunityDraws.draws``.
    communities : sequence
        Ids of the columns of ``draws``.
    point : numpy.ndarray, optional
        Observed scores (default: the replicates' mean) for the point rank.
    method_ranks : pandas.DataFrame, optional
        Runs x communities ranks under alternative method choices
        (``UncertaintyResult.ranks``). When given, each replicate's rank is shifted by the
        rank shift ``r_run - r_nominal`` of a randomly drawn run (nominal = the run's
        ``point`` rank), so that the interval holds both resident sampling error and method
        uncertainty, treated as independent and additive on the rank scale; ranks are kept
        within ``1..n``.
    level : float
        Coverage of the equal-tailed interval.
    seed : int
        Seed of the pairing of replicates with method runs.

    Returns
    -------
    pandas.DataFrame
        ``community_id``, ``rank`` (of ``point``), ``rank_lower``, ``rank_upper``,
        ``p_top`` and ``p_bottom`` (share of replicates ranked first / last), sorted by rank.

    References
    ----------
    Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations.
    *Journal of the Royal Statistical Society A*, 159(3), 385-443.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = np.array([90.0, 50.0, 49.0]) + rng.normal(0, 1, (500, 3))
    >>> rank_intervals(d, ["a", "b", "c"])[["community_id", "rank_lower", "rank_upper"]].values.tolist()
    [['a', 1.0, 1.0], ['b', 2.0, 3.0], ['c', 2.0, 3.0]]
    """
    draws = np.asarray(draws, float)
    n = draws.shape[1]
    point = draws.mean(0) if point is None else np.asarray(point, float)
    nominal = stats.rankdata(-point, method="average")
    r = np.apply_along_axis(lambda x: stats.rankdata(-x, method="average"), 1, draws)
    if method_ranks is not None:
        mr = method_ranks[list(communities)].to_numpy(float)
        rng = np.random.default_rng(seed)
        runs = rng.integers(0, len(mr), size=len(r))
        r = np.clip(r + (mr[runs] - nominal), 1, n)
    a = (1 - level) / 2
    lo, hi = np.quantile(r, [a, 1 - a], axis=0, method="inverted_cdf")
    out = pd.DataFrame({"community_id": list(communities), "rank": nominal,
                        "rank_lower": lo, "rank_upper": hi,
                        "p_top": (r <= 1).mean(0), "p_bottom": (r >= n).mean(0)})
    return out.sort_values(["rank", "community_id"], kind="stable", ignore_index=True)


def grade_probabilities(draws: np.ndarray, communities: Sequence,
                        grades: pd.DataFrame = GRADES) -> pd.DataFrame:
    """Probability of each grade: the share of replicates whose fuzzy score falls in its band.

    Bands are those of :func:`analysis.study.scoring.fuzzy_evaluation` (cut points midway
    between the grade values).

    Parameters
    ----------
    draws : numpy.ndarray
        n_boot x communities fuzzy scores (``score_draws(..., kind="fuzzy")``, column
        ``"score"``).
    communities : sequence
        Ids of the columns.
    grades : pandas.DataFrame
        Grade table, best grade first.

    Returns
    -------
    pandas.DataFrame
        ``community_id`` and one column ``p_<grade>`` per grade (rows sum to one), plus
        ``likely_grade`` (the most probable one).

    References
    ----------
    Nardo et al. (2008), OECD/JRC *Handbook on Constructing Composite Indicators* (uncertainty
    of classifications).

    Examples
    --------
    >>> d = np.array([[80.0], [70.0], [60.0], [62.0]])
    >>> grade_probabilities(d, ["a"]).round(2).values.tolist()
    [['a', 0.0, 0.5, 0.5, 0.0, 'good']]
    """
    names = list(grades["grade"])
    values = grades["value"].to_numpy(float)
    cuts = (values[:-1] + values[1:]) / 2
    band = (np.asarray(draws, float)[..., None] < cuts).sum(-1)  # 0 = best grade
    out = pd.DataFrame({"community_id": list(communities)})
    for j, g in enumerate(names):
        out[f"p_{g}"] = (band == j).mean(0)
    out["likely_grade"] = [names[i] for i in out[[f"p_{g}" for g in names]].to_numpy().argmax(1)]
    return out


def significant_shortfall(score: pd.DataFrame, benchmark: pd.DataFrame, se: pd.DataFrame,
                          level: float = 0.95) -> pd.DataFrame:
    """Whether each score falls short of its benchmark beyond its sampling error.

    ``benchmark - score > z * se`` with ``z`` the two-sided normal quantile of ``level``
    (one-sided test at ``(1 - level) / 2``).

    Parameters
    ----------
    score, benchmark, se : pandas.DataFrame
        Same shape (communities x elements); ``se`` the score's standard error.
    level : float

    Returns
    -------
    pandas.DataFrame of bool

    References
    ----------
    Goldstein, H. & Spiegelhalter, D. J. (1996). *JRSS A*, 159(3), 385-443 (comparing
    institutions with their uncertainty).

    Examples
    --------
    >>> s = pd.DataFrame({"A": [50.0, 55.0]}); b = pd.DataFrame({"A": [60.0, 60.0]})
    >>> significant_shortfall(s, b, pd.DataFrame({"A": [4.0, 4.0]}))["A"].tolist()
    [True, False]
    """
    z = stats.norm.ppf(0.5 + level / 2)
    return (benchmark - score) > z * se


def community_ranks(intervals: pd.DataFrame, sampling: pd.DataFrame, shrunk: pd.DataFrame,
                    grades: pd.DataFrame, grade_probs: pd.DataFrame,
                    types: Mapping | None = None) -> pd.DataFrame:
    """One row per community: rank with its intervals, shrunken score, grade and its chances.

    Parameters
    ----------
    intervals : DataFrame
        :func:`rank_intervals` with resident sampling and method uncertainty combined
        (``community_id rank rank_lower rank_upper p_top p_bottom``).
    sampling : DataFrame
        :func:`rank_intervals` of resident sampling alone (its interval becomes
        ``rank_lower_sampling rank_upper_sampling``).
    shrunk : DataFrame
        :func:`shrink` of the overall score (``raw se_raw shrunk se ci_lower ci_upper
        shrinkage``, renamed ``score score_se score_eb score_eb_se score_eb_lower
        score_eb_upper``).
    grades : DataFrame
        ``community_id grade``: the nominal fuzzy grade.
    grade_probs : DataFrame
        :func:`grade_probabilities`.
    types : mapping community_id -> type, optional
        Adds ``community_type`` after ``community_id``.

    Returns
    -------
    DataFrame
        The table written as ``data/processed/community-ranks.csv``, rounded to 4 decimals.

    Examples
    --------
    >>> ri = pd.DataFrame({"community_id": ["a", "b"], "rank": [1, 2], "rank_lower": [1, 1],
    ...                    "rank_upper": [2, 2], "p_top": [0.6, 0.4], "p_bottom": [0.4, 0.6]})
    >>> eb = pd.DataFrame({"community_id": ["a", "b"], "column": "score", "raw": [70.0, 60.0],
    ...                    "se_raw": [2.0, 3.0], "tau": 5.0, "shrunk": [69.0, 61.0], "se": [1.9, 2.6],
    ...                    "ci_lower": [65.3, 55.9], "ci_upper": [72.7, 66.1], "shrinkage": [0.1, 0.2]})
    >>> g = pd.DataFrame({"community_id": ["a", "b"], "grade": ["good", "fair"]})
    >>> gp = pd.DataFrame({"community_id": ["a", "b"], "p_good": [0.9, 0.2], "p_fair": [0.1, 0.8]})
    >>> community_ranks(ri, ri, eb, g, gp, {"a": "x", "b": "y"}).columns[:4].tolist()
    ['community_id', 'community_type', 'rank', 'rank_lower']
    """
    renamed = {"raw": "score", "se_raw": "score_se", "shrunk": "score_eb", "se": "score_eb_se",
               "ci_lower": "score_eb_lower", "ci_upper": "score_eb_upper"}
    out = (intervals.merge(sampling[["community_id", "rank_lower", "rank_upper"]]
                           .rename(columns={"rank_lower": "rank_lower_sampling",
                                            "rank_upper": "rank_upper_sampling"}),
                           on="community_id")
           .merge(shrunk.rename(columns=renamed).drop(columns=["column", "tau"]), on="community_id")
           .merge(grades[["community_id", "grade"]], on="community_id")
           .merge(grade_probs, on="community_id"))
    if types is not None:
        out.insert(1, "community_type", out["community_id"].map(types))
    return out.round(4)
