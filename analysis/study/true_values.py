"""True values of the fitted model's parameters, in the fitted model's own metric.

The fitted model identifies each factor by its first item (marker loading 1), so its
unstandardised paths are ``beta * lambda_Y1 / lambda_X1``, not the standardised ``beta`` of
:data:`analysis.study.population.POPULATION`. :func:`true_values` obtains the true values of
*every* parameter in the fitted metric by fitting the model to data whose sample moments equal
the population moments exactly (:func:`exact_moment_data`); the fit reproduces them with zero
discrepancy when the model is correct. For 5-point Likert items the population moments of the
discretised items are computed exactly (bivariate-normal integrals, :func:`population_moments`)
and the same fit gives the *pseudo-true* values (White 1982) that ML converges to; for WLSMV,
the values of the latent-response model (``latent_response=True``).

References
----------
White, H. (1982). Maximum likelihood estimation of misspecified models. *Econometrica*, 50,
1-25.
Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. *Statistics in Medicine*, 38, 2074-2102.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items, load_codebook
from analysis.sem import fit_sem
from analysis.study.population import POPULATION, latent_correlation
from analysis.study.simulation_designs import Design, clean_population, design_model

__all__ = [
    "population_moments", "exact_moment_data", "target_parameters", "TrueValues",
    "truth_table", "true_values"
]

#: Gauss-Legendre nodes and weights for the bivariate-normal integrals of the Likert moments.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def _excess_joint(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """Phi2(a, b; rho) - Phi(a) Phi(b) = int_0^rho phi2(a, b; r) dr (Gauss-Legendre)."""
    r = 0.5 * rho * (_GL_X + 1.0)
    w = 0.5 * rho * _GL_W
    a, b = a[..., None], b[..., None]
    q = 1.0 - r ** 2
    dens = np.exp(-(a ** 2 - 2.0 * r * a * b + b ** 2) / (2.0 * q)) / (2.0 * np.pi * np.sqrt(q))
    return (dens * w).sum(axis=-1)


def population_moments(population: dict = POPULATION, codebook: pd.DataFrame | None = None, *,
                       likert: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """Exact covariance matrix and means of the items (recoded: every item points upwards).

    Continuous items: ``Sigma = Lambda Phi Lambda' + diag(1 - lambda^2)``, means 0. Likert
    items ``Y = 1 + sum_c 1(y* > tau_c)`` at the population's thresholds (no jitter):
    ``Cov(Y_j, Y_k) = sum_c sum_d [Phi2(-tau_c, -tau_d; rho_jk) - Phi(-tau_c) Phi(-tau_d)]``
    with ``rho_jk`` the correlation of the underlying ``y*``.

    Parameters
    ----------
    population : dict
        Without type shifts (and, for Likert items, without jitter): see
        :func:`clean_population`.
    codebook : pandas.DataFrame, optional
        Defaults to the compendium's codebook.
    likert : bool
        Moments of the 5-point items instead of the continuous ``y*``.

    Returns
    -------
    cov : pandas.DataFrame
        Items x items.
    mean : pandas.Series

    Raises
    ------
    ValueError
        If the population has type shifts or threshold jitter (no single exact truth then;
        use :func:`clean_population`).

    Examples
    --------
    >>> cov, mean = population_moments(clean_population(), likert=True)
    >>> cov.shape, round(float(mean.iloc[0]), 4)
    ((25, 25), 3.5401)
    """
    if population.get("type_shifts"):
        raise ValueError("population moments need a population without type shifts "
                         "(use clean_population())")
    if likert and population.get("threshold_jitter", 0):
        raise ValueError("exact Likert moments need threshold_jitter = 0 (use clean_population())")
    codebook = load_codebook() if codebook is None else codebook
    items = construct_items(codebook)
    order = list(items)
    names = [it for its in items.values() for it in its]
    lam = np.array([population["loadings"][it] for it in names])
    col = np.array([order.index(c) for c, its in items.items() for _ in its])
    phi = latent_correlation(population, order)
    rho = lam[:, None] * lam[None, :] * phi[np.ix_(col, col)]
    np.fill_diagonal(rho, 1.0)
    if not likert:
        return (pd.DataFrame(rho, index=names, columns=names),
                pd.Series(np.zeros(len(names)), index=names))
    tau = -np.asarray(population["thresholds"], float)  # P(y* > t) = Phi(-t)
    a, b = np.meshgrid(tau, tau, indexing="ij")
    p = len(names)
    cov = np.zeros((p, p))
    for j in range(p):
        for k in range(j + 1, p):
            cov[j, k] = cov[k, j] = _excess_joint(a, b, rho[j, k]).sum()
    var = (stats.norm.cdf(np.minimum(a, b)) - stats.norm.cdf(a) * stats.norm.cdf(b)).sum()
    np.fill_diagonal(cov, var)
    mean = 1.0 + stats.norm.cdf(tau).sum()
    return (pd.DataFrame(cov, index=names, columns=names),
            pd.Series(np.full(p, mean), index=names))


def exact_moment_data(cov: pd.DataFrame, mean: pd.Series | None = None, n: int = 2000,
                      seed: int = 0) -> pd.DataFrame:
    """``n`` rows whose sample covariance (divisor ``n``) and mean equal ``cov`` and ``mean``.

    Standard-normal rows are centred and whitened (``Z' Z / n = I``), then coloured with the
    Cholesky factor of ``cov``; fitting a model to them is fitting it to the moments.

    Parameters
    ----------
    cov : pandas.DataFrame
        Positive definite covariance matrix (its columns name the variables).
    mean : pandas.Series, optional
        Means; default 0.
    n : int
        Rows, more than the number of variables.
    seed : int
        Seed of the normal draws (the moments do not depend on it).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        If ``n`` does not exceed the number of variables.

    Examples
    --------
    >>> c = pd.DataFrame([[1.0, .5], [.5, 1.0]], index=list("ab"), columns=list("ab"))
    >>> x = exact_moment_data(c, n=50)
    >>> bool(np.allclose(np.cov(x.T, bias=True), c))
    True
    """
    p = cov.shape[0]
    if n <= p:
        raise ValueError(f"n must exceed the number of variables ({p}), got {n}")
    z = np.random.default_rng(seed).standard_normal((n, p))
    z -= z.mean(axis=0)
    L = np.linalg.cholesky(z.T @ z / n)
    z = np.linalg.solve(L, z.T).T
    x = z @ np.linalg.cholesky(cov.to_numpy()).T
    mean = np.zeros(p) if mean is None else np.asarray(mean, float)
    return pd.DataFrame(x + mean, columns=list(cov.columns))


def target_parameters(est: pd.DataFrame) -> pd.DataFrame:
    """Structural paths and defined effects of an estimates table, with their kind.

    Parameters
    ----------
    est : pandas.DataFrame
        Estimates in lavaan vocabulary with a ``label`` column (``ind_``, ``total_`` and
        ``indirect_`` names as written by :func:`analysis.study.models.chain_model`).

    Returns
    -------
    pandas.DataFrame
        The ``~`` and ``:=`` rows, with ``kind`` one of ``path``, ``indirect``, ``total``,
        ``total indirect``.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["CS", "ind_MS_CS"], "op": ["~", ":="],
    ...                     "rhs": ["MS", "b_MS_CS*b_CS_PV"], "label": ["b_MS_CS", "ind_MS_CS"]})
    >>> target_parameters(est)[["label", "kind"]].values.tolist()
    [['b_MS_CS', 'path'], ['ind_MS_CS', 'indirect']]
    """
    sel = est[(est["op"] == "~") | (est["op"] == ":=")].copy()
    sel["kind"] = np.where(sel["op"] == "~", "path",
                           np.where(sel["label"].str.startswith("ind_"), "indirect",
                                    np.where(sel["label"].str.startswith("total_"), "total",
                                             "total indirect")))
    return sel


@dataclass(frozen=True, eq=False)
class TrueValues:
    """True (or pseudo-true) parameter values, as returned by :func:`true_values`.

    Attributes
    ----------
    table : DataFrame
        ``label kind true true_std se_unit``: one row per target parameter.
    theta : ndarray
        Free parameters of the fit to the population moments (a warm start for refits).
    fmin : float
        Population discrepancy of that fit (0 for a correct model; NaN if unknown).

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to
    evaluate statistical methods. *Statistics in Medicine*, 38, 2074-2102.

    Examples
    --------
    >>> tv = true_values()
    >>> abs(tv.fmin) < 1e-10, list(tv.table.columns)
    (True, ['label', 'kind', 'true', 'true_std', 'se_unit'])
    """

    table: pd.DataFrame
    theta: np.ndarray
    fmin: float


def truth_table(truth) -> pd.DataFrame:
    """The table of a :class:`TrueValues`, or ``truth`` itself if it is a DataFrame.

    Parameters
    ----------
    truth : TrueValues or DataFrame

    Returns
    -------
    DataFrame
        ``label kind true true_std se_unit``.
    """
    return truth.table if isinstance(truth, TrueValues) else truth


def true_values(design: Design | None = None, population: dict = POPULATION,
                codebook: pd.DataFrame | None = None, *, model: str | None = None,
                n: int = 2000, latent_response: bool = False) -> TrueValues:
    """True (or pseudo-true) value of every path and defined effect in the fitted metric.

    The model is fitted to :func:`exact_moment_data` of the population moments; with a correct
    model the discrepancy is zero and the estimates are the population values, with Likert
    items they are the values ML converges to.

    Parameters
    ----------
    design : Design, optional
        Supplies ``likert`` and ``null_paths`` (default: continuous items, H1).
    population : dict
        Cleaned with :func:`clean_population` (type shifts, jitter off).
    codebook : DataFrame, optional
    model : str, optional
        lavaan syntax; defaults to the design's model.
    n : int
        Rows of the exact-moment data (the SEs returned are for this ``n``).
    latent_response : bool
        Fit the correlation matrix of the continuous responses behind the items instead:
        the metric of the latent-response model that WLSMV estimates from ordinal items
        (delta parameterisation, every ``y*`` of unit variance; Muthén 1984), so that its
        estimates are compared with their own population values.

    Returns
    -------
    TrueValues
        ``table``: ``label kind true true_std se_unit`` where ``true`` is in the fitted
        (marker) metric, ``true_std`` the std.all value and ``se_unit`` the asymptotic SE
        times ``sqrt(N)`` (expected information); ``theta``: the free parameters (warm
        start); ``fmin``: the population discrepancy (0 for a correct model).

    References
    ----------
    White, H. (1982). Maximum likelihood estimation of misspecified models. *Econometrica*, 50,
    1-25 (pseudo-true values).

    Examples
    --------
    >>> tv = true_values()
    >>> round(float(tv.table.set_index("label").at["b_MS_CS", "true_std"]), 6)
    0.5
    """
    design = design or Design("truth")
    codebook = load_codebook() if codebook is None else codebook
    model = model or design_model(design, codebook)
    pop = clean_population(population)
    cov, mean = population_moments(pop, codebook, likert=design.likert and not latent_response)
    if latent_response:
        sd = np.sqrt(np.diag(cov.to_numpy()))
        cov = cov / np.outer(sd, sd)
        mean = mean * 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(model, exact_moment_data(cov, mean, n=n), std_se=False)
    sel = target_parameters(res.estimates)
    # paths that are zero in the population come out as rounding noise (~1e-17): make them 0
    tidy = lambda v: np.where(np.abs(v) < 1e-9, 0.0, v)  # noqa: E731
    out = pd.DataFrame({"label": sel["label"].to_numpy(), "kind": sel["kind"].to_numpy(),
                        "true": tidy(sel["est"].to_numpy()),
                        "true_std": tidy(sel["std_all"].to_numpy()),
                        "se_unit": sel["se"].to_numpy() * np.sqrt(n)})
    return TrueValues(out, theta=res.theta,
                      fmin=float(res.info.fmin) if res.info is not None else np.nan)
