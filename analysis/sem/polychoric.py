r"""Thresholds, polychoric correlations and their asymptotic covariance (ordinal SEM, stage 1-2).

For ordered items ``y_j`` with categories ``1..K_j`` the latent-response model is
``y_j = k  <=>  tau_{j,k-1} < y*_j <= tau_{j,k}`` with ``y*`` standard multivariate normal
with correlation matrix ``P``:

* stage 1: thresholds ``tau_{j,k} = Phi^-1(cumulative proportion of categories <= k)``
  (univariate ML);
* stage 2: each polychoric ``rho_jl`` maximises the bivariate log-likelihood
  ``sum_{k,m} n_km log pi_km(rho)`` with the thresholds held at their stage-1 values
  (Olsson 1979, two-step ML), by Fisher scoring, vectorised over all pairs at once;
* the asymptotic covariance of ``s = (tau, rho)`` comes from the casewise influence
  functions of the two-stage estimator (Muthen 1984; Muthen, du Toit & Spisic 1997):
  ``IF_tau = A^-1 s_tau`` (``A`` the information of the thresholds of each item) and
  ``IF_rho = I_rr^-1 (s_rho - I_rt IF_tau)``, where ``I_rt`` is the cross-product of the
  bivariate scores with respect to rho and to the two items' thresholds; information
  matrices are the sample means of score cross-products. ``Gamma = mean(IF IF')`` is the
  covariance of ``sqrt(N) (s - sigma)`` (lavaan's ``NACOV``); ``acov = Gamma / N``.

The bivariate normal distribution function is evaluated with Owen's T function (Owen 1956):
``Phi2(h, k; r) = [Phi(h) + Phi(k)] / 2 - T(h, a_h) - T(k, a_k) - beta`` with
``a_h = (k - r h) / (h sqrt(1 - r^2))``, which scipy provides as a vectorised ufunc.

Ordering (lavaan's): thresholds item by item (``x1|t1, x1|t2, x2|t1, ...``), then the
correlations below the diagonal column by column (``(2,1), (3,1), ..., (p,1), (3,2), ...``).

Continuous items beside ordered ones (:func:`ordinal_stats` with ``numeric=``): stage 1
adds each one's mean (entered as ``-mean`` among the thresholds) and variance (ML), with
influence functions ``s A^-1`` from the normal scores and their empirical information;
stage 2 adds two-step polyserial correlations (Olsson, Drasgow & Dorans 1982; reported as
covariances ``rho * sd``) and covariances (bivariate-normal score with the means and
variances held fixed); the statistics are ``[th, variances, off-diagonal]``.

References
----------
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
coefficient. Psychometrika 44, 443-460.
Muthen, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. Psychometrika 49, 115-132.
Muthen, B., du Toit, S. H. C. & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical
and continuous outcomes. Unpublished technical report.
Owen, D. B. (1956). Tables for computing bivariate normal probabilities. Annals of
Mathematical Statistics 27, 1075-1090.
Olsson, U., Drasgow, F. & Dorans, N. J. (1982). The polyserial correlation coefficient.
Psychometrika 47, 337-347.

Example
-------
>>> import pandas as pd
>>> d = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3, 1, 2, 3, 3],
...                   "b": [1, 2, 2, 2, 3, 3, 1, 1, 3, 2]})
>>> pc = polychoric(d)
>>> round(float(pc.cor.loc["a", "b"]), 3)
0.901
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from .errors import SEMError

__all__ = ["bvn_cdf", "bvn_pdf", "polychoric", "PolychoricResult", "OrdinalStats",
           "ordinal_stats", "encode_ordinal", "pair_index"]

_SQRT2PI = np.sqrt(2.0 * np.pi)


def bvn_pdf(h, k, r):
    """Standard bivariate normal density at ``(h, k)`` with correlation ``r`` (vectorised;
    0 where ``h`` or ``k`` is infinite).

    Parameters
    ----------
    h, k : array_like
        Arguments.
    r : array_like
        Correlations in (-1, 1).

    Returns
    -------
    ndarray

    References
    ----------
    Johnson, N. L. & Kotz, S. (1972). Distributions in Statistics: Continuous Multivariate
    Distributions, ch. 36. Wiley.

    Examples
    --------
    >>> round(float(bvn_pdf(0.0, 0.0, 0.0)), 6)
    0.159155
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float),
                                  np.asarray(r, float))
    out = np.zeros(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    hf, kf, rf = h[fin], k[fin], r[fin]
    one = 1.0 - rf * rf
    out[fin] = np.exp(-(hf * hf - 2.0 * rf * hf * kf + kf * kf) / (2.0 * one)) / (
        2.0 * np.pi * np.sqrt(one))
    return out


def bvn_cdf(h, k, r):
    """``P(X <= h, Y <= k)`` for a standard bivariate normal with correlation ``r``.

    Vectorised over broadcast arrays; infinite limits allowed. Owen's (1956) formula
    with scipy's ``owens_t``; exact to double precision for ``|r| < 1``.

    Parameters
    ----------
    h, k : array_like
        Upper limits.
    r : array_like
        Correlations in (-1, 1).

    Returns
    -------
    ndarray

    References
    ----------
    Owen, D. B. (1956). Annals of Mathematical Statistics 27, 1075-1090.

    Examples
    --------
    >>> round(float(bvn_cdf(0.0, 0.0, 0.5)), 6)   # 1/4 + asin(0.5) / (2 pi)
    0.333333
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float),
                                  np.asarray(r, float))
    out = np.zeros(h.shape)
    # infinite limits
    hinf, kinf = np.isposinf(h), np.isposinf(k)
    neg = np.isneginf(h) | np.isneginf(k)
    only_h = kinf & ~hinf & ~neg
    only_k = hinf & ~kinf & ~neg
    out[only_h] = special.ndtr(h[only_h])
    out[only_k] = special.ndtr(k[only_k])
    out[hinf & kinf] = 1.0
    fin = np.isfinite(h) & np.isfinite(k)
    hf, kf, rf = h[fin], k[fin], r[fin]
    s = np.sqrt(1.0 - rf * rf)
    both0 = (hf == 0.0) & (kf == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ah = np.where(hf != 0.0, (kf - rf * hf) / (hf * s), np.sign(kf) * np.inf)
        ak = np.where(kf != 0.0, (hf - rf * kf) / (kf * s), np.sign(hf) * np.inf)
    ah = np.where(both0, 0.0, ah)
    ak = np.where(both0, 0.0, ak)
    hk = hf * kf
    beta = np.where((hk > 0) | ((hk == 0) & (hf + kf >= 0)), 0.0, 0.5)
    val = 0.5 * (special.ndtr(hf) + special.ndtr(kf)) - special.owens_t(hf, ah) \
        - special.owens_t(kf, ak) - beta
    val = np.where(both0, 0.25 + np.arcsin(rf) / (2.0 * np.pi), val)
    out[fin] = np.clip(val, 0.0, 1.0)
    return out


def pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i > j``, in lavaan's order (below the diagonal, column by column).

    Parameters
    ----------
    p : int
        Number of variables.

    Returns
    -------
    i, j : ndarray of int

    References
    ----------
    Rosseel, Y. (2012). lavaan. J. Stat. Softw. 48(2) (``lav_matrix_vech`` without the
    diagonal).

    Examples
    --------
    >>> [tuple(map(int, t)) for t in zip(*pair_index(3))]
    [(1, 0), (2, 0), (2, 1)]
    """
    j, i = np.triu_indices(p, 1)
    return i, j


def encode_ordinal(data: pd.DataFrame, columns, levels=None):
    """Code ordered columns as 0-based category indices (``-1`` for missing).

    Parameters
    ----------
    data : DataFrame
    columns : list of str
    levels : dict, optional
        Column -> sorted category values; defaults to the sorted distinct values of each
        column, or to the categories of an ordered pandas ``Categorical``.

    Raises
    ------
    SEMError
        A column with fewer than two categories, non-numeric values, or values outside
        ``levels``.

    References
    ----------
    Muthen, B. (1984). Psychometrika 49, 115-132 (categories of the latent-response model).

    Returns
    -------
    codes : ndarray (n, p) of int
    levels : dict

    Examples
    --------
    >>> codes, lev = encode_ordinal(pd.DataFrame({"a": [3, 1, None, 3]}), ["a"])
    >>> codes[:, 0].tolist(), lev["a"]
    ([1, 0, -1, 1], [1.0, 3.0])
    """
    codes = np.full((len(data), len(columns)), -1, dtype=np.int64)
    levels = dict(levels or {})
    for c, col in enumerate(columns):
        dt = data[col].dtype
        if isinstance(dt, pd.CategoricalDtype) and dt.ordered:  # the categories' order
            lev = levels.setdefault(col, list(dt.categories))
            cat = pd.Categorical(data[col], categories=lev, ordered=True)
            bad = data[col].notna().to_numpy() & (cat.codes < 0)
            if bad.any():
                rows = list(data.index[bad][:5])
                raise SEMError(f"ordered column {col!r} has values outside its categories "
                               f"(rows {rows})")
            codes[:, c] = cat.codes
            if len(lev) < 2:
                raise SEMError(f"ordered column {col!r} has fewer than 2 categories")
            continue
        x = pd.to_numeric(data[col], errors="coerce") if not pd.api.types.is_numeric_dtype(
            data[col]) else data[col]
        bad = data[col].notna() & x.isna()
        if bad.any():
            rows = list(data.index[bad.to_numpy()][:5])
            raise SEMError(f"ordered column {col!r} has non-numeric values (rows {rows})")
        v = x.to_numpy(dtype=float)
        ok = np.isfinite(v)
        lev = levels.get(col)
        if lev is None:
            lev = sorted(float(u) for u in np.unique(v[ok]))
            levels[col] = lev
        lev_arr = np.asarray(lev, float)
        pos = np.searchsorted(lev_arr, v[ok])
        pos = np.clip(pos, 0, len(lev_arr) - 1)
        off = lev_arr[pos] != v[ok]
        if off.any():
            rows = list(data.index[np.flatnonzero(ok)[off]][:5])
            raise SEMError(f"ordered column {col!r} has values outside its categories "
                           f"(rows {rows})")
        codes[ok, c] = pos
        if len(lev_arr) < 2:
            raise SEMError(f"ordered column {col!r} has fewer than 2 categories "
                           f"({len(lev_arr)} distinct value)")
    return codes, levels


@dataclass
class OrdinalStats:
    """Stage 1-2 statistics of one group (see the module docstring).

    Attributes: ``names`` (items), ``n_cat`` (categories per item), ``th`` (thresholds in
    lavaan's order), ``th_item`` (item index of each threshold), ``cor`` (p, p),
    ``gamma`` (covariance of sqrt(N)(s - sigma), s = [th, vech-offdiag(cor)]), ``n``
    (rows used), ``wls_obs`` (= s), ``warnings``.
    """

    names: list
    n_cat: np.ndarray
    th: np.ndarray
    th_item: np.ndarray
    cor: np.ndarray
    gamma: np.ndarray | None
    n: int
    warnings: list = field(default_factory=list)
    th_num: np.ndarray | None = None  # True where a "threshold" is -mean of a numeric item
    num: np.ndarray | None = None  # True for numeric (continuous) items

    def __post_init__(self):
        p = len(self.names)
        if self.num is None:
            self.num = np.zeros(p, bool)
        if self.th_num is None:
            self.th_num = np.zeros(len(self.th), bool)

    @property
    def wls_obs(self) -> np.ndarray:
        """``[th, variances of numeric items, vech-offdiag(cor)]`` (lavaan's WLS.obs)."""
        i, j = pair_index(len(self.names))
        return np.concatenate([self.th, np.diag(self.cor)[self.num], self.cor[i, j]])


def _univariate(codes_j, K):
    """Thresholds, per-category threshold scores and IFs of one item (codes >= 0 only)."""
    y = codes_j[codes_j >= 0]
    n = len(y)
    counts = np.bincount(y, minlength=K).astype(float)
    cum = np.cumsum(counts)[:-1] / n
    tau = special.ndtri(cum)
    t_ext = np.concatenate([[-np.inf], tau, [np.inf]])
    phi = np.where(np.isfinite(t_ext), stats.norm.pdf(np.where(np.isfinite(t_ext), t_ext, 0)),
                   0.0)
    P = np.diff(special.ndtr(t_ext))
    # score of log P_k w.r.t. tau_a (a = 0..K-2): +phi(tau_k)/P_k if a == k, -phi/P if a == k-1
    S = np.zeros((K, K - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(K):
            if k < K - 1:
                S[k, k] = phi[k + 1] / P[k]
            if k > 0:
                S[k, k - 1] = -phi[k] / P[k]
    S[~np.isfinite(S)] = 0.0
    A = (S * (counts / n)[:, None]).T @ S
    IF = np.linalg.solve(A, S.T).T if np.all(counts > 0) else np.full_like(S, np.nan)
    return tau, counts, IF


def _corner_arrays(tj, tl, rho):
    """Corner values F = Phi2 and f = phi2 on the (P, K+1, K+1) grids of two thresholds."""
    H = tj[:, :, None]
    Kk = tl[:, None, :]
    R = rho[:, None, None]
    F = bvn_cdf(H, Kk, R)
    f = bvn_pdf(H, Kk, R)
    return F, f


def _cells(F):
    return F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]


def _fit_pairs(tj, tl, counts, rho0, tol=1e-10, max_iter=100):
    """Two-step ML polychorics for all pairs: Fisher scoring on rho with thresholds fixed."""
    rho = np.clip(rho0.astype(float).copy(), -0.99, 0.99)
    n = counts.sum(axis=(1, 2))
    active = np.ones(len(rho), bool)
    for _ in range(max_iter):
        ia = np.flatnonzero(active)
        if not len(ia):
            break
        F, f = _corner_arrays(tj[ia], tl[ia], rho[ia])
        pi = _cells(F)
        dpi = _cells(f)
        c = counts[ia]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(c > 0, c * dpi / pi, 0.0).sum(axis=(1, 2))
            info = n[ia] * np.where(pi > 1e-300, dpi * dpi / pi, 0.0).sum(axis=(1, 2))
        step = g / info
        new = rho[ia] + step
        # keep inside (-1, 1): halve towards the bound
        over = np.abs(new) >= 0.9999
        new[over] = 0.5 * (rho[ia][over] + np.sign(new[over]) * 0.9999)
        rho[ia] = new
        active[ia[np.abs(step) < tol]] = False
    return rho, ~active


def ordinal_stats(codes: np.ndarray, n_cat, names, *, gamma: bool = True,
                  missing: str = "listwise", numeric=None) -> OrdinalStats:
    """Thresholds, polychoric correlations and Gamma of one group from category codes.

    Parameters
    ----------
    codes : ndarray (n, p) of int
        0-based categories (``encode_ordinal``); ``-1`` marks a missing value (allowed
        with ``missing="pairwise"`` only).
    n_cat : sequence of int
        Number of categories of each item (same in every group of a model).
    names : list of str
    gamma : bool or "diag"
        Also compute the asymptotic covariance (needed for WLSMV inference); "diag": only
        its diagonal (as a diagonal matrix; enough for the DWLS weights).
    missing : {"listwise", "pairwise"}
        With "pairwise" each threshold uses the item's observed values and each polychoric
        the pair's complete rows; the influence functions of a statistic estimated from
        ``n_s`` of the ``n`` rows are scaled by ``n / n_s`` and are zero elsewhere.

    numeric : ndarray (n, p), optional
        Values of continuous items, whose ``n_cat`` is 0 (their codes are ignored): then
        means (as ``-mean`` among the thresholds), variances, two-step polyserial
        covariances and covariances enter the statistics (listwise data only).

    Returns
    -------
    OrdinalStats

    Raises
    ------
    SEMError
        An empty category (the threshold would be infinite) or a correlation at +-1.

    References
    ----------
    Olsson (1979), Psychometrika 44; Muthen (1984), Psychometrika 49.

    Examples
    --------
    >>> codes = np.array([[0, 0], [0, 1], [1, 1], [1, 1], [2, 2], [2, 2], [0, 0], [1, 0]])
    >>> st = ordinal_stats(codes, [3, 3], ["a", "b"])
    >>> st.th.round(3).tolist()
    [-0.319, 0.674, -0.319, 0.674]
    """
    codes = np.asarray(codes, dtype=np.int64)
    n, p = codes.shape
    n_cat = np.asarray(n_cat, dtype=int)
    if (n_cat == 0).any():
        return _mixed_stats(codes, np.asarray(numeric, float), n_cat, names, gamma=gamma,
                            missing=missing)
    warnings_: list[str] = []
    if missing != "pairwise" and (codes < 0).any():
        raise SEMError("missing values in ordered data: use missing='pairwise' or drop rows")
    Kmax = int(n_cat.max())
    th_list, IF_list, tpad = [], [], np.full((p, Kmax + 1), np.inf)
    nobs = np.zeros(p)
    for j in range(p):
        K = int(n_cat[j])
        y = codes[:, j]
        tau, counts, IF = _univariate(y, K)
        nobs[j] = counts.sum()
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            raise SEMError(f"ordered column {names[j]!r}: category {int(empty[0]) + 1} of {K} "
                           f"is empty in these data (thresholds not identified); merge it "
                           f"with a neighbour or drop the level")
        small = np.flatnonzero(counts < 5)
        if len(small):
            warnings_.append(f"ordered column {names[j]!r}: category {int(small[0]) + 1} has "
                             f"only {int(counts[small[0]])} respondent(s); thresholds and "
                             f"polychorics involving it are unstable")
        th_list.append(tau)
        IF_list.append(IF)
        tpad[j, 0] = -np.inf
        tpad[j, 1:K] = tau
    th = np.concatenate(th_list)
    th_item = np.concatenate([[j] * (n_cat[j] - 1) for j in range(p)]).astype(int)

    pi_, pj_ = pair_index(p)  # pair (i, j), i > j
    P = len(pi_)
    tab = np.zeros((P, Kmax, Kmax))
    complete = not (codes < 0).any()
    for q in range(P):
        a, b = codes[:, pi_[q]], codes[:, pj_[q]]
        if not complete:
            ok = (a >= 0) & (b >= 0)
            a, b = a[ok], b[ok]
        tab[q] = np.bincount(a * Kmax + b, minlength=Kmax * Kmax).reshape(Kmax, Kmax)
    # start from the Pearson correlation of the codes (pairwise complete)
    if complete:
        with np.errstate(invalid="ignore", divide="ignore"):
            start = np.nan_to_num(np.corrcoef(codes.T.astype(float))[pi_, pj_])
    else:
        start = np.zeros(P)
        for q in range(P):
            a, b = codes[:, pi_[q]], codes[:, pj_[q]]
            ok = (a >= 0) & (b >= 0)
            if ok.sum() > 2 and a[ok].std() > 0 and b[ok].std() > 0:
                start[q] = np.corrcoef(a[ok], b[ok])[0, 1]
    rho, conv = _fit_pairs(tpad[pi_], tpad[pj_], tab, start)
    cor = np.eye(p)
    cor[pi_, pj_] = rho
    cor[pj_, pi_] = rho
    at_bound = np.abs(rho) > 0.995
    if at_bound.any():
        q = int(np.flatnonzero(at_bound)[0])
        raise SEMError(f"polychoric correlation of {names[pi_[q]]!r} and {names[pj_[q]]!r} "
                       f"is at the boundary ({rho[q]:.4f}): the items are (nearly) "
                       f"redundant or a cross-table is too sparse")
    if not conv.all():
        q = int(np.flatnonzero(~conv)[0])
        warnings_.append(f"polychoric correlation of {names[pi_[q]]!r} and {names[pj_[q]]!r} "
                         f"did not converge")
    ev = np.linalg.eigvalsh(cor)
    if ev[0] <= 1e-8:
        warnings_.append(f"the polychoric correlation matrix is not positive definite "
                         f"(smallest eigenvalue {ev[0]:.3g})")
    G = None
    if gamma:
        psi = _gamma(codes, n_cat, tpad, rho, tab, IF_list, pi_, pj_, nobs, missing,
                     return_psi=True)
        G = np.diag((psi * psi).mean(axis=0)) if gamma == "diag" else psi.T @ psi / n
    return OrdinalStats(names=list(names), n_cat=n_cat, th=th, th_item=th_item, cor=cor,
                        gamma=G, n=int(n), warnings=warnings_)


def _gamma(codes, n_cat, tpad, rho, tab, IF_list, pi_, pj_, nobs, missing, return_psi=False):
    """Covariance of the influence functions of (thresholds, polychorics)."""
    n, p = codes.shape
    Kmax = tpad.shape[1] - 1
    P = len(rho)
    tj, tl = tpad[pi_], tpad[pj_]
    s = np.sqrt(1.0 - rho * rho)[:, None, None]
    F, f = _corner_arrays(tj, tl, rho)
    pi = _cells(F)
    dpi = _cells(f)
    npair = tab.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        s_r = np.where(pi > 1e-300, dpi / pi, 0.0)  # (P, K, K) score of rho per cell
    w = tab / npair[:, None, None]
    I_rr = (w * s_r * s_r).sum(axis=(1, 2))
    # derivatives of the corner values w.r.t. the thresholds of each item
    H = tj[:, :, None]
    Kc = tl[:, None, :]
    with np.errstate(invalid="ignore"):
        phiH = np.where(np.isfinite(H), stats.norm.pdf(np.where(np.isfinite(H), H, 0.0)), 0.0)
        phiK = np.where(np.isfinite(Kc), stats.norm.pdf(np.where(np.isfinite(Kc), Kc, 0.0)), 0.0)
        Hf = np.where(np.isfinite(H), H, 0.0)
        Kf = np.where(np.isfinite(Kc), Kc, 0.0)
        argK = np.where(np.isfinite(H), (Kc - rho[:, None, None] * Hf) / s, 0.0)
        argH = np.where(np.isfinite(Kc), (H - rho[:, None, None] * Kf) / s, 0.0)
    G1 = phiH * special.ndtr(argK)  # dF[a, b] / d tj[a]
    G2 = phiK * special.ndtr(argH)  # dF[a, b] / d tl[b]
    D1 = G1[:, :, 1:] - G1[:, :, :-1]  # (P, K+1, K): d pi[k, m] / d tj[a] pieces at a = k+1 / k
    D2 = G2[:, 1:, :] - G2[:, :-1, :]  # (P, K, K+1)
    Q = w * s_r
    with np.errstate(divide="ignore", invalid="ignore"):
        Q = np.where(pi > 1e-300, Q / pi, 0.0)
    # E_j[P, a] = sum_m D1[a, m] (Q[a-1, m] - Q[a, m]) for corner a = 1..Kmax-1
    Qpad = np.concatenate([np.zeros((P, 1, Kmax)), Q, np.zeros((P, 1, Kmax))], axis=1)
    Ej = (D1 * (Qpad[:, :-1, :] - Qpad[:, 1:, :])).sum(axis=2)[:, 1:Kmax]  # (P, Kmax-1)
    QpadT = np.concatenate([np.zeros((P, Kmax, 1)), Q, np.zeros((P, Kmax, 1))], axis=2)
    El = (D2 * (QpadT[:, :, :-1] - QpadT[:, :, 1:])).sum(axis=1)[:, 1:Kmax]
    IFt = np.zeros((p, Kmax, Kmax - 1))
    for j in range(p):
        K = int(n_cat[j])
        IFt[j, :K, :K - 1] = IF_list[j]
    corr_j = np.einsum("pa,pka->pk", Ej, IFt[pi_])  # (P, Kmax)
    corr_l = np.einsum("pa,pma->pm", El, IFt[pj_])
    IFr = (s_r - corr_j[:, :, None] - corr_l[:, None, :]) / I_rr[:, None, None]
    # casewise influence functions
    nth = int(sum(n_cat) - p)
    psi = np.zeros((n, nth + P))
    col = 0
    miss = codes < 0
    safe = np.where(miss, 0, codes)
    for j in range(p):
        K = int(n_cat[j])
        v = IFt[j, safe[:, j], :K - 1]
        if missing == "pairwise":
            v = v * (n / nobs[j])
            v[miss[:, j]] = 0.0
        psi[:, col:col + K - 1] = v
        col += K - 1
    for q in range(P):
        a, b = pi_[q], pj_[q]
        if missing == "pairwise":
            # rho uses the pair's rows, each threshold correction its item's own rows
            pa, pb = ~miss[:, a], ~miss[:, b]
            v = (n / npair[q]) * s_r[q, safe[:, a], safe[:, b]] * (pa & pb)
            v -= (n / nobs[a]) * corr_j[q, safe[:, a]] * pa
            v -= (n / nobs[b]) * corr_l[q, safe[:, b]] * pb
            v = v / I_rr[q]
        else:
            v = IFr[q, safe[:, a], safe[:, b]]
        psi[:, nth + q] = v
    if return_psi:
        return psi
    return psi.T @ psi / n


def _polyserial(z, code, tpad_j, tol=1e-10, max_iter=100):
    """Two-step polyserial correlations (thresholds, mean and variance fixed) for the
    columns of ``z`` (standardised numeric values, (n, P)) against ordinal codes ``code``
    (n, P) with padded thresholds ``tpad_j`` (P, K+1); Fisher scoring (empirical
    information). Returns (rho, pieces for the scores)."""
    n, P = z.shape
    hi = tpad_j[np.arange(P)[None, :], code + 1]
    lo = tpad_j[np.arange(P)[None, :], code]
    rho = np.zeros(P)
    with np.errstate(invalid="ignore"):
        for c in range(P):
            rho[c] = np.corrcoef(z[:, c], code[:, c])[0, 1]
    rho = np.clip(np.nan_to_num(rho), -0.95, 0.95)

    def pieces(r):
        s = np.sqrt(1.0 - r * r)[None, :]
        fh, fl = np.isfinite(hi), np.isfinite(lo)
        ah = np.where(fh, (np.where(fh, hi, 0.0) - r * z) / s, np.where(hi > 0, np.inf, -np.inf))
        al = np.where(fl, (np.where(fl, lo, 0.0) - r * z) / s, np.where(lo > 0, np.inf, -np.inf))
        Pc = special.ndtr(ah) - special.ndtr(al)
        ph = np.where(fh, stats.norm.pdf(np.where(fh, ah, 0.0)), 0.0)
        pl = np.where(fl, stats.norm.pdf(np.where(fl, al, 0.0)), 0.0)
        s3 = s ** 3
        dP = (ph * (r * np.where(fh, hi, 0.0) - z) - pl * (r * np.where(fl, lo, 0.0) - z)) / s3
        return s, Pc, ph, pl, dP

    for _ in range(max_iter):
        _, Pc, _, _, dP = pieces(rho)
        sc = dP / Pc
        step = sc.sum(axis=0) / (sc * sc).sum(axis=0)
        rho = np.clip(rho + step, -0.9999, 0.9999)
        if np.max(np.abs(step)) < tol:
            break
    return rho, pieces(rho), hi, lo


def _mixed_stats(codes, x, n_cat, names, *, gamma, missing):
    """Statistics for ordered and numeric items together (listwise data)."""
    if missing != "listwise":
        raise SEMError("missing='pairwise' is not supported with continuous and ordered "
                       "items together; use listwise deletion")
    n, p = codes.shape
    num = n_cat == 0
    oi = np.flatnonzero(~num)
    ni = np.flatnonzero(num)
    ost = (ordinal_stats(codes[:, oi], n_cat[oi], [names[j] for j in oi], gamma=False)
           if len(oi) > 1 else None)
    warnings_ = list(ost.warnings) if ost is not None else []
    mu = x[:, ni].mean(axis=0)
    xc = x[:, ni] - mu
    var = (xc * xc).mean(axis=0)
    const = [names[j] for j, v in zip(ni, var) if v <= 1e-12 * max(1.0, np.abs(mu).max())]
    if const:
        raise SEMError(f"continuous column(s) with zero variance: {', '.join(const)}")
    sd = np.sqrt(var)
    # univariate ordinal pieces
    Kmax = int(max(n_cat.max(), 2))
    tpad = np.full((p, Kmax + 1), np.inf)
    IF_t = {}
    th, th_item, th_num = [], [], []
    for j in range(p):
        if num[j]:
            k = int(np.flatnonzero(ni == j)[0])
            th.append(np.array([-mu[k]]))
            th_item.append([j])
            th_num.append([True])
            continue
        K = int(n_cat[j])
        tau, counts, IF = _univariate(codes[:, j], K)
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            raise SEMError(f"ordered column {names[j]!r}: category {int(empty[0]) + 1} of {K} "
                           f"is empty in these data (thresholds not identified); merge it "
                           f"with a neighbour or drop the level")
        tpad[j, 0] = -np.inf
        tpad[j, 1:K] = tau
        IF_t[j] = IF
        th.append(tau)
        th_item.append([j] * (K - 1))
        th_num.append([False] * (K - 1))
    th = np.concatenate(th)
    th_item = np.concatenate(th_item).astype(int)
    th_num = np.concatenate(th_num).astype(bool)
    cor = np.zeros((p, p))
    cor[oi, oi] = 1.0
    cor[ni, ni] = var
    if len(oi) > 1:
        cor[np.ix_(oi, oi)] = ost.cor
    C = xc.T @ xc / n
    cor[np.ix_(ni, ni)] = C
    pi_, pj_ = pair_index(p)
    mixed = [(q, a, b) for q, (a, b) in enumerate(zip(pi_, pj_)) if num[a] != num[b]]
    # polyserial: ordinal j, numeric k
    mj = np.array([b if num[a] else a for _, a, b in mixed], dtype=int)
    mk = np.array([a if num[a] else b for _, a, b in mixed], dtype=int)
    kpos = np.searchsorted(ni, mk)
    rho_ps = np.zeros(len(mixed))
    if len(mixed):
        z = xc[:, kpos] / sd[kpos]
        rho_ps, (s_, Pc, ph, pl, dP), hi, lo = _polyserial(z, codes[:, mj], tpad[mj])
        cor[mj, mk] = cor[mk, mj] = rho_ps * sd[kpos]
    G = None
    if gamma:
        # influence functions: thresholds / -means, variances, then the pairs
        # numeric items: (mean, variance) influence functions s A^-1 from the normal scores
        # with the empirical information A = mean(s s') (as lavaan's muthen1984)
        IF_mu = np.zeros_like(xc)
        psi_var = np.zeros_like(xc)
        for k in range(len(ni)):
            S2 = np.c_[xc[:, k] / var[k], (xc[:, k] ** 2 - var[k]) / (2 * var[k] ** 2)]
            IF2 = S2 @ np.linalg.inv(S2.T @ S2 / n)
            IF_mu[:, k], psi_var[:, k] = IF2[:, 0], IF2[:, 1]
        nth = len(th)
        psi_th = np.zeros((n, nth))
        col = {}
        c0 = 0
        for j in range(p):
            w = 1 if num[j] else int(n_cat[j]) - 1
            col[j] = slice(c0, c0 + w)
            if num[j]:
                k = int(np.flatnonzero(ni == j)[0])
                psi_th[:, c0] = -IF_mu[:, k]
            else:
                psi_th[:, c0:c0 + w] = IF_t[j][codes[:, j]]
            c0 += w
        P = len(pi_)
        psi_pair = np.zeros((n, P))
        if len(oi) > 1:
            # ordinal-ordinal block from the polychoric machinery
            sub = ost
            tp_o = tpad[oi]
            ii, jj = pair_index(len(oi))
            tab = np.zeros((len(ii), Kmax, Kmax))
            for q in range(len(ii)):
                tab[q] = np.bincount(codes[:, oi[ii[q]]] * Kmax + codes[:, oi[jj[q]]],
                                     minlength=Kmax * Kmax).reshape(Kmax, Kmax)
            psi_o = _gamma(codes[:, oi], n_cat[oi], tp_o, sub.cor[ii, jj], tab,
                           [IF_t[j] for j in oi], ii, jj, np.full(len(oi), n), "listwise",
                           return_psi=True)
            nth_o = int(sum(n_cat[oi]) - len(oi))
            gpos = {(oi[a], oi[b]): q for q, (a, b) in enumerate(zip(ii, jj))}
            for q, (a, b) in enumerate(zip(pi_, pj_)):
                if (a, b) in gpos:
                    psi_pair[:, q] = psi_o[:, nth_o + gpos[(a, b)]]
        for q, (a, b) in enumerate(zip(pi_, pj_)):
            if num[a] and num[b]:
                # bivariate normal score of the covariance, means and variances held at
                # their stage-1 values; correction by the empirical cross-products
                ka, kb = np.searchsorted(ni, a), np.searchsorted(ni, b)
                Sg = C[np.ix_([ka, kb], [ka, kb])]
                Si = np.linalg.inv(Sg)
                e = xc[:, [ka, kb]]
                u = e @ Si  # Sigma^-1 e per row
                s_c = u[:, 0] * u[:, 1] - Si[0, 1]
                s_m = u  # scores of the two means
                s_v = 0.5 * (u * u - np.diag(Si)[None, :])  # scores of the two variances
                S_th = np.c_[s_m[:, 0], s_v[:, 0], s_m[:, 1], s_v[:, 1]]
                IF_th = np.c_[IF_mu[:, ka], psi_var[:, ka], IF_mu[:, kb], psi_var[:, kb]]
                I_cc = s_c @ s_c / n
                psi_pair[:, q] = (s_c - IF_th @ (S_th.T @ s_c / n)) / I_cc
        if len(mixed):
            sc_r = dP / Pc
            I_rr = (sc_r * sc_r).mean(axis=0)
            for m_, (q, a, b) in enumerate(mixed):
                j, k = mj[m_], kpos[m_]
                r, sj = rho_ps[m_], s_[0, m_]
                code = codes[:, j]
                K = int(n_cat[j])
                # scores of the pair's log-likelihood w.r.t. the stage-1 parameters
                S_t = np.zeros((n, K - 1))
                up = code < K - 1
                S_t[np.flatnonzero(up), code[up]] += ph[up, m_] / (sj * Pc[up, m_])
                dn = code > 0
                S_t[np.flatnonzero(dn), code[dn] - 1] -= pl[dn, m_] / (sj * Pc[dn, m_])
                zz = xc[:, k] / sd[k]
                dphi = (ph[:, m_] - pl[:, m_]) / Pc[:, m_]
                S_mu = dphi * r / (sj * sd[k]) + xc[:, k] / var[k]
                S_v = dphi * r * zz / (2 * sj * var[k]) + (xc[:, k] ** 2 - var[k]) / (
                    2 * var[k] ** 2)
                srho = sc_r[:, m_]
                IF_r = (srho - (srho @ S_t / n) @ IF_t[j][code].T
                        - (srho @ S_mu / n) * IF_mu[:, k]
                        - (srho @ S_v / n) * psi_var[:, k]) / I_rr[m_]
                # statistic: rho * sd
                psi_pair[:, q] = sd[k] * IF_r + r * psi_var[:, k] / (2 * sd[k])
        psi = np.hstack([psi_th, psi_var, psi_pair])
        G = np.diag((psi * psi).mean(axis=0)) if gamma == "diag" else psi.T @ psi / n
    return OrdinalStats(names=list(names), n_cat=n_cat, th=th, th_item=th_item, cor=cor,
                        gamma=G, n=int(n), warnings=warnings_, th_num=th_num, num=num)


@dataclass
class PolychoricResult:
    """Polychoric correlations with thresholds and the asymptotic covariance.

    Attributes
    ----------
    cor : DataFrame (p, p)
    thresholds : Series indexed ``"item|t1"``, ...
    acov : DataFrame
        Asymptotic covariance of ``(thresholds, correlations)`` (divided by N), indexed by
        ``"item|tk"`` and ``"a~~b"`` (continuous items: ``"x~1"`` for ``-mean`` and
        ``"x~~x"`` for the variance, lavaan's order).
    gamma : ndarray
        ``N * acov`` (lavaan's ``NACOV`` / ``lavInspect(fit, "gamma")``).
    n : int
    warnings : list of str
    """

    cor: pd.DataFrame
    thresholds: pd.Series
    acov: pd.DataFrame
    gamma: np.ndarray
    n: int
    warnings: list


def polychoric(data: pd.DataFrame, columns=None, *, missing: str = "listwise",
               acov: bool = True, ordered=None) -> PolychoricResult:
    """Polychoric correlation matrix, thresholds and their asymptotic covariance.

    Parameters
    ----------
    data : DataFrame
        Ordered items coded as numbers (the sorted distinct values are the categories).
    columns : list of str, optional
        Items to use (default: all columns).
    missing : {"listwise", "pairwise"}
        Listwise deletion over ``columns`` (lavaan's default) or pairwise-available data.
    acov : bool
        Compute the asymptotic covariance (casewise influence functions).
    ordered : list of str, optional
        The ordered columns (default: all); the others are continuous, and the matrix then
        holds their variances and covariances and the polyserial covariances
        (``rho * sd``), as lavaan's ``lavCor`` / sample statistics.

    Returns
    -------
    PolychoricResult

    Raises
    ------
    SEMError
        Non-numeric values, an item with one category, an empty category, a polychoric
        correlation at +-1. Fewer than 5 respondents in a category or a non-positive-definite
        matrix are reported in ``warnings``.

    References
    ----------
    Olsson, U. (1979). Psychometrika 44, 443-460; Muthen, B. (1984). Psychometrika 49,
    115-132; Muthen, du Toit & Spisic (1997), technical report.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3, 1, 2, 3, 3],
    ...                   "b": [1, 2, 2, 2, 3, 3, 1, 1, 3, 2]})
    >>> pc = polychoric(d)
    >>> pc.thresholds.round(3).to_dict()
    {'a|t1': -0.524, 'a|t2': 0.253, 'b|t1': -0.524, 'b|t2': 0.524}
    """
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    columns = list(data.columns) if columns is None else list(columns)
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise SEMError(f"column(s) not found in data: {', '.join(map(str, absent))}")
    if len(columns) < 2:
        raise SEMError("polychoric needs at least two columns")
    X = data[columns]
    if missing == "listwise":
        X = X.dropna()
    elif missing != "pairwise":
        raise SEMError(f"missing must be 'listwise' or 'pairwise', not {missing!r}")
    ordered = columns if ordered is None else [c for c in columns if c in set(ordered)]
    oc = [c for c in columns if c in set(ordered)]
    codes = np.zeros((len(X), len(columns)), dtype=np.int64)
    c_o, levels = encode_ordinal(X, oc) if oc else (np.zeros((len(X), 0), int), {})
    codes[:, [columns.index(c) for c in oc]] = c_o
    n_cat = [len(levels[c]) if c in levels else 0 for c in columns]
    numeric = None
    if len(oc) < len(columns):
        bad = [c for c in columns if c not in levels
               and not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise SEMError(f"non-numeric continuous column(s): {', '.join(bad)}")
        numeric = X[columns].to_numpy(dtype=float)
    st = ordinal_stats(codes, n_cat, columns, gamma=acov, missing=missing, numeric=numeric)
    th_names = []
    for j, c in enumerate(columns):
        th_names += [f"{c}~1"] if n_cat[j] == 0 else [f"{c}|t{k + 1}"
                                                        for k in range(n_cat[j] - 1)]
    i, j = pair_index(len(columns))
    names = th_names + [f"{columns[a]}~~{columns[a]}" for a in range(len(columns))
                        if n_cat[a] == 0]
    names += [f"{columns[a]}~~{columns[b]}" for a, b in zip(i, j)]
    G = st.gamma if st.gamma is not None else np.full((len(names), len(names)), np.nan)
    return PolychoricResult(
        cor=pd.DataFrame(st.cor, index=columns, columns=columns),
        thresholds=pd.Series(st.th, index=th_names)[~st.th_num],
        acov=pd.DataFrame(G / st.n, index=names, columns=names), gamma=G, n=st.n,
        warnings=st.warnings)
