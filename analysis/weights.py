"""Weights for the indicator system: AHP (subjective), entropy and CRITIC (objective),
SEM-based weights, and their combination.

Every function takes plain arrays or DataFrames and returns a pandas Series or a tidy
DataFrame. Definitions follow the sources cited in each docstring and
``/work/shared/reference/methods.md``; tests check them against published worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths

#: Saaty's random consistency index RI(n), n = 1..10, the table Chinese AHP studies use.
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
            9: 1.45, 10: 1.49}

#: Conventional acceptance threshold: a judgement matrix is consistent if CR < 0.10.
CR_THRESHOLD = 0.10


# --------------------------------------------------------------------------- AHP
def _first_rows(mask: np.ndarray, labels, k: int = 3) -> str:
    idx = np.flatnonzero(mask)[:k]
    return ", ".join(str(labels[i]) for i in idx)


def check_pairwise(matrix, *, name: str = "pairwise matrix", tol: float = 0.02) -> np.ndarray:
    """Validate an AHP judgement matrix and return it as a float array.

    A valid matrix is square, finite, strictly positive, has a unit diagonal and is
    reciprocal: ``a_ij * a_ji = 1`` within ``tol`` (judgements stored with a few decimals,
    e.g. 0.333 for 1/3, pass; 3 and 3 do not).

    Raises
    ------
    ValueError
        Naming ``name`` and the first offending cells.
    """
    labels = list(matrix.index) if isinstance(matrix, pd.DataFrame) else None
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"{name}: an AHP matrix must be square, got shape {a.shape}")
    n = a.shape[0]
    labels = labels or [str(i) for i in range(n)]
    cells = np.array([f"({labels[i]}, {labels[j]})" for i in range(n) for j in range(n)])
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: missing or infinite judgements at "
                         f"{_first_rows(~np.isfinite(a).ravel(), cells)}")
    if (a <= 0).any():
        raise ValueError(f"{name}: AHP judgements must be positive; non-positive at "
                         f"{_first_rows((a <= 0).ravel(), cells)}")
    if not np.allclose(np.diag(a), 1.0, atol=tol):
        raise ValueError(f"{name}: the diagonal must be 1")
    bad = np.abs(a * a.T - 1.0) > tol
    if bad.any():
        raise ValueError(f"{name}: not reciprocal (a_ij * a_ji != 1) at "
                         f"{_first_rows(np.triu(bad).ravel(), cells)}")
    return a


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


def load_expert_panel(path=None) -> dict[str, pd.DataFrame]:
    """Read the expert panel's pairwise matrices (one 5x5 block per expert).

    The file has columns ``expert_id, row`` and one column per element; each expert's
    rows form a square matrix whose row labels equal the element columns.

    Returns
    -------
    dict mapping expert_id to a DataFrame (rows and columns the elements).

    Raises
    ------
    ValueError
        Naming the file and the expert for a malformed, non-positive or non-reciprocal
        matrix.
    """
    path = Path(path) if path is not None else paths.EXPERT_AHP
    raw = pd.read_csv(path)
    for col in ("expert_id", "row"):
        if col not in raw.columns:
            raise ValueError(f"{path.name}: missing column {col!r}")
    elements = [c for c in raw.columns if c not in ("expert_id", "row")]
    panel = {}
    for expert, block in raw.groupby("expert_id", sort=False):
        m = block.set_index("row")[elements].astype(float)
        if sorted(m.index) != sorted(elements) or m.index.duplicated().any():
            raise ValueError(f"{path.name}: expert {expert}: rows {list(m.index)} do not "
                             f"match the element columns {elements}")
        m = m.loc[elements]
        m.index.name = None
        check_pairwise(m, name=f"{path.name}: expert {expert}")
        panel[str(expert)] = m
    if not panel:
        raise ValueError(f"{path.name}: no expert matrices found")
    return panel


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
                             f"{_first_rows(bad, list(df.index))}; impute or drop them first")
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


# ------------------------------------------------------------------- SEM-based weights
def _check_estimates(estimates: pd.DataFrame, column: str) -> pd.DataFrame:
    need = {"lhs", "op", "rhs", column}
    if not need <= set(estimates.columns):
        raise ValueError(f"estimates need columns {sorted(need)} (lavaan vocabulary), "
                         f"got {list(estimates.columns)}")
    return estimates


def loading_weights(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Within-construct item weights from standardised loadings, normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame
        Parameter table in lavaan vocabulary (``lhs op rhs`` and ``column``), e.g.
        ``SEMResult.estimates`` or ``lavaan::standardizedSolution``.
    column : str
        Which estimate column holds the standardised loadings.

    Returns
    -------
    DataFrame with ``construct, item, loading, weight``; weights sum to 1 per construct.

    References
    ----------
    The loading-proportional rule used for SEM-derived indicator weights, e.g.
    Fornell, C., et al. (1996). The American Customer Satisfaction Index. *J. Marketing*, 60(4).
    """
    est = _check_estimates(estimates, column)
    lo = est.loc[est["op"] == "=~", ["lhs", "rhs", column]].copy()
    if lo.empty:
        raise ValueError("no loadings ('=~' rows) in the estimates")
    lo.columns = ["construct", "item", "loading"]
    lo["loading"] = lo["loading"].astype(float)
    if lo["loading"].isna().any():
        bad = lo.loc[lo["loading"].isna(), "item"].tolist()[:3]
        raise ValueError(f"missing standardised loadings for items {bad}")
    if (lo["loading"] <= 0).any():
        bad = lo.loc[lo["loading"] <= 0, "item"].tolist()[:3]
        raise ValueError(f"non-positive loadings for items {bad}: reverse-code them first")
    lo["weight"] = lo["loading"] / lo.groupby("construct")["loading"].transform("sum")
    return lo.reset_index(drop=True)


def total_effects(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Total effects ``T = (I - B)^-1 - I`` of a recursive structural model.

    ``B[i, j]`` is the regression of ``i`` on ``j`` (``i ~ j`` rows). With ``column="est"``
    the effects are unstandardised; with ``"std_all"`` they are fully standardised (for a
    recursive model, the standardised total effect equals the sum over paths of products of
    standardised coefficients).

    Returns
    -------
    DataFrame with ``source, target, direct, indirect, total`` for every pair with a
    non-zero total effect.
    """
    est = _check_estimates(estimates, column)
    reg = est.loc[est["op"] == "~", ["lhs", "rhs", column]]
    if reg.empty:
        raise ValueError("no structural paths ('~' rows) in the estimates")
    names = list(dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"])))
    pos = {v: i for i, v in enumerate(names)}
    B = np.zeros((len(names), len(names)))
    for lhs, rhs, val in reg.itertuples(index=False):
        B[pos[lhs], pos[rhs]] = float(val)
    if not np.isfinite(B).all():
        raise ValueError("structural coefficients contain NaN")
    T = np.linalg.inv(np.eye(len(names)) - B) - np.eye(len(names))
    rows = [{"source": s, "target": t, "direct": B[pos[t], pos[s]], "total": T[pos[t], pos[s]]}
            for t in names for s in names if s != t and abs(T[pos[t], pos[s]]) > 1e-12]
    out = pd.DataFrame(rows)
    out["indirect"] = out["total"] - out["direct"]
    return out[["source", "target", "direct", "indirect", "total"]]


def path_weights(estimates: pd.DataFrame, target: str, sources=None,
                 column: str = "std_all") -> pd.Series:
    """Between-construct weights: total effects on ``target`` normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame in lavaan vocabulary.
    target : str
        The outcome construct (e.g. ``"PV"``).
    sources : list of str, optional
        Constructs to weight (default: every construct with an effect on ``target``).
    column : {"std_all", "est"}
        Standardised (default) or unstandardised total effects.

    Raises
    ------
    ValueError
        If a source has a negative total effect (a weight must not be negative) or no path.
    """
    te = total_effects(estimates, column)
    te = te[te["target"] == target].set_index("source")["total"]
    if sources is None:
        sources = list(te.index)
    missing = [s for s in sources if s not in te.index]
    if missing:
        raise ValueError(f"no path from {missing} to {target!r}")
    te = te.loc[list(sources)]
    if (te < 0).any():
        raise ValueError(f"negative total effects on {target!r} for {list(te[te < 0].index)}: "
                         "path-based weights need non-negative importance")
    return (te / te.sum()).rename("weight")


# ------------------------------------------------------------------------- combining
def combine_weights(subjective, objective, rule: str = "multiplicative",
                    alpha: float = 0.5) -> pd.Series:
    """Combine subjective and objective weights over the same indicators.

    * ``"multiplicative"``: ``w_j = s_j o_j / sum_k s_k o_k`` (multiplicative synthesis);
    * ``"linear"``: ``w_j = alpha s_j + (1 - alpha) o_j`` (both normalised first).

    Examples
    --------
    >>> s = pd.Series([0.5, 0.3, 0.2], index=list("abc"))
    >>> o = pd.Series([0.2, 0.3, 0.5], index=list("abc"))
    >>> combine_weights(s, o).round(4).tolist()
    [0.3448, 0.3103, 0.3448]
    """
    s, o = pd.Series(subjective, dtype=float), pd.Series(objective, dtype=float)
    if set(s.index) != set(o.index):
        raise ValueError(f"subjective and objective weights cover different indicators: "
                         f"{sorted(set(s.index) ^ set(o.index))}")
    o = o.loc[s.index]
    for name, w in (("subjective", s), ("objective", o)):
        if w.isna().any() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"{name} weights must be non-negative numbers, got {w.tolist()}")
    s, o = s / s.sum(), o / o.sum()
    if rule == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise ValueError("subjective and objective weights have disjoint support")
        w = w / w.sum()
    elif rule == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        w = alpha * s + (1.0 - alpha) * o
    else:
        raise ValueError(f"rule must be 'multiplicative' or 'linear', got {rule!r}")
    return w.rename("weight")


def compare_weights(**schemes) -> pd.DataFrame:
    """Side-by-side table of weighting schemes (one column each) with their ranks.

    Examples
    --------
    >>> t = compare_weights(ahp=pd.Series([.6, .4], index=["a", "b"]),
    ...                     entropy=pd.Series([.3, .7], index=["a", "b"]))
    >>> list(t.columns)
    ['ahp', 'entropy', 'rank_ahp', 'rank_entropy']
    """
    if not schemes:
        raise ValueError("give at least one weighting scheme")
    t = pd.DataFrame({k: pd.Series(v, dtype=float) for k, v in schemes.items()})
    if t.isna().any().any():
        raise ValueError(f"schemes cover different indicators: {t[t.isna().any(axis=1)].index.tolist()}")
    for k in schemes:
        t[f"rank_{k}"] = t[k].rank(ascending=False, method="min").astype(int)
    return t


def indicator_system(codebook: pd.DataFrame, loadings: pd.DataFrame,
                     schemes: dict[str, pd.Series]) -> pd.DataFrame:
    """The indicator system as one table: construct, item, wording (en/zh), loading and
    the item's weight under each scheme.

    Parameters
    ----------
    codebook : DataFrame with ``item construct construct_en construct_zh wording_en
        wording_zh`` (:func:`analysis.codebook.load_codebook`).
    loadings : DataFrame ``item std_all`` (standardised CFA loadings); items without a
        loading get NaN.
    schemes : dict name -> item weights (Series indexed by item). Items a scheme does not
        weight (the outcome construct's) are left empty, not zero.

    Returns
    -------
    DataFrame with ``construct construct_en construct_zh item wording_en wording_zh loading``
    and ``w_<scheme>`` columns; each scheme's weights sum to 1 over the items it covers.
    """
    cols = ["construct", "construct_en", "construct_zh", "item", "wording_en", "wording_zh"]
    missing = [c for c in cols if c not in codebook.columns]
    if missing:
        raise ValueError(f"codebook lacks columns {missing}")
    out = codebook[cols].copy().reset_index(drop=True)
    out["loading"] = out["item"].map(loadings.set_index("item")["std_all"])
    for name, w in schemes.items():
        w = pd.Series(w, dtype=float)
        unknown = sorted(set(w.index) - set(out["item"]))
        if unknown:
            raise ValueError(f"scheme {name!r} weights unknown items {unknown[:5]}")
        if w.isna().any() or (w < 0).any():
            raise ValueError(f"scheme {name!r} has missing or negative weights: "
                             f"{w[w.isna() | (w < 0)].index.tolist()[:5]}")
        if abs(w.sum() - 1.0) > 1e-8:
            raise ValueError(f"scheme {name!r} weights sum to {w.sum():.6f}, not 1")
        out[f"w_{name}"] = out["item"].map(w)
    return out
