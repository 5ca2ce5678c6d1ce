"""Modification indices: univariate score (Lagrange multiplier) tests for fixed-to-zero
parameters, with expected parameter changes (lavaan ``modindices()``).

For a candidate parameter c added to the fitted model (free set f), with F the ML
discrepancy, g its gradient and H its expected Hessian at the estimates (candidate at 0)::

    V   = H_cc - H_cf H_ff^-1 H_fc
    MI  = N g_c^2 / (2 V)          (chi-square, 1 df)
    EPC = -g_c / V

For a FIML fit (``missing="fiml"``) the same test is built from the casewise (FIML)
log-likelihood l of the incomplete data: with s = dl/dtheta and I the expected FIML
information (both totals over cases; per missingness pattern the normal information of the
observed variables, evaluated at the implied moments, chained through Delta)::

    V   = I_cc - I_cf I_ff^-1 I_fc
    MI  = s_c^2 / V
    EPC = s_c / V

which reduces to the formulas above for complete data. This is what lavaan 0.6 reports for
``missing = "ml"``: ``modindices()`` uses the *expected* information (its ``information``
argument defaults to "expected", whatever the fit's own ``information`` is), and with
``estimator = "MLR"`` the same numbers as with ML (the score test is not made robust).

Two-level ML fits (:func:`analysis.sem.twolevel.fit_twolevel`, listwise): each level's
candidates (those above, and regressions of the level's latent variables on its exogenous
covariates) are added to the joint two-level model and tested with its expected information
(-2 log L gradient g and expected Hessian H: MI = g_c^2 / (2 V), EPC = -g_c / V), as
lavaan's ``modindices()`` does; the result has a ``level`` column and sepc uses each level's
own standardisation. Two-level FIML fits are refused.

sepc.all rescales EPC as the completely standardised solution does (loadings by
sd(lv)/sd(ov), residual covariances by the residual standard deviations).
Candidates: fixed non-zero loadings (markers; identified only with cross-group equality
constraints) and, where absent from the model: loadings of every latent on every indicator,
covariances among observed (non-exogenous) variables, covariances among latent variables
and regressions of latent on latent variables. Candidates with V ~ 0 are equivalent to a
parameter already free (e.g. a reversed path) and are dropped, as lavaan does.

Reference: Sörbom, D. (1989). Model modification. Psychometrika 54, 371-384; Saris, W. E.,
Satorra, A. & Sörbom, D. (1987). The detection and correction of specification errors in
structural equation models. Sociological Methodology 17, 105-129.

Example
-------
>>> mi = modification_indices(fit_sem(model, data))         # doctest: +SKIP
>>> mi.head()                                                 # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import fiml
from .errors import SEMError
from .estimate import ml_value_grad_info
from .model import SEMModel
from .twolevel import TwoLevelModel

__all__ = ["modification_indices"]


def _candidates(model) -> list[dict]:
    pt = model.partable
    ov_x = set(getattr(model, "ov_x", []))
    indicators = list(dict.fromkeys(pt.loc[pt["op"] == "=~", "rhs"]))
    indicators = [v for v in indicators if v in model.ov_names]
    ov = [v for v in model.ov_names if v not in ov_x]
    lv = model.lv_names
    out = []
    for g in range(model.n_groups):
        sub = pt[pt["group"] == g]
        have = set(zip(sub["lhs"], sub["op"], sub["rhs"]))
        have |= {(r, o, lh) for lh, o, r in have if o == "~~"}
        for f in lv:
            for y in indicators:
                if (f, "=~", y) not in have:
                    out.append(dict(lhs=f, op="=~", rhs=y, group=g))
        for i in range(len(ov)):
            for j in range(i + 1, len(ov)):
                a, b = ov[i], ov[j]
                if (a, "~~", b) not in have:
                    out.append(dict(lhs=a, op="~~", rhs=b, group=g))
        for i in range(len(lv)):
            for j in range(i + 1, len(lv)):
                a, b = lv[i], lv[j]
                if (a, "~~", b) not in have:
                    out.append(dict(lhs=a, op="~~", rhs=b, group=g))
        for a in lv:
            for b in lv:
                if a != b and (a, "~", b) not in have:
                    out.append(dict(lhs=a, op="~", rhs=b, group=g))
    return out


def _sepc(model, theta, cands, epc):
    """(sepc_lv, sepc_all) of the candidates: EPC rescaled as the standardised solutions
    scale loadings (sd(lv), sd(ov)), regressions and residual covariances."""
    idx = {v: i for i, v in enumerate(model.all_names)}
    sepc_lv = np.full(len(cands), np.nan)
    sepc_all = np.full(len(cands), np.nan)
    per_g = {}
    for gi in range(model.n_groups):
        A, S, m = model.matrices(theta, gi)
        T = model.total_cov(theta, gi)
        per_g[gi] = (S, np.sqrt(np.clip(np.diag(T), 0, None)))
    lvset = set(model.lv_names)
    for k, cand in enumerate(cands):
        S, sd = per_g[cand["group"]]
        i, j = idx[cand["lhs"]], idx[cand["rhs"]]
        if cand["op"] == "=~":  # lhs latent, rhs indicator
            sepc_lv[k] = epc[k] * sd[i]
            sepc_all[k] = epc[k] * sd[i] / sd[j]
        elif cand["op"] == "~":  # latent on latent
            sepc_all[k] = sepc_lv[k] = epc[k] * sd[j] / sd[i]
        else:
            den = np.sqrt(S[i, i] * S[j, j]) if S[i, i] > 0 and S[j, j] > 0 else np.nan
            sepc_all[k] = epc[k] / den
            if cand["lhs"] in lvset and cand["rhs"] in lvset:
                sepc_lv[k] = sepc_all[k]
            else:
                sepc_lv[k] = epc[k]
    return sepc_lv, sepc_all


def _extended_level(m, cands_extra=()):
    """A level model with its fixed loadings (markers) freed and the candidates appended as
    free parameters; returns (model, candidates, values at the fitted model)."""
    pt = m.partable
    q = m.n_free
    rel = pt.index[(pt["free"] < 0) & (pt["op"] == "=~")].tolist()
    cands = _candidates(m) + list(cands_extra)
    pt_ext = pt.copy()
    for k, i in enumerate(rel):
        pt_ext.loc[i, "free"] = q + k
    base = q + len(rel)
    ext = pd.DataFrame([dict(c, user=False, label="", start=np.nan, free=base + k,
                             value=np.nan) for k, c in enumerate(cands)])
    if len(ext):
        pt_ext = pd.concat([pt_ext, ext[pt.columns]], ignore_index=True)
    cands = [dict(lhs=pt.loc[i, "lhs"], op="=~", rhs=pt.loc[i, "rhs"], group=0)
             for i in rel] + cands
    m2 = SEMModel(pt_ext, m.ov_names, m.lv_names, m.sample, m.meanstructure,
                  m.group_labels, [], q + len(cands))
    m2.ov_x = getattr(m, "ov_x", [])
    m2.group_equal = ()
    vals = np.concatenate([pt.loc[rel, "value"].to_numpy(float),
                           np.zeros(len(cands) - len(rel))])
    return m2, cands, vals


def _twolevel_mi(result, minimum):
    """Score tests of a two-level ML fit, each level's candidates in the joint likelihood
    (expected information of the two-level model, as lavaan's ``modindices()``)."""
    if getattr(result, "missing", "listwise") == "fiml":
        raise SEMError("modification indices are not implemented for two-level FIML fits "
                       "(missing='fiml'); use a listwise two-level fit")
    tl = result.model
    theta = result.theta
    q = tl.n_free
    cols = ["lhs", "op", "rhs", "level", "mi", "epc", "sepc_lv", "sepc_all", "pvalue"]
    parts, maps, cands, vals, n_new = [], [], [], [], q
    for lev, m, mp in ((1, tl.within, tl.map_w), (2, tl.between, tl.map_b)):
        pt = m.partable
        have = set(zip(pt["lhs"], pt["op"], pt["rhs"]))
        # regressions of the level's latent variables on its exogenous covariates
        extra = [dict(lhs=f, op="~", rhs=x, group=0) for f in m.lv_names
                 for x in getattr(m, "ov_x", []) if (f, "~", x) not in have]
        m2, c, v = _extended_level(m, extra)
        parts.append(m2)
        maps.append(np.concatenate([mp, n_new + np.arange(len(c))]))
        cands += [dict(cc, level=lev) for cc in c]
        vals.append(v)
        n_new += len(c)
    if not cands:
        return pd.DataFrame(columns=cols)
    ext = TwoLevelModel(parts[0], parts[1], parts[0].partable, parts[1].partable, maps[0],
                        maps[1], n_new, tl.pos_b, [], tl.cs)
    th = np.concatenate([theta] + vals)
    f, g, H = ext.value_grad(th, with_info=True)
    if not np.isfinite(f):
        raise SEMError("implied covariance matrices are not positive definite at the "
                       "estimates: modification indices not computed")
    fr, c = np.arange(q), np.arange(q, n_new)
    Hfc = H[np.ix_(fr, c)]
    V = np.diag(H[np.ix_(c, c)]) - np.einsum("fc,fc->c", Hfc,
                                             np.linalg.solve(H[np.ix_(fr, fr)], Hfc))
    gc = g[c]
    # g, H: gradient and expected Hessian of -2 log L, so the score is -g/2, the
    # information H/2: MI = g^2 / (2 V), EPC = -g / V
    ok = V > 1e-8 * np.maximum(np.diag(H[np.ix_(c, c)]), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, gc**2 / (2.0 * V), np.nan)
        epc = np.where(ok, -gc / V, np.nan)
    sepc_lv = np.full(len(cands), np.nan)
    sepc_all = np.full(len(cands), np.nan)
    for lev, m, mp in ((1, tl.within, tl.map_w), (2, tl.between, tl.map_b)):
        k = np.array([i for i, cc in enumerate(cands) if cc["level"] == lev], int)
        if len(k):
            sepc_lv[k], sepc_all[k] = _sepc(m, theta[mp], [cands[i] for i in k], epc[k])
    out = pd.DataFrame(cands)
    out["mi"], out["epc"], out["sepc_lv"], out["sepc_all"] = mi, epc, sepc_lv, sepc_all
    out["pvalue"] = stats.chi2.sf(mi, 1)
    out = out[out["mi"].notna() & (out["mi"] >= minimum)]
    out = out.sort_values("mi", ascending=False, kind="mergesort").reset_index(drop=True)
    return out[cols]


def modification_indices(result, *, minimum: float = 0.0) -> pd.DataFrame:
    """Score tests for omitted loadings and (residual) covariances.

    Parameters
    ----------
    result : SEMResult
        An ML or MLR fit, complete data or ``missing="fiml"`` (then the FIML score test
        with the expected FIML information, as lavaan's ``modindices()``; MLR gives the
        same indices as ML, as in lavaan); or a two-level fit with listwise deletion
        (score tests at both levels, with a ``level`` column).
    minimum : float
        Keep rows with ``mi >= minimum``.

    Returns
    -------
    DataFrame
        ``lhs op rhs [group | level] mi epc sepc_lv sepc_all pvalue``, sorted by
        decreasing mi.

    Raises
    ------
    SEMError
        For a FIML result that does not carry its data by missingness pattern
        (``result.extra["patterns"]``, set by ``fit_sem(..., missing="fiml")``), for a
        two-level FIML fit and for ordinal fits.
    """
    model = result.model
    if isinstance(model, TwoLevelModel):
        return _twolevel_mi(result, minimum)
    if getattr(result, "estimator", "ML") in ("WLSMV", "DWLS", "WLS"):  # ordinal (wls.py)
        raise SEMError("modification indices are not implemented for ordinal (WLSMV/DWLS/"
                       "WLS) fits")
    is_fiml = getattr(result, "missing", "listwise") == "fiml"
    pats = (getattr(result, "extra", None) or {}).get("patterns") if is_fiml else None
    if is_fiml and (pats is None or len(pats) != model.n_groups):
        raise SEMError("modification indices of a FIML fit need the data by missingness "
                       "pattern (result.extra['patterns'], set by fit_sem(missing='fiml'))")
    theta = result.theta
    cands = _candidates(model)
    cols = ["lhs", "op", "rhs"] + (["group"] if model.n_groups > 1 else []) + [
        "mi", "epc", "sepc_lv", "sepc_all", "pvalue"]
    q = model.n_free
    pt = model.partable
    # fixed non-zero loadings (markers) are candidates too: releasing one is identified in
    # multi-group models with equal loadings (and dropped as V ~ 0 otherwise)
    rel = pt.index[(pt["free"] < 0) & (pt["op"] == "=~")].tolist()
    pt_ext = pt.copy()
    for k, i in enumerate(rel):
        pt_ext.loc[i, "free"] = q + k
    base = q + len(rel)
    ext = pd.DataFrame([dict(c, user=False, label="", start=np.nan, free=base + k,
                             value=np.nan) for k, c in enumerate(cands)])
    if len(ext):
        pt_ext = pd.concat([pt_ext, ext[pt.columns]], ignore_index=True)
    cands = [dict(lhs=pt.loc[i, "lhs"], op="=~", rhs=pt.loc[i, "rhs"],
                  group=int(pt.loc[i, "group"])) for i in rel] + cands
    if not cands:
        return pd.DataFrame(columns=cols)
    m2 = SEMModel(pt_ext, model.ov_names, model.lv_names, model.sample, model.meanstructure,
                  model.group_labels, [], q + len(cands))
    m2.ov_x = getattr(model, "ov_x", [])
    th = np.concatenate([theta, pt.loc[rel, "value"].to_numpy(float),
                         np.zeros(len(cands) - len(rel))])
    if is_fiml:
        # the EM moments in model.sample are not sufficient statistics of incomplete data:
        # score and information come from the casewise likelihood of the patterns
        ll, g, H = fiml.value_grad_info(m2, pats, th)
        if not np.isfinite(ll):
            raise SEMError("implied covariance matrix is not positive definite at the "
                           "estimates: modification indices not computed")
        # g = dl/dtheta, H = expected information of l (totals): F = -2 l / N + const gives
        # N g_F^2 / (2 V_F) = g^2 / V and -g_F / V_F = g / V
        scale, sign = 1.0, 1.0
    else:
        _, g, H = ml_value_grad_info(m2, th)
        scale, sign = sum(s.n for s in model.sample) / 2.0, -1.0
    f = np.arange(q)
    c = np.arange(q, q + len(cands))
    Hff_inv_Hfc = np.linalg.solve(H[np.ix_(f, f)], H[np.ix_(f, c)])
    V = np.diag(H[np.ix_(c, c)]) - np.einsum("fc,fc->c", H[np.ix_(f, c)], Hff_inv_Hfc)
    gc = g[c]
    # V ~ 0: the candidate is equivalent to a free parameter (not identified): dropped
    ok = V > 1e-8 * np.maximum(np.diag(H[np.ix_(c, c)]), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, scale * gc**2 / V, np.nan)
        epc = np.where(ok, sign * gc / V, np.nan)
    sepc_lv, sepc_all = _sepc(model, theta, cands, epc)
    out = pd.DataFrame(cands)
    out["group"] = out["group"] + 1
    out["mi"] = mi
    out["epc"] = epc
    out["sepc_lv"] = sepc_lv
    out["sepc_all"] = sepc_all
    out["pvalue"] = stats.chi2.sf(mi, 1)
    out = out[out["mi"].notna() & (out["mi"] >= minimum)]
    out = out.sort_values("mi", ascending=False, kind="mergesort").reset_index(drop=True)
    return out[cols]
