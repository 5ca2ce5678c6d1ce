"""Weights for the indicator system: AHP (subjective), entropy and CRITIC (objective),
SEM-based weights, and their combination.

Every function takes plain arrays or DataFrames and returns a pandas Series or a tidy
DataFrame. Definitions follow the sources cited in each docstring and
``/work/shared/reference/methods.md``; tests check them against published worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.io.checks import check_pairwise, masked_labels

#: Saaty's random consistency index RI(n), n = 1..10, the table Chinese AHP studies use.
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
            9: 1.45, 10: 1.49}

#: Conventional acceptance threshold: a judgement matrix is consistent if CR < 0.10.
CR_THRESHOLD = 0.10


# --------------------------------------------------------------------------- AHP




def ahp_consistency(matrix) -> dict:
    """Principal eigenvalue, consistency index and ratio of an AHP matrix.

    Returns
    -------
    dict with ``n``, ``lambda_max``, ``ci`` = (lambda_max - n)/(n - 1), ``ri`` (Saaty's
    table), ``cr`` = ci / ri (0 for n <= 2, where every reciprocal matrix is consistent).
    """
    a = check_pairwise(matrix)
    n = a.shape[0]
    if n > max(SAATY_RI):
        raise ValueError(f"Saaty's RI table covers n <= {max(SAATY_RI)}, got n = {n}")
    vals = np.linalg.eigvals(a)
    lam = float(np.max(vals.real))
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI[n]
    cr = ci / ri if ri > 0 else 0.0
    return {"n": n, "lambda_max": lam, "ci": ci, "ri": ri, "cr": cr}


def ahp_weights(matrix):
    """AHP priorities (principal right eigenvector) and consistency ratio.

    Parameters
    ----------
    matrix : array-like or DataFrame, shape (n, n)
        Positive reciprocal judgement matrix on Saaty's 1-9 scale; entry ``(i, j)`` says
        how much more important ``i`` is than ``j``.

    Returns
    -------
    weights : numpy.ndarray or pandas.Series
        Normalised to sum 1 (a Series indexed by the columns if ``matrix`` is a DataFrame).
    cr : float
        Consistency ratio CI/RI with Saaty's RI; accept the judgements if CR < 0.10.

    References
    ----------
    Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill.
    Saaty, T. L. (2008). Decision making with the analytic hierarchy process.
    *Int. J. Services Sciences*, 1(1), 83-98.

    Examples
    --------
    >>> A = [[1, 4, 3, 7], [1/4, 1, 1/3, 3], [1/3, 3, 1, 5], [1/7, 1/3, 1/5, 1]]
    >>> w, cr = ahp_weights(A)
    >>> np.round(w, 5).tolist(), round(cr, 4)
    ([0.54757, 0.12656, 0.26995, 0.05593], 0.0439)
    """
    a = check_pairwise(matrix)
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    # Perron-Frobenius: the principal eigenvector of a positive matrix has one sign.
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    cr = ahp_consistency(a)["cr"]
    if isinstance(matrix, pd.DataFrame):
        w = pd.Series(w, index=list(matrix.columns), name="weight")
    return w, cr


def expert_consistency(panel: dict) -> pd.DataFrame:
    """Consistency of each expert's matrix: lambda_max, CI, CR and whether CR < 0.10."""
    rows = []
    for expert, m in panel.items():
        c = ahp_consistency(m)
        rows.append({"expert_id": expert, "lambda_max": c["lambda_max"], "ci": c["ci"],
                     "cr": c["cr"], "consistent": c["cr"] < CR_THRESHOLD})
    return pd.DataFrame(rows)


@dataclass
class GroupAHP:
    """Result of :func:`group_ahp`."""

    weights: pd.Series          #: group priorities over the elements
    cr: float                   #: CR of the aggregated matrix (AIJ) or mean CR of kept (AIP)
    method: str                 #: "aij" or "aip"
    consistency: pd.DataFrame   #: every expert's lambda_max, CI, CR, kept flag
    screened: list              #: experts dropped for CR >= threshold


def group_ahp(panel: dict, method: str = "aij", threshold: float = CR_THRESHOLD) -> GroupAHP:
    """Aggregate an expert panel after screening out inconsistent experts.

    Experts whose CR >= ``threshold`` are dropped (and reported). Then either

    * ``"aij"`` (aggregation of individual judgements): the element-wise geometric mean of
      the kept matrices, which is again reciprocal, and its principal eigenvector; or
    * ``"aip"`` (aggregation of individual priorities): the arithmetic mean of the kept
      experts' priority vectors.

    References
    ----------
    Forman, E., & Peniwati, K. (1998). Aggregating individual judgments and priorities with
    the analytic hierarchy process. *EJOR*, 108(1), 165-169.
    Aczél, J., & Saaty, T. L. (1983). Procedures for synthesizing ratio judgements.
    *J. Math. Psychology*, 27(1), 93-102.

    Examples
    --------
    >>> panel = load_expert_panel()                                 # doctest: +SKIP
    >>> g = group_ahp(panel, "aij"); g.weights.round(3); g.screened  # doctest: +SKIP
    """
    method = method.lower()
    if method not in ("aij", "aip"):
        raise ValueError(f"method must be 'aij' or 'aip', got {method!r}")
    cons = expert_consistency(panel)
    cons["kept"] = cons["cr"] < threshold
    kept = cons.loc[cons["kept"], "expert_id"].tolist()
    screened = cons.loc[~cons["kept"], "expert_id"].tolist()
    if not kept:
        raise ValueError(f"no expert has CR < {threshold}; cannot aggregate the panel")
    first = panel[kept[0]]
    labels = list(first.columns)
    if method == "aij":
        logs = np.mean([np.log(np.asarray(panel[e], float)) for e in kept], axis=0)
        agg = pd.DataFrame(np.exp(logs), index=labels, columns=labels)
        w, cr = ahp_weights(agg)
    else:
        w = pd.Series(np.mean([ahp_weights(panel[e])[0] for e in kept], axis=0),
                      index=labels, name="weight")
        w = w / w.sum()
        cr = float(cons.loc[cons["kept"], "cr"].mean())
    return GroupAHP(weights=w.rename("weight"), cr=float(cr), method=method,
                    consistency=cons, screened=screened)


# ----------------------------------------------------------------- objective weights
def _as_frame(X) -> pd.DataFrame:
    df = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, float))
    if df.shape[0] < 2 or df.shape[1] < 1:
        raise ValueError(f"need at least 2 rows and 1 indicator, got shape {df.shape}")
    for col in df.columns:
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = vals.isna().to_numpy() | ~np.isfinite(vals.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            raise ValueError(f"indicator {col!r} has missing or non-numeric values in rows "
                             f"{masked_labels(bad, list(df.index))}; impute or drop them first")
        df[col] = vals.astype(float)
    return df


def _benefit(benefit, columns) -> np.ndarray:
    if benefit is None:
        return np.ones(len(columns), bool)
    if isinstance(benefit, dict):
        missing = [c for c in columns if c not in benefit]
        if missing:
            raise ValueError(f"benefit has no entry for {missing}")
        return np.array([bool(benefit[c]) for c in columns])
    b = np.asarray(benefit, bool)
    if b.shape != (len(columns),):
        raise ValueError(f"benefit must have one flag per indicator ({len(columns)})")
    return b


def minmax(X, benefit=None) -> pd.DataFrame:
    """Min-max normalise each indicator to [0, 1]; cost indicators as (max - x)/(max - min).

    A constant indicator becomes all zeros (it carries no information).
    """
    df = _as_frame(X)
    b = _benefit(benefit, df.columns)
    lo, hi = df.min(), df.max()
    rng = (hi - lo).replace(0.0, np.nan)
    out = (df - lo) / rng
    out.loc[:, ~b] = ((hi - df) / rng).loc[:, ~b]
    return out.fillna(0.0)


def entropy_weights(X, benefit=None, variant: str = "minmax") -> pd.Series:
    """Entropy weight method.

    ``p_ij = x_ij / sum_i x_ij``, ``e_j = -(1/ln n) sum_i p_ij ln p_ij`` (0 ln 0 = 0),
    ``d_j = 1 - e_j``, ``w = d / sum d``.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n_units, n_indicators)
    benefit : sequence of bool or dict, optional
        True for benefit (larger is better), False for cost. Default: all benefit.
    variant : {"minmax", "sum"}
        ``"minmax"`` (Chinese-textbook variant): min-max normalise first (cost reversed);
        a constant indicator gets weight 0. ``"sum"`` (library variant): proportions from
        the raw, non-negative values; cost indicators are not defined here (reverse them
        yourself or use ``"minmax"``).

    Returns
    -------
    pandas.Series of weights summing to 1, indexed by indicator.

    References
    ----------
    Shannon (1948); Zeleny, M. (1982). *Multiple Criteria Decision Making*, McGraw-Hill;
    Xu, X. (2004). *EJOR*, 156(2), 530-532.

    Examples
    --------
    >>> entropy_weights([[1, 2], [4, 16]], variant="sum").round(6).tolist()
    [0.358889, 0.641111]
    """
    df = _as_frame(X)
    b = _benefit(benefit, df.columns)
    if variant == "minmax":
        Z = minmax(df, b)
    elif variant == "sum":
        if not b.all():
            raise ValueError("the 'sum' entropy variant takes benefit indicators only; "
                             f"cost indicators {list(df.columns[~b])}: use variant='minmax'")
        neg = (df < 0).any()
        if neg.any():
            raise ValueError(f"the 'sum' entropy variant needs non-negative values; "
                             f"negative values in {list(df.columns[neg])}")
        Z = df
    else:
        raise ValueError(f"variant must be 'minmax' or 'sum', got {variant!r}")
    n = Z.shape[0]
    tot = Z.sum()
    P = Z / tot.replace(0.0, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(P > 0, P * np.log(P), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    d = pd.Series(1.0 - e, index=df.columns)
    d[tot <= 0] = 0.0                       # all-zero (e.g. constant) indicator: no information
    d[df.nunique() <= 1] = 0.0
    if d.sum() <= 0:
        raise ValueError("every indicator is constant: entropy weights are undefined")
    return (d / d.sum()).rename("weight")


def critic_weights(X, benefit=None) -> pd.Series:
    """CRITIC weights (CRiteria Importance Through Intercriteria Correlation).

    Min-max normalise (cost reversed), ``C_j = sigma_j * sum_k (1 - r_jk)`` with the
    standard deviation ``sigma_j`` of the normalised indicator and Pearson ``r``;
    ``w = C / sum C``. A constant indicator gets weight 0 and is left out of the others'
    conflict sums (its correlations are undefined).

    References
    ----------
    Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights
    in multiple criteria problems: the CRITIC method. *Computers & OR*, 22(7), 763-770.

    Examples
    --------
    >>> X = [[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3],
    ...      [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]]
    >>> critic_weights(X).round(3).tolist()
    [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]
    """
    df = _as_frame(X)
    Z = minmax(df, benefit)
    live = (df.nunique() > 1).to_numpy()
    if not live.any():
        raise ValueError("every indicator is constant: CRITIC weights are undefined")
    sigma = Z.std(ddof=1).to_numpy()     # ddof cancels in the normalisation
    r = np.corrcoef(Z.loc[:, live].to_numpy().T) if live.sum() > 1 else np.ones((1, 1))
    C = np.zeros(df.shape[1])
    C[live] = sigma[live] * (1.0 - r).sum(axis=0)
    return pd.Series(C / C.sum(), index=df.columns, name="weight")
