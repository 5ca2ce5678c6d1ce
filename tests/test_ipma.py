"""IPMA and what-if on a hand-built estimates table with a known structural matrix.

Oracles: total effects by Wright's path-tracing rule (sum over all directed paths of the
product of the path coefficients), computed here by enumerating paths, independently of the
matrix inverse T = (I - B)^-1 - I used by the module (Ringle & Sarstedt 2016). Performance is
checked against means worked out by hand. Tolerances are floating-point (1e-12) because both
sides are exact arithmetic on the same numbers.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.study.importance import (
    bootstrap_replicates,
    outer_weights,
    replicates_from_draws,
    rescale,
    structural_matrix,
    total_effects,
    weighted_construct_scores,
)
from analysis.study.ipma import ipma
from analysis.study.whatif import scenario_effects, standard_scenarios, whatif

PATHS = {("MS", "CS"): 0.5, ("MS", "OM"): 0.3, ("CS", "OM"): 0.4, ("CS", "RA"): 0.3,
         ("OM", "RA"): 0.2, ("CS", "CC"): 0.25, ("OM", "CC"): 0.35,
         ("MS", "PV"): 0.10, ("CS", "PV"): 0.15, ("OM", "PV"): 0.20, ("RA", "PV"): 0.25,
         ("CC", "PV"): 0.30}
LOADINGS = {"MS": [0.8, 0.6], "CS": [0.7, 0.7], "OM": [0.9, 0.3], "RA": [0.5, 0.5],
            "CC": [0.6, 0.6], "PV": [0.8, 0.8]}


def make_estimates(paths=PATHS, scale=1.0):
    rows = []
    for c, lams in LOADINGS.items():
        for k, lam in enumerate(lams, start=1):
            rows.append({"lhs": c, "op": "=~", "rhs": f"{c}{k}", "est": 1.0 if k == 1 else lam / lams[0],
                         "std_all": lam})
    for (pred, out), b in paths.items():
        rows.append({"lhs": out, "op": "~", "rhs": pred, "est": b * scale, "std_all": np.nan})
    rows.append({"lhs": "PV", "op": "~", "rhs": "age", "est": 0.9, "std_all": np.nan})  # covariate
    rows.append({"lhs": "MS", "op": "~~", "rhs": "MS", "est": 0.5, "std_all": 1.0})
    return pd.DataFrame(rows)


class Result:  # the SEMResult contract: an object with .estimates
    def __init__(self, estimates):
        self.estimates = estimates


def traced_effect(paths, source, target):
    """Wright's rule: sum over directed paths source -> target of the products."""
    total, stack = 0.0, [(source, 1.0)]
    while stack:
        node, prod = stack.pop()
        for (a, b), coef in paths.items():
            if a == node:
                if b == target:
                    total += prod * coef
                else:
                    stack.append((b, prod * coef))
    return total


@pytest.fixture
def codebook():
    rows = [{"item": f"{c}{k}", "construct": c, "scale_min": 1, "scale_max": 5}
            for c in LOADINGS for k in (1, 2)]
    return pd.DataFrame(rows)


@pytest.fixture
def survey(codebook):
    # two types, two respondents each; items chosen so means are easy to check by hand
    data = {i: [1, 5, 3, 3] for i in codebook["item"]}
    data["MS1"] = [1, 1, 5, 5]   # type a: 0, type b: 100, all: 50
    data["MS2"] = [3, 3, 3, 3]   # 50 everywhere
    data["OM1"] = [2, 2, 2, np.nan]  # 25
    df = pd.DataFrame(data)
    df["community_type"] = ["a", "a", "b", "b"]
    return df


def test_structural_matrix_ignores_covariates():
    b = structural_matrix(make_estimates())
    assert list(b.index) == ["MS", "CS", "OM", "RA", "CC", "PV"]
    assert b.loc["CS", "MS"] == 0.5 and b.loc["PV", "CC"] == 0.30
    assert b.to_numpy().sum() == pytest.approx(sum(PATHS.values()))


@pytest.mark.parametrize("source", ["MS", "CS", "OM", "RA", "CC"])
def test_total_effects_match_path_tracing(source):
    t = total_effects(Result(make_estimates()))
    assert t.loc["PV", source] == pytest.approx(traced_effect(PATHS, source, "PV"), abs=1e-12)


def test_total_effect_of_ms_by_hand():
    # direct .1 + via CS .075 + via OM .06 + CS-OM .04 + CS-RA .0375 + CS-CC .0375
    # + OM-RA .015 + OM-CC .0315 + CS-OM-RA .01 + CS-OM-CC .021
    t = total_effects(make_estimates())
    assert t.loc["PV", "MS"] == pytest.approx(0.4275, abs=1e-12)


def test_outer_weights_are_rescaled_standardised_loadings():
    w = outer_weights(make_estimates())
    assert w["MS1"] == pytest.approx(0.8 / 1.4) and w["MS2"] == pytest.approx(0.6 / 1.4)
    assert w["OM1"] == pytest.approx(0.75)
    est = make_estimates()
    est.loc[(est.op == "=~") & (est.rhs == "CS2"), "std_all"] = -0.7
    with pytest.raises(ValueError, match="CS2"):
        outer_weights(est)


def test_ipma_importance_and_performance(codebook, survey):
    table = ipma(Result(make_estimates()), survey, codebook, target="PV", by="community_type")
    assert set(table["group"]) == {"all", "a", "b"}
    con = table[(table.group == "all") & (table.level == "construct")].set_index("construct")
    assert list(con.index) == ["MS", "CS", "OM", "RA", "CC"]
    for c in con.index:
        assert con.loc[c, "importance"] == pytest.approx(traced_effect(PATHS, c, "PV"), abs=1e-12)
    # MS performance: weights 8/14, 6/14 on MS1 (50) and MS2 (50) -> 50; in type a: 8/14*0+6/14*50
    assert con.loc["MS", "performance"] == pytest.approx(50.0)
    a = table[(table.group == "a") & (table.level == "construct")].set_index("construct")
    assert a.loc["MS", "performance"] == pytest.approx(50 * 6 / 14)
    # OM: OM1 mean 25 (one missing), OM2 mean 50; weights .75/.25
    assert con.loc["OM", "performance"] == pytest.approx(0.75 * 25 + 0.25 * 50)
    # importance is common to groups when one result is given
    np.testing.assert_allclose(a["importance"], con["importance"])
    items = table[(table.group == "all") & (table.level == "item")].set_index("item")
    assert items.loc["MS1", "importance"] == pytest.approx(con.loc["MS", "importance"] * 8 / 14)
    # item importances of a construct add up to the construct's importance
    assert items.groupby("construct")["importance"].sum().loc["CC"] == pytest.approx(0.30)


def test_quadrants_split_at_means(codebook, survey):
    table = ipma(make_estimates(), survey, codebook)
    con = table[table.level == "construct"].set_index("construct")
    hi_imp = con["importance"] >= con["importance"].mean()
    hi_perf = con["performance"] >= con["performance"].mean()
    for c in con.index:
        q = con.loc[c, "quadrant"]
        assert (q in ("concentrate here", "keep up the good work")) == hi_imp[c]
        assert (q in ("keep up the good work", "possible overkill")) == hi_perf[c]
    # OM: importance 0.2 + .35*.3 + .2*.25 = .355, above mean; performance 31.25, below mean
    assert con.loc["OM", "quadrant"] == "concentrate here"


def test_per_group_results(codebook, survey):
    res = {"all": make_estimates(), "a": make_estimates(scale=2.0), "b": make_estimates()}
    table = ipma(res, survey, codebook, by="community_type")
    imp = table[(table.level == "construct") & (table.construct == "RA")].set_index("group")["importance"]
    assert imp["a"] == pytest.approx(2 * 0.25) and imp["b"] == pytest.approx(0.25)


def test_bad_target_is_an_error(codebook, survey):
    with pytest.raises(ValueError, match="'QQ' is not a latent construct"):
        ipma(make_estimates(), survey, codebook, target="QQ")
    with pytest.raises(ValueError, match="not a latent construct"):
        whatif(make_estimates(), {"x": {"MS": 1}}, target="QQ")
    with pytest.raises(ValueError, match="ZZ"):
        whatif(make_estimates(), {"x": {"ZZ": 1}})


def test_scenario_propagates_through_the_chain():
    eff = scenario_effects(make_estimates(), {"MS": 10})
    assert eff["CS"] == pytest.approx(5.0)           # 10 * 0.5
    assert eff["OM"] == pytest.approx(3.0 + 2.0)     # direct 10*.3 + via CS 5*.4
    assert eff["PV"] == pytest.approx(4.275)
    together = scenario_effects(make_estimates(), {"MS": 10, "CC": 10})["PV"]
    assert together == pytest.approx(4.275 + 3.0)   # linear superposition


def test_whatif_bootstrap_interval():
    reps = [make_estimates(scale=s) for s in np.linspace(0.8, 1.2, 41)]
    out = whatif(Result(make_estimates()), standard_scenarios(["RA", "CC"], 10), boot=reps)
    assert out["scenario"].tolist() == ["RA +10", "CC +10", "all five +10"]
    ra = out.set_index("scenario").loc["RA +10"]
    assert ra["delta"] == pytest.approx(2.5)
    # RA -> PV scales linearly with s, so the percentiles are those of 2.5 s
    assert ra["ci_lower"] == pytest.approx(2.5 * np.quantile(np.linspace(0.8, 1.2, 41), 0.025))
    assert ra["ci_upper"] == pytest.approx(2.5 * np.quantile(np.linspace(0.8, 1.2, 41), 0.975))
    long = pd.concat([r.assign(replicate=i) for i, r in enumerate(reps)])
    out2 = whatif(make_estimates(), {"RA +10": {"RA": 10}}, boot=long)
    assert out2.loc[0, "ci_upper"] == pytest.approx(ra["ci_upper"])


def test_rescale_and_scores_reject_out_of_scale(codebook):
    with pytest.raises(ValueError, match="MS1"):
        rescale(pd.DataFrame({"MS1": [1, 7]}), codebook)
    s = weighted_construct_scores(pd.DataFrame({"MS1": [np.nan], "MS2": [80.0]}), None, codebook)
    assert s.loc[0, "MS"] == 80.0


def test_replicates_from_draws_maps_free_parameters():
    pt = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "X"], "op": ["=~", "=~", "=~", "~", "~~"],
                       "rhs": ["x1", "x2", "y1", "X", "X"], "free": [-1, 0, -1, 1, 2],
                       "value": [1.0, np.nan, 1.0, np.nan, np.nan]})
    draws = np.array([[0.9, 0.5, 1.0, 7.0], [np.nan, 0.4, 1.0, 7.0], [1.1, 0.6, 1.2, 7.0]])
    reps = replicates_from_draws(pt, draws)
    assert reps.n_failed == 1
    long = reps.table
    assert sorted(long["replicate"].unique()) == [0, 1]
    reg = long[long["op"] == "~"]
    assert reg["est"].tolist() == [0.5, 0.6]
    assert long[(long["replicate"] == 1) & (long["rhs"] == "x2")]["est"].item() == 1.1
    assert long[(long["rhs"] == "x1")]["est"].tolist() == [1.0, 1.0]
    out = whatif(make_estimates(), {"s": {"RA": 10}}, boot=[make_estimates()] * 3)
    assert out.loc[0, "ci_lower"] == out.loc[0, "ci_upper"] == pytest.approx(2.5)


def test_bootstrap_replicates_with_the_engine():
    from analysis import sem

    rng = np.random.default_rng(7)
    n = 300
    f = rng.normal(size=n)
    g = 0.6 * f + rng.normal(scale=0.8, size=n)
    data = pd.DataFrame({**{f"a{i}": f + rng.normal(scale=0.6, size=n) for i in (1, 2, 3)},
                         **{f"b{i}": g + rng.normal(scale=0.6, size=n) for i in (1, 2, 3)}})
    fit = sem.fit_sem("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nB ~ A", data)
    reps = bootstrap_replicates(fit, n_boot=40, seed=1)
    assert reps.table["replicate"].nunique() + reps.n_failed == 40
    out = whatif(fit, {"A +1": {"A": 1.0}}, target="B", boot=reps)
    # the object and its long table give the same interval
    pd.testing.assert_frame_equal(out, whatif(fit, {"A +1": {"A": 1.0}}, target="B",
                                              boot=reps.table))
    b_hat = fit.estimates.query("op == '~'")["est"].item()
    assert out.loc[0, "delta"] == pytest.approx(b_hat)
    assert out.loc[0, "ci_lower"] < b_hat < out.loc[0, "ci_upper"]
    se = fit.estimates.query("op == '~'")["se"].item()
    # the percentile interval is roughly +-1.96 SE wide (40 resamples: loose check)
    assert 0.5 * 3.92 * se < out.loc[0, "ci_upper"] - out.loc[0, "ci_lower"] < 2 * 3.92 * se
    # the real SEMResult feeds ipma: importance of A on B is the path, weights from std_all
    cb = pd.DataFrame({"item": list(data.columns), "construct": ["A"] * 3 + ["B"] * 3,
                       "scale_min": -10, "scale_max": 10})
    table = ipma(fit, data, cb, target="B")
    row = table[table["level"] == "construct"].iloc[0]
    assert row["construct"] == "A" and row["importance"] == pytest.approx(b_hat)
    lam = fit.estimates.query("op == '=~' and lhs == 'A'")["std_all"]
    items = table[table["level"] == "item"]
    np.testing.assert_allclose(items["weight"], lam / lam.sum())
    assert row["performance"] == pytest.approx(
        float((items["performance"] * items["weight"]).sum()))
