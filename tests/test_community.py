"""Community scores with their sampling error, and the advice layer of notebook 05.

Checked against closed forms (not against R: these are plain means, a normal-normal
empirical-Bayes formula and linear structural algebra), on small hand-made cases and on the
shipped survey.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.io.codebook import elements, load_codebook
from analysis.io.survey import load_survey
from analysis.study import community, importance, ipma, scoring, whatif
from analysis.study.findings import community_paths, findings_table


@pytest.fixture(scope="module")
def shipped():
    cb = load_codebook()
    return cb, load_survey(codebook=cb)


def test_score_draws_reproduce_the_index_and_the_fuzzy_score(shipped):
    """A replicate with the observed data (the point) equals composite_index and
    fuzzy_evaluation to rounding (1e-9): the bootstrap scores the same thing."""
    cb, sv = shipped
    w = scoring.item_weights({e: 0.2 for e in elements(cb)}, cb)
    d = community.score_draws(sv, cb, w, n_boot=20, seed=1)
    nom = scoring.composite_index(sv, cb, weights=w).set_index("community_id")
    cols = elements(cb) + ["score"]
    assert np.allclose(d.point[cols].to_numpy(), nom.loc[d.communities, cols].to_numpy(), atol=1e-9)
    f = community.score_draws(sv, cb, w, n_boot=20, seed=1, kind="fuzzy")
    fz = scoring.fuzzy_evaluation(sv, cb, weights=w).set_index("community_id")
    assert np.allclose(f.point["score"], fz.loc[f.communities, "fuzzy_score"], atol=1e-9)
    # same seed, same draws; another seed, other draws
    again = community.score_draws(sv, cb, w, n_boot=20, seed=1)
    assert np.array_equal(d.draws, again.draws)
    assert not np.array_equal(d.draws, community.score_draws(sv, cb, w, n_boot=20, seed=2).draws)


def test_bootstrap_se_of_a_mean_matches_the_closed_form():
    """The bootstrap SE of a mean of n values is sd * sqrt((n-1)/n) / sqrt(n) in expectation;
    with 4000 replicates the SD of the SE estimate is about 1/sqrt(2*4000) = 1.1 % of it, so
    5 % is a 4-sigma tolerance."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"v": rng.normal(50, 10, 60)})
    g = pd.Series(np.repeat(["a", "b", "c"], [10, 20, 30]))
    point, draws = community.resample_means(x, g, n_boot=4000, seed=7)
    for k, grp in enumerate(["a", "b", "c"]):
        v = x["v"][g == grp]
        n = len(v)
        assert point[k, 0] == pytest.approx(v.mean())
        expected = v.std(ddof=0) / np.sqrt(n)
        assert draws[:, k, 0].std(ddof=1) == pytest.approx(expected, rel=0.05)


def test_shrink_closed_form_and_small_communities_move_most():
    y = pd.DataFrame({"s": [40.0, 50.0, 60.0, 70.0, 55.0]}, index=list("abcde"))
    se = pd.DataFrame({"s": [2.0, 2.0, 2.0, 2.0, 8.0]}, index=list("abcde"))
    out = community.shrink(y, se).set_index("community_id")
    s2 = se["s"] ** 2
    tau2 = y["s"].var(ddof=1) - s2.mean()
    mu = (y["s"] / (tau2 + s2)).sum() / (1 / (tau2 + s2)).sum()
    b = tau2 / (tau2 + s2)
    assert np.allclose(out["shrunk"], mu + b * (y["s"] - mu), atol=1e-12)
    assert np.allclose(out["se"], np.sqrt(b) * se["s"], atol=1e-12)
    assert out["shrinkage"].idxmax() == "e"
    # no between-community variance beyond noise: everyone gets the mean
    flat = community.shrink(pd.DataFrame({"s": [50.0, 51.0, 49.0]}),
                            pd.DataFrame({"s": [5.0, 5.0, 5.0]}))
    assert np.allclose(flat["shrunk"], 50.0) and np.allclose(flat["shrinkage"], 1.0)
    with pytest.raises(ValueError, match="positive"):
        community.shrink(y, se * 0)


def test_rank_intervals_and_method_uncertainty():
    rng = np.random.default_rng(0)
    d = np.array([90.0, 60.0, 59.0, 10.0]) + rng.normal(0, 1, (1000, 4))
    ids = ["a", "b", "c", "d"]
    r = community.rank_intervals(d, ids).set_index("community_id")
    assert (r.loc["a", ["rank_lower", "rank_upper"]] == [1, 1]).all()
    assert (r.loc["b", ["rank_lower", "rank_upper"]] == [2, 3]).all()
    assert r.loc["a", "p_top"] == 1.0 and r.loc["d", "p_bottom"] == 1.0
    # method runs that swap a and d half of the time widen both intervals to the full range
    runs = pd.DataFrame([[1, 2, 3, 4], [4, 2, 3, 1]] * 50, columns=ids)
    r2 = community.rank_intervals(d, ids, method_ranks=runs).set_index("community_id")
    assert (r2.loc["a", ["rank_lower", "rank_upper"]] == [1, 4]).all()
    assert r2["rank_upper"].max() <= 4 and r2["rank_lower"].min() >= 1


def test_grade_probabilities_sum_to_one():
    d = np.array([[90.0, 70.0], [80.0, 61.0], [95.0, 40.0], [70.0, 20.0]])
    p = community.grade_probabilities(d, ["a", "b"]).set_index("community_id")
    cols = [f"p_{g}" for g in scoring.GRADES["grade"]]
    assert np.allclose(p[cols].sum(axis=1), 1.0)
    assert p.loc["a", "p_excellent"] == 0.5 and p.loc["b", "p_poor"] == 0.25


# --- the advice layer -------------------------------------------------------------------------

CHAIN = pd.DataFrame({
    "lhs": ["A", "B", "C", "B", "C", "C"], "op": ["=~"] * 3 + ["~"] * 3,
    "rhs": ["a1", "b1", "c1", "A", "A", "B"], "est": [1, 1, 1, 0.6, 0.3, 0.5]})


def test_level_scenarios_raise_each_element_by_exactly_the_label():
    """'each element +10' sets every element 10 higher, so the outcome gains the sum of the
    direct effects (here (0.3 + 0.5) * 10 = 8); shifting every equation by 10 instead adds up
    along the chain (B rises by 10 + 0.6*10 = 16, C by 10 + 3 + 8 = 21)."""
    t = whatif.whatif_levels(CHAIN, whatif.level_scenarios(["A", "B"], 10), target="C")
    t = t.set_index("scenario")
    assert t.loc["each element +10", ["d_A", "d_B"]].tolist() == [10.0, 10.0]
    assert t.loc["each element +10", "delta"] == pytest.approx(8.0)
    # A alone: B follows (+6), C gains the total effect .3 + .6 * .5 = .6 per point
    assert t.loc["A +10", "d_B"] == pytest.approx(6.0) and t.loc["A +10", "delta"] == pytest.approx(6.0)
    shifted = whatif.scenario_effects(CHAIN, {"A": 10, "B": 10}, target="C")
    assert shifted["B"] == pytest.approx(16.0) and shifted["C"] == pytest.approx(11.0)
    held = whatif.intervention_effects(CHAIN, {"A": 10}, target="C", propagate=False)
    assert held["B"] == 0 and held["C"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="target"):
        whatif.intervention_effects(CHAIN, {"C": 1}, target="C")


def test_level_scenario_on_the_shipped_chain(shipped):
    """On the shipped chain: 'each element +10' moves every element by 10 and PV by ten times
    the sum of the direct effects on PV (1e-9)."""
    from analysis.sem import fit_sem
    from analysis.study.models import chain_model

    cb, sv = shipped
    els = elements(cb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_sem(chain_model(cb), sv)
    t = whatif.whatif_levels(fit, {"each": {e: 10 for e in els}})
    b = importance.structural_matrix(fit)
    assert t.loc[0, [f"d_{e}" for e in els]].tolist() == [10.0] * 5
    assert t.loc[0, "delta"] == pytest.approx(10 * b.loc["PV", els].sum(), abs=1e-9)


def test_cluster_variance_of_a_mean_matches_the_textbook_formula():
    """CR1 variance of a mean: G/(G-1) * sum_g (sum_{i in g} (x_i - xbar))^2 / N^2."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 90).astype(float)
    g = np.repeat(np.arange(9), 10)
    cb = pd.DataFrame({"item": ["a1"], "construct": ["A"], "scale_min": 1, "scale_max": 5})
    m, u = ipma.performance_influence(pd.DataFrame({"a1": x}), cb, None)
    var = ipma.cluster_variance(u, pd.Series(g))
    s = 25 * (x - 1)
    resid = pd.Series(s - s.mean()).groupby(g).sum()
    assert var["a1"] == pytest.approx(9 / 8 * (resid ** 2).sum() / 90 ** 2, rel=1e-12)
    assert var["A"] == pytest.approx(var["a1"], rel=1e-12)


def test_community_paths_only_beyond_noise_and_diagnosis_can_fail():
    cb = pd.DataFrame([{"item": f"{c}{k}", "construct": c, "role": "element" if c != "PV" else "outcome",
                        "scale_min": 1, "scale_max": 5} for c in ("AA", "BB", "PV") for k in (1, 2)])
    cat = pd.DataFrame({
        "problem_id": ["A-1", "A-2", "B-1"], "construct": ["AA", "AA", "BB"],
        "problem_en": ["a one", "a two", "b one"], "problem_zh": ["甲一", "甲二", "乙一"],
        "items": ["AA1", "AA2", "BB1;BB2"], "path_id": ["P1", "P2", "P3"],
        "path_en": ["pa", "pb", "pc"], "path_zh": ["甲", "乙", "丙"],
        "action_en": ["a1", "a2", "b"], "action_zh": ["做一", "做二", "做乙"]})
    ids = ["c1", "c2", "c3", "c4"]
    ctype = pd.Series(["x", "x", "y", "y"], index=ids)
    elem = pd.DataFrame({"AA": [50.0, 70.0, 70.0, 70.0], "BB": [55.0, 65.0, 40.0, 60.0]}, index=ids)
    items = pd.DataFrame({"AA1": [40.0, 70.0, 70.0, 70.0], "AA2": [60.0, 70.0, 70.0, 70.0],
                          "BB1": [55.0, 65.0, 30.0, 60.0], "BB2": [55.0, 65.0, 50.0, 60.0]}, index=ids)
    imp = pd.Series({"AA": 0.2, "BB": 0.5})
    # c1 is 10 below its type on AA and 5 on BB; with SE 4 only AA is beyond 1.96 SE (7.8)
    se = pd.DataFrame(4.0, index=ids, columns=["AA", "BB"])
    out = community_paths(items, elem, ctype, imp, cat, cb, score_se=se).set_index("community_id")
    assert out.loc["c1", "focus"] == "AA" and out.loc["c1", "shortfall"]
    assert out.loc["c3", "focus"] == "BB"            # 10 below the y mean on BB
    assert out.loc["c2", "focus"] == "" and out.loc["c2", "action_en"] == ""
    assert not out.loc["c2", "shortfall"] and not out.loc["c4", "shortfall"]
    # with a large SE nobody gets a focus problem
    wide = community_paths(items, elem, ctype, imp, cat, cb, score_se=se * 5)
    assert (wide["focus"] == "").all()
    # priority: the element's importance, not the number of items mapped to the problem
    ipma_tab = pd.DataFrame({
        "group": ["all"] * 6, "level": ["construct"] * 2 + ["item"] * 4,
        "construct": ["AA", "BB", "AA", "AA", "BB", "BB"], "item": ["", "", "AA1", "AA2", "BB1", "BB2"],
        "importance": [0.2, 0.2, 0.1, 0.1, 0.1, 0.1], "performance": [50, 50, 50, 50, 50, 50],
        "weight": [1, 1, 0.5, 0.5, 0.5, 0.5],
        "quadrant": ["within noise"] * 6})
    f = findings_table(ipma_tab, wide, cat).set_index("problem_id")
    assert f["priority"].nunique() == 1 and f.loc["B-1", "priority"] == pytest.approx(10.0)
    assert not f["diagnosed"].any() and (f["n_communities"] == 0).all()
