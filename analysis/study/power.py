"""Power and sample-size planning for a survey of residents nested in communities.

Before fielding a survey a researcher states the planned model (their codebook and the
structural paths among its constructs), the standardised effects they expect, the items'
loadings and how strongly residents of one community resemble each other (the intraclass
correlation of the latent variables). :func:`power_table` returns, for each structural path
and each ``:=`` indirect, total-indirect and total effect, the power of the two-sided Wald
test at level ``alpha`` by number of residents and number of communities;
:func:`analysis.plots.validation.plot_power` draws it and :func:`required_residents` inverts it.

Method
------
The asymptotic covariance of the estimates at one respondent comes from the expected
information of the ML fit to the exact population moments (Satorra & Saris 1985). Residents of
one community are not independent: with ``m`` residents per community the covariance of the
per-resident moment contributions is ``Gamma + (m - 1) Gamma_B``, where ``Gamma`` is the
normal-theory covariance of the second moments and ``Gamma_B`` the same built from the
between-community covariance of the items (``icc * Lambda Phi Lambda'``). The sandwich
``I^-1 Delta' Gamma^-1 (Gamma + (m-1) Gamma_B) Gamma^-1 Delta I^-1`` gives every parameter
its own design effect ``deff_j = 1 + (m - 1) g_j`` (Muthén & Satorra 1995) and its SE
``se_unit_j * sqrt(deff_j / N)``; defined effects follow by the delta method. Power is
``Phi(|theta| / se - z) + Phi(-|theta| / se - z)``. Indirect effects use the delta-method
(Sobel) SE, which is conservative for products of paths (MacKinnon et al. 2002). The rule of
thumb ``deff = 1 + (m - 1) icc_x icc_e`` (Scott & Holt 1982, :func:`design_effect`)
overstates these design effects for latent-variable paths, because the items' unique parts
are not clustered.

:func:`monte_carlo_power` checks the approximation the way Muthén & Muthén (2002) recommend:
it simulates clustered residents from the same population, fits ML, and counts rejections with
the design-effect-corrected SE (and, for comparison, with the naive SE).

References
----------
Satorra, A. & Saris, W. E. (1985). Power of the likelihood ratio test in covariance structure
analysis. Psychometrika 50, 83-90.
Muthén, L. K. & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size
and determine power. Structural Equation Modeling 9(4), 599-620.
Muthén, B. O. & Satorra, A. (1995). Complex sample data in structural equation modeling.
Sociological Methodology 25, 267-316.
Scott, A. J. & Holt, D. (1982). The effect of two-stage sampling on ordinary least squares
methods. Journal of the American Statistical Association 77, 848-854.
MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G. & Sheets, V. (2002). A
comparison of methods to test mediation and other intervening variable effects.
Psychological Methods 7, 83-104.

Examples
--------
>>> from analysis.study.power import power_table
>>> pw = power_table(sample_sizes=[400, 1600], n_communities=[16])
>>> pw.table.query("label == 'b_MS_CS'")["power"].round(2).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items, elements, load_codebook, outcome
from analysis.methods.montecarlo import backend, progress_bar
from analysis.sem import fit_sem, single_thread_blas, vech_index
from analysis.study.models import chain_model
from analysis.study.population import POPULATION, latent_correlation, path_matrix
from analysis.study.true_values import (
    exact_moment_data,
    population_moments,
    target_parameters,
)


def planned_population(codebook: pd.DataFrame | None = None,
                       effects: Mapping[tuple[str, str], float] | None = None,
                       loadings: float | Mapping[str, float] | None = None,
                       icc: float = 0.0) -> dict:
    """A population in the format of :data:`analysis.study.population.POPULATION` for a planned study.

    Parameters
    ----------
    codebook : DataFrame, optional
        The planned questionnaire (default: the compendium's codebook).
    effects : mapping (predictor, outcome) -> standardised beta, optional
        Expected structural effects. Default: the compendium's population paths (only for a
        codebook with the compendium's construct codes).
    loadings : float or mapping item -> loading, optional
        Expected standardised loadings (one value for all items, or per item). Default: the
        compendium's population loadings where the items match, else 0.70.
    icc : float
        Intraclass correlation of the latent variables (share of each disturbance common to
        the community), in [0, 1).

    Returns
    -------
    dict
        A copy of :data:`~analysis.study.population.POPULATION` with the planned ``paths``,
        ``loadings`` and ``community_share``, and no type shifts or threshold jitter.

    Raises
    ------
    ValueError
        Unknown constructs, loadings outside (0, 1), an ICC outside [0, 1), or effects that
        explain more than the unit variance of a construct.

    Examples
    --------
    >>> pop = planned_population(loadings=0.7, icc=0.1)
    >>> pop["community_share"], pop["loadings"]["MS1"], pop["type_shifts"]
    (0.1, 0.7, {})
    """
    codebook = load_codebook() if codebook is None else codebook
    items = construct_items(codebook)
    if effects is None:
        if set(items) != {c for e in POPULATION["paths"] for c in e}:
            raise ValueError("give effects={(predictor, outcome): beta, ...} for a codebook "
                             "whose constructs differ from the compendium's")
        effects = POPULATION["paths"]
    effects = {tuple(k): float(v) for k, v in effects.items()}
    unknown = sorted({c for e in effects for c in e} - set(items))
    if unknown:
        raise ValueError(f"effects name construct(s) {unknown} that the codebook lacks")
    names = [it for its in items.values() for it in its]
    if loadings is None:
        lam = {it: POPULATION["loadings"].get(it, 0.70) for it in names}
    elif isinstance(loadings, Mapping):
        missing = [it for it in names if it not in loadings]
        if missing:
            raise ValueError(f"loadings missing for item(s) {missing}")
        lam = {it: float(loadings[it]) for it in names}
    else:
        lam = {it: float(loadings) for it in names}
    bad = [it for it, v in lam.items() if not 0 < v < 1]
    if bad:
        raise ValueError(f"standardised loadings must lie in (0, 1): {bad}")
    if not 0 <= icc < 1:
        raise ValueError(f"icc must lie in [0, 1), got {icc}")
    latent_correlation({"paths": effects}, list(items))  # raises for impossible effects
    pop = dict(POPULATION)
    pop.update(paths=effects, loadings=lam, community_share=float(icc), type_shifts={},
               threshold_jitter=0.0)
    return pop


def planned_model(codebook: pd.DataFrame, effects: Mapping[tuple[str, str], float]) -> str:
    """The chain model of the codebook with the planned paths among the elements.

    Every element also gets a direct path to the outcome (as in
    :func:`analysis.study.models.chain_model`); effects on the outcome not listed are zero in
    the planned population.

    Parameters
    ----------
    codebook : pandas.DataFrame
        The planned questionnaire.
    effects : mapping (predictor, outcome) -> standardised beta
        The planned effects; those among the elements become the model's paths.

    Returns
    -------
    str
        lavaan syntax.

    Raises
    ------
    ValueError
        If a path among the elements names a construct that is not an element.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> m = planned_model(load_codebook(), {("MS", "CS"): 0.3})
    >>> [line for line in m.splitlines() if line.startswith(("CS ~", "OM ~"))]
    ['CS ~ b_MS_CS*MS']
    """
    out = outcome(codebook)
    els = set(elements(codebook))
    among = [tuple(e) for e in effects if e[1] != out]
    bad = [e for e in among if e[0] not in els or e[1] not in els]
    if bad:
        raise ValueError(f"paths {bad} must run between elements of the codebook")
    return chain_model(codebook, paths=among)


def design_effect(residents_per_community, icc_x: float, icc_e: float | None = None):
    """Design effect of a regression coefficient under cluster sampling (Scott & Holt 1982).

    ``deff = 1 + (m - 1) icc_x icc_e`` for ``m`` residents per community, where ``icc_x`` and
    ``icc_e`` are the intraclass correlations of the predictor and of the residual.

    Parameters
    ----------
    residents_per_community : float or array-like
        ``m`` (at least 1).
    icc_x : float
        Intraclass correlation of the predictor.
    icc_e : float, optional
        Intraclass correlation of the residual; default ``icc_x``.

    Returns
    -------
    float or numpy.ndarray

    References
    ----------
    Scott, A. J. & Holt, D. (1982). The effect of two-stage sampling on ordinary least squares
    methods. *Journal of the American Statistical Association*, 77, 848-854.

    Examples
    --------
    >>> design_effect(34, 0.12)
    1.4752
    """
    icc_e = icc_x if icc_e is None else icc_e
    m = np.asarray(residents_per_community, float)
    if np.any(m < 1):
        raise ValueError("residents per community must be at least 1")
    out = 1.0 + (m - 1.0) * icc_x * icc_e
    return float(out) if out.ndim == 0 else out


def _gamma(A: np.ndarray, B: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Cov of vech second moments for jointly normal pairs: A_ac B_bd + A_ad B_bc."""
    return A[np.ix_(r, r)] * B[np.ix_(c, c)] + A[np.ix_(r, c)] * B[np.ix_(c, r)]


@dataclass(frozen=True, eq=False)
class ClusterInformation:
    """Population values and cluster-sampling slopes, as returned by :func:`cluster_information`.

    Attributes
    ----------
    table : DataFrame
        ``label kind effect true se_unit g``: one row per target parameter.
    theta : ndarray
        Free parameters of the planned model at the population (start values for refits).
    model : str
        lavaan syntax of the planned model.

    References
    ----------
    Muthén, B. O. & Satorra, A. (1995). Complex sample data in structural equation modeling.
    *Sociological Methodology*, 25, 267-316.

    Examples
    --------
    >>> info = cluster_information()
    >>> bool((info.table["g"] == 0).all()), len(info.theta) > 0
    (True, True)
    """

    table: pd.DataFrame
    theta: np.ndarray
    model: str


@dataclass(frozen=True, eq=False)
class PowerAnalysis:
    """Analytic power by design, as returned by :func:`power_table`.

    Attributes
    ----------
    table : DataFrame
        ``label kind effect true n_residents n_communities residents_per_community deff se
        power``: one row per parameter and design.
    information : ClusterInformation
        The population values, unit SEs and cluster-sampling slopes ``g`` behind the table
        (:func:`required_residents` inverts the power with them).

    References
    ----------
    Satorra, A. & Saris, W. E. (1985). Power of the likelihood ratio test in covariance
    structure analysis. *Psychometrika*, 50, 83-90.

    Examples
    --------
    >>> pw = power_table(sample_sizes=[400], n_communities=[16], icc=0.1)
    >>> pw.table["label"].tolist() == pw.information.table["label"].tolist()
    True
    """

    table: pd.DataFrame
    information: ClusterInformation


def cluster_information(codebook: pd.DataFrame | None = None,
                        effects: Mapping[tuple[str, str], float] | None = None,
                        loadings: float | Mapping[str, float] | None = None,
                        icc: float = 0.0, *, n: int = 2000) -> ClusterInformation:
    """True values, unit SEs and cluster-sampling slopes ``g`` of every target parameter.

    ``se_unit`` is the asymptotic SE at one independent resident (expected information at
    the population); with ``m`` residents per community the variance is multiplied by
    ``deff = 1 + (m - 1) g`` (Muthén & Satorra 1995; see the module docstring).

    Parameters
    ----------
    codebook, effects, loadings, icc
        The planned study, see :func:`planned_population`.
    n : int
        Rows of the exact-moment data the model is fitted to (any ``n`` well above the number
        of items gives the same values).

    Returns
    -------
    ClusterInformation
        ``table``: ``label kind effect true se_unit g`` (``effect`` standardised, ``true``
        in the fitted marker metric); ``theta``: the population parameters; ``model``: the
        planned model's syntax.

    Examples
    --------
    >>> ci = cluster_information(icc=0.12).table.set_index("label")
    >>> bool(0 < ci.at["b_MS_CS", "g"] < 0.12 ** 2 * 2)
    True
    """
    codebook = load_codebook() if codebook is None else codebook
    pop = planned_population(codebook, effects, loadings, icc)
    model = planned_model(codebook, pop["paths"])
    cov, mean = population_moments(pop, codebook, likert=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(model, exact_moment_data(cov, mean, n=n), std_se=False)
    mdl = res.model
    sel = (res.estimates["op"] == "~") | (res.estimates["op"] == ":=")
    tab = target_parameters(res.estimates)
    out = pd.DataFrame({"label": tab["label"].to_numpy(), "kind": tab["kind"].to_numpy(),
                        "effect": tab["std_all"].to_numpy(), "true": tab["est"].to_numpy(),
                        "se_unit": tab["se"].to_numpy() * np.sqrt(n)})
    if icc:
        ov = mdl.ov_names
        S = cov.loc[ov, ov].to_numpy()
        lam = np.array([pop["loadings"][v] for v in ov])
        C = icc * (S - np.diag(1 - lam ** 2))  # between-community covariance of the items
        r, c = vech_index(len(ov))
        Gi = np.linalg.inv(_gamma(S, S, r, c))
        D = mdl.delta(res.theta, 0)[: len(r)]
        Iinv = np.linalg.inv(D.T @ Gi @ D)
        M = Iinv @ D.T @ Gi @ _gamma(C, C, r, c) @ Gi @ D @ Iinv
        between = res.estimates_with_vcov(M)
        out["g"] = between.loc[sel, "se"].to_numpy() ** 2 / out["se_unit"].to_numpy() ** 2
    else:
        out["g"] = 0.0
    return ClusterInformation(out, theta=res.theta, model=model)


def _power(theta, se, z):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(theta) / se
    return stats.norm.cdf(r - z) + stats.norm.cdf(-r - z)


def power_table(codebook: pd.DataFrame | None = None,
                effects: Mapping[tuple[str, str], float] | None = None,
                loadings: float | Mapping[str, float] | None = None, *,
                sample_sizes: Sequence[int] = (200, 400, 800, 1600, 3200),
                n_communities: Sequence[int] | None = None, icc: float = 0.0,
                alpha: float = 0.05) -> PowerAnalysis:
    """Power to detect each path and defined effect by residents and communities.

    Parameters
    ----------
    codebook, effects, loadings, icc
        The planned study, see :func:`planned_population`.
    sample_sizes : sequence of int
        Numbers of residents.
    n_communities : sequence of int, optional
        Numbers of communities; default one design with 25 residents per community. Designs
        with fewer residents than communities are left out.
    alpha : float
        Two-sided level of the Wald test.

    Returns
    -------
    PowerAnalysis
        ``table``: ``label kind effect true n_residents n_communities
        residents_per_community deff se power``: ``effect`` is the standardised (std.all)
        value, ``true`` the value in the fitted (marker-item) metric whose Wald test is
        assessed; ``information``: the :func:`cluster_information` behind it.

    References
    ----------
    Satorra, A. & Saris, W. E. (1985). Power of the likelihood ratio test in covariance
    structure analysis. *Psychometrika*, 50, 83-90.
    Muthén, B. O. & Satorra, A. (1995). Complex sample data in structural equation modeling.
    *Sociological Methodology*, 25, 267-316.

    Examples
    --------
    >>> pw = power_table(sample_sizes=[800], n_communities=[32], icc=0.12).table
    >>> row = pw.set_index("label").loc["b_MS_CS"]
    >>> round(float(row["deff"]), 3), round(float(row["power"]), 3)
    (1.165, 1.0)

    The rule of thumb of :func:`design_effect` overstates every one of these design effects:

    >>> bool((pw["deff"] < design_effect(25, 0.12)).all())
    True
    """
    codebook = load_codebook() if codebook is None else codebook
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    sizes = [int(n) for n in sample_sizes]
    if not sizes or min(sizes) < 2:
        raise ValueError("sample_sizes must be a non-empty list of numbers of at least 2")
    info = cluster_information(codebook, effects, loadings, icc)
    tv = info.table
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for n in sizes:
        ks = [max(1, round(n / 25))] if n_communities is None else [int(k) for k in n_communities]
        for k in ks:
            if k < 1 or k > n:
                continue
            m = n / k
            deff = 1.0 + (m - 1.0) * tv["g"].to_numpy()
            se = tv["se_unit"].to_numpy() * np.sqrt(deff / n)
            rows.append(pd.DataFrame({
                "label": tv["label"], "kind": tv["kind"], "effect": tv["effect"],
                "true": tv["true"], "n_residents": n, "n_communities": k,
                "residents_per_community": m, "deff": deff, "se": se,
                "power": _power(tv["true"].to_numpy(), se, z)}))
    if not rows:
        raise ValueError("no design has at least one resident per community")
    return PowerAnalysis(pd.concat(rows, ignore_index=True), info)


def required_residents(table: PowerAnalysis, power: float = 0.80, alpha: float = 0.05, *,
                       n_communities: int | None = None) -> pd.DataFrame:
    """Residents needed for ``power`` per parameter (analytic inversion of :func:`power_table`).

    With ``k`` communities the variance is ``se_unit^2 (1 + (N/k - 1) g) / N``, so
    ``N = c (1 - g) / (1 - c g / k)`` with ``c = ((z_{1-alpha/2} + z_power) se_unit /
    theta)^2`` (one-sided approximation). When ``c g / k >= 1`` no number of residents
    suffices: more communities are needed (``N`` is then infinite).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`power_table` (its first design per parameter gives ``se_unit``;
        ``attrs["g"]`` the slopes).
    power : float
        Target power, in (0, 1).
    alpha : float
        Two-sided level.
    n_communities : int, optional
        Number of communities; without it, independent residents (``g`` ignored).

    Returns
    -------
    DataFrame
        ``label kind effect n_required`` (rounded up; ``inf`` where unreachable).

    References
    ----------
    Satorra, A. & Saris, W. E. (1985). *Psychometrika*, 50, 83-90.

    Examples
    --------
    >>> pw = power_table(sample_sizes=[400])
    >>> int(required_residents(pw).set_index("label").at["b_MS_CS", "n_required"]) < 100
    True
    """
    if not 0 < power < 1:
        raise ValueError(f"power must lie in (0, 1), got {power}")
    if not isinstance(table, PowerAnalysis):
        raise TypeError("required_residents needs the PowerAnalysis that power_table returns "
                        f"(its cluster-sampling slopes), not a {type(table).__name__}")
    info = table.information.table
    table = table.table
    first = table.drop_duplicates("label")
    se_unit = (first["se"] * np.sqrt(first["n_residents"] / first["deff"])).to_numpy()
    g = first["label"].map(dict(zip(info["label"], info["g"]))).fillna(0.0).to_numpy()
    c = ((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se_unit
         / np.abs(first["true"].to_numpy())) ** 2
    if n_communities:
        denom = 1 - c * g / n_communities
        n = np.where(denom > 0, c * (1 - g) / np.where(denom > 0, denom, 1), np.inf)
    else:
        n = c
    return pd.DataFrame({"label": first["label"].to_numpy(), "kind": first["kind"].to_numpy(),
                         "effect": first["effect"].to_numpy(),
                         "n_required": np.where(np.isfinite(n), np.ceil(n), np.inf)})


def simulate_planned(population: dict, codebook: pd.DataFrame, n_residents: int,
                     n_communities: int, rng: np.random.Generator) -> pd.DataFrame:
    """Continuous item responses of residents in equal-sized communities.

    Each latent disturbance is ``sqrt(psi) (sqrt(icc) u_c + sqrt(1 - icc) e_i)``, so every
    latent variable has unit variance and intraclass correlation ``icc``
    (``population["community_share"]``); items are ``lambda eta + sqrt(1 - lambda^2) e``.
    Generic counterpart of :func:`analysis.study.population.simulate_survey` for any codebook.

    Parameters
    ----------
    population : dict
        From :func:`planned_population`.
    codebook : pandas.DataFrame
        The planned questionnaire.
    n_residents : int
        Residents, a multiple of ``n_communities``.
    n_communities : int
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One column per item, one row per resident.

    Raises
    ------
    ValueError
        If the residents cannot be spread evenly over the communities.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> cb = load_codebook()
    >>> d = simulate_planned(planned_population(cb, icc=0.1), cb, 100, 10, np.random.default_rng(1))
    >>> d.shape
    (100, 25)
    """
    items = construct_items(codebook)
    order = list(items)
    if n_residents % n_communities:
        raise ValueError(f"{n_residents} residents cannot be spread evenly over "
                         f"{n_communities} communities")
    n = len(order)
    B = path_matrix(population, order)
    inv = np.linalg.inv(np.eye(n) - B)
    phi = latent_correlation(population, order)
    # disturbance variances: Phi = inv Psi inv'  =>  Psi = (I - B) Phi (I - B)'
    psi = np.clip(np.diag((np.eye(n) - B) @ phi @ (np.eye(n) - B).T), 0, None)
    icc = population.get("community_share", 0.0)
    members = np.repeat(np.arange(n_communities), n_residents // n_communities)
    u = rng.standard_normal((n_communities, n)) * np.sqrt(icc * psi)
    zeta = rng.standard_normal((n_residents, n)) * np.sqrt((1 - icc) * psi) + u[members]
    eta = zeta @ inv.T
    names = [it for its in items.values() for it in its]
    lam = np.array([population["loadings"][it] for it in names])
    col = np.array([order.index(c) for c, its in items.items() for _ in its])
    y = eta[:, col] * lam + rng.standard_normal((n_residents, len(names))) * np.sqrt(1 - lam ** 2)
    return pd.DataFrame(y, columns=names)


def _power_task(pop, codebook, model, start, n, k, reps, seed):
    rows = []
    with single_thread_blas():
        for r in reps:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(n, k, r)))
            data = simulate_planned(pop, codebook, n, k, rng)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = fit_sem(model, data, start=start, std_se=False)
                except Exception:  # noqa: BLE001 - counted as a failed replication
                    continue
            if not res.converged:
                continue
            sel = target_parameters(res.estimates)
            rows.append(pd.DataFrame({"n_residents": n, "n_communities": k, "rep": r,
                                      "label": sel["label"].to_numpy(),
                                      "est": sel["est"].to_numpy(),
                                      "se": sel["se"].to_numpy()}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def monte_carlo_power(codebook: pd.DataFrame | None = None,
                      effects: Mapping[tuple[str, str], float] | None = None,
                      loadings: float | Mapping[str, float] | None = None, *,
                      designs: Sequence[tuple[int, int]] = ((400, 16), (1600, 64)),
                      icc: float = 0.0, n_reps: int = 200, alpha: float = 0.05,
                      seed: int = 20261127, n_jobs: int = 1, dask_scheduler=None,
                      progress: bool = False) -> pd.DataFrame:
    """Monte Carlo power (Muthén & Muthén 2002) for the planned study.

    Parameters
    ----------
    codebook, effects, loadings, icc
        As in :func:`power_table`.
    designs : sequence of (n_residents, n_communities)
    n_reps : int
        Replications per design (at least 2).
    alpha, seed, n_jobs, dask_scheduler, progress
        As in :func:`analysis.study.recovery.monte_carlo`; replication ``r`` of a design gets the
        same data for any number of workers.

    Returns
    -------
    DataFrame
        ``label n_residents n_communities n_reps true emp_sd mean_se deff power
        power_naive``: ``power`` rejects with the design-effect-corrected SE
        ``se * sqrt(deff)`` (deff of :func:`cluster_information`), ``power_naive`` with the
        SE of the single-level fit. ``emp_sd / mean_se`` squared is the empirical design
        effect, to compare with ``deff``.

    References
    ----------
    Muthén, L. K. & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample
    size and determine power. *Structural Equation Modeling*, 9(4), 599-620.

    Examples
    --------
    >>> mc = monte_carlo_power(designs=[(400, 16)], n_reps=2, seed=1)
    >>> mc.columns[:4].tolist(), int(mc["n_reps"].max())
    (['label', 'n_residents', 'n_communities', 'n_reps'], 2)
    """
    from joblib import Parallel, delayed

    codebook = load_codebook() if codebook is None else codebook
    pop = planned_population(codebook, effects, loadings, icc)
    if int(n_reps) < 2:
        raise ValueError(f"n_reps must be at least 2, got {n_reps}")
    info = cluster_information(codebook, effects, loadings, icc)
    tv, model, start = info.table, info.model, info.theta
    tasks = []
    for n, k in designs:
        for lo in range(0, int(n_reps), 10):
            reps = range(lo, min(lo + 10, int(n_reps)))
            tasks.append(delayed(_power_task)(pop, codebook, model, start, int(n), int(k),
                                              list(reps), seed))
    with backend(dask_scheduler):
        par = Parallel(n_jobs=n_jobs if dask_scheduler is None else -1,
                       return_as="generator_unordered")
        est = pd.concat(list(progress_bar(par(tasks), len(tasks), progress, "power")),
                        ignore_index=True)
    z = stats.norm.ppf(1 - alpha / 2)
    est = est.merge(tv[["label", "true", "g"]], on="label")
    est["deff"] = 1.0 + (est["n_residents"] / est["n_communities"] - 1.0) * est["g"]
    est["reject"] = np.abs(est["est"]) > z * est["se"] * np.sqrt(est["deff"])
    est["reject_naive"] = np.abs(est["est"]) > z * est["se"]
    order = {lab: i for i, lab in enumerate(tv["label"])}
    out = est.groupby(["n_residents", "n_communities", "label"]).agg(
        n_reps=("rep", "nunique"), true=("true", "first"), emp_sd=("est", "std"),
        mean_se=("se", "mean"), deff=("deff", "first"), power=("reject", "mean"),
        power_naive=("reject_naive", "mean")).reset_index()
    out["_o"] = out["label"].map(order)
    out = out.sort_values(["n_residents", "n_communities", "_o"]).drop(columns="_o")
    return out.reset_index(drop=True)[["label", "n_residents", "n_communities", "n_reps",
                                       "true", "emp_sd", "mean_se", "deff", "power",
                                       "power_naive"]]
