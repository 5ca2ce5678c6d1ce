"""The documented population model behind the compendium's synthetic data.

The original questionnaire data are not public. Everything in ``data/raw/survey.csv``,
``communities.csv`` and ``expert_ahp.csv`` is drawn from the model below, with every true
parameter in :data:`POPULATION` (explained in ``data/raw/README.md``). No number computed from
these files is a result of the original study.

Model, in words
---------------
Each resident ``i`` of community ``c`` has five latent public-value elements and a latent
performance score, linked by the public-value chain (MS -> CS; MS, CS -> OM; CS, OM -> RA;
CS, OM -> CC; all five -> PV) with the coefficients ``POPULATION["paths"]``. Latent disturbances
are scaled so that every latent variable has unit variance within a community type; a share
``POPULATION["community_share"]`` of each disturbance is common to the community (random
effect), and community types shift the disturbance means (``POPULATION["type_shifts"]``), which
encodes the study's diagnosed difficulties. Items are ``y* = loading * eta + sqrt(1 - loading^2)
* e``, cut into five categories at ``POPULATION["thresholds"]`` (plus an item-specific shift);
reverse-worded items are stored reversed, as a respondent would answer them. A few percent of
answers are missing at random (the probability rises with age, an observed variable); some
of them are coded 9 ("don't know"), the rest left blank.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths
from analysis.io.codebook import construct_items, load_codebook

SEED = 20261127

COMMUNITY_TYPES = ("old neighbourhood", "work-unit compound", "commercial-housing estate",
                   "resettlement community")

#: Every true parameter of the synthetic data, in one place.
POPULATION: dict = {
    "n_communities_per_type": 12,
    # Respondents per community are uniform on [low, high]; one community (the last of the
    # resettlement type) has only ``small_community_size`` respondents, so that disclosure
    # control has something to suppress.
    "community_size": (24, 44),
    "small_community_size": 4,
    # Structural coefficients on the standardised latent scale: (predictor, outcome) -> beta.
    "paths": {
        ("MS", "CS"): 0.50,
        ("MS", "OM"): 0.20, ("CS", "OM"): 0.40,
        ("CS", "RA"): 0.25, ("OM", "RA"): 0.40,
        ("CS", "CC"): 0.30, ("OM", "CC"): 0.35,
        ("MS", "PV"): 0.10, ("CS", "PV"): 0.10, ("OM", "PV"): 0.15,
        ("RA", "PV"): 0.30, ("CC", "PV"): 0.25,
    },
    # Share of each latent disturbance's variance that is common to the community.
    "community_share": 0.12,
    # Shifts of the disturbance means by community type (latent SD units), the study's
    # diagnosed difficulties: fragmented resources in old neighbourhoods, weak resident
    # participation in commercial-housing estates, value conflicts in resettlement
    # communities, a legacy of cohesion in work-unit compounds.
    "type_shifts": {
        "old neighbourhood": {"RA": -0.40, "OM": -0.10},
        "work-unit compound": {"CS": 0.25, "MS": 0.10},
        "commercial-housing estate": {"MS": -0.45, "CC": -0.15},
        "resettlement community": {"CC": -0.30, "CS": -0.15},
    },
    # Standardised loadings per item (the codebook's item order), within .60-.85.
    "loadings": {
        "MS1": 0.78, "MS2": 0.66, "MS3": 0.72, "MS4": 0.64,
        "CS1": 0.80, "CS2": 0.74, "CS3": 0.68, "CS4": 0.76,
        "OM1": 0.79, "OM2": 0.73, "OM3": 0.61, "OM4": 0.67,
        "RA1": 0.82, "RA2": 0.75, "RA3": 0.70, "RA4": 0.77,
        "CC1": 0.80, "CC2": 0.74, "CC3": 0.62, "CC4": 0.69,
        "PV1": 0.76, "PV2": 0.83, "PV3": 0.85, "PV4": 0.72, "PV5": 0.70,
    },
    # Cut points of y* into the categories 1..5 (residents lean towards agreement).
    "thresholds": (-2.0, -1.1, -0.1, 1.0),
    # Item-specific shift of all thresholds, uniform on [-s, s] (fixed per item by the seed).
    "threshold_jitter": 0.25,
    # Missing at random: logit P(missing) = a + b * (age - 50) / 15, per item answer.
    "missing_logit": (-4.4, 0.5),
    "dont_know_share": 0.35,  # of missing answers, the share coded 9 rather than left blank
    "dont_know_code": 9,
    # AHP expert panel over the five elements: true priorities, judgement noise (log scale)
    # for consistent experts, and which experts are inconsistent (CR >= 0.10).
    "ahp_true_weights": {"MS": 0.20, "CS": 0.16, "OM": 0.17, "RA": 0.27, "CC": 0.20},
    "ahp_noise": 0.20,
    "ahp_inconsistent_noise": 1.0,
    "ahp_n_experts": 12,
    "ahp_inconsistent_experts": ("E04", "E09", "E11"),
}

_ELEMENT_ORDER = ("MS", "CS", "OM", "RA", "CC", "PV")
_SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2,
                   1, 2, 3, 4, 5, 6, 7, 8, 9])
_RI = {3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}


def path_matrix(population: dict = POPULATION, order: Sequence[str] = _ELEMENT_ORDER) -> np.ndarray:
    """``B`` with ``B[outcome, predictor] = beta`` for the population's paths, in ``order``.

    Parameters
    ----------
    population : dict
        A population model with a ``paths`` mapping ``(predictor, outcome) -> beta``.
    order : sequence of str
        The latent variables (rows and columns of ``B``).

    Returns
    -------
    ndarray
    """
    order = list(order)
    B = np.zeros((len(order), len(order)))
    for (p, o), b in population["paths"].items():
        if p not in order or o not in order:
            raise ValueError(f"path {p} -> {o} names a construct the codebook lacks")
        B[order.index(o), order.index(p)] = b
    return B


def true_structural_matrix(population: dict = POPULATION) -> tuple[np.ndarray, tuple[str, ...]]:
    """``B`` of the shipped population in the order MS, CS, OM, RA, CC, PV, and that order.

    Parameters
    ----------
    population : dict

    Returns
    -------
    (ndarray, tuple of str)
    """
    return path_matrix(population, _ELEMENT_ORDER), _ELEMENT_ORDER


def disturbance_variances(population: dict = POPULATION,
                          order: Sequence[str] = _ELEMENT_ORDER) -> np.ndarray:
    """Disturbance variances that give every latent variable unit variance.

    Each variance is fixed in causal (topological) order: ``psi_j = 1 - B_j Phi B_j'`` with
    ``Phi`` the covariance implied by the variances already fixed.

    Parameters
    ----------
    population : dict
    order : sequence of str

    Returns
    -------
    ndarray
        One variance per latent variable, in ``order``.
    """
    B = path_matrix(population, order)
    n = len(B)
    topo, left = [], set(range(n))
    while left:
        ready = [j for j in sorted(left) if not any(B[j, k] for k in left if k != j)]
        if not ready:
            raise ValueError("the structural paths contain a cycle")
        topo += ready
        left -= set(ready)
    inv = np.linalg.inv(np.eye(n) - B)
    psi = np.zeros(n)
    for j in topo:
        cov = inv @ np.diag(psi) @ inv.T
        explained = B[j] @ cov @ B[j]
        if explained >= 1:
            raise ValueError(f"paths into {list(order)[j]} explain more than its unit variance")
        psi[j] = 1.0 - explained
    return psi


def latent_correlation(population: dict, order: Sequence[str]) -> np.ndarray:
    """Correlation matrix of the latent variables implied by standardised paths.

    Parameters
    ----------
    population : dict
    order : sequence of str

    Returns
    -------
    ndarray
        ``(I - B)^-1 Psi (I - B)^-T`` with unit diagonal.
    """
    B = path_matrix(population, order)
    inv = np.linalg.inv(np.eye(len(B)) - B)
    return inv @ np.diag(disturbance_variances(population, order)) @ inv.T


def type_mean_differences(population: dict, reference: str,
                          order: Sequence[str] = _ELEMENT_ORDER) -> pd.DataFrame:
    """True latent mean differences between community types in the simulation.

    The simulator shifts the *disturbance* means by type; through the chain the shifts add
    up: ``E(eta | type) = (I - B)^-1 shift``. Values are in within-type latent SD units
    (every latent variable has unit variance within a type).

    Parameters
    ----------
    population : mapping
        :data:`POPULATION` (``paths`` and ``type_shifts``).
    reference : str
        The community type all others are compared with.
    order : sequence of str

    Returns
    -------
    DataFrame
        ``construct group true_d`` (group = community type, reference excluded).
    """
    shifts = population["type_shifts"]
    if reference not in shifts:
        raise ValueError(f"reference {reference!r} not among {list(shifts)}")
    order = list(order)
    inv = np.linalg.inv(np.eye(len(order)) - path_matrix(population, order))

    def mean(t):
        return inv @ np.array([shifts[t].get(c, 0.0) for c in order])

    base = mean(reference)
    rows = [dict(construct=c, group=t, true_d=float(v))
            for t in shifts if t != reference
            for c, v in zip(order, mean(t) - base)]
    out = pd.DataFrame(rows)
    out["construct"] = pd.Categorical(out["construct"], order, ordered=True)
    return out.sort_values(["construct"], kind="stable").assign(
        construct=lambda d: d["construct"].astype(str)).reset_index(drop=True)


def standardised_effects(population: dict = POPULATION) -> pd.DataFrame:
    """True direct, indirect and total effects of each element on PV (within-type metric)."""
    B, order = true_structural_matrix(population)
    n = len(order)
    total = np.linalg.inv(np.eye(n) - B) - np.eye(n)
    pv = order.index("PV")
    rows = [{"element": e, "direct": B[pv, k], "total": total[pv, k],
             "indirect": total[pv, k] - B[pv, k]} for k, e in enumerate(order[:-1])]
    return pd.DataFrame(rows)[["element", "direct", "indirect", "total"]]


def _communities(rng: np.random.Generator, population: dict) -> pd.DataFrame:
    k = population["n_communities_per_type"]
    lo, hi = population["community_size"]
    rows = []
    for t_idx, ctype in enumerate(COMMUNITY_TYPES):
        for j in range(k):
            rows.append({"community_id": f"C{t_idx * k + j + 1:02d}", "community_type": ctype})
    com = pd.DataFrame(rows)
    com["n_respondents"] = rng.integers(lo, hi + 1, size=len(com))
    com.loc[len(com) - 1, "n_respondents"] = population["small_community_size"]
    return com


def _community_table(rng: np.random.Generator, com: pd.DataFrame, u: np.ndarray) -> pd.DataFrame:
    """Inputs for efficiency benchmarking; resources track the community's RA effect."""
    n = len(com)
    built = {"old neighbourhood": (1975, 1995), "work-unit compound": (1965, 1995),
             "commercial-housing estate": (1998, 2018), "resettlement community": (2005, 2021)}
    size = {"old neighbourhood": 2200, "work-unit compound": 1800,
            "commercial-housing estate": 3400, "resettlement community": 2800}
    households = np.array([size[t] for t in com["community_type"]]) * np.exp(rng.normal(0, .3, n))
    year = np.array([rng.integers(*built[t]) for t in com["community_type"]])
    scale = households / 2500
    ra = u[:, _ELEMENT_ORDER.index("RA")]
    om = u[:, _ELEMENT_ORDER.index("OM")]
    noise = lambda s: np.exp(rng.normal(0, s, n))  # noqa: E731 - local shorthand
    out = pd.DataFrame({
        "community_id": com["community_id"],
        "community_type": com["community_type"],
        "households": np.round(households).astype(int),
        "year_built": year,
        "staff": np.maximum(4, np.round(12 * scale ** .6 * noise(.2) * np.exp(.3 * om))).astype(int),
        "budget_10k_yuan": np.round(80 * scale ** .8 * noise(.3) * np.exp(.5 * ra), 1),
        "floor_area_m2": np.round(900 * scale ** .7 * noise(.3) * np.exp(.4 * ra), -1).astype(int),
        "social_orgs": np.maximum(1, np.round(8 * scale ** .5 * noise(.4))).astype(int),
        "volunteers": np.maximum(5, np.round(120 * scale ** .6 * noise(.5))).astype(int),
    })
    return out


def simulate_survey(seed: int = SEED, population: dict = POPULATION, codebook=None, *,
                    n_communities_per_type: int | None = None, likert: bool = True,
                    missing: bool = True, return_latent: bool = False):
    """Draw residents from the population model.

    Parameters
    ----------
    seed : int
        Seed of :class:`numpy.random.Generator` (PCG64); the same seed gives the same data.
    population : dict
        True parameters, :data:`POPULATION` by default.
    codebook : DataFrame, optional
        Defines the items; the compendium's codebook by default.
    n_communities_per_type : int, optional
        Overrides ``population["n_communities_per_type"]`` (sample-size studies).
    likert : bool
        Cut items into the 5-point scale (``False`` keeps the continuous ``y*``, for checks).
    missing : bool
        Add missing answers (MAR on age) and "don't know" codes.
    return_latent : bool
        Also return the latent scores and the community table.

    Returns
    -------
    pandas.DataFrame, or (survey, latent, communities) when ``return_latent``
        The survey as a respondent would fill it in: reverse-worded items not yet reversed,
        ``9`` for "don't know".

    Examples
    --------
    >>> survey = simulate_survey(seed=1)
    >>> survey.shape[0] > 1000
    True
    """
    population = dict(population)
    if n_communities_per_type is not None:
        population["n_communities_per_type"] = n_communities_per_type
    codebook = load_codebook() if codebook is None else codebook
    rng = np.random.default_rng(seed)
    com = _communities(rng, population)
    n_c = len(com)
    B, order = true_structural_matrix(population)
    psi = disturbance_variances(population)
    share = population["community_share"]

    # Community random effects and type shifts enter through the latent disturbances.
    u = rng.standard_normal((n_c, len(order))) * np.sqrt(share * psi)
    shift = np.zeros((n_c, len(order)))
    for ci, ctype in enumerate(com["community_type"]):
        for el, d in population["type_shifts"].get(ctype, {}).items():
            shift[ci, order.index(el)] = d
    members = np.repeat(np.arange(n_c), com["n_respondents"].to_numpy())
    n = len(members)
    zeta = rng.standard_normal((n, len(order))) * np.sqrt((1 - share) * psi)
    zeta += u[members] + shift[members]
    eta = zeta @ np.linalg.inv(np.eye(len(order)) - B).T
    latent = pd.DataFrame(eta, columns=list(order))

    items = construct_items(codebook)
    names = [it for its in items.values() for it in its]
    lam = np.array([population["loadings"][it] for it in names])
    col = np.array([order.index(c) for c, its in items.items() for _ in its])
    ystar = eta[:, col] * lam + rng.standard_normal((n, len(names))) * np.sqrt(1 - lam ** 2)
    jitter = rng.uniform(-1, 1, len(names)) * population["threshold_jitter"]
    if likert:
        cuts = np.asarray(population["thresholds"])[None, :] + jitter[:, None]
        y = 1 + (ystar[:, :, None] > cuts[None, :, :]).sum(axis=2).astype(float)
        rev = codebook.set_index("item").loc[names, "reverse"].to_numpy()
        lo = codebook.set_index("item").loc[names, "scale_min"].to_numpy()
        hi = codebook.set_index("item").loc[names, "scale_max"].to_numpy()
        y[:, rev] = (lo + hi)[rev] - y[:, rev]
    else:
        y = ystar

    ctype = com["community_type"].to_numpy()[members]
    older = np.isin(ctype, ["old neighbourhood", "work-unit compound"])
    age = np.clip(np.round(rng.normal(np.where(older, 58, 44), 14)), 18, 90).astype(int)
    years = np.clip(np.round(rng.gamma(2.0, np.where(older, 9, 4))), 0, age - 16).astype(int)
    tenure = np.where(rng.uniform(size=n) < np.where(ctype == "commercial-housing estate", .78, .62),
                      "owner", np.where(rng.uniform(size=n) < .7, "renter", "public housing"))
    gender = np.where(rng.uniform(size=n) < .55, "female", "male")

    if missing:
        a, b = population["missing_logit"]
        p_miss = 1 / (1 + np.exp(-(a + b * (age - 50) / 15)))
        miss = rng.uniform(size=y.shape) < p_miss[:, None]
        dont_know = miss & (rng.uniform(size=y.shape) < population["dont_know_share"])
        y[miss] = np.nan
        if likert:
            y[dont_know] = population["dont_know_code"]

    survey = pd.DataFrame({
        "respondent_id": [f"R{i + 1:05d}" for i in range(n)],
        "community_id": com["community_id"].to_numpy()[members],
        "community_type": ctype,
        "gender": gender, "age": age, "years_resident": years, "tenure": tenure,
    })
    item_frame = pd.DataFrame(y, columns=names)
    if likert:
        item_frame = item_frame.astype("Int64")
    survey = pd.concat([survey, item_frame], axis=1)
    if not return_latent:
        return survey
    latent.insert(0, "community_id", survey["community_id"])
    return survey, latent, _community_table(rng, com, u + shift)


def _ahp_cr(m: np.ndarray) -> float:
    lam = np.max(np.linalg.eigvals(m).real)
    n = len(m)
    return (lam - n) / (n - 1) / _RI[n]


def simulate_expert_panel(seed: int = SEED, population: dict = POPULATION) -> pd.DataFrame:
    """AHP pairwise matrices over the five elements from a synthetic expert panel.

    Each expert judges ``w_i / w_j`` with log-normal noise, rounded to Saaty's 1-9 scale
    (reciprocals below 1). Experts listed in ``ahp_inconsistent_experts`` judge with large
    noise and are redrawn until their consistency ratio is at least 0.10; the others are
    redrawn until it is below 0.10.

    Returns
    -------
    pandas.DataFrame
        Columns ``expert_id row MS CS OM RA CC``: five rows per expert.
    """
    rng = np.random.default_rng([seed, 1])
    w = population["ahp_true_weights"]
    els = list(w)
    wv = np.array([w[e] for e in els])
    rows = []
    for k in range(population["ahp_n_experts"]):
        eid = f"E{k + 1:02d}"
        bad = eid in population["ahp_inconsistent_experts"]
        sd = population["ahp_inconsistent_noise"] if bad else population["ahp_noise"]
        for _ in range(1000):
            m = np.ones((len(els), len(els)))
            for i in range(len(els)):
                for j in range(i + 1, len(els)):
                    ratio = np.log(wv[i] / wv[j]) + rng.normal(0, sd)
                    v = _SAATY[np.argmin(np.abs(np.log(_SAATY) - ratio))]
                    m[i, j], m[j, i] = v, 1 / v
            if (_ahp_cr(m) >= 0.10) == bad:
                break
        else:  # pragma: no cover - the noise levels make this practically impossible
            raise RuntimeError(f"could not draw expert {eid} with the intended consistency")
        for i, e in enumerate(els):
            rows.append({"expert_id": eid, "row": e, **{c: m[i, j] for j, c in enumerate(els)}})
    return pd.DataFrame(rows)


def write_raw_data(directory: str | os.PathLike | None = None, seed: int = SEED) -> list[Path]:
    """Write ``survey.csv``, ``communities.csv`` and ``expert_ahp.csv`` (``make data``).

    Byte-identical for the same seed and codebook; each file is written atomically.
    """
    directory = Path(directory) if directory is not None else paths.DATA_RAW
    survey, _, communities = simulate_survey(seed=seed, return_latent=True)
    panel = simulate_expert_panel(seed=seed)
    out = []
    for name, df, fmt in (("survey.csv", survey, None), ("communities.csv", communities, None),
                          ("expert_ahp.csv", panel, "%.10g")):
        target = directory / name
        with paths.atomic_path(target) as tmp:
            df.to_csv(tmp, index=False, lineterminator="\n", float_format=fmt)
        out.append(target)
    return out


if __name__ == "__main__":
    for p in write_raw_data():
        print(f"wrote {p.relative_to(paths.ROOT)}")
