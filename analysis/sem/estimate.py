"""Maximum-likelihood estimation from sample moments: objective, analytic gradient, expected
information and a Fisher-scoring optimiser with line search (L-BFGS-B as fallback).

The discrepancy is lavaan's (likelihood = "normal", sample covariance with divisor N)::

    F(theta) = sum_g (N_g / N) [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
                                + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]

so that the likelihood-ratio statistic is ``chisq = N F`` (lavaan's fmin is F / 2). The
expected Hessian of F is ``H = sum_g (N_g/N) [tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b)
+ 2 dmu_a' Sigma^-1 dmu_b]``; ``vcov = 2 / N * H^-1`` (expected information, lavaan's
default for ML).

Reference: Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood
factor analysis. Psychometrika 34, 183-202; Lee, S.-Y. & Jennrich, R. I. (1979). A study
of algorithms for covariance structure analysis with specific comparisons using factor
analysis. Psychometrika 44, 99-113 (Fisher scoring / Gauss-Newton for SEM).

Example
-------
>>> theta, info = fit_ml(model)            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize as so

from .converge import polish

__all__ = ["FitInfo", "ml_value", "ml_value_grad_info", "fit_ml", "group_weights", "scoring_step"]


def _si_dS_times(Si, dS, mats):
    """Stacked products Si dS_k X for X in ``mats`` (dS_k, Si symmetric): two GEMMs
    instead of q small batched matmuls."""
    q, p, _ = dS.shape
    Z = dS.reshape(q * p, p) @ Si  # rows of dS_k Si; its transpose is Si dS_k
    Zt = Z.reshape(q, p, p).transpose(0, 2, 1).reshape(q * p, p)
    out = Zt @ np.hstack(mats)
    return [out[:, k * p:(k + 1) * p].reshape(q, -1) for k in range(len(mats))]


def group_weights(model, samples=None):
    """Group weights ``N_g / N`` of the discrepancy and the total sample size N.

    Parameters
    ----------
    model : SEMModel
        The model; its own sample moments are used unless ``samples`` is given.
    samples : list of SampleStats, optional
        Moments of each group (e.g. of a resample).

    Returns
    -------
    weights : ndarray, shape (G,)
        ``N_g / N``.
    N : float
        Total sample size.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3", holzinger39.get_data(), group="school")
    >>> w, N = group_weights(res.model)
    >>> np.round(w, 4), float(N)
    (array([0.5183, 0.4817]), 301.0)
    """
    samples = samples or model.sample
    n = np.array([s.n for s in samples], dtype=float)
    return n / n.sum(), n.sum()


def _logdet_inv(Sigma):
    """(log|Sigma|, Sigma^-1) or None when Sigma is not positive definite."""
    try:
        c = sla.cho_factor(Sigma, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return None
    logdet = 2.0 * np.log(np.diag(c[0])).sum()
    inv = sla.cho_solve(c, np.eye(Sigma.shape[0]), check_finite=False)
    return logdet, inv


def ml_value(model, theta, samples=None) -> float:
    """F(theta) (lavaan's ML discrepancy times 2); +inf where Sigma is not positive definite.

    ``F = sum_g (N_g / N) [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
    + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]`` (mean term only with a mean structure).

    Parameters
    ----------
    model : SEMModel
        The model.
    theta : ndarray
        Free parameters.
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).

    Returns
    -------
    float
        F; ``chisq = N F`` at the estimates.

    References
    ----------
    Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
    analysis. Psychometrika 34, 183-202.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> F = ml_value(res.model, res.theta)
    >>> bool(np.isclose(301 * F, res.fit_indices["chisq"]))
    True
    """
    samples = samples or model.sample
    w, _ = group_weights(model, samples)
    F = 0.0
    for g, ss in enumerate(samples):
        Sigma, mu = model.sigma_mu(theta, g)
        r = _logdet_inv(Sigma)
        if r is None or not np.isfinite(r[0]):
            return np.inf
        logdet, Si = r
        Fg = logdet + np.sum(Si * ss.cov) - ss.logdet - model.p
        if model.meanstructure:
            d = ss.mean - mu
            Fg += d @ Si @ d
        F += w[g] * Fg
    return float(F)


def _ml_value_grad_fast(model, theta, samples):
    """F and dF/dtheta without forming dSigma: for a RAM cell the gradient is an element of
    G' M H' (A cells) or G' M G (S cells), M = dF/dSigma (O(m^2 p) instead of O(q p^2))."""
    w, _ = group_weights(model, samples)
    q = model.n_free
    F, grad = 0.0, np.zeros(q)
    for g, ss in enumerate(samples):
        A, S, m, B, G = model._core(theta, g)
        Sigma = G @ S @ G.T
        r = _logdet_inv(Sigma)
        if r is None:
            return np.inf, np.full(q, np.nan), None
        logdet, Si = r
        SiS = Si @ ss.cov
        Fg = logdet + np.trace(SiS) - ss.logdet - model.p
        M = Si - SiS @ Si
        if model.meanstructure:
            mu = G @ m
            d = ss.mean - mu
            Sid = Si @ d
            Fg += d @ Sid
            M = M - np.outer(Sid, Sid)
        F += w[g] * Fg
        gm = model._mats[g]
        GM = G.T @ M  # (m, p)
        rA, cA, kA = gm.A_idx
        if len(rA):
            Ht = B @ S @ G.T  # (m, p)
            gA = 2.0 * np.einsum("ep,ep->e", GM[rA], Ht[cA])
            if model.meanstructure:
                gA += -2.0 * (G.T @ Sid)[rA] * (B @ m)[cA]
            grad += w[g] * np.bincount(kA, weights=gA, minlength=q)
        rS, cS, kS = gm.S_idx
        if len(rS):
            Y = GM @ G
            gS = Y[rS, cS] * np.where(rS != cS, 2.0, 1.0)
            grad += w[g] * np.bincount(kS, weights=gS, minlength=q)
        rm, km = gm.m_idx
        if len(rm) and model.meanstructure:
            grad += w[g] * np.bincount(km, weights=-2.0 * (G.T @ Sid)[rm], minlength=q)
    return float(F), grad, None


def ml_value_grad_info(model, theta, samples=None, info: bool = True):
    """F, dF/dtheta and (optionally) the expected Hessian H of F at theta.

    ``H_ab = sum_g (N_g/N) [tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b) + 2 dmu_a' Sigma^-1 dmu_b]``;
    ``vcov = 2 / N * H^-1`` (lavaan's expected information). Without ``info`` the gradient is
    computed from the RAM matrices without forming dSigma (faster).

    Parameters
    ----------
    model : SEMModel
        The model.
    theta : ndarray
        Free parameters.
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).
    info : bool, default True
        Also compute H.

    Returns
    -------
    F : float
        The discrepancy (+inf where Sigma is not positive definite).
    grad : ndarray, shape (q,)
        dF/dtheta (NaN where F is infinite).
    H : ndarray, shape (q, q), or None
        Expected Hessian of F (None when ``info`` is False).

    References
    ----------
    Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
    analysis. Psychometrika 34, 183-202.
    Lee, S.-Y., & Jennrich, R. I. (1979). A study of algorithms for covariance structure
    analysis with specific comparisons using factor analysis. Psychometrika 44, 99-113.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> F, g, Hm = ml_value_grad_info(res.model, res.theta)
    >>> bool(np.abs(g).max() < 1e-6), Hm.shape
    (True, (13, 13))
    """
    samples = samples or model.sample
    if not info:
        return _ml_value_grad_fast(model, theta, samples)
    w, _ = group_weights(model, samples)
    q = model.n_free
    F, grad = 0.0, np.zeros(q)
    H = np.zeros((q, q)) if info else None
    for g, ss in enumerate(samples):
        Sigma, mu = model.sigma_mu(theta, g)
        r = _logdet_inv(Sigma)
        if r is None:
            return np.inf, np.full(q, np.nan), H
        logdet, Si = r
        loc, dS, dmu = model.jacobian_local(theta, g)
        ql = len(loc)
        SiS = Si @ ss.cov
        Fg = logdet + np.trace(SiS) - ss.logdet - model.p
        M = Si - SiS @ Si  # dF/dSigma (without the mean part)
        dS2 = dS.reshape(ql, -1)
        if model.meanstructure:
            d = ss.mean - mu
            Sid = Si @ d
            Fg += d @ Sid
            M = M - np.outer(Sid, Sid)
            grad[loc] += w[g] * (dS2 @ M.ravel() - 2.0 * dmu @ Sid)
        else:
            grad[loc] += w[g] * (dS2 @ M.ravel())
        F += w[g] * Fg
        if info:
            # tr(Si dS_a Si dS_b) = vec(dS_a)' vec(Si dS_b Si): one (q, p^2) product each
            (L,) = _si_dS_times(Si, dS, [Si])
            Hg = dS2 @ L.T
            if model.meanstructure:
                Hg += 2.0 * (dmu @ Si @ dmu.T)
            H[np.ix_(loc, loc)] += w[g] * Hg
    return float(F), grad, H


@dataclass
class FitInfo:
    """How an optimisation ended, as returned by :func:`fit_ml` and :func:`fit_newton`.

    Attributes
    ----------
    converged : bool
        Whether the convergence criterion was met.
    iterations : int
        Iterations used (Fisher scoring or quasi-Newton, plus any L-BFGS-B fallback).
    fmin : float
        The discrepancy F at the returned theta.
    message : str
        How it stopped (e.g. ``"converged (Newton decrement)"``).
    method : str
        ``"fisher"``, ``"newton"`` or ``"lbfgs"`` (the method that produced the result).
    """
    converged: bool
    iterations: int
    fmin: float
    message: str
    method: str


def scoring_step(model, theta, samples=None, fixed_info=None, observed: bool = False):
    """One Newton or Fisher-scoring step at ``theta``: ``(F, step, decrement)``, for polishing.

    ``step = -H^-1 g``, ``decrement = g' H^-1 g``, with ``H`` the exact (observed) Hessian
    of F where ``observed`` is set, the model has no mean structure and that Hessian is
    positive definite (Newton: quadratic convergence), else the expected information or the
    Cholesky factor ``fixed_info`` (scoring: linear convergence). ``F`` is ``inf`` where the
    implied covariance is not positive definite. Used with
    :func:`analysis.sem.converge.polish`.

    Parameters
    ----------
    model : SEMModel
    theta : ndarray
        Current free-parameter values.
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).
    fixed_info : tuple, optional
        ``scipy.linalg.cho_factor`` of a fixed expected Hessian (chord method).
    observed : bool
        Newton with the observed Hessian where it exists and is positive definite.

    Returns
    -------
    F : float
        ML discrepancy at ``theta`` (``inf`` where the implied covariance is not PD).
    step : ndarray
        The step to add to ``theta`` (zeros where none could be computed).
    decrement : float
        Newton decrement ``g' H^-1 g`` (``nan`` where no step could be computed).
    """
    if observed and fixed_info is None and not model.meanstructure:
        out = ml_observed_hessian(model, theta, samples)
        if out is not None and np.isfinite(out[0]):
            F, g, H = out
            try:
                step = -sla.cho_solve(sla.cho_factor(H, check_finite=False), g,
                                      check_finite=False)
                return F, step, float(-g @ step)
            except (np.linalg.LinAlgError, ValueError):
                pass
    F, g, H = ml_value_grad_info(model, theta, samples, info=fixed_info is None)
    if not np.isfinite(F):
        return np.inf, np.zeros_like(theta), np.nan
    try:
        c = fixed_info if fixed_info is not None else sla.cho_factor(
            H + 1e-12 * np.eye(len(H)) * np.trace(H) / max(len(H), 1), check_finite=False)
        step = -sla.cho_solve(c, g, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return F, np.zeros_like(theta), np.nan
    return F, step, float(-g @ step)


def fit_ml(model, start=None, samples=None, max_iter: int = 500, tol: float = 1e-9,
           fixed_info=None) -> tuple:
    """Minimise F by Fisher scoring (expected-information Newton steps with backtracking).

    Parameters
    ----------
    model : SEMModel
    start : ndarray, optional
        Starting values (default ``model.theta_start``); a warm start (e.g. full-sample
        estimates for a bootstrap resample) typically converges in 3-6 steps.
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).
    max_iter : int
    tol : float
        Convergence when the Newton decrement g' H^-1 g falls below ``tol**2`` or the
        relative decrease of F is below 1e-15.
    fixed_info : tuple, optional
        ``scipy.linalg.cho_factor`` of a fixed expected Hessian (chord method): for
        resamples close to the full-sample estimates, the information at those estimates
        serves every step and only gradients are evaluated.

    Returns
    -------
    theta : ndarray
    info : FitInfo
    """
    theta = np.array(model.theta_start if start is None else start, dtype=float)
    want_info = fixed_info is None
    F, g, H = ml_value_grad_info(model, theta, samples, info=want_info)
    if not np.isfinite(F):
        # start outside the admissible region: fall back to the model's own start
        theta = np.array(model.theta_start, dtype=float)
        want_info, fixed_info = True, None
        F, g, H = ml_value_grad_info(model, theta, samples)
        if not np.isfinite(F):
            return theta, FitInfo(False, 0, np.inf, "implied covariance at start values is not "
                                  "positive definite", "fisher")
    it = 0
    converged = False
    msg = "maximum number of iterations reached"
    for it in range(1, max_iter + 1):
        try:
            c = fixed_info if fixed_info is not None else sla.cho_factor(
                H + 1e-12 * np.eye(len(H)) * np.trace(H) / max(len(H), 1), check_finite=False)
            step = -sla.cho_solve(c, g, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            if H is None:
                _, _, H = ml_value_grad_info(model, theta, samples)
            step = -np.linalg.lstsq(H, g, rcond=None)[0]
        dec = -g @ step
        if not np.isfinite(dec):
            msg = "non-finite gradient"
            break
        if dec < tol**2:
            converged = True
            msg = "converged (Newton decrement)"
            break
        t = 1.0
        while True:
            Fn = ml_value(model, theta + t * step, samples)
            if Fn <= F - 1e-4 * t * dec:
                break
            t *= 0.5
            if t < 1e-10:
                break
        if t < 1e-10:
            msg = "line search failed"
            break
        theta = theta + t * step
        Fold = F
        F, g, H = ml_value_grad_info(model, theta, samples, info=want_info)
        if abs(Fold - F) <= 1e-15 * max(1.0, abs(F)) and t == 1.0:
            converged = True
            msg = "converged (objective)"
            break
    if converged:
        # polish to the floating-point limit: the stopping point above depends on the BLAS
        # kernel's rounding; the polished one does not (analysis.sem.converge)
        # (Newton with the observed Hessian where there is one, else up to 50 scoring steps)
        newton = fixed_info is None and not model.meanstructure
        theta, extra = polish(theta, lambda th: scoring_step(model, th, samples, fixed_info,
                                                             observed=newton),
                              max_steps=10 if newton else 50, shrink=0.5 if newton else 0.7,
                              floor=1e-28)  # F is per case: 1e-28 is ~1e-14 relative in theta
        return theta, FitInfo(True, it + extra, ml_value(model, theta, samples), msg, "fisher")
    # fallback: quasi-Newton with the analytic gradient
    def fun(th):
        v, gr, _ = ml_value_grad_info(model, th, samples, info=False)
        if not np.isfinite(v):
            return 1e10, np.zeros_like(th)
        return v, gr

    res = so.minimize(fun, theta, jac=True, method="L-BFGS-B",
                      options=dict(maxiter=10 * max_iter, ftol=1e-15, gtol=1e-9))
    F2, g2, H2 = ml_value_grad_info(model, res.x, samples)
    ok = False
    if np.isfinite(F2):
        try:
            dec = g2 @ np.linalg.solve(H2, g2)
            ok = dec < 1e-10
        except np.linalg.LinAlgError:
            ok = bool(np.max(np.abs(g2)) < 1e-6)
    theta_out = res.x if (np.isfinite(F2) and F2 <= F) else theta
    extra = 0
    if ok:  # polish as above: L-BFGS-B stops ~1e-9 from the optimum, path-dependently
        newton = fixed_info is None and not model.meanstructure
        theta_out, extra = polish(theta_out, lambda th: scoring_step(
            model, th, samples, fixed_info, observed=newton), max_steps=10 if newton else 50,
            shrink=0.5 if newton else 0.7, floor=1e-28)
        F2 = ml_value(model, theta_out, samples)
    return theta_out, FitInfo(ok, it + res.nit + extra, min(F, F2), msg if not ok else
                              "converged (L-BFGS-B after Fisher scoring)", "lbfgs")


def ml_observed_hessian(model, theta, samples=None):
    """F, gradient and the exact (observed) Hessian of F; covariance structures only.

    Beyond the expected part, the Hessian has the residual term
    ``2 tr(Sigma^-1 dSigma_b P dSigma_a)`` with ``P = Sigma^-1 (S - Sigma) Sigma^-1`` and
    ``tr(M d2Sigma_ab)`` (``M = -P``), where the second derivatives of the RAM form
    ``Sigma = F B S B' F'`` follow from ``dB = B dA B``.

    Parameters
    ----------
    model : SEMModel
        The model (without a mean structure).
    theta : ndarray
        Free parameters.
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).

    Returns
    -------
    tuple (F, grad, H) or None
        F (float), dF/dtheta (q,) and the observed Hessian of F (q, q); ``None`` for models
        with a mean structure or where Sigma is not positive definite (the caller then uses
        the expected information).

    References
    ----------
    McArdle, J. J., & McDonald, R. P. (1984). Some algebraic properties of the reticular
    action model for moment structures. British Journal of Mathematical and Statistical
    Psychology 37, 234-251.
    Magnus, J. R., & Neudecker, H. (1999). Matrix Differential Calculus, 2nd ed. Wiley.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> F, g, Ho = ml_observed_hessian(res.model, res.theta)
    >>> bool(np.allclose(Ho, Ho.T))
    True
    """
    if model.meanstructure:
        return None
    samples = samples or model.sample
    w, _ = group_weights(model, samples)
    q = model.n_free
    F, grad, H = 0.0, np.zeros(q), np.zeros((q, q))
    for g, ss in enumerate(samples):
        A, S, m = model.matrices(theta, g)
        B = np.linalg.inv(np.eye(model.m) - A)
        G = B[: model.p]
        Sigma = G @ S @ G.T
        r = _logdet_inv(Sigma)
        if r is None:
            return None
        logdet, Si = r
        P = Si @ (ss.cov - Sigma) @ Si
        dS, _ = model.jacobian(theta, g)
        dS2 = dS.reshape(q, -1)
        F += w[g] * (logdet + np.sum(Si * ss.cov) - ss.logdet - model.p)
        grad += w[g] * (dS2 @ (-P).ravel())
        L, R2 = _si_dS_times(Si, dS, [Si, P])
        X = dS2 @ R2.T
        H += w[g] * (dS2 @ L.T + X + X.T)
        # second derivatives of Sigma contracted with M = -P
        Mt = np.zeros((model.m, model.m))
        Mt[: model.p, : model.p] = -P
        T = B @ S @ B.T
        W = B.T @ Mt @ B
        U = T @ Mt @ B
        gm = model._mats[g]
        rA, cA, kA = gm.A_idx
        rS, cS, kS = gm.S_idx
        ohA, ohS, _ = model._onehot[g]
        if len(rA):
            X1 = B[cA][:, rA]
            Y1 = U[cA][:, rA]
            HAA = 2 * (X1 * Y1.T + X1.T * Y1) + 2 * T[cA][:, cA] * W[rA][:, rA]
            if model._unique[g]:
                H[np.ix_(kA, kA)] += w[g] * HAA
            else:
                H += w[g] * (ohA @ HAA @ ohA.T)
            if len(rS):
                off = (rS != cS).astype(float)
                HAS = 2 * (B[cA][:, rS] * W[cS][:, rA].T
                           + off[None, :] * B[cA][:, cS] * W[rS][:, rA].T)
                if model._unique[g]:
                    H[np.ix_(kA, kS)] += w[g] * HAS
                    H[np.ix_(kS, kA)] += w[g] * HAS.T
                else:
                    X = ohA @ HAS @ ohS.T
                    H += w[g] * (X + X.T)
    return float(F), grad, H


def observed_hessian_factor(model, theta, samples=None):
    """Hessian of F at theta for warm-started refits (observed if positive definite).

    Parameters
    ----------
    model : SEMModel
        The model.
    theta : ndarray
        Free parameters (usually the full-sample estimates).
    samples : list of SampleStats, optional
        Moments (default the model's own).

    Returns
    -------
    ndarray, shape (q, q), or None
        The observed Hessian of F (:func:`ml_observed_hessian`) when it is positive
        definite, else the expected one when that is; None when neither is.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> observed_hessian_factor(res.model, res.theta).shape
    (13, 13)
    """
    out = ml_observed_hessian(model, theta, samples)
    mats = [out[2]] if out is not None and np.isfinite(out[0]) else []
    exp = ml_value_grad_info(model, theta, samples)[2]
    if exp is not None:
        mats.append(exp)
    for M in mats:
        try:
            sla.cho_factor(M, check_finite=False)
            return M
        except (np.linalg.LinAlgError, ValueError):
            continue
    return None


def fit_newton(model, start, samples=None, max_iter: int = 100, tol: float = 1e-6,
               hess_factor=None):
    """Quasi-Newton refit from a warm start (bootstrap, jackknife resamples).

    Starts from the exact observed Hessian (``hess_factor``: the one at the full-sample
    estimates, shared by all resamples, or computed here) and improves it by BFGS updates,
    so that each step costs one value-and-gradient evaluation (no dSigma is formed) and
    convergence is superlinear. Falls back to :func:`fit_ml` (Fisher scoring) for mean
    structures or when a step fails.

    Parameters
    ----------
    model : SEMModel
        The model.
    start : ndarray
        Starting values (e.g. the full-sample estimates).
    samples : list of SampleStats, optional
        Moments to fit (default the model's own).
    max_iter : int, default 100
        Maximum number of iterations.
    tol : float, default 1e-6
        Convergence when the Newton decrement falls below ``tol**2``.
    hess_factor : ndarray, optional
        Starting Hessian (:func:`observed_hessian_factor`); computed at ``start`` if omitted.

    Returns
    -------
    theta : ndarray
        The estimates.
    info : FitInfo
        How the optimisation ended.

    References
    ----------
    Nocedal, J., & Wright, S. J. (2006). Numerical Optimization, 2nd ed., ch. 6 (BFGS).
    Springer.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> theta, info = fit_newton(res.model, res.theta * 1.01)
    >>> info.converged, bool(np.allclose(theta, res.theta, atol=1e-4))
    (True, True)
    """
    theta = np.array(start, dtype=float)
    if model.meanstructure:
        return fit_ml(model, start=start, samples=samples, max_iter=max_iter, tol=tol)
    H = hess_factor if hess_factor is not None else observed_hessian_factor(model, theta,
                                                                            samples)
    F, g, _ = ml_value_grad_info(model, theta, samples, info=False)
    if H is None or not np.isfinite(F):
        return fit_ml(model, start=start, samples=samples, max_iter=max_iter, tol=tol)
    H = H.copy()
    for it in range(1, max_iter + 1):
        try:
            step = -sla.cho_solve(sla.cho_factor(H, check_finite=False), g, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            break
        dec = -g @ step
        if not np.isfinite(dec) or dec < 0:
            break
        if dec < tol**2:
            return theta, FitInfo(True, it, F, "converged (Newton decrement)", "newton")
        t = 1.0
        while t >= 1e-8:
            Fn, gn, _ = ml_value_grad_info(model, theta + t * step, samples, info=False)
            if Fn <= F - 1e-4 * t * dec:
                break
            t *= 0.5
        if t < 1e-8:
            break
        sv, yv = t * step, gn - g
        theta, F, g = theta + sv, Fn, gn
        ys = yv @ sv
        if ys > 1e-12 * np.sqrt((yv @ yv) * (sv @ sv)):  # BFGS update keeps H positive definite
            Hs = H @ sv
            H += np.outer(yv, yv) / ys - np.outer(Hs, Hs) / (sv @ Hs)
    return fit_ml(model, start=theta, samples=samples, max_iter=max_iter, tol=tol)
