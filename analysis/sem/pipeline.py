"""The single-level estimation pipeline: data checks, sample moments, ML/MLR/FIML fits.

One pipeline for every single-level estimator: the identification and Heywood checks, the
parameter table and the fit indices are shared (:mod:`analysis.sem.estimates`,
:mod:`analysis.sem.fit_indices`); FIML differs only in its sample statistics (EM moments),
its optimiser and its information matrix.

Reference: Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
Journal of Statistical Software 48(2), 1-36 (defaults of ``sem()`` reproduced here).
"""


from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd
from scipy import stats

from . import fiml, robust
from .defined import compile_definitions
from .errors import SEMError, SEMWarning
from .estimate import FitInfo, fit_ml
from .estimates import (
    build_estimates,
    check_identified,
    heywood_messages,
    vcov_expected,
)
from .fiml_polish import polish_fiml
from .fit_indices import cfi, n_moments, ncx2_sf, rmsea, rmsea_ci, tli
from .fit_indices import fit_indices as _fit_indices
from .model import SampleStats, build_model, observed_variables
from .result import SEMResult
from .syntax import parse_model

__all__ = ["fit_fiml", "fit_single", "prepare_data"]


def prepare_data(syntax, data: pd.DataFrame, *, group=None, missing="listwise"):
    """Select, check and split the model's columns.

    Parameters
    ----------
    syntax : str or list of Statement
        The model (lavaan syntax or parsed statements).
    data : DataFrame
    group : str, optional
        Grouping column.
    missing : {"listwise", "fiml"}

    Returns
    -------
    tuple
        ``(ov_names, [X_g], group_labels, n_dropped)``.

    Raises
    ------
    SEMError
        Missing or non-numeric columns, empty or too-small groups.
    """
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    stmts = parse_model(syntax) if isinstance(syntax, str) else syntax
    ov = observed_variables(stmts)
    lv = {s.lhs for s in stmts if s.op == "=~"}
    if not ov:
        raise SEMError("the model has no observed variables")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        hint = " (latent variables must be defined with =~)" if absent else ""
        raise SEMError(f"column(s) not found in data: {', '.join(absent)}{hint}")
    clash = sorted(lv & set(data.columns))
    if clash:
        raise SEMError(f"latent variable name(s) also used as data column(s): {', '.join(clash)}")
    if group is not None and group not in data.columns:
        raise SEMError(f"group column not found in data: {group}")
    X = data[ov]
    nonnum = [c for c in ov if not pd.api.types.is_numeric_dtype(X[c])]
    if nonnum:
        raise SEMError(f"non-numeric column(s): {', '.join(nonnum)}")
    X = X.astype(float)
    g = data[group] if group is not None else pd.Series(0, index=data.index)
    n_dropped = 0
    if missing == "listwise":
        keep = X.notna().all(axis=1) & g.notna()
        n_dropped = int((~keep).sum())
        X, g = X[keep], g[keep]
    elif missing == "fiml":
        keep = g.notna() & X.notna().any(axis=1)
        n_dropped = int((~keep).sum())
        X, g = X[keep], g[keep]
    else:
        raise SEMError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    labels = list(pd.unique(g)) if group is not None else [None]
    Xs = [X[g == lab].to_numpy() if group is not None else X.to_numpy() for lab in labels]
    for lab, x in zip(labels, Xs):
        if x.shape[0] < 2:
            where = f" in group {lab!r}" if group is not None else ""
            raise SEMError(f"fewer than 2 complete observations{where}")
    return ov, Xs, labels, n_dropped


def _check_sample_cov(ss: SampleStats, ov, lab):
    where = f" in group {lab!r}" if lab is not None else ""
    var = np.diag(ss.cov)
    const = [v for v, s in zip(ov, var) if s <= 1e-12 * max(1.0, var.max())]
    if const:
        raise SEMError(f"sample covariance matrix is not positive definite{where}: "
                       f"constant column(s) {', '.join(const)}")
    ev, vecs = np.linalg.eigh(ss.cov / np.sqrt(np.outer(var, var)))
    if ev[0] <= 1e-10:
        involved = [ov[i] for i in np.argsort(-np.abs(vecs[:, 0]))[:4]
                    if abs(vecs[i, 0]) > 0.1]
        raise SEMError(f"sample covariance matrix is not positive definite{where} "
                       f"(smallest eigenvalue {ev[0]:.2e}); collinear columns, e.g. "
                       f"{', '.join(involved)}")


def fit_single(model, data, *, estimator, missing, group, group_equal, start, max_iter,
               std_se, meanstructure=None) -> SEMResult:
    """The single-level pipeline behind :func:`analysis.sem.fit_sem` (ML, MLR, FIML).

    Parameters
    ----------
    model, data, estimator, missing, group, group_equal, start, max_iter, std_se, meanstructure
        As :func:`analysis.sem.fit_sem`.

    Returns
    -------
    SEMResult
    """
    estimator = str(estimator).upper()
    if estimator in ("WLSMV", "DWLS", "WLS"):
        raise SEMError(f"estimator {estimator!r} is for ordered indicators: pass ordered=True "
                       f"or a list of columns (continuous DWLS/WLS is not supported)")
    if estimator not in ("ML", "MLR"):
        raise SEMError(f"estimator must be 'ML' or 'MLR', not {estimator!r}")
    group_equal = tuple(group_equal) if not isinstance(group_equal, str) else (group_equal,)
    stmts = parse_model(model)
    ov, Xs, labels, n_dropped = prepare_data(stmts, data, group=group, missing=missing)
    msgs: list[str] = []
    if n_dropped and missing == "listwise":
        msgs.append(f"listwise deletion: {n_dropped} of {len(data)} rows with missing values "
                    f"in the model's columns were dropped")
    if missing == "fiml":
        return fit_fiml(stmts, ov, Xs, labels, estimator=estimator, group=group,
                        group_equal=group_equal, syntax=model, warnings_=msgs,
                        n_dropped=n_dropped, max_iter=max_iter, std_se=std_se)
    samples = [SampleStats.from_data(x, ov) for x in Xs]
    for ss, lab in zip(samples, labels):
        _check_sample_cov(ss, ov, lab)
    mdl = build_model(stmts, samples, group_labels=labels, group_equal=group_equal,
                      meanstructure=meanstructure)
    mdl.def_fun  # compile now: unknown labels in := raise SEMError before fitting
    check_identified(mdl)
    theta, info = fit_ml(mdl, start=start, max_iter=max_iter)
    if not info.converged:
        msgs.append(f"optimizer did not converge after {info.iterations} iterations "
                    f"({info.message}); estimates are not trustworthy")
    vcov, singular = vcov_expected(mdl, theta)
    if singular:
        msgs.append("information matrix is singular: the model may not be identified "
                    "(standard errors not computed)")
    est = build_estimates(mdl, theta, vcov, std_se=std_se and not singular)
    msgs += heywood_messages(mdl, theta, est)
    fi = _fit_indices(mdl, theta, info.fmin)
    res = SEMResult(model=mdl, theta=theta, vcov=vcov, estimates=est, fit_indices=fi,
                    converged=info.converged, warnings=msgs, estimator=estimator,
                    missing=missing, n_obs=int(sum(s.n for s in samples)),
                    n_dropped=n_dropped, group=group, syntax=model, info=info)
    if estimator == "MLR":
        res = robust.apply_mlr(res)
    for m in res.warnings:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res


def fit_fiml(stmts, ov, Xs, labels, *, estimator="ML", group=None, group_equal=(), syntax="",
             warnings_=None, n_dropped=0, max_iter: int = 200, std_se: bool = True,
             fixed_x: bool = True):
    """The ``missing="fiml"`` path of :func:`analysis.sem.fit_sem`.

    Per group, the EM estimates of the saturated moments (H1) serve as sample
    statistics for the start (a complete-data ML fit to them) and for the
    test; theta then maximises the FIML log-likelihood. As lavaan does for
    ``missing = "ml"``: SEs from the observed information (Hessian, including
    the second derivatives of the implied moments), ``chisq = 2 (logl_H1 -
    logl_H0)``, the baseline is the independence model with free means and
    variances, RMSEA uses N, SRMR uses the EM moments; with
    ``estimator="MLR"`` Huber-White SEs and the Yuan-Bentler (Mplus) scaled
    test; robust RMSEA/CFI/TLI are the FIML-corrected ones of Zhang & Savalei
    (2022), "V3" with MLR, "V6" with ML.

    Parameters
    ----------
    stmts : list of Statement
        The parsed model.
    ov : list of str
        Observed variables, the columns of every ``Xs[g]``.
    Xs : list of ndarray
        One data matrix per group, NaN where missing (rows with every value missing
        are dropped by :class:`analysis.sem.fiml.MissingPatterns`).
    labels : list
        Group labels (``[None]`` for one group).
    estimator : {"ML", "MLR"}
    group, group_equal, syntax, max_iter, std_se
        As :func:`analysis.sem.fit_sem` (``syntax`` is stored in the result).
    warnings_ : list of str, optional
        Messages collected before (reported with the fit's own).
    n_dropped : int
        Rows dropped before (reported in the result).
    fixed_x : bool
        False: the moments of exogenous observed covariates are free parameters
        (lavaan's ``fixed.x = FALSE``; the caller adds their covariances), as
        :mod:`analysis.sem.auxiliary` needs.

    Returns
    -------
    SEMResult
        ``extra`` holds the EM results (``h1``), ``n_patterns``, ``fraction_missing`` and
        ``patterns`` (one :class:`MissingPatterns` per group, used by
        :func:`analysis.sem.modification_indices` for the FIML score test).

    References
    ----------
    Arbuckle (1996), in Advanced Structural Equation Modeling; Savalei (2010),
    Psychological Methods 15, 352-367; Zhang & Savalei (2022), Psychological Methods.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.sem.syntax import parse_model
    >>> rng = np.random.default_rng(3)
    >>> X = rng.normal(size=(100, 3)) + rng.normal(size=(100, 1)); X[::5, 0] = np.nan
    >>> res = fit_fiml(parse_model("f =~ y1 + y2 + y3"), ["y1", "y2", "y3"], [X], [None])
    >>> res.missing, int(res.fit_indices["df"])
    ('fiml', 0)
    """
    msgs = list(warnings_ or [])
    pats = [fiml.MissingPatterns(x) for x in Xs]
    ems = [fiml.saturated_em(p) for p in pats]
    for em, lab in zip(ems, labels):
        if not em.converged:
            msgs.append(f"EM for the saturated model did not converge{'' if lab is None else f' (group {lab})'}")
    samples = [SampleStats.from_moments(em.Sigma, em.mu, p.n) for em, p in zip(ems, pats)]
    for s in samples:
        s.ov_names = list(ov)
    model = build_model(stmts, samples, group_labels=labels, group_equal=group_equal,
                        meanstructure=True, fixed_x=fixed_x)
    if not fixed_x:  # fixed_x=False (auxiliary.py): exogenous covariates are modelled
        model.ov_x = []
    if getattr(model, "ov_x", []):
        raise SEMError("missing='fiml' with exogenous observed covariates (fixed.x) is not "
                       f"supported: {', '.join(model.ov_x)}")
    model._def_fun = compile_definitions(model.defined, set(model.partable["label"]) - {""})
    check_identified(model)
    nmom = n_moments(model)
    theta0, _ = fit_ml(model)  # complete-data ML to the EM moments: a close start
    theta, ll0, iters, converged, message = fiml.maximise_fiml(model, pats, theta0, max_iter=max_iter)
    if converged:  # where scoring converged slowly: Newton steps to the floating-point limit
        theta, ll0 = polish_fiml(model, pats, ems, theta)
    if not converged:
        msgs.append(f"FIML optimizer did not converge ({message}); estimates are not trustworthy")

    G = len(pats)
    N = float(sum(p.n for p in pats))
    groups = []
    for g, (pat, em) in enumerate(zip(pats, ems)):
        Sigma, mu = model.sigma_mu(theta, g)
        groups.append(robust.GroupMoments(pat, mu, Sigma, model.delta(theta, g), em.mu, em.Sigma))
    info = robust.observed_information(model, theta, groups)
    meat = robust.meat(groups) if estimator == "MLR" else None
    ev = np.linalg.eigvalsh(info)
    singular = bool(ev[0] <= 1e-10 * abs(ev[-1]))
    if singular:
        vcov = np.full((model.n_free,) * 2, np.nan)
        msgs.append("observed information matrix is singular or not positive definite: the "
                    "model may not be identified (standard errors not computed)")
    elif estimator == "MLR":
        vcov = robust.sandwich(info, meat)
    else:
        vcov = np.linalg.inv(info)
        vcov = 0.5 * (vcov + vcov.T)
    est = build_estimates(model, theta, vcov, std_se=std_se and not singular)
    msgs += heywood_messages(model, theta, est)

    # fit measures (lavaan's fitMeasures under missing = "ml")
    ll1 = sum(em.loglik for em in ems)
    npar = model.n_free
    df = nmom - npar
    chisq = 2.0 * (ll1 - ll0)
    base = [fiml.baseline_loglik(p) for p in pats]
    bchisq = 2.0 * (ll1 - sum(b[0] for b in base))
    bdf = G * pats[0].p * (pats[0].p - 1) // 2
    lo, hi = rmsea_ci(chisq, df, N, G=G)
    srmr = sum(p.n / N * fiml.srmr_moments(em.Sigma, em.mu, *model.sigma_mu(theta, g))
               for g, (p, em) in enumerate(zip(pats, ems)))
    fi = dict(npar=npar, ntotal=N, chisq=chisq, df=df,
              pvalue=float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
              baseline_chisq=bchisq, baseline_df=bdf,
              baseline_pvalue=float(stats.chi2.sf(bchisq, bdf)),
              cfi=cfi(chisq, df, bchisq, bdf), tli=tli(chisq, df, bchisq, bdf),
              rmsea=rmsea(chisq, df, N, G=G),
              rmsea_ci_lower=lo, rmsea_ci_upper=hi,
              rmsea_pvalue=ncx2_sf(chisq, df, 0.05**2 * N * df / G) if df > 0 else np.nan,
              srmr=srmr, gfi=np.nan, agfi=np.nan, loglik=ll0, unrestricted_loglik=ll1,
              aic=-2 * ll0 + 2 * npar, bic=-2 * ll0 + np.log(N) * npar, fmin=chisq / (2 * N))
    bgroups = robust.baseline_groups(groups, [b[1] for b in base], [b[2] for b in base])
    if estimator == "MLR":
        fi.update(robust.scaled_measures(groups, info, meat, df, chisq, N, G, bgroups, bchisq, bdf))
    fc = robust.fiml_corrected(groups, df, bgroups, version="V3" if estimator == "MLR" else "V6")
    fi.update(robust.robust_indices(fc["XX3"], df, fc["c3"], fc["XX3_null"], fc["df_null"],
                                    fc["c3_null"], N, G))
    res = SEMResult(model=model, theta=theta, vcov=vcov, estimates=est,
                    fit_indices=pd.Series(fi, dtype=float), converged=converged, warnings=msgs,
                    estimator=estimator, missing="fiml", n_obs=int(N), n_dropped=n_dropped,
                    group=group, syntax=syntax,
                    info=FitInfo(converged, iters, chisq / N, message, "fiml-fisher"),
                    extra=dict(h1=[dict(mu=em.mu, Sigma=em.Sigma, loglik=em.loglik,
                                        iterations=em.iterations) for em in ems],
                               n_patterns=[p.K for p in pats],
                               # the data by pattern: score tests (modindices) need them
                               patterns=pats,
                               fraction_missing=[p.fraction_missing for p in pats]))
    for m in msgs:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res
