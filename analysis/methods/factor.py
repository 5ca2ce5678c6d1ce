"""Measurement: item analysis, reliability, exploratory and confirmatory factor analysis.

Conventions follow R's ``psych`` (Revelle) so that results can be checked against it:
pairwise-complete covariances and correlations, sample SDs (ddof 1), psych's default
skew/kurtosis (type 3), minres factoring and oblimin rotation by gradient projection
(GPArotation, no Kaiser normalisation). Items are expected already reverse-coded (as
:func:`analysis.io.survey.load_survey` returns them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.methods.items import MIN_ITEMS, check_items, correlation


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
    x = check_items(data, min_items=3)
    R = correlation(x)
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
    x = check_items(data, min_items=3)
    R = correlation(x)
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
    x = check_items(data, min_items=3)
    R = correlation(x)
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


@dataclass(frozen=True, eq=False)
class ParallelAnalysis:
    """Result of :func:`parallel_analysis`.

    Attributes
    ----------
    table : DataFrame
        One row per eigenvalue: ``factor observed_pc random_pc observed_fa random_fa``.
    n_factors : int
        Leading observed factor eigenvalues above the random reference.
    n_components : int
        Leading observed component eigenvalues above the random reference.

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30, 179-185.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.standard_normal((300, 1))
    >>> x = pd.DataFrame(f + rng.standard_normal((300, 6)), columns=list("abcdef"))
    >>> pa = parallel_analysis(x, n_iter=20)
    >>> pa.n_factors, pa.n_components, len(pa.table)
    (1, 1, 6)
    """

    table: pd.DataFrame
    n_factors: int
    n_components: int


def parallel_analysis(data: pd.DataFrame, n_iter: int = 100, quantile: float | None = 0.95,
                      seed: int = 0) -> ParallelAnalysis:
    """Horn's parallel analysis for the number of factors and components.

    Observed eigenvalues of the correlation matrix (components) and of the reduced matrix
    (one-factor minres communalities on the diagonal, as ``psych::fa.parallel``; factors)
    are compared with the same eigenvalues of ``n_iter`` normal random data sets of the
    same size: with their ``quantile`` (Glorfeld's 95th percentile, the default) or, with
    ``quantile=None``, their mean (Horn). The suggested numbers (``n_factors``,
    ``n_components`` of the returned :class:`ParallelAnalysis`) count the leading observed
    eigenvalues above the random reference.

    References
    ----------
    Horn, J. L. (1965). *Psychometrika*, 30, 179-185. Glorfeld, L. W. (1995). *Educ.
    Psychol. Meas.*, 55, 377-393. Revelle, W. psych: ``fa.parallel``.
    """
    x = check_items(data, min_items=3)
    R = correlation(x)
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

    return ParallelAnalysis(out, n_factors=leading(obs_fa, out["random_fa"].to_numpy()),
                            n_components=leading(obs_pc, out["random_pc"].to_numpy()))


# -------------------------------------------------------------------- one-factor
def one_factor(items: pd.DataFrame) -> pd.DataFrame:
    """One-factor minres model of a scale: ``item loading u2`` (standardised)."""
    x = check_items(items, min_items=MIN_ITEMS)
    L, u2 = minres(correlation(x), 1)
    return pd.DataFrame({"item": x.columns, "loading": L[:, 0], "u2": u2})
