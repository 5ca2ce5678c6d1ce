"""Composite index, TOPSIS, fuzzy grades, disclosure control and the Monte Carlo of the ranks.

Oracles: the TOPSIS worked example in /work/shared/reference/methods.md (Hwang & Yoon
vector-normalisation variant; published to 4 decimals, so 5e-5), closed forms that the methods
reduce to in small cases (exact up to floating point, 1e-10), hand-built surveys whose fuzzy
memberships are known by construction, and, for the vectorised Monte Carlo, the slow
one-configuration-at-a-time path through :func:`composite_index`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.io.codebook import construct_items, elements
from analysis.methods.mcda import normalise, topsis
from analysis.study.rank_uncertainty import discrete_levels, uncertainty_analysis
from analysis.study.scoring import (
    GRADES,
    community_means,
    composite_index,
    fuzzy_evaluation,
    item_weights,
    scheme_weights,
    suppressed_communities,
    weighting_schemes,
)

EXACT = 1e-10


@pytest.fixture(scope="module")
def items(cb):
    return [i for e in elements(cb) for i in construct_items(cb)[e]]


def _toy_survey(cb, answers_by_community: dict) -> pd.DataFrame:
    """One row per respondent; ``answers_by_community[c]`` maps item -> list of answers."""
    rows = []
    for cid, spec in answers_by_community.items():
        n = len(next(iter(spec.values())))
        for r in range(n):
            rows.append({"community_id": cid, **{i: spec[i][r] for i in spec}})
    return pd.DataFrame(rows)


# --- TOPSIS ----------------------------------------------------------------------------------


def test_topsis_published_example():
    X = [[5, 8, 4], [7, 6, 8], [8, 8, 6], [7, 4, 6]]
    got = topsis(X, [0.3, 0.4, 0.3])
    np.testing.assert_allclose(got, [0.5037, 0.6581, 0.7482, 0.3340], atol=5e-5)


def test_topsis_single_criterion_reduces_to_range_position():
    # One criterion: C = (x - min) / (max - min) for a benefit, (max - x) / (max - min) for a cost.
    x = np.array([[3.0], [7.0], [4.0], [9.0]])
    np.testing.assert_allclose(topsis(x, [1.0]), (x[:, 0] - 3) / 6, atol=EXACT)
    np.testing.assert_allclose(topsis(x, [1.0], benefit=[False]), (9 - x[:, 0]) / 6, atol=EXACT)


def test_topsis_is_scale_invariant_and_aligns_series_weights():
    X = pd.DataFrame([[5, 8, 4], [7, 6, 8], [8, 8, 6], [7, 4, 6]], columns=list("abc"), dtype=float)
    w = pd.Series({"c": 0.3, "a": 0.3, "b": 0.4})
    base = topsis(X, [0.3, 0.4, 0.3], benefit=[True, False, True])
    scaled = X.assign(b=X["b"] * 1000)
    np.testing.assert_allclose(topsis(scaled, w, benefit=[True, False, True]), base, atol=EXACT)


def test_topsis_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        topsis([[1, 2], [2, 1]], [0.5, 0.6])
    with pytest.raises(ValueError, match="negative for"):
        topsis([[1, 2], [2, 1]], [1.5, -0.5])
    with pytest.raises(ValueError, match="2 weights for 3 criteria"):
        topsis([[1, 2, 3], [2, 1, 3]], [0.5, 0.5])
    with pytest.raises(ValueError, match="all zero"):
        topsis([[0, 2], [0, 1]], [0.5, 0.5])


# --- normalisation and weights ----------------------------------------------------------------


def test_normalisations_closed_forms(cb):
    X = pd.DataFrame({"MS1": [2.0, 3.0, 5.0], "MS2": [1.0, 4.0, 4.0]})
    np.testing.assert_allclose(normalise(X, "scale", codebook=cb)["MS1"], [25, 50, 100], atol=EXACT)
    np.testing.assert_allclose(normalise(X, "minmax")["MS2"], [0, 100, 100], atol=EXACT)
    np.testing.assert_allclose(normalise(X, "distance")["MS1"], [40, 60, 100], atol=EXACT)
    z = normalise(X, "zscore")["MS1"]
    np.testing.assert_allclose(z, (X["MS1"] - X["MS1"].mean()) / X["MS1"].std(ddof=0), atol=EXACT)
    with pytest.raises(ValueError, match="constant across units.*MS3"):
        normalise(X.assign(MS3=2.0), "minmax")
    with pytest.raises(ValueError, match="unknown normalisation 'rank'"):
        normalise(X, "rank")


def test_item_weights_from_elements_and_items(cb, items):
    el = {"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}
    w = item_weights(el, cb)
    assert list(w.index) == items
    assert w["MS1"] == pytest.approx(0.1) and w["CC4"] == pytest.approx(0.0375)
    assert item_weights(w, cb).equals(w)


@pytest.mark.parametrize("weights, message", [
    ({"MS": 0.3, "CS": 0.2, "OM": 0.2, "RA": 0.2, "CC": 0.2}, "must sum to 1, they sum to 1.1"),
    ({"MS": 0.6, "CS": 0.2, "OM": 0.2, "RA": 0.2, "CC": -0.2}, "negative for CC \\(-0.2\\)"),
    ({"MS": 0.5, "CS": 0.5}, "element weights missing for OM, RA, CC"),
    ({"MS": 0.5, "XX": 0.5}, "unknown keys: XX"),
])
def test_bad_weights_are_refused(cb, survey, weights, message):
    with pytest.raises(ValueError, match=message):
        composite_index(survey, cb, weights=weights)


def test_unknown_method_names_are_refused(cb, survey):
    with pytest.raises(ValueError, match="unknown normalisation 'min_max'.*scale, minmax"):
        composite_index(survey, cb, normalisation="min_max")
    with pytest.raises(ValueError, match="unknown aggregation 'harmonic'"):
        composite_index(survey, cb, aggregation="harmonic")
    with pytest.raises(ValueError, match="unknown weighting scheme 'pca'"):
        composite_index(survey, cb, weights="pca")


def test_weighting_schemes_are_proper_and_distinct(cb, survey, items):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise-deletion notice from the SEM fit
        ws = weighting_schemes(survey, cb, sem_missing="listwise")  # FIML is slower, same code path
    assert set(ws) == {"equal", "ahp", "entropy", "critic", "sem", "combined"}
    for name, w in ws.items():
        assert list(w.index) == items, name
        assert w.sum() == pytest.approx(1, abs=1e-12) and (w >= 0).all(), name
    # AHP is element level: equal within an element; entropy is item level: not
    assert ws["ahp"][["RA1", "RA2", "RA3", "RA4"]].nunique() == 1
    assert ws["entropy"][["RA1", "RA2", "RA3", "RA4"]].nunique() == 4
    # combined = multiplicative synthesis of AHP and entropy
    prod = ws["ahp"] * ws["entropy"]
    np.testing.assert_allclose(ws["combined"], prod / prod.sum(), atol=EXACT)


# --- composite index ---------------------------------------------------------------------------


def test_composite_scale_arithmetic_equals_direct_computation(cb, survey, items):
    out = composite_index(survey, cb, weights="equal").set_index("community_id")
    kept = survey.groupby("community_id").filter(lambda g: len(g) >= 5)
    means = kept.groupby("community_id")[items].mean()
    for e in elements(cb):
        expected = 25 * (means[construct_items(cb)[e]].mean(axis=1) - 1)
        np.testing.assert_allclose(out.loc[expected.index, e], expected, atol=EXACT)
    np.testing.assert_allclose(out.loc[means.index, "score"], 25 * (means.mean(axis=1) - 1), atol=EXACT)
    # rank 1 is the highest score, ranks are 1..n, table sorted by rank
    assert out["rank"].tolist() == sorted(out["rank"]) and out["rank"].iloc[0] == 1
    assert out["score"].iloc[0] == out["score"].max()
    assert out["n_respondents"].sum() == len(kept)


def test_composite_geometric_equals_weighted_geometric_mean(cb, survey, items):
    w = {"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}
    out = composite_index(survey, cb, weights=w, aggregation="geometric").set_index("community_id")
    Z = 25 * (community_means(survey, cb)[items] - 1)  # all > 0 here, so no shift
    assert Z.min().min() > 0
    wi = item_weights(w, cb)
    expected = np.exp(np.log(Z) @ wi)
    np.testing.assert_allclose(out.loc[Z.index, "score"], expected, rtol=1e-12)
    # the overall geometric score is the geometric mean of the element scores
    el = out.loc[Z.index, list(w)]
    np.testing.assert_allclose(np.exp(np.log(el) @ pd.Series(w)), expected, rtol=1e-12)


def test_geometric_shifts_nonpositive_values_by_one_constant(cb, survey, items):
    # z-scores are negative for below-average communities: all values move up by 1 - min(Z)
    out = composite_index(survey, cb, weights="equal", normalisation="zscore",
                          aggregation="geometric").set_index("community_id")
    Z = normalise(community_means(survey, cb)[items], "zscore")
    Zs = Z + 1 - Z.min().min()
    np.testing.assert_allclose(out.loc[Z.index, "score"], np.exp(np.log(Zs).mean(axis=1)), rtol=1e-12)
    ms = construct_items(cb)["MS"]
    np.testing.assert_allclose(out.loc[Z.index, "MS"], np.exp(np.log(Zs[ms]).mean(axis=1)), rtol=1e-12)


def test_item_and_element_weights_give_the_same_index(cb, survey):
    w = {"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}
    a = composite_index(survey, cb, weights=w, normalisation="zscore")
    b = composite_index(survey, cb, weights=item_weights(w, cb), normalisation="zscore")
    pd.testing.assert_frame_equal(a, b)


def test_all_missing_construct_in_a_community_is_refused(cb, survey):
    bad = survey.copy()
    bad.loc[bad["community_id"] == "C07", ["RA1", "RA2", "RA3", "RA4"]] = np.nan
    with pytest.raises(ValueError, match="construct RA: community C07 has no answer"):
        composite_index(bad, cb)
    bad = survey.copy()
    bad.loc[bad["community_id"] == "C11", "OM2"] = np.nan
    with pytest.raises(ValueError, match="C11/OM2"):
        composite_index(bad, cb)
    # ... but an empty construct in a suppressed community does not matter: it is not scored
    ok = survey.copy()
    ok.loc[ok["community_id"] == "C48", ["RA1", "RA2", "RA3", "RA4"]] = np.nan
    assert "C48" not in set(composite_index(ok, cb)["community_id"])


# --- disclosure control ------------------------------------------------------------------------


def test_small_communities_are_suppressed_everywhere(cb, survey):
    n = survey["community_id"].value_counts()
    sup = suppressed_communities(survey, k=5)
    assert set(sup["community_id"]) == set(n[n < 5].index) and len(sup) >= 1  # C48 has 4
    outputs = [composite_index(survey, cb)["community_id"],
               fuzzy_evaluation(survey, cb)["community_id"],
               uncertainty_analysis(survey, cb, n_runs=16, progress=False).summary["community_id"]]
    for ids in outputs:
        assert set(ids) == set(n[n >= 5].index)
    # a higher k suppresses more, and exactly those below it
    k = int(n.quantile(0.25)) + 1
    assert set(composite_index(survey, cb, k=k)["community_id"]) == set(n[n >= k].index)
    assert set(suppressed_communities(survey, k=k)["community_id"]) == set(n[n < k].index)


# --- fuzzy comprehensive evaluation ------------------------------------------------------------


def test_fuzzy_memberships_and_grades_by_construction(cb, items):
    five = [5, 5, 5, 5, 5]
    spread = [1, 2, 3, 4, 5]
    ms_items = construct_items(cb)["MS"]
    toy = _toy_survey(cb, {
        "A": {i: five for i in items},                                  # all excellent
        "B": {i: spread for i in items},                                # .2 .2 .2 .4
        "C": {i: (five if i in ms_items else [3] * 5) for i in items},  # MS top, rest fair
    })
    w = {"MS": 0.6, "CS": 0.1, "OM": 0.1, "RA": 0.1, "CC": 0.1}
    fz = fuzzy_evaluation(toy, cb, weights=w).set_index("community_id")
    grades = list(GRADES["grade"])
    np.testing.assert_allclose(fz.loc["A", grades], [1, 0, 0, 0], atol=EXACT)
    np.testing.assert_allclose(fz.loc["B", grades], [0.2, 0.2, 0.2, 0.4], atol=EXACT)
    np.testing.assert_allclose(fz.loc["C", grades], [0.6, 0, 0.4, 0], atol=EXACT)  # B = a . R
    np.testing.assert_allclose(fz["fuzzy_score"], [100, 50, 80], atol=EXACT)
    assert fz["grade"].tolist() == ["excellent", "fair", "good"]
    assert fz["grade_max_membership"].tolist() == ["excellent", "poor", "excellent"]
    assert fz.loc["C", "MS_fuzzy"] == pytest.approx(100) and fz.loc["C", "RA_fuzzy"] == pytest.approx(50)


def test_fuzzy_refuses_answers_outside_the_grades(cb, items):
    toy = _toy_survey(cb, {"A": {i: [5.0, 4.0, 3.0, 2.0, 1.0] for i in items}})
    toy.loc[2, "CS3"] = 2.5
    with pytest.raises(ValueError, match="column CS3 \\(rows 2\\)"):
        fuzzy_evaluation(toy, cb)


def test_fuzzy_on_survey_is_a_distribution(cb, survey):
    fz = fuzzy_evaluation(survey, cb)
    np.testing.assert_allclose(fz[list(GRADES["grade"])].sum(axis=1), 1, atol=EXACT)
    assert fz["fuzzy_score"].between(0, 100).all()


# --- Monte Carlo uncertainty and Sobol sensitivity ---------------------------------------------


def test_levels_are_equally_likely():
    u = (np.arange(1000) + 0.5) / 1000
    assert np.bincount(discrete_levels(u, 4)).tolist() == [250] * 4
    assert discrete_levels(np.array([0.0, 0.999999, 1.0]), 3).tolist() == [0, 2, 2]


@pytest.fixture(scope="module")
def mc(cb, survey):
    schemes = {"equal": "equal",
               "ms_heavy": {"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}}
    return uncertainty_analysis(survey, cb, weightings=schemes, n_runs=200, seed=7, progress=False)


def test_monte_carlo_runs_match_the_slow_path(cb, survey, mc, items):
    """Rebuild several runs' choices as explicit weights and score them with composite_index."""
    means = community_means(survey, cb)
    base = {"equal": scheme_weights("equal", means, cb),
            "ms_heavy": item_weights({"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}, cb)}
    by_el = construct_items(cb)
    for r in [0, 1, 17, 100, len(mc.design) - 1]:
        d = mc.design.iloc[r]
        w = base[d["weighting"]].copy()
        if d["left_out"] != "none":
            w[d["left_out"]] = 0.0
        for e in elements(cb):  # keep the element's weight, times its multiplier
            cols = by_el[e]
            w[cols] = w[cols] / w[cols].sum() * base[d["weighting"]][cols].sum() * d[f"mult_{e}"]
        w = w / w.sum()
        slow = composite_index(means, cb, normalisation=d["normalisation"], weights=w,
                               aggregation=d["aggregation"]).set_index("community_id")["rank"]
        np.testing.assert_allclose(mc.ranks.iloc[r][slow.index].to_numpy(), slow.to_numpy(), atol=EXACT)


def test_monte_carlo_design_and_summary(cb, survey, mc):
    assert len(mc.design) >= 200 and len(mc.design) == len(mc.ranks)
    # every level of every categorical choice is visited
    assert set(mc.design["normalisation"]) == {"scale", "minmax", "zscore", "distance"}
    assert set(mc.design["aggregation"]) == {"arithmetic", "geometric"}
    assert set(mc.design["weighting"]) == {"equal", "ms_heavy"}
    assert mc.design["left_out"].nunique() > 15
    mult = mc.design.filter(like="mult_")
    assert mult.min().min() >= 0.75 and mult.max().max() <= 1.25
    # nominal ranks are those of the nominal index; bands bracket the median
    full = composite_index(survey, cb, weights="equal")
    nom = full.set_index("community_id")["rank"]
    # the nominal table is the nominal index itself, respondent counts included
    pd.testing.assert_frame_equal(mc.nominal, full, rtol=1e-12)
    s = mc.summary.set_index("community_id")
    np.testing.assert_allclose(s["nominal_rank"], nom[s.index], atol=EXACT)
    assert ((s["rank_p05"] <= s["median_rank"]) & (s["median_rank"] <= s["rank_p95"])).all()
    shift = (mc.ranks[s.index] - s["nominal_rank"]).abs()
    np.testing.assert_allclose(s["mean_abs_shift"], shift.mean(), atol=EXACT)
    np.testing.assert_allclose(mc.design["rank_shift"], shift.mean(axis=1), atol=EXACT)
    assert set(mc.sobol["factor"]) == {"normalisation", "weighting", "aggregation",
                                       "left-out indicator", "weight perturbation"}


def test_monte_carlo_is_reproducible_per_seed(cb, survey, mc):
    schemes = {"equal": "equal",
               "ms_heavy": {"MS": 0.4, "CS": 0.15, "OM": 0.15, "RA": 0.15, "CC": 0.15}}
    again = uncertainty_analysis(survey, cb, weightings=schemes, n_runs=200, seed=7, progress=False)
    pd.testing.assert_frame_equal(again.design, mc.design)
    pd.testing.assert_frame_equal(again.sobol, mc.sobol)
    other = uncertainty_analysis(survey, cb, weightings=schemes, n_runs=200, seed=8, progress=False)
    assert not other.design.equals(mc.design)


def test_sobol_attributes_variance_to_the_only_varying_choice(cb, survey):
    res = uncertainty_analysis(survey, cb, normalisations=("scale", "zscore"),
                               aggregations=("arithmetic",), perturbation=0.0,
                               leave_one_out=False, n_runs=512, seed=1, progress=False)
    sob = res.sobol.set_index("factor")
    assert sob.loc["weighting", "ST"] == 0 and sob.loc["aggregation", "ST"] == 0
    # with a single effective factor S1 = ST = 1 exactly in expectation
    assert sob.loc["normalisation", "S1"] == pytest.approx(1, abs=0.1)
    assert sob.loc["normalisation", "ST"] == pytest.approx(1, abs=0.1)
    # runs under the nominal choice reproduce the nominal ranking exactly
    nominal_runs = res.design["normalisation"] == "scale"
    assert (res.design.loc[nominal_runs, "rank_shift"] == 0).all()


def test_no_uncertainty_gives_collapsed_bands(cb, survey):
    res = uncertainty_analysis(survey, cb, normalisations=("scale",), aggregations=("arithmetic",),
                               perturbation=0.0, leave_one_out=False, n_runs=8, progress=False)
    s = res.summary
    assert (s["rank_p05"] == s["nominal_rank"]).all() and (s["rank_p95"] == s["nominal_rank"]).all()
    assert res.sobol["ST"].isna().all()  # undefined, not reported as zero


def test_monte_carlo_bad_input(cb, survey):
    with pytest.raises(ValueError, match="unknown normalisation 'rank'"):
        uncertainty_analysis(survey, cb, normalisations=("scale", "rank"), progress=False)
    with pytest.raises(ValueError, match="perturbation must be in"):
        uncertainty_analysis(survey, cb, perturbation=1.5, progress=False)
    with pytest.raises(ValueError, match="must sum to 1"):
        uncertainty_analysis(survey, cb, weightings={"bad": {"MS": 1, "CS": 1, "OM": 0, "RA": 0, "CC": 0}},
                             progress=False)


def test_a_survey_without_an_expert_panel_skips_the_ahp_schemes():
    from analysis.io.codebook import load_codebook
    from analysis.io.survey import load_survey
    from analysis.study.scoring import scheme_weights, weighting_schemes

    cb, survey = load_codebook(), load_survey()
    with pytest.warns(UserWarning, match="no expert panel: weighting schemes ahp, combined skipped"):
        got = weighting_schemes(survey, cb, schemes=("equal", "ahp", "entropy", "combined"),
                                expert_panel=None)
    assert list(got) == ["equal", "entropy"]
    with pytest.raises(ValueError, match="'ahp' needs an expert panel"):
        scheme_weights("ahp", None, cb, expert_panel=None)
