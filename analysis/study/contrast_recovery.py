"""Monte Carlo coverage of community-type contrasts, with and without cluster-robust SEs.

Notebook 03 compares the latent means of the community types in a scalar-invariance
multi-group model. Residents are sampled within communities, and the documented population
gives every community a random effect on every latent disturbance, so a type's mean also
carries the random effects of the few communities drawn for it. :func:`contrast_coverage`
draws surveys from the full documented population (community effects and type shifts on,
continuous items so that the truth is exact), fits the scalar model by ML, and records each
latent-mean difference with its resident-level SE and its cluster-robust SE (communities as
clusters, :func:`analysis.study.multilevel.cluster_robust_refit`); :func:`summarise_contrasts`
gives bias and the coverage of both 95% intervals against
:func:`analysis.study.population.type_mean_differences`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import load_codebook
from analysis.methods.montecarlo import backend, progress_bar
from analysis.sem import fit_sem, single_thread_blas
from analysis.study.models import measurement_model
from analysis.study.multilevel import cluster_robust_refit, contrast_df
from analysis.study.population import POPULATION, simulate_survey, type_mean_differences
from analysis.study.simulation_designs import recode_simulated
from analysis.study.heterogeneity import latent_means

__all__ = ["contrast_coverage", "summarise_contrasts"]

#: Part of every replication's seed, so these data differ from the other designs'.
_DESIGN_KEY = 0xC0A7


def _replication(rep: int, seed: int, population: dict, codebook: pd.DataFrame,
                 model: str) -> pd.DataFrame:
    ss = np.random.SeedSequence(seed, spawn_key=(_DESIGN_KEY, rep))
    survey = simulate_survey(int(ss.generate_state(1, dtype=np.uint64)[0]), population,
                             codebook, likert=False, missing=False)
    data = recode_simulated(survey, codebook, likert=False)
    data["community_type"] = survey["community_type"].to_numpy()
    data["community_id"] = survey["community_id"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            naive = fit_sem(model, data, group="community_type",
                            group_equal=("loadings", "intercepts"), std_se=False)
            robust = cluster_robust_refit(naive, data, "community_id")
        except Exception:  # noqa: BLE001 - a failed replication is counted, not fatal
            return pd.DataFrame()
    a, b = latent_means(naive), latent_means(robust)
    ref = naive.model.group_labels[0]
    keep = a["group"] != ref
    n_cl = data.groupby("community_type")["community_id"].nunique()
    return pd.DataFrame({"rep": rep, "reference": ref, "construct": a.loc[keep, "construct"],
                         "group": a.loc[keep, "group"], "est": a.loc[keep, "est"],
                         "d": a.loc[keep, "d"], "se": a.loc[keep, "se"],
                         "se_cluster": b.loc[keep, "se"].to_numpy(),
                         "df_cluster": contrast_df(n_cl, ref, a.loc[keep, "group"]),
                         "converged": bool(naive.converged)})


def _task(reps, seed, population, codebook, model):
    with single_thread_blas():
        return pd.concat([_replication(r, seed, population, codebook, model) for r in reps],
                         ignore_index=True)


def contrast_coverage(n_reps: int, seed: int = 20261127, *, population: dict = POPULATION,
                      codebook: pd.DataFrame | None = None, n_jobs: int = 1,
                      dask_scheduler=None, progress: bool = False, chunk: int = 5) -> pd.DataFrame:
    """Latent-mean differences between community types in ``n_reps`` simulated surveys.

    Parameters
    ----------
    n_reps : int
        Replications (surveys of the documented design: 12 communities per type).
    seed : int
        Master seed; replication ``r`` gets the same data for any ``n_jobs``.
    population : dict
        The documented population (community effects and type shifts as they are).
    codebook : DataFrame, optional
    n_jobs : int
    dask_scheduler : optional
        As :func:`analysis.study.recovery.monte_carlo`.
    progress : bool
    chunk : int
        Replications per task.

    Returns
    -------
    DataFrame
        ``rep reference construct group est d se se_cluster df_cluster converged``, one row per
        replication and contrast (the reference type is the first in the data).

    References
    ----------
    Muthén, B. O., & Satorra, A. (1995). Complex sample data in structural equation modeling.
    *Sociological Methodology*, 25, 267-316.

    Examples
    --------
    >>> est = contrast_coverage(2, seed=1)
    >>> est.groupby("rep").size().tolist(), bool((est["se_cluster"] > est["se"]).mean() > 0.5)
    ([18, 18], True)
    """
    from joblib import Parallel, delayed

    if int(n_reps) < 2:
        raise ValueError(f"n_reps must be at least 2, got {n_reps}")
    codebook = load_codebook() if codebook is None else codebook
    model = measurement_model(codebook)
    tasks = [delayed(_task)(list(range(lo, min(lo + chunk, int(n_reps)))), seed, population,
                            codebook, model) for lo in range(0, int(n_reps), chunk)]
    frames = []
    with backend(dask_scheduler):
        par = Parallel(n_jobs=n_jobs if dask_scheduler is None else -1,
                       return_as="generator_unordered")
        for df in progress_bar(par(tasks), len(tasks), progress, "replications"):
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["rep", "construct", "group"], kind="stable").reset_index(drop=True)


def summarise_contrasts(estimates: pd.DataFrame, population: dict = POPULATION,
                        level: float = 0.95) -> pd.DataFrame:
    """Bias and interval coverage of each contrast, resident-level beside cluster-robust.

    The truth is in within-type latent SD units, so it is compared with each replication's
    ``d`` (the estimate over the pooled latent SD); the interval of ``d`` is the estimate's
    interval scaled the same way.

    Parameters
    ----------
    estimates : DataFrame
        :func:`contrast_coverage`.
    population : dict
    level : float

    Returns
    -------
    DataFrame
        ``construct group n_reps true_d mean_d bias emp_sd mean_se_d mean_se_cluster_d
        coverage coverage_cluster_z coverage_cluster mcse_coverage``; ``emp_sd`` is the SD
        of ``d`` over replications and ``mean_se_d`` the mean SE on the same scale;
        ``coverage`` is the resident-level Wald interval's, ``coverage_cluster_z`` the
        cluster-robust SE with normal critical values and ``coverage_cluster`` with
        Student's t on :func:`contrast_df` degrees of freedom.

    Examples
    --------
    >>> s = summarise_contrasts(contrast_coverage(2, seed=1))
    >>> len(s), sorted(s.columns)[:3]
    (18, ['bias', 'construct', 'coverage'])
    """
    est = estimates[estimates["converged"]].copy()
    zc = stats.norm.isf((1 - level) / 2)
    ref = est["reference"].iloc[0]
    truth = type_mean_differences(population, ref)
    est = est.merge(truth, on=["construct", "group"], how="left")
    scale = est["d"] / est["est"]
    crit = {"": zc, "_cluster": stats.t.isf((1 - level) / 2, est["df_cluster"]),
            "_cluster_z": zc}
    for suffix, se in (("", "se"), ("_cluster", "se_cluster"), ("_cluster_z", "se_cluster")):
        se_d = est[se] * scale
        est[f"{se}_d"] = se_d
        est[f"covered{suffix}"] = (est["true_d"] - est["d"]).abs() <= crit[suffix] * se_d
    g = est.groupby(["construct", "group"], sort=False)
    out = g.agg(n_reps=("rep", "size"), true_d=("true_d", "first"), mean_d=("d", "mean"),
                emp_sd=("d", "std"), mean_se_d=("se_d", "mean"),
                mean_se_cluster_d=("se_cluster_d", "mean"), coverage=("covered", "mean"),
                coverage_cluster=("covered_cluster", "mean"),
                coverage_cluster_z=("covered_cluster_z", "mean")).reset_index()
    out["bias"] = out["mean_d"] - out["true_d"]
    out["mcse_coverage"] = np.sqrt(0.95 * 0.05 / out["n_reps"])
    return out[["construct", "group", "n_reps", "true_d", "mean_d", "bias", "emp_sd",
                "mean_se_d", "mean_se_cluster_d", "coverage", "coverage_cluster_z",
                "coverage_cluster", "mcse_coverage"]]
