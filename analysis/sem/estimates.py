"""The parameter table of a fit: estimates, SEs, z, p, std.all with delta-method SEs.

Shared by every estimator (ML, MLR, FIML) so that the table and its checks are written once.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software 48(2), 1-36 (``parameterEstimates`` and ``standardizedSolution``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .defined import label_values, numeric_jacobian
from .errors import SEMError
from .estimate import ml_value_grad_info
from .fit_indices import n_moments
from .standardize import std_all_rows


def check_identified(model) -> None:
    """Raise :class:`SEMError` when the model has more free parameters than sample moments.

    Parameters
    ----------
    model : SEMModel

    Returns
    -------
    None
    """
    nmom = n_moments(model)
    if model.n_free > nmom:
        raise SEMError(f"model is not identified: {model.n_free} free parameters but only "
                       f"{nmom} sample moments (df = {nmom - model.n_free})")


def vcov_expected(model, theta):
    """Covariance of theta from the expected information (lavaan ML default).

    ``vcov = 2 / N * H^-1`` with H the expected Hessian of the discrepancy F
    (:func:`analysis.sem.estimate.ml_value_grad_info`), N the total sample size.

    Parameters
    ----------
    model : SEMModel
        The model with its sample moments.
    theta : ndarray
        Free parameters at the estimates.

    Returns
    -------
    vcov : ndarray, shape (q, q)
        The covariance matrix (all NaN when H is singular).
    singular : bool
        Whether the smallest eigenvalue of H is at most 1e-10 times the largest.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36 (``information = "expected"``).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> V, singular = vcov_expected(res.model, res.theta)
    >>> bool(np.allclose(V, res.vcov)), singular
    (True, False)
    """
    _, _, H = ml_value_grad_info(model, theta)
    N = sum(s.n for s in model.sample)
    ev = np.linalg.eigvalsh(H)
    singular = ev[0] <= 1e-10 * max(ev[-1], 1e-300)
    if singular:
        return np.full_like(H, np.nan), True
    return 2.0 / N * np.linalg.inv(H), False


def std_and_defined(model, theta):
    """Standardised values of the rows and the defined parameters, raw and standardised.

    Parameters
    ----------
    model : SEMModel
        The model (its parameter table and ``:=`` definitions).
    theta : ndarray
        Free parameters.

    Returns
    -------
    std : ndarray, shape (n_rows,)
        std.all per parameter-table row (:func:`analysis.sem.standardize.std_all_rows`).
    defined : ndarray, shape (n_defined,)
        The ``:=`` parameters evaluated at the unstandardised row values.
    defined_std : ndarray, shape (n_defined,)
        The ``:=`` parameters evaluated at the standardised row values (lavaan's std.all of a
        defined parameter).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> std, d, dstd = std_and_defined(res.model, res.theta)
    >>> bool(np.isclose(d[0], res.estimates.query("op == ':='")["est"].iloc[0]))
    True
    """
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
    """Estimate for every partable row (free from theta, fixed from their value).

    Parameters
    ----------
    model : SEMModel
        The model (its parameter table's ``free`` and ``value`` columns).
    theta : ndarray
        Free parameters (model order).

    Returns
    -------
    ndarray, shape (len(model.partable),)
        The value of each row.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> float(row_values(res.model, res.theta)[0])  # the fixed first loading
    1.0
    """
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
    """Values of the ``:=`` defined parameters at ``theta``.

    Parameters
    ----------
    model : SEMModel
        The model (its parameter table and ``:=`` definitions).
    theta : ndarray
        Free parameters (model order).

    Returns
    -------
    ndarray, shape (n_defined,)
        One value per definition, in syntax order (empty without definitions).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> a, b = res.estimates.set_index("label").loc[["a", "b"], "est"]
    >>> bool(np.isclose(defined_values(res.model, res.theta)[0], a * b))
    True
    """
    if not model.defined:
        return np.zeros(0)
    return np.array(list(model.def_fun(label_values(model.partable,
                                                     row_values(model, theta))).values()))


def build_estimates(model, theta, vcov, *, std_se: bool = True) -> pd.DataFrame:
    """The lavaan-style parameter table (with std.all and delta-method SEs).

    SEs of free parameters are the square roots of the diagonal of ``vcov``; SEs of defined
    parameters and of std.all values use the delta method with a numerical Jacobian; z and
    two-sided normal p-values are ``est / se``.

    Parameters
    ----------
    model : SEMModel
        The model (parameter table, definitions, number of groups).
    theta : ndarray
        Free parameters at the estimates.
    vcov : ndarray or None
        Covariance matrix of ``theta`` (None: SEs are NaN).
    std_se : bool, default True
        Compute ``se_std`` (the delta-method SEs of std.all); NaN otherwise or when ``vcov``
        is not finite.

    Returns
    -------
    DataFrame
        ``lhs op rhs label [group] est se z pvalue std_all se_std``: one row per parameter
        (free and fixed) and per ``:=`` definition; ``group`` (1-based, 0 for definitions)
        only with several groups.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36 (``parameterEstimates``, ``standardizedSolution``).
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural
    equation models. Sociological Methodology 13, 290-312 (delta method).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> est = build_estimates(res.model, res.theta, res.vcov, std_se=False)
    >>> list(est.columns)
    ['lhs', 'op', 'rhs', 'label', 'est', 'se', 'z', 'pvalue', 'std_all', 'se_std']
    >>> bool(np.allclose(est["se"], res.estimates["se"]))
    True
    """
    pt = model.partable
    est = row_values(model, theta)
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    dv = np.sqrt(np.clip(np.diag(vcov), 0, None)) if vcov is not None else np.full(len(theta), np.nan)
    se[fr >= 0] = dv[fr[fr >= 0]]
    rows = pd.DataFrame(dict(lhs=pt["lhs"], op=pt["op"], rhs=pt["rhs"], label=pt["label"],
                             group=pt["group"] + 1, est=est, se=se))
    std, dvals, dstd = std_and_defined(model, theta)
    rows["std_all"] = std
    if model.defined:
        # central steps of 1e-4: truncation error ~1e-8 (the same on every machine), rounding
        # noise ~1e-12 (an unrounded 1e-6 step gives 1e-10, which differs between BLAS kernels)
        dJ = numeric_jacobian(lambda t: defined_values(model, t), theta, rel_step=1e-4)
        dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", dJ, vcov, dJ), 0, None))
        rows = append_defined_rows(rows, model.defined, dvals, dse, dstd, group=0)
    rows = add_z_pvalue(rows)
    if std_se and vcov is not None and np.all(np.isfinite(vcov)):
        def stdfun(t):
            s, _, ds = std_and_defined(model, t)
            return np.concatenate([s, ds])

        J = numeric_jacobian(stdfun, theta, rel_step=1e-4)  # central, as dJ above
        v = np.einsum("ij,jk,ik->i", J, vcov, J)
        rows["se_std"] = np.sqrt(np.clip(v, 0, None))
    else:
        rows["se_std"] = np.nan
    if model.n_groups == 1:
        rows = rows.drop(columns="group")
    cols = ["lhs", "op", "rhs", "label"] + (["group"] if model.n_groups > 1 else []) + [
        "est", "se", "z", "pvalue", "std_all", "se_std"]
    return rows[cols]


def heywood_messages(model, theta, est: pd.DataFrame) -> list[str]:
    """Warnings about improper solutions: negative variances, latent covariance not PD.

    Parameters
    ----------
    model : SEMModel
        The fitted model.
    theta : ndarray
        Free parameters at the estimates.
    est : DataFrame
        Its parameter table (:func:`build_estimates`).

    Returns
    -------
    list of str
        One message per negative variance estimate (a Heywood case) and per group whose
        model-implied covariance matrix of the latent variables is not positive definite;
        empty for a proper solution.

    References
    ----------
    Kolenikov, S., & Bollen, K. A. (2012). Testing negative error variances: is a Heywood
    case a symptom of misspecification? Sociological Methods & Research 41, 124-167.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + a*x2 + b*x3; ab := a*b", holzinger39.get_data())
    >>> heywood_messages(res.model, res.theta, res.estimates)
    []
    """
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


def append_defined_rows(rows: pd.DataFrame, defined, est, se, std, **constant) -> pd.DataFrame:
    """Append one ``:=`` row per defined parameter to a parameter table.

    Parameters
    ----------
    rows : DataFrame
        The free and fixed parameters (``lhs op rhs label ... est se std_all``).
    defined : list of (name, expression)
        The model's ``:=`` definitions.
    est, se, std : array-like
        Value, delta-method SE and standardised value of each definition.
    **constant
        Columns with one value for every defined row (e.g. ``group=0`` or ``level=0``).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> t = pd.DataFrame({"lhs": ["y"], "op": ["~"], "rhs": ["x"], "label": ["a"],
    ...                   "est": [0.5], "se": [0.1], "std_all": [0.4]})
    >>> append_defined_rows(t, [("ab", "a*2")], [1.0], [0.2], [0.8])["op"].tolist()
    ['~', ':=']
    """
    names = [d[0] for d in defined]
    drows = pd.DataFrame(dict(lhs=names, op=":=", rhs=[d[1] for d in defined], label=names,
                              **constant, est=est, se=se, std_all=std))
    return pd.concat([rows, drows], ignore_index=True)


def add_z_pvalue(rows: pd.DataFrame) -> pd.DataFrame:
    """Add Wald ``z = est / se`` and its two-sided normal ``pvalue`` (NaN where se is 0).

    Parameters
    ----------
    rows : DataFrame
        With ``est`` and ``se``.

    Returns
    -------
    DataFrame
        The same frame with ``z`` and ``pvalue``.

    Examples
    --------
    >>> add_z_pvalue(pd.DataFrame({"est": [0.2, 1.0], "se": [0.1, 0.0]}))["z"].tolist()
    [2.0, nan]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(rows["se"] > 0, rows["est"] / rows["se"], np.nan)
    rows["z"] = z
    rows["pvalue"] = 2 * stats.norm.sf(np.abs(z))
    return rows
