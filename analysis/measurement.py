"""Measurement: item analysis, reliability, exploratory and confirmatory factor analysis.

Conventions follow R's ``psych`` (Revelle) so that results can be checked against it:
pairwise-complete covariances and correlations, sample SDs (ddof 1), psych's default
skew/kurtosis (type 3), minres factoring and oblimin rotation by gradient projection
(GPArotation, no Kaiser normalisation). Items are expected already reverse-coded (as
:func:`analysis.survey.load_survey` returns them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .codebook import construct_items

MIN_ITEMS = 3  # a reflective construct needs three indicators to be identified


# ------------------------------------------------------------------------- checks
def _rows(mask, index, k: int = 5) -> str:
    idx = np.flatnonzero(np.asarray(mask))[:k]
    return ", ".join(str(index[i]) for i in idx)


def _check_items(items: pd.DataFrame, *, min_items: int = 2, name: str = "items") -> pd.DataFrame:
    """Numeric DataFrame with enough items and no constant item (clear errors otherwise)."""
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(np.asarray(items, dtype=float))
    if items.shape[1] < min_items:
        raise ValueError(f"{name}: need at least {min_items} items, got {items.shape[1]} "
                         f"({list(items.columns)})")
    out = pd.DataFrame(index=items.index)
    for col in items.columns:
        v = pd.to_numeric(items[col], errors="coerce")
        bad = v.isna() & items[col].notna()
        if bad.any():
            raise ValueError(f"{name}: item {col!r} has non-numeric values in rows "
                             f"{_rows(bad, items.index)}")
        if v.notna().sum() < 3:
            raise ValueError(f"{name}: item {col!r} has fewer than 3 observed values")
        if v.nunique(dropna=True) <= 1:
            raise ValueError(f"{name}: item {col!r} is constant (value {v.dropna().iloc[0]:g}); "
                             "it has no variance and cannot be analysed - drop it")
        out[col] = v.astype(float)
    return out


def _construct_frames(data: pd.DataFrame, codebook: pd.DataFrame) -> dict[str, pd.DataFrame]:
    groups = construct_items(codebook)
    missing = [i for items in groups.values() for i in items if i not in data.columns]
    if missing:
        raise ValueError(f"data lack the codebook's items {missing[:5]}")
    out = {}
    for c, items in groups.items():
        if len(items) < MIN_ITEMS:
            raise ValueError(f"construct {c!r} has {len(items)} items ({items}); at least "
                             f"{MIN_ITEMS} are needed")
        out[c] = _check_items(data[items], min_items=MIN_ITEMS, name=f"construct {c}")
    return out


# ---------------------------------------------------------------------- reliability
def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha from pairwise-complete covariances (as ``psych::alpha`` raw_alpha).

    ``alpha = k/(k-1) * (1 - tr(C)/sum(C))`` with ``C`` the item covariance matrix.

    Parameters
    ----------
    items : DataFrame
        One column per item (reverse-coded), one row per respondent; NaN allowed.

    Returns
    -------
    float

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334. Revelle, W. psych: ``alpha``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(df), 4)
    0.9538
    """
    x = _check_items(items)
    C = x.cov(min_periods=2).to_numpy()
    if np.isnan(C).any():
        raise ValueError("some item pairs have fewer than 2 joint observations")
    k = C.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(C) / C.sum()))


def _r_drop(C: np.ndarray) -> np.ndarray:
    """Corrected item-total correlation from a covariance matrix (psych's r.drop)."""
    k = C.shape[0]
    out = np.empty(k)
    for i in range(k):
        rest = np.delete(np.arange(k), i)
        out[i] = (C[i].sum() - C[i, i]) / np.sqrt(C[i, i] * C[np.ix_(rest, rest)].sum())
    return out


def _skew_kurt(v: np.ndarray) -> tuple[float, float]:
    """psych::describe type 3: b1 = m3/s^3, b2 = m4/s^4 - 3 with the sample SD s (ddof 1)."""
    v = v[~np.isnan(v)]
    d = v - v.mean()
    s = v.std(ddof=1)
    return float(np.mean(d ** 3) / s ** 3), float(np.mean(d ** 4) / s ** 4 - 3.0)


def item_statistics(items: pd.DataFrame, *, scale_min=None, scale_max=None,
                    extreme: float = 0.27) -> pd.DataFrame:
    """Item analysis of one scale.

    Columns: ``item n mean sd skew kurtosis floor ceiling r_drop alpha_if_deleted
    cr_t cr_p``. ``floor``/``ceiling`` are the shares of answers at the scale's
    minimum/maximum; ``r_drop`` the corrected item-total correlation and
    ``alpha_if_deleted`` alpha without the item (both from pairwise covariances, as psych);
    ``cr_t``/``cr_p`` the critical ratio: Welch's t comparing the item between respondents
    in the top and bottom ``extreme`` share (27 %, Kelley 1939) of the scale's total score
    (respondents who answered every item of the scale; ties at the cut-offs included).
    """
    x = _check_items(items, min_items=3)
    C = x.cov(min_periods=2).to_numpy()
    rdrop = _r_drop(C)
    cols = list(x.columns)
    a_del = [cronbach_alpha(x.drop(columns=c)) for c in cols]
    total = x.dropna().sum(axis=1)
    lo, hi = total.quantile(extreme), total.quantile(1.0 - extreme)
    low, high = x.loc[total.index[total <= lo]], x.loc[total.index[total >= hi]]
    smin = x.min().min() if scale_min is None else scale_min
    smax = x.max().max() if scale_max is None else scale_max
    rows = []
    for j, c in enumerate(cols):
        v = x[c].to_numpy()
        obs = v[~np.isnan(v)]
        sk, ku = _skew_kurt(v)
        t = stats.ttest_ind(high[c].to_numpy(), low[c].to_numpy(), equal_var=False)
        rows.append({"item": c, "n": int(obs.size), "mean": obs.mean(), "sd": obs.std(ddof=1),
                     "skew": sk, "kurtosis": ku, "floor": np.mean(obs == smin),
                     "ceiling": np.mean(obs == smax), "r_drop": rdrop[j],
                     "alpha_if_deleted": a_del[j], "cr_t": float(t.statistic),
                     "cr_p": float(t.pvalue)})
    return pd.DataFrame(rows)


def item_analysis(data: pd.DataFrame, codebook: pd.DataFrame, *, extreme: float = 0.27,
                  r_drop_min: float = 0.30) -> pd.DataFrame:
    """Item analysis of every construct in the codebook (see :func:`item_statistics`).

    Adds ``construct`` and two flags a methodologist would look at: ``weak_r_drop``
    (corrected item-total correlation below ``r_drop_min``, 0.30 by the usual rule of
    thumb, Nunnally & Bernstein 1994) and ``raises_alpha`` (deleting the item would raise
    the construct's alpha).

    Examples
    --------
    >>> from analysis.codebook import load_codebook           # doctest: +SKIP
    >>> from analysis.survey import load_survey                # doctest: +SKIP
    >>> cb = load_codebook(); item_analysis(load_survey(), cb).head()  # doctest: +SKIP
    """
    frames = _construct_frames(data, codebook)
    lim = codebook.set_index("item")[["scale_min", "scale_max"]]
    out = []
    for c, x in frames.items():
        st = item_statistics(x, scale_min=lim.loc[x.columns, "scale_min"].min(),
                             scale_max=lim.loc[x.columns, "scale_max"].max(), extreme=extreme)
        alpha = cronbach_alpha(x)
        st.insert(0, "construct", c)
        st["weak_r_drop"] = st["r_drop"] < r_drop_min
        st["raises_alpha"] = st["alpha_if_deleted"] > alpha
        out.append(st)
    return pd.concat(out, ignore_index=True)


# ------------------------------------------------------------------ factor extraction
def _cor(data: pd.DataFrame) -> np.ndarray:
    R = data.corr(min_periods=3).to_numpy()
    if np.isnan(R).any():
        raise ValueError("some item pairs have too few joint observations for a correlation")
    return R


def smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^-1)``."""
    return 1.0 - 1.0 / np.diag(np.linalg.inv(R))


def minres(R, n_factors: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-residual (unweighted least squares) factor extraction.

    Minimises ``sum_{k > m} lambda_k(R - Psi)^2`` over the uniquenesses ``Psi`` (bounded to
    [0.005, 1], as psych), i.e. the squared residual correlations left after ``m`` factors;
    loadings are the first ``m`` eigenvectors of ``R - Psi`` scaled by the square roots of
    their eigenvalues, each column reflected to a positive sum.

    References
    ----------
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals (minres).
    *Psychometrika*, 31, 351-368. Revelle, W. psych: ``fa(fm = "minres")``.

    Returns
    -------
    loadings : ndarray (p, m)
    uniquenesses : ndarray (p,)
    """
    R = np.asarray(R, float)
    p = R.shape[0]
    if not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be between 1 and {p - 1}, got {n_factors}")

    def fg(psi):
        S = R.copy()
        np.fill_diagonal(S, 1.0 - psi)
        vals, vecs = np.linalg.eigh(S)
        vals, vecs = vals[::-1], vecs[:, ::-1]
        rest, V = vals[n_factors:], vecs[:, n_factors:]
        return 0.5 * np.sum(rest ** 2), -(V ** 2) @ rest

    start = np.clip(1.0 - smc(R), 0.005, 1.0)
    res = optimize.minimize(fg, start, jac=True, method="L-BFGS-B",
                            bounds=[(0.005, 1.0)] * p,
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000})
    psi = res.x
    S = R.copy()
    np.fill_diagonal(S, 1.0 - psi)
    vals, vecs = np.linalg.eigh(S)
    vals, vecs = vals[::-1][:n_factors], vecs[:, ::-1][:, :n_factors]
    L = vecs * np.sqrt(np.clip(vals, 100 * np.finfo(float).eps, None))
    L = L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    return L, 1.0 - (L ** 2).sum(axis=1)


def oblimin(A, gamma: float = 0.0, tol: float = 1e-5, max_iter: int = 1000):
    """Oblique oblimin rotation (quartimin for ``gamma = 0``) by gradient projection.

    Criterion ``Q(L) = 1/4 tr((L o L)' C (L o L) N)`` with ``C = I - (gamma/p) 11'`` and
    ``N = 11' - I`` (for ``gamma = 0``: the sum over items of ``l_ij^2 l_ik^2`` over factor
    pairs ``j != k``), minimised over oblique transformations ``L = A T'^-1`` with unit-length
    columns of ``T`` by the gradient projection algorithm of Bernaards & Jennrich (no Kaiser
    normalisation, identity start, as ``GPArotation::oblimin``).

    References
    ----------
    Jennrich, R. I. (2002). A simple general method for oblique rotation. *Psychometrika*,
    67, 7-19. Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms
    and software for arbitrary rotation criteria. *Educ. Psychol. Meas.*, 65, 676-696.

    Returns
    -------
    loadings : ndarray (p, m)   pattern matrix
    phi : ndarray (m, m)        factor correlations
    """
    A = np.asarray(A, float)
    p, m = A.shape
    if m < 2:
        return A.copy(), np.eye(m)
    N = np.ones((m, m)) - np.eye(m)
    C = np.eye(p) - gamma / p * np.ones((p, p))

    def vgq(L):
        X = C @ (L ** 2) @ N
        return np.sum(L ** 2 * X) / 4.0, L * X

    def grad(T, L, Gq):
        return -(L.T @ Gq @ np.linalg.inv(T)).T

    T = np.eye(m)
    L = A @ np.linalg.inv(T).T
    f, Gq = vgq(L)
    G = grad(T, L, Gq)
    al = 1.0
    for _ in range(max_iter + 1):
        Gp = G - T @ np.diag(np.sum(T * G, axis=0))
        s = np.sqrt(np.sum(Gp ** 2))
        if s < tol:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X ** 2, axis=0))
            Lt = A @ np.linalg.inv(Tt).T
            ft, Gqt = vgq(Lt)
            if f - ft > 0.5 * s ** 2 * al:
                break
            al /= 2.0
        T, L, f, Gq = Tt, Lt, ft, Gqt
        G = grad(T, L, Gq)
    return L, T.T @ T


@dataclass
class EFAResult:
    """Result of :func:`efa`."""

    loadings: pd.DataFrame        #: pattern matrix (items x factors)
    phi: pd.DataFrame             #: factor correlations
    communalities: pd.Series      #: h2 = diag(L Phi L')
    variance: pd.DataFrame        #: per factor: SS loadings and proportion of variance
    n_obs: int


def efa(data: pd.DataFrame, n_factors: int, rotation: str = "oblimin") -> EFAResult:
    """Exploratory factor analysis: minres extraction and an oblique (oblimin) rotation.

    Works on the pairwise-complete correlation matrix. Factors are ordered by the variance
    they account for (``diag(Phi L'L)``, as psych) and reflected to positive column sums.

    Parameters
    ----------
    data : DataFrame of items (reverse-coded).
    n_factors : int
    rotation : {"oblimin", "none"}

    Examples
    --------
    >>> res = efa(survey[items], n_factors=6)   # doctest: +SKIP
    >>> res.loadings.round(2)                   # doctest: +SKIP
    """
    x = _check_items(data, min_items=3)
    R = _cor(x)
    L, _ = minres(R, n_factors)
    if rotation == "oblimin":
        L, Phi = oblimin(L)
    elif rotation == "none":
        Phi = np.eye(n_factors)
    else:
        raise ValueError(f"rotation must be 'oblimin' or 'none', got {rotation!r}")
    sign = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L = L * sign
    Phi = Phi * np.outer(sign, sign)
    order = np.argsort(-np.diag(Phi @ L.T @ L), kind="stable")
    L, Phi = L[:, order], Phi[np.ix_(order, order)]
    names = [f"F{k + 1}" for k in range(n_factors)]
    h2 = np.sum((L @ Phi) * L, axis=1)
    ss = np.diag(Phi @ L.T @ L)
    return EFAResult(
        loadings=pd.DataFrame(L, index=x.columns, columns=names),
        phi=pd.DataFrame(Phi, index=names, columns=names),
        communalities=pd.Series(h2, index=x.columns, name="h2"),
        variance=pd.DataFrame({"ss_loadings": ss, "proportion": ss / x.shape[1]}, index=names),
        n_obs=int(x.dropna().shape[0]))


def loadings_table(result: EFAResult, codebook: pd.DataFrame | None = None,
                   cut: float = 0.40) -> pd.DataFrame:
    """Tidy EFA loadings: item, construct (from the codebook), primary factor, its loading,
    the largest cross-loading, h2, and whether the item loads cleanly (primary >= ``cut``,
    cross-loading < ``cut``)."""
    L = result.loadings
    out = pd.DataFrame({"item": L.index})
    if codebook is not None:
        out["construct"] = out["item"].map(codebook.set_index("item")["construct"])
    absl = L.abs().to_numpy()
    prim = absl.argmax(axis=1)
    out["factor"] = [L.columns[k] for k in prim]
    out["loading"] = L.to_numpy()[np.arange(len(L)), prim]
    srt = np.sort(absl, axis=1)
    out["cross_loading"] = srt[:, -2] if absl.shape[1] > 1 else 0.0
    out["h2"] = result.communalities.to_numpy()
    out["clean"] = (out["loading"].abs() >= cut) & (out["cross_loading"] < cut)
    return pd.concat([out, L.reset_index(drop=True)], axis=1)


# ---------------------------------------------------------- sampling adequacy, PA
@dataclass
class KMOResult:
    overall: float
    items: pd.Series


def kmo(data: pd.DataFrame) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item.

    ``MSA = sum r^2 / (sum r^2 + sum q^2)`` over off-diagonal elements, ``q`` the partial
    (anti-image) correlations from ``R^-1``; per item the same sums over its column.

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. *Psychometrika*, 35, 401-415.
    Kaiser & Rice (1974). Revelle, W. psych: ``KMO``.
    """
    x = _check_items(data, min_items=3)
    R = _cor(x)
    Q = np.linalg.inv(R)
    d = 1.0 / np.sqrt(np.diag(Q))
    Q = -Q * np.outer(d, d)      # partial correlations (the sign does not matter when squared)
    np.fill_diagonal(Q, 0.0)
    R0 = R.copy()
    np.fill_diagonal(R0, 0.0)
    r2, q2 = (R0 ** 2), (Q ** 2)
    overall = r2.sum() / (r2.sum() + q2.sum())
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(overall), pd.Series(per, index=x.columns, name="msa"))


def bartlett_sphericity(data: pd.DataFrame) -> dict:
    """Bartlett's test that the correlation matrix is an identity.

    ``chi2 = -(n - 1 - (2p + 5)/6) ln det R``, ``df = p(p - 1)/2``, with ``n`` the number of
    rows (as ``psych::cortest.bartlett(R, n = nrow(data))``).

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square approximation in
    factor analysis. *Biometrika*, 38, 337-344.
    """
    x = _check_items(data, min_items=3)
    R = _cor(x)
    n, p = x.shape
    sign, logdet = np.linalg.slogdet(R)
    if sign <= 0:
        raise ValueError("the correlation matrix is not positive definite")
    chi2 = -(n - 1 - (2 * p + 5) / 6.0) * logdet
    df = p * (p - 1) / 2
    return {"n": n, "chisq": float(chi2), "df": int(df), "p_value": float(stats.chi2.sf(chi2, df))}


def _reduced_eigenvalues(R: np.ndarray) -> np.ndarray:
    """Eigenvalues of R with one-factor minres communalities on the diagonal (psych's
    ``fa(r, nfactors = 1)$values``, the factor eigenvalues ``fa.parallel`` compares)."""
    _, u2 = minres(R, 1)
    Rr = R.copy()
    np.fill_diagonal(Rr, 1.0 - u2)
    return np.sort(np.linalg.eigvalsh(Rr))[::-1]


def parallel_analysis(data: pd.DataFrame, n_iter: int = 100, quantile: float | None = 0.95,
                      seed: int = 0) -> pd.DataFrame:
    """Horn's parallel analysis for the number of factors and components.

    Observed eigenvalues of the correlation matrix (components) and of the reduced matrix
    (one-factor minres communalities on the diagonal, as ``psych::fa.parallel``; factors)
    are compared with the same eigenvalues of ``n_iter`` normal random data sets of the
    same size: with their ``quantile`` (Glorfeld's 95th percentile, the default) or, with
    ``quantile=None``, their mean (Horn). The suggested numbers (``df.attrs["n_factors"]``,
    ``df.attrs["n_components"]``) count the leading observed eigenvalues above the random
    reference.

    References
    ----------
    Horn, J. L. (1965). *Psychometrika*, 30, 179-185. Glorfeld, L. W. (1995). *Educ.
    Psychol. Meas.*, 55, 377-393. Revelle, W. psych: ``fa.parallel``.
    """
    x = _check_items(data, min_items=3)
    R = _cor(x)
    n = int(x.notna().all(axis=1).sum())
    p = R.shape[0]
    rng = np.random.default_rng(seed)
    obs_pc, obs_fa = np.sort(np.linalg.eigvalsh(R))[::-1], _reduced_eigenvalues(R)
    pc, fa = [], []
    for _ in range(n_iter):
        Rs = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        pc.append(np.sort(np.linalg.eigvalsh(Rs))[::-1])
        fa.append(_reduced_eigenvalues(Rs))
    pc, fa = np.array(pc), np.array(fa)
    ref = (lambda a: a.mean(0)) if quantile is None else (lambda a: np.quantile(a, quantile, 0))
    out = pd.DataFrame({"factor": np.arange(1, p + 1), "observed_pc": obs_pc,
                        "random_pc": ref(pc), "observed_fa": obs_fa, "random_fa": ref(fa)})

    def leading(a, b):
        above = a > b
        return len(above) if above.all() else int(np.argmin(above))

    out.attrs["n_factors"] = leading(obs_fa, out["random_fa"].to_numpy())
    out.attrs["n_components"] = leading(obs_pc, out["random_pc"].to_numpy())
    return out


# -------------------------------------------------------------------- one-factor
def one_factor(items: pd.DataFrame) -> pd.DataFrame:
    """One-factor minres model of a scale: ``item loading u2`` (standardised)."""
    x = _check_items(items, min_items=MIN_ITEMS)
    L, u2 = minres(_cor(x), 1)
    return pd.DataFrame({"item": x.columns, "loading": L[:, 0], "u2": u2})


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor minres model (psych's definition).

    ``omega_t = 1 - sum(u2) / sum(R)`` with ``R`` the pairwise correlation matrix (the
    observed total variance of the standardised sum), as ``psych::omega(nfactors = 1)``.

    References
    ----------
    McDonald, R. P. (1999). *Test Theory: A Unified Treatment*. Erlbaum.
    """
    x = _check_items(items, min_items=MIN_ITEMS)
    R = _cor(x)
    _, u2 = minres(R, 1)
    return float(1.0 - u2.sum() / R.sum())


def composite_reliability(loadings, residuals=None) -> float:
    """Composite reliability ``(sum l)^2 / ((sum l)^2 + sum theta)`` of standardised
    loadings (``theta = 1 - l^2`` unless residual variances are given).

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). *J. Marketing Research*, 18(1), 39-50.
    """
    lam = np.asarray(loadings, float)
    theta = 1.0 - lam ** 2 if residuals is None else np.asarray(residuals, float)
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum()))


def reliability(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Reliability of every construct in the codebook.

    Columns: ``construct n_items n alpha alpha_std omega_total cr ave mean_r``:
    Cronbach's alpha (pairwise covariances, as psych), standardised alpha (from the
    correlations rescaled from those covariances, as psych), omega total (:func:`omega_total`), composite reliability and AVE from
    the one-factor minres loadings, and the mean inter-item correlation. ``n`` counts
    respondents who answered every item of the construct.

    Raises
    ------
    ValueError
        For a construct with fewer than 3 items or a constant item.

    Examples
    --------
    >>> reliability(load_survey(), load_codebook()).round(3)   # doctest: +SKIP
    """
    rows = []
    for c, x in _construct_frames(data, codebook).items():
        R = _cor(x)
        k = R.shape[0]
        # psych's standardised alpha and average r use cov2cor of the pairwise covariances
        C = x.cov(min_periods=2).to_numpy()
        Rc = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
        mean_r = (Rc.sum() - k) / (k * (k - 1))
        L, u2 = minres(R, 1)
        lam = L[:, 0]
        rows.append({"construct": c, "n_items": k, "n": int(x.dropna().shape[0]),
                     "alpha": cronbach_alpha(x), "alpha_std": k * mean_r / (1 + (k - 1) * mean_r),
                     "omega_total": float(1.0 - u2.sum() / R.sum()),
                     "cr": composite_reliability(lam), "ave": float(np.mean(lam ** 2)),
                     "mean_r": mean_r})
    return pd.DataFrame(rows)


# -------------------------------------------------------------- halves and CFA
def split_halves(data: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split respondents at random into two halves (EFA on the first, CFA on the second)."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data))
    cut = len(data) // 2
    return data.iloc[np.sort(idx[:cut])], data.iloc[np.sort(idx[cut:])]


def htmt(data: pd.DataFrame, groups: dict[str, list[str]], variant: str = "htmt",
         missing: str = "listwise") -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations between constructs.

    ``HTMT_ij = mean |r| between items of i and j / sqrt(mean |r| within i x mean |r|
    within j)`` (Henseler et al. 2015); ``variant="htmt2"`` uses geometric means instead
    (Roemer, Schuberth & Henseler 2021). Values below 0.85 (conservative) or 0.90
    (liberal) support discriminant validity.

    Parameters
    ----------
    groups : dict construct -> list of items (at least 2 each).
    missing : "listwise" (as ``semTools::htmt``) or "pairwise".
    """
    if variant not in ("htmt", "htmt2"):
        raise ValueError(f"variant must be 'htmt' or 'htmt2', got {variant!r}")
    cols = [i for items in groups.values() for i in items]
    x = _check_items(data[cols], min_items=2)
    if missing == "listwise":
        x = x.dropna()
    R = x.corr().abs()
    mean = ((lambda a: np.exp(np.mean(np.log(a)))) if variant == "htmt2" else np.mean)

    def mono(items):
        sub = R.loc[items, items].to_numpy()
        return mean(sub[np.triu_indices(len(items), 1)])

    names = list(groups)
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            hetero = mean(R.loc[groups[names[a]], groups[names[b]]].to_numpy().ravel())
            v = hetero / np.sqrt(mono(groups[names[a]]) * mono(groups[names[b]]))
            out.iloc[a, b] = out.iloc[b, a] = v
    return out


def validity_from_estimates(estimates: pd.DataFrame, column: str = "std_all") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convergent and discriminant validity from a standardised CFA solution.

    Returns
    -------
    validity : DataFrame
        ``construct n_items ave cr sqrt_ave max_corr fornell_larcker`` - AVE = mean of
        squared standardised loadings, CR from loadings and standardised residual variances,
        and whether sqrt(AVE) exceeds every correlation with another construct.
    fornell_larcker : DataFrame
        Latent correlations with sqrt(AVE) on the diagonal.
    """
    est = estimates
    lo = est[est["op"] == "=~"]
    factors = list(dict.fromkeys(lo["lhs"]))
    resid = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")[column]
    rows = []
    for f in factors:
        sub = lo[lo["lhs"] == f]
        lam = sub[column].to_numpy(float)
        th = [resid.get(i, np.nan) for i in sub["rhs"]]
        th = None if np.isnan(th).any() else th
        rows.append({"construct": f, "n_items": len(lam), "ave": float(np.mean(lam ** 2)),
                     "cr": composite_reliability(lam, th)})
    val = pd.DataFrame(rows)
    val["sqrt_ave"] = np.sqrt(val["ave"])
    phi = pd.DataFrame(np.eye(len(factors)), index=factors, columns=factors)
    cov = est[(est["op"] == "~~") & est["lhs"].isin(factors) & est["rhs"].isin(factors)
              & (est["lhs"] != est["rhs"])]
    for a, b, v in cov[["lhs", "rhs", column]].itertuples(index=False):
        phi.loc[a, b] = phi.loc[b, a] = float(v)
    off = phi.abs().to_numpy() - np.eye(len(factors))
    val["max_corr"] = off.max(axis=1)
    val["fornell_larcker"] = val["sqrt_ave"] > val["max_corr"]
    fl = phi.copy()
    for k, f in enumerate(factors):
        fl.loc[f, f] = val["sqrt_ave"].iloc[k]
    return val, fl


@dataclass
class CFAResult:
    """Result of :func:`cfa`."""

    sem: object                     #: the :class:`analysis.sem.SEMResult`
    loadings: pd.DataFrame          #: construct item est se std_all
    fit: pd.Series                  #: fit indices
    validity: pd.DataFrame          #: AVE, CR, Fornell-Larcker, max HTMT per construct
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    syntax: str = field(default="")


def cfa(data: pd.DataFrame, codebook: pd.DataFrame, *, estimator: str = "ML",
        missing: str = "listwise") -> CFAResult:
    """Confirmatory factor analysis of the codebook's constructs with :mod:`analysis.sem`.

    The model has one factor per construct (first loading fixed to 1, factors correlated,
    lavaan's defaults); validity follows Fornell & Larcker (1981) and Henseler et al. (2015).
    """
    from .sem import fit_sem

    frames = _construct_frames(data, codebook)
    groups = {c: list(x.columns) for c, x in frames.items()}
    syntax = "\n".join(f"{c} =~ {' + '.join(items)}" for c, items in groups.items())
    cols = [i for items in groups.values() for i in items]
    res = fit_sem(syntax, data[cols], estimator=estimator, missing=missing)
    est = res.estimates
    lo = est[est["op"] == "=~"][["lhs", "rhs", "est", "se", "std_all"]]
    lo = lo.rename(columns={"lhs": "construct", "rhs": "item"}).reset_index(drop=True)
    val, fl = validity_from_estimates(est)
    h = htmt(data, groups, missing="listwise" if missing == "listwise" else "pairwise")
    val["max_htmt"] = (h - np.eye(len(h))).max(axis=1).to_numpy()
    return CFAResult(sem=res, loadings=lo, fit=res.fit_indices, validity=val,
                     fornell_larcker=fl, htmt=h, syntax=syntax)


def item_decisions(items: pd.DataFrame, efa_table: pd.DataFrame | None = None,
                   cfa_loadings: pd.DataFrame | None = None, *, r_drop_min: float = 0.30,
                   efa_min: float = 0.40, cross_max: float = 0.40,
                   cfa_min: float = 0.50) -> pd.DataFrame:
    """Keep or drop each item by stated rules, with the reasons.

    An item is flagged when its corrected item-total correlation is below ``r_drop_min``
    (Nunnally & Bernstein 1994), deleting it would raise its construct's alpha, its
    critical ratio is not significant (p >= .05), its primary EFA loading is below
    ``efa_min`` or a cross-loading reaches ``cross_max``, its primary EFA factor differs
    from the one most of its construct's items load on, or its standardised CFA loading is
    below ``cfa_min`` (Hair et al. 2019). ``keep`` is False when any rule fails.

    Parameters
    ----------
    items : DataFrame from :func:`item_analysis`.
    efa_table : DataFrame from :func:`loadings_table` (with ``construct``), optional.
    cfa_loadings : DataFrame ``item std_all`` (e.g. ``CFAResult.loadings``), optional.
    """
    out = items[["construct", "item", "r_drop", "alpha_if_deleted", "cr_p"]].copy()
    reasons = [[] for _ in range(len(out))]

    def flag(mask, text):
        for k in np.flatnonzero(np.asarray(mask)):
            reasons[k].append(text)

    flag(out["r_drop"] < r_drop_min, f"item-total r < {r_drop_min:.2f}")
    flag(items["raises_alpha"], "alpha rises if deleted")
    flag(out["cr_p"] >= 0.05, "critical ratio not significant")
    if efa_table is not None:
        e = efa_table.set_index("item").loc[out["item"]]
        out["efa_loading"] = e["loading"].to_numpy()
        out["cross_loading"] = e["cross_loading"].to_numpy()
        modal = e.groupby("construct")["factor"].agg(lambda f: f.value_counts().index[0])
        wrong = e["factor"].to_numpy() != modal.loc[e["construct"]].to_numpy()
        flag(out["efa_loading"].abs() < efa_min, f"EFA loading < {efa_min:.2f}")
        flag(out["cross_loading"] >= cross_max, f"cross-loading >= {cross_max:.2f}")
        flag(wrong, "loads on another construct's factor")
    if cfa_loadings is not None:
        c = cfa_loadings.set_index("item")["std_all"]
        out["cfa_loading"] = c.reindex(out["item"]).to_numpy()
        flag(out["cfa_loading"] < cfa_min, f"CFA loading < {cfa_min:.2f}")
    out["keep"] = [not r for r in reasons]
    out["reason"] = ["; ".join(r) if r else "meets every rule" for r in reasons]
    return out.reset_index(drop=True)
