"""The importance-performance map (IPMA) with its noise.

:func:`ipma` puts each element's importance (its total effect on the outcome) beside its
performance (the 0-100 mean) and sorts the elements into the four quadrants of Martilla &
James (1977), as Ringle & Sarstedt (2016) do for SEM; :func:`ipma_intervals` adds bootstrap
intervals of the importance and cluster-robust intervals of the performance
(:func:`performance_influence`, :func:`cluster_variance`), so that a point within noise of
the means is classed as such instead of being given a quadrant.

References
----------
Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
Marketing*, 41(1), 77-79.
Ringle, C. M., & Sarstedt, M. (2016). *Industrial Management & Data Systems*, 116(9),
1865-1886.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items
from analysis.study.importance import (item_means, outer_weights, replicate_tables, rescale,
                                       total_effects, weighted_construct_scores)

#: The four quadrants of the map: (importance above its mean, performance above its mean).
QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}

__all__ = ["QUADRANTS", "ipma", "performance_influence", "cluster_variance", "ipma_intervals"]


def _quadrant(imp: pd.Series, perf: pd.Series) -> pd.Series:
    hi_i = imp >= imp.mean()
    hi_p = perf >= perf.mean()
    return pd.Series([QUADRANTS[(a, b)] for a, b in zip(hi_i, hi_p)], index=imp.index)


def ipma(result, data: pd.DataFrame, codebook: pd.DataFrame, target: str = "PV",
         by: str | None = None) -> pd.DataFrame:
    """Importance-performance map of constructs and items for a target construct.

    Parameters
    ----------
    result : SEMResult, DataFrame, or mapping of group -> SEMResult
        The fitted model (or its ``estimates``). A mapping gives each level of ``by`` its own
        importance (e.g. from a multigroup fit); otherwise importance is common to all groups
        and only performance varies.
    data : DataFrame
        Respondent-level answers (reverse-coded), with the codebook's item columns.
    codebook : DataFrame
        From :func:`analysis.io.codebook.load_codebook`; gives items and scale limits.
    target : str
        The target construct (performance, ``"PV"``).
    by : str, optional
        Grouping column (e.g. ``"community_type"``); the whole sample appears as group
        ``"all"`` in every case.

    Returns
    -------
    DataFrame
        Tidy: ``group``, ``level`` (``"construct"`` or ``"item"``), ``construct``, ``item``
        (empty for constructs), ``importance`` (unstandardised total effect on ``target``;
        for items, times the item's weight), ``performance`` (0-100), ``weight``,
        ``quadrant``. Quadrants split at the mean importance and mean performance of the
        constructs (or of the items) within each group (Martilla & James 1977).

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The
    importance-performance map analysis. *Industrial Management & Data Systems*, 116(9),
    1865-1886.
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> cb = pd.DataFrame({"item": ["x1", "x2", "y1", "y2"], "construct": ["X", "X", "Y", "Y"],
    ...                    "scale_min": 1, "scale_max": 5})
    >>> data = pd.DataFrame({"x1": [1, 3, 5, 3], "x2": [2, 4, 4, 2], "y1": [3, 3, 5, 1],
    ...                      "y2": [2, 2, 4, 4], "g": ["a", "a", "b", "b"]})
    >>> t = ipma(est, data, cb, target="Y", by="g")
    >>> items = t.query("level == 'item'").round(3)
    >>> items[["group", "item", "importance", "performance"]].values.tolist()[:2]
    [['all', 'x1', 0.2, 50.0], ['all', 'x2', 0.3, 50.0]]
    >>> t.query("level == 'construct'")["performance"].tolist()
    [50.0, 40.0, 60.0]
    """
    groups = ["all"]
    if by is not None:
        if by not in data.columns:
            raise ValueError(f"grouping column {by!r} is not in the data")
        groups += sorted(data[by].dropna().unique())
    per_group = isinstance(result, Mapping)
    if per_group and by is None:
        raise ValueError("a mapping of results needs `by` to name the grouping column")
    means_all = item_means(data, codebook)
    means_by = item_means(data, codebook, by=by) if by is not None else None

    parts = []
    for g in groups:
        res = (result.get(g, result.get("all")) if per_group else result)
        if res is None:
            raise ValueError(f"no fitted result for group {g!r}")
        parts.append(_ipma_one(res, means_all if g == "all" else means_by.loc[[g]], codebook,
                               target, g))
    return pd.concat(parts, ignore_index=True)


def _ipma_one(result, means: pd.DataFrame, codebook: pd.DataFrame, target: str, group) -> pd.DataFrame:
    t = total_effects(result)
    if target not in t.index:
        raise ValueError(f"target construct {target!r} is not a latent construct of the model "
                         f"(constructs: {list(t.index)})")
    effects = t.loc[target].drop(target)
    drivers = [c for c in effects.index if abs(effects[c]) > 0]
    if not drivers:
        raise ValueError(f"no construct has an effect on {target!r}")
    w = outer_weights(result)
    items_of = construct_items(codebook)
    missing = [c for c in drivers if c not in items_of]
    if missing:
        raise ValueError(f"construct(s) {missing} of the model are not in the codebook")
    perf = weighted_construct_scores(means, w, codebook).iloc[0]
    rows = []
    for c in drivers:
        rows.append({"group": group, "level": "construct", "construct": c, "item": "",
                     "importance": float(effects[c]), "performance": float(perf[c]),
                     "weight": 1.0})
    for c in drivers:
        for i in items_of[c]:
            if i not in w.index or i not in means.columns:
                continue
            rows.append({"group": group, "level": "item", "construct": c, "item": i,
                         "importance": float(effects[c] * w[i]),
                         "performance": float(means[i].iloc[0]), "weight": float(w[i])})
    out = pd.DataFrame(rows)
    out["quadrant"] = ""
    for lvl, sub in out.groupby("level"):
        out.loc[sub.index, "quadrant"] = _quadrant(sub["importance"], sub["performance"])
    return out


def performance_influence(data: pd.DataFrame, codebook: pd.DataFrame,
                          weights: pd.Series | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """0-100 item and construct means of ``data`` and each respondent's influence on them.

    For an item mean over the ``n`` respondents who answered, respondent ``r``'s influence is
    ``(x_r - mean) / n`` (0 when unanswered); a construct score is a weighted sum of item means
    (weights renormalised within the construct), so its influence is the same weighted sum.
    Summed within clusters, the influences give cluster-robust variances of any linear
    combination of the means (Huber 1967; Williams 2000).

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers.
    codebook : pandas.DataFrame
    weights : pandas.Series or None
        Item weights (:func:`outer_weights`); None for equal weights.

    Returns
    -------
    (means, influence) : tuple
        ``means``: Series of item and construct means (0-100); ``influence``: DataFrame,
        respondents x the same labels.

    References
    ----------
    Williams, R. L. (2000). A note on robust variance estimation for cluster-correlated data.
    *Biometrics*, 56(2), 645-646.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["a1", "a2"], "construct": ["A", "A"],
    ...                    "scale_min": 1, "scale_max": 5})
    >>> m, u = performance_influence(pd.DataFrame({"a1": [1, 5], "a2": [3, 3]}), cb, None)
    >>> m.to_dict(), u["A"].tolist()
    ({'a1': 50.0, 'a2': 50.0, 'A': 50.0}, [-12.5, 12.5])
    """
    scaled = rescale(data, codebook)
    obs = scaled.notna()
    n = obs.sum()
    means = scaled.mean()
    infl = (scaled - means).where(obs, 0.0) / n
    out_m, out_u = dict(means), {c: infl[c] for c in infl.columns}
    for construct, items in construct_items(codebook).items():
        items = [i for i in items if i in scaled.columns]
        if not items:
            continue
        w = pd.Series(1.0, index=items) if weights is None else pd.Series(weights).reindex(items)
        w = w / w.sum()
        out_m[construct] = float((means[items] * w).sum())
        out_u[construct] = infl[items].mul(w, axis=1).sum(axis=1)
    return pd.Series(out_m), pd.DataFrame(out_u, index=data.index)


def cluster_variance(influence: pd.DataFrame, clusters: pd.Series) -> pd.Series:
    """Cluster-robust variance of statistics from their respondents' influences.

    ``G / (G - 1) * sum_g (sum_{r in g} u_r)^2`` with ``G`` clusters (the CR1 small-sample
    factor; Williams 2000).

    Parameters
    ----------
    influence : pandas.DataFrame
        Respondents x statistics (:func:`performance_influence`).
    clusters : pandas.Series
        Cluster label of each respondent.

    Returns
    -------
    pandas.Series

    Raises
    ------
    ValueError
        Fewer than two clusters.

    References
    ----------
    Williams, R. L. (2000). *Biometrics*, 56(2), 645-646.

    Examples
    --------
    >>> u = pd.DataFrame({"m": [0.5, 0.5, -0.5, -0.5]})
    >>> float(cluster_variance(u, pd.Series(["a", "a", "b", "b"]))["m"])
    4.0
    """
    g = pd.Series(np.asarray(clusters), index=influence.index)
    n_g = g.nunique()
    if n_g < 2:
        raise ValueError("a cluster-robust variance needs at least two clusters")
    sums = influence.groupby(g).sum()
    return (sums ** 2).sum() * n_g / (n_g - 1)


def ipma_intervals(table: pd.DataFrame, data: pd.DataFrame, codebook: pd.DataFrame, *,
                   weights: pd.Series | None = None, boot=None, target: str = "PV",
                   by: str | None = None, cluster: str = "community_id",
                   level: float = 0.95) -> pd.DataFrame:
    """Add intervals to an importance-performance map and a "within noise" quadrant.

    Performance: a cluster-robust standard error of each 0-100 mean (respondents clustered in
    ``cluster``; :func:`performance_influence`, :func:`cluster_variance`), and of its distance
    to the group's threshold (the mean performance of the constructs, or of the items), which
    is what decides the quadrant. Importance: the bootstrap percentile interval of the
    distance of the construct's total effect to the mean total effect (items: the construct's
    replicates times the item's weight). A point whose performance distance lies within
    ``z`` standard errors of zero, or whose importance interval covers the mean importance,
    is classed ``"within noise"`` instead of a quadrant.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`ipma` output.
    data : pandas.DataFrame
        The respondent-level answers the map was computed from (with ``cluster`` and ``by``).
    codebook : pandas.DataFrame
    weights : pandas.Series, optional
        The item weights of the map (:func:`outer_weights`); None: taken from ``table``.
    boot : optional
        Bootstrap replicates of the fit (as for :func:`whatif`); without them importance is
        taken as known.
    target : str
    by : str, optional
        The grouping column the map used.
    cluster : str
        Column of the clusters (communities).
    level : float

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``performance_se``, ``performance_lower``, ``performance_upper``,
        ``importance_lower``, ``importance_upper``, ``quadrant_point`` (the quadrant of the
        point estimates) and ``quadrant`` (``"within noise"`` where the data cannot place it).

    Raises
    ------
    ValueError
        ``cluster`` or ``by`` not a column of ``data``.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). *Journal of Marketing*, 41(1), 77-79.
    Williams, R. L. (2000). *Biometrics*, 56(2), 645-646.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Z", "Z", "Y", "Y", "Y", "Y"],
    ...                     "op": ["=~"] * 6 + ["~", "~"],
    ...                     "rhs": ["x1", "x2", "z1", "z2", "y1", "y2", "X", "Z"],
    ...                     "est": [1, 1, 1, 1, 1, 1, .5, .1], "std_all": [.8] * 6 + [.5, .1]})
    >>> cb = pd.DataFrame({"item": ["x1", "x2", "z1", "z2", "y1", "y2"],
    ...                    "construct": list("XXZZYY"), "scale_min": 1, "scale_max": 5})
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame(rng.integers(1, 6, (200, 6)), columns=cb["item"])
    >>> data["community_id"] = np.repeat(np.arange(20), 10)
    >>> t = ipma_intervals(ipma(est, data, cb, target="Y"), data, cb, target="Y")
    >>> t.query("level == 'construct'")["quadrant"].tolist()   # random answers: all noise
    ['within noise', 'within noise']
    """
    if cluster not in data.columns:
        raise ValueError(f"cluster column {cluster!r} is not in the data")
    if by is not None and by not in data.columns:
        raise ValueError(f"grouping column {by!r} is not in the data")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    out = table.copy()
    if weights is None:
        it = table[(table["level"] == "item") & (table["group"] == "all")]
        weights = pd.Series(it["weight"].to_numpy(float), index=it["item"].to_numpy())
    reps = replicate_tables(boot)
    rep_eff = [total_effects(r).loc[target] for r in reps]
    a = (1 - level) / 2
    for col in ("performance_se", "performance_lower", "performance_upper", "importance_lower",
                "importance_upper"):
        out[col] = np.nan
    out["quadrant_point"] = out["quadrant"]
    for (g, lvl), sub in out.groupby(["group", "level"], sort=False):
        rows = data if g == "all" else data[data[by] == g]
        _, infl = performance_influence(rows, codebook, weights)
        labels = (sub["construct"] if lvl == "construct" else sub["item"]).tolist()
        u = infl[labels]
        var = cluster_variance(u, rows[cluster])
        var_d = cluster_variance(u.sub(u.mean(axis=1), axis=0), rows[cluster])
        se = np.sqrt(var.to_numpy())
        perf = sub["performance"].to_numpy(float)
        out.loc[sub.index, "performance_se"] = se
        out.loc[sub.index, "performance_lower"] = perf - z * se
        out.loc[sub.index, "performance_upper"] = perf + z * se
        noisy_p = np.abs(perf - perf.mean()) <= z * np.sqrt(var_d.to_numpy())
        noisy_i = np.zeros(len(sub), bool)
        if rep_eff:
            cons = sub["construct"].tolist()
            wts = np.ones(len(sub)) if lvl == "construct" else sub["weight"].to_numpy(float)
            draws = np.array([e.reindex(cons).to_numpy(float) * wts for e in rep_eff])
            lo, hi = np.nanquantile(draws, [a, 1 - a], axis=0)
            out.loc[sub.index, "importance_lower"] = lo
            out.loc[sub.index, "importance_upper"] = hi
            dist = draws - draws.mean(axis=1, keepdims=True)
            dlo, dhi = np.nanquantile(dist, [a, 1 - a], axis=0)
            noisy_i = (dlo <= 0) & (dhi >= 0)
        out.loc[sub.index[noisy_p | noisy_i], "quadrant"] = "within noise"
    return out
