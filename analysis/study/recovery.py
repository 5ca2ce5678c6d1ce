"""Monte Carlo parameter recovery of the public-value chain model (issue 9).

Datasets are drawn from the documented population model (:mod:`analysis.study.population`), the
study's model H1 (:func:`analysis.study.models.chain_model`) is fitted to each with
:func:`analysis.sem.fit_sem`, and every structural path and ``:=`` indirect effect is compared
with its true value: bias, relative bias, RMSE, coverage of 95% intervals and rejection rates,
each with its Monte Carlo standard error.

True values come from :mod:`analysis.study.true_values`, designs from
:mod:`analysis.study.simulation_designs`.

Designs (:class:`analysis.study.simulation_designs.Design`) switch one departure from the clean case on at a time: continuous
items without community effects (the case where theory promises unbiased estimates and nominal
coverage), missing answers at random (FIML vs listwise), Likert items with the documented,
skewed thresholds (ML vs MLR), community random effects (clustering the single-level fit
ignores), and two paths that are zero in the population (type I error).

Replication ``r`` of a design always gets the same data, whatever the number of workers or
replications: its seed is ``numpy.random.SeedSequence(seed, spawn_key=(design key, r))``.

References
----------
Paxton, P., Curran, P. J., Bollen, K. A., Kirby, J. & Chen, F. (2001). Monte Carlo experiments:
design and implementation. Structural Equation Modeling 8(2), 287-312.
Muthén, L. K. & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size
and determine power. Structural Equation Modeling 9(4), 599-620.
Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. Statistics in Medicine 38, 2074-2102 (performance measures, MC SEs).
Enders, C. K. (2010). Applied Missing Data Analysis. Guilford (FIML vs listwise under MAR).
White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50, 1-25.

Examples
--------
>>> from analysis.study.recovery import monte_carlo, summarise
>>> from analysis.study.simulation_designs import Design
>>> from analysis.study.true_values import true_values
>>> d = Design("clean", n_residents=400)
>>> est = monte_carlo([d], n_reps=2, seed=1)
>>> summarise(est, {d.name: true_values(d)}).columns[:4].tolist()
['design', 'method', 'label', 'kind']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.io.codebook import construct_items, load_codebook
from analysis.methods.montecarlo import backend, progress_bar
from analysis.sem import fit_sem, single_thread_blas
from analysis.study.population import POPULATION, simulate_survey
from analysis.study.simulation_designs import (CLUSTER_METHODS, METHODS, ORDINAL_METHODS, Design,
                                               clean_population, design_model, design_population,
                                               recode_simulated)
from analysis.study.true_values import (TrueValues, population_moments, target_parameters,
                                        true_values, truth_table)

__all__ = [
    "MAR_DRIVER", "MAR_TARGETS", "MAR_ITEM_SHARE", "MAR_SLOPE", "impose_mar",
    "simulate_design", "fit_replication", "monte_carlo", "summarise", "assess", "NOT_EXPECTED",
    "bootstrap_coverage"
]

#: Missing answers at random (MAR) given observed model variables: the chance that a resident
#: leaves part of the questionnaire blank falls with their answers on these items (a resident
#: dissatisfied with resources skips the later blocks) ...
MAR_DRIVER = "RA"
#: ... and an incomplete resident leaves each item of these constructs blank with probability
#: :data:`MAR_ITEM_SHARE` (at least one).
MAR_TARGETS = ("CC", "PV")
MAR_ITEM_SHARE = 0.5
#: Logistic slope of P(incomplete) on the standardised mean of the driver's items.
MAR_SLOPE = -1.5




# -- simulation ----------------------------------------------------------------------------

def _mar_intercept(rate: float, slope: float) -> float:
    """Intercept a with E[logistic(a + slope Z)] = rate for Z ~ N(0, 1) (Gauss-Hermite)."""
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()

    def f(a):
        return float((w / (1 + np.exp(-(a + slope * x)))).sum()) - rate

    return optimize.brentq(f, -30, 30)


def impose_mar(items: pd.DataFrame, rate: float, rng: np.random.Generator,
               codebook: pd.DataFrame | None = None, *, driver_sd: float | None = None
               ) -> pd.DataFrame:
    """Blank answers missing at random given observed model variables.

    A share ``rate`` of residents (in the population) is incomplete; the probability is
    ``logistic(a + MAR_SLOPE * z)`` where ``z`` is the standardised mean of the
    :data:`MAR_DRIVER` items, which are always answered. An incomplete resident leaves each
    item of :data:`MAR_TARGETS` blank with probability :data:`MAR_ITEM_SHARE` (at least one).
    The missingness depends only on observed variables in the model, so FIML is consistent,
    while listwise deletion selects on an outcome of the chain (Enders 2010, ch. 1).

    Parameters
    ----------
    items : DataFrame
        Recoded items (continuous), complete.
    rate : float
        Population share of incomplete residents, in [0, 1).
    rng : numpy.random.Generator
    codebook : DataFrame, optional
    driver_sd : float, optional
        Population SD of the driver's item mean (exact value from the population moments;
        default the sample SD).

    Returns
    -------
    pandas.DataFrame
        A copy of ``items`` with blanks (NaN) in the target constructs' items.

    Raises
    ------
    ValueError
        If ``rate`` is outside [0, 1).

    References
    ----------
    Enders, C. K. (2010). *Applied Missing Data Analysis*. Guilford.

    Examples
    --------
    >>> items = simulate_design(Design("x", n_residents=400), seed=3)
    >>> blanked = impose_mar(items, 0.2, np.random.default_rng(1))
    >>> bool(0.1 < blanked.isna().any(axis=1).mean() < 0.3), int(blanked["RA1"].isna().sum())
    (True, 0)
    """
    if not 0 <= rate < 1:
        raise ValueError(f"rate must lie in [0, 1), got {rate}")
    out = items.copy()
    if rate == 0:
        return out
    codebook = load_codebook() if codebook is None else codebook
    ci = construct_items(codebook)
    drv = out[ci[MAR_DRIVER]].mean(axis=1).to_numpy()
    sd = driver_sd if driver_sd is not None else drv.std()
    z = (drv - drv.mean()) / sd if driver_sd is None else drv / sd
    a = _mar_intercept(rate, MAR_SLOPE)
    incomplete = rng.uniform(size=len(out)) < 1 / (1 + np.exp(-(a + MAR_SLOPE * z)))
    targets = [it for c in MAR_TARGETS for it in ci[c]]
    blank = (rng.uniform(size=(len(out), len(targets))) < MAR_ITEM_SHARE) & incomplete[:, None]
    forced = rng.integers(0, len(targets), size=len(out))
    none = incomplete & ~blank.any(axis=1)
    blank[np.flatnonzero(none), forced[none]] = True
    vals = out[targets].to_numpy(copy=True)
    vals[blank] = np.nan
    out[targets] = vals
    return out


def _driver_sd(population: dict, codebook: pd.DataFrame) -> float:
    cov, _ = population_moments(clean_population(population), codebook, likert=False)
    its = construct_items(codebook)[MAR_DRIVER]
    return float(np.sqrt(cov.loc[its, its].to_numpy().mean()))


def simulate_design(design: Design, seed: int, population: dict = POPULATION,
                    codebook: pd.DataFrame | None = None) -> pd.DataFrame:
    """One dataset of ``design`` (recoded items, then MAR blanks if asked).

    Parameters
    ----------
    design : Design
    seed : int
        Seed of this dataset (see :func:`monte_carlo` for the replication seeds).
    population : dict
        True parameters, cleaned with :func:`clean_population`.
    codebook : pandas.DataFrame, optional

    Returns
    -------
    pandas.DataFrame
        One float column per item.

    Examples
    --------
    >>> simulate_design(Design("x", n_residents=400), seed=3).shape
    (400, 25)
    """
    codebook = load_codebook() if codebook is None else codebook
    pop = clean_population(population, community_share=design.community_share)
    if design.n_residents is not None:
        pop = design_population(design.n_residents, design.n_communities, pop)
    rng = np.random.default_rng(seed)
    survey = simulate_survey(int(rng.integers(2 ** 63)), pop, codebook, likert=design.likert,
                             missing=False)
    items = recode_simulated(survey, codebook, likert=design.likert)
    if design.missing_rate:
        items = impose_mar(items, design.missing_rate, rng, codebook,
                           driver_sd=_driver_sd(population, codebook))
    if CLUSTER_METHODS & set(design.methods):   # the cluster-robust fit needs the communities
        items["community_id"] = survey["community_id"].to_numpy()
    return items


def _rep_seed(seed: int, design: Design, rep: int) -> int:
    ss = np.random.SeedSequence(seed, spawn_key=(design.key, rep))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def fit_replication(design: Design, rep: int, seed: int, *, population: dict = POPULATION,
                    codebook: pd.DataFrame | None = None, model: str | None = None,
                    start=None, labels: Iterable[str] | None = None) -> pd.DataFrame:
    """Simulate replication ``rep`` of ``design`` and fit it with each of its methods.

    Parameters
    ----------
    design : Design
    rep : int
        Replication number (with ``seed`` and the design's key it fixes the data).
    seed : int
        Master seed.
    population : dict
    codebook : pandas.DataFrame, optional
    model : str, optional
        lavaan syntax; defaults to the design's model.
    start : array-like, optional
        Starting values (e.g. the true parameters).
    labels : iterable of str, optional
        Keep only these target parameters.

    Returns
    -------
    DataFrame
        ``design method rep label est se pvalue std_all n_obs converged`` (one row per
        target parameter and method); a fit that fails is left out.

    Examples
    --------
    >>> fr = fit_replication(Design("x", n_residents=400), 0, seed=1)
    >>> fr.shape, bool(fr["converged"].all())
    ((34, 10), True)
    """
    codebook = load_codebook() if codebook is None else codebook
    model = model or design_model(design, codebook)
    data = simulate_design(design, _rep_seed(seed, design, rep), population, codebook)
    frames = []
    for method in design.methods:
        estimator, missing = METHODS[method]
        extra = {"cluster": "community_id"} if method in CLUSTER_METHODS else {}
        if method in ORDINAL_METHODS:
            extra["ordered"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:   # cluster and ordinal fits have other parameters (means, thresholds)
                res = fit_sem(model, data, estimator=estimator, missing=missing,
                              start=None if extra else start, std_se=False, **extra)
                sel = target_parameters(res.estimates)
                ok, n_obs = bool(res.converged), int(res.n_obs)
            except Exception:  # noqa: BLE001 - a failed replication is counted, not fatal
                sel, ok, n_obs = None, False, 0
        if sel is None:
            continue
        if labels is not None:
            sel = sel[sel["label"].isin(list(labels))]
        frames.append(pd.DataFrame({
            "design": design.name, "method": method, "rep": rep,
            "label": sel["label"].to_numpy(), "est": sel["est"].to_numpy(),
            "se": sel["se"].to_numpy(), "pvalue": sel["pvalue"].to_numpy(),
            "std_all": sel["std_all"].to_numpy(), "n_obs": n_obs, "converged": ok}))
    if not frames:
        return pd.DataFrame(columns=["design", "method", "rep", "label", "est", "se", "pvalue",
                                     "std_all", "n_obs", "converged"])
    return pd.concat(frames, ignore_index=True)


def _task(design: Design, reps: Sequence[int], seed: int, population: dict,
          codebook: pd.DataFrame, model: str, start) -> pd.DataFrame:
    with single_thread_blas():
        return pd.concat([fit_replication(design, r, seed, population=population,
                                          codebook=codebook, model=model, start=start)
                          for r in reps], ignore_index=True)


def monte_carlo(designs: Sequence[Design] | Design, n_reps: int, seed: int = 20261127, *,
                n_jobs: int = 1, dask_scheduler=None, progress: bool = False,
                population: dict = POPULATION, codebook: pd.DataFrame | None = None,
                chunk: int = 5, warm_start: bool = True) -> pd.DataFrame:
    """Run ``n_reps`` replications of each design in parallel.

    Parameters
    ----------
    designs : Design or sequence of Design
    n_reps : int
        Replications per design (at least 2).
    seed : int
        Master seed; replication ``r`` of a design gets the same data for any ``n_jobs``,
        backend or ``n_reps``.
    n_jobs : int
        Worker processes (joblib, loky backend); ``-1`` for all cores.
    dask_scheduler : str, distributed.Client or cluster, optional
        Run the same tasks on a Dask cluster through joblib's dask backend, e.g.
        ``"tcp://scheduler:8786"``.
    progress : bool
        Show a tqdm progress bar over tasks.
    population : dict
    codebook : DataFrame, optional
    chunk : int
        Replications per task (fewer, larger tasks cut scheduling overhead).
    warm_start : bool
        Start each fit at the true parameter values (only speeds convergence).

    Returns
    -------
    DataFrame
        Long: ``design method rep label est se pvalue std_all n_obs converged``, sorted by
        design, method, rep. Only these rows are kept, so memory grows with the number of
        estimates, not with the simulated datasets.

    References
    ----------
    Paxton, P., Curran, P. J., Bollen, K. A., Kirby, J. & Chen, F. (2001). Monte Carlo
    experiments: design and implementation. *Structural Equation Modeling*, 8(2), 287-312.

    Examples
    --------
    >>> est = monte_carlo(Design("clean", n_residents=400), n_reps=2)
    >>> est.groupby("rep").size().tolist(), bool(est["converged"].all())
    ([34, 34], True)
    """
    from joblib import Parallel, delayed

    if isinstance(designs, Design):
        designs = [designs]
    designs = list(designs)
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise ValueError(f"design names must be unique: {names}")
    if int(n_reps) < 2:
        raise ValueError(f"n_reps must be at least 2, got {n_reps}")
    codebook = load_codebook() if codebook is None else codebook
    tasks = []
    for d in designs:
        model = design_model(d, codebook)
        start = true_values(d, population, codebook).theta if warm_start else None
        for lo in range(0, int(n_reps), chunk):
            reps = list(range(lo, min(lo + chunk, int(n_reps))))
            tasks.append(delayed(_task)(d, reps, seed, population, codebook, model, start))
    frames = []
    with backend(dask_scheduler):
        par = Parallel(n_jobs=n_jobs if dask_scheduler is None else -1,
                       return_as="generator_unordered")
        for df in progress_bar(par(tasks), len(tasks), progress, "replications"):
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    order = {n: i for i, n in enumerate(names)}
    out["_d"] = out["design"].map(order)
    out["_l"] = out.groupby(["design", "method", "rep"]).cumcount()
    out = out.sort_values(["_d", "method", "rep", "_l"], kind="stable")
    return out.drop(columns=["_d", "_l"]).reset_index(drop=True)


# -- performance measures ------------------------------------------------------------------

def summarise(estimates: pd.DataFrame, truths: dict, *, alpha: float = 0.05,
              beta_truth: TrueValues | pd.DataFrame | None = None) -> pd.DataFrame:
    """Performance measures per design, method and parameter (Morris et al. 2019).

    Parameters
    ----------
    estimates : DataFrame
        From :func:`monte_carlo`.
    truths : dict
        Design name -> :func:`true_values` result or its table (pseudo-true values for
        Likert designs); a key ``(design, method)`` overrides the design's truth for that
        method (e.g. WLSMV, whose estimates are in the latent-response metric).
    alpha : float
        Level of the Wald intervals and tests.
    beta_truth : TrueValues or DataFrame, optional
        Standardised truth of the continuous population (default :func:`true_values` of H1
        and of the null model), to measure the attenuation of std.all.

    Returns
    -------
    DataFrame
        ``design method label kind n_reps n_obs true mean_est bias rel_bias mcse_rel_bias
        rmse emp_sd mean_se se_ratio coverage mcse_coverage rejection true_std mean_std
        rel_bias_std``; ``rel_bias`` is NaN where the truth is 0. Replications that did not
        converge are left out (``n_reps`` counts the rest).

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
    statistical methods. *Statistics in Medicine*, 38, 2074-2102.

    Examples
    --------
    >>> d = Design("clean", n_residents=400)
    >>> s = summarise(monte_carlo(d, n_reps=2, seed=1), {d.name: true_values(d)})
    >>> s.columns[:5].tolist(), int(s["n_reps"].max())
    (['design', 'method', 'label', 'kind', 'n_reps'], 2)
    """
    if beta_truth is None:
        beta_truth = true_values(Design("null", null_paths=True))
    beta_truth = truth_table(beta_truth)
    beta = pd.Series(beta_truth["true_std"].to_numpy(), index=beta_truth["label"].to_numpy())
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    ok = estimates[estimates["converged"].astype(bool)]
    for (dname, method, label), g in ok.groupby(["design", "method", "label"], sort=False):
        key = (dname, method) if (dname, method) in truths else dname
        if key not in truths:
            raise KeyError(f"no true values for design {dname!r}")
        tv = truth_table(truths[key]).set_index("label")
        if label not in tv.index:
            continue
        true, kind = float(tv.at[label, "true"]), tv.at[label, "kind"]
        est, se = g["est"].to_numpy(), g["se"].to_numpy()
        n = len(est)
        bias = est.mean() - true
        sd = est.std(ddof=1)
        cover = np.mean(np.abs(est - true) <= z * se)
        rel = bias / true if true != 0 else np.nan
        tstd = float(beta.get(label, np.nan))
        mstd = g["std_all"].mean()
        rows.append({
            "design": dname, "method": method, "label": label, "kind": kind, "n_reps": n,
            "n_obs": float(g["n_obs"].mean()), "true": true, "mean_est": est.mean(),
            "bias": bias, "rel_bias": rel,
            "mcse_rel_bias": sd / np.sqrt(n) / abs(true) if true != 0 else np.nan,
            "rmse": float(np.sqrt(np.mean((est - true) ** 2))), "emp_sd": sd,
            "mean_se": se.mean(), "se_ratio": se.mean() / sd if sd > 0 else np.nan,
            "coverage": cover, "mcse_coverage": np.sqrt(cover * (1 - cover) / n),
            "rejection": float(np.mean(g["pvalue"].to_numpy() < alpha)),
            "true_std": tstd, "mean_std": mstd,
            "rel_bias_std": (mstd - tstd) / tstd if tstd else np.nan,
        })
    return pd.DataFrame(rows)


def assess(summary: pd.DataFrame, *, expected: dict | None = None, max_rel_bias: float = 0.05,
           coverage_range: tuple[float, float] = (0.93, 0.97)) -> pd.DataFrame:
    """Pass/fail of each row against the issue's criteria, where theory says they should hold.

    Parameters
    ----------
    summary : DataFrame
        From :func:`summarise`.
    expected : dict, optional
        ``(design, method) -> bool``: whether theory promises consistent estimates and
        nominal Wald coverage there. Default: every pair not listed in
        :data:`NOT_EXPECTED` (listwise deletion under MAR, naive SEs under clustering, ML
        SEs with skewed Likert items).
    max_rel_bias, coverage_range
        The criteria (|relative bias| < 5%; coverage within 93-97%).

    Returns
    -------
    DataFrame
        ``summary`` plus ``theory`` (criteria apply), ``bias_ok`` (where the truth is 0,
        |bias| < 2 MC SEs is checked instead), ``coverage_ok`` and ``pass``; and the same
        judged against Monte Carlo error: ``bias_ok_mc`` (also true when the bias is within
        2 MC SEs of 0), ``coverage_ok_mc`` (also true within 2 MC SEs of 95%, i.e.
        ``2 sqrt(.95 .05 / n_reps)``: 1.9 points at 500 replications, 3.1 at 200) and
        ``pass_mc``. A failure of ``pass_mc`` is a departure larger than the simulation can
        attribute to chance.

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
    statistical methods. *Statistics in Medicine*, 38, 2074-2102 (Monte Carlo standard errors).

    Examples
    --------
    >>> d = Design("clean", n_residents=400)
    >>> s = summarise(monte_carlo(d, n_reps=2, seed=1), {d.name: true_values(d)})
    >>> assess(s).columns[-4:].tolist()
    ['pass', 'bias_ok_mc', 'coverage_ok_mc', 'pass_mc']
    """
    out = summary.copy()
    exp = expected or {}
    out["theory"] = [exp.get((d, m), (d, m) not in NOT_EXPECTED and d not in NOT_EXPECTED)
                     for d, m in zip(out["design"], out["method"])]
    zero = out["true"] == 0
    out["bias_ok"] = np.where(zero, np.abs(out["bias"]) < 2 * out["emp_sd"] / np.sqrt(out["n_reps"]),
                              np.abs(out["rel_bias"]) < max_rel_bias)
    lo, hi = coverage_range
    out["coverage_ok"] = out["coverage"].between(lo, hi)
    out["pass"] = out["bias_ok"] & out["coverage_ok"]
    mcse_bias = out["emp_sd"] / np.sqrt(out["n_reps"])
    out["bias_ok_mc"] = out["bias_ok"] | (np.abs(out["bias"]) <= 2 * mcse_bias)
    out["coverage_ok_mc"] = out["coverage_ok"] | (
        np.abs(out["coverage"] - 0.95) <= 2 * np.sqrt(0.95 * 0.05 / out["n_reps"]))
    out["pass_mc"] = out["bias_ok_mc"] & out["coverage_ok_mc"]
    return out


#: (design, method) pairs, or whole designs, where theory does not promise unbiasedness and
#: nominal coverage; :func:`assess` still reports them, flagged ``theory = False``.
NOT_EXPECTED: set = {("mar10", "listwise"), ("mar20", "listwise"), ("likert", "ML"),
                     ("clustered", "ML")}


# -- bootstrap intervals on a subsample of replications -------------------------------------

def _boot_task(design: Design, reps, seed, population, codebook, model, start, n_boot,
               labels, ci):
    from analysis.sem import bootstrap

    rows = []
    with single_thread_blas():
        for rep in reps:
            data = simulate_design(design, _rep_seed(seed, design, rep), population, codebook)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = fit_sem(model, data, start=start, std_se=False)
                bt = bootstrap(res, n_boot=n_boot, seed=_rep_seed(seed + 1, design, rep), ci=ci,
                               progress=False)
            tab = _boot_table(bt)
            tab = tab[tab["label"].isin(labels)]
            tab.insert(0, "rep", rep)
            rows.append(tab)
    return pd.concat(rows, ignore_index=True)


def _boot_table(bt) -> pd.DataFrame:
    """label, ci_lower, ci_upper from whatever :func:`analysis.sem.bootstrap` returns."""
    df = bt if isinstance(bt, pd.DataFrame) else getattr(bt, "estimates", None)
    if df is None:
        df = getattr(bt, "table", None)
    if df is None:
        raise TypeError(f"unrecognised bootstrap result {type(bt).__name__}")
    df = df.copy()
    lo = next(c for c in df.columns if c.lower() in ("ci_lower", "ci.lower", "lower"))
    hi = next(c for c in df.columns if c.lower() in ("ci_upper", "ci.upper", "upper"))
    return pd.DataFrame({"label": df["label"], "ci_lower": df[lo], "ci_upper": df[hi]})


def bootstrap_coverage(design: Design, n_reps: int, n_boot: int, seed: int = 20261127, *,
                       truth: TrueValues | pd.DataFrame | None = None, ci: str = "percentile",
                       n_jobs: int = 1,
                       dask_scheduler=None, progress: bool = False,
                       population: dict = POPULATION, codebook: pd.DataFrame | None = None
                       ) -> pd.DataFrame:
    """Coverage of bootstrap intervals on the first ``n_reps`` replications of ``design``.

    The replications are those of :func:`monte_carlo` with the same seed (same data), so the
    bootstrap and normal-theory intervals are compared on the same datasets.

    Parameters
    ----------
    design : Design
    n_reps : int
        Replications (the first ``n_reps`` of the design).
    n_boot : int
        Bootstrap resamples per replication.
    seed : int
        Master seed (as in :func:`monte_carlo`).
    truth : pandas.DataFrame, optional
        :func:`true_values` of the design (computed when not given).
    ci : {"percentile", "bca", "bc"}
        Interval type of :func:`analysis.sem.bootstrap`.
    n_jobs, dask_scheduler, progress, population, codebook
        As in :func:`monte_carlo`.

    Returns
    -------
    DataFrame
        ``label kind n_reps true coverage mcse_coverage mean_width`` per target parameter.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> bc = bootstrap_coverage(Design("x", n_residents=400), n_reps=2, n_boot=5, seed=1)
    >>> bc.columns.tolist()
    ['label', 'kind', 'n_reps', 'true', 'coverage', 'mcse_coverage', 'mean_width']
    """
    codebook = load_codebook() if codebook is None else codebook
    truth = true_values(design, population, codebook) if truth is None else truth
    start = truth.theta if isinstance(truth, TrueValues) else None
    truth = truth_table(truth)
    model = design_model(design, codebook)
    labels = list(truth["label"])
    from joblib import Parallel, delayed

    tasks = [delayed(_boot_task)(design, [r], seed, population, codebook, model, start,
                                 n_boot, labels, ci) for r in range(int(n_reps))]
    with backend(dask_scheduler):
        par = Parallel(n_jobs=n_jobs if dask_scheduler is None else -1,
                       return_as="generator_unordered")
        frames = list(progress_bar(par(tasks), len(tasks), progress, "bootstrap"))
    b = pd.concat(frames, ignore_index=True).merge(truth[["label", "kind", "true"]], on="label")
    b["covered"] = (b["ci_lower"] <= b["true"]) & (b["true"] <= b["ci_upper"])
    b["width"] = b["ci_upper"] - b["ci_lower"]
    out = b.groupby(["label", "kind"], sort=False).agg(
        n_reps=("rep", "nunique"), true=("true", "first"), coverage=("covered", "mean"),
        mean_width=("width", "mean")).reset_index()
    out["mcse_coverage"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["n_reps"])
    order = {lab: i for i, lab in enumerate(labels)}
    out = out.sort_values("label", key=lambda s: s.map(order)).reset_index(drop=True)
    return out[["label", "kind", "n_reps", "true", "coverage", "mcse_coverage", "mean_width"]]
