r"""Ordinal SEM: DWLS / WLS / WLSMV fitting on thresholds and polychoric correlations.

Stage 3 of the three-stage estimator (Muthen 1984; Muthen, du Toit & Spisic 1997): with
``s_g = [tau_g, vech-offdiag(P_g)]`` the thresholds and polychorics of group ``g``
(:mod:`analysis.sem.polychoric`) and ``sigma_g(theta)`` their model-implied values,

    F(theta) = sum_g (N_g / N) (s_g - sigma_g)' W_g (s_g - sigma_g),

with ``W_g = diag(Gamma_g)^-1`` (DWLS, WLSMV) or ``Gamma_g^-1`` (WLS); Gauss-Newton steps
``(D'WD)^-1 D'W (s - sigma)`` with step halving.

Model for the latent responses (lavaan's conventions): the RAM structure of
:mod:`analysis.sem.model` gives the covariance ``Sigma`` and mean ``mu`` of ``y*``
(item intercepts fixed at 0); with scale factors ``s_j``

    rho_ij = s_i s_j Sigma_ij,        tau*_jk = s_j (tau_jk - mu_j).

* ``parameterization="delta"`` (lavaan's default): ``s_j`` are parameters ("~*~", fixed
  at 1 in the first group) and the residual variances are not free:
  ``theta_jj = 1 / s_j^2 - [Lambda Psi Lambda']_jj``;
* ``parameterization="theta"``: residual variances are parameters (fixed at 1 in the
  first group) and ``s_j = Sigma_jj^-1/2``.
With ``group_equal`` containing "thresholds", later groups free their scale factors
(delta) or residual variances (theta) and their latent means, as lavaan does.
Continuous items (when ``ordered`` lists only some variables) keep free intercepts and
residual variances and a scale of 1; their statistics are ``-mean`` (among the
thresholds), the variance and covariances (lavaan's ``WLS.obs``).

Inference (WLSMV): ``vcov = (D'WD)^-1 D'W Gamma W D (D'WD)^-1 / N``; the test statistic
``T = N F`` and its mean- and variance-adjusted ("scaled-shifted") version
``T* = a T + b`` with ``a = sqrt(df / tr((U Gamma)^2))``, ``b = df - a tr(U Gamma)``,
``U = W - W D (D'WD)^-1 D' W`` (Asparouhov & Muthen 2010); the scaling factor reported
is ``1 / a``. DWLS and WLS use ``(D'WD)^-1 / N`` and ``T``. Fit indices as lavaan reports
them for these estimators: CFI / TLI against the independence model (thresholds free,
correlations 0), RMSEA with ``N - G`` in the denominator, SRMR from the correlation
residuals; the ``_scaled`` versions use the scaled-shifted statistics of model and
baseline.

Nested models: :func:`lrt_scaled` (Satorra 2000, scaled-shifted as lavaan's
``lavTestLRT`` for WLSMV).

References
----------
Muthen, B. (1984). Psychometrika 49, 115-132.
Muthen, B., du Toit, S. H. C. & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical
and continuous outcomes. Technical report.
Asparouhov, T. & Muthen, B. (2010). Simple second order chi-square correction.
Technical appendix, Mplus.
Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
moment structures. In Heijmans, Pollock & Satorra (eds.), Innovations in Multivariate
Statistical Analysis, 233-247. Kluwer.
Rosseel, Y. (2012). lavaan. J. Stat. Softw. 48(2).

Example
-------
>>> import pandas as pd
>>> from semopy.examples import holzinger39
>>> from analysis.sem import fit_sem
>>> d = holzinger39.get_data().filter(regex="^x[0-9]$").apply(lambda c: pd.qcut(c, 4, labels=False))
>>> res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
...               "speed =~ x7 + x8 + x9", d, ordered=True)
>>> res.estimates.query("op == '|'").shape[0]
27
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd
from scipy import stats

from .defined import label_values
from .errors import SEMError, SEMWarning
from .fit_indices import rmsea_ci
from .model import SampleStats, SEMModel, build_model, observed_variables
from .polychoric import encode_ordinal, ordinal_stats, pair_index
from .result import SEMResult
from .syntax import parse_model

__all__ = ["fit_wls", "OrdinalModel", "lrt_scaled", "WLS_ESTIMATORS", "wls_refit",
           "bootstrap_draws_wls", "jackknife_draws_wls"]

WLS_ESTIMATORS = ("WLSMV", "DWLS", "WLS")


class OrdinalModel(SEMModel):
    """A :class:`SEMModel` for latent responses, with thresholds and scale factors.

    Adds to the parent's API (see :mod:`analysis.sem.model`):

    * ``implied(theta, g) -> ndarray`` — ``[tau*, var, vech-offdiag(rho)]`` of group ``g``
      (``var``: variances of the continuous items, if any);
    * ``implied_jacobian(theta, g) -> ndarray (n_stats, q)``;
    * ``scales(theta, g) -> ndarray (p,)`` — scale factors ``s_j`` (1 / sd of ``y*``);
    * ``parameterization`` ("delta" or "theta"), ``stats`` (one OrdinalStats per group).

    ``matrices`` fills the residual variances of the items from the scale factors in the
    delta parameterisation, so that ``sigma_mu`` and ``total_cov`` (and with them the
    standardised solution) see the full latent-response covariance.
    """

    def __init__(self, partable, ov_names, lv_names, sample, group_labels, defined, n_free,
                 *, parameterization, ord_stats):
        self.parameterization = parameterization
        self.stats = ord_stats
        super().__init__(partable, ov_names, lv_names, sample, True, group_labels, defined,
                         n_free)
        pt = self.partable
        p = len(self.ov_names)
        self.num = np.asarray(ord_stats[0].num, bool)  # continuous items
        self._ordi = np.flatnonzero(~self.num)
        self._th_free, self._th_fixed, self._sc_free, self._sc_fixed = [], [], [], []
        for g in range(self.n_groups):
            sub = pt[pt["group"] == g]
            th = sub[sub["op"] == "|"]
            self._th_free.append(th["free"].to_numpy())
            self._th_fixed.append(th["value"].to_numpy(dtype=float))
            sc = sub[sub["op"] == "~*~"].set_index("lhs").reindex(self.ov_names)
            self._sc_free.append(np.nan_to_num(sc["free"].to_numpy(dtype=float),
                                               nan=-1).astype(int))
            fixed = sc["value"].to_numpy(dtype=float)
            self._sc_fixed.append(np.where(self.num, 1.0, fixed))
        self._pairs = pair_index(p)

    # latent-response structure ----------------------------------------------------------
    def thresholds(self, theta, g):
        """Threshold parameters of group ``g`` (partable order of the ``|`` rows)."""
        f, v = self._th_free[g], self._th_fixed[g]
        return np.where(f >= 0, theta[np.maximum(f, 0)], v)

    def _delta_scales(self, theta, g):
        f, v = self._sc_free[g], self._sc_fixed[g]
        return np.where(f >= 0, theta[np.maximum(f, 0)], v)

    def _core(self, theta, g):
        # one inverse per evaluation (the parent's _core would invert again)
        A, S, m = SEMModel.matrices(self, theta, g)
        B = np.linalg.inv(np.eye(self.m) - A)
        G = B[: self.p]
        if self.parameterization == "delta":
            self._fill_residuals(S, G, theta, g)
        return A, S, m, B, G

    def _fill_residuals(self, S, G, theta, g):
        o = self._ordi
        S[o, o] = 0.0
        common = ((G[o] @ S) * G[o]).sum(axis=1)
        d = self._delta_scales(theta, g)[o]
        S[o, o] = 1.0 / d**2 - common

    def matrices(self, theta, g: int = 0):
        """RAM matrices (A, S, m); in the delta parameterisation the items' residual
        variances in S are ``1 / s_j^2`` minus their common variance."""
        A, S, m = SEMModel.matrices(self, theta, g)
        if self.parameterization == "delta":
            G = np.linalg.inv(np.eye(self.m) - A)[: self.p]
            self._fill_residuals(S, G, theta, g)
        return A, S, m

    def scales(self, theta, g: int = 0) -> np.ndarray:
        """Scale factors ``s_j = 1 / sd(y*_j)`` (1 for continuous items)."""
        if self.parameterization == "delta":
            return self._delta_scales(theta, g)
        Sigma, _ = self.sigma_mu(theta, g)
        return np.where(self.num, 1.0, 1.0 / np.sqrt(np.diag(Sigma)))

    def implied(self, theta, g: int = 0) -> np.ndarray:
        """Model-implied ``[tau*, var, vech-offdiag(rho)]`` of group ``g``."""
        Sigma, mu = self.sigma_mu(theta, g)
        s = self.scales(theta, g)
        st = self.stats[g]
        it, tn = st.th_item, st.th_num
        th = np.empty(len(it))
        io = it[~tn]
        th[~tn] = s[io] * (self.thresholds(theta, g) - mu[io])
        th[tn] = -mu[it[tn]]  # continuous items: -mean, as lavaan's WLS.obs
        i, j = self._pairs
        return np.concatenate([th, np.diag(Sigma)[self.num], s[i] * s[j] * Sigma[i, j]])

    def implied_jacobian(self, theta, g: int = 0) -> np.ndarray:
        """Jacobian of :meth:`implied` with respect to theta, (n_stats, q), analytic."""
        Sigma, mu = self.sigma_mu(theta, g)
        s = self.scales(theta, g)
        dS, dmu = self.jacobian(theta, g)  # off-diagonal dSigma exact in both cases
        q, p = self.n_free, self.p
        st = self.stats[g]
        tn = st.th_num
        it = st.th_item[~tn]
        tau = self.thresholds(theta, g)
        i, j = self._pairs
        ds = np.zeros((q, p))
        diag = dS[:, np.arange(p), np.arange(p)]
        if self.parameterization == "delta":
            f = self._sc_free[g]
            ds[f[f >= 0], np.flatnonzero(f >= 0)] = 1.0
        else:
            ds = -0.5 * s[None, :] ** 3 * diag
            ds[:, self.num] = 0.0
        Jo = ds[:, it] * (tau - mu[it])[None, :] - s[it][None, :] * dmu[:, it]
        f = self._th_free[g]
        Jo[f[f >= 0], np.flatnonzero(f >= 0)] += s[it][f >= 0]
        Jt = np.zeros((q, len(tn)))
        Jt[:, ~tn] = Jo
        Jt[:, tn] = -dmu[:, st.th_item[tn]]
        Jv = diag[:, self.num]
        Jr = (s[i] * s[j])[None, :] * dS[:, i, j] + Sigma[i, j][None, :] * (
            ds[:, i] * s[j][None, :] + s[i][None, :] * ds[:, j])
        return np.hstack([Jt, Jv, Jr]).T


# ---------------------------------------------------------------------------------------


def _ordered_columns(ordered, ov):
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return list(ov)
    if isinstance(ordered, str):
        ordered = [ordered]
    cols = set(ordered or [])
    out = [v for v in ov if v in cols]
    if not out:
        raise SEMError(f"none of the ordered columns ({', '.join(map(str, sorted(cols)))}) "
                       f"is an observed variable of the model")
    return out


def _partable(stmts, samples, labels, group_equal, ord_stats, parameterization):
    """lavaan's partable for ordered indicators (see the module docstring); continuous
    items keep free intercepts and residual variances."""
    ge = set(group_equal)
    bad = ge - {"loadings", "thresholds"}
    if bad:
        raise SEMError(f"group_equal: unsupported {sorted(bad)} with ordered data; use "
                       f"'loadings', 'thresholds'")
    base = build_model(stmts, samples, group_labels=labels,
                       group_equal=tuple(g for g in group_equal if g == "loadings"),
                       meanstructure=True, fixed_x=False)
    ov, lv = base.ov_names, base.lv_names
    if getattr(base, "ov_x", []):
        raise SEMError(f"observed predictors (exogenous covariates) are not supported with "
                       f"ordered data: {', '.join(base.ov_x)}")
    pt = base.partable.copy()
    pt["key"] = [("old", int(f)) if f >= 0 else None for f in pt["free"]]
    G = len(samples)
    eq_th = "thresholds" in ge and G > 1
    num = np.asarray(ord_stats[0].num, bool)
    ovs = {v for v, c in zip(ov, num) if not c}  # the ordered items
    rows = []
    for r in pt.to_dict("records"):
        g = r["group"]
        if r["op"] == "~1" and r["lhs"] in ovs:
            r.update(key=None, value=0.0)
        elif r["op"] == "~1" and r["lhs"] in lv:
            if g > 0 and eq_th:
                r.update(key=("lvmean", g, r["lhs"]), value=np.nan, start=0.0)
            elif not (r["key"] is not None):
                r.update(value=0.0)
        elif r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in ovs and not r["user"]:
            if parameterization == "delta":
                r.update(key=None, value=0.0)
            elif g > 0 and eq_th:
                r.update(key=("resvar", g, r["lhs"]), value=np.nan, start=1.0)
            else:
                r.update(key=None, value=1.0)
        rows.append(r)
    out = []
    for g in range(G):
        grp = [r for r in rows if r["group"] == g]
        st = ord_stats[g]
        th_rows = []
        for k, (j, t) in enumerate(zip(st.th_item, st.th)):
            if st.th_num[k]:
                continue
            kk = int(np.sum(st.th_item[:k] == j)) + 1
            key = ("th", ov[j], kk) if eq_th else ("th", g, ov[j], kk)
            th_rows.append(dict(lhs=ov[j], op="|", rhs=f"t{kk}", group=g, user=False,
                                label="", start=float(t), free=-1, value=np.nan, key=key))
        sc_rows = []
        for v in [v for v in ov if v in ovs]:  # theta: derived scale factors, never free
            free = g > 0 and eq_th and parameterization == "delta"
            sc_rows.append(dict(lhs=v, op="~*~", rhs=v, group=g, user=False, label="",
                                start=1.0, free=-1, value=np.nan if free else 1.0,
                                key=("scale", g, v) if free else None))
        nuser = sum(1 for r in grp if r["user"])
        out += grp[:nuser] + th_rows + grp[nuser:] + sc_rows
    free, by_key, n = [], {}, 0
    for r in out:
        k = r["key"]
        if k is None:
            free.append(-1)
            continue
        if k not in by_key:
            by_key[k] = n
            n += 1
        free.append(by_key[k])
    ptn = pd.DataFrame(out)
    ptn["free"] = free
    ptn.loc[ptn["free"] >= 0, "value"] = np.nan
    ptn = ptn.drop(columns="key").reset_index(drop=True)
    return ptn, ov, lv, base.defined, n


def _weights(st: "object", estimator):
    G = st.gamma
    if estimator == "WLS":
        ev = np.linalg.eigvalsh(G)
        if ev[0] <= 1e-12 * ev[-1]:
            raise SEMError("WLS: the asymptotic covariance matrix of the sample statistics is "
                           "singular (too few observations for full WLS); use WLSMV")
        return np.linalg.inv(G)
    return np.diag(1.0 / np.diag(G))


def _objective(model, theta, s_list, W_list, wg):
    F = 0.0
    for g in range(model.n_groups):
        r = s_list[g] - model.implied(theta, g)
        F += wg[g] * r @ W_list[g] @ r
    return F


def wls_refit(model, theta0, s_list, W_list, wg, *, max_iter=500, tol=1e-9):
    """Gauss-Newton minimisation of the (D)WLS discrepancy from ``theta0``.

    Parameters
    ----------
    model : OrdinalModel
    theta0 : ndarray
        Starting values.
    s_list, W_list : lists of ndarray
        Sample statistics and weight matrices per group.
    wg : sequence of float
        Group weights ``N_g / N``.
    max_iter : int
    tol : float
        Convergence when the largest step is below ``tol``.

    Returns
    -------
    theta, F, iterations, converged

    References
    ----------
    Browne, M. W. (1984). Asymptotically distribution-free methods for the analysis of
    covariance structures. Br. J. Math. Stat. Psychol. 37, 62-83.

    Examples
    --------
    >>> import pandas as pd
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> d = holzinger39.get_data().filter(regex="^x[0-9]$").apply(
    ...     lambda c: pd.qcut(c, 3, labels=False))
    >>> res = fit_sem("f =~ x1 + x2 + x3", d, ordered=True)
    >>> ex = res.extra
    >>> th, F, it, ok = wls_refit(res.model, res.model.theta_start, ex["s"], ex["W"],
    ...                           ex["wg"])
    >>> bool(ok), bool(np.allclose(th, res.theta, atol=1e-6))
    (True, True)
    """
    theta = np.asarray(theta0, float).copy()
    F = _objective(model, theta, s_list, W_list, wg)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        H = np.zeros((model.n_free, model.n_free))
        gvec = np.zeros(model.n_free)
        for g in range(model.n_groups):
            D = model.implied_jacobian(theta, g)
            r = s_list[g] - model.implied(theta, g)
            WD = W_list[g] @ D
            H += wg[g] * D.T @ WD
            gvec += wg[g] * WD.T @ r
        try:
            step = np.linalg.solve(H, gvec)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, gvec, rcond=None)[0]
        t = 1.0
        while True:
            cand = theta + t * step
            with np.errstate(all="ignore"):
                Fc = _objective(model, cand, s_list, W_list, wg)
            if np.isfinite(Fc) and Fc <= F + 1e-12 * max(1.0, F):
                break
            t *= 0.5
            if t < 1e-8:
                break
        if t < 1e-8:
            converged = np.max(np.abs(step)) < 1e-6
            break
        theta, F = cand, Fc
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    return theta, float(F), it, converged


def _scaled_shift(U, Gm, df):
    UG = U @ Gm
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    if df <= 0 or tr2 <= 0:
        return np.nan, 0.0, tr1, tr2
    a = np.sqrt(df / tr2)
    return a, df - a * tr1, tr1, tr2


def _blockdiag(mats):
    n = sum(m.shape[0] for m in mats)
    out = np.zeros((n, n))
    k = 0
    for m in mats:
        out[k:k + m.shape[0], k:k + m.shape[0]] = m
        k += m.shape[0]
    return out


def _std_cache(model):
    c = model.__dict__.get("_ord_std")
    if c is None:
        pt = model.partable
        op = pt["op"].to_numpy()
        grp = pt["group"].to_numpy()
        idx = {v: i for i, v in enumerate(model.ov_names)}
        th = [np.flatnonzero((grp == g) & (op == "|")) for g in range(model.n_groups)]
        sc = [np.flatnonzero((grp == g) & (op == "~*~")) for g in range(model.n_groups)]
        sc_j = [np.array([idx[v] for v in pt["lhs"].to_numpy()[r]], dtype=int) for r in sc]
        fr = pt["free"].to_numpy()
        c = (th, sc, sc_j, fr >= 0, fr[fr >= 0], pt["value"].to_numpy(dtype=float))
        model.__dict__["_ord_std"] = c
    return c


def _std_rows(model, theta):
    """std.all for every partable row, lavaan's conventions for ordered indicators:
    thresholds divided by the sd of the latent response, scale factors times it."""
    from .standardize import std_all_rows

    std = std_all_rows(model, theta)
    th, sc, sc_j, _, _, _ = _std_cache(model)
    for g in range(model.n_groups):
        Sigma, _ = model.sigma_mu(theta, g)
        s = 1.0 / np.sqrt(np.diag(Sigma))
        st = model.stats[g]
        std[th[g]] = model.thresholds(theta, g) * s[st.th_item[~st.th_num]]
        if len(sc[g]):
            std[sc[g]] = model.scales(theta, g)[sc_j[g]] / s[sc_j[g]]
    return std


def _estimates(model, theta, vcov, std_se):
    pt = model.partable
    vals = np.where(pt["free"].to_numpy() >= 0, 0.0, pt["value"].to_numpy(dtype=float))
    fr = pt["free"].to_numpy()
    vals[fr >= 0] = theta[fr[fr >= 0]]
    if model.parameterization == "delta":  # derived residual variances of the items
        ov = set(model.ov_names)
        idx = {v: i for i, v in enumerate(model.all_names)}
        for g in range(model.n_groups):
            _, S, _ = model.matrices(theta, g)
            sel = ((pt["group"] == g) & (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"])
                   & pt["lhs"].isin(ov) & (pt["free"] < 0)).to_numpy()
            vals[sel] = [S[idx[v], idx[v]] for v in pt["lhs"].to_numpy()[sel]]
    else:  # derived scale factors 1 / sd(y*)
        idx = {v: i for i, v in enumerate(model.ov_names)}
        for g in range(model.n_groups):
            d = model.scales(theta, g)
            sel = ((pt["group"] == g) & (pt["op"] == "~*~")).to_numpy()
            vals[sel] = [d[idx[v]] for v in pt["lhs"].to_numpy()[sel]]
    se = np.zeros(len(pt))
    dv = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se[fr >= 0] = dv[fr[fr >= 0]]
    rows = pd.DataFrame(dict(lhs=pt["lhs"], op=pt["op"], rhs=pt["rhs"], label=pt["label"],
                             group=pt["group"] + 1, est=vals, se=se))
    std = _std_rows(model, theta)
    rows["std_all"] = std

    def defined(t, use_std=False):
        v = _std_rows(model, t) if use_std else _row_vals(model, t)
        return np.array(list(model.def_fun(label_values(pt, v)).values()))

    if model.defined:
        dvals = defined(theta)
        dstd = defined(theta, True)
        lab = (pt["label"].to_numpy() != "") & (fr >= 0)
        dJ = _columns_jacobian(lambda t: defined(t), theta, np.unique(fr[lab]), central=True)
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
    if std_se and np.all(np.isfinite(vcov)):
        def stdfun(t):
            s = _std_rows(model, t)
            return np.concatenate([s, defined(t, True)]) if model.defined else s

        # thresholds enter std.all only through their own rows (tau_j * s_j): analytic
        # columns; numeric (forward) differences for the other parameters
        th_rows, _, _, _, _, _ = _std_cache(model)
        op = pt["op"].to_numpy()
        th_free = np.unique(fr[(op == "|") & (fr >= 0)])
        labelled_th = ((op == "|") & (pt["label"].to_numpy() != "")).any()
        cols = np.arange(len(theta)) if labelled_th else np.setdiff1d(
            np.arange(len(theta)), th_free)
        J = _columns_jacobian(stdfun, theta, cols, central=False)
        if not labelled_th:
            for g in range(model.n_groups):
                Sigma, _ = model.sigma_mu(theta, g)
                sd_inv = 1.0 / np.sqrt(np.diag(Sigma))
                r = th_rows[g]
                st = model.stats[g]
                J[r, fr[r]] = sd_inv[st.th_item[~st.th_num]]
        rows["se_std"] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, vcov, J), 0, None))
    else:
        rows["se_std"] = np.nan
    if model.n_groups == 1:
        rows = rows.drop(columns="group")
    cols = ["lhs", "op", "rhs", "label"] + (["group"] if model.n_groups > 1 else []) + [
        "est", "se", "z", "pvalue", "std_all", "se_std"]
    return rows[cols]


def _columns_jacobian(fun, theta, cols, central=True, rel_step=1e-6):
    """Finite-difference Jacobian of ``fun`` restricted to the columns ``cols`` (the other
    columns are zero), with the step rule of :func:`analysis.sem.defined.numeric_jacobian`."""
    theta = np.asarray(theta, float)
    f0 = np.asarray(fun(theta), float)
    J = np.zeros((f0.size, theta.size))
    if not central:
        rel_step = max(rel_step, 1e-7)
    for k in cols:
        h = rel_step * max(1.0, abs(theta[k]))
        tp = theta.copy()
        tp[k] += h
        if central:
            tm = theta.copy()
            tm[k] -= h
            J[:, k] = (np.asarray(fun(tp), float) - np.asarray(fun(tm), float)) / (2 * h)
        else:
            J[:, k] = (np.asarray(fun(tp), float) - f0) / h
    return J


def _row_vals(model, theta):
    _, _, _, is_free, idx, values = _std_cache(model)
    vals = values.copy()
    vals[is_free] = theta[idx]
    return vals


def _prepare(stmts, data, ordered, group, missing):
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    ov = observed_variables(stmts)
    if not ov:
        raise SEMError("the model has no observed variables")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise SEMError(f"column(s) not found in data: {', '.join(absent)} (latent variables "
                       f"must be defined with =~)")
    lv = {s.lhs for s in stmts if s.op == "=~"}
    clash = sorted(lv & set(data.columns))
    if clash:
        raise SEMError(f"latent variable name(s) also used as data column(s): {', '.join(clash)}")
    if group is not None and group not in data.columns:
        raise SEMError(f"group column not found in data: {group}")
    ord_cols = set(_ordered_columns(ordered, ov))
    cont = [v for v in ov if v not in ord_cols]
    nonnum = [v for v in cont if not pd.api.types.is_numeric_dtype(data[v])]
    if nonnum:
        raise SEMError(f"non-numeric continuous column(s): {', '.join(nonnum)} (declare them "
                       f"in ordered= if they are ordered categories)")
    if cont and missing == "pairwise":
        raise SEMError("missing='pairwise' is not supported with continuous and ordered "
                       "items together; use listwise deletion")
    if missing not in ("listwise", "pairwise"):
        raise SEMError(f"missing must be 'listwise' or 'pairwise' with ordered data, not "
                       f"{missing!r}")
    X = data[ov]
    g = data[group] if group is not None else pd.Series(0, index=data.index)
    keep = g.notna() & (X.notna().all(axis=1) if missing == "listwise"
                        else X.notna().any(axis=1))
    n_dropped = int((~keep).sum())
    X, g = X[keep], g[keep]
    oc = [v for v in ov if v in ord_cols]
    codes = np.zeros((len(X), len(ov)), dtype=np.int64)
    c_o, levels = encode_ordinal(X, oc)
    codes[:, [ov.index(v) for v in oc]] = c_o
    n_cat = [len(levels[v]) if v in ord_cols else 0 for v in ov]
    xnum = X.to_numpy(dtype=float) if cont else None
    if cont:
        xnum = np.where(np.isin(np.array(ov), list(ord_cols))[None, :], 0.0,
                        X[ov].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float))
    labels = list(pd.unique(g)) if group is not None else [None]
    sel = [(g == lab).to_numpy() if group is not None else slice(None) for lab in labels]
    parts = [codes[m] for m in sel]
    parts_num = [xnum[m] if xnum is not None else None for m in sel]
    return ov, parts, parts_num, labels, n_cat, n_dropped, levels


def fit_wls(syntax, data: pd.DataFrame, *, estimator: str = "WLSMV", ordered=True,
            missing: str = "listwise", group=None, group_equal=(),
            parameterization: str = "delta", start=None, max_iter: int = 500,
            std_se: bool = True) -> SEMResult:
    """Fit a model with ordered indicators by DWLS / WLS / WLSMV (lavaan's conventions).

    Parameters
    ----------
    syntax : str
        lavaan model syntax (thresholds are added automatically; ``:=`` allowed).
    data : DataFrame
        Items coded as numbers (their sorted distinct values are the categories).
    estimator : {"WLSMV", "DWLS", "WLS"}
        WLSMV: DWLS estimates, robust SEs, scaled-shifted test (lavaan's default for
        ordered data); DWLS / WLS: standard SEs and the unscaled test.
    ordered : True or list of str
        All observed variables, or the ordered ones; the others are continuous (their
        means, variances and covariances, and polyserial covariances with the ordered
        items, enter the statistics; listwise deletion only). Observed exogenous
        covariates (``f ~ x`` with ``x`` observed) are not supported.
    missing : {"listwise", "pairwise"}
    group : str, optional
    group_equal : iterable of {"loadings", "thresholds"}
    parameterization : {"delta", "theta"}
    start : array-like, optional
    max_iter : int
    std_se : bool

    Returns
    -------
    SEMResult
        ``estimates`` with threshold rows ``item | tk``, scale factors ``item ~*~ item``
        (delta); ``fit_indices`` with ``chisq df pvalue chisq_scaled df_scaled
        pvalue_scaled scaling_factor shift_parameter cfi tli rmsea srmr cfi_scaled
        tli_scaled rmsea_scaled`` and baseline statistics; ``extra`` holds the sample
        statistics, weights and Gamma.

    Raises
    ------
    SEMError
        Empty categories (per group), unsupported options, non-identified models.

    References
    ----------
    Muthen (1984), Psychometrika 49; Muthen, du Toit & Spisic (1997); Asparouhov & Muthen
    (2010), Mplus technical appendix; Rosseel (2012), J. Stat. Softw. 48(2).

    Examples
    --------
    >>> import pandas as pd
    >>> from semopy.examples import holzinger39
    >>> d = holzinger39.get_data().filter(regex="^x[0-9]$").apply(
    ...     lambda c: pd.qcut(c, 3, labels=False))
    >>> res = fit_wls("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
    ...               "speed =~ x7 + x8 + x9", d)
    >>> res.estimates.query("op == '|'").shape[0]
    18
    """
    estimator = str(estimator).upper()
    if estimator not in WLS_ESTIMATORS:
        raise SEMError(f"estimator must be one of {WLS_ESTIMATORS} for ordered data, "
                       f"not {estimator!r}")
    if parameterization not in ("delta", "theta"):
        raise SEMError(f"parameterization must be 'delta' or 'theta', not {parameterization!r}")
    group_equal = tuple(group_equal) if not isinstance(group_equal, str) else (group_equal,)
    stmts = parse_model(syntax) if isinstance(syntax, str) else syntax
    ov, parts, parts_num, labels, n_cat, n_dropped, levels = _prepare(stmts, data, ordered,
                                                                      group, missing)
    msgs: list[str] = []
    if n_dropped and missing == "listwise":
        msgs.append(f"listwise deletion: {n_dropped} of {len(data)} rows with missing values "
                    f"in the model's columns were dropped")
    ost = []
    for lab, codes, xnum in zip(labels, parts, parts_num):
        where = f" in group {lab!r}" if group is not None else ""
        if codes.shape[0] < 2:
            raise SEMError(f"fewer than 2 observations{where}")
        try:
            st = ordinal_stats(codes, n_cat, ov, gamma=True, missing=missing, numeric=xnum)
        except SEMError as e:
            raise SEMError(f"{e}{where}") from None
        msgs += [f"{w}{where}" for w in st.warnings]
        ost.append(st)
    samples = []
    for st in ost:
        mean = np.zeros(len(ov))
        mean[st.th_item[st.th_num]] = -st.th[st.th_num]
        samples.append(SampleStats.from_moments(st.cor, mean, st.n))
    pt, ov_, lv, defined, n_free = _partable(stmts, samples, labels, group_equal, ost,
                                             parameterization)
    model = OrdinalModel(pt, ov_, lv, samples, labels, defined, n_free,
                         parameterization=parameterization, ord_stats=ost)
    model.ov_x = []
    model.group_equal = group_equal
    model.ordered_levels = levels
    model.def_fun
    N = float(sum(st.n for st in ost))
    # group weights (N_g - 1) / (N - G), as lavaan weighs the groups for these estimators
    wg = [(st.n - 1) / (N - len(ost)) for st in ost]
    s_list = [st.wls_obs for st in ost]
    W_list = [_weights(st, estimator) for st in ost]
    nstat = sum(len(s) for s in s_list)
    if n_free > nstat:
        raise SEMError(f"model is not identified: {n_free} free parameters but only {nstat} "
                       f"sample statistics (df = {nstat - n_free})")
    theta0 = model.theta_start if start is None else np.asarray(start, float)
    theta, F, iters, converged = wls_refit(model, theta0, s_list, W_list, wg,
                                           max_iter=max_iter)
    if not converged:
        msgs.append(f"optimizer did not converge after {iters} iterations; estimates are not "
                    f"trustworthy")
    # inference
    D = np.vstack([model.implied_jacobian(theta, g) for g in range(model.n_groups)])
    wn = [st.n / N for st in ost]  # inference weighs the groups by N_g / N (lavaan)
    Wt = _blockdiag([w * W for w, W in zip(wn, W_list)])
    Gt = _blockdiag([st.gamma / w for w, st in zip(wn, ost)])
    WD = Wt @ D
    H = D.T @ WD
    ev = np.linalg.eigvalsh(H)
    singular = ev[0] <= 1e-10 * max(ev[-1], 1e-300)
    if singular:
        msgs.append("information matrix is singular: the model may not be identified "
                    "(standard errors not computed)")
        vcov = np.full((n_free, n_free), np.nan)
        Hi = np.full_like(H, np.nan)
    else:
        Hi = np.linalg.inv(H)
        Nc = N - model.n_groups  # lavaan: N - G for these estimators (tests and SEs)
        if estimator == "WLSMV":
            vcov = Hi @ (WD.T @ Gt @ WD) @ Hi / Nc
        else:
            vcov = Hi / Nc
        vcov = 0.5 * (vcov + vcov.T)
    est = _estimates(model, theta, vcov if not singular else np.full((n_free, n_free), np.nan),
                     std_se and not singular)
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    for r in var[var["est"] < 0].itertuples():
        gtxt = f" (group {r.group})" if "group" in est.columns else ""
        msgs.append(f"Heywood case: negative variance estimate {r.lhs} ~~ {r.rhs} = "
                    f"{r.est:.4g}{gtxt}")
    fi, extra_fi = _fit_measures(model, theta, F, N, nstat, s_list, W_list, wg, ost, D, Wt,
                                 Gt, Hi, estimator)
    extra = dict(s=s_list, W=W_list, wg=wg, stats=ost, Wt=Wt, Gt=Gt, delta=D,
                 parts=parts, parts_num=parts_num, n_cat=n_cat, missing_ordinal=missing,
                 **extra_fi)
    res = SEMResult(model=model, theta=theta, vcov=vcov, estimates=est, fit_indices=fi,
                    converged=converged, warnings=msgs, estimator=estimator, missing=missing,
                    n_obs=int(N), n_dropped=n_dropped, group=group,
                    syntax=syntax if isinstance(syntax, str) else "", info=None,
                    extra=extra)
    for m in res.warnings:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res


def _fit_measures(model, theta, F, N, nstat, s_list, W_list, wg, ost, D, Wt, Gt, Hi,
                  estimator):
    G = model.n_groups
    df = nstat - model.n_free
    # lavaan's convention for the (D)WLS test statistic: sum_g (N_g - 1) F_g
    ng = [st.n for st in ost]
    T = 0.0
    for g in range(G):
        r = s_list[g] - model.implied(theta, g)
        T += (ng[g] - 1) * r @ W_list[g] @ r
    # baseline: thresholds free, correlations zero (closed form given the weights)
    Tb = 0.0
    Db_blocks = []
    for g, st in enumerate(ost):
        nt = len(st.th) + int(st.num.sum())  # free in the baseline: th, -means, variances
        W = W_list[g]
        c = s_list[g][nt:]
        Wtt, Wtc, Wcc = W[:nt, :nt], W[:nt, nt:], W[nt:, nt:]
        Tb += (ng[g] - 1) * c @ (Wcc - Wtc.T @ np.linalg.solve(Wtt, Wtc)) @ c
        Db = np.zeros((len(s_list[g]), nt))
        Db[:nt] = np.eye(nt)
        Db_blocks.append(Db)
    dfb = sum(len(s) - len(st.th) - int(st.num.sum()) for s, st in zip(s_list, ost))
    Db = _blockdiag_rect(Db_blocks)
    out = dict(npar=model.n_free, ntotal=N, chisq=T, df=df,
               pvalue=float(stats.chi2.sf(T, df)) if df > 0 else np.nan,
               baseline_chisq=Tb, baseline_df=dfb,
               baseline_pvalue=float(stats.chi2.sf(Tb, dfb)))
    Nr = N - G  # lavaan's RMSEA for these estimators
    out.update(_incremental(T, df, Tb, dfb, Nr, G, ""))
    # SRMR from the correlation residuals (lower triangle without diagonal, lavaan srmr)
    srmr = 0.0
    p = model.p
    pi_, pj_ = pair_index(p)
    for g, st in enumerate(ost):
        nt = len(st.th) + int(st.num.sum())
        imp = model.implied(theta, g)
        mats = []
        for vec in (s_list[g], imp):
            M = np.eye(p)
            M[st.num, st.num] = vec[len(st.th):nt]
            M[pi_, pj_] = M[pj_, pi_] = vec[nt:]
            d = 1.0 / np.sqrt(np.diag(M))
            mats.append(M * np.outer(d, d))
        r = (mats[0] - mats[1])[pi_, pj_]
        srmr += ost[g].n / N * np.sqrt(np.sum(r * r) / (p * (p + 1) / 2))
    out["srmr"] = srmr
    extra = {}
    if estimator == "WLSMV" and np.all(np.isfinite(Hi)):
        WD = Wt @ D
        U = Wt - WD @ Hi @ WD.T
        a, b, tr1, tr2 = _scaled_shift(U, Gt, df)
        WDb = Wt @ Db
        Ub = Wt - WDb @ np.linalg.solve(Db.T @ WDb, WDb.T)
        ab, bb, _, _ = _scaled_shift(Ub, Gt, dfb)
        Ts = a * T + b if df > 0 else T
        Tbs = ab * Tb + bb
        out.update(chisq_scaled=Ts, df_scaled=float(df),
                   pvalue_scaled=float(stats.chi2.sf(Ts, df)) if df > 0 else np.nan,
                   scaling_factor=1.0 / a, shift_parameter=b,
                   baseline_chisq_scaled=Tbs, baseline_scaling_factor=1.0 / ab,
                   baseline_shift_parameter=bb)
        out.update(_incremental(Ts, df, Tbs, dfb, Nr, G, "_scaled"))
        extra = dict(trace_UGamma=tr1, trace_UGamma2=tr2)
    out.update(loglik=np.nan, aic=np.nan, bic=np.nan, fmin=T / (2 * N))  # lavaan: T / 2N
    return pd.Series(out, dtype=float), extra


def _blockdiag_rect(blocks):
    r = sum(b.shape[0] for b in blocks)
    c = sum(b.shape[1] for b in blocks)
    out = np.zeros((r, c))
    i = j = 0
    for b in blocks:
        out[i:i + b.shape[0], j:j + b.shape[1]] = b
        i += b.shape[0]
        j += b.shape[1]
    return out


def _incremental(T, df, Tb, dfb, Nr, G, sfx):
    den = max(T - df, Tb - dfb, 0.0)
    cfi = 1.0 - max(T - df, 0.0) / den if den > 0 else 1.0
    tli = (Tb / dfb - T / df) / (Tb / dfb - 1.0) if df > 0 and dfb > 0 else 1.0
    rmsea = np.sqrt(max(0.0, (T - df) / (Nr * df))) * np.sqrt(G) if df > 0 else 0.0
    lo, hi = rmsea_ci(T, df, Nr, G=G)
    return {f"cfi{sfx}": cfi, f"tli{sfx}": tli, f"rmsea{sfx}": rmsea,
            f"rmsea_ci_lower{sfx}": lo, f"rmsea_ci_upper{sfx}": hi}


def lrt_scaled(restricted: SEMResult, full: SEMResult) -> pd.DataFrame:
    """Scaled-shifted difference test of two nested WLSMV fits (lavaan ``lavTestLRT``).

    Parameters
    ----------
    restricted, full : SEMResult
        WLSMV fits of nested models on the same data; ``restricted`` has more df.

    Returns
    -------
    DataFrame
        One row: ``df chisq chisq_diff df_diff pvalue`` (``chisq`` unscaled statistics of
        the restricted model; ``chisq_diff`` the scaled-shifted difference) plus
        ``scaling_factor`` and ``shift_parameter`` of the difference test.

    Notes
    -----
    Satorra's (2000) statistic: ``T_d = T_0 - T_1``; with ``A`` the Jacobian of the
    restrictions (``A H = 0`` where ``H`` regresses the restricted model's Delta on the
    full model's), ``P = D_1' W D_1``, ``M = P^-1 A' (A P^-1 A')^-1 A P^-1`` and
    ``V = D_1' W Gamma W D_1``: ``a = sqrt(r / tr(M V M V))``, ``b = r - a tr(M V)``,
    ``chisq_diff = a T_d + b`` referred to chi-square(r), ``r`` = difference in df.

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. Innovations in Multivariate Statistical Analysis, 233-247;
    Asparouhov, T. & Muthen, B. (2006). Robust chi square difference testing with mean and
    variance adjusted test statistics. Mplus Web Note 10.

    Examples
    --------
    >>> import pandas as pd
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> d = holzinger39.get_data().filter(regex="^x[0-9]$").apply(
    ...     lambda c: pd.qcut(c, 3, labels=False))
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> full = fit_sem(m, d, ordered=True)
    >>> restr = fit_sem(m + "\\nvisual ~~ 0*speed\\ntextual ~~ 0*speed", d, ordered=True)
    >>> lrt_scaled(restr, full)[["df_diff"]].iloc[0].tolist()
    [2]
    """
    for r in (restricted, full):
        if r.estimator != "WLSMV" or "delta" not in r.extra:
            raise SEMError("lrt_scaled needs two WLSMV fits (fit_sem(..., ordered=...))")
    f0, f1 = restricted.fit_indices, full.fit_indices
    r_ = int(f0["df"] - f1["df"])
    if r_ <= 0:
        raise SEMError("the first model must be the restricted one (more degrees of freedom)")
    if abs(f0["ntotal"] - f1["ntotal"]) > 0 or len(restricted.extra["s"]) != len(full.extra["s"]):
        raise SEMError("the two models were not fitted to the same data")
    D1, D0 = full.extra["delta"], restricted.extra["delta"]
    if D1.shape[0] != D0.shape[0]:
        raise SEMError("the two models do not describe the same sample statistics")
    Hm = np.linalg.lstsq(D1, D0, rcond=None)[0]  # (q1, q0)
    Uu, sv, _ = np.linalg.svd(Hm, full_matrices=True)
    rank = int(np.sum(sv > 1e-8 * max(sv.max(), 1e-300)))
    A = Uu[:, rank:].T  # restrictions: A H = 0
    if A.shape[0] != r_:
        raise SEMError(f"the models do not look nested: {A.shape[0]} restrictions found for a "
                       f"difference of {r_} degrees of freedom")
    Wt, Gt = full.extra["Wt"], full.extra["Gt"]
    WD = Wt @ D1
    P = D1.T @ WD
    Pi = np.linalg.inv(P)
    M = Pi @ A.T @ np.linalg.solve(A @ Pi @ A.T, A @ Pi)
    V = WD.T @ Gt @ WD
    MV = M @ V
    tr1, tr2 = float(np.trace(MV)), float(np.sum(MV * MV.T))
    a = np.sqrt(r_ / tr2)
    b = r_ - a * tr1
    Td = float(f0["chisq"] - f1["chisq"])
    stat = max(a * Td + b, 0.0)
    return pd.DataFrame(dict(df=[int(f0["df"])], chisq=[float(f0["chisq"])],
                             chisq_diff=[stat], df_diff=[r_],
                             pvalue=[float(stats.chi2.sf(stat, r_))],
                             scaling_factor=[1.0 / a], shift_parameter=[b]))


# ---- bootstrap ------------------------------------------------------------------------


def _refit_rows(result, rows_per_group, max_iter):
    """Refit a (D)WLS result to the given rows of each group; None when it fails."""
    model = result.model
    ex = result.extra
    est = result.estimator
    s_list, W_list = [], []
    try:
        for codes, xnum, rows in zip(ex["parts"], ex["parts_num"], rows_per_group):
            st = ordinal_stats(codes[rows], ex["n_cat"], model.ov_names,
                               gamma=True if est == "WLS" else "diag",
                               missing=ex["missing_ordinal"],
                               numeric=None if xnum is None else xnum[rows])
            s_list.append(st.wls_obs)
            W_list.append(_weights(st, est))
    except (SEMError, np.linalg.LinAlgError):
        return None
    ns = [len(r) for r in rows_per_group]
    wg = [(n - 1) / (sum(ns) - len(ns)) for n in ns]
    with np.errstate(all="ignore"):
        theta, _, _, ok = wls_refit(model, result.theta, s_list, W_list, wg,
                                    max_iter=max_iter, tol=1e-5)
    if not ok or not np.all(np.isfinite(theta)):
        return None
    d = (np.array(list(model.def_fun(label_values(model.partable,
                                                  _row_vals(model, theta))).values()))
         if model.defined else np.zeros(0))
    return np.concatenate([theta, d])


def _boot_chunk(result, seeds, max_iter):
    width = result.model.n_free + len(result.model.defined)
    out = np.full((len(seeds), width), np.nan)
    sizes = [c.shape[0] for c in result.extra["parts"]]
    for k, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        rows = [rng.integers(0, n, n) for n in sizes]
        r = _refit_rows(result, rows, max_iter)
        if r is not None:
            out[k] = r
    return out


def _jack_chunk(result, items, max_iter):
    width = result.model.n_free + len(result.model.defined)
    out = np.full((len(items), width), np.nan)
    sizes = [c.shape[0] for c in result.extra["parts"]]
    for k, (g, i) in enumerate(items):
        rows = [np.delete(np.arange(n), i) if h == g else np.arange(n)
                for h, n in enumerate(sizes)]
        r = _refit_rows(result, rows, max_iter)
        if r is not None:
            out[k] = r
    return out


def _run_chunks(fun, result, items, chunk_size, n_jobs, max_iter, progress, desc):
    from joblib import Parallel, delayed
    from tqdm import tqdm

    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    bar = tqdm(total=len(items), desc=desc, disable=not progress, leave=False)
    parts = []
    if n_jobs == 1:
        gen = (fun(result, ch, max_iter) for ch in chunks)
    else:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(fun)(result, ch, max_iter) for ch in chunks)
    for ch, part in zip(chunks, gen):
        parts.append(part)
        bar.update(len(ch))
    bar.close()
    width = result.model.n_free + len(result.model.defined)
    return np.vstack(parts) if parts else np.zeros((0, width))


def bootstrap_draws_wls(result, n_boot: int = 1000, seed=None, *, n_jobs: int = 1,
                        chunk_size: int = 25, max_iter: int = 100,
                        progress: bool = True) -> np.ndarray:
    """Nonparametric bootstrap replicates of (theta, defined parameters) of a WLSMV fit.

    Rows are resampled within groups; each resample recomputes thresholds, polychorics
    and weights (stages 1-2) and refits by Gauss-Newton from the full-sample estimates.
    Resample ``b`` uses ``SeedSequence(seed).spawn(n_boot)[b]`` (same numbers for any
    ``n_jobs``); failed resamples (e.g. an empty category) are NaN rows.

    Parameters
    ----------
    result : SEMResult
        A fit of :func:`fit_wls`.
    n_boot : int
    seed : int or SeedSequence, optional
    n_jobs, chunk_size, max_iter, progress
        As in :func:`analysis.sem.bootstrap.bootstrap`.

    Returns
    -------
    ndarray (n_boot, q + d)

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap. Chapman & Hall.

    Examples
    --------
    >>> import pandas as pd
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> d = holzinger39.get_data().filter(regex="^x[0-9]$").apply(
    ...     lambda c: pd.qcut(c, 3, labels=False))
    >>> res = fit_sem("f =~ x1 + x2 + x3", d, ordered=True)
    >>> bootstrap_draws_wls(res, 5, seed=1, progress=False).shape
    (5, 9)
    """
    if result.estimator not in WLS_ESTIMATORS or "parts" not in result.extra:
        raise SEMError("bootstrap_draws_wls needs a fit with ordered indicators")
    seeds = list(np.random.SeedSequence(seed).spawn(int(n_boot)))
    return _run_chunks(_boot_chunk, result, seeds, chunk_size, n_jobs, max_iter, progress,
                       "bootstrap")


def jackknife_draws_wls(result, *, n_jobs: int = 1, chunk_size: int = 50,
                        max_iter: int = 100, progress: bool = True) -> np.ndarray:
    """Leave-one-out refits of a WLSMV fit (for BCa acceleration), one row per case.

    Parameters
    ----------
    result : SEMResult
    n_jobs, chunk_size, max_iter, progress
        As in :func:`bootstrap_draws_wls`.

    Returns
    -------
    ndarray (n, q + d)

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171-185.

    Examples
    --------
    >>> import pandas as pd
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> d = holzinger39.get_data()[["x4", "x5", "x6"]].iloc[:60].apply(
    ...     lambda c: pd.qcut(c, 3, labels=False))
    >>> res = fit_sem("f =~ x4 + x5 + x6", d, ordered=True)
    >>> jack = jackknife_draws_wls(res, progress=False)
    >>> jack.shape, bool(np.isfinite(jack).all())
    ((60, 9), True)
    """
    items = [(g, i) for g, c in enumerate(result.extra["parts"]) for i in range(c.shape[0])]
    return _run_chunks(_jack_chunk, result, items, chunk_size, n_jobs, max_iter, progress,
                       "jackknife")
