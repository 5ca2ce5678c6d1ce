"""Performance on the 0-100 scale: item means and weighted construct scores by group.

The importance-performance map and the per-community paths both need "how well is this item /
element doing" on a common scale. Items are rescaled with the theoretical scale limits from the
codebook, ``100 (x - min) / (max - min)`` (Ringle & Sarstedt 2016), so 0 is the worst and 100
the best possible answer whatever the number of scale points.

This is a deliberately small stand-in for :mod:`analysis.study.scoring` (community composite index);
it uses the same IPMA outer weights as :func:`analysis.study.improvement.ipma` so that the map and the
community table agree.
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

    Returns a frame with one column per codebook item found in ``data`` (NaN stays NaN).

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
    """Mean 0-100 item scores, overall (one row, index ``"all"``) or per level of ``by``."""
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

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "construct": ["A", "A"]})
    >>> construct_scores(pd.DataFrame({"A1": [40.0], "A2": [80.0]}), None, cb)["A"].tolist()
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
    """Latent variables of the model (left of ``=~``), in order of appearance."""
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
    """
    est = _estimates(result)
    return sem_structural_matrix(est, "est", latent_constructs(est))


def total_effects(result) -> pd.DataFrame:
    """Total effects among the latent constructs; ``T.loc[target, source]``.

    Parameters
    ----------
    result : SEMResult or DataFrame

    Returns
    -------
    DataFrame

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
    """Nonparametric bootstrap of a fitted model, as replicate estimates for :func:`whatif`.

    Calls :func:`analysis.sem.bootstrap_draws` (case resampling, each resample
    refitted by ML; needs a ``missing="listwise"`` fit) and converts the draws with
    :func:`replicates_from_draws`.
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

    Returns
    -------
    (item_scores, construct_scores) : tuple of DataFrame
        Both indexed by community id.
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

    Returns
    -------
    DataFrame
        ``unit``, ``efficiency_crs``, ``efficiency_vrs``, ``scale_efficiency`` (CRS / VRS),
        ``efficient_crs``, ``efficient_vrs``, ``peers`` (VRS), and the VRS slacks and targets
        of every input and output; the communities are those in ``scores`` (sorted).
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
