"""Robust (MLR) inference: Huber-White standard errors and the Yuan-Bentler test.

lavaan's ``estimator = "MLR"`` (0.6-14) uses ML point estimates with

* standard errors from the sandwich ``E^-1 B E^-1`` where ``E`` is the
  observed information (Hessian of the log-likelihood, including the second
  derivatives of the implied moments) and ``B = sum_i s_i s_i'`` the
  casewise scores' cross-products (Huber 1967; White 1982);
* the Yuan-Bentler scaled test in its Mplus variant ("yuan.bentler.mplus";
  Yuan & Bentler 2000): ``c = [sum_g tr(A1_g^-1 B1_g) - tr(E^-1 B)] / df``
  where A1 and B1 are the observed and first-order information of the
  saturated (h1) moments evaluated at the unrestricted estimates (sample
  moments, or EM moments with missing data); ``chisq.scaled = chisq / c``;
* robust RMSEA and CFI/TLI (Brosseau-Liard, Savalei & Li 2012;
  Brosseau-Liard & Savalei 2014) for complete data and the FIML-corrected
  versions of Zhang & Savalei (2022; lavaan's "V3" with a scaled test, "V6"
  without) under ``missing = "ml"``.

All information matrices here are totals over cases (not divided by N);
moment vectors are ``[vech(Sigma), mu]`` as in :mod:`analysis.sem.fiml`.

Public API
----------
apply_mlr(res)                      ML SEMResult (complete data) -> MLR SEMResult
GroupMoments(...)                   one group's data, implied/h1 moments and Delta
observed_information(model, theta, groups)   Hessian-based information of theta
sandwich(E, B), meat(groups)        Huber-White covariance
yuan_bentler_mplus(groups, E, df)   scaling factor (lavaan "yuan.bentler.mplus")
fiml_corrected(groups, df, base)    Zhang & Savalei (2022) ingredients under FIML
rmsea, rmsea_ci, cfi, tli, robust_indices   (robust) fit indices

Example
-------
>>> from analysis.sem import fit_sem
>>> res = fit_sem(syntax, df, estimator="MLR")                 # doctest: +SKIP
>>> res.fit_indices[["chisq_scaled", "scaling_factor", "cfi_robust"]]  # doctest: +SKIP

References
----------
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for
mean and covariance structure analysis with nonnormal missing data.
Sociological Methodology, 30, 165-200.
Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the
sample performance of two nonnormality corrections for RMSEA. MBR, 47, 904-930.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit
indices for nonnormality. MBR, 49, 460-470.
Savalei, V. (2018). On the computation of the RMSEA and CFI from the
mean-and-variance corrected test statistic with nonnormal data in SEM. MBR, 53, 419-429.
Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following
FIML and TS estimation with missing data. Psychological Methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import fiml
from .estimates import build_estimates
from .fit_indices import cfi, rmsea, rmsea_ci, tli


def sandwich(information: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """Huber-White covariance ``E^-1 B E^-1`` from total information and meat.

    Parameters
    ----------
    information : ndarray, shape (q, q)
        Total (not per-case) information E of theta.
    meat : ndarray, shape (q, q)
        Total cross-product B of the casewise scores (:func:`meat`).

    Returns
    -------
    ndarray, shape (q, q)
        The (symmetrised) robust covariance matrix of theta.

    References
    ----------
    Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard
    conditions. Proc. Fifth Berkeley Symposium 1, 221-233.
    White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50,
    1-25.

    Examples
    --------
    >>> sandwich(np.eye(2) * 2.0, np.eye(2))
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    Einv = np.linalg.inv(information)
    V = Einv @ meat @ Einv
    return 0.5 * (V + V.T)


@dataclass
class GroupMoments:
    """What the robust computations need from one group.

    Parameters
    ----------
    patterns : fiml.MissingPatterns
        The group's data (complete data is one pattern).
    mu, Sigma : ndarray
        Model-implied moments at the estimates.
    delta : ndarray, shape (p* + p, q) or (p*, q)
        ``d[vech(Sigma), mu]/dtheta`` at the estimates. Without a mean
        structure (complete data only) it has p* rows; mu and mu1 are then the
        sample means and only the covariance part of scores and information
        is used, as lavaan does.
    mu1, Sigma1 : ndarray
        Unrestricted (h1) moments: sample moments (divisor N) or EM estimates.
    fixed_x : sequence of int
        Indices of exogenous observed covariates whose moments are fixed at
        their sample values (fixed.x); their moments are left out of the h1
        trace, as lavaan does.
    """

    patterns: fiml.MissingPatterns
    mu: np.ndarray
    Sigma: np.ndarray
    delta: np.ndarray
    mu1: np.ndarray
    Sigma1: np.ndarray
    fixed_x: tuple = ()

    def __post_init__(self):
        p = self.patterns.p
        ps = p * (p + 1) // 2
        self.delta = np.asarray(self.delta, dtype=float)
        if self.delta.shape[0] not in (ps, ps + p):
            raise ValueError(f"delta must have {ps + p} (or {ps}) rows; got {self.delta.shape[0]}")
        self.meanstructure = self.delta.shape[0] == ps + p
        if not self.meanstructure and self.patterns.K > 1:
            raise ValueError("incomplete data need a mean structure")
        self._m = slice(None) if self.meanstructure else slice(0, ps)
        self._cache = {}  # h0 quantities
        self._h1 = {}  # h1 quantities: shared with the baseline model (same data, same h1)
        r, c = fiml.vech_indices(p)
        x = np.zeros(p, dtype=bool)
        x[list(self.fixed_x)] = True
        keep = np.r_[~(x[r] & x[c]), ~x]
        self.h1_keep = keep[self._m]  # moments that are free in the h1 model

    @property
    def n(self) -> int:
        return self.patterns.n

    def _st(self, which: str):
        """Pattern inverses at the implied ("h0") or unrestricted ("h1") moments (cached)."""
        cache = self._cache if which == "h0" else self._h1
        if "st" not in cache:
            mu, S = (self.mu, self.Sigma) if which == "h0" else (self.mu1, self.Sigma1)
            cache["st"] = fiml.pattern_state(self.patterns, mu, S)
        return cache["st"]

    def moment_scores(self) -> np.ndarray:
        """Casewise scores w.r.t. the moments, at the implied moments."""
        st = self._st("h0")
        return fiml.casewise_scores(self.patterns, self.mu, self.Sigma, state=st)[:, self._m]

    def moment_hessian(self) -> np.ndarray:
        """Hessian of the log-likelihood w.r.t. the moments, at the implied moments."""
        st = self._st("h0")
        return fiml.hessian(self.patterns, self.mu, self.Sigma, state=st)[self._m, self._m]

    def moment_gradient(self) -> tuple:
        """(g_mu, symmetric matrix gradient) of the log-likelihood at the implied moments."""
        g_mu, G, _ = fiml.sym_gradient(self.patterns, self._st("h0"))
        return g_mu, G

    def scores(self) -> np.ndarray:
        """Casewise scores w.r.t. theta, n x q."""
        return self.moment_scores() @ self.delta

    def meat(self) -> np.ndarray:
        """``sum_i s_i s_i'`` of the theta scores, accumulated without the n x q array."""
        return fiml.score_crossprod(self.patterns, self.mu, self.Sigma, state=self._st("h0"),
                                    cols=self._m, right=self.delta)

    def h1_information(self) -> np.ndarray:
        """Observed h1 information (total), at the unrestricted moments (cached)."""
        if self._h1.get("A1") is None:
            H = fiml.hessian(self.patterns, self.mu1, self.Sigma1, state=self._st("h1"))
            self._h1["A1"] = -H[self._m, self._m]
        return self._h1["A1"]

    def h1_firstorder(self) -> np.ndarray:
        """First-order h1 information (total), at the unrestricted moments (cached)."""
        if self._h1.get("B1") is None:
            self._h1["B1"] = fiml.score_crossprod(self.patterns, self.mu1, self.Sigma1,
                                                  state=self._st("h1"), cols=self._m)
        return self._h1["B1"]


def meat(groups: list[GroupMoments]) -> np.ndarray:
    """``B = sum_i s_i s_i'`` over all cases of all groups (theta scores).

    Parameters
    ----------
    groups : list of GroupMoments
        One per group (:func:`mlr_groups`, or the FIML path's).

    Returns
    -------
    ndarray, shape (q, q)
        The total meat of the sandwich.

    References
    ----------
    Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard
    conditions. Proc. Fifth Berkeley Symposium 1, 221-233.
    White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50,
    1-25.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> B = meat(groups)
    >>> S = np.vstack([g.scores() for g in groups])
    >>> bool(np.allclose(B, S.T @ S))
    True
    """
    return sum(g.meat() for g in groups)


def yuan_bentler_mplus(groups: list[GroupMoments], information: np.ndarray, df: int,
                       B: np.ndarray | None = None) -> dict:
    """Scaling factor of the Yuan-Bentler (Mplus variant) test statistic.

    ``c = [sum_g tr(A1_g^-1 B1_g) - tr(E^-1 B)] / df`` with E the (total)
    observed information of the model and B the (total) casewise meat;
    A1_g and B1_g are the observed and first-order h1 information of group g, without the
    moments of fixed.x covariates.

    Parameters
    ----------
    groups : list of GroupMoments
        One per group (:func:`mlr_groups`, or the FIML path's).
    information : ndarray, shape (q, q)
        Total observed information E of the model (:func:`observed_information`).
    df : int
        Degrees of freedom of the test (NaN results when ``df <= 0``).
    B : ndarray, shape (q, q), optional
        Total meat (computed by :func:`meat` when omitted).

    Returns
    -------
    dict
        ``trace_h1``, ``trace_h0``, ``trace_ugamma`` (their difference) and
        ``scaling_factor`` (NaN unless positive).

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology 30,
    165-200.
    Asparouhov, T., & Muthen, B. (2005). Multivariate statistical modeling with survey data.
    Proceedings of the Federal Committee on Statistical Methodology Research Conference.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> E = observed_information(res.model, res.theta, groups)
    >>> yb = yuan_bentler_mplus(groups, E, int(res.fit_indices["df"]))
    >>> bool(yb["scaling_factor"] > 0)
    True
    """
    if df <= 0:
        return dict(trace_h1=np.nan, trace_h0=np.nan, trace_ugamma=np.nan, scaling_factor=np.nan)
    B = meat(groups) if B is None else B
    trace_h1 = 0.0
    for g in groups:
        k = g.h1_keep
        trace_h1 += float(np.trace(np.linalg.solve(g.h1_information()[np.ix_(k, k)],
                                                   g.h1_firstorder()[np.ix_(k, k)])))
    trace_h0 = float(np.trace(np.linalg.solve(information, B)))
    trace = trace_h1 - trace_h0
    c = trace / df
    return dict(trace_h1=trace_h1, trace_h0=trace_h0, trace_ugamma=trace,
                scaling_factor=c if c > 0 else np.nan)


def baseline_groups(groups: list[GroupMoments], mus, variances) -> list[GroupMoments]:
    """GroupMoments of the independence model (free means and variances).

    Its implied moments are linear in its parameters, so Delta is a selection
    matrix (variances -> diagonal of vech(Sigma), means -> mu); each group has
    its own parameters (columns). Without a mean structure the means are the
    sample means and not parameters; fixed.x covariates keep their sample
    covariance block and means, as in lavaan's baseline.

    Parameters
    ----------
    groups : list of GroupMoments
        The fitted model's groups (data and h1 moments are shared with the baseline).
    mus : sequence of array_like
        Estimated means of the baseline, one vector per group.
    variances : sequence of array_like
        Estimated variances of the baseline, one vector per group.

    Returns
    -------
    list of GroupMoments
        One per group, for the baseline model.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> ss = res.model.sample[0]
    >>> base = baseline_groups(groups, [ss.mean], [np.diag(ss.cov)])
    >>> base[0].delta.shape  # vech(Sigma) rows x (6 variances)
    (21, 6)
    """
    blocks, sigmas = [], []
    for g, var0 in zip(groups, variances):
        p = g.patterns.p
        r, c = fiml.vech_indices(p)
        ps = r.size
        x = np.zeros(p, dtype=bool)
        x[list(g.fixed_x)] = True
        free = np.flatnonzero(~x)
        D = np.zeros((ps + p, 2 * free.size))
        diag_rows = np.flatnonzero(r == c)  # vech position of (i, i), i = 0..p-1
        D[diag_rows[free], np.arange(free.size)] = 1.0
        D[ps + free, free.size + np.arange(free.size)] = 1.0
        blocks.append(D if g.meanstructure else D[:ps, : free.size])
        S0 = np.diag(np.asarray(var0, dtype=float))
        S0[np.ix_(x, x)] = g.Sigma1[np.ix_(x, x)]
        sigmas.append(S0)
    width = sum(D.shape[1] for D in blocks)
    out, off = [], 0
    for g, D, mu0, S0 in zip(groups, blocks, mus, sigmas):
        Dg = np.zeros((D.shape[0], width))
        Dg[:, off:off + D.shape[1]] = D
        off += D.shape[1]
        b = GroupMoments(g.patterns, np.asarray(mu0), S0, Dg, g.mu1, g.Sigma1, g.fixed_x)
        b._h1 = g._h1  # computed once, whichever model asks first
        out.append(b)
    return out


def block_diag(mats: list[np.ndarray]) -> np.ndarray:
    """Block-diagonal matrix (tiny helper; avoids scipy.linalg import cost).

    Parameters
    ----------
    mats : list of ndarray
        2-d blocks (any shapes), placed along the diagonal in order.

    Returns
    -------
    ndarray
        ``sum rows x sum cols``, zeros off the blocks.

    Examples
    --------
    >>> block_diag([np.ones((1, 1)), 2 * np.ones((1, 2))])
    array([[1., 0., 0.],
           [0., 2., 2.]])
    """
    n = sum(m.shape[0] for m in mats)
    k = sum(m.shape[1] for m in mats)
    out = np.zeros((n, k))
    i = j = 0
    for m in mats:
        out[i:i + m.shape[0], j:j + m.shape[1]] = m
        i += m.shape[0]
        j += m.shape[1]
    return out


def linear_model_information(groups: list[GroupMoments]) -> np.ndarray:
    """Total observed information ``-sum_g Delta_g' H_g Delta_g`` at the implied moments.

    Exact for models whose moments are linear in theta (e.g. the baseline).

    Parameters
    ----------
    groups : list of GroupMoments
        One per group (:func:`mlr_groups`, or the FIML path's).

    Returns
    -------
    ndarray, shape (q, q)
        The total observed information of theta (without second derivatives of the moments).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> linear_model_information(groups).shape
    (13, 13)
    """
    return -sum(g.delta.T @ g.moment_hessian() @ g.delta for g in groups)


# --------------------------------------------------------------------------
# robust fit indices
# --------------------------------------------------------------------------

def ml_discrepancy(S, m, Sigma, mu) -> float:
    """Complete-data ML discrepancy F with a mean structure.

    ``log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)``

    Parameters
    ----------
    S : ndarray, shape (p, p)
        Saturated (sample or EM) covariance matrix.
    m : array_like, shape (p,)
        Saturated means.
    Sigma : ndarray, shape (p, p)
        Model-implied covariance matrix.
    mu : array_like, shape (p,)
        Model-implied means.

    Returns
    -------
    float
        F (0 when the moments agree).

    References
    ----------
    Joreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
    analysis. Psychometrika 34, 183-202.

    Examples
    --------
    >>> ml_discrepancy(np.eye(2), np.zeros(2), np.eye(2), np.zeros(2))
    0.0
    """
    p = S.shape[0]
    Si = np.linalg.inv(Sigma)
    d = np.asarray(m) - np.asarray(mu)
    return float(np.linalg.slogdet(Sigma)[1] + np.trace(S @ Si) - np.linalg.slogdet(S)[1] - p + d @ Si @ d)


def complete_information(Sigma, mu) -> np.ndarray:
    """Per-case normal information of ``[vech(Sigma), mu]``.

    ``blockdiag(1/2 D'(Sigma^-1 x Sigma^-1) D, Sigma^-1)`` with D the duplication matrix
    (expected = observed at the sample moments); Wc of Zhang & Savalei (2022) at the EM
    moments.

    Parameters
    ----------
    Sigma : ndarray, shape (p, p)
        Covariance matrix.
    mu : array_like, shape (p,)
        Mean vector (the information does not depend on it).

    Returns
    -------
    ndarray, shape (p(p+1)/2 + p, p(p+1)/2 + p)
        The information per case.

    References
    ----------
    Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following FIML and TS
    estimation with missing data. Psychological Methods.
    Savalei, V., & Rosseel, Y. (2022). Computational options for standard errors and test
    statistics with incomplete normal and nonnormal data in SEM. Structural Equation
    Modeling 29, 163-181.

    Examples
    --------
    >>> complete_information(np.eye(1), np.zeros(1))
    array([[0.5, 0. ],
           [0. , 1. ]])
    """
    Si = np.linalg.inv(Sigma)
    D = fiml.duplication_matrix(Si.shape[0])
    return block_diag([0.5 * D.T @ np.kron(Si, Si) @ D, Si])


def fiml_corrected(groups: list[GroupMoments], df: int, baseline: list[GroupMoments],
                   *, version: str = "V3") -> dict:
    """FIML-corrected statistics for the robust RMSEA/CFI under missing data.

    Zhang & Savalei (2022): the complete-data ML statistic of the FIML
    estimates against the EM moments, ``XX3 = sum_g n_g F_ML``, and a scaling
    factor from ``U = Wm - Wm Delta E^-1 Delta' Wm`` with Wm, Jm the observed
    and first-order h1 information under missingness and Wc the complete-data
    information at the EM moments:
    V3 (scaled test): ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)``, Gamma = Wm^-1 Jm Wm^-1;
    V6: ``k = tr(Wc Wm^-1 U Wm^-1)``. All quantities per case with group
    weights n_g / N. As in lavaan 0.6-14, E (model and baseline) is the
    h1-based information ``Delta' Wm Delta`` with Wm at the EM moments.

    Parameters
    ----------
    groups : list of GroupMoments
        The fitted model.
    df : int
        Degrees of freedom of the model.
    baseline : list of GroupMoments
        The fitted independence model.
    version : {"V3", "V6"}, default "V3"
        lavaan's V3 (with a scaled test, estimator MLR) or V6 (without, estimator ML).

    Returns
    -------
    dict
        ``XX3``, ``c3`` (model), ``XX3_null``, ``c3_null``, ``df_null`` (baseline).

    References
    ----------
    Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following FIML and TS
    estimation with missing data. Psychological Methods.
    Savalei, V., & Rosseel, Y. (2022). Computational options for standard errors and test
    statistics with incomplete normal and nonnormal data in SEM. Structural Equation
    Modeling 29, 163-181.
    """
    if version not in ("V3", "V6"):
        raise ValueError("version must be 'V3' or 'V6'")
    N = float(sum(g.n for g in groups))
    fg = [g.n / N for g in groups]
    Wm = [g.h1_information() / g.n for g in groups]
    Wmi = [np.linalg.inv(w) for w in Wm]
    Jm = [g.h1_firstorder() / g.n for g in groups]
    Wc = [complete_information(g.Sigma1, g.mu1) for g in groups]
    Wc_all = block_diag([f * w for f, w in zip(fg, Wc)])
    Wm_all = block_diag([f * w for f, w in zip(fg, Wm)])
    Wmi_all = block_diag([w / f for f, w in zip(fg, Wmi)])
    Gamma_all = block_diag([wi @ j @ wi / f for f, wi, j in zip(fg, Wmi, Jm)])

    X = Wmi_all @ Wc_all @ Wmi_all

    def k_of(delta_all):
        WD = Wm_all @ delta_all
        U = Wm_all - WD @ np.linalg.solve(delta_all.T @ WD, WD.T)
        if version == "V3":  # tr(U X U Gamma) without the fourth product
            return float(np.sum((U @ X) * (U @ Gamma_all).T))
        return float(np.sum(X * U))

    def xx(gs):
        return sum(g.n * ml_discrepancy(g.Sigma1, g.mu1, g.Sigma, g.mu) for g in gs)

    delta_all = np.vstack([g.delta for g in groups])  # q shared across groups
    XX3 = xx(groups)
    c3 = k_of(delta_all) / df if df > 0 else np.nan
    dB = np.vstack([g.delta for g in baseline])
    df0 = sum(g.patterns.p * (g.patterns.p - 1) // 2 for g in groups)
    XX3_0 = xx(baseline)
    c3_0 = k_of(dB) / df0
    return dict(XX3=XX3, c3=c3, XX3_null=XX3_0, c3_null=c3_0, df_null=df0)


# --------------------------------------------------------------------------
# model level
# --------------------------------------------------------------------------

def _ram_cells(model, g):
    """Free cells of the RAM matrices of group g from the parameter table.

    Returns ``(A rows, A cols, A theta), (S rows, S cols, S theta), (m rows, m theta)``
    with the mapping of :mod:`analysis.sem.model` (``=~``: A[indicator, factor],
    ``~``: A[lhs, rhs], ``~~``: S[lhs, rhs], ``~1``: m[lhs]).
    """
    idx = {v: i for i, v in enumerate(model.all_names)}
    pt = model.partable
    pt = pt[(pt["group"] == g) & (pt["free"] >= 0)]
    A, S, m = ([], [], []), ([], [], []), ([], [])
    for r in pt.itertuples():
        if r.op == "=~":
            cells = (A, idx[r.rhs], idx[r.lhs])
        elif r.op == "~":
            cells = (A, idx[r.lhs], idx[r.rhs])
        elif r.op == "~~":
            cells = (S, idx[r.lhs], idx[r.rhs])
        elif r.op == "~1":
            m[0].append(idx[r.lhs])
            m[1].append(r.free)
            continue
        else:
            continue
        tgt, i, j = cells
        tgt[0].append(i)
        tgt[1].append(j)
        tgt[2].append(r.free)
    return tuple(tuple(np.asarray(a, dtype=int) for a in t) for t in (A, S, m))


def _phi_gradient(model, theta, g, W, gmu, cells):
    """Gradient w.r.t. theta of ``phi = tr(W Sigma(theta)) + gmu' mu(theta)``.

    RAM form Sigma = G S G', mu = G m, G = F (I - A)^-1 (McArdle & McDonald
    1984): dphi/dA = 2 G'WG S B' + (G'gmu)(Bm)', dphi/dS = G'WG (twice off the
    diagonal), dphi/dm = G'gmu. Equals ``Delta' [vech-gradient]`` at a
    fraction of the cost of the full Jacobian.
    """
    A, S, m = model.matrices(theta, g)
    B = np.linalg.inv(np.eye(A.shape[0]) - A)
    G = B[: model.p]
    GWG = G.T @ W @ G
    dA = 2.0 * GWG @ S @ B.T
    if gmu is not None:
        Ggm = G.T @ gmu
        dA += np.outer(Ggm, B @ m)
    out = np.zeros(theta.size)
    (ar, ac, at), (sr, sc, st), (mr, mt) = cells
    np.add.at(out, at, dA[ar, ac])
    np.add.at(out, st, np.where(sr == sc, 1.0, 2.0) * GWG[sr, sc])
    if gmu is not None and mr.size:
        np.add.at(out, mt, Ggm[mr])
    return out


def observed_information(model, theta, groups: list[GroupMoments]) -> np.ndarray:
    """Observed information of theta (total): minus the Hessian of the log-likelihood.

    ``-sum_g [Delta_g' H_g Delta_g + sum_k (dL/dm_k) d2 m_k / dtheta dtheta']``
    with the analytic moment Hessian H_g; the second term is the Hessian of
    ``phi(theta) = g_hat' m(theta)`` (g_hat fixed), by central differences of
    its analytic gradient (no data involved). This is lavaan's
    ``information = "observed"`` with ``observed.information = "hessian"``.

    Parameters
    ----------
    model : SEMModel
        The model.
    theta : ndarray
        Free parameters at the estimates.
    groups : list of GroupMoments
        One per group (:func:`mlr_groups`, or the FIML path's).

    Returns
    -------
    ndarray, shape (q, q)
        The symmetric total observed information.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.
    Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal
    and nonnormal data. Psychological Methods 15, 352-367.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> E = observed_information(res.model, res.theta, groups)
    >>> bool(np.allclose(E, E.T)), bool(np.linalg.eigvalsh(E)[0] > 0)
    (True, True)
    """
    theta = np.asarray(theta, dtype=float)
    q = theta.size
    info = -sum(g.delta.T @ g.moment_hessian() @ g.delta for g in groups)
    terms = []
    for gi, g in enumerate(groups):
        g_mu, Gs = g.moment_gradient()
        terms.append((Gs, g_mu if g.meanstructure else None, _ram_cells(model, gi)))
    J = np.zeros((q, q))
    for j in range(q):
        h = 1e-5 * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        for gi, (W, gmu, cells) in enumerate(terms):
            J[:, j] += (_phi_gradient(model, tp, gi, W, gmu, cells)
                        - _phi_gradient(model, tm, gi, W, gmu, cells)) / (2.0 * h)
    info = info - 0.5 * (J + J.T)
    return 0.5 * (info + info.T)


def robust_indices(X2, df, c, X2_0, df_0, c_0, N, G=1) -> dict:
    """lavaan's cfi.robust, tli.robust, rmsea.robust and its 90% CI.

    X2, X2_0 are the unscaled statistics of the model and the baseline
    (complete data) or the FIML-corrected ones (:func:`fiml_corrected`), c and
    c_0 their scaling factors.

    Parameters
    ----------
    X2, df, c : float
        Statistic, degrees of freedom and scaling factor of the model.
    X2_0, df_0, c_0 : float
        The same for the baseline model.
    N : float
        Total sample size.
    G : int, default 1
        Number of groups.

    Returns
    -------
    dict
        ``cfi_robust``, ``tli_robust``, ``rmsea_robust``, ``rmsea_ci_lower_robust``,
        ``rmsea_ci_upper_robust`` (NaN unless c is finite and positive).

    References
    ----------
    Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample
    performance of two nonnormality corrections for RMSEA. MBR 47, 904-930.
    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
    nonnormality. MBR 49, 460-470.

    Examples
    --------
    >>> r = robust_indices(85.3055, 24, 0.979042, 918.852, 36, 1.0, 301)
    >>> round(r["rmsea_robust"], 5)
    0.0925
    """
    ok = np.isfinite(c) and c > 0
    out = dict(cfi_robust=cfi(X2, df, X2_0, df_0, c, c_0) if ok else np.nan,
               tli_robust=tli(X2, df, X2_0, df_0, c, c_0) if ok else np.nan,
               rmsea_robust=rmsea(X2, df, N, c, G) if ok else np.nan)
    lo, hi = rmsea_ci(X2 / c, df, N, c, G) if ok else (np.nan, np.nan)
    out.update(rmsea_ci_lower_robust=lo, rmsea_ci_upper_robust=hi)
    return out


def scaled_measures(groups, information, B, df, chisq, N, G, bgroups, bchisq, bdf) -> dict:
    """Yuan-Bentler (Mplus) scaled statistics of the model and the baseline.

    Parameters
    ----------
    groups : list of GroupMoments
        One per group (:func:`mlr_groups`, or the FIML path's).
    information : ndarray, shape (q, q)
        Total observed information of the model.
    B : ndarray, shape (q, q)
        Total meat of the model.
    df : int
        Degrees of freedom of the model.
    chisq : float
        Unscaled statistic of the model.
    N : float
        Total sample size (unused; kept for a uniform call).
    G : int
        Number of groups (unused; kept for a uniform call).
    bgroups : list of GroupMoments
        The baseline model (:func:`baseline_groups`).
    bchisq : float
        Unscaled statistic of the baseline.
    bdf : int
        Degrees of freedom of the baseline.

    Returns
    -------
    dict
        ``chisq_scaled``, ``scaling_factor``, ``pvalue_scaled``, ``baseline_chisq_scaled``,
        ``baseline_scaling_factor``.

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology 30,
    165-200.
    Asparouhov, T., & Muthen, B. (2005). Multivariate statistical modeling with survey data.
    Proceedings of the Federal Committee on Statistical Methodology Research Conference.
    """
    yb = yuan_bentler_mplus(groups, information, df, B)
    c = yb["scaling_factor"]
    ybb = yuan_bentler_mplus(bgroups, linear_model_information(bgroups), bdf)
    c0 = ybb["scaling_factor"]
    scaled = chisq / c if np.isfinite(c) else np.nan
    return dict(chisq_scaled=scaled, scaling_factor=c,
                pvalue_scaled=float(stats.chi2.sf(scaled, df)) if np.isfinite(scaled) else np.nan,
                baseline_chisq_scaled=bchisq / c0, baseline_scaling_factor=c0)


def mlr_groups(model, theta) -> list[GroupMoments]:
    """GroupMoments of a complete-data fit (sample moments as the h1 moments).

    Parameters
    ----------
    model : SEMModel
        A model fitted from raw data (each ``model.sample[g].data`` is set).
    theta : ndarray
        Free parameters at the estimates.

    Returns
    -------
    list of GroupMoments
        One per group; without a mean structure Delta has only the covariance rows and mu
        is the sample mean.

    Raises
    ------
    ValueError
        When the model was fitted from moments (no raw data).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> groups = mlr_groups(res.model, res.theta)
    >>> len(groups), groups[0].delta.shape
    (1, (21, 13))
    """
    groups = []
    ps = model.p * (model.p + 1) // 2
    for g, ss in enumerate(model.sample):
        if ss.data is None:
            raise ValueError("MLR needs the raw data (fit from a DataFrame, not from moments)")
        Sigma, mu = model.sigma_mu(theta, g)
        D = model.delta(theta, g)
        if not model.meanstructure:
            D, mu = D[:ps], ss.mean
        fx = tuple(model.ov_names.index(v) for v in getattr(model, "ov_x", []))
        groups.append(GroupMoments(fiml.MissingPatterns(ss.data), mu, Sigma, D, ss.mean, ss.cov,
                                   fixed_x=fx))
    return groups


def apply_mlr(res):
    r"""Turn a complete-data ML :class:`~analysis.sem.result.SEMResult` into lavaan's MLR.

    Replaces the vcov/SEs by the Huber-White sandwich with the observed
    information and adds ``chisq_scaled``, ``scaling_factor``,
    ``pvalue_scaled``, ``baseline_chisq_scaled``, ``baseline_scaling_factor``,
    ``cfi_robust``, ``tli_robust``, ``rmsea_robust`` and its CI to
    ``fit_indices``. Point estimates and the unscaled chisq are ML's.

    Parameters
    ----------
    res : SEMResult
        A complete-data ML fit from raw data.

    Returns
    -------
    SEMResult
        A copy with ``estimator="MLR"``, robust ``vcov`` and ``estimates`` and the scaled and
        robust fit indices.

    References
    ----------
    Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard
    conditions. Proc. Fifth Berkeley Symposium 1, 221-233.
    White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50,
    1-25.
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology 30,
    165-200.
    Asparouhov, T., & Muthen, B. (2005). Multivariate statistical modeling with survey data.
    Proceedings of the Federal Committee on Statistical Methodology Research Conference.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
    ...               "speed =~ x7 + x8 + x9", holzinger39.get_data(), estimator="MLR")
    >>> round(float(res.fit_indices["chisq_scaled"]), 3)
    87.132
    """
    import dataclasses

    import pandas as pd


    model, theta = res.model, np.asarray(res.theta, dtype=float)
    groups = mlr_groups(model, theta)
    info = observed_information(model, theta, groups)
    B = meat(groups)
    msgs = list(res.warnings)
    try:
        vcov = sandwich(info, B)
    except np.linalg.LinAlgError:
        vcov = np.full_like(info, np.nan)
        msgs.append("observed information matrix is singular: robust SEs not computed")
    std_se = "se_std" in res.estimates.columns and res.estimates["se_std"].notna().any()
    est = build_estimates(model, theta, vcov, std_se=bool(std_se and np.isfinite(vcov).all()))
    fi = res.fit_indices.copy()
    N, G = float(fi["ntotal"]), model.n_groups
    df, chisq = fi["df"], fi["chisq"]
    bgroups = baseline_groups(groups, [ss.mean for ss in model.sample],
                              [np.diag(ss.cov) for ss in model.sample])
    sc = scaled_measures(groups, info, B, df, chisq, N, G, bgroups,
                         fi["baseline_chisq"], fi["baseline_df"])
    rb = robust_indices(chisq, df, sc["scaling_factor"], fi["baseline_chisq"],
                        fi["baseline_df"], sc["baseline_scaling_factor"], N, G)
    fi = pd.concat([fi, pd.Series({**sc, **rb}, dtype=float)])
    return dataclasses.replace(res, vcov=vcov, estimates=est, fit_indices=fi, warnings=msgs,
                               estimator="MLR")
