r"""Cluster-robust inference for single-level models: ``fit_sem(..., cluster="id")``.

Observations nested in clusters (residents in communities, pupils in schools) are not
independent. For a single-level model, lavaan 0.6-14's ``sem(..., cluster = "id")`` keeps
the ML point estimates and the unscaled test and replaces the inference:

* standard errors from the cluster-robust sandwich ``V = E^-1 B E^-1`` (Huber 1967;
  Muthen & Satorra 1995), E the observed information (Hessian) and the meat
  ``B = sum_g G_g/(G_g - 1) sum_c t_c t_c'`` with ``t_c = sum_{i in c} s_i`` the casewise
  scores summed within cluster c (G_g clusters in group g; clusters are nested in groups);
* the Yuan-Bentler scaled test in its Mplus form ("yuan.bentler.mplus"; Asparouhov &
  Muthen 2005 for clustered data), ``c = [sum_g tr(A1_g^-1 B1_g) - tr(E^-1 B)] / df`` with
  B1 the first-order h1 information from cluster-summed h1 scores (same G/(G-1)), and
  lavaan's robust CFI/TLI/RMSEA from c (and under FIML the Zhang & Savalei 2022 versions),
  exactly as :mod:`analysis.sem.robust` computes them for independent rows;
* a mean structure (intercepts are free parameters), as lavaan forces with ``cluster=``.

What lavaan does and this module mirrors (checked on lavaan 0.6-14, see
``tests/reference/sem_cluster_reference.R``):

* ``estimator = "ML"`` with ``cluster=`` also gives the cluster-robust SEs and the scaled
  test (lavaan sets ``se = "robust.cluster"``, ``test = c("standard",
  "yuan.bentler.mplus")``), but the test's information is the h1-based one,
  ``E = Delta' A1(Sigma-hat) Delta`` (lavaan's ``observed.information = "h1"`` for tests);
  ``result.estimator`` stays "ML".
* Clusters of size one are accepted (a singleton contributes its own score).
* With fewer clusters than free parameters the meat has rank at most the number of
  clusters (``sum_g (G_g - 1)`` without equality constraints, the scores of a group
  summing to 0): the sandwich is not positive definite; SEs are still reported with a warning (in
  ``result.warnings`` and ``summary()``), as lavaan does.
* Where lavaan only warns that the cluster variable has missing values (and then treats
  NA as one more cluster), this module raises :class:`SEMError` naming the rows.

Public API
----------
fit_clustered(model, data, cluster, ...)      the cluster= path of fit_sem -> SEMResult
cluster_codes(values)                         integer codes 0..G-1 of cluster labels
cluster_sums(scores, codes, n_clusters)       sum of score rows within clusters
ClusterGroupMoments(...)                      robust.GroupMoments with clustered meat/B1
complete_hessian(n, ybar, S, mu, Sigma)       moment Hessian of complete data (fast path)
with_clusters(groups, codes)                  wrap GroupMoments (model and baseline)
cluster_resample_counts(rng, codes, n_clusters)   row weights of one cluster bootstrap draw
bootstrap_clusters(result, cluster)           what bootstrap(..., cluster=) resamples
has_level_blocks(syntax)                      whether a model has two-level ``level:`` blocks

References
----------
Muthen, B. O., & Satorra, A. (1995). Complex sample data in structural equation modeling.
Sociological Methodology, 25, 267-316.
Asparouhov, T., & Muthen, B. (2005). Multivariate statistical modeling with survey data.
Proceedings of the Federal Committee on Statistical Methodology (FCSM) Research Conference.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. Sociological Methodology, 30,
165-200.
Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following FIML and TS
estimation with missing data. Psychological Methods.

Example
-------
>>> import numpy as np, pandas as pd
>>> from analysis.sem import fit_sem
>>> rng = np.random.default_rng(1)
>>> u = np.repeat(rng.normal(size=40), 10)          # 40 clusters of 10
>>> f = u + rng.normal(size=400)
>>> df = pd.DataFrame({f"y{j}": f + rng.normal(size=400) for j in (1, 2, 3, 4)})
>>> df["school"] = np.repeat(np.arange(40), 10)
>>> res = fit_sem("f =~ y1 + y2 + y3 + y4", df, cluster="school", estimator="MLR")
>>> res.extra["cluster"]["n_clusters"], int(res.fit_indices["df"])
([40], 2)
>>> naive = fit_sem("f =~ y1 + y2 + y3 + y4\ny1 ~ 1", df, estimator="MLR")
>>> se = lambda r: float(r.estimates.query("lhs == 'y1' and op == '~1'")["se"].iloc[0])
>>> bool(se(res) > 1.5 * se(naive))       # intercepts: the design effect of clustering
True
"""

from __future__ import annotations

import dataclasses
import re
import warnings as _warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from . import fiml, robust
from .errors import SEMError, SEMWarning
from .estimates import build_estimates
from .pipeline import fit_single, prepare_data
from .syntax import parse_model

__all__ = ["fit_clustered", "cluster_codes", "cluster_sums", "ClusterGroupMoments",
           "with_clusters", "complete_hessian", "cluster_resample_counts", "bootstrap_clusters", "has_level_blocks"]

_LEVEL = re.compile(r"^\s*level\s*:", re.IGNORECASE | re.MULTILINE)


def has_level_blocks(syntax) -> bool:
    """Whether lavaan syntax has two-level ``level: 1`` / ``level: within`` blocks.

    Parameters
    ----------
    syntax : str or object
        Model syntax (anything else, e.g. parsed statements, gives False).

    Returns
    -------
    bool

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. J. Stat.
    Softw. 48(2) (the ``level:`` keyword of lavaan >= 0.6).

    Examples
    --------
    >>> has_level_blocks("level: 1\\n f =~ y1 + y2 + y3\\nlevel: 2\\n fb =~ y1 + y2 + y3")
    True
    >>> has_level_blocks("f =~ y1 + y2 + y3")
    False
    """
    return isinstance(syntax, str) and bool(_LEVEL.search(syntax))


def cluster_codes(values) -> tuple[np.ndarray, int]:
    """Integer codes ``0..G-1`` (order of first appearance) of cluster labels.

    Parameters
    ----------
    values : array-like
        One cluster label per row (numbers or strings, no missing values).

    Returns
    -------
    codes : ndarray of int, shape (n,)
    n_clusters : int

    References
    ----------
    Muthen & Satorra (1995), Sociological Methodology 25 (clusters as primary sampling
    units).

    Examples
    --------
    >>> cluster_codes(["b", "a", "b", "c"])
    (array([0, 1, 0, 2]), 3)
    """
    codes, uniques = pd.factorize(pd.Series(values).to_numpy(), use_na_sentinel=True)
    if (codes < 0).any():
        raise SEMError("cluster labels contain missing values")
    return codes.astype(np.intp), int(len(uniques))


def cluster_sums(scores: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum the rows of ``scores`` within clusters: ``t_c = sum_{i in c} s_i``.

    Parameters
    ----------
    scores : ndarray, shape (n, k)
    codes : ndarray of int, shape (n,)
        Cluster code ``0..n_clusters-1`` of each row.
    n_clusters : int

    Returns
    -------
    ndarray, shape (n_clusters, k)

    References
    ----------
    Muthen & Satorra (1995), Sociological Methodology 25, eq. for the clustered
    first-order information.

    Examples
    --------
    >>> cluster_sums(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]), 2)
    array([[4., 6.],
           [2., 3.]])
    """
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    out = np.zeros((n_clusters, scores.shape[1]))
    out[sc[starts]] = np.add.reduceat(scores[order], starts, axis=0)
    return out


@dataclass
class ClusterGroupMoments(robust.GroupMoments):
    """:class:`analysis.sem.robust.GroupMoments` whose meat and first-order h1
    information sum the casewise scores within clusters.

    ``meat() = f T'T`` with ``T = cluster_sums(scores) Delta`` and
    ``h1_firstorder() = f T1'T1`` with T1 the cluster sums of the h1 scores, where
    ``f = G / (G - 1)`` (G clusters in this group), the small-sample factor lavaan uses.

    Parameters
    ----------
    patterns, mu, Sigma, delta, mu1, Sigma1, fixed_x
        As for :class:`analysis.sem.robust.GroupMoments`.
    clusters : ndarray of int
        Cluster code of each row of ``patterns`` (``0..n_clusters-1``).
    n_clusters : int
    h1_cache : dict
        Shared between a model and its baseline (same data, same h1 first-order
        information).

    References
    ----------
    Muthen & Satorra (1995); Asparouhov & Muthen (2005).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> pat = fiml.MissingPatterns(X)
    >>> mu, S = X.mean(0), np.cov(X.T, bias=True)
    >>> g = ClusterGroupMoments(pat, mu, S, np.eye(5), mu, S,
    ...                         clusters=np.arange(20) % 4, n_clusters=4)
    >>> g.meat().shape
    (5, 5)
    """

    clusters: np.ndarray = None
    n_clusters: int = 0
    h1_cache: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        self.clusters = np.asarray(self.clusters, dtype=np.intp)
        if self.clusters.shape != (self.patterns.n,):
            raise ValueError(f"clusters must have one code per row ({self.patterns.n}); "
                             f"got shape {self.clusters.shape}")
        if self.n_clusters < 2:
            raise ValueError("cluster-robust inference needs at least 2 clusters")
        p = self.patterns.p
        self.moment_cols = slice(None) if self.meanstructure else slice(0, p * (p + 1) // 2)
        self._hcache = None

    @property
    def factor(self) -> float:
        """Small-sample factor ``G / (G - 1)``."""
        return self.n_clusters / (self.n_clusters - 1.0)

    @property
    def complete(self) -> bool:
        """Whether the group's data are complete (one pattern, all observed)."""
        return self.patterns.K == 1 and bool(self.patterns.mask.all())

    def cluster_aggregates(self):
        """Per cluster: size, sum of the rows, sum of their cross-products (complete data;
        computed once and shared with the baseline through ``h1_cache``)."""
        if self.h1_cache.get("agg") is None:
            X = self.patterns.X0
            G, p = self.n_clusters, self.patterns.p
            order = np.argsort(self.clusters, kind="stable")
            bounds = np.r_[0, np.cumsum(np.bincount(self.clusters, minlength=G))]
            Xs = X[order]
            XX = np.stack([Xs[a:b].T @ Xs[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
            self.h1_cache["agg"] = (np.diff(bounds).astype(float),
                                    cluster_sums(X, self.clusters, G), XX.reshape(G, p, p))
        return self.h1_cache["agg"]

    def cluster_scores_at(self, mu, Sigma) -> np.ndarray:
        """Cluster sums of the casewise moment scores at (mu, Sigma), G x (p* [+ p]).

        Complete data: from the cluster aggregates, ``P s_c`` for the means and
        ``vech(P M_c P - n_c P)`` (off-diagonal cells counted for both (i, j) and (j, i),
        as in :func:`analysis.sem.fiml.casewise_scores`) for the covariances, with
        ``s_c = sum_i e_i``, ``M_c = sum_i e_i e_i'``, ``e_i = y_i - mu``, ``P = Sigma^-1``.
        Incomplete data: the casewise scores summed within clusters.
        """
        if not self.complete:
            S = fiml.casewise_scores(self.patterns, mu, Sigma)
            return cluster_sums(S, self.clusters, self.n_clusters)[:, self.moment_cols]
        n_c, sums, XX = self.cluster_aggregates()
        mu = np.asarray(mu, dtype=float)
        P = np.linalg.inv(np.asarray(Sigma, dtype=float))
        P = 0.5 * (P + P.T)
        s = sums - n_c[:, None] * mu
        M = (XX - sums[:, :, None] * mu[None, None, :] - mu[None, :, None] * sums[:, None, :]
             + n_c[:, None, None] * np.outer(mu, mu))
        PMP = P @ M @ P
        r, c = fiml.vech_indices(self.patterns.p)
        half = np.where(r == c, 0.5, 1.0)
        cov_part = (PMP[:, r, c] - n_c[:, None] * P[r, c]) * half
        out = np.hstack([cov_part, s @ P])
        return out[:, self.moment_cols]

    def cluster_moment_scores(self) -> np.ndarray:
        """Cluster sums of the moment scores at the implied moments, G x (p* [+ p])."""
        return self.cluster_scores_at(self.mu, self.Sigma)

    def meat(self) -> np.ndarray:
        """``G/(G-1) sum_c t_c t_c'`` of the cluster-summed theta scores."""
        T = self.cluster_moment_scores() @ self.delta
        return self.factor * (T.T @ T)

    def h1_firstorder(self) -> np.ndarray:
        """Clustered first-order h1 information at the unrestricted moments (cached)."""
        if self.h1_cache.get("B1") is None:
            T1 = self.cluster_scores_at(self.mu1, self.Sigma1)
            self.h1_cache["B1"] = self.factor * (T1.T @ T1)
        return self.h1_cache["B1"]

    def _hessian_at(self, mu, Sigma) -> np.ndarray:
        if self.complete:
            pat = self.patterns
            H = complete_hessian(pat.n, pat.ybar[0], pat.T[0], mu, Sigma)
        else:
            H = fiml.hessian(self.patterns, mu, Sigma)
        return H[self.moment_cols, self.moment_cols]

    def moment_hessian(self) -> np.ndarray:
        """Hessian of the log-likelihood w.r.t. the moments at the implied moments."""
        if self._hcache is None:
            self._hcache = self._hessian_at(self.mu, self.Sigma)
        return self._hcache

    def h1_information(self) -> np.ndarray:
        """Observed h1 information (total) at the unrestricted moments (cached)."""
        if self.h1_cache.get("A1") is None:
            self.h1_cache["A1"] = -self._hessian_at(self.mu1, self.Sigma1)
        return self.h1_cache["A1"]


@lru_cache(maxsize=8)
def _vech_gathers(p: int):
    """vech indices, weights and the flat indices of X[a, k] for a, k in {r, c}
    (X_rr, X_rc, X_cr, X_cc), cached per p."""
    r, c = fiml.vech_indices(p)
    w = np.where(r == c, 0.5, 1.0)
    idx = tuple((a * p)[:, None] + k[None, :] for a in (r, c) for k in (r, c))
    return r, c, w, np.outer(w, w), idx


def complete_hessian(n: int, ybar, S, mu, Sigma) -> np.ndarray:
    """Hessian of the complete-data normal log-likelihood w.r.t. ``[vech(Sigma), mu]``.

    The data enter through n, the mean ``ybar`` and the covariance ``S`` (divisor n).
    With ``P = Sigma^-1``, ``d = ybar - mu``, ``v = P d``, ``B = P (S + d d') P``:
    ``d2L = n/2 tr(P dS P dS) - n tr(dS P dS B) - 2n dmu' P dS v - n dmu' P dmu``
    (the one-pattern case of :func:`analysis.sem.fiml.hessian`, by gathers instead of a
    p^2 x p^2 product).

    Parameters
    ----------
    n : int
    ybar : ndarray, shape (p,)
    S : ndarray, shape (p, p)
    mu : ndarray, shape (p,)
    Sigma : ndarray, shape (p, p)

    Returns
    -------
    ndarray, shape (p* + p, p* + p)

    References
    ----------
    Magnus, J. R. & Neudecker, H. (1988). Matrix Differential Calculus with Applications in
    Statistics and Econometrics, Wiley, ch. 15 (the normal log-likelihood's second
    differential).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> H = complete_hessian(30, X.mean(0), np.cov(X.T, bias=True), np.zeros(3), np.eye(3))
    >>> bool(np.allclose(H, fiml.hessian(fiml.MissingPatterns(X), np.zeros(3), np.eye(3))))
    True
    """
    P = np.linalg.inv(np.asarray(Sigma, dtype=float))
    P = 0.5 * (P + P.T)
    d = np.asarray(ybar, dtype=float) - np.asarray(mu, dtype=float)
    v = P @ d
    B = P @ (np.asarray(S, dtype=float) + np.outer(d, d)) @ P
    r, c, w, ww, idx = _vech_gathers(P.shape[0])

    def gather(X):
        flat = np.ascontiguousarray(X).ravel()
        return [flat[i] for i in idx]

    Prr, Prc, Pcr, Pcc = gather(P)
    Brr, Brc, Bcr, Bcc = gather(B)
    # D'(A (x) C)D over both orders of every vech index (i, j) and (k, l):
    # A_ik C_jl + A_il C_jk + A_jk C_il + A_jl C_ik
    pair_PP = 2.0 * (Prr * Pcc + Prc * Pcr)
    pair_PB = Prr * Bcc + Prc * Bcr + Pcr * Brc + Pcc * Brr
    H_ss = n * (0.5 * pair_PP - pair_PB) * ww
    H_ss = 0.5 * (H_ss + H_ss.T)
    cross = -n * (P[:, r] * v[c] + P[:, c] * v[r]) * w
    return np.block([[H_ss, cross.T], [cross, -n * P]])


def with_clusters(groups, codes, n_clusters, caches=None) -> list[ClusterGroupMoments]:
    """Wrap :class:`robust.GroupMoments` (one per group) as :class:`ClusterGroupMoments`.

    Parameters
    ----------
    groups : list of GroupMoments
    codes : list of ndarray
        Cluster codes per group (rows in the order of each group's data).
    n_clusters : list of int
    caches : list of dict, optional
        h1 caches to share (pass the model's when wrapping its baseline).

    Returns
    -------
    list of ClusterGroupMoments

    References
    ----------
    Muthen & Satorra (1995).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(12, 2))
    >>> pat = fiml.MissingPatterns(X)
    >>> g = robust.GroupMoments(pat, X.mean(0), np.eye(2), np.eye(5), X.mean(0), np.eye(2))
    >>> with_clusters([g], [np.arange(12) % 3], [3])[0].n_clusters
    3
    """
    caches = caches or [{} for _ in groups]
    return [ClusterGroupMoments(g.patterns, g.mu, g.Sigma, g.delta, g.mu1, g.Sigma1,
                                g.fixed_x, clusters=c, n_clusters=k, h1_cache=h)
            for g, c, k, h in zip(groups, codes, n_clusters, caches)]


def cluster_resample_counts(rng: np.random.Generator, codes: np.ndarray,
                            n_clusters: int) -> np.ndarray:
    """Row weights of one cluster-bootstrap resample: whole clusters drawn with replacement.

    ``n_clusters`` clusters are drawn with replacement; each row gets the number of times
    its cluster was drawn.

    Parameters
    ----------
    rng : numpy.random.Generator
    codes : ndarray of int
        Cluster code of each row.
    n_clusters : int

    Returns
    -------
    ndarray of float, shape (n,)

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application,
    sec. 3.8 (resampling the first stage of a two-stage sample).

    Examples
    --------
    >>> w = cluster_resample_counts(np.random.default_rng(0), np.array([0, 0, 1, 2]), 3)
    >>> len(w), float(w[0] == w[1])
    (4, 1.0)
    """
    drawn = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)
    return drawn[codes].astype(float)


def bootstrap_clusters(result, cluster=None):
    """Per group ``(codes, n_clusters)`` for a cluster bootstrap, or None for rows.

    Parameters
    ----------
    result : SEMResult
    cluster : None, False, str or array-like
        None: the clusters of a fit made with ``fit_sem(..., cluster=)`` (rows otherwise);
        False: rows; str: must name the fit's cluster column; array-like: one label per
        fitted row, in the order of ``result.model.sample`` (group after group).

    Returns
    -------
    list of (ndarray, int) or None

    Raises
    ------
    SEMError
        A column name the fit was not clustered by, labels of the wrong length or with
        missing values, a group with fewer than 2 clusters.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application,
    Cambridge University Press, sec. 3.8.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fake = SimpleNamespace(extra={}, model=SimpleNamespace(sample=[
    ...     SimpleNamespace(n=4)]))
    >>> bootstrap_clusters(fake, ["a", "a", "b", "b"])
    [(array([0, 0, 1, 1]), 2)]
    >>> bootstrap_clusters(fake) is None
    True
    """
    fitted = (getattr(result, "extra", None) or {}).get("cluster")
    if cluster is False:
        return None
    if cluster is None:
        if fitted is None:
            return None
        return [(np.asarray(c), int(k)) for c, k in zip(fitted["codes"], fitted["n_clusters"])]
    if isinstance(cluster, str):
        if fitted is None or fitted["name"] != cluster:
            how = "without cluster=" if fitted is None else f"with cluster={fitted['name']!r}"
            raise SEMError(f"bootstrap(cluster={cluster!r}): the result was fitted {how}; "
                           f"fit with fit_sem(..., cluster={cluster!r}) or pass one cluster "
                           "label per fitted row")
        return bootstrap_clusters(result, None)
    labels = pd.Series(np.asarray(cluster, dtype=object).ravel())
    sizes = [s.n for s in result.model.sample]
    if len(labels) != sum(sizes):
        raise SEMError(f"bootstrap(cluster=...): {len(labels)} labels for {sum(sizes)} "
                       "fitted rows")
    bad = np.flatnonzero(labels.isna().to_numpy())
    if bad.size:
        raise SEMError(f"bootstrap(cluster=...): missing cluster labels at positions "
                       f"{_first_rows(bad)}")
    out, start = [], 0
    for g, n in enumerate(sizes):
        codes, k = cluster_codes(labels.iloc[start:start + n])
        if k < 2:
            raise SEMError(f"bootstrap(cluster=...): group {g + 1} has {k} cluster; at least "
                           "2 are needed")
        out.append((codes, k))
        start += n
    return out


# --------------------------------------------------------------------------
# the cluster= path of fit_sem
# --------------------------------------------------------------------------

def _first_rows(index, k=5) -> str:
    rows = [str(i) for i in list(index[:k])]
    more = f" (and {len(index) - k} more)" if len(index) > k else ""
    return ", ".join(rows) + more


def _kept_rows(data, ov, group, missing) -> pd.Series:
    """Rows fit_sem keeps: listwise -> complete on the model's columns; fiml -> any value."""
    X = data[ov]
    g_ok = data[group].notna() if group is not None else pd.Series(True, index=data.index)
    if missing == "listwise":
        return X.notna().all(axis=1) & g_ok
    return X.notna().any(axis=1) & g_ok


def _codes_by_group(kept, cluster, group):
    """Cluster codes per group, groups in the order fit_sem uses (first appearance)."""
    labels = list(pd.unique(kept[group])) if group is not None else [None]
    codes, counts = [], []
    for lab in labels:
        vals = kept[cluster] if lab is None else kept.loc[kept[group] == lab, cluster]
        c, k = cluster_codes(vals)
        if k < 2:
            where = f" in group {lab!r}" if lab is not None else ""
            raise SEMError(f"cluster column {cluster!r} has only {k} cluster{where}: "
                           "cluster-robust inference needs at least 2")
        codes.append(c)
        counts.append(k)
    return labels, codes, counts


def fit_clustered(model: str, data: pd.DataFrame, cluster: str, *, estimator: str = "MLR",
                  missing: str = "listwise", group=None, group_equal=(), start=None,
                  max_iter: int = 500, std_se: bool = True):
    """Fit a single-level model with cluster-robust SEs and scaled test (lavaan ``cluster=``).

    This is what :func:`analysis.sem.fit_sem` runs when given ``cluster=``; see the module
    docstring for the definitions.

    Parameters
    ----------
    model : str
        lavaan syntax (single level; ``level:`` blocks raise :class:`SEMError`).
    data : DataFrame
    cluster : str
        Column with the cluster labels (numbers or strings; no missing values in the rows
        used).
    estimator : {"ML", "MLR"}
        Both give cluster-robust SEs and the Yuan-Bentler (Mplus) test as lavaan does;
        with "ML" the test uses the h1-based information.
    missing : {"listwise", "fiml"}
    group, group_equal, start, max_iter, std_se
        As for :func:`analysis.sem.fit_sem`; clusters are nested in groups (a cluster
        label seen in two groups is two clusters).

    Returns
    -------
    SEMResult
        ``fit_indices`` gains ``chisq_scaled``, ``scaling_factor``, ``pvalue_scaled``,
        ``baseline_chisq_scaled``, ``baseline_scaling_factor``, ``cfi_robust``,
        ``tli_robust``, ``rmsea_robust`` (and CI) and ``nclusters``; ``extra["cluster"]``
        holds the column name, ``n_clusters`` and ``n_singletons`` per group and the codes.

    Raises
    ------
    SEMError
        The cluster column is absent or has missing values (the first offending rows are
        named), a group has fewer than 2 clusters, or the model has ``level:`` blocks.

    References
    ----------
    Muthen & Satorra (1995), Sociological Methodology 25, 267-316; Asparouhov & Muthen
    (2005); Rosseel (2012), J. Stat. Softw. 48(2).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data().reset_index(drop=True)
    >>> hs["clu"] = np.arange(len(hs)) // 8
    >>> res = fit_clustered("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
    ...                     "speed =~ x7 + x8 + x9", hs, "clu")
    >>> round(float(res.fit_indices["chisq"]), 3), int(res.fit_indices["nclusters"])
    (85.306, 38)
    """
    if has_level_blocks(model):
        raise SEMError("two-level models (level: blocks) are not yet wired into fit_sem; "
                       "this path fits single-level models with cluster-robust inference")
    estimator = str(estimator).upper()
    if estimator not in ("ML", "MLR"):
        raise SEMError(f"estimator must be 'ML' or 'MLR', not {estimator!r}")
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    if not isinstance(cluster, str):
        raise SEMError(f"cluster must be a column name, not {type(cluster).__name__}")
    if cluster not in data.columns:
        raise SEMError(f"cluster column not found in data: {cluster}")
    stmts = parse_model(model)
    ov, _, _, _ = prepare_data(stmts, data, group=group, missing=missing)  # checks, errors
    if cluster in ov:
        raise SEMError(f"cluster column {cluster!r} is also an observed variable of the model")
    keep = _kept_rows(data, ov, group, missing)
    kept = data[keep.to_numpy()]  # positional: works with a duplicated index too
    bad = kept.index[kept[cluster].isna().to_numpy()]
    if len(bad):
        raise SEMError(f"cluster column {cluster!r} has missing values in {len(bad)} rows "
                       f"used by the model, e.g. rows {_first_rows(bad)}")
    labels, codes, counts = _codes_by_group(kept, cluster, group)
    n_dropped = int((~keep).sum())

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", SEMWarning)
        base = fit_single(model, kept, estimator="ML", missing=missing, group=group,
                          group_equal=group_equal, start=start, max_iter=max_iter,
                          std_se=False, meanstructure=True)
    mdl, theta = base.model, np.asarray(base.theta, dtype=float)
    msgs = []
    if n_dropped and missing == "listwise":
        msgs.append(f"listwise deletion: {n_dropped} of {len(data)} rows with missing values "
                    f"in the model's columns were dropped")
    msgs += list(base.warnings)

    if missing == "fiml":
        pats = base.extra["patterns"]
        h1 = base.extra["h1"]
        plain = []
        for g, (pat, em) in enumerate(zip(pats, h1)):
            Sigma, mu = mdl.sigma_mu(theta, g)
            plain.append(robust.GroupMoments(pat, mu, Sigma, mdl.delta(theta, g),
                                             em["mu"], em["Sigma"]))
        bl = [fiml.baseline_loglik(p) for p in pats]
        bmu, bvar = [b[1] for b in bl], [b[2] for b in bl]
    else:
        plain = robust.mlr_groups(mdl, theta)
        bmu = [ss.mean for ss in mdl.sample]
        bvar = [np.diag(ss.cov) for ss in mdl.sample]
    for g, c in zip(plain, codes):
        if g.patterns.n != c.size:  # the rows fit_sem used must be the rows coded here
            raise RuntimeError("cluster codes and fitted rows disagree")  # pragma: no cover
    groups = with_clusters(plain, codes, counts)
    bgroups = with_clusters(robust.baseline_groups(plain, bmu, bvar), codes, counts,
                            caches=[g.h1_cache for g in groups])

    info = robust.observed_information(mdl, theta, groups)
    B = robust.meat(groups)
    q = mdl.n_free
    try:
        vcov = robust.sandwich(info, B)
    except np.linalg.LinAlgError:
        vcov = np.full((q, q), np.nan)
        msgs.append("observed information matrix is singular: cluster-robust SEs not computed")
    finite = bool(np.isfinite(vcov).all())
    if finite:
        ev = np.linalg.eigvalsh(vcov)
        if ev[0] <= 1e-10 * max(abs(ev[-1]), 1e-300):
            msgs.append(f"the cluster-robust covariance matrix of the estimates is not "
                        f"positive definite (smallest eigenvalue {ev[0]:.3g}): "
                        f"{sum(counts)} clusters for {q} free parameters (the meat's rank "
                        f"is at most the number of clusters); SEs are reported but joint "
                        f"tests of several parameters are not trustworthy")
    est = build_estimates(mdl, theta, vcov, std_se=bool(std_se and finite))

    fi = base.fit_indices.copy()
    robust_keys = [k for k in fi.index if k.endswith("_robust") or k in (
        "chisq_scaled", "scaling_factor", "pvalue_scaled", "baseline_chisq_scaled",
        "baseline_scaling_factor")]
    fi = fi.drop(index=robust_keys)
    N, G = float(fi["ntotal"]), mdl.n_groups
    df, chisq = fi["df"], fi["chisq"]
    # lavaan: MLR tests with the observed (Hessian) information; ML + cluster with the
    # h1-based information Delta' A1(Sigma-hat) Delta
    E_test = info if estimator == "MLR" else robust.linear_model_information(groups)
    sc = robust.scaled_measures(groups, E_test, B, df, chisq, N, G, bgroups,
                                fi["baseline_chisq"], fi["baseline_df"])
    if missing == "fiml":
        fc = robust.fiml_corrected(groups, df, bgroups, version="V3")
        rb = robust.robust_indices(fc["XX3"], df, fc["c3"], fc["XX3_null"], fc["df_null"],
                                   fc["c3_null"], N, G)
    else:
        rb = robust.robust_indices(chisq, df, sc["scaling_factor"], fi["baseline_chisq"],
                                   fi["baseline_df"], sc["baseline_scaling_factor"], N, G)
    fi = pd.concat([fi, pd.Series({**sc, **rb, "nclusters": float(sum(counts))},
                                  dtype=float)])
    extra = dict(base.extra)
    extra["cluster"] = dict(name=cluster, n_clusters=counts,
                            n_singletons=[int((np.bincount(c) == 1).sum()) for c in codes],
                            codes=codes, labels=labels)
    extra["se"] = "robust.cluster"
    extra["test"] = "yuan.bentler.mplus"
    res = dataclasses.replace(base, vcov=vcov, estimates=est, fit_indices=fi, warnings=msgs,
                              estimator=estimator, n_dropped=n_dropped, extra=extra)
    for m in msgs:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return res
