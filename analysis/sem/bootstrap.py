"""Nonparametric bootstrap of an ML fit: percentile and BCa confidence intervals for every
free and defined parameter.

Rows are resampled with replacement (within groups); each resample is refitted from its
sample moments with the analytic gradient, warm-started at the full-sample estimates
(Newton steps with the exact Hessian at the full-sample estimates, factored once per
chunk: a refit then costs a few gradient evaluations). Resample ``b`` draws from its own
``SeedSequence(seed).spawn(n_boot)[b]`` generator, so the result is the same for any
number of workers; chunks of resamples run in parallel with joblib and return only their
parameter vectors (no resampled data is kept). Resamples whose fit does not converge are
dropped and counted (``BootstrapResult.n_failed``), as lavaan does.

Clustered data (``cluster=``, or a fit made with ``fit_sem(..., cluster=)``): whole clusters
are drawn with replacement within each group (each row weighted by the number of draws of
its cluster; Davison & Hinkley 1997, sec. 3.8), and the BCa jackknife leaves out one
cluster at a time (:mod:`analysis.sem.cluster`).

Two-level fits (:func:`analysis.sem.twolevel.fit_twolevel`, complete data or FIML) are always
resampled by whole clusters: J clusters are drawn with replacement and a cluster drawn twice
enters as two clusters (its statistics twice, under two ids), so every resample has J
clusters; each is refitted from the full-sample estimates by the two-level optimiser
(:func:`analysis.sem.twolevel.refit_clusters`), the BCa jackknife leaving out one cluster
at a time. Empirically under-identified resamples (a between-level factor variance going to
zero with few distinct clusters) do not converge and are dropped and counted.

BCa (Efron 1987): bias correction ``z0 = Phi^-1(P*(theta* < theta_hat))`` from the
bootstrap distribution, acceleration ``a = sum(d^3) / (6 (sum d^2)^1.5)`` with
``d = mean(theta_(.)) - theta_(i)`` from the leave-one-out jackknife; the interval takes
the bootstrap quantiles at ``Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha)))``.

References: Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171-185;
Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13-14;
Bollen, K. A. & Stine, R. (1990). Direct and indirect effects: classical and bootstrap
estimates of variability. Sociological Methodology 20, 115-140; Davison, A. C. &
Hinkley, D. V. (1997). Bootstrap Methods and their Application, sec. 3.8.

Example
-------
>>> ci = bootstrap(fit_sem(model, data), n_boot=1000, seed=1)      # doctest: +SKIP
>>> ci.table.query("op == ':='")                                    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from tqdm import (
    tqdm,  # plain text bars: tqdm.auto warns (with a local path) without ipywidgets
)

from ._threads import single_thread_blas
from .cluster import bootstrap_clusters, cluster_resample_counts
from .errors import SEMError, SEMWarning
from .estimate import fit_newton, observed_hessian_factor
from .estimates import defined_values
from .model import SampleStats
from .twolevel import TwoLevelModel, refit_clusters

__all__ = ["BootstrapResult", "bootstrap", "bootstrap_draws"]


def _moments(x: np.ndarray, counts: np.ndarray | None = None):
    """Mean and ML covariance (divisor n) of x, optionally with integer row weights."""
    if counts is None:
        n = x.shape[0]
        mean = x.mean(axis=0)
        xc = x - mean
        return xc.T @ xc / n, mean, n
    n = counts.sum()
    mean = counts @ x / n
    xc = x - mean
    return (xc * counts[:, None]).T @ xc / n, mean, int(n)


def _fit_one(model, theta_hat, samples, max_iter, hess=None, tol=1e-6):
    m = model.with_samples(samples)
    # Newton with the observed Hessian from the full-sample estimates: 2-4 steps; tol 1e-6
    # (Newton decrement < 1e-12) puts estimates within ~1e-6, far below Monte Carlo error.
    theta, info = fit_newton(m, theta_hat, samples=samples, max_iter=max_iter, tol=tol,
                             hess_factor=hess)
    if not info.converged:
        return None
    return np.concatenate([theta, defined_values(m, theta)])


def _boot_chunk(model, theta_hat, seeds, max_iter, clusters=None):
    """Refit the resamples of one chunk; returns (k, q + d) with NaN rows for failures.

    ``clusters``: per group ``(codes, n_clusters)`` to resample whole clusters (cluster.py).
    """
    data = [s.data for s in model.sample]
    width = model.n_free + len(model.defined)
    out = np.full((len(seeds), width), np.nan)
    with single_thread_blas():
        hess = observed_hessian_factor(model, theta_hat)  # one factor serves all resamples
        for k, ss in enumerate(seeds):
            rng = np.random.default_rng(ss)
            samples = []
            for g, x in enumerate(data):
                if clusters is not None:  # whole clusters, within groups
                    counts = cluster_resample_counts(rng, *clusters[g])
                else:
                    counts = np.bincount(rng.integers(0, x.shape[0], x.shape[0]),
                                         minlength=x.shape[0]).astype(float)
                samples.append(SampleStats.from_moments(*_moments(x, counts)))
            if any(not np.isfinite(s.logdet) for s in samples):
                continue
            r = _fit_one(model, theta_hat, samples, max_iter, hess)
            if r is not None:
                out[k] = r
    return out


def _jack_chunk(model, theta_hat, rows, max_iter, clusters=None):
    """Leave-one-out refits for the given (group, row) pairs ((group, cluster) pairs when
    ``clusters`` gives per group ``(codes, n_clusters)``)."""
    width = model.n_free + len(model.defined)
    out = np.full((len(rows), width), np.nan)
    full = [_moments(s.data) for s in model.sample]
    with single_thread_blas():
        hess = observed_hessian_factor(model, theta_hat)
        for k, (g, i) in enumerate(rows):
            x = model.sample[g].data
            counts = np.ones(x.shape[0])
            if clusters is not None:
                counts[clusters[g][0] == i] = 0.0
            else:
                counts[i] = 0.0
            samples = [SampleStats.from_moments(*full[h]) if h != g else
                       SampleStats.from_moments(*_moments(x, counts))
                       for h in range(model.n_groups)]
            r = _fit_one(model, theta_hat, samples, max_iter, hess)
            if r is not None:
                out[k] = r
    return out


def _twolevel_row(model, theta_hat, idx, max_iter):
    theta, ok = refit_clusters(model, idx, theta_hat, max_iter)
    if not ok:
        return None
    return np.concatenate([theta, defined_values(model, theta)])


def _twolevel_chunk(model, theta_hat, seeds, max_iter):
    """Two-level fit: each resample draws J whole clusters with replacement; a cluster drawn
    twice enters as two clusters (:func:`analysis.sem.twolevel.take_clusters`)."""
    out = np.full((len(seeds), model.n_free + len(model.defined)), np.nan)
    J = model.cs.J
    with single_thread_blas():
        for k, ss in enumerate(seeds):
            r = _twolevel_row(model, theta_hat, np.random.default_rng(ss).integers(0, J, J),
                              max_iter)
            if r is not None:
                out[k] = r
    return out


def _twolevel_jack_chunk(model, theta_hat, rows, max_iter):
    """Two-level fit: leave-one-cluster-out refits for the clusters ``rows``."""
    out = np.full((len(rows), model.n_free + len(model.defined)), np.nan)
    keep = np.arange(model.cs.J)
    with single_thread_blas():
        for k, j in enumerate(rows):
            r = _twolevel_row(model, theta_hat, keep[keep != j], max_iter)
            if r is not None:
                out[k] = r
    return out


def _twolevel_clusters(result, cluster):
    """Check ``cluster=`` for a two-level fit (always resampled by whole clusters)."""
    name = result.extra.get("cluster_column")
    if cluster is False:
        raise SEMError("a two-level fit is bootstrapped by resampling whole clusters "
                       "(cluster=False is not possible)")
    if cluster is not None and not (isinstance(cluster, str) and cluster == name):
        raise SEMError(f"bootstrap(cluster={cluster!r}): the two-level fit was made with "
                       f"cluster={name!r}; its clusters are the ones resampled")
    return [(None, int(result.model.cs.J))]


def _run(fun, model, theta_hat, items, chunk_size, n_jobs, max_iter, progress, desc):
    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    bar = tqdm(total=len(items), desc=desc, disable=not progress, leave=False)
    parts = []
    if n_jobs == 1:
        for ch in chunks:
            parts.append(fun(model, theta_hat, ch, max_iter))
            bar.update(len(ch))
    else:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(fun)(model, theta_hat, ch, max_iter) for ch in chunks)
        for ch, part in zip(chunks, gen):
            parts.append(part)
            bar.update(len(ch))
    bar.close()
    return np.vstack(parts) if parts else np.zeros((0, model.n_free + len(model.defined)))


def bca_limits(boot: np.ndarray, est: np.ndarray, jack: np.ndarray | None,
               level: float = 0.95):
    """BCa confidence limits per column of ``boot``.

    With bias correction ``z0 = Phi^-1(#{boot < est} / B)`` and acceleration
    ``a = sum d^3 / (6 (sum d^2)^1.5)``, ``d`` the deviations of the jackknife estimates from
    their mean, the limits are the bootstrap quantiles at
    ``Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha)))`` for ``z_alpha`` at ``(1 -+ level)/2``.
    With ``jack=None`` the acceleration is 0 (bias-corrected percentile, lavaan's "bca.simple").

    Parameters
    ----------
    boot : ndarray, shape (n_boot, k)
        Bootstrap replicates (converged resamples only).
    est : ndarray, shape (k,)
        Estimates from the full sample.
    jack : ndarray, shape (n, k), or None
        Leave-one-out jackknife estimates; None for the bias-corrected percentile interval.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    lower, upper : ndarray, shape (k,)
        The interval limits.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171-185.
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 14.
    Chapman & Hall.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> boot = rng.normal(size=(2000, 1))
    >>> lo, hi = bca_limits(boot, np.array([0.0]), None)
    >>> bool(-2.2 < lo[0] < -1.8 and 1.8 < hi[0] < 2.2)
    True
    """
    boot, est = np.atleast_2d(boot), np.atleast_1d(est)
    if jack is None:
        a = np.zeros(len(est))
    else:
        jack = np.atleast_2d(jack)
        d = jack.mean(axis=0) - jack
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.nan_to_num((d**3).sum(axis=0) / (6 * ((d**2).sum(axis=0)) ** 1.5))
    B = boot.shape[0]
    z0 = stats.norm.ppf(np.clip((boot < est).mean(axis=0), 1 / (B + 1), 1 - 1 / (B + 1)))
    alpha = 1 - level
    lo, hi = np.empty(len(est)), np.empty(len(est))
    for k in range(len(est)):
        qs = []
        for za in (stats.norm.ppf(alpha / 2), stats.norm.ppf(1 - alpha / 2)):
            qs.append(stats.norm.cdf(z0[k] + (z0[k] + za) / (1 - a[k] * (z0[k] + za))))
        lo[k], hi[k] = np.quantile(boot[:, k], qs)
    return lo, hi


def bootstrap_draws(result, n_boot: int = 1000, seed=None, *, n_jobs: int = 1,
                    chunk_size: int = 50, max_iter: int = 100,
                    progress: bool = True, cluster=None) -> np.ndarray:
    """Bootstrap replicates of (theta, defined parameters), one row per resample.

    Rows (or, with ``cluster``, whole clusters) are drawn with replacement within groups and
    the model is refitted from the full-sample estimates; WLSMV/DWLS/WLS fits are resampled by
    :mod:`analysis.sem.wls`. Each resample has its own child of ``SeedSequence(seed)``, so the
    replicates do not depend on ``n_jobs`` or ``chunk_size``.

    Parameters
    ----------
    result : SEMResult
        A complete-data (listwise) ML fit from raw data, a WLSMV/DWLS/WLS fit, or a
        two-level fit (listwise or FIML; resampled by whole clusters).
    n_boot : int, default 1000
        Number of resamples.
    seed : int or None
        Seed of the random generator (None: fresh entropy).
    n_jobs : int, default 1
        joblib workers.
    chunk_size : int, default 50
        Resamples per joblib task.
    max_iter : int, default 100
        Iterations of each refit.
    progress : bool, default True
        Show a tqdm progress bar.
    cluster : None, False, str or array-like
        As for :func:`bootstrap`: whole clusters resampled instead of rows (None: the
        clusters of a ``fit_sem(..., cluster=)`` fit, else rows); not available for
        WLSMV/DWLS/WLS fits. A two-level fit is always resampled by its clusters (None or
        its cluster column).

    Returns
    -------
    ndarray, shape (n_boot, q + d)
        Free parameters (model order) then defined parameters; NaN rows for resamples that
        failed to converge.

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3", holzinger39.get_data())
    >>> draws = bootstrap_draws(res, n_boot=5, seed=1, progress=False)
    >>> draws.shape
    (5, 6)
    """
    model = result.model
    if getattr(result, "estimator", "ML") in ("WLSMV", "DWLS", "WLS"):  # ordinal (wls.py)
        from .wls import bootstrap_draws_wls

        if cluster not in (None, False):
            raise SEMError("the cluster bootstrap is not implemented for WLSMV/DWLS/WLS fits")
        return bootstrap_draws_wls(result, n_boot, seed, n_jobs=n_jobs, max_iter=max_iter,
                                   chunk_size=chunk_size, progress=progress)
    if isinstance(model, TwoLevelModel):  # whole clusters, complete or FIML data
        _twolevel_clusters(result, cluster)
        seeds = list(np.random.SeedSequence(seed).spawn(int(n_boot)))
        return _run(_twolevel_chunk, model, result.theta, seeds, chunk_size, n_jobs,
                    max_iter, progress, "bootstrap")
    if any(s.data is None for s in model.sample):
        raise SEMError("bootstrap needs the raw data of a complete-data (listwise) ML fit")
    clusters = bootstrap_clusters(result, cluster)
    seeds = list(np.random.SeedSequence(seed).spawn(int(n_boot)))
    fun = _boot_chunk if clusters is None else partial(_boot_chunk, clusters=clusters)
    return _run(fun, model, result.theta, seeds, chunk_size, n_jobs, max_iter,
                progress, "bootstrap")


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap standard errors and confidence intervals, as returned by :func:`bootstrap`.

    Attributes
    ----------
    table : DataFrame
        ``lhs op rhs label [group] est se ci_lower ci_upper``: one row per free parameter
        (model order), then one per defined (``:=``) parameter; ``se`` is the SD of the
        bootstrap estimates.
    n_boot : int
        Resamples drawn.
    n_failed : int
        Resamples whose refit did not converge (dropped).
    ci : str
        Interval method: ``"percentile"``, ``"bca"`` or ``"bc"``.
    level : float
        Confidence level.
    draws : ndarray or None
        With ``keep_draws=True``: the converged replicates, shape (``n_boot - n_failed``,
        free + defined parameters).
    resampled : str
        ``"rows"`` or ``"clusters"`` (whole clusters drawn, see ``cluster=``).
    n_clusters : list of int or None
        With clustered resampling: the number of clusters in each group.
    columns : ndarray or None
        With ``keep_draws=True``: for each row of ``table``, its column in ``draws``.

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3", holzinger39.get_data())
    >>> boot = bootstrap(res, n_boot=20, seed=1, progress=False)
    >>> boot.n_boot, boot.n_failed, boot.draws is None
    (20, 0, True)
    >>> boot.table.columns.tolist()
    ['lhs', 'op', 'rhs', 'label', 'est', 'se', 'ci_lower', 'ci_upper']
    """

    table: pd.DataFrame
    n_boot: int
    n_failed: int
    ci: str
    level: float
    resampled: str = "rows"
    n_clusters: list | None = None
    draws: np.ndarray | None = None
    columns: np.ndarray | None = None


def bootstrap(result, n_boot: int = 1000, seed=None, ci: str = "percentile",
              level: float = 0.95, *, n_jobs: int = 1, chunk_size: int = 50,
              max_iter: int = 100, progress: bool = True,
              keep_draws: bool = False, cluster=None) -> BootstrapResult:
    """Bootstrap standard errors and confidence intervals for free and defined parameters.

    Parameters
    ----------
    result : SEMResult
        An ML fit with ``missing="listwise"``, or a two-level fit (``missing="listwise"`` or
        ``"fiml"``), whose clusters are resampled whole (a cluster drawn twice counts as two;
        the table then has a ``level`` column).
    n_boot : int
        Number of resamples.
    seed : int or SeedSequence, optional
        Same seed, same result, for any ``n_jobs``.
    ci : {"percentile", "bca", "bc"}
        Percentile; BCa (bias correction and jackknife acceleration: ``n`` extra refits);
        "bc" bias-corrected percentile without acceleration (lavaan's "bca.simple").
    level : float
        Confidence level.
    n_jobs : int
        joblib workers (-1: all cores).
    chunk_size : int
        Resamples per joblib task.
    max_iter : int
        Fisher-scoring iterations per resample before it counts as failed.
    progress : bool
        Show a tqdm progress bar.
    keep_draws : bool
        Also return the converged replicates (n_ok, q + d) as ``draws``.
    cluster : None, False, str or array-like
        Resample whole clusters (with replacement, within groups) instead of rows. None:
        the clusters of a fit made with ``fit_sem(..., cluster=)``, else rows; False: rows;
        a str: the fit's cluster column (checked); an array: one label per fitted row, in
        the order of ``result.model.sample`` (group by group). With ``ci="bca"`` the
        jackknife leaves out one cluster at a time. See
        :func:`analysis.sem.cluster.bootstrap_clusters`. Two-level fits: None or the fit's
        cluster column (False or another column is an error).

    Returns
    -------
    BootstrapResult
        ``table``: ``lhs op rhs label [group | level] est se ci_lower ci_upper`` (se = SD of the
        bootstrap estimates), one row per free parameter (model order: ``columns`` maps
        rows to draw columns); also ``n_boot``, ``n_failed``, ``ci``, ``level``,
        ``resampled``, ``n_clusters``.
    """
    if ci not in ("percentile", "bca", "bc"):
        raise SEMError(f"ci must be 'percentile', 'bca' or 'bc', not {ci!r}")
    if not 0 < level < 1:
        raise SEMError("level must be in (0, 1)")
    model = result.model
    twolevel = isinstance(model, TwoLevelModel)
    clusters = (_twolevel_clusters(result, cluster) if twolevel
                else bootstrap_clusters(result, cluster))
    with single_thread_blas():
        draws = bootstrap_draws(result, n_boot, seed, n_jobs=n_jobs, chunk_size=chunk_size,
                                max_iter=max_iter, progress=progress, cluster=cluster)
    ok = np.all(np.isfinite(draws), axis=1)
    n_failed = int((~ok).sum())
    boot = draws[ok]
    if len(boot) < 2:
        raise SEMError("bootstrap failed: fewer than 2 resamples converged")
    est_vec = np.concatenate([result.theta, defined_values(model, result.theta)])
    alpha = 1 - level
    if ci == "percentile":
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    elif ci == "bc":
        lo, hi = bca_limits(boot, est_vec, None, level)
    else:
        if getattr(result, "estimator", "ML") in ("WLSMV", "DWLS", "WLS"):
            from .wls import jackknife_draws_wls

            jack = jackknife_draws_wls(result, n_jobs=n_jobs, max_iter=max_iter,
                                       progress=progress)
        elif twolevel:
            jack = _run(_twolevel_jack_chunk, model, result.theta, list(range(model.cs.J)),
                        max(chunk_size, 100), n_jobs, max_iter, progress, "jackknife")
        else:
            if clusters is None:
                rows = [(g, i) for g in range(model.n_groups) for i in range(model.sample[g].n)]
                jfun = _jack_chunk
            else:
                rows = [(g, j) for g in range(model.n_groups) for j in range(clusters[g][1])]
                jfun = partial(_jack_chunk, clusters=clusters)
            jack = _run(jfun, model, result.theta, rows, max(chunk_size, 100), n_jobs,
                        max_iter, progress, "jackknife")
        jack = jack[np.all(np.isfinite(jack), axis=1)]
        lo, hi = bca_limits(boot, est_vec, jack, level)
    se = boot.std(axis=0, ddof=1)

    pt = model.partable
    free_rows = pt[pt["free"] >= 0]
    fidx = free_rows["free"].to_numpy()
    tab = pd.DataFrame(dict(lhs=free_rows["lhs"].to_numpy(), op=free_rows["op"].to_numpy(),
                            rhs=free_rows["rhs"].to_numpy(), label=free_rows["label"].to_numpy(),
                            group=free_rows["group"].to_numpy() + 1, est=result.theta[fidx],
                            se=se[fidx], ci_lower=lo[fidx], ci_upper=hi[fidx]))
    if twolevel:  # level 1, 2; a label shared across levels gives a row at each level
        tab.insert(4, "level", free_rows["level"].to_numpy().astype(int))
    q = model.n_free
    if model.defined:
        dd = pd.DataFrame(dict(lhs=[d[0] for d in model.defined], op=":=",
                               rhs=[d[1] for d in model.defined],
                               label=[d[0] for d in model.defined], group=0,
                               est=est_vec[q:], se=se[q:], ci_lower=lo[q:], ci_upper=hi[q:]))
        if twolevel:
            dd.insert(4, "level", 0)
        tab = pd.concat([tab, dd], ignore_index=True)
    if model.n_groups == 1:
        tab = tab.drop(columns="group")
    kept = {}
    if keep_draws:
        kept = dict(draws=boot, columns=np.concatenate([fidx, q + np.arange(len(model.defined))]))
    if n_failed:
        import warnings

        warnings.warn(f"bootstrap: {n_failed} of {n_boot} resamples did not converge and were "
                      "dropped", SEMWarning, stacklevel=2)
    return BootstrapResult(tab, n_boot=int(n_boot), n_failed=n_failed, ci=ci, level=level,
                           resampled="rows" if clusters is None else "clusters",
                           n_clusters=None if clusters is None else [k for _, k in clusters],
                           **kept)
