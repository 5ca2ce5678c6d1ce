"""Importance-performance map analysis (IPMA) and what-if scenarios from a fitted SEM.

Importance of a construct is its unstandardised total effect on the target construct, read
from the structural matrix ``B`` of the fitted model (``B[i, j]`` = path ``j -> i``):
``T = (I - B)^-1 - I`` (Ringle & Sarstedt 2016). Performance is the 0-100 rescaled score
(:mod:`analysis.performance`). What-if scenarios push exogenous shifts ``delta`` into the
elements' equations; every construct then moves by ``(I - B)^-1 delta``, so a rise in an early
element also carries the rise of the elements downstream of it.

Item weights. PLS-SEM's IPMA weights items by their rescaled outer weights. A reflective
CB-SEM has loadings, not weights; here an item's weight within its construct is its
standardised loading divided by the sum of its construct's standardised loadings (so the
weights are positive and sum to one), and the item's importance is that weight times the
construct's total effect, as in Ringle & Sarstedt (2016, step 4).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .codebook import construct_items
from .performance import construct_scores, item_means

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
    """Latent variables of the model (left of ``=~``), in order of appearance."""
    est = _estimates(result)
    return list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))


def structural_matrix(result) -> pd.DataFrame:
    """``B`` among latent constructs: ``B.loc[outcome, predictor]`` = unstandardised path.

    Regressions on observed covariates are ignored (they do not carry effects between
    constructs).
    """
    est = _estimates(result)
    lv = latent_constructs(est)
    b = pd.DataFrame(0.0, index=lv, columns=lv)
    reg = est[(est["op"] == "~") & est["lhs"].isin(lv) & est["rhs"].isin(lv)]
    for lhs, rhs, val in zip(reg["lhs"], reg["rhs"], reg["est"]):
        b.loc[lhs, rhs] = float(val)
    return b


def total_effects(result) -> pd.DataFrame:
    """Total effects ``T = (I - B)^-1 - I``; ``T.loc[target, source]`` is source's effect.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "M", "Y", "Y", "M", "Y"], "op": ["=~"] * 3 + ["~"] * 3,
    ...                     "rhs": ["x1", "m1", "y1", "M", "X", "X"], "est": [1, 1, 1, .5, .4, .2]})
    >>> round(float(total_effects(est).loc["Y", "X"]), 3)  # 0.2 + 0.4 * 0.5
    0.4
    """
    b = structural_matrix(result)
    eye = np.eye(len(b))
    try:
        t = np.linalg.inv(eye - b.to_numpy()) - eye
    except np.linalg.LinAlgError as err:  # only for non-recursive models with a unit loop
        raise ValueError("I - B is singular: the structural model has no total effects") from err
    return pd.DataFrame(t, index=b.index, columns=b.columns)


def outer_weights(result, codebook: pd.DataFrame | None = None) -> pd.Series:
    """Item weights within each construct: standardised loadings rescaled to sum to one.

    Uses ``std_all`` when present, otherwise ``est``. Negative loadings (an item not
    reverse-coded) are an error: the weight of a performance indicator must be positive.
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
        From :func:`analysis.codebook.load_codebook`; gives items and scale limits.
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

    Examples
    --------
    >>> table = ipma(result, survey, codebook, target="PV", by="community_type")  # doctest: +SKIP
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
    perf = construct_scores(means, w, codebook).iloc[0]
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


def _replicates(boot) -> list[pd.DataFrame]:
    """Bootstrap replicates as a list of estimates frames (accepts the common layouts)."""
    if boot is None:
        return []
    est = getattr(boot, "estimates", None)
    if isinstance(boot, pd.DataFrame) or isinstance(est, pd.DataFrame):
        frame = boot if isinstance(boot, pd.DataFrame) else est
        for key in ("replicate", "boot", "rep", "b"):
            if key in frame.columns:
                return [g for _, g in frame.groupby(key, sort=True)]
        raise ValueError("bootstrap frame needs a replicate column ('replicate' or 'boot')")
    return [getattr(r, "estimates", r) for r in boot]


def replicates_from_draws(partable: pd.DataFrame, draws: np.ndarray) -> pd.DataFrame:
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
    DataFrame
        ``replicate lhs op rhs est`` for the loadings and regressions, ready for
        :func:`whatif`.
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
    out.attrs["n_failed"] = int((~ok).sum())
    return out


def bootstrap_replicates(result, n_boot: int, seed) -> pd.DataFrame:
    """Nonparametric bootstrap of a fitted model, as replicate estimates for :func:`whatif`.

    Calls :func:`analysis.sem.bootstrap.bootstrap_draws` (case resampling, each resample
    refitted by ML; needs a ``missing="listwise"`` fit) and converts the draws with
    :func:`replicates_from_draws`.
    """
    from .sem.bootstrap import bootstrap_draws

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
        Bootstrap replicates of the estimates: a list of estimates frames (or results), or one
        long frame with a ``replicate`` column.
    level : float
        Coverage of the percentile interval.

    Returns
    -------
    DataFrame
        ``scenario``, ``shifts`` (text), ``delta`` (point estimate), ``ci_lower``,
        ``ci_upper`` (NaN without ``boot``), ``n_boot``.

    Examples
    --------
    >>> whatif(result, {"MS +10": {"MS": 10}}, boot=replicates)  # doctest: +SKIP
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
    """Each element alone up by ``points``, then all together."""
    out = {f"{e} {points:+g}": {e: points} for e in elements}
    out[f"all five {points:+g}"] = {e: points for e in elements}
    return out
