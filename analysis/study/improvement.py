"""The improvement-path step: performance on the 0-100 scale, the importance-performance map,
what-if scenarios and community efficiency.

* Performance: items are rescaled with the theoretical scale limits from the codebook,
  ``100 (x - min) / (max - min)`` (:func:`rescale`, Ringle & Sarstedt 2016), so 0 is the
  worst and 100 the best possible answer whatever the number of scale points;
  :func:`item_means` and :func:`weighted_construct_scores` average them by group.
* Importance: total effects among the latent constructs of a fitted SEM
  (:func:`structural_matrix`, :func:`total_effects`; Bollen 1987) and the item weights within
  constructs (:func:`outer_weights`); :func:`ipma` puts both on one map (Martilla & James
  1977; Ringle & Sarstedt 2016).
* Scenarios: the change of the outcome when elements are raised
  (:func:`scenario_effects`, :func:`whatif`, :func:`standard_scenarios`), with bootstrap
  intervals from :func:`bootstrap_replicates` / :func:`replicates_from_draws`.
* Communities: 0-100 item and element scores per community (:func:`community_scores`, with
  the disclosure rule of :mod:`analysis.study.scoring`) and their CCR/BCC efficiency
  (:func:`community_efficiency`, :func:`analysis.methods.dea.dea`).

References
----------
Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The
importance-performance map analysis. *Industrial Management & Data Systems*, 116(9),
1865-1886.
Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
Marketing*, 41(1), 77-79.
Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
*Sociological Methodology*, 17, 37-69.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items, elements, outcome
from analysis.methods.dea import dea
from analysis.sem import bootstrap_draws, total_effects_matrix
from analysis.sem import structural_matrix as sem_structural_matrix
from analysis.study.scoring import community_means


def rescale(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Item answers rescaled to 0-100 with the codebook's ``scale_min`` / ``scale_max``.

    Parameters
    ----------
    data : pandas.DataFrame
        Answers (reverse-coded); columns not in the codebook are ignored.
    codebook : pandas.DataFrame
        With ``item``, ``scale_min`` and ``scale_max``.

    Returns
    -------
    pandas.DataFrame
        One column per codebook item found in ``data`` (NaN stays NaN).

    Raises
    ------
    ValueError
        No codebook item in ``data``, or answers outside the scale (naming the column and rows).

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). *Industrial Management & Data Systems*, 116(9),
    1865-1886 (rescaling for the IPMA).

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1"], "scale_min": [1], "scale_max": [5]})
    >>> rescale(pd.DataFrame({"A1": [1, 3, 5]}), cb)["A1"].tolist()
    [0.0, 50.0, 100.0]
    """
    items = [i for i in codebook["item"] if i in data.columns]
    if not items:
        raise ValueError("none of the codebook's items is a column of the data")
    lim = codebook.set_index("item").loc[items, ["scale_min", "scale_max"]].astype(float)
    block = data[items].astype(float)
    out = 100.0 * (block - lim["scale_min"]) / (lim["scale_max"] - lim["scale_min"])
    bad = (out < -1e-9) | (out > 100 + 1e-9)
    if bad.to_numpy().any():
        col = bad.any().idxmax()
        rows = list(out.index[bad[col]][:5])
        raise ValueError(f"column {col!r} has answers outside the codebook's scale, rows {rows}")
    return out


def item_means(data: pd.DataFrame, codebook: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Mean 0-100 item scores, overall (one row, index ``"all"``) or per level of ``by``.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers with the codebook's items (and ``by``).
    codebook : pandas.DataFrame
        With ``item``, ``scale_min`` and ``scale_max``.
    by : str, optional
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        Rows ``"all"`` or the levels of ``by`` (sorted), one column per item.

    Raises
    ------
    ValueError
        If ``by`` is not a column of ``data``.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1"], "scale_min": [1], "scale_max": [5]})
    >>> d = pd.DataFrame({"A1": [1, 3, 5, 5], "g": ["a", "a", "b", "b"]})
    >>> item_means(d, cb, by="g")["A1"].tolist()
    [25.0, 100.0]
    """
    scaled = rescale(data, codebook)
    if by is None:
        return scaled.mean().to_frame("all").T
    if by not in data.columns:
        raise ValueError(f"grouping column {by!r} is not in the data")
    return scaled.groupby(data[by], sort=True).mean()


def weighted_construct_scores(item_scores: pd.DataFrame, weights: Mapping[str, Mapping[str, float]]
                     | pd.Series | None, codebook: pd.DataFrame) -> pd.DataFrame:
    """Weighted 0-100 construct scores from 0-100 item scores (one row per unit).

    ``weights`` maps item -> weight (a Series indexed by item) and is renormalised within each
    construct over the items present (a missing item does not drag the score to 0); ``None``
    means equal weights.

    Parameters
    ----------
    item_scores : pandas.DataFrame
        0-100 item scores, one row per unit (respondent, group or community).
    weights : mapping or pandas.Series or None
        Item -> weight, e.g. :func:`outer_weights`.
    codebook : pandas.DataFrame
        With ``item`` and ``construct``.

    Returns
    -------
    pandas.DataFrame
        One column per construct with at least one item in ``item_scores``.

    Raises
    ------
    ValueError
        If an item of ``item_scores`` has no weight.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "construct": ["A", "A"]})
    >>> scores = pd.DataFrame({"A1": [40.0], "A2": [80.0]})
    >>> weighted_construct_scores(scores, None, cb)["A"].tolist()
    [60.0]
    """
    out = {}
    for construct, items in construct_items(codebook).items():
        items = [i for i in items if i in item_scores.columns]
        if not items:
            continue
        w = pd.Series(1.0, index=items) if weights is None else pd.Series(weights).reindex(items)
        if w.isna().any():
            raise ValueError(f"no weight for item(s) {list(w.index[w.isna()])} of {construct}")
        block = item_scores[items]
        ww = block.notna().mul(w, axis=1)
        out[construct] = (block.fillna(0) * w).sum(axis=1) / ww.sum(axis=1).replace(0, np.nan)
    return pd.DataFrame(out, index=item_scores.index)

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


def _estimates(result) -> pd.DataFrame:
    est = getattr(result, "estimates", result)
    if not isinstance(est, pd.DataFrame):
        raise TypeError("expected an SEMResult or its estimates DataFrame")
    missing = {"lhs", "op", "rhs", "est"} - set(est.columns)
    if missing:
        raise ValueError(f"estimates lack column(s) {sorted(missing)}")
    if "group" in est.columns and est["group"].nunique() > 1:
        raise ValueError("estimates hold several groups; pass one group's estimates")
    return est


def latent_constructs(result) -> list[str]:
    """Latent variables of the model (left of ``=~``), in order of appearance.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A single-group fit, or its estimates table.

    Returns
    -------
    list of str

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> latent_constructs(est)
    ['X', 'Y']
    """
    est = _estimates(result)
    return list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))


def structural_matrix(result) -> pd.DataFrame:
    """``B`` among latent constructs: ``B.loc[outcome, predictor]`` = unstandardised path.

    Regressions on observed covariates are ignored (they do not carry effects between
    constructs).

    Parameters
    ----------
    result : SEMResult or DataFrame
        A fit, or its estimates table.

    Returns
    -------
    DataFrame
        Square, rows and columns the latent constructs.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> structural_matrix(est).loc["Y", "X"]
    np.float64(0.5)
    """
    est = _estimates(result)
    return sem_structural_matrix(est, "est", latent_constructs(est))


def total_effects(result) -> pd.DataFrame:
    """Total effects among the latent constructs; ``T.loc[target, source]``.

    ``T = (I - B)^-1 - I`` (Bollen 1987), from :func:`structural_matrix`.

    Parameters
    ----------
    result : SEMResult or DataFrame

    Returns
    -------
    DataFrame

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "M", "Y", "Y", "M", "Y"], "op": ["=~"] * 3 + ["~"] * 3,
    ...                     "rhs": ["x1", "m1", "y1", "M", "X", "X"], "est": [1, 1, 1, .5, .4, .2]})
    >>> round(float(total_effects(est).loc["Y", "X"]), 3)  # 0.2 + 0.4 * 0.5
    0.4
    """
    return total_effects_matrix(structural_matrix(result))


def outer_weights(result, codebook: pd.DataFrame | None = None) -> pd.Series:
    """Item weights within each construct: standardised loadings rescaled to sum to one.

    Uses ``std_all`` when present, otherwise ``est``. Negative loadings (an item not
    reverse-coded) are an error: the weight of a performance indicator must be positive.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A single-group fit, or its estimates table.
    codebook : pandas.DataFrame, optional
        Not used (kept for call compatibility).

    Returns
    -------
    pandas.Series
        Item -> weight (name ``"weight"``), summing to 1 within each construct.

    Raises
    ------
    ValueError
        Naming the items with non-positive loadings.

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). *Industrial Management & Data Systems*, 116(9),
    1865-1886 (outer weights of the IPMA).

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> outer_weights(est).round(3).to_dict()
    {'x1': 0.4, 'x2': 0.6, 'y1': 0.5, 'y2': 0.5}
    """
    est = _estimates(result)
    load = est[est["op"] == "=~"]
    col = "std_all" if "std_all" in load.columns and load["std_all"].notna().all() else "est"
    if (load[col] <= 0).any():
        bad = load.loc[load[col] <= 0, "rhs"].tolist()
        raise ValueError(f"item(s) {bad} load negatively; reverse-code them before IPMA")
    w = load[col].astype(float) / load.groupby("lhs")[col].transform("sum").astype(float)
    return pd.Series(w.to_numpy(), index=load["rhs"].to_numpy(), name="weight")


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


def scenario_effects(result, shifts: Mapping[str, float], target: str = "PV") -> pd.Series:
    """Change of every construct when the elements' equations are shifted by ``shifts``.

    ``(I - B)^-1 delta``: a 10-point rise of MS also lifts CS, OM, ... through the chain.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A fit, or its estimates table.
    shifts : mapping of str to float
        Construct -> shift of its equation (points on its own scale).
    target : str
        The outcome construct (checked to be in the model).

    Returns
    -------
    pandas.Series
        Change of each latent construct.

    Raises
    ------
    ValueError
        A shifted construct or the target is not in the model.

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> scenario_effects(est, {"X": 10}, target="Y").to_dict()
    {'X': 10.0, 'Y': 5.0}
    """
    b = structural_matrix(result)
    unknown = [k for k in shifts if k not in b.index]
    if unknown:
        raise ValueError(f"scenario names construct(s) {unknown} that are not in the model")
    if target not in b.index:
        raise ValueError(f"target construct {target!r} is not a latent construct of the model")
    delta = pd.Series(0.0, index=b.index)
    for k, v in shifts.items():
        delta[k] = float(v)
    eff = np.linalg.solve(np.eye(len(b)) - b.to_numpy(), delta.to_numpy())
    return pd.Series(eff, index=b.index)


@dataclass(frozen=True, eq=False)
class BootstrapReplicates:
    """Bootstrap replicate estimates, as returned by :func:`replicates_from_draws`.

    Attributes
    ----------
    table : DataFrame
        Long: ``replicate lhs op rhs est`` for the loadings and regressions of every
        converged resample (pass the whole object, or this table, to :func:`whatif`).
    n_failed : int
        Resamples whose refit did not converge (dropped).

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> pt = pd.DataFrame({"lhs": ["F", "F"], "op": ["=~", "=~"], "rhs": ["x1", "x2"],
    ...                    "free": [-1, 0], "value": [1.0, np.nan]})
    >>> reps = replicates_from_draws(pt, np.array([[0.8], [np.nan], [1.2]]))
    >>> reps.n_failed, reps.table["replicate"].nunique()
    (1, 2)
    """

    table: pd.DataFrame
    n_failed: int


def _replicates(boot) -> list[pd.DataFrame]:
    """Bootstrap replicates as a list of estimates frames (accepts the common layouts)."""
    if boot is None:
        return []
    if isinstance(boot, BootstrapReplicates):
        boot = boot.table
    est = getattr(boot, "estimates", None)
    if isinstance(boot, pd.DataFrame) or isinstance(est, pd.DataFrame):
        frame = boot if isinstance(boot, pd.DataFrame) else est
        for key in ("replicate", "boot", "rep", "b"):
            if key in frame.columns:
                return [g for _, g in frame.groupby(key, sort=True)]
        raise ValueError("bootstrap frame needs a replicate column ('replicate' or 'boot')")
    return [getattr(r, "estimates", r) for r in boot]


def replicates_from_draws(partable: pd.DataFrame, draws: np.ndarray) -> BootstrapReplicates:
    """Bootstrap draws of the free parameters as one long estimates frame.

    Parameters
    ----------
    partable : DataFrame
        The engine's parameter table (``lhs op rhs free value``; ``free`` is the column of a
        free parameter in ``draws``, -1 for a fixed one whose value is ``value``).
    draws : ndarray, shape (n_boot, >= n_free)
        One row per resample (extra columns, e.g. defined parameters, are ignored); rows with
        NaN (resamples that failed) are dropped.

    Returns
    -------
    BootstrapReplicates
        ``table``: ``replicate lhs op rhs est`` for the loadings and regressions, ready for
        :func:`whatif`; ``n_failed``: the rows dropped.
    """
    pt = partable[partable["op"].isin(["=~", "~"])]
    free = pt["free"].to_numpy().astype(int)
    n_free = int(partable["free"].max()) + 1
    draws = np.asarray(draws, dtype=float)
    ok = np.all(np.isfinite(draws[:, :n_free]), axis=1)
    parts = []
    for b, row in enumerate(draws[ok]):
        est = np.where(free >= 0, row[np.clip(free, 0, None)], pt["value"].to_numpy(dtype=float))
        parts.append(pd.DataFrame({"replicate": b, "lhs": pt["lhs"].to_numpy(),
                                   "op": pt["op"].to_numpy(), "rhs": pt["rhs"].to_numpy(),
                                   "est": est}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["replicate", "lhs", "op", "rhs", "est"])
    return BootstrapReplicates(out, n_failed=int((~ok).sum()))


def bootstrap_replicates(result, n_boot: int, seed) -> BootstrapReplicates:
    r"""Nonparametric bootstrap of a fitted model, as replicate estimates for :func:`whatif`.

    Calls :func:`analysis.sem.bootstrap_draws` (case resampling, each resample
    refitted by ML; needs a ``missing="listwise"`` fit) and converts the draws with
    :func:`replicates_from_draws`.

    Parameters
    ----------
    result : SEMResult
        A listwise ML fit.
    n_boot : int
        Number of resamples.
    seed : int or numpy.random.SeedSequence
        Seed of the resampling (same seed, same replicates).

    Returns
    -------
    BootstrapReplicates
        ``.table``: ``replicate lhs op rhs est`` (see :func:`replicates_from_draws`);
        ``.n_failed``: resamples that did not converge.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
    ...               holzinger39.get_data())
    >>> reps = bootstrap_replicates(res, n_boot=3, seed=1).table
    >>> int(reps["replicate"].nunique()), reps.columns.tolist()
    (3, ['replicate', 'lhs', 'op', 'rhs', 'est'])
    """
    draws = bootstrap_draws(result, n_boot=n_boot, seed=seed, progress=False)
    return replicates_from_draws(result.model.partable, draws)


def whatif(result, scenarios: Mapping[str, Mapping[str, float]], target: str = "PV",
           boot=None, level: float = 0.95) -> pd.DataFrame:
    """Predicted change of the target under each scenario, with bootstrap percentile intervals.

    Parameters
    ----------
    result : SEMResult or estimates DataFrame
    scenarios : mapping of name -> {construct: shift in points}
        Points on the construct's own scale (0-100 when the items share one scale, since the
        unstandardised effects are then invariant to the common rescaling).
    target : str
    boot : optional
        Bootstrap replicates of the estimates: a list of estimates frames (or results), one
        long frame with a ``replicate`` column, or :class:`BootstrapReplicates`.
    level : float
        Coverage of the percentile interval.

    Returns
    -------
    DataFrame
        ``scenario``, ``shifts`` (text), ``delta`` (point estimate), ``ci_lower``,
        ``ci_upper`` (NaN without ``boot``), ``n_boot``.

    Raises
    ------
    ValueError
        No scenarios, or a scenario naming a construct that is not in the model.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall
    (percentile intervals).

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> boot = [est.assign(est=est["est"] * f) for f in (0.8, 1.0, 1.2)]
    >>> whatif(est, {"X +10": {"X": 10}}, target="Y", boot=boot).round(2).to_dict("records")
    [{'scenario': 'X +10', 'shifts': 'X +10', 'delta': 5.0, 'ci_lower': 4.05, 'ci_upper': 5.95, 'n_boot': 3}]
    """
    if not scenarios:
        raise ValueError("no scenarios given")
    reps = _replicates(boot)
    alpha = (1 - level) / 2
    rows = []
    for name, shifts in scenarios.items():
        point = scenario_effects(result, shifts, target)[target]
        draws = np.array([scenario_effects(r, shifts, target)[target] for r in reps])
        lo, hi = (np.quantile(draws, [alpha, 1 - alpha]) if len(draws) else (np.nan, np.nan))
        rows.append({"scenario": name,
                     "shifts": ", ".join(f"{k} {v:+g}" for k, v in shifts.items()),
                     "delta": float(point), "ci_lower": float(lo), "ci_upper": float(hi),
                     "n_boot": len(draws)})
    return pd.DataFrame(rows)


def standard_scenarios(elements, points: float = 10.0) -> dict[str, dict[str, float]]:
    """Each element alone up by ``points``, then all together.

    Parameters
    ----------
    elements : sequence of str
        Element construct codes.
    points : float
        Shift of each element (points on its scale).

    Returns
    -------
    dict of str to dict of str to float
        Scenario name -> shifts, ready for :func:`whatif`.

    Examples
    --------
    >>> standard_scenarios(["MS", "CS"], 5)
    {'MS +5': {'MS': 5}, 'CS +5': {'CS': 5}, 'all five +5': {'MS': 5, 'CS': 5}}
    """
    out = {f"{e} {points:+g}": {e: points} for e in elements}
    out[f"all five {points:+g}"] = {e: points for e in elements}
    return out

#: Community resources used as DEA inputs (columns of ``data/raw/communities.csv``).
DEA_INPUTS = ("staff", "budget_10k_yuan", "floor_area_m2", "social_orgs", "volunteers")

__all__ = ["DEA_INPUTS", "community_scores", "community_efficiency", "ipma", "whatif",
           "standard_scenarios", "allocate", "frontier", "load_costs", "dea",
           "community_paths", "findings_table", "load_catalogue", "total_effects",
           "outer_weights", "bootstrap_replicates", "BootstrapReplicates"]


def community_scores(survey: pd.DataFrame, codebook: pd.DataFrame, weights: pd.Series,
                     k: int = 5, group: str = "community_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """0-100 item and construct scores per community (communities with >= ``k`` respondents).

    Item means come from :func:`analysis.study.scoring.community_means` (the compendium's disclosure
    rule); they are rescaled with the codebook's scale limits and combined with the IPMA item
    weights, so a community's element scores sit on the same scale as the map. The elements'
    scores equal :func:`analysis.study.scoring.composite_index` with ``normalisation="scale"`` and
    these item weights; the outcome (PV) is scored the same way.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (:func:`analysis.io.survey.load_survey`).
    codebook : pandas.DataFrame
    weights : pandas.Series
        Item -> weight (:func:`outer_weights`), renormalised within each construct.
    k : int
        Disclosure threshold.
    group : str
        Column holding the community id.

    Returns
    -------
    (item_scores, construct_scores) : tuple of DataFrame
        Both indexed by community id.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> equal = pd.Series(1.0, index=cb["item"])
    >>> items, scores = community_scores(load_survey(codebook=cb), cb, equal)
    >>> items.shape, scores.columns.tolist()
    ((47, 25), ['MS', 'CS', 'OM', 'RA', 'CC', 'PV'])
    """
    cons = elements(codebook) + [outcome(codebook)]
    means = community_means(survey, codebook, k=k, group=group, constructs=cons)
    items = rescale(means, codebook)
    return items, weighted_construct_scores(items, weights, codebook)


def community_efficiency(communities: pd.DataFrame, scores: pd.DataFrame,
                         inputs=DEA_INPUTS, group: str = "community_id") -> pd.DataFrame:
    """Input-oriented CCR and BCC efficiency of communities, side by side.

    Parameters
    ----------
    communities : DataFrame
        The community table (one row per community) with ``group`` and the ``inputs``.
    scores : DataFrame
        0-100 element and performance scores indexed by community id: the outputs.
    inputs : sequence of str
        Input columns.
    group : str
        Column of ``communities`` holding the community id.

    Returns
    -------
    DataFrame
        ``unit``, ``efficiency_crs``, ``efficiency_vrs``, ``scale_efficiency`` (CRS / VRS),
        ``efficient_crs``, ``efficient_vrs``, ``peers`` (VRS), and the VRS slacks and targets
        of every input and output; the communities are those in ``scores`` (sorted).

    Raises
    ------
    ValueError
        Input columns missing from the table, or scored communities without a row in it.

    References
    ----------
    Charnes, A., Cooper, W. W. & Rhodes, E. (1978). Measuring the efficiency of decision
    making units. *European Journal of Operational Research*, 2, 429-444.
    Banker, R. D., Charnes, A. & Cooper, W. W. (1984). Some models for estimating technical and
    scale inefficiencies in data envelopment analysis. *Management Science*, 30, 1078-1092.

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> equal = pd.Series(1.0, index=cb["item"])
    >>> _, scores = community_scores(load_survey(codebook=cb), cb, equal)
    >>> eff = community_efficiency(pd.read_csv(paths.COMMUNITIES), scores.head(10))
    >>> bool((eff["efficiency_crs"] <= eff["efficiency_vrs"] + 1e-9).all())
    True
    """
    missing = [c for c in [group, *inputs] if c not in communities.columns]
    if missing:
        raise ValueError(f"community table lacks column(s) {missing}")
    table = communities.set_index(group)
    absent = [c for c in scores.index if c not in table.index]
    if absent:
        raise ValueError(f"communities {absent[:5]} have scores but no row in the community table")
    ids = sorted(scores.index)
    x = table.loc[ids, list(inputs)]
    y = scores.loc[ids]
    crs = dea(x, y, rts="crs")
    vrs = dea(x, y, rts="vrs")
    out = pd.DataFrame({"unit": ids, "efficiency_crs": crs["efficiency"].to_numpy(),
                        "efficiency_vrs": vrs["efficiency"].to_numpy()})
    out["scale_efficiency"] = out["efficiency_crs"] / out["efficiency_vrs"]
    out["efficient_crs"] = crs["efficient"].to_numpy()
    out["efficient_vrs"] = vrs["efficient"].to_numpy()
    rest = vrs.drop(columns=["unit", "efficiency", "efficient"])
    return pd.concat([out, rest.reset_index(drop=True)], axis=1)


# --- scenarios whose labels are true, and an IPMA with its noise ----------------------------------


def intervention_effects(result, levels: Mapping[str, float], target: str = "PV",
                         propagate: bool = True) -> pd.Series:
    """Change of every construct when the levels of some constructs are set to rise.

    The named constructs rise by exactly ``levels`` (their structural equations are replaced
    by the new level, an intervention in the sense of Pearl 2009, ch. 3); every other construct
    follows its equation, ``d = B d`` on the free rows, so that the changes of the named
    constructs propagate to the constructs downstream of them. With ``propagate=False`` the
    other *elements* are held at their level too, i.e. only the target follows (the direct
    effects). Contrast :func:`scenario_effects`, which shifts equations: there a shift of
    every element's equation adds up along the chain.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A fit, or its estimates table.
    levels : mapping of str to float
        Construct -> rise of its level (points on its scale).
    target : str
        The outcome construct; never held.
    propagate : bool
        Whether constructs not named follow their equations (True) or are held (False).

    Returns
    -------
    pandas.Series
        Change of each latent construct (named constructs exactly ``levels``).

    Raises
    ------
    ValueError
        A named construct or the target is not in the model, or the target is named.

    References
    ----------
    Pearl, J. (2009). *Causality* (2nd ed.), ch. 3 (interventions in structural models).
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "Y", "Z", "Y", "Z", "Z"], "op": ["=~"] * 3 + ["~"] * 3,
    ...                     "rhs": ["x1", "y1", "z1", "X", "X", "Y"],
    ...                     "est": [1, 1, 1, 0.5, 0.2, 0.4]})
    >>> intervention_effects(est, {"X": 10, "Y": 10}, target="Z").round(2).to_dict()
    {'X': 10.0, 'Y': 10.0, 'Z': 6.0}
    >>> intervention_effects(est, {"X": 10}, target="Z").round(2).to_dict()
    {'X': 10.0, 'Y': 5.0, 'Z': 4.0}
    >>> intervention_effects(est, {"X": 10}, target="Z", propagate=False).round(2).to_dict()
    {'X': 10.0, 'Y': 0.0, 'Z': 2.0}
    """
    b = structural_matrix(result)
    unknown = [k for k in levels if k not in b.index]
    if unknown:
        raise ValueError(f"scenario names construct(s) {unknown} that are not in the model")
    if target not in b.index:
        raise ValueError(f"target construct {target!r} is not a latent construct of the model")
    if target in levels:
        raise ValueError(f"the target {target!r} cannot be set by a scenario")
    fixed = [k for k in b.index if k in levels or (not propagate and k != target)]
    bm = b.to_numpy(float).copy()
    delta = np.zeros(len(b))
    for k in fixed:
        i = b.index.get_loc(k)
        bm[i, :] = 0.0
        delta[i] = float(levels.get(k, 0.0))
    return pd.Series(np.linalg.solve(np.eye(len(b)) - bm, delta), index=b.index)


def level_scenarios(elements, points: float = 10.0) -> dict[str, dict[str, float]]:
    """Each element's level up by ``points`` alone, then every element's level together.

    Parameters
    ----------
    elements : sequence of str
    points : float

    Returns
    -------
    dict of str to dict of str to float
        For :func:`whatif_levels`: ``"MS +10"`` ... and ``"each element +10"``.

    Examples
    --------
    >>> level_scenarios(["MS", "CS"], 5)
    {'MS +5': {'MS': 5}, 'CS +5': {'CS': 5}, 'each element +5': {'MS': 5, 'CS': 5}}
    """
    out = {f"{e} {points:+g}": {e: points} for e in elements}
    out[f"each element {points:+g}"] = {e: points for e in elements}
    return out


def whatif_levels(result, scenarios: Mapping[str, Mapping[str, float]], target: str = "PV",
                  boot=None, level: float = 0.95, propagate: bool = True) -> pd.DataFrame:
    """Predicted change of the target when element levels rise, with bootstrap intervals.

    Parameters
    ----------
    result : SEMResult or estimates DataFrame
    scenarios : mapping of name -> {construct: rise of its level}
        E.g. :func:`level_scenarios`.
    target : str
    boot : optional
        Bootstrap replicates as for :func:`whatif`.
    level : float
        Coverage of the percentile interval.
    propagate : bool
        See :func:`intervention_effects`.

    Returns
    -------
    pandas.DataFrame
        ``scenario``, ``levels`` (text), ``delta`` (target), ``ci_lower``, ``ci_upper``,
        ``n_boot``, then ``d_<construct>``: the point change of every construct, so that a
        label can be checked against what the scenario does.

    Raises
    ------
    ValueError
        No scenarios; see :func:`intervention_effects`.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "Y", "Z", "Y", "Z", "Z"], "op": ["=~"] * 3 + ["~"] * 3,
    ...                     "rhs": ["x1", "y1", "z1", "X", "X", "Y"],
    ...                     "est": [1, 1, 1, 0.5, 0.2, 0.4]})
    >>> t = whatif_levels(est, {"both +10": {"X": 10, "Y": 10}}, target="Z")
    >>> t[["delta", "d_X", "d_Y"]].round(2).values.tolist()
    [[6.0, 10.0, 10.0]]
    """
    if not scenarios:
        raise ValueError("no scenarios given")
    reps = _replicates(boot)
    alpha = (1 - level) / 2
    rows = []
    for name, lv in scenarios.items():
        point = intervention_effects(result, lv, target, propagate)
        draws = np.array([intervention_effects(r, lv, target, propagate)[target] for r in reps])
        lo, hi = (np.quantile(draws, [alpha, 1 - alpha]) if len(draws) else (np.nan, np.nan))
        row = {"scenario": name, "levels": ", ".join(f"{k} {v:+g}" for k, v in lv.items()),
               "delta": float(point[target]), "ci_lower": float(lo), "ci_upper": float(hi),
               "n_boot": len(draws)}
        row.update({f"d_{k}": float(v) for k, v in point.items()})
        rows.append(row)
    return pd.DataFrame(rows)


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
    reps = _replicates(boot)
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
