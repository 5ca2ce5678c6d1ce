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
>>> inv = invariance("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
...                  "speed =~ x7 + x8 + x9", holzinger39.get_data(), "school")
>>> list(inv.table.index)
['configural', 'metric', 'scalar']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import SEMError
from .estimate import ml_value_grad_info
from .fit import fit_sem
from .model import SEMModel

__all__ = ["InvarianceResult", "invariance", "warm_start"]

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


@dataclass(frozen=True, eq=False)
class InvarianceResult:
    """Configural, metric and scalar fits and their comparison, as returned by :func:`invariance`.

    Attributes
    ----------
    table : DataFrame
        Index ``configural metric scalar`` (named ``model``); columns ``npar chisq df pvalue
        cfi tli rmsea rmsea_ci_lower rmsea_ci_upper srmr aic bic chisq_diff df_diff p_diff``
        (differences against the previous row).
    fits : dict of str to SEMResult
        The three fitted models, keyed ``"configural"``, ``"metric"``, ``"scalar"``.

    References
    ----------
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika*, 58, 525-543.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> inv = invariance("visual =~ x1 + x2 + x3", holzinger39.get_data(), "school")
    >>> list(inv.fits) == list(inv.table.index)
    True
    >>> inv.fits["scalar"].model.group_equal
    ('loadings', 'intercepts')
    """

    table: pd.DataFrame
    fits: dict


def invariance(model: str, data: pd.DataFrame, group: str, *, missing: str = "listwise",
               estimator: str = "ML") -> InvarianceResult:
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
    InvarianceResult
        ``table``: index configural, metric, scalar; columns ``npar chisq df pvalue cfi tli
        rmsea rmsea_ci_lower rmsea_ci_upper srmr aic bic chisq_diff df_diff p_diff``
        (differences against the previous row); ``fits`` holds the three SEMResults.
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
    return InvarianceResult(out, results)


def _start_for(prev, model, data, group, eq):
    """Build the next model once (cheaply) to map the previous estimates onto it."""
    from .model import SampleStats, build_model
    from .pipeline import prepare_data
    from .syntax import parse_model

    stmts = parse_model(model)
    ov, Xs, labels, _ = prepare_data(stmts, data, group=group)
    samples = [SampleStats.from_data(x, ov) for x in Xs]
    nxt = build_model(stmts, samples, group_labels=labels, group_equal=eq)
    return warm_start(prev, nxt)


def release_tests(result, which: Sequence[str] = ("loadings", "intercepts")) -> pd.DataFrame:
    """Score tests for releasing each group's equality-constrained loading or intercept.

    For every parameter held equal across groups (``group_equal``) and every group ``g``
    after the first, the univariate score (Lagrange multiplier) test of freeing group
    ``g``'s copy from the common value — the test lavaan's ``lavTestScore()`` reports for the
    constraint ``p_1 == p_g``. Computed from the ML gradient and expected information of a
    re-parametrised model (common value, and group ``g``'s deviation from it).

    Parameters
    ----------
    result : SEMResult
        A multi-group ML fit with complete data (listwise) and ``group_equal`` constraints.
    which : sequence of {"loadings", "intercepts"}

    Returns
    -------
    DataFrame
        ``lhs op rhs group mi df pvalue epc p_bonferroni``, sorted by decreasing ``mi``;
        ``group`` is the group label; ``epc`` the expected change of group ``g``'s parameter
        away from the common value; ``p_bonferroni`` multiplies by the number of tests.

    References
    ----------
    Sörbom, D. (1989). Model modification. Psychometrika 54, 371-384; Byrne, B. M.,
    Shavelson, R. J. & Muthén, B. (1989). Testing for the equivalence of factor covariance
    and mean structures: the issue of partial measurement invariance. Psychological
    Bulletin 105, 456-466.

    Examples
    --------
    >>> scalar = invariance(meas, df, "community_type").fits["scalar"]  # doctest: +SKIP
    >>> release_tests(scalar).head()                                        # doctest: +SKIP
    """
    model = result.model
    if model.n_groups < 2:
        raise ValueError("release tests need a multi-group fit")
    if result.missing != "listwise":
        raise ValueError("release tests are implemented for complete-data (listwise) ML fits")
    ops = {"loadings": "=~", "intercepts": "~1"}
    bad = set(which) - set(ops)
    if bad:
        raise ValueError(f"which: unsupported {sorted(bad)}; use 'loadings', 'intercepts'")
    pt = model.partable.reset_index(drop=True)
    q = model.n_free
    ov = set(model.ov_names)
    cands = []
    for i, r in pt.iterrows():
        if r["free"] < 0 or r["group"] == 0 or r["op"] not in {ops[w] for w in which}:
            continue
        if r["op"] == "~1" and r["lhs"] not in ov:
            continue
        shared = pt[(pt["free"] == r["free"])]
        if (shared["group"] == 0).any() and len(shared) > 1:
            cands.append(i)
    cols = ["lhs", "op", "rhs", "group", "mi", "df", "pvalue", "epc", "p_bonferroni"]
    if not cands:
        return pd.DataFrame(columns=cols)
    ext = pt.copy()
    origin = np.arange(q + len(cands))
    for k, i in enumerate(cands):
        origin[q + k] = pt.loc[i, "free"]
        ext.loc[i, "free"] = q + k
    m2 = SEMModel(ext, model.ov_names, model.lv_names, model.sample, model.meanstructure,
                  model.group_labels, [], q + len(cands))
    m2.ov_x = getattr(model, "ov_x", [])
    th = np.asarray(result.theta, float)[origin]
    _, g, H = ml_value_grad_info(m2, th)
    # psi = M theta + E delta: every copy starts from its origin's value
    M = np.zeros((q + len(cands), q))
    M[np.arange(q + len(cands)), origin] = 1.0
    Hff = M.T @ H @ M
    Hfc = M.T @ H[:, q:]
    Hcc = np.diag(H)[q:]
    V = Hcc - np.einsum("fc,fc->c", Hfc, np.linalg.solve(Hff, Hfc))
    N = sum(s.n for s in model.sample)
    gc = g[q:] - (Hfc.T @ np.linalg.solve(Hff, M.T @ g))  # ~ g[q:] at the optimum
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(V > 1e-10, N * gc**2 / (2 * V), np.nan)
        epc = np.where(V > 1e-10, -gc / V, np.nan)
    sub = pt.loc[cands, ["lhs", "op", "rhs", "group"]].reset_index(drop=True)
    sub["group"] = [model.group_labels[gg] for gg in sub["group"]]
    sub["mi"] = mi
    sub["df"] = 1
    sub["pvalue"] = stats.chi2.sf(mi, 1)
    sub["epc"] = epc
    sub["p_bonferroni"] = np.minimum(1.0, sub["pvalue"] * len(cands))
    return sub.sort_values("mi", ascending=False, kind="mergesort").reset_index(drop=True)[cols]
