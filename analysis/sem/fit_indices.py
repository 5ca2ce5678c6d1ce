"""Fit indices for ML fits, as lavaan 0.6 defines them (``fitMeasures()``).

* chisq = N F_ML (N = total sample size, F as in :mod:`analysis.sem.estimate`);
  df = sample moments (minus those of fixed exogenous covariates) - free parameters.
* Baseline: independence model (free variances, free means), closed form.
* CFI = 1 - max(chisq - df, 0) / max(chisq - df, chisq_b - df_b, 0);
  TLI = (chisq_b/df_b - chisq/df) / (chisq_b/df_b - 1) (Bentler 1990; Tucker & Lewis 1973).
* RMSEA = sqrt(max(0, (chisq - df) / (N df))) * sqrt(G), 90% CI by inverting the noncentral
  chi-square distribution in its noncentrality (Steiger 1990; Browne & Cudeck 1993).
* SRMR (lavaan "srmr", Bentler's form): residuals (s_ij - sigma_ij)/sqrt(s_ii s_jj) over the
  lower triangle incl. diagonal, plus standardised mean residuals with a mean structure;
  groups averaged with weights N_g / N.
* GFI = 1 - r' V r / s' V s with r, s the residual and sample moments [mean, vech(S)] and V the
  normal-theory weight at Sigma-hat (without means: 1 - tr((W - I)^2) / tr(W^2), W = Sigma^-1 S);
  AGFI = 1 - ndat/df (1 - GFI)
  (Jöreskog & Sörbom 1984).
* logl = sum_g -N_g/2 [p log 2 pi + log|Sigma| + tr(S Sigma^-1) + d' Sigma^-1 d];
  with fixed exogenous covariates the saturated log-likelihood of the covariates is
  subtracted (lavaan's fixed.x: conditional on x). AIC = -2 logl + 2 npar;
  BIC = -2 logl + log(N) npar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["fit_indices", "n_moments", "ncx2_sf", "rmsea", "rmsea_ci", "cfi", "tli"]


def n_moments(model) -> int:
    """Number of sample moments the model reproduces (lavaan's ``ndat`` with fixed.x).

    Per group ``p(p+1)/2`` covariances (plus ``p`` means with a mean structure), minus the
    moments of the k exogenous observed covariates fixed at their sample values
    (``k(k+1)/2`` covariances and ``k`` means); summed over groups.

    Parameters
    ----------
    model : SEMModel
        The model (its ``p``, ``ov_x``, ``meanstructure`` and ``n_groups`` are used).

    Returns
    -------
    int
        Number of sample moments; ``df = n_moments(model) - model.n_free``.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> n_moments(res.model)
    21
    """
    p = model.p
    k = len(getattr(model, "ov_x", []))
    per = p * (p + 1) // 2 - k * (k + 1) // 2
    if model.meanstructure:
        per += p - k
    return per * model.n_groups


def rmsea(X2: float, df: float, N: float, c: float = 1.0, G: int = 1) -> float:
    """RMSEA ``sqrt(max(X2/(N df) - c/N, 0)) sqrt(G)`` (c = 1: the usual one).

    With c the scaling factor of a robust test, this is the robust RMSEA of
    Brosseau-Liard, Savalei & Li (2012) as in lavaan's "rmsea.robust".

    Parameters
    ----------
    X2 : float
        Test statistic (the unscaled one, also for the robust RMSEA).
    df : float
        Degrees of freedom; ``df <= 0`` gives 0.
    N : float
        Total sample size (lavaan divides by N, not N - 1).
    c : float, default 1
        Scaling factor of the robust test statistic.
    G : int, default 1
        Number of groups (Steiger's multi-group correction ``sqrt(G)``).

    Returns
    -------
    float
        The point estimate of the RMSEA.

    References
    ----------
    Steiger, J. H. (1990). Structural model evaluation and modification: an interval
    estimation approach. Multivariate Behavioral Research 25, 173-180.
    Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample
    performance of two nonnormality corrections for RMSEA. MBR 47, 904-930.

    Examples
    --------
    >>> round(rmsea(85.3055, 24, 301, 0.979042), 5)
    0.0925
    """
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(X2 / (N * df) - c / N, 0.0)) * np.sqrt(G))


def ncx2_sf(x: float, df: float, nc: float) -> float:
    """Upper tail of the noncentral chi-square, guarded against overflow.

    SciPy (Boost) overflows evaluating the series for some large ``df`` and ``nc``
    (``tgamma`` too large to represent); there the Patnaik (1949) two-moment approximation,
    a scaled central chi-square ``c chi2(nu)`` with ``c = (df + 2 nc) / (df + nc)`` and
    ``nu = (df + nc)^2 / (df + 2 nc)``, gives the tail, accurate to about 1e-3 where the
    exact series fails (large ``df``).

    Parameters
    ----------
    x : float
        Quantile (the test statistic).
    df : float
        Degrees of freedom (> 0).
    nc : float
        Noncentrality (>= 0).

    Returns
    -------
    float
        ``P(chi2_df(nc) > x)``.

    References
    ----------
    Patnaik, P. B. (1949). The non-central chi-square and F-distributions and their
    applications. *Biometrika*, 36, 202-232.

    Examples
    --------
    >>> round(ncx2_sf(30.0, 24, 5.0), 4)
    0.4158
    """
    if nc <= 0:
        return float(stats.chi2.sf(x, df))
    try:
        p = float(stats.ncx2.sf(x, df, nc))
    except (OverflowError, FloatingPointError):
        p = np.nan
    if np.isfinite(p):
        return p
    c = (df + 2 * nc) / (df + nc)
    nu = (df + nc) ** 2 / (df + 2 * nc)
    return float(stats.chi2.sf(x / c, nu))


def rmsea_ci(X2: float, df: float, N: float, c: float = 1.0, G: int = 1,
             level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the noncentral chi-square.

    For the robust RMSEA, X2 is the scaled statistic and c its scaling factor:
    ``rmsea = sqrt(c lambda / (N df))`` at the noncentrality lambda where
    ``P(chi2_df(lambda) <= X2)`` equals (1 +- level)/2.

    Parameters
    ----------
    X2 : float
        Test statistic (the scaled one for the robust interval).
    df : float
        Degrees of freedom; below 1 the interval is ``(0, 0)``.
    N : float
        Total sample size.
    c : float, default 1
        Scaling factor of the robust test statistic.
    G : int, default 1
        Number of groups (multi-group correction ``sqrt(G)``).
    level : float, default 0.90
        Confidence level (lavaan reports the 90% interval).

    Returns
    -------
    tuple of float
        ``(lower, upper)``; a limit whose noncentrality is 0 is reported as 0; ``(nan, nan)``
        for a non-finite statistic.

    References
    ----------
    Steiger, J. H. (1990). Structural model evaluation and modification: an interval
    estimation approach. Multivariate Behavioral Research 25, 173-180.
    Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In Bollen &
    Long (Eds.), Testing Structural Equation Models, 136-162.

    Examples
    --------
    >>> lo, hi = rmsea_ci(85.3055, 24, 301)
    >>> round(lo, 3), round(hi, 3)
    (0.071, 0.114)
    """
    if not (np.isfinite(X2) and np.isfinite(df) and df >= 1):
        return (0.0, 0.0) if df < 1 else (np.nan, np.nan)
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return 1.0 - ncx2_sf(X2, df, lam)

    lower = 0.0
    if cdf(0.0) >= hi_p:
        lam = optimize.brentq(lambda x: cdf(x) - hi_p, 0.0, X2, xtol=1e-12)
        lower = np.sqrt(c * lam / (N * df)) * np.sqrt(G)
    upper = 0.0
    top = max(N, 4 * X2)
    if cdf(top) <= lo_p and cdf(0.0) >= lo_p:
        lam = optimize.brentq(lambda x: cdf(x) - lo_p, 0.0, top, xtol=1e-12)
        upper = np.sqrt(c * lam / (N * df)) * np.sqrt(G)
    return float(lower), float(upper)


def cfi(X2, df, X2_0, df_0, c=1.0, c_0=1.0) -> float:
    """CFI; with scaling factors c (model) and c_0 (baseline) the robust CFI.

    ``1 - max(X2 - c df, 0) / max(X2 - c df, X2_0 - c_0 df_0, 0)``
    (Brosseau-Liard & Savalei 2014), X2 and X2_0 the unscaled statistics.

    Parameters
    ----------
    X2, df : float
        Test statistic and degrees of freedom of the model.
    X2_0, df_0 : float
        Test statistic and degrees of freedom of the baseline (independence) model.
    c, c_0 : float, default 1
        Scaling factors of the model's and the baseline's robust tests (1: the usual CFI).

    Returns
    -------
    float
        The CFI (1 when both numerator and denominator are 0).

    References
    ----------
    Bentler, P. M. (1990). Comparative fit indexes in structural models. Psychological
    Bulletin 107, 238-246.
    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
    nonnormality. MBR 49, 460-470.

    Examples
    --------
    >>> round(cfi(85.3055, 24, 918.852, 36), 4)
    0.9306
    """
    t1 = max(X2 - c * df, 0.0)
    t2 = max(X2 - c * df, X2_0 - c_0 * df_0, 0.0)
    return 1.0 if np.isclose(t2, 0.0) and np.isclose(t1, 0.0) else float(1.0 - t1 / t2)


def tli(X2, df, X2_0, df_0, c=1.0, c_0=1.0) -> float:
    """TLI; with scaling factors the robust TLI (Brosseau-Liard & Savalei 2014).

    ``1 - (X2 - c df) df_0 / ((X2_0 - c_0 df_0) df)``, i.e.
    ``(X2_0/df_0 - X2/df) / (X2_0/df_0 - 1)`` when c = c_0 = 1.

    Parameters
    ----------
    X2, df : float
        Test statistic and degrees of freedom of the model.
    X2_0, df_0 : float
        Test statistic and degrees of freedom of the baseline (independence) model.
    c, c_0 : float, default 1
        Scaling factors of the model's and the baseline's robust tests (1: the usual TLI).

    Returns
    -------
    float
        The TLI (1 when ``df`` is 0 or the baseline term vanishes).

    References
    ----------
    Tucker, L. R., & Lewis, C. (1973). A reliability coefficient for maximum likelihood
    factor analysis. Psychometrika 38, 1-10.
    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
    nonnormality. MBR 49, 460-470.

    Examples
    --------
    >>> round(tli(85.3055, 24, 918.852, 36), 4)
    0.8958
    """
    t1 = (X2 - c * df) * df_0
    t2 = (X2_0 - c_0 * df_0) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    return 1.0


def _baseline(model):
    """chisq and df of the independence model (exogenous covariates keep their block)."""
    xs = [model.ov_names.index(v) for v in getattr(model, "ov_x", [])]
    p, k = model.p, len(xs)
    chisq = 0.0
    for ss in model.sample:
        Sb = np.diag(np.diag(ss.cov))
        if xs:
            Sb[np.ix_(xs, xs)] = ss.cov[np.ix_(xs, xs)]
        _, ld = np.linalg.slogdet(Sb)
        Fb = ld + np.trace(np.linalg.solve(Sb, ss.cov)) - ss.logdet - p
        chisq += ss.n * Fb
    df = (p * (p + 1) // 2 - k * (k + 1) // 2 - (p - k)) * model.n_groups
    return float(chisq), int(df)


def _gfi_parts_fixed_x(ss, Sigma, Si, d, xs, meanstructure):
    """GFI quadratic forms without the moments of the fixed covariates (lavaan's fixed.x)."""
    p = Sigma.shape[0]
    j, i = np.triu_indices(p)  # vech order
    keep = ~(np.isin(i, xs) & np.isin(j, xs))
    i, j = i[keep], j[keep]
    # normal-theory weight: 0.5 D'(Si x Si)D evaluated on vech pairs
    wdup = np.where(i == j, 1.0, 2.0)  # off-diagonal elements appear twice in vec
    V = 0.25 * (Si[i][:, i] * Si[j][:, j] + Si[i][:, j] * Si[j][:, i]) * np.outer(wdup, wdup)
    r = (ss.cov - Sigma)[i, j]
    s = ss.cov[i, j]
    num, den = r @ V @ r, s @ V @ s
    if meanstructure:
        mk = np.setdiff1d(np.arange(p), xs)
        W = Si[np.ix_(mk, mk)]
        num += d[mk] @ W @ d[mk]
        den += ss.mean[mk] @ W @ ss.mean[mk]
    return num, den


def fit_indices(model, theta, fmin_F: float) -> pd.Series:
    """lavaan-style fit measures for an ML fit at ``theta`` with discrepancy ``fmin_F``.

    The definitions are those of the module docstring (lavaan 0.6 ``fitMeasures()``).

    Parameters
    ----------
    model : SEMModel
        The fitted model with its sample moments.
    theta : ndarray
        Free parameters at the ML estimates (model order).
    fmin_F : float
        Minimum of the discrepancy F of :mod:`analysis.sem.estimate` (lavaan's fmin times 2).

    Returns
    -------
    Series
        ``npar ntotal chisq df pvalue baseline_chisq baseline_df baseline_pvalue cfi tli rmsea
        rmsea_ci_lower rmsea_ci_upper rmsea_pvalue srmr gfi agfi loglik aic bic fmin``.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.
    Bentler, P. M. (1990). Comparative fit indexes in structural models. Psychological
    Bulletin 107, 238-246.
    Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In Bollen &
    Long (Eds.), Testing Structural Equation Models, 136-162.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", holzinger39.get_data())
    >>> fi = fit_indices(res.model, res.theta, res.fit_indices["fmin"] * 2)
    >>> bool(abs(fi["chisq"] - res.fit_indices["chisq"]) < 1e-9)
    True
    """
    G = model.n_groups
    N = float(sum(s.n for s in model.sample))
    npar = model.n_free
    df = n_moments(model) - npar
    chisq = N * fmin_F
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    bchisq, bdf = _baseline(model)
    lo, hi = rmsea_ci(chisq, df, N, G=G)
    rmsea_p = ncx2_sf(chisq, df, 0.05**2 * N * df / G) if df > 0 else np.nan

    logl = 0.0
    srmr = 0.0
    gfi_g = []
    xs = [model.ov_names.index(v) for v in getattr(model, "ov_x", [])]
    p = model.p
    for g, ss in enumerate(model.sample):
        Sigma, mu = model.sigma_mu(theta, g)
        _, ld = np.linalg.slogdet(Sigma)
        Si = np.linalg.inv(Sigma)
        d = ss.mean - mu
        logl += -ss.n / 2 * (p * np.log(2 * np.pi) + ld + np.sum(Si * ss.cov) + d @ Si @ d)
        if xs:  # fixed.x: lavaan reports the likelihood conditional on the covariates
            k = len(xs)
            _, ldx = np.linalg.slogdet(ss.cov[np.ix_(xs, xs)])
            logl -= -ss.n / 2 * (k * np.log(2 * np.pi) + ldx + k)
        sd = 1.0 / np.sqrt(np.diag(ss.cov))
        R = (ss.cov - Sigma) * np.outer(sd, sd)
        il = np.tril_indices(p)
        sq = np.sum(R[il] ** 2)
        ne = len(il[0])
        if model.meanstructure:
            sq += np.sum((d * sd) ** 2)
            ne += p
        srmr += ss.n / N * np.sqrt(sq / ne)
        if xs:
            num, den = _gfi_parts_fixed_x(ss, Sigma, Si, d, xs, model.meanstructure)
        else:
            W = Si @ ss.cov
            WI = W - np.eye(p)
            num, den = 0.5 * np.trace(WI @ WI), 0.5 * np.trace(W @ W)
            if model.meanstructure:  # normal-theory weight on [mean, vech(cov)] residuals
                num += d @ Si @ d
                den += ss.mean @ Si @ ss.mean
        gfi_g.append((ss.n / N, 1.0 - num / den))
    gfi = sum(w * v for w, v in gfi_g)
    pstar = G * (p * (p + 1) // 2 + (p if model.meanstructure else 0))  # incl. fixed-x moments
    agfi = 1.0 - pstar / df * (1.0 - gfi) if df > 0 else np.nan
    aic = -2 * logl + 2 * npar
    bic = -2 * logl + np.log(N) * npar
    return pd.Series(
        dict(npar=npar, ntotal=N, chisq=chisq, df=df, pvalue=pvalue,
             baseline_chisq=bchisq, baseline_df=bdf,
             baseline_pvalue=float(stats.chi2.sf(bchisq, bdf)) if bdf > 0 else np.nan,
             cfi=cfi(chisq, df, bchisq, bdf), tli=tli(chisq, df, bchisq, bdf),
             rmsea=rmsea(chisq, df, N, G=G), rmsea_ci_lower=lo, rmsea_ci_upper=hi,
             rmsea_pvalue=rmsea_p, srmr=srmr, gfi=gfi, agfi=agfi, loglik=logl,
             aic=aic, bic=bic, fmin=fmin_F / 2),
        dtype=float,
    )
