"""Measurement invariance across groups: configural, metric (equal loadings) and scalar
(equal loadings and intercepts) models with chi-square difference tests.

As in lavaan: every group has its own intercepts and a mean structure; with equal
intercepts the latent means are fixed to 0 in the first group and free in the others.
The difference test for ML is the plain likelihood-ratio test
``chisq_diff = chisq_restricted - chisq_free`` on ``df_diff`` degrees of freedom
(lavaan ``lavTestLRT``).

Reference: Meredith, W. (1993). Measurement invariance, factor analysis and factorial
invariance. Psychometrika 58, 525-543; Vandenberg, R. J. & Lance, C. E. (2000). A review
and synthesis of the measurement invariance literature. Organizational Research Methods
3, 4-70.

Example
-------
>>> from semopy.examples import holzinger39
>>> tab = invariance("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
...                  "speed =~ x7 + x8 + x9", holzinger39.get_data(), "school")
>>> list(tab.index)
['configural', 'metric', 'scalar']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .errors import SEMError
from .fit import fit_sem

__all__ = ["invariance", "warm_start"]

_STEPS = (("configural", ()), ("metric", ("loadings",)), ("scalar", ("loadings", "intercepts")))


def warm_start(previous, model) -> np.ndarray:
    """Start values for ``model`` from a fitted result of a related model (same rows)."""
    prev = previous.model.partable.copy()
    vals = np.where(prev["free"] >= 0, previous.theta[prev["free"].clip(lower=0)], prev["value"])
    lookup = {(r.lhs, r.op, r.rhs, r.group): v for r, v in zip(prev.itertuples(), vals)}
    theta = np.array(model.theta_start, dtype=float)
    seen = set()
    for r in model.partable.itertuples():
        if r.free < 0 or r.free in seen:
            continue
        v = lookup.get((r.lhs, r.op, r.rhs, r.group))
        if v is not None and np.isfinite(v):
            theta[r.free] = v
            seen.add(r.free)
    return theta


def invariance(model: str, data: pd.DataFrame, group: str, *, missing: str = "listwise",
               estimator: str = "ML") -> pd.DataFrame:
    """Fit configural, metric and scalar models and compare them.

    Parameters
    ----------
    model : str
        lavaan syntax of the (measurement) model.
    data : DataFrame
    group : str
        Column that defines the groups.
    missing, estimator
        Passed to :func:`fit_sem` (difference tests are plain LR tests: use ML).

    Returns
    -------
    DataFrame
        Index configural, metric, scalar; columns ``npar chisq df pvalue cfi tli rmsea
        rmsea_ci_lower rmsea_ci_upper srmr aic bic chisq_diff df_diff p_diff`` (differences
        against the previous row); ``.attrs["results"]`` holds the three SEMResults.
    """
    if estimator.upper() != "ML":
        raise SEMError("invariance() computes plain likelihood-ratio tests: use estimator='ML'")
    if group is None:
        raise SEMError("invariance() needs a group column")
    rows, results = [], {}
    prev = None
    for name, eq in _STEPS:
        res = fit_sem(model, data, group=group, group_equal=eq, missing=missing,
                      std_se=False,
                      start=None if prev is None else _start_for(prev, model, data, group, eq))
        results[name] = res
        fi = res.fit_indices
        row = {k: fi[k] for k in ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                  "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "aic", "bic")}
        if prev is not None:
            d = fi["chisq"] - prev.fit_indices["chisq"]
            ddf = fi["df"] - prev.fit_indices["df"]
            row.update(chisq_diff=d, df_diff=ddf,
                       p_diff=float(stats.chi2.sf(d, ddf)) if ddf > 0 else np.nan)
        else:
            row.update(chisq_diff=np.nan, df_diff=np.nan, p_diff=np.nan)
        rows.append(pd.Series(row, name=name))
        prev = res
    out = pd.DataFrame(rows)
    out.index.name = "model"
    out.attrs["results"] = results
    return out


def _start_for(prev, model, data, group, eq):
    """Build the next model once (cheaply) to map the previous estimates onto it."""
    from .fit import prepare_data
    from .model import SampleStats, build_model
    from .syntax import parse_model

    stmts = parse_model(model)
    ov, Xs, labels, _ = prepare_data(stmts, data, group=group)
    samples = [SampleStats.from_data(x, ov) for x in Xs]
    nxt = build_model(stmts, samples, group_labels=labels, group_equal=eq)
    return warm_start(prev, nxt)
