"""``fit_sem``: lavaan syntax + a DataFrame in, :class:`SEMResult` out.

Reference: Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
Journal of Statistical Software 48(2), 1-36 (defaults of ``sem()`` reproduced here).

Example
-------
>>> from semopy.examples import holzinger39
>>> res = fit_sem("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
...               "speed =~ x7 + x8 + x9", holzinger39.get_data())
>>> float(round(res.fit_indices["chisq"], 3))
85.306
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread_blas
from .defined import label_values, numeric_jacobian
from .errors import SEMError, SEMWarning
from .estimate import fit_ml, ml_value_grad_info
from .fit_indices import fit_indices as _fit_indices
from .fit_indices import n_moments
from .model import SampleStats, build_model, observed_variables
from .result import SEMResult
from .standardize import std_all_rows
from .syntax import parse_model

__all__ = ["fit_sem", "prepare_data", "build_estimates", "vcov_expected"]


def prepare_data(syntax, data: pd.DataFrame, *, group=None, missing="listwise"):
    """Select, check and split the model's columns.

    Returns ``(ov_names, [X_g], group_labels, n_dropped)``; raises :class:`SEMError` for
    missing or non-numeric columns and for empty or too-small groups.
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


def vcov_expected(model, theta):
    """Covariance of theta from the expected information (lavaan ML default)."""
    _, _, H = ml_value_grad_info(model, theta)
    N = sum(s.n for s in model.sample)
    ev = np.linalg.eigvalsh(H)
    singular = ev[0] <= 1e-10 * max(ev[-1], 1e-300)
    if singular:
        return np.full_like(H, np.nan), True
    return 2.0 / N * np.linalg.inv(H), False


def _std_and_defined(model, theta):
    """(std.all per partable row, defined values, std.all of defined)."""
    pt = model.partable
    vals = row_values(model, theta)
    std = std_all_rows(model, theta)
    if not model.defined:
        return std, np.zeros(0), np.zeros(0)
    f = model.def_fun
    d = np.array(list(f(label_values(pt, vals)).values()))
    dstd = np.array(list(f(label_values(pt, std)).values()))
    return std, d, dstd


def row_values(model, theta) -> np.ndarray:
    """Estimate for every partable row (free from theta, fixed from their value)."""
    cache = model.__dict__.get("_row_arrays")
    if cache is None:
        fr = model.partable["free"].to_numpy()
        cache = (fr >= 0, fr[fr >= 0], model.partable["value"].to_numpy(dtype=float))
        model.__dict__["_row_arrays"] = cache
    is_free, idx, values = cache
    out = values.copy()
    out[is_free] = theta[idx]
    return out


def defined_values(model, theta) -> np.ndarray:
    if not model.defined:
        return np.zeros(0)
    return np.array(list(model.def_fun(label_values(model.partable,
                                                     row_values(model, theta))).values()))


def build_estimates(model, theta, vcov, *, std_se: bool = True) -> pd.DataFrame:
    """The lavaan-style parameter table (with std.all and delta-method SEs)."""
    pt = model.partable
    est = row_values(model, theta)
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    dv = np.sqrt(np.clip(np.diag(vcov), 0, None)) if vcov is not None else np.full(len(theta), np.nan)
    se[fr >= 0] = dv[fr[fr >= 0]]
    rows = pd.DataFrame(dict(lhs=pt["lhs"], op=pt["op"], rhs=pt["rhs"], label=pt["label"],
                             group=pt["group"] + 1, est=est, se=se))
    std, dvals, dstd = _std_and_defined(model, theta)
    rows["std_all"] = std
    if model.defined:
        dJ = numeric_jacobian(lambda t: defined_values(model, t), theta)
        dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", dJ, vcov, dJ), 0, None))
        drows = pd.DataFrame(dict(lhs=[d[0] for d in model.defined], op=":=",
                                  rhs=[d[1] for d in model.defined],
                                  label=[d[0] for d in model.defined], group=0,
                                  est=dvals, se=dse, std_all=dstd))
        rows = pd.concat([rows, drows], ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(rows["se"] > 0, rows["est"] / rows["se"], np.nan)
    rows["z"] = z
    rows["pvalue"] = 2 * stats.norm.sf(np.abs(z))
    if std_se and vcov is not None and np.all(np.isfinite(vcov)):
        def stdfun(t):
            s, _, ds = _std_and_defined(model, t)
            return np.concatenate([s, ds])

        J = numeric_jacobian(stdfun, theta, central=False)
        v = np.einsum("ij,jk,ik->i", J, vcov, J)
        rows["se_std"] = np.sqrt(np.clip(v, 0, None))
    else:
        rows["se_std"] = np.nan
    if model.n_groups == 1:
        rows = rows.drop(columns="group")
    cols = ["lhs", "op", "rhs", "label"] + (["group"] if model.n_groups > 1 else []) + [
        "est", "se", "z", "pvalue", "std_all", "se_std"]
    return rows[cols]


def _heywood(model, theta, est: pd.DataFrame) -> list[str]:
    msgs = []
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    neg = var[var["est"] < 0]
    for r in neg.itertuples():
        g = f" (group {r.group})" if "group" in est.columns else ""
        msgs.append(f"Heywood case: negative variance estimate {r.lhs} ~~ {r.rhs} = "
                    f"{r.est:.4g}{g}")
    lv = [model.all_names.index(v) for v in model.lv_names]
    for g in range(model.n_groups):
        if lv:
            T = model.total_cov(theta, g)[np.ix_(lv, lv)]
            if np.linalg.eigvalsh(T)[0] < 0:
                msgs.append(f"covariance matrix of latent variables is not positive definite"
                            f"{f' (group {g + 1})' if model.n_groups > 1 else ''}")
    return msgs


def fit_sem(model: str, data: pd.DataFrame, *, estimator: str = "ML",
            missing: str = "listwise", group: str | None = None, group_equal=(),
            start=None, max_iter: int = 500, std_se: bool = True,
            auxiliary=()) -> SEMResult:
    """Fit a structural equation model written in lavaan syntax.

    Parameters
    ----------
    model : str
        lavaan syntax (``=~ ~ ~~ ~1 :=``, labels ``a*x``, fixed values ``1*x``, ``NA*x``).
    data : DataFrame
        One row per observation; the model's observed variables must be columns.
    estimator : {"ML", "MLR"}
        ML with expected-information SEs (lavaan's default) or MLR (robust, Huber-White
        SEs and Yuan-Bentler scaled chi-square; see :mod:`analysis.sem.robust`).
    missing : {"listwise", "fiml"}
        Listwise deletion over the model's columns (the number dropped is reported) or
        full-information ML (:mod:`analysis.sem.fiml`).
    group : str, optional
        Column defining groups (multi-group model with mean structure).
    group_equal : iterable of {"loadings", "intercepts"}
        Equality constraints across groups.
    start : array-like, optional
        Starting values for theta (warm start).
    max_iter : int
        Iteration limit of the optimiser (a warning is issued when it is reached).
    std_se : bool
        Compute delta-method SEs of the standardised solution (``se_std``).
    auxiliary : iterable of str
        Auxiliary variables for FIML (saturated correlates, Graham 2003, as semTools'
        ``sem.auxiliary()``); needs ``missing="fiml"``. See :mod:`analysis.sem.auxiliary`.

    Returns
    -------
    SEMResult

    Raises
    ------
    SEMError
        Missing columns, a non-positive-definite sample covariance matrix, a model with
        more free parameters than sample moments, invalid syntax.

    Notes
    -----
    ML uses the sample covariance with divisor N (lavaan's ``likelihood = "normal"``);
    the optimiser is Fisher scoring with the analytic gradient (``estimate.py``).

    References
    ----------
    Rosseel (2012), J. Stat. Softw. 48(2); Bollen (1989), Structural Equations with Latent
    Variables, Wiley.

    Examples
    --------
    >>> res = fit_sem("f =~ x1 + x2 + x3", df)             # doctest: +SKIP
    >>> res.estimates.query("op == '=~'")                  # doctest: +SKIP
    """
    with single_thread_blas():
        aux = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary or ())
        if aux:
            from .auxiliary import fit_auxiliary  # saturated correlates (auxiliary.py)

            return fit_auxiliary(model, data, aux, estimator=estimator, missing=missing,
                                 group=group, group_equal=group_equal, max_iter=max_iter,
                                 std_se=std_se)
        return _fit_sem(model, data, estimator=estimator, missing=missing, group=group,
                        group_equal=group_equal, start=start, max_iter=max_iter,
                        std_se=std_se)


def _fit_sem(model, data, *, estimator, missing, group, group_equal, start, max_iter,
             std_se) -> SEMResult:
    estimator = str(estimator).upper()
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
        from . import fiml  # wired by the FIML/MLR module (analysis/sem/fiml.py)

        return fiml.fit_fiml(stmts, ov, Xs, labels, estimator=estimator, group=group,
                             group_equal=group_equal, syntax=model, warnings_=msgs,
                             n_dropped=n_dropped, max_iter=max_iter, std_se=std_se)
    samples = [SampleStats.from_data(x, ov) for x in Xs]
    for ss, lab in zip(samples, labels):
        _check_sample_cov(ss, ov, lab)
    mdl = build_model(stmts, samples, group_labels=labels, group_equal=group_equal)
    mdl.def_fun  # compile now: unknown labels in := raise SEMError before fitting
    nmom = n_moments(mdl)
    if mdl.n_free > nmom:
        raise SEMError(f"model is not identified: {mdl.n_free} free parameters but only "
                       f"{nmom} sample moments (df = {nmom - mdl.n_free})")
    theta, info = fit_ml(mdl, start=start, max_iter=max_iter)
    if not info.converged:
        msgs.append(f"optimizer did not converge after {info.iterations} iterations "
                    f"({info.message}); estimates are not trustworthy")
    vcov, singular = vcov_expected(mdl, theta)
    if singular:
        msgs.append("information matrix is singular: the model may not be identified "
                    "(standard errors not computed)")
    est = build_estimates(mdl, theta, vcov, std_se=std_se and not singular)
    msgs += _heywood(mdl, theta, est)
    fi = _fit_indices(mdl, theta, info.fmin)
    res = SEMResult(model=mdl, theta=theta, vcov=vcov, estimates=est, fit_indices=fi,
                    converged=info.converged, warnings=msgs, estimator=estimator,
                    missing=missing, n_obs=int(sum(s.n for s in samples)),
                    n_dropped=n_dropped, group=group, syntax=model, info=info)
    if estimator == "MLR":
        from . import robust  # wired by the FIML/MLR module (analysis/sem/robust.py)

        res = robust.apply_mlr(res)
    for m in res.warnings:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res
