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


def std_all_rows(model, theta, row_values=None) -> np.ndarray:
    """std.all value for every partable row of ``model`` at ``theta``."""
    pt = model.partable
    idx = {v: i for i, v in enumerate(model.all_names)}
    out = np.full(len(pt), np.nan)
    per_group = {}
    for g in range(model.n_groups):
        A, S, m = model.matrices(theta, g)
        B = np.linalg.inv(np.eye(model.m) - A)
        T = B @ S @ B.T
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(T))
        per_group[g] = (A, S, m, sd, T)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, r in enumerate(pt.itertuples()):
            A, S, m, sd, T = per_group[r.group]
            if r.op == "=~":
                i, j = idx[r.rhs], idx[r.lhs]
                out[k] = A[i, j] * sd[j] / sd[i]
            elif r.op == "~":
                i, j = idx[r.lhs], idx[r.rhs]
                out[k] = A[i, j] * sd[j] / sd[i]
            elif r.op == "~~":
                i, j = idx[r.lhs], idx[r.rhs]
                if i == j:
                    out[k] = S[i, i] / T[i, i]
                else:
                    out[k] = S[i, j] / np.sqrt(S[i, i] * S[j, j])
            elif r.op == "~1":
                i = idx[r.lhs]
                out[k] = m[i] / sd[i]
    return out
