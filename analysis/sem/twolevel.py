r"""Two-level structural equation models by maximum likelihood (lavaan's ``level:`` blocks).

Model (Muthén 1994; lavaan 0.6, Rosseel 2021): for respondent ``i`` in cluster ``j``
the level-1 variables are ``v_ij = mu + b_j + w_ij`` with ``Cov(w_ij) = Sigma_W`` (the
``level: 1`` block, a RAM model without means except for within-only variables) and the
cluster part ``b_j`` together with the between-only variables ``z_j`` distributed as
``N(mu_B, Sigma_B)`` (the ``level: 2`` block, with means). Variables named only at level 1
are *within-only* (no between part), those named only at level 2 *between-only* (constant
within clusters).

Complete-data likelihood (McDonald & Goldstein 1989; Muthén 1990): with the pooled
within-cluster scatter ``W``, the cluster means ``vbar_j`` and ``z_j``,

    -2 log L = (N p_w + J p_z) log 2 pi + (N - J) log|Sigma_W| + tr(Sigma_W^-1 W)
               + sum_j [ log|V_nj| + r_j' V_nj^-1 r_j ],

    V_n = D_n Sigma_B~ D_n + diag(Sigma_W, 0),   r_j = D_nj ([vbar_j, z_j] - mu~),

``D_n = diag(sqrt(n) for level-1 variables, 1 for between-only variables)``, ``Sigma_B~``
the between covariance placed on [level-1 variables, between-only variables] (zero for
within-only variables). Clusters of equal size share ``V_n``, so one Cholesky factor per
distinct cluster size serves every evaluation; the analytic gradient needs only these.

Estimation: Fisher scoring (expected information of the within part and of the cluster
means) with backtracking. Standard errors from the observed information (numerical
derivative of the analytic gradient), lavaan's default for two-level models. The
saturated model (h1: free ``Sigma_W``, ``Sigma_B``, means) and the baseline (independence
at both levels) are fitted by Fisher scoring in their own linear parameterisation; the
chi-square is ``2 (logL_h1 - logL_h0)``; fit indices as lavaan defines them for two-level
models, with ``srmr = srmr_within + srmr_between``. MLR: Huber-White standard errors with
cluster-wise scores and the Yuan-Bentler (Mplus variant) scaled test.

Clusters of size 1 are allowed, as in lavaan: they inform the between level only (a note
is added to the warnings). Missing data: listwise deletion, or FIML (``missing="fiml"``,
lavaan's ``missing="ml"``): the observed-data likelihood of :mod:`analysis.sem.twolevel_fiml`
(Rosseel 2021), maximised by the same Fisher scoring/BFGS with the complete-data
information as metric and finished by Newton steps with the observed information; the
saturated model and the baseline are fitted the same way (lavaan fits its h1 by EM and
stops earlier); rows with a missing exogenous covariate (fixed.x) are dropped, as lavaan.

References
----------
McDonald, R. P., & Goldstein, H. (1989). Balanced versus unbalanced designs for linear
structural relations in two-level data. Br. J. Math. Stat. Psychol., 42, 215-232.
Muthén, B. O. (1990). Mean and covariance structure analysis of hierarchical data. UCLA
Statistics Series 62. Muthén, B. O. (1994). Multilevel covariance structure analysis.
Sociological Methods & Research, 22, 376-398.
Rosseel, Y. (2021). Evaluating the observed log-likelihood function in two-level
structural equation modeling with missing data: from formulas to R code. Psych, 3(2),
197-232.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. Sociol. Methodol., 30, 165-200.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(2)
>>> cl = np.repeat(np.arange(40), 10)
>>> f = rng.normal(size=400) + rng.normal(size=40)[cl]
>>> df = pd.DataFrame({f"y{k}": f + rng.normal(size=400) + 0.5 * rng.normal(size=40)[cl]
...                    for k in (1, 2, 3)})
>>> df["cluster"] = cl
>>> res = fit_twolevel("level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3",
...                    df, cluster="cluster")
>>> res.converged, int(res.fit_indices["df"])
(True, 0)
"""

from __future__ import annotations

import copy
import warnings as _warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread_blas
from .defined import compile_definitions, label_values, numeric_jacobian
from .errors import SEMError, SEMWarning
from .estimate import FitInfo
from .estimates import add_z_pvalue, append_defined_rows
from .fit_indices import ncx2_sf, rmsea_ci
from .model import SampleStats, SEMModel, build_model, observed_variables
from .result import SEMResult
from .robust import robust_indices
from .standardize import std_all_rows
from .syntax import parse_model
from .twolevel_fiml import missing_cluster_data

__all__ = ["ClusterStats", "cluster_stats", "TwoLevelModel", "twolevel_objective",
           "fit_twolevel", "split_levels", "take_clusters", "refit_clusters"]

_LOG2PI = np.log(2.0 * np.pi)


# ---------------------------------------------------------------------------------------
# data


@dataclass
class ClusterStats:
    """Sufficient statistics of complete two-level data.

    Attributes
    ----------
    w_names, z_names : list of str
        Level-1 variables (within order) and between-only variables; the "extended"
        space has ``P = len(w_names) + len(z_names)`` coordinates in this order.
    N, J : int
        Respondents and clusters.
    W : ndarray (p_w, p_w)
        Pooled within-cluster scatter ``sum_j sum_i (v_ij - vbar_j)(v_ij - vbar_j)'``.
    sizes, counts : ndarray (K,)
        Distinct cluster sizes and the number of clusters of each size.
    mbar, scat : ndarray (K, P), (K, P, P)
        Mean and scatter (about that mean) of ``u_j = [vbar_j, z_j]`` within each size class.
    cl_n, cl_u, cl_W : per cluster size, ``u_j`` and within scatter (robust scores).
    labels : cluster labels in the order of ``cl_*``.
    """

    w_names: list
    z_names: list
    N: int
    J: int
    W: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray
    mbar: np.ndarray
    scat: np.ndarray
    cl_n: np.ndarray
    cl_u: np.ndarray
    cl_W: np.ndarray
    labels: list

    @property
    def pw(self) -> int:
        return len(self.w_names)

    @property
    def P(self) -> int:
        return len(self.w_names) + len(self.z_names)

    def dvec(self) -> np.ndarray:
        """(K, P) diagonal of ``D_n`` per size class."""
        d = np.ones((len(self.sizes), self.P))
        d[:, : self.pw] = np.sqrt(self.sizes)[:, None]
        return d


def cluster_stats(data: pd.DataFrame, w_names, z_names, cluster: str) -> ClusterStats:
    """Cluster sizes, means and within scatter of complete data.

    Parameters
    ----------
    data : DataFrame
        Complete rows (no missing values in ``w_names + z_names``) with column ``cluster``.
    w_names, z_names : list of str
        Level-1 variables and between-only variables (constant within clusters).
    cluster : str
        The cluster column.

    Returns
    -------
    ClusterStats

    References
    ----------
    Muthén, B. O. (1994). Multilevel covariance structure analysis. Sociol. Methods Res. 22.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 2.0, 5.0], "c": [1, 1, 2, 2, 3]})
    >>> cs = cluster_stats(df, ["y"], [], "c")
    >>> cs.sizes.tolist(), cs.counts.tolist(), float(cs.W[0, 0])
    ([1, 2], [1, 2], 2.0)
    """
    w_names, z_names = list(w_names), list(z_names)
    codes, labels = pd.factorize(data[cluster], sort=True)
    J = len(labels)
    Y = data[w_names].to_numpy(float)
    Z = data[z_names].to_numpy(float) if z_names else np.zeros((len(data), 0))
    n = np.bincount(codes, minlength=J).astype(float)
    sums = np.zeros((J, Y.shape[1]))
    np.add.at(sums, codes, Y)
    ybar = sums / n[:, None]
    Yc = Y - ybar[codes]
    W = Yc.T @ Yc
    # per-cluster within scatter (for cluster-wise scores)
    cl_W = np.zeros((J, Y.shape[1], Y.shape[1]))
    np.add.at(cl_W, codes, Yc[:, :, None] * Yc[:, None, :])
    zfirst = np.zeros((J, Z.shape[1]))
    zfirst[codes[::-1]] = Z[::-1]  # first row of each cluster
    u = np.hstack([ybar, zfirst])
    sizes, inv = np.unique(n.astype(int), return_inverse=True)
    K = len(sizes)
    counts = np.bincount(inv, minlength=K)
    mbar = np.zeros((K, u.shape[1]))
    np.add.at(mbar, inv, u)
    mbar /= counts[:, None]
    uc = u - mbar[inv]
    scat = np.zeros((K, u.shape[1], u.shape[1]))
    np.add.at(scat, inv, uc[:, :, None] * uc[:, None, :])
    return ClusterStats(w_names, z_names, int(len(data)), J, W, sizes, counts, mbar, scat,
                        n.astype(int), u, cl_W, list(labels))


def take_clusters(cs, idx):
    """The statistics of clusters ``idx`` (repeats allowed; each draw is a cluster of its
    own, as a cluster bootstrap needs).

    Parameters
    ----------
    cs : ClusterStats or MissingClusterData
        Complete-data statistics (per-cluster means and scatter suffice) or incomplete data.
    idx : sequence of int
        Cluster positions (order of ``cs.labels``).

    Returns
    -------
    The same type as ``cs``, with ``J = len(idx)`` clusters labelled ``"<label>#<draw>"``.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application,
    sec. 3.8 (resampling the first stage of a two-stage sample).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 2.0, 5.0], "c": [1, 1, 2, 2, 3]})
    >>> cs = take_clusters(cluster_stats(df, ["y"], [], "c"), [0, 0, 2])
    >>> cs.J, cs.N, cs.sizes.tolist(), cs.counts.tolist(), float(cs.W[0, 0])
    (3, 5, [1, 2], [1, 2], 4.0)
    """
    if not isinstance(cs, ClusterStats):
        return cs.take(idx)
    idx = np.asarray(idx, int)
    n, u, cl_W = cs.cl_n[idx], cs.cl_u[idx], cs.cl_W[idx]
    sizes, inv = np.unique(n, return_inverse=True)
    K = len(sizes)
    counts = np.bincount(inv, minlength=K)
    mbar = np.zeros((K, u.shape[1]))
    np.add.at(mbar, inv, u)
    mbar /= counts[:, None]
    uc = u - mbar[inv]
    scat = np.zeros((K, u.shape[1], u.shape[1]))
    np.add.at(scat, inv, uc[:, :, None] * uc[:, None, :])
    labels = [f"{cs.labels[j]}#{k}" for k, j in enumerate(idx)]
    return ClusterStats(cs.w_names, cs.z_names, int(n.sum()), len(idx), cl_W.sum(axis=0),
                        sizes, counts, mbar, scat, n, u, cl_W, labels)


# ---------------------------------------------------------------------------------------
# the two-level normal likelihood in terms of (Sigma_W, Sigma_B~, mu~)


def twolevel_objective(cs: ClusterStats, Sw, SB, mu, grad: bool = True):
    """``-2 log L`` of two-level normal data and its gradient matrices.

    Parameters
    ----------
    cs : ClusterStats
    Sw : ndarray (p_w, p_w)
        Within covariance of the level-1 variables.
    SB : ndarray (P, P)
        Between covariance in the extended space (zero rows for within-only variables).
    mu : ndarray (P,)
        Means of the level-1 variables and of the between-only variables.
    grad : bool
        Also return the gradients.

    Returns
    -------
    f : float
        ``-2 log L`` (``inf`` when an implied matrix is not positive definite).
    (G_W, G_B, g_mu) : tuple of ndarray, when ``grad``
        ``df = tr(G_W dSigma_W) + tr(G_B dSigma_B~) + g_mu' dmu``.
    cache : dict, when ``grad``
        ``Vi`` (K, P, P) inverses of the ``V_n`` and ``Swi`` (used by the information).

    References
    ----------
    McDonald & Goldstein (1989); Muthén (1990); Rosseel (2021), Psych 3(2), eq. for the
    complete-data case.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 2.0, 5.0, 4.0], "c": [1, 1, 2, 2, 3, 3]})
    >>> cs = cluster_stats(df, ["y"], [], "c")
    >>> f = twolevel_objective(cs, np.eye(1), np.eye(1) * 0.5, np.array([2.8]), grad=False)
    >>> round(f, 4)
    19.7767
    """
    pw, P, N, J = cs.pw, cs.P, cs.N, cs.J
    d = cs.dvec()
    dd = d[:, :, None] * d[:, None, :]
    V = SB[None] * dd
    V[:, :pw, :pw] += Sw
    try:
        Lw = np.linalg.cholesky(Sw)
        Lv = np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        return (np.inf, None, None) if grad else np.inf
    ldw = 2.0 * np.log(np.diagonal(Lw)).sum()
    ldv = 2.0 * np.log(np.diagonal(Lv, axis1=1, axis2=2)).sum(axis=1)
    Swi = np.linalg.inv(Sw)
    Vi = np.linalg.inv(V)
    Vi = 0.5 * (Vi + Vi.transpose(0, 2, 1))
    Jn = cs.counts.astype(float)
    Dr = d * (cs.mbar - mu[None, :])
    C = dd * cs.scat + Jn[:, None, None] * Dr[:, :, None] * Dr[:, None, :]
    f = ((N * pw + J * (P - pw)) * _LOG2PI + (N - J) * ldw + np.sum(Swi * cs.W)
         + np.sum(Jn * ldv) + np.sum(Vi * C))
    if not np.isfinite(f):
        return (np.inf, None, None) if grad else np.inf
    if not grad:
        return float(f)
    ViCVi = Vi @ C @ Vi
    M = Jn[:, None, None] * Vi - ViCVi
    G_W = (N - J) * Swi - Swi @ cs.W @ Swi + M[:, :pw, :pw].sum(axis=0)
    G_B = (dd * M).sum(axis=0)
    g_mu = -2.0 * np.sum(Jn[:, None] * d * np.einsum("kab,kb->ka", Vi, Dr), axis=0)
    return float(f), (G_W, G_B, g_mu), dict(Vi=Vi, Swi=Swi, d=d, dd=dd)


def _cluster_gradients(cs: ClusterStats, Sw, SB, mu):
    """Per-cluster gradient matrices of ``-2 log L_j`` (J, pw, pw), (J, P, P), (J, P)."""
    pw = cs.pw
    n = cs.cl_n.astype(float)
    d = np.ones((cs.J, cs.P))
    d[:, :pw] = np.sqrt(n)[:, None]
    dd = d[:, :, None] * d[:, None, :]
    # one V inverse per size class
    k = np.searchsorted(cs.sizes, cs.cl_n)
    dK = cs.dvec()
    V = SB[None] * (dK[:, :, None] * dK[:, None, :])
    V[:, :pw, :pw] += Sw
    Vi = np.linalg.inv(V)[k]
    Swi = np.linalg.inv(Sw)
    r = d * (cs.cl_u - mu[None, :])
    Vr = np.einsum("jab,jb->ja", Vi, r)
    M = Vi - Vr[:, :, None] * Vr[:, None, :]
    GW = (n - 1)[:, None, None] * Swi[None] - Swi[None] @ cs.cl_W @ Swi[None] + M[:, :pw, :pw]
    GB = dd * M
    gm = -2.0 * d * Vr
    return GW, GB, gm


def _objective(cs, Sw, SB, mu, grad: bool = True):
    """:func:`twolevel_objective` for complete data, the observed-data likelihood of
    :mod:`analysis.sem.twolevel_fiml` for incomplete data (whose ``cache`` is the
    complete-data structure at the same moments: the optimiser's metric only)."""
    if isinstance(cs, ClusterStats):
        return twolevel_objective(cs, Sw, SB, mu, grad=grad)
    out = cs.objective(Sw, SB, mu, grad=grad)
    if not grad:
        return out
    f, G = out
    if G is None:
        return np.inf, None, None
    return f, G, _structure_cache(cs, Sw, SB)


def _structure_cache(cs, Sw, SB):
    """``V_n^-1`` per cluster size and ``Sigma_W^-1`` as :func:`twolevel_objective` caches
    them (used by :func:`info_blocks`)."""
    pw = cs.pw
    d = cs.dvec()
    dd = d[:, :, None] * d[:, None, :]
    V = SB[None] * dd
    V[:, :pw, :pw] += Sw
    Vi = np.linalg.pinv(V, hermitian=True)
    return dict(Vi=0.5 * (Vi + Vi.transpose(0, 2, 1)), Swi=np.linalg.inv(Sw), d=d, dd=dd)


def _cl_grads(cs, Sw, SB, mu):
    """Per-cluster gradient matrices (complete or incomplete data)."""
    if isinstance(cs, ClusterStats):
        return _cluster_gradients(cs, Sw, SB, mu)
    return cs.cluster_gradients(Sw, SB, mu)


def info_blocks(cs: ClusterStats, cache):
    """Ingredients of the expected information of ``-2 log L`` in the vech space of V.

    For vech elements a = (i, j), b = (k, l) of the extended space (``np.tril_indices``
    order), with ``w`` = 2 off the diagonal, ``c_n`` clusters of size n and
    ``T_n(X)[a, b] = (X_il X_jk + X_ik X_jl) w_a w_b / 2``:

    * ``A0 = sum_n c_n T_n(V_n^-1) + (N - J) T(Sigma_W^-1)`` (within elements only for the
      second term): both entries of within parameters;
    * ``A1 = sum_n c_n T_n(V_n^-1) s_n[b]`` and ``A2 = sum_n c_n s_n[a] T_n(V_n^-1) s_n[b]``
      with ``s_n = d_i d_j`` the weight of between elements in ``V_n``;
    * ``Mm = sum_n c_n D_n V_n^-1 D_n`` (means: the information is ``2 dmu' Mm dmu``).

    Each sum is one matrix product ``X' diag(c) X`` over the size classes.

    Parameters
    ----------
    cs : ClusterStats
    cache : dict
        From :func:`twolevel_objective` (``Vi``, ``Swi``, ``d``).

    Returns
    -------
    dict with ``A0 A1 A2`` (E, E), ``Mm`` (P, P), ``iv jv`` (vech rows and columns).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 2.0, 5.0, 4.0], "c": [1, 1, 2, 2, 3, 3]})
    >>> cs = cluster_stats(df, ["y"], [], "c")
    >>> _, _, cache = twolevel_objective(cs, np.eye(1), 0.5 * np.eye(1), np.array([2.8]))
    >>> float(info_blocks(cs, cache)["A0"][0, 0])  # 3 / 2**2 + 3
    3.75
    """
    Vi, d, Swi = cache["Vi"], cache["d"], cache["Swi"]
    K, P, _ = Vi.shape
    pw = cs.pw
    iv, jv = np.tril_indices(P)
    w = np.where(iv == jv, 1.0, 2.0)
    W2 = 0.5 * np.outer(w, w)
    r1, c1 = iv[:, None] * P + iv[None, :], jv[:, None] * P + jv[None, :]
    r2, c2 = iv[:, None] * P + jv[None, :], jv[:, None] * P + iv[None, :]
    cnt = cs.counts.astype(float)

    def T(X):
        X2 = X.reshape(K, P * P)
        M = (X2 * cnt[:, None]).T @ X2
        return (M[r1, c1] + M[r2, c2]) * W2

    A0 = T(Vi)
    A1 = T(Vi * d[:, None, :])
    A2 = T(Vi * d[:, :, None] * d[:, None, :])
    wsel = (iv < pw) & (jv < pw)
    if np.any(wsel) and cs.N > cs.J:
        Sx = np.zeros((P, P))
        Sx[:pw, :pw] = Swi
        Mw = np.outer(Sx.ravel(), Sx.ravel())
        Tw = (Mw[r1, c1] + Mw[r2, c2]) * W2
        A0 += (cs.N - cs.J) * Tw * np.outer(wsel, wsel)
    Mm = np.einsum("k,kab->ab", cnt, Vi * d[:, :, None] * d[:, None, :])
    return dict(A0=A0, A1=A1, A2=A2, Mm=Mm, iv=iv, jv=jv)


def _expected_info(cs, cache, dSw, dSB, dmu):
    """Expected Hessian of ``-2 log L`` for Jacobians dSw (q, pw, pw), dSB (q, P, P) and
    dmu (q, P), from :func:`info_blocks`."""
    q = dSw.shape[0]
    pw, P = cs.pw, cs.P
    B = info_blocks(cs, cache)
    iv, jv = B["iv"], B["jv"]
    dW = np.zeros((q, P, P))
    dW[:, :pw, :pw] = dSw
    DW = dW[:, iv, jv].T  # (E, q)
    DB = dSB[:, iv, jv].T
    X = B["A1"] @ DB
    H = DW.T @ (B["A0"] @ DW) + DW.T @ X + X.T @ DW + DB.T @ (B["A2"] @ DB)
    H += 2.0 * dmu @ B["Mm"] @ dmu.T
    return 0.5 * (H + H.T)


# ---------------------------------------------------------------------------------------
# linear (saturated / independence) structures


class _Linear:
    """Sigma_W, Sigma_B~ and mu~ with free cells (saturated h1 or independence baseline)."""

    def __init__(self, cs, Sw0, SB0, mu0, w_pairs, b_pairs, mu_free):
        self.cs = cs
        self.Sw0, self.SB0, self.mu0 = Sw0.copy(), SB0.copy(), mu0.copy()
        self.w_pairs = np.asarray(w_pairs, int).reshape(-1, 2)
        self.b_pairs = np.asarray(b_pairs, int).reshape(-1, 2)
        self.mu_free = np.asarray(mu_free, int)
        self.nw, self.nb = len(self.w_pairs), len(self.b_pairs)
        self.q = self.nw + self.nb + len(self.mu_free)

    def theta0(self):
        return np.concatenate([self.Sw0[self.w_pairs[:, 0], self.w_pairs[:, 1]],
                               self.SB0[self.b_pairs[:, 0], self.b_pairs[:, 1]],
                               self.mu0[self.mu_free]])

    def moments(self, t):
        Sw, SB, mu = self.Sw0.copy(), self.SB0.copy(), self.mu0.copy()
        i, j = self.w_pairs.T
        Sw[i, j] = Sw[j, i] = t[: self.nw]
        i, j = self.b_pairs.T
        SB[i, j] = SB[j, i] = t[self.nw: self.nw + self.nb]
        mu[self.mu_free] = t[self.nw + self.nb:]
        return Sw, SB, mu

    def grad(self, G):
        G_W, G_B, g_mu = G
        i, j = self.w_pairs.T
        gw = G_W[i, j] * np.where(i == j, 1.0, 2.0)
        i, j = self.b_pairs.T
        gb = G_B[i, j] * np.where(i == j, 1.0, 2.0)
        return np.concatenate([gw, gb, g_mu[self.mu_free]])

    def info(self, cache):
        """Expected Hessian of -2 log L in this parameterisation (:func:`info_blocks`)."""
        B = info_blocks(self.cs, cache)
        P = self.cs.P
        vidx = np.full((P, P), -1)
        vidx[B["iv"], B["jv"]] = np.arange(len(B["iv"]))
        vidx[B["jv"], B["iv"]] = np.arange(len(B["iv"]))
        ew = vidx[self.w_pairs[:, 0], self.w_pairs[:, 1]] if self.nw else np.zeros(0, int)
        eb = vidx[self.b_pairs[:, 0], self.b_pairs[:, 1]] if self.nb else np.zeros(0, int)
        nw, nwb = self.nw, self.nw + self.nb
        H = np.zeros((self.q, self.q))
        H[:nw, :nw] = B["A0"][np.ix_(ew, ew)]
        H[:nw, nw:nwb] = B["A1"][np.ix_(ew, eb)]
        H[nw:nwb, :nw] = H[:nw, nw:nwb].T
        H[nw:nwb, nw:nwb] = B["A2"][np.ix_(eb, eb)]
        mf = self.mu_free
        H[nwb:, nwb:] = 2.0 * B["Mm"][np.ix_(mf, mf)]
        return H

    def value_grad(self, t):
        f, G, _ = _objective(self.cs, *self.moments(t))
        return f, (self.grad(G) if G is not None else None)

    def cluster_scores(self, t):
        """(J, q) cluster-wise scores of log L_j in this parameterisation."""
        GW, GB, gm = _cl_grads(self.cs, *self.moments(t))
        i, j = self.w_pairs.T
        sw = GW[:, i, j] * np.where(i == j, 1.0, 2.0)
        i, j = self.b_pairs.T
        sb = GB[:, i, j] * np.where(i == j, 1.0, 2.0)
        return -0.5 * np.hstack([sw, sb, gm[:, self.mu_free]])

    def observed_information(self, t):
        """Observed information of log L (numerical derivative of the analytic gradient)."""
        return numerical_information(lambda x: self.value_grad(x)[1], t)


def _fit_linear(lin: _Linear, max_iter=200, tol=1e-10, psd_block=None):
    """Fisher scoring for a linear two-level structure; returns (theta, f, converged).

    With ``psd_block`` (positions of the between variables) it gives up, returning
    converged = None, when Sigma_B stays indefinite for three iterations (the unconstrained
    maximum is then outside the admissible region; the caller switches to EM).
    """
    t = lin.theta0()
    f, G, cache = _objective(lin.cs, *lin.moments(t))
    if not np.isfinite(f):
        raise SEMError("starting values of the saturated two-level model are not positive "
                       "definite")
    n_indef = 0
    for _ in range(max_iter):
        if psd_block is not None:
            SB = lin.moments(t)[1][np.ix_(psd_block, psd_block)]
            n_indef = n_indef + 1 if np.linalg.eigvalsh(SB)[0] < 0 else 0
            if n_indef >= 3:
                return t, f, None
        g = lin.grad(G)
        H = lin.info(cache)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, g, rcond=None)[0]
        dec = -g @ step
        if dec < tol * max(1.0, abs(f)) * 1e-6:
            return t, f, True
        a = 1.0
        while a > 1e-10:
            fn = _objective(lin.cs, *lin.moments(t + a * step), grad=False)
            if fn <= f - 1e-4 * a * dec:
                break
            a *= 0.5
        if a <= 1e-10:
            return t, f, dec < 1e-6
        t = t + a * step
        f, G, cache = _objective(lin.cs, *lin.moments(t))
    return t, f, False


def _em_step(cs, pos_b, Sw, SB, mu):
    """One EM step for the saturated two-level model (random cluster effects ``c_j`` of
    the between variables; Raudenbush 1995), keeping Sigma_B positive semi-definite."""
    P, pw = cs.P, cs.pw
    isw = pos_b < pw
    yw = pos_b[isw]
    xw = np.setdiff1d(np.arange(pw), pos_b)
    k = np.searchsorted(cs.sizes, cs.cl_n)
    n = cs.cl_n.astype(float)
    Vu = np.repeat(SB[None], len(cs.sizes), 0)
    Vu[:, :pw, :pw] += Sw[None] / cs.sizes[:, None, None]
    Vi = np.linalg.inv(Vu)
    Cb = SB[pos_b, :]
    K = np.einsum("bp,kpq->kbq", Cb, Vi)
    chat = mu[pos_b][None] + np.einsum("jbq,jq->jb", K[k], cs.cl_u - mu[None])
    Om = SB[np.ix_(pos_b, pos_b)][None] - np.einsum("kbq,cq->kbc", K, Cb)
    Om = 0.5 * (Om + Om.transpose(0, 2, 1))  # symmetric, else rounding grows
    muB = chat.mean(0)
    dc = chat - muB
    SBn = (dc.T @ dc + np.einsum("k,kbc->bc", cs.counts.astype(float), Om)) / cs.J
    a = cs.cl_u[:, :pw].copy()
    a[:, yw] -= chat[:, isw]
    ebar = (n[:, None] * a).sum(0) / cs.N
    ac = a - ebar
    OmW = np.zeros((len(cs.sizes), pw, pw))
    OmW[:, yw[:, None], yw[None, :]] = Om[:, isw][:, :, isw]
    Se = (cs.W + (n[:, None] * ac).T @ ac
          + np.einsum("k,kab->ab", (cs.counts * cs.sizes).astype(float), OmW)) / cs.N
    muW = np.zeros(pw)
    if len(xw):  # within-only means (ECM step given the current Sigma_W)
        muW[xw] = ebar[xw]
        if len(yw):
            muW[xw] -= Sw[np.ix_(xw, yw)] @ np.linalg.solve(Sw[np.ix_(yw, yw)], ebar[yw])
    dm = ebar - muW
    Swn = Se + np.outer(dm, dm)
    SBx = np.zeros((P, P))
    SBx[np.ix_(pos_b, pos_b)] = 0.5 * (SBn + SBn.T)
    mun = np.zeros(P)
    mun[:pw] = muW
    mun[pos_b] += muB
    return 0.5 * (Swn + Swn.T), SBx, mun


def em_saturated(cs: ClusterStats, pos_b, start, max_iter: int = 5000, tol: float = 1e-10):
    """Saturated two-level model by EM with SQUAREM acceleration (Varadhan & Roland 2008).

    Used when the unconstrained ML estimate of Sigma_B is not positive semi-definite (few
    clusters): EM keeps Sigma_B positive semi-definite, as lavaan's h1 does. Incomplete
    data (:class:`analysis.sem.twolevel_fiml.MissingClusterData`) take its EM step.

    Parameters
    ----------
    cs : ClusterStats or MissingClusterData
    pos_b : ndarray
        Extended-space positions of the between variables.
    start : tuple
        (Sigma_W, Sigma_B~, mu~) starting values (Sigma_B~ positive semi-definite).
    max_iter : int
        EM steps (each SQUAREM cycle counts three).
    tol : float
        Stop when ``-2 log L`` decreases by less than ``tol`` relative in a cycle.

    Returns
    -------
    (Sigma_W, Sigma_B~, mu~), f, converged

    References
    ----------
    Raudenbush, S. W. (1995). Maximum likelihood estimation for unbalanced multilevel
    covariance structure models via the EM algorithm. BJMSP 48, 359-370.
    Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for
    accelerating the convergence of any EM algorithm. Scand. J. Stat. 35, 335-353.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 2.0, 5.0, 4.0], "c": [1, 1, 2, 2, 3, 3]})
    >>> cs = cluster_stats(df, ["y"], [], "c")
    >>> (Sw, SB, mu), f, ok = em_saturated(cs, np.array([0]), saturated_start(cs, [0]))
    >>> ok, round(float(mu[0]), 4)
    (True, 2.8333)
    """
    pos_b = np.asarray(pos_b, int)
    pw = cs.pw

    def pack(m):
        return np.concatenate([m[0].ravel(), m[1][np.ix_(pos_b, pos_b)].ravel(), m[2]])

    def unpack(x):
        Sw = x[: pw * pw].reshape(pw, pw)
        pb = len(pos_b)
        SB = np.zeros((cs.P, cs.P))
        SB[np.ix_(pos_b, pos_b)] = x[pw * pw: pw * pw + pb * pb].reshape(pb, pb)
        return Sw, SB, x[pw * pw + pb * pb:]

    def F(m):
        if isinstance(cs, ClusterStats):
            return _em_step(cs, pos_b, *m)
        return cs.em_step(*m)  # incomplete data (analysis.sem.twolevel_fiml)

    def obj(m):
        try:
            np.linalg.cholesky(m[1][np.ix_(pos_b, pos_b)] + 1e-12 * np.eye(len(pos_b)))
        except np.linalg.LinAlgError:
            return np.inf
        return _objective(cs, *m, grad=False)

    m0 = tuple(np.array(a, float) for a in start)
    f0 = obj(m0)
    it = 0
    while it < max_iter:
        m1 = F(m0)
        m2 = F(m1)
        it += 2
        x0, x1, x2 = pack(m0), pack(m1), pack(m2)
        r = x1 - x0
        v = x2 - x1 - r
        nv = np.linalg.norm(v)
        mn, fn = m2, obj(m2)
        if nv > 0:
            alpha = -np.linalg.norm(r) / nv
            if alpha < -1:
                xs = x0 - 2 * alpha * r + alpha**2 * v
                ms = F(unpack(xs))
                it += 1
                fs = obj(ms)
                if fs < fn:
                    mn, fn = ms, fs
        if not np.isfinite(fn):
            break
        done = f0 - fn < tol * max(1.0, abs(fn))
        m0, f0 = mn, min(fn, f0) if fn <= f0 else fn
        if done:
            return m0, f0, True
    return m0, f0, False


def _pairs(idx):
    idx = list(idx)
    return [(idx[a], idx[b]) for b in range(len(idx)) for a in range(b, len(idx))]


def saturated_start(cs: ClusterStats, pos_b):
    """Moment-based starting values (Sigma_W, Sigma_B~, mu~) of the saturated model.

    Parameters
    ----------
    cs : ClusterStats
        Within and between summaries (:func:`cluster_stats`).
    pos_b : sequence of int
        Positions of the variables with a between part.

    Returns
    -------
    tuple of ndarray
        ``(Sigma_W, Sigma_B, mu)``: pooled within covariance, a positive-definite between
        covariance from the cluster means (eigenvalues floored) and the means.
    """
    pw, P = cs.pw, cs.P
    dfw = max(cs.N - cs.J, 1)
    Sw = cs.W / dfw
    u = cs.cl_u
    mu = u.mean(axis=0)
    mu[:pw] = (cs.cl_n[:, None] * u[:, :pw]).sum(0) / cs.N
    uc = u - u.mean(axis=0)
    Su = uc.T @ uc / cs.J
    nbar = cs.N / cs.J
    SB = np.zeros((P, P))
    Sb = Su.copy()
    Sb[:pw, :pw] -= Sw / nbar
    pos_b = np.asarray(pos_b, int)
    block = Sb[np.ix_(pos_b, pos_b)]
    ev, vec = np.linalg.eigh(block)
    floor = 0.05 * np.maximum(np.diag(Su)[pos_b].mean(), 1e-8)
    block = (vec * np.maximum(ev, floor)) @ vec.T
    SB[np.ix_(pos_b, pos_b)] = block
    return Sw, SB, mu


# ---------------------------------------------------------------------------------------
# the structured model


def split_levels(stmts):
    """(level-1 statements, level-2 statements, ``:=`` statements) of a parsed model.

    Parameters
    ----------
    stmts : list of Statement
        Parsed model (:func:`analysis.sem.syntax.parse_model`).

    Returns
    -------
    tuple of lists
        ``(within, between, defined)``.

    Raises
    ------
    SEMError
        Unless both a ``level: 1`` and a ``level: 2`` block exist.

    Examples
    --------
    >>> w, b, d = split_levels(parse_model("level: 1\\nf =~ a + b\\nlevel: 2\\ng =~ a + b"))
    >>> len(w), len(b), len(d)
    (2, 2, 0)
    """
    if not any(getattr(s, "level", None) for s in stmts):
        raise SEMError("two-level model needs 'level: 1' and 'level: 2' blocks")
    w = [s for s in stmts if s.level == 1 and s.op != ":="]
    b = [s for s in stmts if s.level == 2 and s.op != ":="]
    d = [s for s in stmts if s.op == ":="]
    if not w or not b:
        raise SEMError("two-level model needs statements in both 'level: 1' and 'level: 2'")
    return w, b, d


class TwoLevelModel:
    """A within (level-1) and a between (level-2) :class:`SEMModel` sharing one theta.

    Attributes
    ----------
    within, between : SEMModel
        Level models (single group, with means). ``theta[map_w]`` and ``theta[map_b]``
        are their parameter vectors.
    partable : DataFrame
        Both levels' rows with a ``level`` column (1, 2) and the global ``free`` index.
    pos_b : ndarray
        Position of each between variable in the extended space [level-1, between-only].
    n_free : int
    """

    def __init__(self, within: SEMModel, between: SEMModel, pt_w, pt_b, map_w, map_b,
                 n_free, pos_b, defined, cs):
        self.within, self.between = within, between
        self.map_w, self.map_b = np.asarray(map_w, int), np.asarray(map_b, int)
        self.n_free = int(n_free)
        self.pos_b = np.asarray(pos_b, int)
        self.cs = cs
        self.defined = defined
        pw = pt_w.copy()
        pw["level"] = 1
        pw["free"] = np.where(pw["free"] >= 0, self.map_w[pw["free"].clip(lower=0)], -1)
        pb = pt_b.copy()
        pb["level"] = 2
        pb["free"] = np.where(pb["free"] >= 0, self.map_b[pb["free"].clip(lower=0)], -1)
        self.partable = pd.concat([pw, pb], ignore_index=True)
        self.n_groups = 1
        self.group_labels = [None]
        self.ov_names = list(dict.fromkeys(within.ov_names + between.ov_names))
        self.lv_names = list(dict.fromkeys(within.lv_names + between.lv_names))
        self._def_fun = None

    @property
    def def_fun(self):
        """Label values -> ``:=`` values."""
        if self._def_fun is None:
            self._def_fun = compile_definitions(self.defined,
                                                set(self.partable["label"]) - {""})
        return self._def_fun

    @property
    def theta_start(self):
        t = np.zeros(self.n_free)
        t[self.map_w] = self.within.theta_start
        t[self.map_b] = self.between.theta_start
        return t

    def moments(self, theta):
        """(Sigma_W, Sigma_B~, mu~) at ``theta``."""
        cs = self.cs
        Sw, mw = self.within.sigma_mu(theta[self.map_w], 0)
        Sb, mb = self.between.sigma_mu(theta[self.map_b], 0)
        SB = np.zeros((cs.P, cs.P))
        SB[np.ix_(self.pos_b, self.pos_b)] = Sb
        mu = np.zeros(cs.P)
        mu[: cs.pw] = mw
        mu[self.pos_b] += mb
        return Sw, SB, mu

    def level_moments(self, theta):
        """Implied ((Sigma_W, mu_W), (Sigma_B, mu_B)) of each level's own variables."""
        return (self.within.sigma_mu(theta[self.map_w], 0),
                self.between.sigma_mu(theta[self.map_b], 0))

    def jacobians(self, theta):
        """dSigma_W (q, pw, pw), dSigma_B (q, pb, pb), dmu_W (q, pw), dmu_B (q, pb)."""
        q, cs = self.n_free, self.cs
        pb = len(self.pos_b)
        locw, dSw_l, dmw_l = self.within.jacobian_local(theta[self.map_w], 0)
        locb, dSb_l, dmb_l = self.between.jacobian_local(theta[self.map_b], 0)
        dSw = np.zeros((q, cs.pw, cs.pw))
        dmw = np.zeros((q, cs.pw))
        dSw[self.map_w[locw]] = dSw_l  # one level's local parameters map to distinct ones
        dmw[self.map_w[locw]] = dmw_l
        dSb = np.zeros((q, pb, pb))
        dmb = np.zeros((q, pb))
        dSb[self.map_b[locb]] = dSb_l
        dmb[self.map_b[locb]] = dmb_l
        return dSw, dSb, dmw, dmb

    def value_grad(self, theta, with_info=False):
        """``-2 log L``, its gradient in theta and (optionally) the expected information."""
        cs = self.cs
        f, G, cache = _objective(cs, *self.moments(theta))
        if not np.isfinite(f):
            return np.inf, None, None
        G_W, G_B, g_mu = G
        dSw, dSb, dmw, dmb = self.jacobians(theta)
        q = self.n_free
        pb = self.pos_b
        g = (dSw.reshape(q, -1) @ G_W.ravel() + dSb.reshape(q, -1) @ G_B[np.ix_(pb, pb)].ravel()
             + dmw @ g_mu[: cs.pw] + dmb @ g_mu[pb])
        H = None
        if with_info:
            dSB = np.zeros((q, cs.P, cs.P))
            dSB[:, pb[:, None], pb[None, :]] = dSb
            dmu = np.zeros((q, cs.P))
            dmu[:, : cs.pw] = dmw
            dmu[:, pb] += dmb
            H = _expected_info(cs, cache, dSw, dSB, dmu)
        return f, g, H

    def cluster_scores(self, theta):
        """(J, q) gradients of ``log L_j`` (cluster-wise scores) at theta."""
        cs = self.cs
        GW, GB, gm = _cl_grads(cs, *self.moments(theta))
        dSw, dSb, dmw, dmb = self.jacobians(theta)
        q, pb = self.n_free, self.pos_b
        S = (GW.reshape(cs.J, -1) @ dSw.reshape(q, -1).T
             + GB[:, pb[:, None], pb[None, :]].reshape(cs.J, -1) @ dSb.reshape(q, -1).T
             + gm[:, : cs.pw] @ dmw.T + gm[:, pb] @ dmb.T)
        return -0.5 * S

    def row_values(self, theta):
        pt = self.partable
        fr = pt["free"].to_numpy()
        out = pt["value"].to_numpy(dtype=float).copy()
        out[fr >= 0] = theta[fr[fr >= 0]]
        return out

    def std_all(self, theta):
        """std.all per partable row, each level standardised by its own implied variances."""
        return np.concatenate([std_all_rows(self.within, theta[self.map_w]),
                               std_all_rows(self.between, theta[self.map_b])])


def _level_model(stmts, ss: SampleStats, both: set, level: int):
    """A level's SEMModel; at level 1 the intercepts of variables that also have a between
    part are fixed at 0 (their means live at level 2)."""
    stmts = [replace(s, level=None) for s in stmts]  # one level: an ordinary model
    m = build_model(stmts, [ss], meanstructure=True)
    pt = m.partable.copy()
    if level == 1:
        fix = (pt["op"] == "~1") & pt["lhs"].isin(both)
        user_set = fix & pt["user"].astype(bool)
        if user_set.any():
            raise SEMError("level 1: intercepts of variables that also appear at level 2 "
                           "belong to level 2 (" + ", ".join(pt.loc[user_set, "lhs"]) + ")")
        pt.loc[fix, "free"] = -1
        pt.loc[fix, "value"] = 0.0
    fr = pt["free"].to_numpy()
    keep = np.unique(fr[fr >= 0])
    newidx = np.full(max(fr.max() + 1, 1), -1)
    newidx[keep] = np.arange(len(keep))
    pt["free"] = np.where(fr >= 0, newidx[fr.clip(min=0)], -1)
    new = SEMModel(pt, m.ov_names, m.lv_names, [ss], True, [None], [], len(keep))
    new.ov_x = m.ov_x
    new.group_equal = ()
    return new


# ---------------------------------------------------------------------------------------
# data checks


def _first_rows(mask: pd.Series, k: int = 5) -> str:
    rows = list(mask[mask].index[:k])
    more = " ..." if mask.sum() > k else ""
    return ", ".join(map(str, rows)) + more


def _prepare(stmts_w, stmts_b, data, cluster, missing):
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    if missing not in ("listwise", "fiml"):
        raise SEMError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    if cluster is None or cluster not in data.columns:
        raise SEMError(f"cluster column not found in data: {cluster}")
    ov_w = observed_variables(stmts_w)
    ov_b = observed_variables(stmts_b)
    lv = {s.lhs for s in stmts_w + stmts_b if s.op == "=~"}
    allv = list(dict.fromkeys(ov_w + ov_b))
    absent = [v for v in allv if v not in data.columns]
    if absent:
        raise SEMError(f"column(s) not found in data: {', '.join(absent)} (latent variables "
                       f"must be defined with =~)")
    clash = sorted(lv & set(data.columns))
    if clash:
        raise SEMError(f"latent variable name(s) also used as data column(s): {', '.join(clash)}")
    if cluster in allv:
        raise SEMError(f"the cluster column {cluster!r} is also a model variable")
    nonnum = [c for c in allv if not pd.api.types.is_numeric_dtype(data[c])]
    if nonnum:
        raise SEMError(f"non-numeric column(s): {', '.join(nonnum)}")
    cna = data[cluster].isna()
    if cna.any():
        raise SEMError(f"cluster column {cluster!r} has {int(cna.sum())} missing value(s), "
                       f"first in row(s) {_first_rows(cna)}")
    X = data[allv].astype(float)
    # FIML keeps incomplete rows; rows with no observed model value carry nothing (lavaan
    # drops these "empty cases" too)
    keep = X.notna().all(axis=1) if missing == "listwise" else X.notna().any(axis=1)
    n_dropped = int((~keep).sum())
    df = X[keep].copy()
    df[cluster] = data.loc[keep, cluster]
    z = [v for v in ov_b if v not in ov_w]
    for v in z:
        sd = df.groupby(cluster)[v].agg(lambda s: s.max() - s.min()).fillna(0.0)
        bad = sd[sd > 1e-10 * max(1.0, float(df[v].abs().max()))]
        if len(bad):
            raise SEMError(f"between-level variable {v!r} varies within cluster(s) "
                           f"{', '.join(map(str, bad.index[:5]))}: a variable named only at "
                           f"level 2 must be constant within clusters")
    return ov_w, ov_b, z, df, n_dropped


# ---------------------------------------------------------------------------------------
# fit


def _fisher(model: TwoLevelModel, theta, max_iter, tol=1e-9, n_fisher: int = 6):
    """Fisher scoring (expected information) for ``n_fisher`` steps, then BFGS updates of
    that matrix (superlinear where Fisher scoring is linear: misspecified models)."""
    f, g, H = model.value_grad(theta, with_info=True)
    if not np.isfinite(f):
        return theta, FitInfo(False, 0, np.inf, "implied covariance at start values is not "
                              "positive definite", "fisher")
    msg = "maximum number of iterations reached"
    converged = False
    it = 0
    scale = max(1.0, model.cs.N)
    for it in range(1, max_iter + 1):
        Hr = H + 1e-12 * np.eye(len(H)) * max(np.trace(H) / max(len(H), 1), 1e-300)
        try:
            step = -np.linalg.solve(Hr, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(Hr, g, rcond=None)[0]
        dec = -g @ step
        if not np.isfinite(dec) or dec < 0:
            if it > n_fisher:  # quasi-Newton matrix went bad: restart from Fisher
                _, _, H = model.value_grad(theta, with_info=True)
                continue
            msg = "non-finite gradient"
            break
        if dec < tol**2 * scale:
            converged, msg = True, "converged (Newton decrement)"
            break
        a = 1.0
        while a > 1e-10:
            fn = _value_only(model, theta + a * step)
            if fn <= f - 1e-4 * a * dec:
                break
            a *= 0.5
        if a <= 1e-10:
            msg = "line search failed"
            converged = dec < 1e-8 * scale
            break
        fold = f
        sv = a * step
        theta = theta + sv
        if it < n_fisher:
            f, gn, H = model.value_grad(theta, with_info=True)
        else:
            f, gn, _ = model.value_grad(theta)
            yv = gn - g
            ys = yv @ sv
            if ys > 1e-12 * np.sqrt((yv @ yv) * (sv @ sv)):
                Hs = H @ sv
                H = H + np.outer(yv, yv) / ys - np.outer(Hs, Hs) / (sv @ Hs)
        g = gn
        if abs(fold - f) <= 1e-15 * max(1.0, abs(f)) and a == 1.0:
            converged, msg = True, "converged (objective)"
            break
    return theta, FitInfo(converged, it, f, msg, "fisher+bfgs")


def refit_clusters(model: TwoLevelModel, idx, theta0, max_iter: int = 100):
    """Refit a two-level model to clusters ``idx`` of its data (a cluster-bootstrap
    resample or a leave-one-cluster-out jackknife sample), warm-started at ``theta0``.

    The level models, and so the fixed.x values of the covariates, are those of the full
    fit: the estimates do not depend on them (the likelihood factorises into the
    covariates' marginal part and the conditional part).

    Parameters
    ----------
    model : TwoLevelModel
        ``result.model`` of :func:`fit_twolevel`.
    idx : sequence of int
        Cluster positions, repeats allowed (:func:`take_clusters`).
    theta0 : ndarray
        Start (the full-sample estimates).
    max_iter : int
        Iterations of the Fisher-scoring/BFGS optimiser.

    Returns
    -------
    (theta, converged)

    Examples
    --------
    >>> # used by analysis.sem.bootstrap for two-level results
    """
    m = copy.copy(model)
    m.cs = take_clusters(model.cs, idx)
    theta, info = _fisher(m, np.asarray(theta0, float).copy(), max_iter, tol=1e-6)
    return theta, bool(info.converged)


def _value_only(model, theta):
    return _objective(model.cs, *model.moments(theta), grad=False)


def numerical_information(grad_fun, theta) -> np.ndarray:
    """Observed information of ``log L`` from the gradient of ``-2 log L``: half its
    Hessian, by central differences (relative step 1e-5; error ~1e-9 relative; forward
    differences were 1e-4 off); lavaan also differentiates its analytic gradient.

    Parameters
    ----------
    grad_fun : callable
        theta -> gradient of ``-2 log L`` (None where not defined).
    theta : ndarray

    Returns
    -------
    ndarray (q, q)
        Symmetrised; NaN when a perturbed point leaves the admissible region.

    Examples
    --------
    >>> numerical_information(lambda t: 2 * np.array([2 * t[0], 6 * t[1]]), np.ones(2))
    array([[2., 0.],
           [0., 6.]])
    """
    theta = np.asarray(theta, float)
    q = len(theta)
    H = np.zeros((q, q))
    for k in range(q):
        h = 1e-5 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        gp, gm = grad_fun(tp), grad_fun(tm)
        if gp is None or gm is None:
            return np.full((q, q), np.nan)
        H[:, k] = (gp - gm) / (2 * h)
    return 0.25 * (H + H.T)


def observed_information(model: TwoLevelModel, theta) -> np.ndarray:
    """Observed information of ``log L`` of a two-level model at theta (lavaan's default
    for two-level SEs), see :func:`numerical_information`.

    Parameters
    ----------
    model : TwoLevelModel
    theta : ndarray
        Free parameters.

    Returns
    -------
    ndarray
        ``n_free x n_free``.

    Examples
    --------
    >>> # used by fit_twolevel: res.extra["observed_information"]
    """
    return numerical_information(lambda t: model.value_grad(t)[1], theta)


def _srmr_level(S, Sigma):
    """SRMR of one level as lavaan computes it for two-level models: root mean square of
    the correlation residuals ``r_ij - rho_ij`` over the lower triangle including the
    (zero) diagonal; no mean part (Bollen 1989, p. 258)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN for a negative variance
        a = 1.0 / np.sqrt(np.diag(S))
        b = 1.0 / np.sqrt(np.diag(Sigma))
        R = S * np.outer(a, a) - Sigma * np.outer(b, b)
    il = np.tril_indices(len(S))
    return float(np.sqrt(np.mean(R[il] ** 2)))


def fit_twolevel(model: str, data: pd.DataFrame, *, cluster: str, estimator: str = "ML",
                 missing: str = "listwise", start=None, max_iter: int = 500,
                 std_se: bool = True) -> SEMResult:
    """Fit a two-level SEM (lavaan ``level: 1`` / ``level: 2`` syntax) by ML or MLR.

    Parameters
    ----------
    model : str
        lavaan syntax with a ``level: 1`` (or ``level: within``) and a ``level: 2`` (or
        ``level: between``) block. Shared labels constrain parameters across levels; ``:=``
        definitions may use labels of both levels.
    data : DataFrame
        One row per respondent; the model's variables and ``cluster`` are columns.
    cluster : str
        Column identifying clusters (no missing values allowed).
    estimator : {"ML", "MLR"}
        ML with observed-information SEs (lavaan's default for two-level models) or MLR
        (Huber-White SEs with cluster-wise scores, Yuan-Bentler scaled test).
    missing : {"listwise", "fiml"}
        Listwise deletion over the model's columns, or full-information ML with values
        missing at random at both levels (lavaan's ``missing="ml"``; observed-information
        SEs; rows without any observed model value, and rows with a missing fixed.x
        covariate, are dropped as lavaan drops them). With ``estimator="MLR"`` the
        cluster-wise scores are those of the observed-data likelihood (lavaan 0.6-14
        stops with an error there).
    start : array-like, optional
        Starting values for theta (order of the free rows of ``result.model.partable``).
    max_iter : int
        Fisher-scoring iteration limit.
    std_se : bool
        Delta-method SEs of the standardised solution.

    Returns
    -------
    SEMResult
        ``estimates``: ``lhs op rhs label level est se z pvalue std_all se_std`` (level 1
        or 2; 0 for ``:=`` rows). ``fit_indices``: npar ntotal nclusters chisq df pvalue
        baseline_chisq baseline_df baseline_pvalue cfi tli rmsea rmsea_ci_lower
        rmsea_ci_upper rmsea_pvalue srmr srmr_within srmr_between loglik
        unrestricted_logl aic bic (lavaan's two-level definitions: srmr = srmr_within +
        srmr_between, from correlation residuals; loglik conditional on fixed.x
        covariates); MLR adds chisq_scaled df_scaled pvalue_scaled scaling_factor
        baseline_chisq_scaled baseline_scaling_factor cfi_robust tli_robust rmsea_robust
        rmsea_ci_lower_robust rmsea_ci_upper_robust. ``extra``: ``h1`` (saturated
        moments), ``observed_information``, ``cluster_stats``, ``cluster``. ``model`` is a
        :class:`TwoLevelModel`.

    Raises
    ------
    SEMError
        Missing blocks or columns, missing cluster ids, a between-only variable that varies
        within clusters, fewer clusters than between-level variables, all clusters of size
        1, more free parameters than sample moments.

    Notes
    -----
    Warnings (``result.warnings`` and ``summary()``): listwise deletion (FIML: dropped
    empty rows and rows with missing covariates; a saturated between covariance that is not
    positive semi-definite at its FIML maximum, where lavaan's EM stays on the boundary), singleton
    clusters (allowed, as in lavaan), more free between-level parameters than clusters,
    negative variance estimates (Heywood cases, common at level 2 with few clusters),
    non-convergence.

    References
    ----------
    Muthén (1994), Sociol. Methods Res. 22, 376-398; McDonald & Goldstein (1989), BJMSP 42;
    Rosseel (2021), Psych 3(2), 197-232; Yuan & Bentler (2000), Sociol. Methodol. 30.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> cl = np.repeat(np.arange(50), rng.integers(5, 15, 50))
    >>> f = rng.normal(size=cl.size) + 0.7 * rng.normal(size=50)[cl]
    >>> df = pd.DataFrame({f"y{k}": f + rng.normal(size=cl.size) + 0.4 * rng.normal(size=50)[cl]
    ...                    for k in range(1, 5)})
    >>> df["g"] = cl
    >>> res = fit_twolevel("level: 1\\n fw =~ y1 + y2 + y3 + y4\\n"
    ...                    "level: 2\\n fb =~ y1 + y2 + y3 + y4", df, cluster="g")
    >>> int(res.fit_indices["df"]), sorted(res.estimates["level"].unique().tolist())
    (4, [1, 2])
    """
    with single_thread_blas():
        return _fit_twolevel(model, data, cluster=cluster, estimator=estimator,
                             missing=missing, start=start, max_iter=max_iter, std_se=std_se)


def _fit_twolevel(syntax, data, *, cluster, estimator, missing, start, max_iter, std_se):
    estimator = str(estimator).upper()
    if estimator not in ("ML", "MLR"):
        raise SEMError(f"estimator must be 'ML' or 'MLR', not {estimator!r}")
    stmts = parse_model(syntax) if isinstance(syntax, str) else syntax
    st_w, st_b, st_def = split_levels(stmts)
    ov_w, ov_b, z, df, n_dropped = _prepare(st_w, st_b, data, cluster, missing)
    msgs: list[str] = []
    both = set(ov_w) & set(ov_b)
    pos = {v: i for i, v in enumerate(ov_w)}
    pos.update({v: len(ov_w) + k for k, v in enumerate(z)})
    pos_b = np.array([pos[v] for v in ov_b], int)
    pb = len(ov_b)
    if missing == "fiml":
        cs, cs0, df, n_x = _fiml_data(st_w, st_b, df, ov_w, ov_b, z, both, cluster, pos_b)
        if n_dropped:
            msgs.append(f"{n_dropped} of {len(data)} rows have no observed value in the "
                        f"model's columns and were dropped (empty cases, as in lavaan)")
        if n_x:
            msgs.append(f"{n_x} rows with missing values in exogenous covariates (fixed.x) "
                        f"were dropped, as in lavaan")
        n_dropped += n_x
    else:
        if n_dropped:
            msgs.append(f"listwise deletion: {n_dropped} of {len(data)} rows with missing "
                        f"values in the model's columns were dropped")
        cs = cs0 = cluster_stats(df, ov_w, z, cluster)
    n_single = int(np.sum(cs.cl_n == 1))
    if cs.J == cs.N:
        raise SEMError(f"every cluster in {cluster!r} has one respondent: the within level "
                       f"is not identified")
    if cs.J <= pb:
        raise SEMError(f"{cs.J} clusters in {cluster!r} but {pb} between-level variables: "
                       f"the between-level covariance matrix needs more clusters than "
                       f"variables")
    if n_single:
        msgs.append(f"{n_single} cluster(s) of size 1 (they inform the between level only; "
                    f"allowed, as in lavaan)")
    if missing == "fiml":
        zero_w = _zero_within_observed(df, ov_w, cluster, cs.labels)
    else:
        zero_w = (np.diagonal(cs.cl_W, axis1=1, axis2=2) <= 0) & (cs.cl_n > 1)[:, None]
    for j in np.flatnonzero(zero_w.any(axis=0)):
        ids = [str(cs.labels[c]) for c in np.flatnonzero(zero_w[:, j])[:5]]
        msgs.append(f"level-1 variable {ov_w[j]!r} has no variance within cluster(s) "
                    f"{', '.join(ids)}")

    # saturated model (h1)
    Sw0, SB0, mu0 = saturated_start(cs0, pos_b)
    sat = _Linear(cs, Sw0, SB0, mu0, _pairs(range(cs.pw)), _pairs(pos_b), np.arange(cs.P))
    t1, f1, ok1 = _fit_linear(sat, psd_block=pos_b)
    Sw1, SB1, mu1 = sat.moments(t1)
    boundary = ok1 is None or np.linalg.eigvalsh(SB1[np.ix_(pos_b, pos_b)])[0] < 0
    if boundary and missing == "fiml" and cs.Zmask.size and not cs.Zmask.all():
        # EM needs complete between-only values: the unconstrained maximum is reported
        t1, f1, ok1 = _fit_linear(sat)
        Sw1, SB1, mu1 = sat.moments(t1)
        msgs.append("the saturated between-level covariance matrix is not positive "
                    "semi-definite at its FIML maximum (few clusters) and EM needs complete "
                    "between-only values; lavaan's EM keeps it on the boundary, so "
                    "chi-square and fit indices are not lavaan's")
    elif boundary:
        # unconstrained Sigma_B not positive semi-definite (few clusters): constrained ML by
        # EM, as lavaan's h1
        (Sw1, SB1, mu1), f1, ok1 = em_saturated(cs, pos_b, (Sw0, SB0, mu0), tol=1e-9)
        sat = _Linear(cs, Sw1, SB1, mu1, _pairs(range(cs.pw)), _pairs(pos_b), np.arange(cs.P))
        t1 = sat.theta0()
        msgs.append("the saturated between-level covariance matrix is on the boundary "
                    "(singular); h1 fitted by EM")
    if not ok1:
        msgs.append("the saturated (h1) two-level model did not converge; chi-square and "
                    "fit indices are doubtful")
    # level sample statistics (lavaan reports the h1 estimates as sample statistics)
    mu_w1 = np.where(np.isin(np.arange(cs.pw), pos_b), 0.0, mu1[: cs.pw])
    ss_w = SampleStats.from_moments(Sw1, mu_w1, cs.N)
    ss_w.ov_names = list(ov_w)
    ss_b = SampleStats.from_moments(SB1[np.ix_(pos_b, pos_b)], mu1[pos_b], cs.J)
    ss_b.ov_names = list(ov_b)
    mw = _level_model(st_w, ss_w, both, 1)
    mb = _level_model(st_b, ss_b, both, 2)
    # global parameters: shared labels across levels
    keys: dict = {}
    maps = []
    for m in (mw, mb):
        fr = m.free_rows
        mp = np.zeros(m.n_free, int)
        for r in fr.itertuples():
            key = ("label", r.label) if r.label else (id(m), r.free)
            if key not in keys:
                keys[key] = len(keys)
            mp[r.free] = keys[key]
        maps.append(mp)
    defined = [(s.lhs, s.expr) for s in st_def]
    tl = TwoLevelModel(mw, mb, mw.partable, mb.partable, maps[0], maps[1], len(keys), pos_b,
                       defined, cs)
    tl.def_fun  # unknown labels in := raise now
    kx_w = len(mw.ov_x)
    kx_b = len(mb.ov_x)
    w_only = [v for v in ov_w if v not in both]
    nmom = (cs.pw * (cs.pw + 1) // 2 - kx_w * (kx_w + 1) // 2
            + len([v for v in w_only if v not in mw.ov_x])
            + pb * (pb + 1) // 2 - kx_b * (kx_b + 1) // 2 + pb - kx_b)
    if tl.n_free > nmom:
        raise SEMError(f"model is not identified: {tl.n_free} free parameters but only "
                       f"{nmom} sample moments (df = {nmom - tl.n_free})")
    nb_free = len(np.unique(tl.map_b))
    if nb_free > cs.J:
        msgs.append(f"{nb_free} free between-level parameters but only {cs.J} clusters: "
                    f"between-level estimates and standard errors are unreliable")

    theta0 = tl.theta_start if start is None else np.asarray(start, float).ravel()
    if theta0.shape != (tl.n_free,):
        raise SEMError(f"start has {theta0.size} values but the model has {tl.n_free} free "
                       f"parameters")
    theta, info = _fisher(tl, theta0.copy(), max_iter)
    if missing == "fiml":  # the metric is the complete-data one: finish with Newton steps
        theta, info, A = _newton_polish(tl, theta, info)
    else:
        A = observed_information(tl, theta)
    if not info.converged:
        msgs.append(f"optimizer did not converge after {info.iterations} iterations "
                    f"({info.message}); estimates are not trustworthy")
    f0 = info.fmin
    vcov, singular = _invert(A)
    if singular:
        msgs.append("information matrix is singular: the model may not be identified "
                    "(standard errors not computed)")
    extra = dict(h1=dict(Sigma_W=Sw1, Sigma_B=SB1, mu=mu1, theta=t1), observed_information=A,
                 cluster_stats=cs, cluster_column=cluster)
    fi, baseline = _fit_indices(tl, theta, f0, f1, sat, t1, cs, mw, mb, both, ov_w, ov_b,
                                pos_b, nmom)
    if estimator == "MLR":
        vcov, fi_r = _mlr(tl, theta, A, fi, baseline, (Sw1, SB1, mu1), (cs, mw, mb, ov_w, ov_b, pos_b),
                          msgs)
        fi = pd.concat([fi, fi_r])
    est = _estimates(tl, theta, vcov, std_se=std_se and not singular)
    msgs += _heywood(tl, theta, est)
    res = SEMResult(model=tl, theta=theta, vcov=vcov, estimates=est, fit_indices=fi,
                    converged=info.converged, warnings=msgs, estimator=estimator,
                    missing=missing, n_obs=cs.N, n_dropped=n_dropped, group=None,
                    syntax=syntax if isinstance(syntax, str) else "", info=info, extra=extra)
    for m in res.warnings:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res


def _fiml_data(st_w, st_b, df, ov_w, ov_b, z, both, cluster, pos_b):
    """Incomplete data for two-level FIML: (data, complete stand-in, rows kept, n dropped).

    Rows with a missing exogenous covariate (fixed.x) are dropped, as lavaan does; the
    stand-in (cluster-mean imputed) gives only starting values."""
    dummy = SampleStats.from_moments(np.eye(len(ov_w)), np.zeros(len(ov_w)), 100)
    dummy.ov_names = list(ov_w)
    dummy_b = SampleStats.from_moments(np.eye(len(ov_b)), np.zeros(len(ov_b)), 100)
    dummy_b.ov_names = list(ov_b)
    xs = list(dict.fromkeys(_level_model(st_w, dummy, both, 1).ov_x
                            + _level_model(st_b, dummy_b, both, 2).ov_x))
    bad = df[xs].isna().any(axis=1) if xs else pd.Series(False, index=df.index)
    df = df[~bad]
    cs = missing_cluster_data(df, ov_w, z, cluster, pos_b)
    cols = list(ov_w) + list(z)
    filled = df[cols].groupby(df[cluster]).transform("mean")
    imp = df[cols].fillna(filled).fillna(df[cols].mean())
    imp[cluster] = df[cluster]
    return cs, cluster_stats(imp, ov_w, z, cluster), df, int(bad.sum())


def _zero_within_observed(df, ov_w, cluster, labels):
    """(J, pw): clusters with two or more observed values of a variable, all equal."""
    g = df.groupby(cluster, sort=True)[list(ov_w)]
    n, rng = g.count(), g.max() - g.min()
    return (n.reindex(labels).to_numpy() > 1) & (rng.reindex(labels).to_numpy() <= 0)


def _newton_polish(model, theta, info, max_steps: int = 4):
    """Newton steps with the observed information after the Fisher/BFGS fit (FIML, where
    the scoring metric is only the complete-data one); returns (theta, info, A)."""
    A = observed_information(model, theta)
    f, g, _ = model.value_grad(theta)
    for _ in range(max_steps):
        if g is None or not np.all(np.isfinite(A)):
            break
        try:
            step = -np.linalg.solve(2.0 * A, g)
        except np.linalg.LinAlgError:
            break
        dec = -g @ step
        if not np.isfinite(dec) or dec < 0 or dec < 1e-16 * max(1.0, abs(f)):
            break
        fn, gn, _ = model.value_grad(theta + step)
        if not np.isfinite(fn) or fn > f + 1e-12 * max(1.0, abs(f)):
            break
        theta, f, g = theta + step, fn, gn
        if dec > 1e-8:  # a real move: the information at the new point
            A = observed_information(model, theta)
    return theta, replace(info, fmin=float(f)), A


def _invert(A):
    ev = np.linalg.eigvalsh(A) if np.all(np.isfinite(A)) else np.array([-1.0])
    if ev[0] <= 1e-10 * max(ev[-1], 1e-300):
        return np.full_like(A, np.nan), True
    V = np.linalg.inv(A)
    return 0.5 * (V + V.T), False


def _heywood(tl, theta, est):
    msgs = []
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    for r in var[var["est"] < 0].itertuples():
        msgs.append(f"Heywood case: negative variance estimate {r.lhs} ~~ {r.rhs} = "
                    f"{r.est:.4g} (level {r.level})")
    for lev, m, mp in ((1, tl.within, tl.map_w), (2, tl.between, tl.map_b)):
        lv = [m.all_names.index(v) for v in m.lv_names]
        if lv:
            T = m.total_cov(theta[mp], 0)[np.ix_(lv, lv)]
            if np.linalg.eigvalsh(T)[0] < 0:
                msgs.append(f"covariance matrix of latent variables is not positive definite "
                            f"(level {lev})")
    return msgs


def _estimates(tl: TwoLevelModel, theta, vcov, std_se=True) -> pd.DataFrame:
    pt = tl.partable
    est = tl.row_values(theta)
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    dv = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se[fr >= 0] = dv[fr[fr >= 0]]
    rows = pd.DataFrame(dict(lhs=pt["lhs"], op=pt["op"], rhs=pt["rhs"], label=pt["label"],
                             level=pt["level"].astype(int), est=est, se=se))
    rows["std_all"] = tl.std_all(theta)

    def defvals(t, std=False):
        if not tl.defined:
            return np.zeros(0)
        vals = tl.std_all(t) if std else tl.row_values(t)
        return np.array(list(tl.def_fun(label_values(pt, vals)).values()))

    if tl.defined:
        dJ = numeric_jacobian(defvals, theta)
        dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", dJ, vcov, dJ), 0, None))
        rows = append_defined_rows(rows, tl.defined, defvals(theta), dse, defvals(theta, True),
                                   level=0)
    rows = add_z_pvalue(rows)
    if std_se and np.all(np.isfinite(vcov)):
        def stdfun(t):
            return np.concatenate([tl.std_all(t), defvals(t, True)])

        Jm = numeric_jacobian(stdfun, theta, central=False)
        rows["se_std"] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Jm, vcov, Jm), 0, None))
    else:
        rows["se_std"] = np.nan
    return rows[["lhs", "op", "rhs", "label", "level", "est", "se", "z", "pvalue", "std_all",
                 "se_std"]]


def _baseline(cs, sat_moments, mw, mb, ov_w, ov_b, pos_b):
    """Independence model at both levels (fixed.x blocks kept at their h1 values)."""
    Sw1, SB1, mu1 = sat_moments
    xw = [ov_w.index(v) for v in mw.ov_x]
    xb = [int(pos_b[ov_b.index(v)]) for v in mb.ov_x]
    Sw0 = np.diag(np.diag(Sw1))
    if xw:
        Sw0[np.ix_(xw, xw)] = Sw1[np.ix_(xw, xw)]
    SB0 = np.zeros_like(SB1)
    SB0[pos_b, pos_b] = SB1[pos_b, pos_b]
    if xb:
        SB0[np.ix_(xb, xb)] = SB1[np.ix_(xb, xb)]
    w_pairs = [(i, i) for i in range(cs.pw) if i not in xw]
    b_pairs = [(int(i), int(i)) for i in pos_b if int(i) not in xb]
    bw = set(int(i) for i in pos_b)
    xw_only = [i for i in xw if i not in bw]
    mu_free = [i for i in range(cs.P) if i not in xb and i not in xw_only]
    lin = _Linear(cs, Sw0, SB0, mu1.copy(), w_pairs, b_pairs, mu_free)
    t, f, ok = _fit_linear(lin)
    return f, lin, t, ok


def _fit_indices(tl, theta, f0, f1, sat, t1, cs, mw, mb, both, ov_w, ov_b, pos_b, nmom):
    N = float(cs.N)
    npar = tl.n_free
    df = nmom - npar
    chisq = max(f0 - f1, 0.0)
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    h1 = sat.moments(t1)
    fb, blin, tb, okb = _baseline(cs, h1, mw, mb, ov_w, ov_b, pos_b)
    qb = blin.q
    bchisq = max(fb - f1, 0.0)
    bdf = nmom - qb
    cfi_den = max(chisq - df, bchisq - bdf, 0.0)
    cfi = 1.0 - max(chisq - df, 0.0) / cfi_den if cfi_den > 0 else 1.0
    tli = (bchisq / bdf - chisq / df) / (bchisq / bdf - 1.0) if df > 0 and bdf > 0 else 1.0
    rmsea = np.sqrt(max(0.0, (chisq - df) / (N * df))) if df > 0 else 0.0
    lo, hi = rmsea_ci(chisq, df, N, 1)
    rmsea_p = ncx2_sf(chisq, df, 0.05**2 * N * df) if df > 0 else np.nan
    (Sw, mw_i), (Sb, mb_i) = tl.level_moments(theta)
    Sw1, SB1, mu1 = h1
    srmr_w = _srmr_level(Sw1, Sw)
    srmr_b = _srmr_level(SB1[np.ix_(pos_b, pos_b)], Sb)
    # fixed.x: lavaan reports the likelihood conditional on the exogenous covariates, i.e.
    # without their (saturated, fixed) marginal part at each level
    xw = [ov_w.index(v) for v in mw.ov_x]
    xb = [int(pos_b[ov_b.index(v)]) for v in mb.ov_x]
    lx = 0.0
    for idx, S, n in ((xw, Sw1, N), (xb, SB1, cs.J)):
        if idx:
            k = len(idx)
            lx += -n / 2.0 * (k * _LOG2PI + np.linalg.slogdet(S[np.ix_(idx, idx)])[1] + k)
    logl = -f0 / 2.0 - lx
    ulogl = -f1 / 2.0 - lx
    aic = -2 * logl + 2 * npar
    bic = -2 * logl + np.log(N) * npar
    out = pd.Series(dict(npar=npar, ntotal=N, nclusters=cs.J, chisq=chisq, df=df,
                          pvalue=pvalue, baseline_chisq=bchisq, baseline_df=bdf,
                          baseline_pvalue=float(stats.chi2.sf(bchisq, bdf)) if bdf > 0
                          else np.nan, cfi=cfi, tli=tli, rmsea=rmsea, rmsea_ci_lower=lo,
                          rmsea_ci_upper=hi, rmsea_pvalue=rmsea_p, srmr=srmr_w + srmr_b,
                          srmr_within=srmr_w, srmr_between=srmr_b, loglik=logl,
                          unrestricted_logl=ulogl, aic=aic, bic=bic),
                    dtype=float)
    return out, (blin, tb)


def h1_restricted(cs, moments, mw, mb, ov_w, ov_b, pos_b):
    """Saturated structure without the fixed.x moments, at the given moments.

    Parameters
    ----------
    cs : ClusterStats
    moments : tuple of ndarray
        ``(Sigma_W, Sigma_B, mu)`` of the saturated model.
    mw, mb : SEMModel
        The level-1 and level-2 models (their fixed covariates are left out).
    ov_w, ov_b : list of str
        Observed variables of each level.
    pos_b : sequence of int
        Positions of the between-level variables.

    Returns
    -------
    object
        A linear (saturated) model in the moments, for the MLR traces.
    """
    Sw, SB, mu = moments
    xw = {ov_w.index(v) for v in mw.ov_x}
    xb = {int(pos_b[ov_b.index(v)]) for v in mb.ov_x}
    w_pairs = [(i, j) for i, j in _pairs(range(cs.pw)) if not (i in xw and j in xw)]
    b_pairs = [(i, j) for i, j in _pairs(pos_b) if not (i in xb and j in xb)]
    bset = {int(i) for i in pos_b}
    mu_free = [i for i in range(cs.P) if i not in xb and not (i in xw and i not in bset)]
    return _Linear(cs, Sw, SB, mu, w_pairs, b_pairs, mu_free)


def _mlr(tl, theta, A, fi, baseline, h1, ctx, extra_msgs):
    """Huber-White vcov with cluster-wise scores and the Yuan-Bentler (Mplus) test.

    ``c = [tr(A1^-1 B1) - tr(A0^-1 B0)] / df`` with A the observed and B the cluster-wise
    first-order information of the saturated model (at its estimates, without the fixed.x
    moments) and of the model (at theta); the baseline's factor uses the same h1 trace.
    """
    cs, mw, mb, ov_w, ov_b, pos_b = ctx
    S0 = tl.cluster_scores(theta)
    B0 = S0.T @ S0
    Ai = np.linalg.inv(A)
    vcov = Ai @ B0 @ Ai
    vcov = 0.5 * (vcov + vcov.T)
    lin = h1_restricted(cs, h1, mw, mb, ov_w, ov_b, pos_b)
    t = lin.theta0()
    A1 = lin.observed_information(t)
    S1 = lin.cluster_scores(t)
    tr_h1 = float(np.trace(np.linalg.solve(A1, S1.T @ S1)))
    if np.linalg.eigvalsh(A1)[0] <= 0:
        extra_msgs.append("MLR: the information of the saturated model is not positive "
                          "definite (its between covariance is on the boundary); the scaled "
                          "test statistic and robust fit indices are unreliable")
    tr_h0 = float(np.trace(Ai @ B0))
    df = fi["df"]
    c = (tr_h1 - tr_h0) / df if df > 0 else np.nan
    blin, tb = baseline
    Ab = blin.observed_information(tb)
    Sb = blin.cluster_scores(tb)
    tr_h1_b = tr_h1
    bdf = fi["baseline_df"]
    c0 = (tr_h1_b - float(np.trace(np.linalg.solve(Ab, Sb.T @ Sb)))) / bdf
    X2, X20 = fi["chisq"], fi["baseline_chisq"]
    scaled = X2 / c if np.isfinite(c) and c > 0 else np.nan
    out = dict(chisq_scaled=scaled, df_scaled=df,
               pvalue_scaled=float(stats.chi2.sf(scaled, df)) if np.isfinite(scaled) else np.nan,
               scaling_factor=c, baseline_chisq_scaled=X20 / c0, baseline_scaling_factor=c0,
               trace_h1=tr_h1, trace_h0=tr_h0)
    out.update(robust_indices(X2, df, c, X20, bdf, c0, cs.N))
    return vcov, pd.Series(out, dtype=float)
