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
    """Covariance of theta from the expected information (lavaan ML default)."""
    _, _, H = ml_value_grad_info(model, theta)
    N = sum(s.n for s in model.sample)
    ev = np.linalg.eigvalsh(H)
    singular = ev[0] <= 1e-10 * max(ev[-1], 1e-300)
    if singular:
        return np.full_like(H, np.nan), True
    return 2.0 / N * np.linalg.inv(H), False


def std_and_defined(model, theta):
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
    std, dvals, dstd = std_and_defined(model, theta)
    rows["std_all"] = std
    if model.defined:
        # central steps of 1e-4: truncation error ~1e-8 (the same on every machine), rounding
        # noise ~1e-12 (an unrounded 1e-6 step gives 1e-10, which differs between BLAS kernels)
        dJ = numeric_jacobian(lambda t: defined_values(model, t), theta, rel_step=1e-4)
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


