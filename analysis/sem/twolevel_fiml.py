r"""Observed-data likelihood of two-level normal data with missing values (two-level FIML).

Model as in :mod:`analysis.sem.twolevel`: for respondent ``i`` of cluster ``j`` the level-1
variables are ``y_ij = mu_w + E b_j + w_ij`` (``w_ij ~ N(0, Sigma_W)``; ``E`` places the
between components ``b_j`` of the level-1 variables that have one), and the cluster vector
``[b_j, z_j]`` (between parts and between-only variables) is ``N([0, mu_z], S)`` with
``S = Sigma_B`` restricted to the between variables. Each respondent has its own set of
observed level-1 variables ``o_ij`` and each cluster its own set of observed between-only
values ``o_j`` (missing at random at both levels; Rosseel 2021).

Per cluster (McDonald 1993; du Toit & du Toit 2008; Rosseel 2021, with the form that allows a
singular ``Sigma_B``), first condition the between part on the observed between-only
values: ``B = S_yo S_oo^-1``, ``S_c = S_yy - B S_oy``, ``c_j = B (z_o - mu_o)``; then, with
``Q_i`` the zero-padded inverse of ``Sigma_W`` restricted to ``o_ij``, ``r_i`` the residual
``y_ij - mu_w - E c_j`` on ``o_ij``, ``M_j = sum_i E' Q_i E``, ``g_j = sum_i E' Q_i r_i`` and
``K_j = (I + S_c M_j)^-1 S_c`` (Woodbury; the determinant lemma gives
``|Cov| = prod_i |Sigma_W,oo| |I + S_c M_j|``)::

    -2 log L_j = n_obs,j log 2 pi + log|S_oo| + (z_o - mu_o)' S_oo^-1 (z_o - mu_o)
                 + sum_i [ log|Sigma_W,o_i| + r_i' Q_i r_i ] + log|I + S_c M_j| - g_j' K_j g_j.

The stacked vector of a cluster (its members' observed values) is never formed: a cluster
costs O(p^3) for its between-level quantities and a respondent O(p^2); each missingness
pattern of the level-1 variables needs ``Q_i``, which is shared by every respondent with that
pattern and taken from the full precision matrix ``P = Sigma_W^-1`` as the Schur complement
``P_oo - P_om P_mm^-1 P_mo`` (``|Sigma_W,oo| = |Sigma_W| |P_mm|``), so a pattern costs the
inverse of its missing block only (patterns are batched by their number of missing values). The analytic gradient follows from ``d(-2 log L) = tr(G dCov) - 2 a' dmean`` with
``a = Cov^-1 r`` and the same Woodbury pieces (``a_i = Q_i (r_i - E K_j g_j)``), chained
through the conditioning on ``z_o``. Complete data give the value of
:func:`analysis.sem.twolevel.twolevel_objective`.

References
----------
McDonald, R. P. (1993). A general model for two-level data with responses missing at random.
Psychometrika, 58, 575-585.
du Toit, S. H. C., & du Toit, M. (2008). Multilevel structural equation modeling. In
J. de Leeuw & E. Meijer (Eds.), Handbook of Multilevel Analysis (pp. 435-478). Springer.
Rosseel, Y. (2021). Evaluating the observed log-likelihood function in two-level structural
equation modeling with missing data: from formulas to R code. Psych, 3(2), 197-232.

Examples
--------
>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"y": [1.0, 3.0, np.nan, 2.0, 5.0, 4.0], "c": [1, 1, 2, 2, 3, 3]})
>>> md = missing_cluster_data(df, ["y"], [], "c", [0])
>>> f = md.objective(np.eye(1), 0.5 * np.eye(1), np.array([2.8]), grad=False)
>>> md.N, md.J, round(f, 4)
(6, 3, 17.4378)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["MissingClusterData", "missing_cluster_data"]

_LOG2PI = np.log(2.0 * np.pi)


class MissingClusterData:
    """Two-level data with missing values, grouped for the observed-data likelihood.

    Built by :func:`missing_cluster_data`. Besides the likelihood pieces it carries the
    structure the optimiser's metric needs (``N J pw P sizes counts cl_n``: respondents per
    cluster, as for complete data; :func:`analysis.sem.twolevel.info_blocks` evaluates the
    complete-data information on it, a preconditioner only).

    Attributes
    ----------
    w_names, z_names : list of str
        Level-1 variables and between-only variables (extended space in this order).
    N, J : int
        Respondents (rows with at least one observed value) and clusters.
    pos_b : ndarray
        Extended-space positions of the between variables.
    labels : list
        Cluster labels (code order).
    n_missing : int
        Missing values among the model's level-1 values and clusters' between-only values.
    """

    def __init__(self, Y, codes, Z, pos_b, w_names, z_names, labels):
        Y = np.asarray(Y, float)
        Z = np.asarray(Z, float).reshape(len(labels), len(z_names))
        self.w_names, self.z_names = list(w_names), list(z_names)
        self.labels = list(labels)
        self.N, self.pw = Y.shape
        self.J = len(labels)
        self.P = self.pw + len(self.z_names)
        self.codes = np.asarray(codes, int)
        self.pos_b = np.asarray(pos_b, int)
        self.yb = self.pos_b[self.pos_b < self.pw]
        # every level-1 variable has a between part, in order: no gathering needed
        self.yb_all = np.array_equal(self.yb, np.arange(self.pw))
        self.zb = np.arange(self.pw, self.P)  # every between-only variable is a between one
        self.O = ~np.isnan(Y)
        self.Y0 = np.where(self.O, Y, 0.0)
        zo = ~np.isnan(Z)
        self.Zmask = zo
        self.Z0 = np.where(zo, Z, 0.0)
        self.n_missing = int((~self.O).sum() + (~zo).sum())
        self.n_obs_values = int(self.O.sum() + zo.sum())
        # level-1 missingness patterns; one inverse per pattern, batched by its size
        pats, self.pat = np.unique(self.O, axis=0, return_inverse=True)
        self.pat = self.pat.ravel()
        self.patterns = pats
        self.Kp = len(pats)
        self.n_per_pat = np.bincount(self.pat, minlength=self.Kp).astype(float)
        # patterns by their number of missing values: the inverse of an observed block is
        # the Schur complement P_oo - P_om P_mm^-1 P_mo of the full precision matrix P, so
        # a pattern costs a (missing x missing) inverse, not an (observed x observed) one
        k_mis = self.pw - pats.sum(axis=1)
        self.by_missing = []
        for k in np.unique(k_mis):
            if k == self.pw:  # nothing observed: no level-1 contribution
                continue
            pids = np.flatnonzero(k_mis == k)
            mis = np.array([np.flatnonzero(~pats[p]) for p in pids], int).reshape(len(pids), k)
            rows = np.flatnonzero(np.isin(self.pat, pids))
            loc = np.searchsorted(pids, self.pat[rows])
            self.by_missing.append((pids, mis, rows, loc))
        self.empty_pids = np.flatnonzero(k_mis == self.pw)
        # clusters x patterns counts and the row -> cluster indicator (sparse sums)
        self.C = sparse.csr_matrix((np.ones(self.N), (self.codes, self.pat)),
                                   shape=(self.J, self.Kp))
        self.R = sparse.csr_matrix((np.ones(self.N), (self.codes, np.arange(self.N))),
                                   shape=(self.J, self.N))
        # (cluster, pattern) pairs for the per-cluster gradients
        Cc = self.C.tocoo()
        self.pair_cl, self.pair_pat, self.pair_cnt = Cc.row, Cc.col, Cc.data
        self.Rpair = sparse.csr_matrix((np.ones(len(Cc.row)), (Cc.row, np.arange(len(Cc.row)))),
                                       shape=(self.J, len(Cc.row)))
        # patterns of the between-only values
        zpats, zinv = np.unique(zo, axis=0, return_inverse=True)
        zinv = zinv.ravel()
        self.zgroups = [(np.flatnonzero(zinv == g), np.flatnonzero(zpats[g]))
                        for g in range(len(zpats))]
        # structure for the optimiser's metric (complete-data cluster sizes)
        self.cl_n = np.bincount(self.codes, minlength=self.J).astype(int)
        self.sizes, self.counts = np.unique(self.cl_n, return_counts=True)

    def take(self, idx) -> "MissingClusterData":
        """The data of clusters ``idx`` (repeats allowed), each draw a cluster of its own.

        Parameters
        ----------
        idx : sequence of int
            Cluster codes; a cluster drawn twice becomes two clusters (labels
            ``"<label>#<draw>"``), as a cluster bootstrap needs.

        Returns
        -------
        MissingClusterData

        Examples
        --------
        >>> df = pd.DataFrame({"y": [1.0, np.nan, 2.0], "c": ["a", "a", "b"]})
        >>> md = missing_cluster_data(df, ["y"], [], "c", [0]).take([1, 1, 0])
        >>> md.J, md.N, md.labels
        (3, 4, ['b#0', 'b#1', 'a#2'])
        """
        idx = np.asarray(idx, int)
        order = np.argsort(self.codes, kind="stable")
        start = np.concatenate([[0], np.cumsum(self.cl_n)])
        rows = np.concatenate([order[start[j]:start[j + 1]] for j in idx])
        codes = np.repeat(np.arange(len(idx)), self.cl_n[idx])
        Y = np.where(self.O, self.Y0, np.nan)[rows]
        Z = np.where(self.Zmask, self.Z0, np.nan)[idx]
        labels = [f"{self.labels[j]}#{k}" for k, j in enumerate(idx)]
        return MissingClusterData(Y, codes, Z, self.pos_b, self.w_names, self.z_names, labels)

    def dvec(self) -> np.ndarray:
        """(K, P) diagonal of ``D_n`` per cluster size (complete-data structure)."""
        d = np.ones((len(self.sizes), self.P))
        d[:, : self.pw] = np.sqrt(self.sizes)[:, None]
        return d

    # -- pieces ----------------------------------------------------------------------
    def _pattern_inverses(self, Sw):
        """Zero-padded inverses of Sigma_W per pattern (Kp, pw, pw), their log-dets and the
        pieces ``(P[:, m], P_mm^-1)`` per pattern group that apply them to rows. The last
        result is kept: a numerical derivative in a between-level parameter leaves Sigma_W
        unchanged."""
        cached = getattr(self, "_pinv_cache", None)
        if cached is not None and np.array_equal(cached[0], Sw):
            return cached[1]
        out = self._pattern_inverses_new(Sw)
        self._pinv_cache = (np.array(Sw, copy=True), out)
        return out

    def _pattern_inverses_new(self, Sw):
        L = np.linalg.cholesky(Sw)  # LinAlgError: not positive definite
        ld_full = 2.0 * np.log(np.diag(L)).sum()
        P = np.linalg.inv(Sw)
        P = 0.5 * (P + P.T)
        Q = np.empty((self.Kp, self.pw, self.pw))
        ld = np.zeros(self.Kp)
        pieces = []
        for pids, mis, rows, loc in self.by_missing:
            if mis.shape[1] == 0:
                Q[pids] = P
                ld[pids] = ld_full
                pieces.append(None)
                continue
            Pmm = P[mis[:, :, None], mis[:, None, :]]
            Lm = np.linalg.cholesky(Pmm)
            Pmm_i = np.linalg.inv(Pmm)
            U = P[:, mis].transpose(1, 0, 2)  # (len, pw, k)
            Qk = P[None] - U @ Pmm_i @ U.transpose(0, 2, 1)
            ar = np.arange(len(pids))[:, None]
            Qk[ar, mis, :] = 0.0
            Qk[ar, :, mis] = 0.0
            Q[pids] = 0.5 * (Qk + Qk.transpose(0, 2, 1))
            # |Sigma_oo| = |Sigma| |P_mm|
            ld[pids] = ld_full + 2.0 * np.log(np.diagonal(Lm, axis1=1, axis2=2)).sum(axis=1)
            pieces.append((U, Pmm_i))
        if len(self.empty_pids):
            Q[self.empty_pids] = 0.0
        return Q, ld, (P, pieces)

    def _between(self, SB, mu):
        """Conditioning of the between part on the observed between-only values."""
        bb = np.concatenate([self.yb, self.zb])
        py = len(self.yb)
        S = SB[np.ix_(bb, bb)]
        Syy = S[:py, :py]
        muz = mu[self.zb]
        c = np.zeros((self.J, py))
        sc_of = np.zeros(self.J, int)
        groups = []
        f_z = 0.0
        for g, (cl, zo) in enumerate(self.zgroups):
            sc_of[cl] = g
            if len(zo) == 0:
                groups.append(dict(cl=cl, zo=zo, Sc=Syy))
                continue
            so = py + zo
            Soo = S[np.ix_(so, so)]
            L = np.linalg.cholesky(Soo)
            Soo_i = np.linalg.inv(Soo)
            Soo_i = 0.5 * (Soo_i + Soo_i.T)
            dz = self.Z0[np.ix_(cl, zo)] - muz[zo]
            ez = dz @ Soo_i
            Syo = S[np.ix_(np.arange(py), so)]
            B = Syo @ Soo_i
            Sc = Syy - B @ Syo.T
            c[cl] = ez @ Syo.T
            f_z += len(cl) * 2.0 * np.log(np.diag(L)).sum() + float(np.sum(ez * dz))
            groups.append(dict(cl=cl, zo=zo, so=so, Sc=0.5 * (Sc + Sc.T), B=B, ez=ez,
                               Soo_i=Soo_i))
        Sc_all = np.stack([g["Sc"] for g in groups])[sc_of]
        return bb, c, Sc_all, groups, f_z

    def _rows_times(self, Pp, X):
        """Row-wise ``Q_i X_i`` for rows ``X`` that are zero where values are missing:
        ``P X_i - U (P_mm^-1 (U' X_i))``, then zero at the missing positions."""
        P, pieces = Pp
        out = X @ P
        for (pids, mis, rows, loc), pc in zip(self.by_missing, pieces):
            if pc is None:
                continue
            U, Pmm_i = pc
            Ur = U[loc]
            t = np.einsum("npk,np->nk", Ur, X[rows])
            t = np.einsum("nkl,nl->nk", Pmm_i[loc], t)
            out[rows] -= np.einsum("npk,nk->np", Ur, t)
        out[~self.O] = 0.0
        return out

    def _core(self, Sw, SB, mu):
        Q, ld, Pp = self._pattern_inverses(Sw)
        bb, c, Sc, groups, f_z = self._between(SB, mu)
        yb = self.yb
        py = len(yb)
        cfull = np.zeros((self.J, self.pw))
        cfull[:, yb] = c
        r = np.where(self.O, self.Y0 - mu[: self.pw] - cfull[self.codes], 0.0)
        Qr = self._rows_times(Pp, r)
        Qyy = Q if self.yb_all else Q[:, yb][:, :, yb]
        M = np.asarray(self.C @ Qyy.reshape(self.Kp, -1)).reshape(self.J, py, py)
        g = np.asarray(self.R @ Qr[:, yb])
        Ip = np.eye(py)[None] + Sc @ M
        sign, ldk = np.linalg.slogdet(Ip)
        if np.any(sign <= 0):
            raise np.linalg.LinAlgError("cluster covariance not positive definite")
        K = np.linalg.solve(Ip, Sc)
        K = 0.5 * (K + K.transpose(0, 2, 1))
        Kg = np.einsum("jab,jb->ja", K, g)
        f = float(self.n_obs_values * _LOG2PI + float(ld @ self.n_per_pat) + float(np.sum(r * Qr))
             + f_z + float(ldk.sum()) - float(np.sum(g * Kg)))
        return dict(f=f, Q=Q, Pp=Pp, r=r, Qr=Qr, M=M, g=g, K=K, Kg=Kg, bb=bb, groups=groups,
                    Sc=Sc)

    # -- public ----------------------------------------------------------------------
    def objective(self, Sw, SB, mu, grad: bool = True):
        """``-2 log L`` of the observed data and (optionally) its gradient matrices.

        Parameters
        ----------
        Sw : ndarray (pw, pw)
            Within covariance.
        SB : ndarray (P, P)
            Between covariance in the extended space (zero rows for within-only variables).
        mu : ndarray (P,)
            Means of the level-1 and between-only variables.
        grad : bool
            Also return ``(G_W, G_B, g_mu)`` with ``d(-2 log L) = tr(G_W dSigma_W) +
            tr(G_B dSigma_B) + g_mu' dmu`` (symmetric perturbations).

        Returns
        -------
        float, or (float, tuple or None)
            ``inf`` (and None) where an implied matrix is not positive definite.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, np.nan, 2.0, 2.0], "c": [1, 1, 2, 2]})
        >>> md = missing_cluster_data(df, ["y"], [], "c", [0])
        >>> f, (Gw, Gb, gm) = md.objective(np.eye(1), 0.5 * np.eye(1), np.array([1.5]))
        >>> round(f, 4), Gw.shape, Gb.shape, gm.shape
        (7.0289, (1, 1), (1, 1), (1,))
        """
        try:
            with np.errstate(all="ignore"):
                core = self._core(Sw, SB, mu)
        except np.linalg.LinAlgError:
            return (np.inf, None) if grad else np.inf
        f = core["f"]
        if not np.isfinite(f):
            return (np.inf, None) if grad else np.inf
        if not grad:
            return f
        return f, self._gradient(core, mu)

    def _row_a(self, core):
        """``a_i = Q_i (r_i - E K_j g_j)`` for every row (N, pw)."""
        v = np.zeros((self.N, self.pw))
        v[:, self.yb] = core["Kg"][self.codes]
        return core["Qr"] - self._rows_times(core["Pp"], np.where(self.O, v, 0.0))

    def _gradient(self, core, mu):
        Q, M, K, g, Kg = core["Q"], core["M"], core["K"], core["g"], core["Kg"]
        yb = self.yb
        py = len(yb)
        A = self._row_a(core)
        # within: sum_i Q_i - sum_i Q_i E K_j E' Q_i - sum_i a_i a_i'
        Kbar = np.asarray(self.C.T @ K.reshape(self.J, -1)).reshape(self.Kp, py, py)
        Qyb = Q if self.yb_all else Q[:, :, yb]
        mid = ((Qyb @ Kbar) @ Qyb.transpose(0, 2, 1)).sum(axis=0)
        G_W = ((self.n_per_pat @ Q.reshape(self.Kp, -1)).reshape(self.pw, self.pw)
               - mid - A.T @ A)
        # between, in the coordinates [yb, zb]
        u = g - np.einsum("jab,jb->ja", M, Kg)
        GSc = M - M @ K @ M - u[:, :, None] * u[:, None, :]
        h = -2.0 * np.asarray(self.R @ A)[:, yb]
        Gbb = np.zeros((len(core["bb"]),) * 2)
        gmu_z = np.zeros(len(self.zb))
        for grp in core["groups"]:
            cl, zo = grp["cl"], grp["zo"]
            Gs = GSc[cl].sum(axis=0)
            Gbb[:py, :py] += Gs
            if len(zo) == 0:
                continue
            so, B, ez = grp["so"], grp["B"], grp["ez"]
            He = h[cl].T @ ez
            Gyo = -Gs @ B + 0.5 * He
            Goo = (B.T @ Gs @ B - 0.5 * (He.T @ B + B.T @ He) + len(cl) * grp["Soo_i"]
                   - ez.T @ ez)
            Gbb[:py, so] += Gyo
            Gbb[so, :py] += Gyo.T
            Gbb[np.ix_(so, so)] += Goo
            gmu_z[zo] += -2.0 * ez.sum(axis=0) - B.T @ h[cl].sum(axis=0)
        G_B = np.zeros((self.P, self.P))
        bb = core["bb"]
        G_B[np.ix_(bb, bb)] = 0.5 * (Gbb + Gbb.T)
        g_mu = np.zeros(self.P)
        g_mu[: self.pw] = -2.0 * A.sum(axis=0)
        g_mu[self.zb] = gmu_z
        return 0.5 * (G_W + G_W.T), G_B, g_mu

    def em_step(self, Sw, SB, mu):
        """One EM step for the saturated two-level model (free Sigma_W, Sigma_B, means),
        from the gradient (Fisher's identity for the complete data ``w_ij``, ``b_j``):
        ``sum_ij E[w w' | y] = N Sigma_W - Sigma_W G_W Sigma_W``,
        ``sum_j E[b b' | y] = J S - S G_S S``, ``sum_ij E[w | y] = Sigma_W a`` (``a`` the
        sum of the rows' ``a_i``); the M-step re-centres Sigma_W at the new level-1 means
        (the between-only means are their sample means). Both covariance
        updates are averages of conditional second moments, so Sigma_B stays positive
        semi-definite (lavaan's h1 keeps it so as well). Needs complete between-only values.

        Parameters
        ----------
        Sw, SB, mu : ndarray
            As for :meth:`objective` (Sigma_B positive semi-definite).

        Returns
        -------
        (Sigma_W, Sigma_B, mu) : tuple of ndarray
            The next EM iterate.

        References
        ----------
        Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). JRSS B, 39, 1-38 (Fisher's
        identity); Raudenbush, S. W. (1995). BJMSP 48, 359-370 (EM for two-level models).

        Examples
        --------
        >>> df = pd.DataFrame({"y": [1.0, 3.0, np.nan, 2.0, 5.0, 4.0], "c": [1, 1, 2, 2, 3, 3]})
        >>> md = missing_cluster_data(df, ["y"], [], "c", [0])
        >>> m = (np.eye(1), 0.5 * np.eye(1), np.array([2.8]))
        >>> f0 = md.objective(*m, grad=False)
        >>> bool(md.objective(*md.em_step(*m), grad=False) < f0)
        True
        """
        if self.Zmask.size and not self.Zmask.all():
            raise ValueError("EM for the saturated model needs complete between-only values")
        mu = np.array(mu, float)
        mu[self.zb] = self.Z0.mean(axis=0)  # their ML estimates (complete values)
        f, (G_W, G_B, g_mu) = self.objective(Sw, SB, mu)
        N, J = self.N, self.J
        delta = -Sw @ g_mu[: self.pw] / (2.0 * N)
        Sw_n = Sw - Sw @ G_W @ Sw / N - np.outer(delta, delta)
        bb = np.concatenate([self.yb, self.zb])
        S = SB[np.ix_(bb, bb)]
        S_n = S - S @ G_B[np.ix_(bb, bb)] @ S / J
        mu_n = mu.copy()
        mu_n[: self.pw] += delta
        S_n = 0.5 * (S_n + S_n.T)
        ev, vec = np.linalg.eigh(S_n)  # rounding only: the update is PSD by construction
        S_n = (vec * np.clip(ev, 0.0, None)) @ vec.T
        SB_n = np.zeros_like(SB)
        SB_n[np.ix_(bb, bb)] = S_n
        return 0.5 * (Sw_n + Sw_n.T), SB_n, mu_n

    def cluster_gradients(self, Sw, SB, mu):
        """Per-cluster gradient matrices of ``-2 log L_j``: (J, pw, pw), (J, P, P), (J, P).

        Parameters
        ----------
        Sw, SB, mu : ndarray
            As for :meth:`objective`.

        Returns
        -------
        tuple of ndarray
            Their sums over clusters are the gradient of :meth:`objective`.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, np.nan, 2.0, 2.0], "c": [1, 1, 2, 2]})
        >>> md = missing_cluster_data(df, ["y"], [], "c", [0])
        >>> GW, GB, gm = md.cluster_gradients(np.eye(1), 0.5 * np.eye(1), np.array([1.5]))
        >>> bool(np.isclose(gm.sum(), md.objective(np.eye(1), 0.5 * np.eye(1),
        ...                                           np.array([1.5]))[1][2][0]))
        True
        """
        with np.errstate(all="ignore"):
            core = self._core(Sw, SB, mu)
        Q, M, K, g, Kg = core["Q"], core["M"], core["K"], core["g"], core["Kg"]
        yb, pw, J = self.yb, self.pw, self.J
        py = len(yb)
        A = self._row_a(core)
        GW = np.asarray(self.C @ Q.reshape(self.Kp, -1)).reshape(J, pw, pw)
        Qyb = Q[self.pair_pat][:, :, yb]
        mid = (Qyb @ K[self.pair_cl]) @ Qyb.transpose(0, 2, 1) * self.pair_cnt[:, None, None]
        GW -= np.asarray(self.Rpair @ mid.reshape(len(mid), -1)).reshape(J, pw, pw)
        GW -= np.asarray(self.R @ (A[:, :, None] * A[:, None, :]).reshape(self.N, -1)
                         ).reshape(J, pw, pw)
        u = g - np.einsum("jab,jb->ja", M, Kg)
        GSc = M - M @ K @ M - u[:, :, None] * u[:, None, :]
        RA = np.asarray(self.R @ A)
        h = -2.0 * RA[:, yb]
        bb = core["bb"]
        Gbb = np.zeros((J, len(bb), len(bb)))
        Gbb[:, :py, :py] = GSc
        gm = np.zeros((J, self.P))
        gm[:, :pw] = -2.0 * RA
        for grp in core["groups"]:
            cl, zo = grp["cl"], grp["zo"]
            if len(zo) == 0:
                continue
            so, B, ez = grp["so"], grp["B"], grp["ez"]
            Gs = GSc[cl]
            He = h[cl][:, :, None] * ez[:, None, :]
            Gyo = -Gs @ B + 0.5 * He
            BtHe = np.einsum("yo,jyk->jok", B, He)
            Goo = (B.T[None] @ Gs @ B[None] - 0.5 * (BtHe + BtHe.transpose(0, 2, 1))
                   + grp["Soo_i"][None] - ez[:, :, None] * ez[:, None, :])
            Gbb[np.ix_(cl, np.arange(py), so)] += Gyo
            Gbb[np.ix_(cl, so, np.arange(py))] += Gyo.transpose(0, 2, 1)
            Gbb[np.ix_(cl, so, so)] += Goo
            gm[np.ix_(cl, self.zb[zo])] += -2.0 * ez - h[cl] @ B
        GB = np.zeros((J, self.P, self.P))
        GB[:, bb[:, None], bb[None, :]] = 0.5 * (Gbb + Gbb.transpose(0, 2, 1))
        return 0.5 * (GW + GW.transpose(0, 2, 1)), GB, gm


def missing_cluster_data(data: pd.DataFrame, w_names, z_names, cluster: str,
                         pos_b) -> MissingClusterData:
    """Group incomplete two-level data for the observed-data likelihood.

    Parameters
    ----------
    data : DataFrame
        Rows with at least one observed model value; ``cluster`` without missing values.
    w_names, z_names : list of str
        Level-1 variables and between-only variables (the latter constant within clusters;
        a cluster's value is that of any row where it is observed).
    cluster : str
        The cluster column.
    pos_b : sequence of int
        Extended-space positions ([level-1, between-only]) of the between-level variables.

    Returns
    -------
    MissingClusterData

    References
    ----------
    Rosseel, Y. (2021). Psych, 3(2), 197-232.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, np.nan, 2.0], "z": [np.nan, 4.0, 5.0],
    ...                    "c": ["a", "a", "b"]})
    >>> md = missing_cluster_data(df, ["y"], ["z"], "c", [0, 1])
    >>> md.N, md.J, md.n_missing, md.Z0.ravel().tolist()
    (3, 2, 1, [4.0, 5.0])
    """
    w_names, z_names = list(w_names), list(z_names)
    codes, labels = pd.factorize(data[cluster], sort=True)
    Y = data[w_names].to_numpy(float)
    if z_names:
        Z = (data[z_names].astype(float).groupby(codes, sort=True).first()
             .reindex(range(len(labels))).to_numpy(float))
    else:
        Z = np.zeros((len(labels), 0))
    return MissingClusterData(Y, codes, Z, pos_b, w_names, z_names, list(labels))
