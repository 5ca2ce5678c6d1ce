"""Scoring communities: disclosure-controlled community means, weighting schemes, composite
index, fuzzy grades, and the uncertainty of the ranks.

The steps follow the OECD/JRC *Handbook on Constructing Composite Indicators* (Nardo et al.
2008): residents' answers are averaged per community (:func:`community_means`, justified by
:mod:`analysis.methods.agreement`), each indicator (item) is normalised, weighted
(:func:`scheme_weights`: equal, AHP, entropy, CRITIC, SEM-based or combined) and aggregated
into five element scores and one overall performance score (:func:`composite_index`, with
the building blocks of :mod:`analysis.methods.mcda`); :func:`fuzzy_evaluation` grades the
communities; the ranking is then stress-tested by a Monte Carlo over the methodological
choices with Sobol sensitivity indices (:func:`uncertainty_analysis`; Saisana, Saltelli &
Tarantola 2005).

Communities with fewer than ``k`` respondents are never scored: they are listed as suppressed
(:func:`suppressed_communities`, statistical disclosure control), so no published number
describes a handful of residents.

All data shipped with the compendium are synthetic; no score here is a result of the original
study.

References
----------
Nardo, M., Saisana, M., Saltelli, A., Tarantola, S., Hoffman, A., & Giovannini, E. (2008).
*Handbook on Constructing Composite Indicators: Methodology and User Guide*. OECD/JRC.

Saisana, M., Saltelli, A., & Tarantola, S. (2005). Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators. *Journal of the Royal
Statistical Society A*, 168(2), 307-323.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io import paths
from analysis.io.checks import first_labels
from analysis.io.codebook import construct_items, elements, outcome
from analysis.io.companions import load_expert_panel
from analysis.methods import weighting as W
from analysis.methods.agreement import group_sizes
from analysis.methods.mcda import (
    AGGREGATIONS,
    NORMALISATIONS,
    aggregate,
    check_choice,
    check_weights,
    normalise,
)
from analysis.study import indicators

WEIGHT_SCHEMES = ("equal", "ahp", "entropy", "critic", "sem", "combined")

#: Fuzzy evaluation grades: which answers count towards each grade (position on the scale
#: from the top), and the grade's value on 0-100 (the mean 0-100 score of those answers on a
#: 5-point scale: 100, 75, 50 and the mean of 25 and 0).
GRADES = pd.DataFrame({
    "grade": ["excellent", "good", "fair", "poor"],
    "answers": [(5,), (4,), (3,), (1, 2)],
    "value": [100.0, 75.0, 50.0, 12.5],
})

#: The same grades for any scale: bands of the answer's 0-100 position ``100 (x - min) /
#: (max - min)``; a band holds the answers above its lower bound up to its upper bound (poor
#: includes 0). On a 5-point scale this is exactly :data:`GRADES`.
GRADE_BANDS = pd.DataFrame({
    "grade": ["excellent", "good", "fair", "poor"],
    "lower": [87.5, 62.5, 37.5, 0.0],
    "upper": [100.0, 87.5, 62.5, 37.5],
})


def scale_grades(scale_min: int, scale_max: int, bands: pd.DataFrame = GRADE_BANDS) -> pd.DataFrame:
    """The fuzzy grades of a ``scale_min``-``scale_max`` scale: which answers, which value.

    Each answer ``x`` sits at ``100 (x - min) / (max - min)`` on 0-100 and belongs to the band
    that contains it; a grade's value is the mean 0-100 position of its answers (the band's
    midpoint when no answer of this scale falls in it: its membership is then always 0).

    Parameters
    ----------
    scale_min, scale_max : int
        The item's scale, from the codebook.
    bands : DataFrame
        ``grade lower upper`` on 0-100, best grade first (:data:`GRADE_BANDS`).

    Returns
    -------
    DataFrame
        ``grade answers value``, as :data:`GRADES`.

    References
    ----------
    Zadeh, L. A. (1965). Fuzzy sets. *Information and Control* 8, 338-353; the grade values
    as in :data:`GRADES` (the mean score of the answers in each grade).

    Examples
    --------
    >>> scale_grades(1, 5).equals(GRADES)
    True
    >>> scale_grades(1, 7)[["grade", "answers"]].to_dict("list")
    {'grade': ['excellent', 'good', 'fair', 'poor'], 'answers': [(7,), (5, 6), (4,), (1, 2, 3)]}
    """
    lo, hi = int(scale_min), int(scale_max)
    if hi <= lo:
        raise ValueError(f"scale {lo}-{hi}: the maximum must exceed the minimum")
    pts = np.arange(lo, hi + 1)
    pos = 100.0 * (pts - lo) / (hi - lo)
    rows = []
    for _, b in bands.iterrows():
        inside = (pos > b["lower"]) & (pos <= b["upper"]) if b["lower"] > 0 else \
            (pos >= b["lower"]) & (pos <= b["upper"])
        answers = tuple(int(a) for a in pts[inside])
        value = float(pos[inside].mean()) if inside.any() else float((b["lower"] + b["upper"]) / 2)
        rows.append({"grade": b["grade"], "answers": answers, "value": value})
    return pd.DataFrame(rows)


# --- community means and disclosure control -----------------------------------------------


def suppressed_communities(survey: pd.DataFrame, k: int = 5, group: str = "community_id") -> pd.DataFrame:
    """Communities with fewer than ``k`` respondents (not scored, not described).

    The count itself is the only thing published about them, so a reader knows why they are
    missing.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level data with the column ``group``.
    k : int
        Disclosure threshold.
    group : str
        Column holding the community id.

    Returns
    -------
    pandas.DataFrame
        ``group`` and ``n_respondents`` of the suppressed communities.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["a"] * 6 + ["b"] * 3})
    >>> suppressed_communities(df, k=5).to_dict("records")
    [{'community_id': 'b', 'n_respondents': 3}]
    """
    sizes = group_sizes(survey, group, k)
    return sizes.loc[sizes["suppressed"], [group, "n_respondents"]].reset_index(drop=True)


def community_means(survey: pd.DataFrame, codebook: pd.DataFrame, *, k: int = 5,
                    group: str = "community_id", constructs: Sequence[str] | None = None) -> pd.DataFrame:
    """Community x item mean answers for communities with at least ``k`` respondents.

    Parameters
    ----------
    survey : DataFrame
        Respondent-level answers from :func:`analysis.io.survey.load_survey` (items recoded).
    codebook : DataFrame
    k : int
        Disclosure threshold: communities with fewer respondents are left out (see
        :func:`suppressed_communities`).
    group : str
        Column holding the community id.
    constructs : list of str, optional
        Constructs whose items are averaged; defaults to the elements.

    Returns
    -------
    DataFrame
        Index: community id (sorted); columns: items (the respondent counts are
        :func:`analysis.methods.agreement.group_sizes`).

    Raises
    ------
    ValueError
        If a scored community has no answer at all on a construct or on an item (nothing is
        imputed silently), naming the community and the construct or item.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> means = community_means(load_survey(codebook=cb), cb, k=5)
    >>> means.shape
    (47, 20)
    """
    by_construct = construct_items(codebook)
    constructs = list(constructs) if constructs is not None else elements(codebook)
    unknown = [c for c in constructs if c not in by_construct]
    if unknown:
        raise ValueError(f"constructs {unknown} are not in the codebook")
    items = [i for c in constructs for i in by_construct[c]]
    missing = [c for c in [group, *items] if c not in survey.columns]
    if missing:
        raise KeyError(f"survey lacks column(s) {', '.join(missing)}")
    sizes = group_sizes(survey, group, k).set_index(group)
    keep = survey[group].isin(sizes.index[~sizes["suppressed"]])
    answered = survey.loc[keep, items].notna().groupby(survey.loc[keep, group]).sum()
    for c in constructs:
        empty = answered.index[(answered[by_construct[c]] == 0).all(axis=1)]
        if len(empty):
            raise ValueError(f"construct {c}: community {first_labels(empty)} has no answer on any of "
                             f"{', '.join(by_construct[c])}; cannot score it (impute or drop first)")
    empty = (answered == 0).stack()
    if empty.any():
        pairs = [f"{g}/{i}" for g, i in empty[empty].index]
        raise ValueError(f"item without any answer in a community (community/item): {first_labels(pairs)}; "
                         "cannot score it (impute or drop first)")
    means = survey.loc[keep, items].astype(float).groupby(survey.loc[keep, group]).mean().sort_index()
    means.index.name = group
    return means


def item_weights(weights, codebook: pd.DataFrame, constructs: Sequence[str] | None = None) -> pd.Series:
    """Turn element (construct) weights or item weights into item weights summing to 1.

    Element weights are shared equally among the element's items; item weights are used as
    given. Either way they must be non-negative and sum to 1.

    Parameters
    ----------
    weights : mapping or pandas.Series
        Keyed by elements or by their items.
    codebook : pandas.DataFrame
    constructs : sequence of str, optional
        The elements weighted; defaults to the codebook's elements.

    Returns
    -------
    pandas.Series
        Item -> weight, summing to 1.

    Raises
    ------
    ValueError
        Unknown keys, or weights that are negative or do not sum to 1.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> w = item_weights({"MS": .2, "CS": .2, "OM": .2, "RA": .2, "CC": .2}, load_codebook())
    >>> float(w["MS1"])
    0.05
    """
    by_construct = construct_items(codebook)
    constructs = list(constructs) if constructs is not None else elements(codebook)
    items = [i for c in constructs for i in by_construct[c]]
    w = pd.Series(weights, dtype=float) if isinstance(weights, Mapping) else pd.Series(weights).astype(float)
    keys = set(w.index)
    if keys <= set(constructs):
        w = check_weights(w.reindex(constructs), "element weights")
        return pd.Series({i: w[c] / len(by_construct[c]) for c in constructs for i in by_construct[c]})
    if keys <= set(items):
        return check_weights(w.reindex(items), "item weights")
    unknown = sorted(keys - set(constructs) - set(items))
    raise ValueError(f"weights must be keyed by elements ({', '.join(constructs)}) or by their "
                     f"items; unknown keys: {first_labels(unknown)}")


def scheme_weights(scheme: str, means: pd.DataFrame, codebook: pd.DataFrame,
                   survey: pd.DataFrame | None = None, *, sem_missing: str = "fiml",
                   expert_panel=paths.EXPERT_AHP, model: str | None = None) -> pd.Series:
    """Item weights (summing to 1) of a named weighting scheme from :mod:`analysis.methods.weighting`.

    * ``equal``: each element 1/5, shared equally by its items;
    * ``ahp``: the expert panel's group priorities over the elements (AIJ after screening out
      experts with CR >= 0.10, :func:`analysis.methods.weighting.group_ahp`), shared equally by items;
    * ``entropy``, ``critic``: objective item weights from the community x item means
      (entropy: the min-max textbook variant);
    * ``sem``: standardised total effects of the elements on the outcome (chain model fitted
      to the respondents in ``survey`` by ML, with ``sem_missing`` treatment of missing
      answers, as in notebooks 03 and 05), split within each element in proportion to the
      standardised loadings;
    * ``combined``: multiplicative synthesis of the AHP (subjective) and entropy (objective)
      item weights, ``w = s o / sum(s o)``.

    Parameters
    ----------
    scheme : str
        One of :data:`WEIGHT_SCHEMES`.
    means : DataFrame
        Community x item means (:func:`community_means`) for the data-driven schemes.
    codebook : DataFrame
    survey : DataFrame, optional
        Respondent-level data; needed only by ``sem``.
    sem_missing : {"fiml", "listwise"}
        Missing-data treatment of the SEM fit (``sem`` only).
    model : str, optional
        The structural model of the ``sem`` scheme in lavaan syntax (a user's MODEL); the
        study's chain model of the codebook by default.
    expert_panel : path, or dict from :func:`analysis.io.companions.load_expert_panel`, or None
        AHP judgements (``ahp`` and ``combined`` only); the synthetic panel by default.
        ``None`` means there is none, and those two schemes raise.

    Returns
    -------
    pandas.Series
        Item -> weight over the elements' items, summing to 1.

    Raises
    ------
    ValueError
        Unknown scheme, or a scheme without the input it needs.

    References
    ----------
    Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill (``ahp``).
    Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). *Computers & OR*, 22(7), 763-770
    (``critic``).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> cb = load_codebook()
    >>> scheme_weights("equal", None, cb).round(3).head(2).to_dict()
    {'MS1': 0.05, 'MS2': 0.05}
    """
    check_choice(scheme, WEIGHT_SCHEMES, "weighting scheme")

    els = elements(codebook)
    by_construct = construct_items(codebook)
    if scheme == "equal":
        return item_weights({e: 1 / len(els) for e in els}, codebook)
    if scheme in ("ahp", "combined") and expert_panel is None:
        raise ValueError(f"weighting scheme {scheme!r} needs an expert panel (expert_ahp.csv); "
                         "none was given")
    if scheme == "ahp":
        panel = (load_expert_panel(expert_panel) if isinstance(expert_panel, (str, os.PathLike))
                 else expert_panel)
        return item_weights(W.group_ahp(panel).weights.reindex(els), codebook)
    items = [i for e in els for i in by_construct[e]]
    if scheme in ("entropy", "critic", "combined"):
        if means is None:
            raise ValueError(f"weighting scheme {scheme!r} needs the community x item means")
        X = means[items]
        if scheme == "critic":
            return item_weights(W.critic_weights(X).reindex(items), codebook)
        entropy = W.entropy_weights(X, variant="minmax").reindex(items)
        if scheme == "entropy":
            return item_weights(entropy, codebook)
        ahp = scheme_weights("ahp", means, codebook, expert_panel=expert_panel)
        return item_weights(indicators.combine_weights(ahp, entropy, rule="multiplicative").reindex(items), codebook)
    # sem
    if survey is None:
        raise ValueError("weighting scheme 'sem' needs the respondent-level survey to fit the model")
    from analysis.sem import fit_sem
    from analysis.study.models import chain_model

    est = fit_sem(chain_model(codebook) if model is None else model, survey,
                  missing=sem_missing).estimates
    between = indicators.path_weights(est, outcome(codebook), els)
    within = indicators.loading_weights(est).set_index("item")["weight"]
    return item_weights(pd.Series({i: between[e] * within[i] for e in els for i in by_construct[e]}),
                        codebook)


def weighting_schemes(survey: pd.DataFrame, codebook: pd.DataFrame,
                      schemes: Sequence[str] = WEIGHT_SCHEMES, *, k: int = 5,
                      group: str = "community_id", sem_missing: str = "fiml",
                      expert_panel=paths.EXPERT_AHP, model: str | None = None) -> dict[str, pd.Series]:
    """Item weights of several schemes at once (the SEM is fitted once), for the scored communities.

    With ``expert_panel=None`` (a survey that comes without AHP judgements) the ``ahp`` and
    ``combined`` schemes are left out, with a warning, and everything else is computed.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers.
    codebook : pandas.DataFrame
    schemes : sequence of str
        Names from :data:`WEIGHT_SCHEMES`.
    k, group
        As in :func:`community_means`.
    sem_missing, expert_panel, model
        As in :func:`scheme_weights`.

    Returns
    -------
    dict of str to pandas.Series
        ``{scheme: item weights}`` to pass to :func:`composite_index` (``weights=``) and
        :func:`uncertainty_analysis` (``weightings=``).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> ws = weighting_schemes(load_survey(codebook=cb), cb, schemes=("equal", "ahp", "entropy"))
    >>> {name: round(float(w.sum()), 6) for name, w in ws.items()}
    {'equal': 1.0, 'ahp': 1.0, 'entropy': 1.0}
    """
    means = community_means(survey, codebook, k=k, group=group)
    if expert_panel is None:
        dropped = [s for s in schemes if s in ("ahp", "combined")]
        if dropped:
            warnings.warn(f"no expert panel: weighting schemes {', '.join(dropped)} skipped",
                          stacklevel=2)
        schemes = [s for s in schemes if s not in dropped]
    elif isinstance(expert_panel, (str, os.PathLike)) and any(s in ("ahp", "combined") for s in schemes):
        expert_panel = load_expert_panel(expert_panel)  # read once for both schemes
    return {s: scheme_weights(s, means, codebook, survey, sem_missing=sem_missing,
                              expert_panel=expert_panel, model=model) for s in schemes}


def weights_table(schemes: Mapping[str, pd.Series], codebook: pd.DataFrame) -> pd.DataFrame:
    """Element weights (sums of their items' weights) of each scheme, one column per scheme.

    Parameters
    ----------
    schemes : mapping of str to pandas.Series
        Scheme name -> item weights (e.g. :func:`weighting_schemes`).
    codebook : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        ``element`` and one column per scheme.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> cb = load_codebook()
    >>> table = weights_table({"equal": scheme_weights("equal", None, cb)}, cb)
    >>> table.round(3).to_dict("records")[0]
    {'element': 'MS', 'equal': 0.2}
    """
    els = elements(codebook)
    by_construct = construct_items(codebook)
    t = pd.DataFrame({name: [float(w.reindex(by_construct[e]).sum()) for e in els]
                      for name, w in schemes.items()}, index=pd.Index(els, name="element"))
    return t.reset_index()


def resolve_weights(weights, means: pd.DataFrame, codebook: pd.DataFrame, survey=None) -> pd.Series:
    """Item weights from a scheme name or from explicit weights.

    Parameters
    ----------
    weights : str or mapping or Series
        A scheme of :func:`scheme_weights` ("equal", "entropy", "critic", ...) or weights
        accepted by :func:`item_weights`.
    means : DataFrame
        Community item means (for the objective schemes).
    codebook : DataFrame
    survey : DataFrame, optional
        Respondent-level answers, for schemes that need them (the SEM-based one).

    Returns
    -------
    Series
        One weight per item, summing to 1 within each construct.
    """
    if isinstance(weights, str):
        return scheme_weights(weights, means, codebook, survey)
    return item_weights(weights, codebook)


def composite_index(data: pd.DataFrame, codebook: pd.DataFrame, *, normalisation: str = "scale",
                    weights="equal", aggregation: str = "arithmetic", k: int = 5,
                    group: str = "community_id") -> pd.DataFrame:
    """Element scores, overall performance score and rank per community.

    Items are normalised across communities (:func:`normalise`), then each element score is the
    weighted (arithmetic or geometric) mean of its items, and the overall score the weighted
    mean of the element scores with the element weights (the sum of their items' weights);
    this equals aggregating all items at once with the item weights.

    Parameters
    ----------
    data : DataFrame
        Respondent-level survey (with column ``group``; communities with fewer than ``k``
        respondents are suppressed) or a community x item frame of means indexed by community.
    codebook : DataFrame
    normalisation : {"scale", "minmax", "zscore", "distance"}
        ``scale`` (default) gives absolute 0-100 scores; the others are relative to the
        communities scored.
    weights : str, mapping or Series
        A scheme from :data:`WEIGHT_SCHEMES`, or explicit non-negative weights summing to 1,
        keyed by element (MS, CS, ...) or by item.
    aggregation : {"arithmetic", "geometric"}
        Geometric aggregation is only partly compensatory; values are shifted to be positive
        first (see :func:`analysis.methods.mcda.aggregate`).
    k : int
        Disclosure threshold (respondent-level data only).
    group : str
        Community id column.

    Returns
    -------
    DataFrame
        ``community_id`` (``group``), ``n_respondents`` (if known), one column per element,
        ``score`` and ``rank`` (1 = best; ties share the average rank), sorted by rank.

    Raises
    ------
    ValueError
        Unknown method names, negative weights or weights not summing to 1, a community with no
        answers on a construct.

    References
    ----------
    Nardo et al. (2008), OECD/JRC Handbook on Constructing Composite Indicators, sections 5-6.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> scores = composite_index(load_survey(codebook=cb), cb, weights="equal")
    >>> list(scores.columns[:3])
    ['community_id', 'n_respondents', 'MS']
    """
    check_choice(normalisation, NORMALISATIONS, "normalisation")
    check_choice(aggregation, AGGREGATIONS, "aggregation")
    means = means_of(data, codebook, k, group)
    w = resolve_weights(weights, means, codebook, data if group in data.columns else None)
    Z = normalise(means[w.index], normalisation, codebook=codebook)
    out = pd.DataFrame(index=means.index)
    if group in data.columns:
        sizes = group_sizes(data, group, k).set_index(group)["n_respondents"]
        out["n_respondents"] = sizes.loc[means.index].to_numpy()
    Zv, wv = Z.to_numpy(), w.to_numpy()
    if aggregation == "geometric":
        # one shift for the whole index so element and overall scores stay on one scale
        lo = Zv[:, wv > 0].min()
        Zv = Zv + (1.0 - lo if lo <= 0 else 0.0)
    by_construct = construct_items(codebook)
    for e in elements(codebook):
        cols = w.index.isin(by_construct[e])
        we = wv * cols
        out[e] = aggregate(Zv, we / we.sum(), aggregation) if we.sum() > 0 else np.nan
    out["score"] = aggregate(Zv, wv, aggregation)
    out["rank"] = stats.rankdata(-out["score"].to_numpy(), method="average")
    out.index.name = group
    return out.reset_index().sort_values(["rank", group], kind="stable").reset_index(drop=True)


def means_of(data: pd.DataFrame, codebook: pd.DataFrame, k: int, group: str) -> pd.DataFrame:
    """Community item means of respondent data, or ``data`` itself when it already holds them.

    Parameters
    ----------
    data : DataFrame
        Respondent-level answers with a ``group`` column, or community means (one row per
        community, no missing values).
    codebook : DataFrame
    k : int
        Disclosure threshold of :func:`community_means`.
    group : str

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        Community means with missing values (naming the communities).
    """
    if group in data.columns:
        return community_means(data, codebook, k=k, group=group)
    means = data.copy()
    if means.isna().any().any():
        bad = means.index[means.isna().any(axis=1)]
        raise ValueError(f"community means have missing values for {first_labels(bad)}")
    return means


# --- fuzzy comprehensive evaluation ------------------------------------------------------------


def fuzzy_evaluation(survey: pd.DataFrame, codebook: pd.DataFrame, weights="equal", *, k: int = 5,
                     group: str = "community_id", grades: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fuzzy comprehensive evaluation of each community (two-level, weighted-average operator).

    The membership of an item in each grade is the share of the community's residents whose
    answer falls in that grade (``grades.answers``). Item memberships are combined with the
    item weights ``a`` by the weighted-average operator M(·, +), ``B = a · R`` (first within each
    element with the within-element weights, then across elements with the element weights,
    which is the same as one step with the item weights). The fuzzy score is ``B · v`` with the
    grade values ``v``. Two grades are reported: ``grade`` by the weighted-average principle
    (the band of the fuzzy score, bands split midway between grade values) and
    ``grade_max_membership`` (the grade with the largest membership).

    ``grades=None`` (the default) takes each item's grades from its own scale in the codebook
    (:func:`scale_grades`), so any scale from 3 to 11 points, and scales that differ between
    constructs, are graded alike; the fuzzy score then uses each item's grade values,
    ``sum_i a_i sum_g R_ig v_ig`` (equal to ``B . v`` when all items share a scale). A
    ``grades`` table given explicitly applies to every item.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (items recoded).
    codebook : pandas.DataFrame
    weights : str, mapping or pandas.Series
        A scheme from :data:`WEIGHT_SCHEMES` or explicit weights, as in :func:`composite_index`.
    k, group
        As in :func:`community_means`.
    grades : pandas.DataFrame, optional
        ``grade``, ``answers`` (the answers counting towards it) and ``value`` (0-100), best
        grade first, applied to every item; by default each item's grades from its own scale
        (:func:`scale_grades`).

    Returns
    -------
    DataFrame
        ``community_id``, one membership column per grade (rows sum to 1), ``fuzzy_score``
        (0-100), ``grade``, ``grade_max_membership``, plus ``<element>_fuzzy`` scores.

    Raises
    ------
    ValueError
        Answers that fall in no grade (naming the column and rows).

    References
    ----------
    Zadeh, L. A. (1965). Fuzzy sets. *Information and Control*, 8, 338-353.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> fz = fuzzy_evaluation(load_survey(codebook=cb), cb)
    >>> bool(np.allclose(fz[["excellent", "good", "fair", "poor"]].sum(axis=1), 1))
    True
    """
    means = community_means(survey, codebook, k=k, group=group)  # validates and suppresses
    w = resolve_weights(weights, means, codebook, survey)
    keep = survey[group].isin(means.index)
    scale = codebook.set_index("item")
    per_item = {i: (grades if grades is not None else
                    scale_grades(scale.loc[i, "scale_min"], scale.loc[i, "scale_max"]))
                for i in w.index}
    names = list((grades if grades is not None else GRADE_BANDS)["grade"])
    vals = survey.loc[survey[group].isin(means.index), list(w.index)]
    for col in w.index:
        covered = {float(a) for codes in per_item[col]["answers"] for a in codes}
        stray = vals[col].notna() & ~vals[col].isin(covered)
        if stray.any():
            raise ValueError(f"fuzzy evaluation: answers in column {col} (rows "
                             f"{first_labels(stray.index[stray])}) fall in no grade of {names}")
    # R[c, i, g]: share of answers to item i in community c that fall in grade g
    R = np.zeros((len(means), len(w), len(names)))
    V = np.array([per_item[i]["value"].to_numpy(float) for i in w.index])  # V[i, g]
    answers = survey.loc[keep, list(w.index)]
    g = survey.loc[keep, group]
    n = answers.notna().groupby(g).sum().reindex(means.index).to_numpy()
    for ii, item in enumerate(w.index):
        for j, codes in enumerate(per_item[item]["answers"]):
            hit = answers[item].isin(codes).groupby(g).sum().reindex(means.index).to_numpy()
            R[:, ii, j] = hit / n[:, ii]
    B = np.einsum("i,cig->cg", w.to_numpy(), R)
    out = pd.DataFrame(B, columns=names, index=means.index)
    out["fuzzy_score"] = np.einsum("i,cig,ig->c", w.to_numpy(), R, V)
    values = np.einsum("i,ig->g", w.to_numpy() / w.sum(), V)  # weighted mean grade values
    cuts = (values[:-1] + values[1:]) / 2  # descending grade values -> descending cut points
    out["grade"] = [names[int(np.sum(s < cuts))] for s in out["fuzzy_score"]]
    out["grade_max_membership"] = [names[int(np.argmax(b))] for b in B]
    by_construct = construct_items(codebook)
    for e in elements(codebook):
        cols = w.index.isin(by_construct[e])
        we = w[cols] / w[cols].sum()
        out[f"{e}_fuzzy"] = np.einsum("i,cig,ig->c", we.to_numpy(), R[:, cols], V[cols])
    out.index.name = group
    return out.reset_index()


# --- uncertainty and sensitivity -----------------------------------------------------------------


def aggregation_statistics(survey: pd.DataFrame, codebook: pd.DataFrame, *, k: int = 5,
                           group: str = "community_id") -> pd.DataFrame:
    """ICC(1), ICC(2) and rwg(j) per construct, each with its own scale's number of options.

    :func:`analysis.methods.agreement.aggregation_table` takes one number of answer options
    for the rwg(j) null (uniform) distribution; a codebook whose constructs use different
    scales needs each construct's own, ``scale_max - scale_min + 1``.

    Parameters
    ----------
    survey : DataFrame
    codebook : DataFrame
    k : int
        Disclosure threshold (communities with fewer respondents leave the rwg(j) summary).
    group : str

    Returns
    -------
    DataFrame
        As :func:`~analysis.methods.agreement.aggregation_table`, plus ``n_options``.

    References
    ----------
    James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. *Journal of Applied Psychology* 69, 85-98.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> aggregation_statistics(load_survey(codebook=cb), cb)["n_options"].unique().tolist()
    [5]
    """
    from analysis.methods.agreement import aggregation_table

    rows = []
    for c, its in construct_items(codebook).items():
        sub = codebook[codebook["construct"] == c]
        n_options = int(sub["scale_max"].max() - sub["scale_min"].min() + 1)
        t = aggregation_table(survey, {c: its}, group=group, n_options=n_options, k=k)
        rows.append(t.assign(n_options=n_options))
    return pd.concat(rows, ignore_index=True)
