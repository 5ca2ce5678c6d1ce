"""What-if scenarios: how much the outcome would move if elements were raised.

* :func:`scenario_effects`, :func:`whatif`, :func:`standard_scenarios`: shifts of the
  equations' intercepts (the effect of an intervention on each element's own equation, which
  then propagates along the chain);
* :func:`intervention_effects`, :func:`level_scenarios`, :func:`whatif_levels`: scenarios
  whose labels are true — each named element's *level* rises by the stated points, the other
  elements follow through the chain, and the propagation is reported separately.

Both come with bootstrap intervals from :func:`analysis.study.importance.bootstrap_replicates`.

References
----------
Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
*Sociological Methodology*, 17, 37-69.
Pearl, J. (2009). *Causality* (2nd ed.), ch. 3 (interventions as do-operations on a
structural model).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.study.importance import replicate_tables, structural_matrix

__all__ = [
    "scenario_effects", "whatif", "standard_scenarios", "intervention_effects",
    "level_scenarios", "whatif_levels"
]


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
    reps = replicate_tables(boot)
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
    reps = replicate_tables(boot)
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
