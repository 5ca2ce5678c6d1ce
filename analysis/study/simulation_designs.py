"""The designs of the Monte Carlo experiments: what is simulated and how it is fitted.

A :class:`Design` switches one departure from the clean case on at a time (sample size,
Likert items, community random effects, missing answers, zero paths) and names the methods
fitted to every dataset (:data:`METHODS`); :func:`clean_population` and
:func:`design_population` derive the population of a design from the documented one
(:data:`analysis.study.population.POPULATION`), :func:`recode_simulated` turns a simulated
survey into the items a fit sees, :func:`design_model` gives the model fitted, and
:func:`standard_designs` lists notebook 06's designs by role. The experiments themselves are
in :mod:`analysis.study.recovery`, the true values in :mod:`analysis.study.true_values`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.io.codebook import construct_items, load_codebook, missing_codes
from analysis.study.models import CHAIN_PATHS, chain_model
from analysis.study.population import POPULATION

__all__ = [
    "METHODS", "CLUSTER_METHODS", "ORDINAL_METHODS", "Design", "clean_population",
    "design_population", "recode_simulated", "null_model", "design_model", "standard_designs"
]

#: Fitting methods a design can ask for: name -> (estimator, missing).
METHODS = {"ML": ("ML", "listwise"), "MLR": ("MLR", "listwise"),
           "FIML": ("ML", "fiml"), "listwise": ("ML", "listwise"),
           "ML-cluster": ("ML", "listwise"), "WLSMV": ("WLSMV", "listwise")}


#: Methods fitted with cluster-robust SEs (``fit_sem(..., cluster="community_id")``).
CLUSTER_METHODS = frozenset({"ML-cluster"})


#: Methods that treat the items as ordered categories (thresholds and polychorics).
ORDINAL_METHODS = frozenset({"WLSMV"})


@dataclass(frozen=True)
class Design:
    """One cell of the Monte Carlo experiment.

    Parameters
    ----------
    name : str
        Unique label (also the key of the replication seeds).
    n_residents : int, optional
        Sample size; ``None`` keeps the compendium's design (12 communities per type of
        24-44 residents, about 1,570 residents).
    n_communities : int, optional
        Number of communities (a multiple of 4, the community types) when ``n_residents`` is
        given; residents are spread evenly. Default: 25 residents per community.
    likert : bool
        Cut items into the 5-point scale at the documented thresholds (else continuous ``y*``).
    community_share : float
        Share of each latent disturbance's variance common to the community (0: independent
        residents; the documented population has 0.12).
    missing_rate : float
        Share of residents who leave answers blank (MAR, see :func:`impose_mar`).
    methods : tuple of str
        Keys of :data:`METHODS` fitted to every dataset (paired comparison).
    null_paths : bool
        Fit H1 plus the paths MS -> RA and MS -> CC, which are zero in the population.
    """

    name: str
    n_residents: int | None = None
    n_communities: int | None = None
    likert: bool = False
    community_share: float = 0.0
    missing_rate: float = 0.0
    methods: tuple = ("ML",)
    null_paths: bool = False

    def __post_init__(self):
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method(s) {bad}; choose from {sorted(METHODS)}")
        if not 0 <= self.missing_rate < 1:
            raise ValueError(f"missing_rate must lie in [0, 1), got {self.missing_rate}")
        if not 0 <= self.community_share < 1:
            raise ValueError(f"community_share must lie in [0, 1), got {self.community_share}")
        if self.n_residents is not None and self.n_residents < 100:
            raise ValueError(f"n_residents must be at least 100, got {self.n_residents}")

    @property
    def key(self) -> int:
        """Stable integer derived from the name (part of every replication's seed)."""
        return zlib.crc32(self.name.encode())


def clean_population(population: dict = POPULATION, *, community_share: float = 0.0) -> dict:
    """A copy of the population without type shifts or threshold jitter.

    Type shifts make the latent distribution a mixture of four types (so the single-group
    model no longer holds exactly) and the item-specific threshold jitter is redrawn with each
    seed; both are switched off so that the truth is fixed and exact. ``community_share`` keeps
    the latent variances at 1 (it splits each disturbance), so the truth does not depend on it.

    Parameters
    ----------
    population : dict
        True parameters, :data:`analysis.study.population.POPULATION` by default.
    community_share : float
        Share of each latent disturbance common to the community.

    Returns
    -------
    dict

    Examples
    --------
    >>> pop = clean_population(community_share=0.12)
    >>> pop["type_shifts"], pop["threshold_jitter"], pop["community_share"]
    ({}, 0.0, 0.12)
    """
    pop = dict(population)
    pop["type_shifts"] = {}
    pop["threshold_jitter"] = 0.0
    pop["community_share"] = float(community_share)
    return pop


def design_population(n_residents: int, n_communities: int | None = None,
                      population: dict = POPULATION) -> dict:
    """Population with ``n_residents`` residents spread evenly over ``n_communities``.

    ``n_communities`` must be a multiple of 4 (the community types) and divide
    ``n_residents``; by default 25 residents per community (rounded to a multiple of 4
    communities).

    Parameters
    ----------
    n_residents : int
    n_communities : int, optional
    population : dict
        True parameters, :data:`analysis.study.population.POPULATION` by default.

    Returns
    -------
    dict
        ``population`` with ``n_communities_per_type``, ``community_size`` and
        ``small_community_size`` set.

    Raises
    ------
    ValueError
        ``n_communities`` not a positive multiple of 4, or not dividing ``n_residents``.

    Examples
    --------
    >>> p = design_population(800, 32)
    >>> p["n_communities_per_type"], p["community_size"]
    (8, (25, 25))
    """
    if n_communities is None:
        n_communities = max(4, 4 * round(n_residents / 100))
    if n_communities % 4 or n_communities <= 0:
        raise ValueError(f"n_communities must be a positive multiple of 4, got {n_communities}")
    if n_residents % n_communities:
        raise ValueError(f"{n_residents} residents cannot be spread evenly over "
                         f"{n_communities} communities")
    m = n_residents // n_communities
    pop = dict(population)
    pop.update(n_communities_per_type=n_communities // 4, community_size=(m, m),
               small_community_size=m)
    return pop


def recode_simulated(survey: pd.DataFrame, codebook: pd.DataFrame | None = None, *,
                     likert: bool = True) -> pd.DataFrame:
    """Item columns of a simulated survey, recoded as :func:`analysis.io.survey.load_survey` does.

    Declared missing codes (9 = "don't know") become NaN and reverse-worded items are
    recoded ``(min + max) - x``; continuous (``likert=False``) simulations are not reversed by
    the simulator and are returned as floats unchanged.

    Parameters
    ----------
    survey : pandas.DataFrame
        From :func:`analysis.study.population.simulate_survey`.
    codebook : pandas.DataFrame, optional
        Defaults to the compendium's codebook.
    likert : bool
        Whether the survey was simulated on the 5-point scale.

    Returns
    -------
    pandas.DataFrame
        One float column per item.

    Examples
    --------
    >>> from analysis.study.population import simulate_survey
    >>> s = simulate_survey(seed=1)
    >>> bool(recode_simulated(s).max().max() <= 5)
    True
    """
    codebook = load_codebook() if codebook is None else codebook
    items = [it for its in construct_items(codebook).values() for it in its]
    out = survey[items].astype(float)
    if not likert:
        return out
    codes = missing_codes(codebook)
    cb = codebook.set_index("item")
    for it in items:
        col = out[it].mask(out[it].isin(codes[it]))
        if cb.at[it, "reverse"]:
            col = (cb.at[it, "scale_min"] + cb.at[it, "scale_max"]) - col
        out[it] = col
    return out


def null_model(codebook: pd.DataFrame | None = None) -> str:
    """H1 plus the paths MS -> RA and MS -> CC, which are zero in the population.

    Parameters
    ----------
    codebook : pandas.DataFrame, optional
        Defaults to the compendium's codebook.

    Returns
    -------
    str
        lavaan syntax (:func:`analysis.study.models.chain_model` with the two extra paths).

    Examples
    --------
    >>> [line for line in null_model().splitlines() if line.startswith("RA ~")]
    ['RA ~ b_CS_RA*CS + b_OM_RA*OM + b_MS_RA*MS']
    """
    codebook = load_codebook() if codebook is None else codebook
    return chain_model(codebook, paths=tuple(CHAIN_PATHS) + (("MS", "RA"), ("MS", "CC")))


def design_model(design: Design, codebook: pd.DataFrame) -> str:
    """The model fitted to a design's datasets: H1, or H1 plus the two zero paths.

    Parameters
    ----------
    design : Design
    codebook : DataFrame

    Returns
    -------
    str
        lavaan syntax (:func:`analysis.study.models.chain_model` or :func:`null_model`).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> "MS ~" in design_model(Design("x"), load_codebook())
    False
    """
    return null_model(codebook) if design.null_paths else chain_model(codebook)


def standard_designs(n_grid: Sequence[int] = (200, 400, 800, 1600, 3200)) -> dict:
    """The notebook's designs, by role.

    Parameters
    ----------
    n_grid : sequence of int
        Sample sizes of the ``grid`` designs.

    Returns
    -------
    dict
        ``main`` (continuous, compendium size), ``grid`` (one per N), ``missing`` (10% and
        20% MAR, FIML and listwise), ``likert`` (ML, MLR and WLSMV), ``clustered`` (12% community
        share, naive ML and cluster-robust ML) and ``null`` (two zero paths).

    Examples
    --------
    >>> {role: [d.name for d in ds] for role, ds in standard_designs((200, 400)).items()}["grid"]
    ['N200', 'N400']
    """
    return {
        "main": [Design("main")],
        "grid": [Design(f"N{n}", n_residents=int(n)) for n in n_grid],
        "missing": [Design("mar10", missing_rate=0.10, methods=("FIML", "listwise")),
                    Design("mar20", missing_rate=0.20, methods=("FIML", "listwise"))],
        "likert": [Design("likert", likert=True, methods=("ML", "MLR", "WLSMV"))],
        "clustered": [Design("clustered", community_share=POPULATION["community_share"],
                             methods=("ML", "ML-cluster"))],
        "null": [Design("zero_paths", null_paths=True)],
    }
