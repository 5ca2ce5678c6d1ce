"""Model representation: lavaan defaults, RAM matrices, implied moments and their Jacobian.

API contract (used by :mod:`analysis.sem.fiml` and :mod:`analysis.sem.robust`)
-----------------------------------------------------------------------------
``SEMModel`` is built by :func:`build_model` from parsed syntax and the data's sample
statistics. All variables (observed ``ov_names`` first, then latent ``lv_names``) follow
the RAM form ``v = A v + u``, ``Cov(u) = S``, ``E(v) = B m`` with ``B = (I - A)^-1``; for
group ``g`` and free-parameter vector ``theta`` (length ``model.n_free``):

* ``model.sigma_mu(theta, g) -> (Sigma (p, p), mu (p,))`` — implied moments of the observed
  variables in the order ``model.ov_names`` (``mu`` is the sample mean's role when
  ``model.meanstructure`` is False: it is then ``model.sample[g].mean`` and constant).
* ``model.jacobian(theta, g) -> (dSigma (q, p, p), dmu (q, p))`` — derivatives w.r.t. theta;
  ``model.jacobian_local(theta, g) -> (idx, dSigma, dmu)`` the same for only the ``idx``
  parameters group g depends on (multi-group models).
* ``model.delta(theta, g) -> ndarray ((p(p+1)/2 + p), q)`` — rows ``[vech(Sigma), mu]``,
  vech as lavaan's ``lav_matrix_vech`` (column-major lower triangle, see :func:`vech_index`).
  The ``mu`` rows are zero when the model has no mean structure.
* ``model.theta_start`` — starting values; ``model.partable`` — one row per parameter
  (``lhs op rhs group label free value``; ``free`` is the 0-based index into theta, -1 when
  fixed); ``model.sample[g]`` — :class:`SampleStats` (``cov`` with divisor N, ``mean``, ``n``,
  ``data`` the complete rows used, ``ov_names``); ``model.n_groups``; ``model.group_labels``.
* ``model.meanstructure`` — True for multi-group models, when the syntax has ``~ 1`` or
  when built with ``meanstructure=True`` (FIML must request it).

theta is shared across groups (equality constraints map several matrix cells to one index).

Reference: McArdle, J. J. & McDonald, R. P. (1984). Some algebraic properties of the
Reticular Action Model. Br. J. Math. Stat. Psychol. 37, 234-251; lavaan's defaults for
``sem()``/``cfa()`` (Rosseel 2012): auto.fix.first, auto.var, auto.cov.lv.x, auto.cov.y,
fixed.x.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import SEMError
from .syntax import Statement, parse_model

__all__ = ["SEMModel", "SampleStats", "build_model", "vech_index"]


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of lavaan's vech: lower triangle, column by column.

    Parameters
    ----------
    p : int
        Order of the symmetric matrix.

    Returns
    -------
    rows, cols : ndarray of int
        ``S[rows, cols]`` is ``vech(S)``, the p(p+1)/2 non-duplicated elements.
    """
    j, i = np.triu_indices(p)
    return i, j


@dataclass
class SampleStats:
    """Sample moments of one group (ML: covariance with divisor N)."""

    cov: np.ndarray
    mean: np.ndarray
    n: int
    data: np.ndarray | None = None
    ov_names: list = field(default_factory=list)

    def __post_init__(self):
        sign, ld = np.linalg.slogdet(self.cov)
        self.logdet = float(ld) if sign > 0 else np.nan

    @classmethod
    def from_moments(cls, cov, mean, n) -> "SampleStats":
        return cls(cov=np.asarray(cov, float), mean=np.asarray(mean, float), n=int(n))

    @classmethod
    def from_data(cls, x: np.ndarray, ov_names=None) -> "SampleStats":
        x = np.asarray(x, dtype=float)
        n = x.shape[0]
        mean = x.mean(axis=0)
        xc = x - mean
        return cls(cov=xc.T @ xc / n, mean=mean, n=n, data=x, ov_names=list(ov_names or []))


@dataclass
class _GroupMats:
    A0: np.ndarray
    S0: np.ndarray
    m0: np.ndarray
    A_idx: tuple  # (rows, cols, theta index)
    S_idx: tuple
    m_idx: tuple


class SEMModel:
    """A lavaan-style model bound to sample statistics; see the module docstring."""

    def __init__(self, partable: pd.DataFrame, ov_names, lv_names, sample, meanstructure,
                 group_labels, defined, n_free):
        self.partable = partable
        self.ov_names = list(ov_names)
        self.lv_names = list(lv_names)
        self.all_names = self.ov_names + self.lv_names
        self.sample: list[SampleStats] = sample
        self.meanstructure = bool(meanstructure)
        self.group_labels = list(group_labels)
        self.n_groups = len(sample)
        self.defined = defined  # list of (name, expression)
        self.n_free = int(n_free)
        self.p = len(self.ov_names)
        self.m = len(self.all_names)
        self._build_mats()
        self.theta_start = self._start_values()

    # -- construction -------------------------------------------------------------------
    def _build_mats(self):
        pt = self.partable
        idx = {v: i for i, v in enumerate(self.all_names)}
        self._mats = []
        for g in range(self.n_groups):
            A0 = np.zeros((self.m, self.m))
            S0 = np.zeros((self.m, self.m))
            m0 = np.zeros(self.m)
            Ai, Si, mi = ([], [], []), ([], [], []), ([], [])
            for row in pt[pt["group"] == g].itertuples():
                if row.op == "=~":
                    r, c, tgt = idx[row.rhs], idx[row.lhs], "A"
                elif row.op == "~":
                    r, c, tgt = idx[row.lhs], idx[row.rhs], "A"
                elif row.op == "~~":
                    r, c, tgt = idx[row.lhs], idx[row.rhs], "S"
                elif row.op == "~1":
                    r, c, tgt = idx[row.lhs], 0, "m"
                else:
                    continue
                if row.free >= 0:
                    lst = {"A": Ai, "S": Si, "m": mi}[tgt]
                    lst[0].append(r)
                    if tgt == "m":
                        lst[1].append(row.free)
                    else:
                        lst[1].append(c)
                        lst[2].append(row.free)
                else:
                    if tgt == "A":
                        A0[r, c] = row.value
                    elif tgt == "S":
                        S0[r, c] = S0[c, r] = row.value
                    else:
                        m0[r] = row.value
            self._mats.append(
                _GroupMats(A0, S0, m0, tuple(np.array(a, dtype=int) for a in Ai),
                           tuple(np.array(a, dtype=int) for a in Si),
                           tuple(np.array(a, dtype=int) for a in mi))
            )
        # one-hot maps from matrix cells to theta (sum of columns implements equalities);
        # when every free cell of a group has its own theta index, plain indexing suffices
        self._onehot = []
        self._unique = []
        self._local = []  # theta indices used by each group, and the cells' local indices
        for gm in self._mats:
            allk = np.concatenate([gm.A_idx[2], gm.S_idx[2], gm.m_idx[1]])
            loc = np.unique(allk)
            lk = [np.searchsorted(loc, arr) for arr in (gm.A_idx[2], gm.S_idx[2], gm.m_idx[1])]
            self._local.append((loc, lk))
            oh = []
            for arr in lk:
                M = np.zeros((len(loc), len(arr)))
                M[arr, np.arange(len(arr))] = 1.0
                oh.append(M)
            self._onehot.append(oh)
            self._unique.append(len(loc) == len(allk))

    def _start_values(self) -> np.ndarray:
        """Heuristic starts: lavaan-like ("simple"/fabin-flavoured), refined by the fitter."""
        from types import SimpleNamespace

        recs = [SimpleNamespace(**d) for d in self.partable.to_dict("records")]
        theta = np.full(self.n_free, np.nan)
        ovi = {v: i for i, v in enumerate(self.ov_names)}
        for g in range(self.n_groups):
            S = self.sample[g].cov
            ybar = self.sample[g].mean
            sub = [r for r in recs if r.group == g]
            # loadings and latent variances from the indicators' covariances
            lam: dict = {}
            lvvar: dict = {}
            for lv in self.lv_names:
                rows = [r for r in sub if r.op == "=~" and r.lhs == lv]
                inds = [r.rhs for r in rows if r.rhs in ovi]
                if not inds:
                    lvvar[lv] = 0.05
                    continue
                marker = inds[0]
                for r in rows:
                    if r.free < 0 and r.value != 0 and r.rhs in ovi:
                        marker = r.rhs
                        break
                mi_ = ovi[marker]
                others = [ovi[v] for v in inds if v != marker]
                for v in inds:
                    j = ovi[v]
                    if v == marker:
                        lam[(lv, v)] = 1.0
                        continue
                    ks = [k for k in others if k != j]
                    vals = [S[j, k] / S[mi_, k] for k in ks if abs(S[mi_, k]) > 1e-8]
                    lam[(lv, v)] = float(np.median(vals)) if vals else 1.0
                phis = [S[mi_, ovi[v]] / lam[(lv, v)] for v in inds
                        if v != marker and abs(lam[(lv, v)]) > 1e-8]
                phi = float(np.mean(phis)) if phis else 0.5 * S[mi_, mi_]
                if not np.isfinite(phi) or phi <= 0.05 * S[mi_, mi_]:
                    phi = 0.5 * S[mi_, mi_]
                lvvar[lv] = phi
            for r in sub:
                if r.free < 0 or not np.isnan(theta[r.free]):  # fixed, or shared and set
                    continue
                if not np.isnan(r.start):
                    val = r.start
                elif r.op == "=~":
                    val = lam.get((r.lhs, r.rhs), 1.0)
                    if not np.isfinite(val) or abs(val) > 10:
                        val = 1.0
                elif r.op == "~":
                    val = 0.0
                elif r.op == "~~" and r.lhs == r.rhs:
                    if r.lhs in ovi:
                        j = ovi[r.lhs]
                        expl = sum(lam.get((lv, r.lhs), 0.0) ** 2 * lvvar.get(lv, 0.0)
                                   for lv in self.lv_names if (lv, r.lhs) in lam)
                        val = max(S[j, j] - expl, 0.1 * S[j, j]) if expl else 0.5 * S[j, j]
                    else:
                        val = lvvar.get(r.lhs, 0.05)
                elif r.op == "~~":
                    val = 0.0
                elif r.op == "~1":
                    val = ybar[ovi[r.lhs]] if r.lhs in ovi else 0.0
                else:
                    val = 0.0
                theta[r.free] = val
        theta[np.isnan(theta)] = 0.0
        return theta

    # -- evaluation ---------------------------------------------------------------------
    def matrices(self, theta, g: int = 0):
        """The RAM matrices (A, S, m) of group ``g`` at ``theta``."""
        gm = self._mats[g]
        A = gm.A0.copy()
        S = gm.S0.copy()
        m = gm.m0.copy()
        r, c, k = gm.A_idx
        A[r, c] = theta[k]
        r, c, k = gm.S_idx
        S[r, c] = theta[k]
        S[c, r] = theta[k]
        r, k = gm.m_idx
        m[r] = theta[k]
        return A, S, m

    def _core(self, theta, g):
        A, S, m = self.matrices(theta, g)
        B = np.linalg.inv(np.eye(self.m) - A)
        G = B[: self.p]  # F B: rows of the observed variables
        return A, S, m, B, G

    def sigma_mu(self, theta, g: int = 0):
        """Implied covariance (p, p) and mean (p,) of the observed variables in group g."""
        A, S, m, B, G = self._core(theta, g)
        Sigma = G @ S @ G.T
        mu = G @ m if self.meanstructure else self.sample[g].mean.copy()
        return Sigma, mu

    def total_cov(self, theta, g: int = 0) -> np.ndarray:
        """Implied covariance of all variables (observed then latent), B S B'."""
        A, S, m, B, G = self._core(theta, g)
        return B @ S @ B.T

    def jacobian(self, theta, g: int = 0):
        """dSigma (q, p, p) and dmu (q, p) with respect to theta for group g."""
        loc, dSl, dmul = self.jacobian_local(theta, g)
        dS = np.zeros((self.n_free, self.p, self.p))
        dmu = np.zeros((self.n_free, self.p))
        dS[loc] = dSl
        dmu[loc] = dmul
        return dS, dmu

    def jacobian_local(self, theta, g: int = 0):
        """(theta indices used by group g, dSigma and dmu w.r.t. those parameters only);
        in multi-group models each group depends on a fraction of theta."""
        A, S, m, B, G = self._core(theta, g)
        gm = self._mats[g]
        loc, (kA, kS, km) = self._local[g]
        ohA, ohS, ohm = self._onehot[g]
        p, q = self.p, len(loc)
        fast = self._unique[g]
        dS = np.zeros((q, p, p))
        dmu = np.zeros((q, p))
        r, c, _ = gm.A_idx
        if len(r):
            H = B @ S @ G.T  # (m, p)
            C = G[:, r].T[:, :, None] * H[c][:, None, :]  # (e, p, p)
            C += C.transpose(0, 2, 1)
            if fast:
                dS[kA] = C
            else:
                dS += (ohA @ C.reshape(len(r), -1)).reshape(q, p, p)
            if self.meanstructure:
                Bm = B @ m
                D = G[:, r].T * Bm[c][:, None]
                if fast:
                    dmu[kA] = D
                else:
                    dmu += ohA @ D
        r, c, _ = gm.S_idx
        if len(r):
            C = G[:, r].T[:, :, None] * G[:, c].T[:, None, :]
            off = r != c
            C[off] += C[off].transpose(0, 2, 1)
            if fast:
                dS[kS] = C
            else:
                dS += (ohS @ C.reshape(len(r), -1)).reshape(q, p, p)
        r, _ = gm.m_idx
        if len(r) and self.meanstructure:
            if fast:
                dmu[km] = G[:, r].T
            else:
                dmu += ohm @ G[:, r].T
        return loc, dS, dmu

    def delta(self, theta, g: int = 0) -> np.ndarray:
        """Jacobian of [vech(Sigma), mu] (lavaan's order) w.r.t. theta, shape (p*(p+1)/2+p, q)."""
        dS, dmu = self.jacobian(theta, g)
        i, j = vech_index(self.p)
        return np.vstack([dS[:, i, j].T, dmu.T])

    # -- helpers ------------------------------------------------------------------------
    @property
    def def_fun(self):
        """Function label values -> defined-parameter values (compiled once, not pickled)."""
        f = self.__dict__.get("_def_fun")
        if f is None:
            from .defined import compile_definitions

            f = compile_definitions(self.defined, set(self.partable["label"]) - {""})
            self.__dict__["_def_fun"] = f
        return f

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_def_fun", None)
        return state

    def with_samples(self, samples) -> "SEMModel":
        """A copy fitted to other moments (bootstrap), re-fixing exogenous covariates
        (fixed.x) at the new sample values."""
        self.def_fun  # compile once here, not in every copy (it is not pickled to workers)
        new = copy.copy(self)
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k.startswith("_")})
        new.sample = samples
        xs = [self.ov_names.index(v) for v in getattr(self, "ov_x", [])]
        if xs:
            new._mats = [copy.deepcopy(gm) for gm in self._mats]
            for g, gm in enumerate(new._mats):
                S, mbar = samples[g].cov, samples[g].mean
                for a in xs:
                    gm.m0[a] = mbar[a] if self.meanstructure else 0.0
                    for b in xs:
                        gm.S0[a, b] = S[a, b]
        return new

    @property
    def free_rows(self) -> pd.DataFrame:
        """First partable row of each free parameter, ordered by theta index."""
        pt = self.partable
        return pt[pt["free"] >= 0].drop_duplicates("free").sort_values("free")

    def param_names(self) -> list[str]:
        return [f"{r.lhs}{r.op}{r.rhs}" for r in self.free_rows.itertuples()]


# ---------------------------------------------------------------------------------------


def _roles(stmts: list[Statement]):
    lv = []
    for s in stmts:
        if s.op == "=~" and s.lhs not in lv:
            lv.append(s.lhs)
    ov_ind, other = [], []
    for s in stmts:
        if s.op == ":=":
            continue
        names = [s.rhs] if s.op == "=~" else [s.lhs, s.rhs]
        for v in names:
            if not v or v in lv:
                continue
            tgt = ov_ind if s.op == "=~" else other
            if v not in ov_ind and v not in other:
                tgt.append(v)
            elif s.op == "=~" and v in other:
                other.remove(v)
                ov_ind.append(v)
    ov = ov_ind + other
    indicators = {s.rhs for s in stmts if s.op == "=~"}
    eqs_y = {s.lhs for s in stmts if s.op == "~"}
    eqs_x = {s.rhs for s in stmts if s.op == "~"}
    ov_x = [v for v in ov if v in eqs_x and v not in eqs_y and v not in indicators]
    pure_y = [v for v in ov + lv if v in eqs_y and v not in eqs_x and v not in indicators]
    lv_x = [v for v in lv if v not in eqs_y and v not in indicators]
    return ov, lv, ov_x, pure_y, lv_x


def build_model(syntax: str, samples: list[SampleStats], *, group_labels=None,
                group_equal=(), meanstructure: bool | None = None,
                fixed_x: bool = True) -> SEMModel:
    """Build a :class:`SEMModel` with lavaan's ``sem()`` defaults.

    Parameters
    ----------
    syntax : str
        lavaan model syntax.
    samples : list of SampleStats
        One per group, over the model's observed variables in the order of
        :func:`observed_variables`.
    group_labels : list, optional
    group_equal : iterable of {"loadings", "intercepts"}
    meanstructure : bool, optional
        Default: True for several groups or when the syntax has ``~ 1``.
    fixed_x : bool
        Fix variances/covariances/means of exogenous observed covariates at their sample
        values (lavaan's ``fixed.x = TRUE``).

    Returns
    -------
    SEMModel
        The free-parameter layout and the matrices it fills, ready for an estimator.
    """
    stmts = parse_model(syntax) if isinstance(syntax, str) else syntax
    if any(getattr(s, "level", None) for s in stmts):  # two-level syntax: never merge levels
        raise SEMError("the model has 'level:' blocks: fit it as a two-level model "
                       "(analysis.sem.twolevel.fit_twolevel, with cluster=)")
    ov, lv, ov_x, pure_y, lv_x = _roles(stmts)
    G = len(samples)
    group_labels = list(group_labels) if group_labels is not None else list(range(1, G + 1))
    bad = set(group_equal) - {"loadings", "intercepts"}
    if bad:
        raise SEMError(f"group_equal: unsupported {sorted(bad)}; use 'loadings', 'intercepts'")
    if meanstructure is None:
        meanstructure = G > 1 or any(s.op == "~1" for s in stmts)
    if "intercepts" in group_equal and not meanstructure:
        raise SEMError("group_equal='intercepts' needs a mean structure")
    defined = [(s.lhs, s.expr) for s in stmts if s.op == ":="]
    user = [s for s in stmts if s.op != ":="]
    for s in user:
        if s.op == "~" and s.lhs == s.rhs:
            raise SEMError(f"variable {s.lhs!r} is regressed on itself")

    rows: list[dict] = []

    def pick(lst, g):
        if lst is None:
            return None
        if len(lst) == 1:
            return lst[0]
        if len(lst) != G:
            raise SEMError(f"modifier c(...) has {len(lst)} values but there are {G} groups")
        return lst[g]

    for g in range(G):
        specified = set()
        first_ind = {}
        for s in user:
            key = (s.lhs, s.op, s.rhs)
            if s.op == "~~":
                specified.add((s.rhs, s.op, s.lhs))
            specified.add(key)
            fixed = pick(s.fixed, g)
            has_fixed = s.fixed is not None
            label = pick(s.label, g)
            start = pick(s.start, g)
            free = not has_fixed or fixed is None
            if s.op == "=~" and s.lhs not in first_ind:
                first_ind[s.lhs] = s.rhs
                if not has_fixed:  # marker-variable identification
                    free, fixed = False, 1.0
            rows.append(dict(lhs=s.lhs, op=s.op, rhs=s.rhs, group=g, user=True,
                             label=label or "", fixedval=None if free else float(fixed),
                             start=np.nan if start is None else float(start)))

        def add(lhs, op, rhs, fixedval=None):
            if (lhs, op, rhs) in specified or (rhs, op, lhs) in specified:
                return
            specified.add((lhs, op, rhs))
            rows.append(dict(lhs=lhs, op=op, rhs=rhs, group=g, user=False, label="",
                             fixedval=fixedval, start=np.nan))

        S = samples[g].cov
        ybar = samples[g].mean
        oi = {v: i for i, v in enumerate(ov)}
        for v in ov:
            if fixed_x and v in ov_x:
                continue
            add(v, "~~", v)
        for v in lv:
            add(v, "~~", v)
        for a in range(len(lv_x)):
            for b in range(a + 1, len(lv_x)):
                add(lv_x[a], "~~", lv_x[b])
        for a in range(len(pure_y)):
            for b in range(a + 1, len(pure_y)):
                add(pure_y[a], "~~", pure_y[b])
        if fixed_x:
            for a in range(len(ov_x)):
                for b in range(a, len(ov_x)):
                    add(ov_x[a], "~~", ov_x[b], fixedval=float(S[oi[ov_x[a]], oi[ov_x[b]]]))
        if meanstructure:
            for v in ov:
                if fixed_x and v in ov_x:
                    add(v, "~1", "", fixedval=float(ybar[oi[v]]))
                else:
                    add(v, "~1", "")
            for v in lv:
                free_mean = "intercepts" in group_equal and g > 0
                add(v, "~1", "", fixedval=None if free_mean else 0.0)

    pt = pd.DataFrame(rows)
    # free-parameter indices: labels and group_equal share an index
    free_idx = np.full(len(pt), -1, dtype=int)
    by_key: dict = {}
    n_free = 0
    ov_set = set(ov)
    for i, r in enumerate(pt.itertuples()):
        if r.fixedval is not None and not (isinstance(r.fixedval, float) and np.isnan(r.fixedval)):
            continue
        key = None
        if r.label:
            key = ("label", r.label)
        elif G > 1 and "loadings" in group_equal and r.op == "=~":
            key = ("eq", r.lhs, r.op, r.rhs)
        elif G > 1 and "intercepts" in group_equal and r.op == "~1" and r.lhs in ov_set:
            key = ("eq", r.lhs, r.op, r.rhs)
        if key is not None and key in by_key:
            free_idx[i] = by_key[key]
            continue
        free_idx[i] = n_free
        if key is not None:
            by_key[key] = n_free
        n_free += 1
    pt["free"] = free_idx
    pt["value"] = [np.nan if v is None else v for v in pt["fixedval"]]
    pt = pt.drop(columns="fixedval")
    labels_in_defined = {d[0] for d in defined}
    dup = labels_in_defined & set(pt["label"])
    if dup:
        raise SEMError(f"defined parameter name(s) {sorted(dup)} already used as labels")
    # labels attached to fixed parameters are allowed (they enter := as constants)
    model = SEMModel(pt, ov, lv, samples, meanstructure, group_labels, defined, n_free)
    model.ov_x = ov_x
    model.group_equal = tuple(group_equal)
    return model


def observed_variables(syntax: str) -> list[str]:
    """Observed variable names of a model, in the order the model uses.

    Parameters
    ----------
    syntax : str
        lavaan model syntax.

    Returns
    -------
    list of str
        Indicators first, in the order they appear, then observed variables named only in
        regressions or covariances.
    """
    stmts = parse_model(syntax) if isinstance(syntax, str) else syntax
    return _roles(stmts)[0]
