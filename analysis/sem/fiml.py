"""Full-information maximum likelihood (FIML) for incomplete normal data.

The casewise ("raw data") normal log-likelihood of Arbuckle (1996) is summed
over missingness patterns: rows that share a pattern share the observed
sub-covariance, so the likelihood needs only each pattern's size, mean and
within-pattern cross-products (lavaan's ``missing = "ml"``). Patterns are
processed as stacked arrays (one batched Cholesky/inverse per number of
observed variables), not one Python loop step per pattern or per row.

Moment vectors follow the core's contract: ``m = [vech(Sigma), mu]`` with
vech = lavaan's ``lav_matrix_vech`` (column-major lower triangle); a model's
Jacobian ``Delta = dm/dtheta`` chains moment-level derivatives to ``theta``.

Public API
----------
MissingPatterns(X)              rows grouped by missingness pattern
loglik(pat, mu, Sigma)          FIML log-likelihood
gradient(pat, mu, Sigma)        d loglik / d [vech(Sigma), mu]
hessian(pat, mu, Sigma)         d2 loglik / d m d m'  (analytic)
casewise_scores(pat, mu, Sigma) per-row gradient, n x (p* + p)
expected_information(pat, ...)  Fisher information of the moments (optimiser metric)
saturated_em(X)                 EM for the unrestricted mean and covariance (H1)
baseline_loglik(pat)            independence model with free means/variances
srmr_moments(S, m, Sigma, mu)   lavaan's "srmr" from (EM) saturated moments
maximise_fiml(model, ...)       Fisher scoring of theta for a core SEMModel
fit_fiml(...)                   the missing="fiml" path of fit_sem (returns SEMResult)

Example
-------
>>> import pandas as pd
>>> from analysis.sem import fit_sem
>>> res = fit_sem("f =~ y1 + y2 + y3", df, missing="fiml")   # doctest: +SKIP
>>> res.fit_indices[["chisq", "loglik", "unrestricted_loglik"]]  # doctest: +SKIP

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of
incomplete data. In Marcoulides & Schumacker (Eds.), Advanced SEM.
Little, R. J. A., & Rubin, D. B. (2002). Statistical Analysis with Missing
Data (2nd ed.), ch. 8 (EM for the multivariate normal).
Savalei, V. (2010). Expected versus observed information in SEM with
incomplete normal and nonnormal data. Psychological Methods, 15, 352-367.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .converge import polish

LOG2PI = np.log(2.0 * np.pi)


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of lavaan's vech (column-major lower triangle).

    Parameters
    ----------
    p : int
        Order of the symmetric matrix.

    Returns
    -------
    rows, cols : ndarray of int, shape (p(p+1)/2,)
        ``S[rows, cols]`` is ``vech(S)``: ``(0,0), (1,0), ..., (p-1,0), (1,1), ...``.

    References
    ----------
    Magnus, J. R., & Neudecker, H. (1999). Matrix Differential Calculus with Applications in
    Statistics and Econometrics, 2nd ed., ch. 3. Wiley.

    Examples
    --------
    >>> vech_indices(2)
    (array([0, 1, 1]), array([0, 0, 1]))
    """
    cols, rows = np.triu_indices(p)  # (j, i) with i >= j, ordered by j
    return rows, cols


def duplication_matrix(p: int) -> np.ndarray:
    """Duplication matrix D with vec(S) = D vech(S) for symmetric S (p^2 x p*).

    Parameters
    ----------
    p : int
        Order of the symmetric matrix.

    Returns
    -------
    ndarray, shape (p * p, p(p+1)/2)
        The 0/1 duplication matrix for lavaan's vech order (:func:`vech_indices`).

    References
    ----------
    Magnus, J. R., & Neudecker, H. (1999). Matrix Differential Calculus with Applications in
    Statistics and Econometrics, 2nd ed., ch. 3. Wiley.

    Examples
    --------
    >>> S = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(np.allclose(duplication_matrix(2) @ vech(S), S.ravel()))
    True
    """
    r, c = vech_indices(p)
    D = np.zeros((p * p, r.size))
    k = np.arange(r.size)
    D[r * p + c, k] = 1.0
    D[c * p + r, k] = 1.0
    return D


def vech(S: np.ndarray) -> np.ndarray:
    """lavaan's vech of a symmetric matrix (column-major lower triangle).

    Parameters
    ----------
    S : ndarray, shape (p, p)
        Symmetric matrix.

    Returns
    -------
    ndarray, shape (p(p+1)/2,)
        The non-duplicated elements in the order of :func:`vech_indices`.

    References
    ----------
    Magnus, J. R., & Neudecker, H. (1999). Matrix Differential Calculus with Applications in
    Statistics and Econometrics, 2nd ed., ch. 3. Wiley.

    Examples
    --------
    >>> vech(np.array([[1.0, 2.0], [2.0, 3.0]]))
    array([1., 2., 3.])
    """
    r, c = vech_indices(S.shape[0])
    return S[r, c]


def _sym_grad_to_vech(G: np.ndarray) -> np.ndarray:
    """Gradient w.r.t. vech(Sigma) from the symmetric matrix gradient G.

    G holds dL/dSigma_ij treating all p^2 entries as free; an off-diagonal
    vech element moves two entries, hence 2 G_ij off and G_ii on the diagonal.
    """
    r, c = vech_indices(G.shape[-1])
    out = 2.0 * G[..., r, c]
    diag = r == c
    out[..., diag] = G[..., r[diag], c[diag]]
    return out


def _unique_rows(obs: np.ndarray):
    """``np.unique(obs, axis=0, return_inverse=True, return_counts=True)``, fast.

    Rows of a boolean mask are packed into integers with the first column as the most
    significant bit, so sorting the integers gives np.unique's lexicographic order.
    """
    n, p = obs.shape
    if p > 62:
        mask, inv, counts = np.unique(obs, axis=0, return_inverse=True, return_counts=True)
        return mask, inv.ravel(), counts
    key = obs.astype(np.int64) @ (np.int64(1) << np.arange(p - 1, -1, -1, dtype=np.int64))
    _, first, inv, counts = np.unique(key, return_index=True, return_inverse=True,
                                      return_counts=True)
    return obs[first], inv.ravel(), counts


class MissingPatterns:
    """Rows of a data matrix grouped by missingness pattern.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data with ``NaN`` for missing values. Rows with every value missing
        carry no information and are dropped with a warning (as lavaan does).

    Attributes
    ----------
    n, p : int
        Number of (non-empty) rows and variables.
    mask : ndarray of bool, shape (K, p)
        Observed variables of each of the K patterns.
    counts : ndarray, shape (K,)
        Rows per pattern.
    ybar : ndarray, shape (K, p)
        Pattern means of the observed variables (0 where missing).
    T : ndarray, shape (K, p, p)
        Pattern cross-products about ``ybar`` divided by the count (0 where
        missing).
    row_pattern : ndarray, shape (n,)
        Pattern index of each row.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 5.0]])
    >>> MissingPatterns(X).counts
    array([1, 2])
    """

    def __init__(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
            raise ValueError(f"X must be a 2-d array with >= 2 rows; got shape {X.shape}")
        if np.isinf(X).any():
            raise ValueError("X contains infinite values")
        obs = ~np.isnan(X)
        empty = ~obs.any(axis=1)
        if empty.any():
            warnings.warn(f"{int(empty.sum())} rows with all values missing were dropped")
            X, obs = X[~empty], obs[~empty]
        if (obs.sum(axis=0) == 0).any():
            raise ValueError("a variable has no observed values")
        self.n, self.p = X.shape
        self.mask, self.row_pattern, counts = _unique_rows(obs)
        self.counts = counts
        self.K = self.mask.shape[0]
        self.nobs = self.mask.sum(axis=1)
        self.X0 = np.where(obs, X, 0.0)  # zeros where missing

        # rows sorted by pattern: pattern k owns rows order[bounds[k]:bounds[k + 1]]
        self.order = np.argsort(self.row_pattern, kind="stable")
        self.bounds = np.r_[0, np.cumsum(counts)]
        Xs = self.X0[self.order]
        self.ybar = np.add.reduceat(Xs, self.bounds[:-1], axis=0) / counts[:, None]
        C = Xs - self.ybar[self.row_pattern[self.order]]
        # one (n_k x p)' (n_k x p) product per pattern, not an n x p x p array
        self.T = np.stack([C[a:b].T @ C[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:])])
        self.T /= counts[:, None, None]

        # patterns batched by their number of observed variables, with flat indices
        # to gather observed sub-covariances and to scatter back into (K, p, p)
        self.size_groups = []
        p = self.p
        for s in np.unique(self.nobs):
            ks = np.flatnonzero(self.nobs == s)
            idx = np.nonzero(self.mask[ks])[1].reshape(ks.size, s)
            sub = idx[:, :, None] * p + idx[:, None, :]
            self.size_groups.append((ks, idx, sub, ks[:, None, None] * (p * p) + sub))

    @property
    def fraction_missing(self) -> float:
        """Share of missing cells among the kept rows."""
        return 1.0 - float(self.nobs @ self.counts) / (self.n * self.p)


def _tri_inv(L: np.ndarray) -> np.ndarray:
    """Inverses of a stack of lower-triangular matrices by 2 x 2 block recursion.

    ``[[A, 0], [C, D]]^-1 = [[A^-1, 0], [-D^-1 C A^-1, D^-1]]``: a few batched
    matmuls per level, far cheaper than numpy's per-matrix LAPACK calls for
    stacks of small matrices.
    """
    s = L.shape[-1]
    if s == 1:
        return 1.0 / L
    h = s // 2
    Ai = _tri_inv(L[:, :h, :h])
    Di = _tri_inv(L[:, h:, h:])
    X = np.zeros_like(L)
    X[:, :h, :h] = Ai
    X[:, h:, h:] = Di
    X[:, h:, :h] = -(Di @ L[:, h:, :h]) @ Ai
    return X


def _pattern_inverses(pat: MissingPatterns, Sigma: np.ndarray):
    """Per pattern: inverse of the observed sub-covariance embedded in p x p, log det.

    Raises ``np.linalg.LinAlgError`` if a sub-covariance is not positive definite.
    """
    P = np.zeros((pat.K, pat.p, pat.p))
    flatP = P.reshape(-1)
    flatS = np.ascontiguousarray(Sigma).reshape(-1)
    logdet = np.empty(pat.K)
    for ks, idx, sub, emb in pat.size_groups:
        L = np.linalg.cholesky(flatS[sub])
        logdet[ks] = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        Linv = _tri_inv(L)
        flatP[emb] = np.swapaxes(Linv, 1, 2) @ Linv
    return P, logdet


@dataclass
class PatternState:
    """Per-pattern quantities at given moments, shared by the likelihood and its derivatives.

    Built by :func:`pattern_state`; pass it as ``state=`` to :func:`loglik`,
    :func:`gradient`, :func:`hessian`, :func:`casewise_scores` to avoid recomputation.

    Attributes
    ----------
    P : ndarray, shape (K, p, p)
        Inverse of each pattern's observed sub-covariance, embedded in p x p (zeros at the
        missing variables).
    logdet : ndarray, shape (K,)
        log-determinant of each observed sub-covariance.
    d : ndarray, shape (K, p)
        ``ybar - mu`` on the observed variables (0 where missing).
    v : ndarray, shape (K, p)
        ``P d``.
    """
    P: np.ndarray  # (K, p, p) embedded inverses
    logdet: np.ndarray  # (K,)
    d: np.ndarray  # (K, p) ybar - mu on observed entries
    v: np.ndarray  # (K, p) P d


def pattern_state(pat, mu, Sigma) -> PatternState:
    """The :class:`PatternState` of ``pat`` at the moments ``(mu, Sigma)``.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.

    Returns
    -------
    PatternState
        Embedded inverses and log-determinants of the observed sub-covariances, the
        mean deviations ``d`` and ``v = P d`` per pattern.

    Raises
    ------
    ValueError
        When ``mu`` or ``Sigma`` has the wrong shape.
    numpy.linalg.LinAlgError
        When an observed sub-covariance is not positive definite.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> st = pattern_state(MissingPatterns(X), [1.0, 0.5], np.eye(2))
    >>> st.P.shape, st.logdet.shape
    ((2, 2, 2), (2,))
    """
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    if mu.shape != (pat.p,) or Sigma.shape != (pat.p, pat.p):
        raise ValueError(f"mu must have shape ({pat.p},) and Sigma ({pat.p}, {pat.p})")
    P, logdet = _pattern_inverses(pat, Sigma)
    d = np.where(pat.mask, pat.ybar - mu, 0.0)
    v = np.einsum("kab,kb->ka", P, d)
    return PatternState(P, logdet, d, v)


def loglik(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None) -> float:
    """FIML (casewise) normal log-likelihood of incomplete data.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.

    Returns
    -------
    float
        ``sum_i log N(y_i,obs; mu_obs, Sigma_obs)``; ``-inf`` if an observed
        sub-covariance is not positive definite.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> round(loglik(MissingPatterns(X), [1.0, 0.5], np.eye(2)), 4)
    -5.7197
    """
    try:
        st = state or pattern_state(pat, mu, Sigma)
    except np.linalg.LinAlgError:
        return -np.inf
    trPT = np.einsum("kab,kba->k", st.P, pat.T)
    quad = np.einsum("ka,ka->k", st.d, st.v)
    per = pat.nobs * LOG2PI + st.logdet + trPT + quad
    return float(-0.5 * pat.counts @ per)


def sym_gradient(pat, st):
    """Gradient w.r.t. mu and the symmetric matrix gradient w.r.t. Sigma.

    Summed over patterns k with n_k rows, P_k the embedded inverse and v_k = P_k d_k:
    ``g_mu = sum_k n_k v_k`` and ``G = 1/2 sum_k n_k (P_k T_k P_k + v_k v_k' - P_k)``,
    treating all p^2 entries of Sigma as free.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    st : PatternState
        :func:`pattern_state` of ``pat`` at the moments.

    Returns
    -------
    g_mu : ndarray, shape (p,)
        dL/dmu.
    G : ndarray, shape (p, p)
        dL/dSigma as a symmetric matrix.
    PTP : ndarray, shape (K, p, p)
        ``P_k T_k P_k`` per pattern.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> pat = MissingPatterns(X)
    >>> g_mu, G, _ = sym_gradient(pat, pattern_state(pat, [1.0, 0.75], np.eye(2)))
    >>> g_mu
    array([0., 0.])
    """
    n = pat.counts.astype(float)
    g_mu = n @ st.v
    PTP = st.P @ pat.T @ st.P
    G = 0.5 * (
        np.einsum("k,kab->ab", n, PTP) + (st.v * n[:, None]).T @ st.v - np.einsum("k,kab->ab", n, st.P)
    )
    return g_mu, G, PTP


def gradient(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None) -> np.ndarray:
    """Analytic gradient of :func:`loglik` w.r.t. ``m = [vech(Sigma), mu]``.

    Per pattern (observed part), ``dL/dmu = n Sigma^-1 (ybar - mu)`` and
    ``dL/dSigma = n/2 Sigma^-1 (T + dd' - Sigma) Sigma^-1``.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.

    Returns
    -------
    ndarray, shape (p(p+1)/2 + p,)
        ``[dL/dvech(Sigma), dL/dmu]`` (an off-diagonal vech element counts both cells).

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> gradient(MissingPatterns(X), [1.0, 0.75], np.eye(2)).shape
    (5,)
    """
    st = state or pattern_state(pat, mu, Sigma)
    g_mu, G, _ = sym_gradient(pat, st)
    return np.r_[_sym_grad_to_vech(G), g_mu]


def _vech_pair(n, A, B, p):
    """``D' E D`` for ``E[(i,j),(k,l)] = sum_k n_k A_k[i,k] B_k[j,l]`` (p* x p*).

    One GEMM over patterns, then the duplication-matrix sandwich as gathers:
    an off-diagonal vech element stands for both (i,j) and (j,i).
    """
    K = A.shape[0]
    M = (A.reshape(K, p * p) * n[:, None]).T @ B.reshape(K, p * p)  # [(i,k),(j,l)]
    r, c = vech_indices(p)
    w = np.where(r == c, 0.5, 1.0)
    out = np.zeros((r.size, r.size))
    for a, b in ((r, c), (c, r)):
        for k, l in ((r, c), (c, r)):
            out += M[(a * p)[:, None] + k[None, :], (b * p)[:, None] + l[None, :]]
    return out * np.outer(w, w)


def hessian(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None) -> np.ndarray:
    """Analytic Hessian of :func:`loglik` w.r.t. ``m = [vech(Sigma), mu]``.

    Minus this matrix is the observed information of the moments (lavaan's
    "observed" h1 information when evaluated at the saturated estimates).
    From the second differential per pattern, with P = Sigma_obs^-1,
    B = P (T + dd') P and v = P d:
    ``d2L = n/2 tr(P dS P dS) - n tr(dS P dS B) - 2n dmu' P dS v - n dmu' P dmu``.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.

    Returns
    -------
    ndarray, shape (p(p+1)/2 + p, p(p+1)/2 + p)
        The symmetric Hessian, blocks ordered ``[vech(Sigma), mu]``.

    References
    ----------
    Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal
    and nonnormal data. Psychological Methods 15, 352-367.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> H = hessian(MissingPatterns(X), [1.0, 0.75], np.eye(2))
    >>> bool(np.allclose(H, H.T))
    True
    """
    st = state or pattern_state(pat, mu, Sigma)
    p = pat.p
    n = pat.counts.astype(float)
    B = st.P @ pat.T @ st.P + st.v[:, :, None] * st.v[:, None, :]
    H_ss = 0.5 * _vech_pair(n, st.P, st.P, p) - _vech_pair(n, st.P, B, p)
    H_ss = 0.5 * (H_ss + H_ss.T)
    # cross term [a, (b, c)] = -sum n P[a, b] v[c], summed over (b, c) and (c, b)
    X = -np.einsum("k,kab,kc->abc", n, st.P, st.v)
    r, c = vech_indices(p)
    cross = (X[:, r, c] + X[:, c, r]) * np.where(r == c, 0.5, 1.0)
    H_mm = -np.einsum("k,kab->ab", n, st.P)
    return np.block([[H_ss, cross.T], [cross, H_mm]])


def _score_chunks(pat: MissingPatterns, mu, Sigma, state: PatternState | None, chunk: int):
    """Casewise scores (see :func:`casewise_scores`) in blocks of ``chunk`` rows.

    Blocks keep the working arrays in cache: at 100,000 rows the full n x (p* + p) array
    costs more in memory traffic than in arithmetic.
    """
    st = state or pattern_state(pat, mu, Sigma)
    mu = np.asarray(mu, dtype=float)
    p = pat.p
    r, c = vech_indices(p)
    ps = r.size
    half = np.where(r == c, 0.5, 1.0)  # d/dSigma_rc counts both off-diagonal cells
    Pv = st.P[:, r, c] * half
    for a in range(0, pat.n, chunk):
        rp = pat.row_pattern[a:a + chunk]
        E = np.where(pat.mask[rp], pat.X0[a:a + chunk] - mu, 0.0)
        out = np.empty((rp.size, ps + p))
        R = out[:, ps:]
        if pat.K == 1:
            np.matmul(E, st.P[0], out=R)
        else:  # P_k is zero outside the observed block
            np.einsum("nab,nb->na", st.P[rp], E, out=R)
        G = out[:, :ps]
        np.multiply(R[:, r], R[:, c], out=G)
        G *= half
        G -= Pv[0] if pat.K == 1 else Pv[rp]
        yield out


def casewise_scores(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None,
                    chunk: int = 256) -> np.ndarray:
    """Per-row gradients of the log-likelihood w.r.t. ``[vech(Sigma), mu]``.

    Row i of pattern k (e = observed y_i - mu, P = Sigma_obs^-1):
    ``d/dmu = P e`` and ``d/dSigma = -1/2 (P - P e e' P)``. Rows are returned
    in the order of the (non-empty) input rows; their sum is :func:`gradient`.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.
    chunk : int, default 256
        Rows computed per block (memory traffic, not the result, depends on it).

    Returns
    -------
    ndarray, shape (n, p(p+1)/2 + p)
        The casewise scores.

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology 30,
    165-200.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> casewise_scores(MissingPatterns(X), [1.0, 0.75], np.eye(2)).shape
    (3, 5)
    """
    return np.vstack(list(_score_chunks(pat, mu, Sigma, state, chunk)))


def score_crossprod(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None,
                    cols=slice(None), right: np.ndarray | None = None,
                    chunk: int = 256) -> np.ndarray:
    """``sum_i t_i t_i'`` with ``t_i = s_i[cols] @ right`` (``s_i`` the casewise scores).

    The first-order information (``right=None``) or the sandwich meat in the parameters
    (``right`` = Delta), accumulated block by block so that the n x (p* + p) score array
    is never held whole.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.
    cols : slice or array of int, default all
        Moments kept (e.g. the covariance part only, without a mean structure).
    right : ndarray, shape (len(cols), q), optional
        Jacobian that maps the moment scores to parameter scores.
    chunk : int, default 256
        Rows computed per block.

    Returns
    -------
    ndarray
        ``len(cols) x len(cols)`` (``right=None``) or ``q x q``.

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology 30,
    165-200.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> pat = MissingPatterns(X)
    >>> S = casewise_scores(pat, [1.0, 0.75], np.eye(2))
    >>> bool(np.allclose(score_crossprod(pat, [1.0, 0.75], np.eye(2)), S.T @ S))
    True
    """
    total = None
    for S in _score_chunks(pat, mu, Sigma, state, chunk):
        T = S[:, cols] if right is None else S[:, cols] @ right
        total = T.T @ T if total is None else total + T.T @ T
    return total


@dataclass
class EMResult:
    """Saturated (H1) estimates from :func:`saturated_em`."""

    mu: np.ndarray
    Sigma: np.ndarray
    loglik: float
    iterations: int
    converged: bool


def saturated_em(X, *, tol: float = 1e-8, max_iter: int = 5000,
                 patterns: MissingPatterns | None = None) -> EMResult:
    """EM estimates of the unrestricted mean vector and covariance matrix.

    The E-step replaces missing values by their conditional expectations and
    adds the conditional covariances (Little & Rubin 2002, sec. 8.2.1); in
    aggregate form one EM step is
    ``mu+ = mu + Sigma g_mu / N`` and
    ``Sigma+ = Sigma + Sigma (2 G / N) Sigma - (Sigma g_mu)(Sigma g_mu)' / N^2``
    with g_mu, G the FIML gradients. This gives lavaan's h1 moments and
    ``unrestricted.logl`` under ``missing = "ml"``.

    Parameters
    ----------
    X : array_like or MissingPatterns
        Data with NaN for missing values.
    tol : float
        Stop when the largest absolute change of a moment is below ``tol``.
    max_iter : int
        Maximum number of EM steps (a warning when it is reached).
    patterns : MissingPatterns, optional
        ``X`` already grouped by pattern (then ``X`` is not read).

    Returns
    -------
    EMResult

    References
    ----------
    Little, R. J. A., & Rubin, D. B. (2002). Statistical Analysis with Missing Data, 2nd ed.,
    ch. 8. Wiley.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(50, 3)); X[::7, 1] = np.nan
    >>> em = saturated_em(X)
    >>> em.converged
    True
    """
    pat = patterns or (X if isinstance(X, MissingPatterns) else MissingPatterns(X))
    N = float(pat.n)
    # start: available-case means and variances (divisor n_j)
    w = pat.counts[:, None] * pat.mask
    nj = w.sum(axis=0)
    mu = (pat.counts[:, None] * pat.ybar).sum(axis=0) / nj
    dev = np.where(pat.mask, pat.ybar - mu, 0.0)
    var = (pat.counts[:, None] * (np.diagonal(pat.T, axis1=1, axis2=2) + dev**2)).sum(axis=0) / nj
    Sigma = np.diag(var)
    converged = False
    for it in range(1, max_iter + 1):
        st = pattern_state(pat, mu, Sigma)
        g_mu, G, _ = sym_gradient(pat, st)
        a = Sigma @ g_mu
        mu_new = mu + a / N
        Sigma_new = Sigma + Sigma @ (2.0 * G / N) @ Sigma - np.outer(a, a) / N**2
        Sigma_new = 0.5 * (Sigma_new + Sigma_new.T)
        delta = max(np.abs(mu_new - mu).max(), np.abs(Sigma_new - Sigma).max())
        mu, Sigma = mu_new, Sigma_new
        if delta < tol:
            converged = True
            break
    if not converged:
        warnings.warn(f"saturated EM did not converge in {max_iter} iterations")
    return EMResult(mu, Sigma, loglik(pat, mu, Sigma), it, converged)


def baseline_loglik(pat: MissingPatterns) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood of the independence model with free means and variances.

    With a diagonal Sigma the FIML likelihood factors over variables, so the
    estimates are each variable's mean and variance (divisor n_j) over its
    observed values (lavaan's baseline model under ``missing = "ml"``).

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.

    Returns
    -------
    loglik : float
        Maximised log-likelihood of the independence model.
    mu : ndarray, shape (p,)
        Available-case means.
    var : ndarray, shape (p,)
        Available-case variances (divisor n_j).

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> ll, mu, var = baseline_loglik(MissingPatterns(X))
    >>> mu
    array([1.  , 0.75])
    """
    w = pat.counts[:, None] * pat.mask
    nj = w.sum(axis=0)
    mu = (pat.counts[:, None] * pat.ybar).sum(axis=0) / nj
    dev = np.where(pat.mask, pat.ybar - mu, 0.0)
    var = (pat.counts[:, None] * (np.diagonal(pat.T, axis1=1, axis2=2) + dev**2)).sum(axis=0) / nj
    ll = -0.5 * float(nj @ (LOG2PI + np.log(var) + 1.0))
    return ll, mu, var


def srmr_moments(S, m, Sigma, mu) -> float:
    """Bentler's SRMR from saturated (e.g. EM) and implied moments.

    Covariance residuals ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` over the lower
    triangle including the diagonal and, when means are given, mean residuals
    ``(m_i - mu_i) / sqrt(s_ii)``; root mean square over p* (+ p) elements.
    This is lavaan's "srmr" with a mean structure, which under
    ``missing = "ml"`` uses the EM moments as S and m.

    Parameters
    ----------
    S : array_like, shape (p, p)
        Saturated (sample or EM) covariance matrix.
    m : array_like, shape (p,), or None
        Saturated means (None: covariance residuals only).
    Sigma : array_like, shape (p, p)
        Model-implied covariance matrix.
    mu : array_like, shape (p,), or None
        Model-implied means.

    Returns
    -------
    float
        The SRMR.

    References
    ----------
    Bentler, P. M. (1995). EQS Structural Equations Program Manual. Multivariate Software.

    Examples
    --------
    >>> srmr_moments(np.eye(2), None, np.eye(2), None)
    0.0
    """
    S = np.asarray(S, dtype=float)
    sd = np.sqrt(np.diag(S))
    R = (S - np.asarray(Sigma, dtype=float)) / np.outer(sd, sd)
    r, c = vech_indices(len(sd))
    res = R[r, c]
    if m is not None and mu is not None:
        res = np.r_[res, (np.asarray(m) - np.asarray(mu)) / sd]
    return float(np.sqrt(np.mean(res**2)))


def expected_information(pat: MissingPatterns, mu, Sigma, *, state: PatternState | None = None) -> np.ndarray:
    """Expected (Fisher) information of ``[vech(Sigma), mu]`` under FIML (total).

    ``sum_k n_k [1/2 D'(P_k x P_k) D, P_k]`` over patterns (block diagonal);
    used as the metric of the Fisher-scoring optimiser.

    Parameters
    ----------
    pat : MissingPatterns
        The data grouped by missingness pattern.
    mu : array_like, shape (p,)
        Mean vector.
    Sigma : array_like, shape (p, p)
        Covariance matrix.
    state : PatternState, optional
        :func:`pattern_state` of ``(pat, mu, Sigma)`` when already computed.

    Returns
    -------
    ndarray, shape (p(p+1)/2 + p, p(p+1)/2 + p)
        The information, blocks ordered ``[vech(Sigma), mu]``.

    References
    ----------
    Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal
    and nonnormal data. Psychological Methods 15, 352-367.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.5]])
    >>> I = expected_information(MissingPatterns(X), [1.0, 0.75], np.eye(2))
    >>> I[3:, 3:]
    array([[3., 0.],
           [0., 2.]])
    """
    st = state or pattern_state(pat, mu, Sigma)
    p = pat.p
    n = pat.counts.astype(float)
    H_ss = 0.5 * _vech_pair(n, st.P, st.P, p)
    H_mm = np.einsum("k,kab->ab", n, st.P)
    out = np.zeros((H_ss.shape[0] + p,) * 2)
    out[: H_ss.shape[0], : H_ss.shape[0]] = 0.5 * (H_ss + H_ss.T)
    out[H_ss.shape[0]:, H_ss.shape[0]:] = H_mm
    return out


# --------------------------------------------------------------------------
# model level: the FIML fit path of fit_sem(missing="fiml")
# --------------------------------------------------------------------------

def value_grad_info(model, pats, theta, info: bool = True):
    """FIML loglik, its gradient and expected information w.r.t. theta.

    Moment-level derivatives chained through each group's ``Delta = dm/dtheta``:
    ``g = sum_g Delta_g' dL_g/dm``, ``I = sum_g Delta_g' I_g Delta_g``.

    Parameters
    ----------
    model : SEMModel
        The model (with a mean structure).
    pats : list of MissingPatterns
        One per group.
    theta : ndarray
        Free parameters.
    info : bool, default True
        Also compute the expected information.

    Returns
    -------
    loglik : float
        Total FIML log-likelihood (``-inf`` where a sub-covariance is not positive
        definite, with ``grad`` and ``info`` None).
    grad : ndarray, shape (q,)
        Its gradient.
    info : ndarray, shape (q, q), or None
        Expected information (None when ``info`` is False).

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.
    Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal
    and nonnormal data. Psychological Methods 15, 352-367.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> df = holzinger39.get_data()[["x1", "x2", "x3"]].copy()
    >>> df.iloc[::10, 0] = np.nan
    >>> res = fit_sem("f =~ x1 + x2 + x3", df, missing="fiml")
    >>> pats = res.extra["patterns"]
    >>> ll, g, info = value_grad_info(res.model, pats, res.theta)
    >>> bool(np.isclose(ll, res.fit_indices["loglik"])), bool(np.abs(g).max() < 1e-3)
    (True, True)
    """
    q = model.n_free
    ll, grad = 0.0, np.zeros(q)
    I = np.zeros((q, q)) if info else None
    for g, pat in enumerate(pats):
        Sigma, mu = model.sigma_mu(theta, g)
        try:
            st = pattern_state(pat, mu, Sigma)
        except np.linalg.LinAlgError:
            return -np.inf, None, None
        ll += loglik(pat, mu, Sigma, state=st)
        D = model.delta(theta, g)
        grad += D.T @ gradient(pat, mu, Sigma, state=st)
        if info:
            I += D.T @ expected_information(pat, mu, Sigma, state=st) @ D
    return ll, grad, I


def _loglik_theta(model, pats, theta) -> float:
    ll = 0.0
    for g, pat in enumerate(pats):
        Sigma, mu = model.sigma_mu(theta, g)
        ll += loglik(pat, mu, Sigma)
    return ll


def fiml_scoring_step(model, pats, theta):
    """One Fisher-scoring step for :func:`analysis.sem.converge.polish`.

    Parameters
    ----------
    model : SEMModel
        With a mean structure.
    pats : list of MissingPatterns
        The data by missingness pattern, one per group.
    theta : ndarray
        Current free-parameter values.

    Returns
    -------
    value : float
        ``-loglik`` (negated, since :func:`polish` minimises); ``inf`` outside the
        admissible region.
    step : ndarray
        ``I^-1 g``, with I the expected FIML information.
    decrement : float
        ``g' I^-1 g`` (``nan`` where the information is singular).
    """
    ll, g, info = value_grad_info(model, pats, theta)
    if not np.isfinite(ll):
        return np.inf, np.zeros_like(theta), np.nan
    try:
        step = np.linalg.solve(info, g)
    except np.linalg.LinAlgError:
        return -ll, np.zeros_like(theta), np.nan
    return -ll, step, float(g @ step)


def maximise_fiml(model, pats, theta0, *, max_iter: int = 200, tol: float = 1e-10):
    """Maximise the FIML log-likelihood over theta by Fisher scoring.

    Steps ``I^-1 g`` with I the expected FIML information chained through
    Delta, backtracking on the log-likelihood; converged when the Newton
    decrement ``g' I^-1 g`` is below ``tol``. Falls back to L-BFGS-B.

    Parameters
    ----------
    model : SEMModel
        The model (with a mean structure).
    pats : list of MissingPatterns
        One per group.
    theta0 : ndarray
        Starting values (the model's own are used if the implied moments there are not
        admissible).
    max_iter : int, default 200
        Maximum number of Fisher-scoring steps.
    tol : float, default 1e-10
        Bound on the Newton decrement.

    Returns
    -------
    theta : ndarray
        The estimates.
    loglik : float
        The maximised log-likelihood.
    iterations : int
        Steps taken.
    converged : bool
        Whether the convergence criterion was met.
    message : str
        How it stopped.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Marcoulides & Schumacker (Eds.), Advanced Structural Equation Modeling, 243-277.
    Lee, S.-Y. & Jennrich, R. I. (1979). A study of algorithms for covariance structure
    analysis with specific comparisons using factor analysis. Psychometrika 44, 99-113.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> df = holzinger39.get_data()[["x1", "x2", "x3"]].copy()
    >>> df.iloc[::10, 0] = np.nan
    >>> res = fit_sem("f =~ x1 + x2 + x3", df, missing="fiml")
    >>> pats = res.extra["patterns"]
    >>> theta, ll, it, ok, msg = maximise_fiml(res.model, pats, res.model.theta_start)
    >>> ok, bool(np.allclose(theta, res.theta, atol=1e-4))
    (True, True)
    """
    import scipy.optimize as so

    theta = np.asarray(theta0, dtype=float).copy()
    ll, g, I = value_grad_info(model, pats, theta)
    if not np.isfinite(ll):
        theta = np.asarray(model.theta_start, dtype=float).copy()
        ll, g, I = value_grad_info(model, pats, theta)
        if not np.isfinite(ll):
            return theta, ll, 0, False, "implied covariance at start values is not positive definite"
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(I, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(I, g, rcond=None)[0]
        dec = float(g @ step)
        if not np.isfinite(dec):
            break
        if dec < tol:
            # polish to the floating-point limit, so the result does not depend on the BLAS
            # kernel's rounding along the way (analysis.sem.converge)
            # (decrement of the total log-likelihood: 1e-24 is ~1e-13 relative in theta)
            theta, extra = polish(theta, lambda th: fiml_scoring_step(model, pats, th),
                                  first=(-ll, step, dec), floor=1e-24)
            return theta, _loglik_theta(model, pats, theta), it + extra, True, \
                "converged (Newton decrement)"
        t = 1.0
        while t > 1e-10:
            ll_new = _loglik_theta(model, pats, theta + t * step)
            if ll_new >= ll + 1e-4 * t * dec:
                break
            t *= 0.5
        if t <= 1e-10:
            break
        theta = theta + t * step
        ll, g, I = value_grad_info(model, pats, theta)

    def fun(th):
        v, gr, _ = value_grad_info(model, pats, th, info=False)
        if not np.isfinite(v):
            return 1e10, np.zeros_like(th)
        return -v, -gr

    res = so.minimize(fun, theta, jac=True, method="L-BFGS-B",
                      options=dict(maxiter=5000, ftol=1e-15, gtol=1e-8))
    ll2, g2, I2 = value_grad_info(model, pats, res.x)
    ok = bool(np.isfinite(ll2) and g2 @ np.linalg.lstsq(I2, g2, rcond=None)[0] < 1e-6)
    if np.isfinite(ll2) and ll2 >= ll:
        theta, ll = res.x, ll2
    return theta, ll, max_iter + res.nit, ok, "L-BFGS-B after Fisher scoring"
