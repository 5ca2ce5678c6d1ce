"""How far the ranking of communities can be trusted: uncertainty over the index's choices.

:func:`uncertainty_analysis` recomputes the composite index of
:func:`analysis.study.scoring.composite_index` under random methodological choices
(normalisation, weighting scheme, aggregation, a left-out element, perturbed element weights;
:func:`discrete_levels` maps uniform draws to the discrete choices), reports each community's
rank distribution and attributes the variance of the ranks to the choices with Sobol
sensitivity indices (Saisana, Saltelli & Tarantola 2005; the OECD/JRC handbook, Nardo et al.
2008). Resident sampling error is added by :mod:`analysis.study.community`.

References
----------
Saisana, M., Saltelli, A., & Tarantola, S. (2005). Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators. *Journal of the Royal
Statistical Society A*, 168, 307-323.
Nardo, M., Saisana, M., Saltelli, A., Tarantola, S., Hoffman, A., & Giovannini, E. (2008).
*Handbook on Constructing Composite Indicators*. OECD/JRC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items, elements
from analysis.methods.agreement import group_sizes
from analysis.methods.mcda import AGGREGATIONS, NORMALISATIONS, aggregate, check_choice, normalise
from analysis.study.scoring import composite_index, means_of, resolve_weights

__all__ = ["UncertaintyResult", "discrete_levels", "uncertainty_analysis"]


@dataclass
class UncertaintyResult:
    """Monte Carlo over the index's methodological choices.

    Attributes
    ----------
    nominal : DataFrame
        :func:`analysis.study.scoring.composite_index` under the nominal choices.
    design : DataFrame
        One row per run: the choices (``normalisation``, ``weighting``, ``aggregation``,
        ``left_out``, element weight multipliers ``mult_<element>``) and ``rank_shift`` (mean
        absolute rank change against the nominal ranking over communities).
    ranks : DataFrame
        Runs x communities ranks (1 = best).
    summary : DataFrame
        Per community: ``nominal_rank``, ``median_rank``, ``rank_p05``, ``rank_p95`` and
        ``mean_abs_shift``, sorted by nominal rank.
    sobol : DataFrame
        Per factor: first-order ``S1`` and total ``ST`` Sobol indices of ``rank_shift`` with
        their bootstrap 95 % half-widths.
    """

    nominal: pd.DataFrame
    design: pd.DataFrame
    ranks: pd.DataFrame
    summary: pd.DataFrame
    sobol: pd.DataFrame


def discrete_levels(u: np.ndarray, n: int) -> np.ndarray:
    """Bin U(0, 1) draws into ``n`` equally likely categories.

    Parameters
    ----------
    u : ndarray
        Draws in [0, 1).
    n : int
        Number of categories.

    Returns
    -------
    ndarray of int
        Category 0 .. n-1 of each draw.

    References
    ----------
    Saisana, M., Saltelli, A. & Tarantola, S. (2005). Uncertainty and sensitivity analysis
    techniques as tools for the quality assessment of composite indicators. Journal of the
    Royal Statistical Society A 168(2), 307-323.

    Examples
    --------
    >>> discrete_levels(np.array([0.0, 0.49, 0.5, 0.999]), 2).tolist()
    [0, 0, 1, 1]
    """
    return np.minimum((u * n).astype(int), n - 1)


def uncertainty_analysis(data: pd.DataFrame, codebook: pd.DataFrame, *,
                         weightings: Sequence[str] | Mapping[str, object] = ("equal",),
                         normalisations: Sequence[str] = NORMALISATIONS,
                         aggregations: Sequence[str] = AGGREGATIONS,
                         perturbation: float = 0.25, leave_one_out: bool = True,
                         nominal: Mapping[str, str] | None = None, n_runs: int = 1000,
                         seed: int = 0, k: int = 5, group: str = "community_id",
                         progress: bool = True) -> UncertaintyResult:
    """Uncertainty (rank bands) and sensitivity (Sobol indices) of the community ranking.

    Each Monte Carlo run draws: a normalisation, a weighting scheme, an aggregation, an item
    left out (or none), and a multiplier ``1 + perturbation * (2u - 1)`` for each element
    weight (renormalised). The runs follow a Saltelli design (``SALib.sample.sobol``), with the
    categorical choices sampled as U(0, 1) and binned into equally likely levels; the five
    multipliers form one group, "weight perturbation". The model output for the Sobol indices is
    the mean absolute rank shift against the nominal ranking (Saisana et al. 2005).

    Community x item means are computed once; each run is a handful of small array operations,
    so thousands of runs take seconds.

    Parameters
    ----------
    data, codebook, k, group
        As in :func:`composite_index`.
    weightings : sequence of scheme names, or mapping name -> weights
        The weighting schemes to sample from (explicit weights as in :func:`composite_index`).
    normalisations, aggregations : sequences of method names
    perturbation : float
        Half-width of the uniform multiplicative noise on the element weights (0 switches
        the factor off).
    leave_one_out : bool
        Whether dropping one item (renormalising the weights within its element) is a factor.
    nominal : mapping, optional
        ``normalisation``, ``weighting`` and ``aggregation`` of the nominal index; defaults to
        the first of each list.
    n_runs : int
        Minimum number of runs; the Saltelli design uses ``N (G + 2)`` runs with ``N`` the
        smallest power of two reaching it (``G`` factor groups).
    seed : int
        Seeds the scrambled Sobol sequence and the bootstrap of the confidence intervals.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    UncertaintyResult

    References
    ----------
    Saisana, M., Saltelli, A., & Tarantola, S. (2005). Uncertainty and sensitivity analysis
    techniques as tools for the quality assessment of composite indicators. *Journal of the
    Royal Statistical Society A*, 168(2), 307-323.
    Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity indices.
    *Computer Physics Communications*, 145, 280-297.
    Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S. (2010).
    Variance based sensitivity analysis of model output. Design and estimator for the total
    sensitivity index. *Computer Physics Communications*, 181, 259-270.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> res = uncertainty_analysis(load_survey(codebook=cb), cb, n_runs=64, progress=False)
    >>> list(res.summary.columns)
    ['community_id', 'nominal_rank', 'median_rank', 'rank_p05', 'rank_p95', 'mean_abs_shift']
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample
    from tqdm import tqdm

    for m in normalisations:
        check_choice(m, NORMALISATIONS, "normalisation")
    for m in aggregations:
        check_choice(m, AGGREGATIONS, "aggregation")
    if not 0 <= perturbation < 1:
        raise ValueError(f"perturbation must be in [0, 1), got {perturbation!r}")
    if int(n_runs) < 1:
        raise ValueError(f"n_runs must be positive, got {n_runs!r}")

    means = means_of(data, codebook, k, group)
    els = elements(codebook)
    by_construct = construct_items(codebook)
    items = [i for e in els for i in by_construct[e]]
    means = means[items]
    if not isinstance(weightings, Mapping):
        weightings = {name: name for name in weightings}
    respondents = data if group in data.columns else None
    W = {name: resolve_weights(spec, means, codebook, respondents).reindex(items).to_numpy()
         for name, spec in weightings.items()}
    names_w = list(W)
    nominal = dict(nominal or {})
    nominal.setdefault("normalisation", normalisations[0])
    nominal.setdefault("weighting", names_w[0])
    nominal.setdefault("aggregation", aggregations[0])
    check_choice(nominal["weighting"], names_w, "nominal weighting")
    nom = composite_index(means, codebook, normalisation=nominal["normalisation"],
                          weights=pd.Series(W[nominal["weighting"]], index=items), aggregation=nominal["aggregation"])
    if respondents is not None:  # as composite_index reports them for respondent-level data
        sizes = group_sizes(respondents, group, k).set_index(group)["n_respondents"]
        nom.insert(1, "n_respondents", nom[group].map(sizes).to_numpy())
    Z = {m: normalise(means, m, codebook=codebook).to_numpy() for m in normalisations}
    member = np.array([[i in by_construct[e] for i in items] for e in els], float)  # E x I

    # factors: (name, group, number of levels or None for continuous)
    factors = [("normalisation", "normalisation", len(normalisations)),
               ("weighting", "weighting", len(names_w)),
               ("aggregation", "aggregation", len(aggregations))]
    if leave_one_out:
        factors.append(("left_out", "left-out indicator", len(items) + 1))
    if perturbation > 0:
        factors += [(f"mult_{e}", "weight perturbation", None) for e in els]
    problem = {"num_vars": len(factors), "names": [f[0] for f in factors],
               "bounds": [[0.0, 1.0]] * len(factors), "groups": [f[1] for f in factors]}
    n_groups = len(dict.fromkeys(problem["groups"]))
    N = 1 << max(0, int(np.ceil(np.log2(max(1, int(n_runs)) / (n_groups + 2)))))
    U = sobol_sample.sample(problem, N, calc_second_order=False, seed=seed)
    col = {f[0]: j for j, f in enumerate(factors)}

    runs = len(U)
    lv_norm = discrete_levels(U[:, col["normalisation"]], len(normalisations))
    lv_w = discrete_levels(U[:, col["weighting"]], len(names_w))
    lv_agg = discrete_levels(U[:, col["aggregation"]], len(aggregations))
    lv_out = discrete_levels(U[:, col["left_out"]], len(items) + 1) if leave_one_out else np.zeros(runs, int)
    mult = (1 + perturbation * (2 * U[:, [col[f"mult_{e}"] for e in els]] - 1)
            if perturbation > 0 else np.ones((runs, len(els))))

    scores = np.empty((runs, len(means)))
    # fixed update points and no timings, so an executed notebook's output is reproducible
    bar = tqdm(range(runs), desc="Monte Carlo runs", disable=not progress, mininterval=0,
               miniters=max(1, runs // 10), bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt}")
    for r in bar:
        w = W[names_w[lv_w[r]]].copy()
        if lv_out[r] > 0:
            w[lv_out[r] - 1] = 0.0
        # keep each element's weight; renormalise within elements, then apply the multipliers
        el_w = member @ W[names_w[lv_w[r]]]
        within = member @ w
        w = w * (((el_w * mult[r]) / np.where(within > 0, within, 1)) @ member)
        w /= w.sum()
        scores[r] = aggregate(Z[normalisations[lv_norm[r]]], w, aggregations[lv_agg[r]])
    ranks = stats.rankdata(-scores, method="average", axis=1)
    nominal_rank = nom.set_index(group)["rank"].reindex(means.index).to_numpy()
    shift = np.abs(ranks - nominal_rank)
    rank_shift = shift.mean(axis=1)

    design = pd.DataFrame({
        "normalisation": np.asarray(normalisations)[lv_norm],
        "weighting": np.asarray(names_w)[lv_w],
        "aggregation": np.asarray(aggregations)[lv_agg],
        "left_out": np.asarray(["none", *items])[lv_out],
    })
    for j, e in enumerate(els):
        design[f"mult_{e}"] = mult[:, j]
    design["rank_shift"] = rank_shift
    ranks_df = pd.DataFrame(ranks, columns=means.index)
    summary = pd.DataFrame({
        group: means.index,
        "nominal_rank": nominal_rank,
        "median_rank": np.median(ranks, axis=0),
        "rank_p05": np.percentile(ranks, 5, axis=0),
        "rank_p95": np.percentile(ranks, 95, axis=0),
        "mean_abs_shift": shift.mean(axis=0),
    }).sort_values(["nominal_rank", group], kind="stable").reset_index(drop=True)
    labels = list(dict.fromkeys(problem["groups"]))
    if np.var(rank_shift) > 0:
        Si = sobol_analyze.analyze(problem, rank_shift, calc_second_order=False, seed=seed)
        sob = pd.DataFrame({"factor": labels, "S1": Si["S1"], "S1_conf": Si["S1_conf"],
                            "ST": Si["ST"], "ST_conf": Si["ST_conf"]})
    else:  # no choice moves any rank: the indices are undefined, not zero
        sob = pd.DataFrame({"factor": labels, **{c: np.nan for c in ("S1", "S1_conf", "ST", "ST_conf")}})
    return UncertaintyResult(nominal=nom, design=design, ranks=ranks_df, summary=summary, sobol=sob)
