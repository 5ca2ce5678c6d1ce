"""Budget allocation across governance elements under diminishing returns.

Spending ``x_j`` (10k yuan) on element ``j`` raises its 0-100 score by

    d_j(x_j) = h_j * (1 - exp(-x_j / (c_j * h_j))),

where ``c_j`` is the cost of one score point at the margin when nothing has been spent yet and
``h_j = ceiling - current score`` is the headroom to the scale maximum: the first points are
bought at ``c_j`` each, every further point is dearer, and the score can never pass the
ceiling. The predicted performance gain is ``sum_j a_j d_j(x_j)`` with ``a_j`` the element's
total effect on performance (its IPMA importance). The objective is concave and separable, so
the optimum is unique and satisfies the KKT conditions

    a_j / c_j * exp(-x_j / (c_j h_j)) = mu   if x_j > 0,    a_j / c_j <= mu   if x_j = 0,

("equalise the marginal gain per yuan"), which the tests use as an independent check of the
SLSQP solution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize


def response(spend, cost, headroom):
    """Score points gained for ``spend`` (vectorised); concave, capped at ``headroom``.

    Examples
    --------
    >>> round(float(response(10.0, cost=1.0, headroom=10.0)), 4)
    6.3212
    """
    spend, cost, headroom = (np.asarray(a, dtype=float) for a in (spend, cost, headroom))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = headroom * -np.expm1(-spend / (cost * headroom))
    return np.where(headroom > 0, out, 0.0)


def _validate(importance, cost, current, budget, ceiling):
    a, c, p = (np.asarray(v, dtype=float) for v in (importance, cost, current))
    if not (a.shape == c.shape == p.shape) or a.ndim != 1:
        raise ValueError("importance, cost and current must be 1-d and of equal length")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError(f"costs per point must be positive and finite; offending positions "
                         f"{np.flatnonzero(~np.isfinite(c) | (c <= 0)).tolist()[:5]}")
    if not np.isfinite(budget) or budget < 0:
        raise ValueError(f"budget must be a finite number >= 0, got {budget!r}")
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(p)):
        raise ValueError("importance and current scores must be finite")
    if np.any(p > ceiling) or np.any(p < 0):
        raise ValueError(f"current scores must lie in [0, {ceiling}]")
    return a, c, p


def kkt_allocation(importance, cost, current, budget: float, ceiling: float = 100.0) -> np.ndarray:
    """The optimal spending from the KKT conditions (water-filling on mu, by bisection).

    Independent of :func:`allocate`'s numerical optimiser; used to check it.
    """
    a, c, p = _validate(importance, cost, current, budget, ceiling)
    h = ceiling - p
    live = (a > 0) & (h > 0)
    if budget == 0 or not live.any():
        return np.zeros_like(a)
    ratio = np.where(live, a / c, 0.0)

    def spend(log_mu):
        gap = np.where(live, np.log(np.where(live, ratio, 1.0)) - log_mu, 0.0)
        return np.where(live & (gap > 0), c * h * gap, 0.0)

    # bisection on log(mu): mu spans many orders of magnitude as the budget grows
    lo, hi = np.log(ratio[live].max()) - 1e4, np.log(ratio[live].max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if spend(mid).sum() > budget:
            lo = mid
        else:
            hi = mid
    return spend(0.5 * (lo + hi))


def _polish(x, a, c, h, live, budget):
    """Closed-form stationary point on the active set of ``x``, if it is the KKT point."""
    active = live & (x > 1e-9 * budget)
    if not active.any():
        return x
    ch = c[active] * h[active]
    gain_ratio = np.log(a[active] / c[active])
    log_mu = (np.sum(ch * gain_ratio) - budget) / ch.sum()
    exact = np.zeros_like(x)
    exact[active] = ch * (gain_ratio - log_mu)
    idle = live & ~active
    ok = np.all(exact[active] >= 0) and np.all(np.log(a[idle] / c[idle]) <= log_mu + 1e-9)
    return exact if ok else x


def allocate(importance, cost, current, budget: float, ceiling: float = 100.0,
             names=None, polish: bool = True) -> pd.DataFrame:
    """Split ``budget`` across elements to maximise the predicted performance gain.

    Parameters
    ----------
    importance : array-like
        Total effect of each element on performance (points of PV per point of element).
        Elements with importance <= 0 receive nothing.
    cost : array-like
        Cost (10k yuan) of the first score point of each element; must be > 0.
    current : array-like
        Current 0-100 score of each element.
    budget : float
        Total budget (10k yuan), >= 0.
    ceiling : float
        Scale maximum (100 on the rescaled scale).
    names : sequence, optional
        Element labels.
    polish : bool
        Refine the SLSQP solution on the set of elements it funds: the stationarity
        conditions on that set have a closed form (see the module docstring), which is taken
        when it is feasible and satisfies the KKT conditions of the unfunded elements. This
        removes the optimiser's ~1e-6 wobble, so small changes in the inputs do not flip the
        last printed digits.

    Returns
    -------
    DataFrame
        One row per element: ``element``, ``spend``, ``share``, ``points`` (score gain),
        ``new_score``, ``pv_gain`` (importance x points), ``marginal_gain_per_10k``.

    Notes
    -----
    Solved with SLSQP on the concave objective with analytic gradient, started from the
    proportional-to-marginal-gain split; the solution is then polished so that the budget
    constraint holds exactly. Because the problem is separable and strictly concave in the
    live elements, the KKT solution (:func:`kkt_allocation`) is the unique optimum.

    References
    ----------
    Boyd, S., & Vandenberghe, L. (2004). *Convex Optimization*, §5.5.3 (water-filling).

    Examples
    --------
    >>> out = allocate([0.3, 0.3], [1.0, 1.0], [50.0, 50.0], budget=20.0)
    >>> out["spend"].round(3).tolist()
    [10.0, 10.0]
    """
    a, c, p = _validate(importance, cost, current, budget, ceiling)
    h = ceiling - p
    live = (a > 0) & (h > 0)
    names = list(range(len(a))) if names is None else list(names)
    x = np.zeros_like(a)
    if budget > 0 and live.any():
        idx = np.flatnonzero(live)
        aa, cc, hh = a[idx], c[idx], h[idx]
        scale = budget  # optimise shares of the budget: well conditioned for any budget size
        norm = scale * np.max(aa / cc)  # gain of the first yuan spent: makes the gradient O(1)

        def neg_gain(z):
            return -np.sum(aa * hh * -np.expm1(-z * scale / (cc * hh))) / norm

        def neg_grad(z):
            return -(aa / cc) * np.exp(-z * scale / (cc * hh)) * scale / norm

        z0 = (aa / cc) / np.sum(aa / cc)
        res = minimize(neg_gain, z0, jac=neg_grad, method="SLSQP",
                       bounds=[(0, 1)] * len(idx),
                       constraints=[{"type": "ineq", "fun": lambda z: 1 - z.sum(),
                                     "jac": lambda z: -np.ones_like(z)}],
                       options={"ftol": 1e-12, "maxiter": 500})
        if not res.success:
            raise RuntimeError(f"budget allocation did not converge: {res.message}")
        z = np.clip(res.x, 0, None)
        z = z / max(z.sum(), 1.0)  # the gain is increasing, so the budget is spent in full
        x[idx] = z * scale
        if polish:
            x = _polish(x, a, c, h, live, budget)
    pts = response(x, c, h)
    out = pd.DataFrame({
        "element": names,
        "spend": x,
        "share": x / budget if budget > 0 else np.zeros_like(x),
        "points": pts,
        "new_score": p + pts,
        "pv_gain": a * pts,
        "marginal_gain_per_10k": np.where(h > 0, a / c * np.exp(-x / (c * np.where(h > 0, h, 1))), 0.0),
    })
    return out


def frontier(importance, cost, current, budgets, ceiling: float = 100.0,
             names=None) -> pd.DataFrame:
    """Optimal predicted performance gain for each budget in ``budgets`` (tidy, long).

    Returns
    -------
    DataFrame
        Columns ``budget``, ``element``, ``spend``, ``pv_gain``; plus one row per budget with
        ``element == "total"`` holding the total gain.

    Examples
    --------
    >>> f = frontier([0.3], [1.0], [50.0], budgets=[0, 10])
    >>> f.loc[f.element == "total", "pv_gain"].round(3).tolist()
    [0.0, 2.719]
    """
    parts = []
    for b in budgets:
        alloc = allocate(importance, cost, current, float(b), ceiling, names)
        alloc.insert(0, "budget", float(b))
        parts.append(alloc[["budget", "element", "spend", "pv_gain"]])
        parts.append(pd.DataFrame({"budget": [float(b)], "element": ["total"],
                                   "spend": [alloc["spend"].sum()],
                                   "pv_gain": [alloc["pv_gain"].sum()]}))
    return pd.concat(parts, ignore_index=True)
