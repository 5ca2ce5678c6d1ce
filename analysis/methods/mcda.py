"""Scoring communities: composite index, fuzzy grades, TOPSIS, and uncertainty of the ranks.

The steps follow the OECD/JRC *Handbook on Constructing Composite Indicators* (Nardo et al.
2008): residents' answers are averaged per community (justified by :mod:`analysis.methods.agreement`),
each indicator (item) is normalised, weighted and aggregated into five element scores and one
overall performance score; the ranking is then stress-tested by a Monte Carlo over the
methodological choices with Sobol sensitivity indices (Saisana, Saltelli & Tarantola 2005).

Communities with fewer than ``k`` respondents are never scored: they are listed as suppressed
(statistical disclosure control), so no published number describes a handful of residents.

All data shipped with the compendium are synthetic; no score here is a result of the original
study.

References
----------
Nardo, M., Saisana, M., Saltelli, A., Tarantola, S., Hoffman, A., & Giovannini, E. (2008).
*Handbook on Constructing Composite Indicators: Methodology and User Guide*. OECD/JRC.

Saisana, M., Saltelli, A., & Tarantola, S. (2005). Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators. *Journal of the Royal
Statistical Society A*, 168(2), 307-323.

Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making*. Springer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.io.checks import first_labels

#: ``minmax`` (observed range across communities, 0-100), ``zscore`` (mean 0, sd 1 across
#: communities), ``distance`` (percent of the best community), ``scale`` (the questionnaire's
#: theoretical range, 0-100: an absolute score that does not depend on the other communities).
NORMALISATIONS = ("scale", "minmax", "zscore", "distance")
AGGREGATIONS = ("arithmetic", "geometric")

_TOL = 1e-6




def check_choice(value: str, options: Sequence[str], what: str) -> str:
    if value not in options:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(options)}")
    return value


# --- normalisation and weights ---------------------------------------------------------------


def normalise(X: pd.DataFrame, method: str = "scale", *, codebook: pd.DataFrame | None = None) -> pd.DataFrame:
    """Normalise each indicator (column) across units (rows).

    ``scale``: ``100 (x - scale_min) / (scale_max - scale_min)`` with the codebook's theoretical
    range; ``minmax``: ``100 (x - min) / (max - min)`` over the units; ``zscore``:
    ``(x - mean) / sd`` (population sd over the units); ``distance``: ``100 x / max``, the
    distance to the best unit (all indicators point the positive way after recoding).

    References: Nardo et al. (2008), Handbook on Constructing Composite Indicators, section 5.

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    >>> normalise(X, "minmax")["a"].tolist()
    [0.0, 50.0, 100.0]
    >>> normalise(X, "distance")["a"].round(2).tolist()
    [33.33, 66.67, 100.0]
    """
    check_choice(method, NORMALISATIONS, "normalisation")
    X = X.astype(float)
    if method == "scale":
        if codebook is None:
            raise ValueError("normalisation 'scale' needs the codebook (scale_min, scale_max)")
        cb = codebook.set_index("item").reindex(X.columns)
        if cb["scale_min"].isna().any():
            raise ValueError(f"items not in the codebook: {first_labels(cb.index[cb['scale_min'].isna()])}")
        lo, hi = cb["scale_min"].astype(float), cb["scale_max"].astype(float)
        return 100 * (X - lo) / (hi - lo)
    if method == "distance":
        best = X.max()
        bad = best.index[best <= 0]
        if len(bad):
            raise ValueError(f"distance to the best needs positive values; not so for {first_labels(bad)}")
        return 100 * X / best
    spread = (X.max() - X.min()) if method == "minmax" else X.std(ddof=0)
    flat = spread.index[spread <= 0]
    if len(flat):
        raise ValueError(f"indicator(s) constant across units, cannot {method}-normalise: {first_labels(flat)}")
    if method == "minmax":
        return 100 * (X - X.min()) / spread
    return (X - X.mean()) / spread


def check_weights(w: pd.Series, what: str) -> pd.Series:
    w = w.astype(float)
    if w.isna().any():
        raise ValueError(f"{what} missing for {first_labels(w.index[w.isna()])}")
    neg = w[w < 0]
    if len(neg):
        raise ValueError(f"{what} must be non-negative; negative for "
                         f"{first_labels(f'{i} ({v:g})' for i, v in neg.items())}")
    if abs(w.sum() - 1) > _TOL:
        raise ValueError(f"{what} must sum to 1, they sum to {w.sum():.6g}")
    return w


# --- the composite index ----------------------------------------------------------------------


def aggregate(Z: np.ndarray, w: np.ndarray, aggregation: str) -> np.ndarray:
    """Weighted arithmetic or geometric mean of the rows of ``Z`` (weights sum to 1)."""
    if aggregation == "arithmetic":
        return Z @ w
    used = w > 0
    lo = Z[:, used].min()
    # A geometric mean needs positive values: shift by one constant so the lowest used value
    # is 1 (min-max and z-scores reach 0 or below). The shift keeps each indicator's spread.
    shift = 1.0 - lo if lo <= 0 else 0.0
    return np.exp(np.log(Z[:, used] + shift) @ w[used])


# --- TOPSIS ------------------------------------------------------------------------------------


def topsis(X, weights, benefit=None) -> pd.Series:
    """TOPSIS relative closeness to the ideal solution (Hwang & Yoon 1981).

    Vector normalisation ``r = x / sqrt(sum x^2)`` per criterion, weighted ``v = w r``; the
    ideal takes the best value of each criterion (max for benefit, min for cost criteria), the
    anti-ideal the worst; closeness ``C = D- / (D+ + D-)`` from Euclidean distances.

    Parameters
    ----------
    X : DataFrame or 2-D array
        Alternatives (rows) x criteria (columns).
    weights : array-like or Series
        Non-negative, summing to 1, one per criterion (a Series is aligned to the columns).
    benefit : array-like of bool, optional
        True for benefit criteria (more is better); default all benefit.

    Returns
    -------
    pandas.Series
        Closeness in [0, 1] per alternative, name ``"topsis"``.

    Examples
    --------
    >>> X = [[5, 8, 4], [7, 6, 8], [8, 8, 6], [7, 4, 6]]
    >>> topsis(X, [0.3, 0.4, 0.3]).round(4).tolist()
    [0.5037, 0.6581, 0.7482, 0.334]
    """
    X = pd.DataFrame(X).astype(float)
    if X.isna().any().any():
        raise ValueError(f"topsis: missing values in rows {first_labels(X.index[X.isna().any(axis=1)])}")
    w = weights.reindex(X.columns) if isinstance(weights, pd.Series) else pd.Series(
        np.asarray(weights, dtype=float), index=X.columns[:len(np.atleast_1d(weights))])
    if len(w) != X.shape[1]:
        raise ValueError(f"topsis: {len(w)} weights for {X.shape[1]} criteria")
    w = check_weights(w, "topsis weights").to_numpy()
    b = np.ones(X.shape[1], bool) if benefit is None else np.asarray(benefit, dtype=bool)
    if b.shape != (X.shape[1],):
        raise ValueError(f"topsis: benefit needs one flag per criterion ({X.shape[1]})")
    norm = np.sqrt((X**2).sum())
    if (norm == 0).any():
        raise ValueError(f"topsis: criterion all zero: {first_labels(X.columns[norm.to_numpy() == 0])}")
    V = (X / norm).to_numpy() * w
    ideal = np.where(b, V.max(axis=0), V.min(axis=0))
    anti = np.where(b, V.min(axis=0), V.max(axis=0))
    d_plus = np.sqrt(((V - ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((V - anti) ** 2).sum(axis=1))
    return pd.Series(d_minus / (d_plus + d_minus), index=X.index, name="topsis")
