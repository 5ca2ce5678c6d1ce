"""analysis.study.structural against lavaan 0.6-14 (tests/reference/structural_reference.R).

Reference files in tests/reference/structural/: compare_fit.csv and compare_lrt.csv (H1 vs
H0 under ML, MLR, FIML, FIML with MLR), effects.csv (paths and := effects with std.all and
delta-method SEs), latent_means.csv (scalar model), release_tests.csv (lavTestScore) and
partial_fit.csv (group.partial). Tolerances: the engine reproduces lavaan's ML estimates to
the optimiser's tolerance (~1e-5 relative), so statistics built from them (chi-square
differences, scaled differences, score tests) are compared to 1e-3 absolute; SEs from
numerical derivatives to 1 % relative; bootstrap quantiles within Monte Carlo error.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.io.codebook import construct_items
from analysis.sem import fit_sem
from analysis.study import models
from analysis.study import heterogeneity as het
from analysis.study import robustness as rob
from analysis.study import structural as st
from analysis.study.population import POPULATION

REF = Path(__file__).resolve().parent / "reference" / "structural"
SEM_REF = Path(__file__).resolve().parent / "reference" / "sem"
SPECS = {"ML": {}, "MLR": {"estimator": "MLR"}, "FIML": {"missing": "fiml"},
         "FIML-MLR": {"estimator": "MLR", "missing": "fiml"}}


@pytest.fixture(scope="module")
def ml_fits(cb, survey):
    return st.fit_competing(cb, survey)


@pytest.fixture(scope="module")
def scalar(cb, survey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_sem(models.measurement_model(cb), survey, group="community_type",
                       group_equal=("loadings", "intercepts"), std_se=False)


def test_reference_models_are_the_codebook_models(cb):
    # the R script fitted exactly these models
    assert (REF / "h1.lav").read_text() == models.chain_model(cb)
    assert (REF / "h0.lav").read_text() == models.parallel_model(cb)
    assert (REF / "measurement.lav").read_text() == models.measurement_model(cb) + "\n"


@pytest.mark.parametrize("spec", list(SPECS))
def test_chisq_difference_matches_lavaan(cb, survey, ml_fits, spec):
    fits = ml_fits if spec == "ML" else st.fit_competing(cb, survey, std_se=False,
                                                         **SPECS[spec])
    ref = pd.read_csv(REF / "compare_lrt.csv").set_index("spec").loc[spec]
    d = st.chisq_difference(fits["H1"], fits["H0"])
    assert d["df_diff"] == ref["df_diff"] == 3
    assert d["chisq_diff"] == pytest.approx(ref["chisq_diff"], abs=1e-3)
    assert d["p_diff"] == pytest.approx(ref["p_diff"], abs=1e-4)
    assert d["method"] == ("satorra.bentler.2001" if "MLR" in spec else "LRT")
    # the fit table carries lavaan's measures for both models
    fit = pd.read_csv(REF / "compare_fit.csv")
    tab = st.fit_table(fits)
    for model in ("H1", "H0"):
        r = fit[(fit["spec"] == spec) & (fit["model"] == model)].set_index("measure")["value"]
        for m in ("npar", "chisq", "df", "aic", "bic", "cfi", "rmsea", "srmr"):
            assert tab.loc[model, m] == pytest.approx(r[m], abs=2e-3, rel=1e-5), (model, m)
        if "MLR" in spec:
            assert tab.loc[model, "scaling_factor"] == pytest.approx(
                r["chisq.scaling.factor"], rel=1e-3)


def test_compare_models_and_verdict(ml_fits):
    tab = st.compare_models(ml_fits, "H1", "H0")
    assert tab.loc["H1", "delta_aic"] == pytest.approx(
        ml_fits["H1"].fit_indices["aic"] - ml_fits["H0"].fit_indices["aic"])
    assert np.isnan(tab.loc["H0", "p_diff"])
    v = st.model_verdict(tab, "H1", "H0")
    ref = pd.read_csv(REF / "compare_lrt.csv").set_index("spec").loc["ML"]
    fit = pd.read_csv(REF / "compare_fit.csv")
    aic = fit[(fit.spec == "ML") & (fit.measure == "aic")].set_index("model")["value"]
    # the verdict follows lavaan's numbers: LRT p vs .05, lower AIC
    assert v["lrt"] == ("H0" if ref["p_diff"] < 0.05 else "H1")
    assert v["aic"] == aic.idxmin()
    # a forced comparison at alpha = .5 flips the LRT verdict and makes it mixed
    v2 = st.model_verdict(tab, "H1", "H0", alpha=0.5)
    assert v2["lrt"] == "H0" and v2["supported"] == "mixed"


def test_chisq_difference_rejects_bad_input(cb, survey, ml_fits):
    with pytest.raises(ValueError, match="more degrees of freedom"):
        st.chisq_difference(ml_fits["H0"], ml_fits["H1"])
    other = st.fit_competing(cb, survey.iloc[:900], std_se=False)
    with pytest.raises(ValueError, match="different samples"):
        st.chisq_difference(other["H1"], ml_fits["H0"])
    with pytest.raises(KeyError):
        st.compare_models(ml_fits, "H1", "H2")


def test_effects_match_lavaan_standardized_solution(cb, ml_fits):
    eff = st.effects(ml_fits["H1"], cb)
    ref = pd.read_csv(REF / "effects.csv")
    ref = ref[ref["spec"] == "ML"]
    key = np.where(ref["op"] == ":=", ref["lhs"], ref["label"])
    ref = ref.assign(key=key).set_index("key")
    named = eff[eff["name"] != ""].drop_duplicates("name").set_index("name")
    assert set(named.index) <= set(ref.index)
    r = ref.loc[named.index]
    np.testing.assert_allclose(named["est"], r["est"], atol=2e-4)
    np.testing.assert_allclose(named["std_all"], r["std_all"], atol=2e-4)
    np.testing.assert_allclose(named["se"], r["se"], rtol=0.01)
    np.testing.assert_allclose(named["se_std"], r["se_std"], rtol=0.01)
    # 16 specific paths; every element has a direct, indirect and total row
    assert (eff["effect"] == "specific").sum() == len(models.indirect_paths(cb)) == 16
    assert eff.groupby("element")["effect"].apply(
        lambda s: {"direct", "indirect", "total"} <= set(s)).all()


def test_decomposition_adds_up(cb, ml_fits):
    eff = st.effects(ml_fits["H1"], cb)
    for col in (True, False):
        tab = st.decomposition_table(eff, standardized=col).set_index("element")
        np.testing.assert_allclose(tab["direct"] + tab["indirect"], tab["total"], atol=1e-10)
    spec = eff[eff["effect"] == "specific"].groupby("element")["std_all"].sum()
    ind = eff[eff["effect"] == "indirect"].set_index("element")["std_all"]
    np.testing.assert_allclose(spec, ind.loc[spec.index], atol=1e-10)
    assert list(tab.index) == ["MS", "CS", "OM", "RA", "CC"]
    assert tab.loc["RA", "indirect"] == 0 and tab.loc["RA", "share_mediated"] == 0


def test_effects_reject_wrong_target_and_model(cb, ml_fits):
    with pytest.raises(ValueError, match="not a latent construct"):
        st.effects(ml_fits["H1"], cb, target="XX")
    with pytest.raises(ValueError, match="outcome"):
        st.effects(ml_fits["H1"], cb, target="CC")
    with pytest.raises(ValueError, match="chain_model"):
        st.effects(ml_fits["H0"], cb)


def test_bootstrap_cis_agree_with_lavaan_within_monte_carlo_error(cb, ml_fits):
    from analysis.sem import bootstrap

    res = ml_fits["H1"]
    boot = bootstrap(res, n_boot=300, seed=7, progress=False)
    eff = st.attach_bootstrap(st.effects(res, cb), {"perc": boot})
    ref = pd.read_csv(SEM_REF / "survey_chain_boot_perc.csv")
    ref = ref[ref["op"] == ":="].set_index("lhs")
    named = eff[eff["name"].str.startswith(("ind_", "indirect_", "total_"))].set_index("name")
    r = ref.loc[named.index]
    # MC SE of a 2.5 % quantile from B = 300 (plus lavaan's B = 1000) is ~0.17 bootstrap SD:
    # allow 4 such SEs
    tol = 0.7 * r["se"]
    assert (np.abs(named["ci_lower_perc"] - r["ci.lower"]) < tol).all()
    assert (np.abs(named["ci_upper_perc"] - r["ci.upper"]) < tol).all()
    # the structural zeros get [0, 0]; CIs contain the estimate
    z = eff[eff["name"] == ""]
    assert (z["ci_lower_perc"] == 0).all() and (z["ci_upper_perc"] == 0).all()
    assert ((eff["ci_lower_perc"] <= eff["est"] + 1e-12)
            & (eff["est"] <= eff["ci_upper_perc"] + 1e-12)).all()
    with pytest.raises(ValueError, match="ci_lower"):
        st.attach_bootstrap(eff, {"perc": boot.table.drop(columns="ci_lower")})
    # a BootstrapResult and its table give the same columns
    same = st.attach_bootstrap(st.effects(res, cb), {"perc": boot.table})
    pd.testing.assert_frame_equal(same, eff)


def test_population_recovery_reports_differences(cb, ml_fits):
    from analysis.study.population import standardised_effects

    truth = standardised_effects()
    rec = st.population_recovery(st.effects(ml_fits["H1"], cb), truth)
    assert len(rec) == 15
    m = rec.set_index(["element", "effect"])
    t = truth.set_index("element")
    assert m.loc[("MS", "total"), "true"] == pytest.approx(t.loc["MS", "total"])
    np.testing.assert_allclose(m["difference"], m["estimate"] - m["true"])


def test_latent_means_match_lavaan(scalar):
    lm = het.latent_means(scalar)
    ref = pd.read_csv(REF / "latent_means.csv")
    m = lm.merge(ref, on=["construct", "group"], suffixes=("", "_ref"))
    assert len(m) == len(ref) == 24
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=5e-4)
    free = m["se_ref"] > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], rtol=0.01)
    # the reference group (first in the data) is 0; d has the sign of est
    first = scalar.model.group_labels[0]
    assert (lm.loc[lm["group"] == first, "est"] == 0).all()
    assert (np.sign(lm["d"]) == np.sign(lm["est"])).all()
    z = stats.norm.isf(0.025)
    np.testing.assert_allclose(lm["ci_upper"] - lm["est"], z * lm["se"])


def test_latent_means_reject_non_scalar_fits(cb, survey, ml_fits):
    with pytest.raises(ValueError, match="multi-group"):
        het.latent_means(ml_fits["H1"])
    metric = fit_sem(models.measurement_model(cb), survey.dropna(), group="community_type",
                     group_equal=("loadings",), std_se=False)
    with pytest.raises(ValueError, match="equal intercepts"):
        het.latent_means(metric)


def test_release_tests_match_lavtestscore(scalar):
    rt = st.release_tests(scalar)
    ref = pd.read_csv(REF / "release_tests.csv").fillna({"rhs": ""})
    m = rt.fillna({"rhs": ""}).merge(ref, on=["lhs", "op", "rhs", "group"],
                                     suffixes=("", "_ref"))
    # 19 free loadings x 3 groups + 25 intercepts x 3 groups
    assert len(m) == len(ref) == len(rt) == (25 - 6) * 3 + 25 * 3
    np.testing.assert_allclose(m["mi"], m["mi_ref"], atol=2e-3, rtol=1e-3)
    assert rt["mi"].is_monotonic_decreasing
    np.testing.assert_allclose(rt["p_bonferroni"], np.minimum(1, rt["pvalue"] * len(rt)))


@pytest.mark.filterwarnings("ignore:listwise deletion")
def test_partial_invariance_syntax_matches_group_partial(cb, survey):
    syn = het.partial_invariance_syntax(models.measurement_model(cb),
                                       [("PV2", "~1", ""), ("CC", "=~", "CC4")], 4)
    res = fit_sem(syn, survey, group="community_type",
                  group_equal=("loadings", "intercepts"), std_se=False)
    ref = pd.read_csv(REF / "partial_fit.csv").set_index("measure")["value"]
    assert res.fit_indices["df"] == ref["df"]
    assert res.fit_indices["npar"] == ref["npar"]
    assert res.fit_indices["chisq"] == pytest.approx(ref["chisq"], abs=1e-3)
    with pytest.raises(ValueError, match="marker"):
        het.partial_invariance_syntax("F =~ x1 + x2 + x3", [("F", "=~", "x1")], 2)
    with pytest.raises(ValueError, match="not an indicator"):
        het.partial_invariance_syntax("F =~ x1 + x2 + x3", [("F", "=~", "x9")], 2)


def test_invariance_decision_on_lavaan_holzinger_swineford():
    inv = pd.read_csv(SEM_REF / "hs_invariance.csv").set_index("model")
    for step in inv.index:
        fit = pd.read_csv(SEM_REF / f"hs_{step}_fit.csv").set_index("measure")["value"]
        inv.loc[step, "cfi"] = fit["cfi"]
        inv.loc[step, "rmsea"] = fit["rmsea"]
    dec = het.invariance_decision(inv)
    # metric holds (p = .224), scalar fails (p = 4.4e-7; CFI drops by more than .01)
    assert list(dec["holds_lrt"]) == [True, True, False]
    assert list(dec["holds_fit"]) == [True, True, False]
    assert dec.loc["scalar", "delta_cfi"] == pytest.approx(fit["cfi"] - pd.read_csv(
        SEM_REF / "hs_metric_fit.csv").set_index("measure")["value"]["cfi"])


def test_implied_type_means_by_hand():
    t = het.implied_type_means(POPULATION, "old neighbourhood").set_index(["construct", "group"])
    # commercial estate: MS -0.45 -> CS 0.5 * -0.45; OM 0.2 MS + 0.4 CS (+ old's OM -0.10)
    ms, cs = -0.45, 0.5 * -0.45
    om = 0.2 * ms + 0.4 * cs
    g = "commercial-housing estate"
    assert t.loc[("MS", g), "true_d"] == pytest.approx(ms)
    assert t.loc[("CS", g), "true_d"] == pytest.approx(cs)
    assert t.loc[("OM", g), "true_d"] == pytest.approx(om - (-0.10))
    with pytest.raises(ValueError, match="reference"):
        het.implied_type_means(POPULATION, "nowhere")


def test_order_groups_puts_reference_first(survey):
    out = het.order_groups(survey, "community_type", ["work-unit compound", "old neighbourhood",
                                                     "resettlement community",
                                                     "commercial-housing estate"])
    assert list(pd.unique(out["community_type"]))[0] == "work-unit compound"
    assert len(out) == len(survey)
    with pytest.raises(ValueError, match="does not list"):
        het.order_groups(survey, "community_type", ["work-unit compound"])


def test_screen_modindices_bonferroni_and_size(cb):
    mi = pd.DataFrame({"lhs": ["MS", "MS1", "MS1", "MS"], "op": ["=~", "~~", "~~", "~~"],
                       "rhs": ["CS1", "MS2", "CS1", "CS"], "mi": [30.0, 12.0, 5.0, 40.0],
                       "epc": [0.2, 0.1, 0.05, 0.1], "sepc_lv": np.nan,
                       "sepc_all": [0.15, 0.05, 0.2, 0.3], "pvalue": np.nan})
    out = rob.screen_modindices(mi, constructs=construct_items(cb))
    crit = stats.chi2.isf(0.05 / 4, 1)
    assert out["critical"].iloc[0] == pytest.approx(crit)
    assert list(out["kind"]) == ["cross-loading", "residual covariance, same construct",
                                 "residual covariance, across constructs", "latent covariance"]
    # flagged: significant after Bonferroni (MI > 6.24) and |sepc.all| >= .10
    assert list(out["flag"]) == [True, False, False, True]
    with pytest.raises(ValueError):
        rob.screen_modindices(mi.iloc[:0])


def test_partial_invariance_frees_what_lavaan_finds_on_holzinger_swineford():
    from semopy.examples import holzinger39

    hs = holzinger39.get_data()
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    scal = fit_sem(model, hs, group="school", group_equal=("loadings", "intercepts"),
                   std_se=False)
    rt = st.release_tests(scal).fillna({"rhs": ""})
    ref = pd.read_csv(REF / "hs_release_tests.csv").fillna({"rhs": ""})
    m = rt.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(m) == len(ref) == 6 + 9
    np.testing.assert_allclose(m["mi"], m["mi_ref"], atol=2e-3, rtol=1e-3)
    res, steps = het.partial_invariance(model, hs, "school")
    # x3 then x7 intercepts, as lavaan's group.partial fits confirm; then nothing significant
    part = pd.read_csv(REF / "hs_partial.csv")
    assert list(steps["lhs"]) == ["x3", "x7"] and (steps["op"] == "~1").all()
    # the final fit carries the partial-invariance syntax it was fitted with
    assert res.syntax == het.partial_invariance_syntax(model, [("x3", "~1", ""), ("x7", "~1", "")], 2)
    np.testing.assert_allclose(steps["chisq"], part["chisq"], atol=1e-3)
    np.testing.assert_array_equal(steps["df"], part["df"])
    assert st.release_tests(res)["p_bonferroni"].min() >= 0.05


def test_partial_invariance_frees_nothing_when_scalar_holds(cb, survey, scalar):
    res, steps = het.partial_invariance(models.measurement_model(cb), survey, "community_type")
    assert steps.empty
    assert res.fit_indices["chisq"] == pytest.approx(scalar.fit_indices["chisq"], abs=1e-6)


def test_center_within_removes_group_means(cb, survey):
    items = construct_items(cb)["MS"]
    out = het.center_within(survey, items, "community_type")
    np.testing.assert_allclose(out.groupby("community_type")[items].mean(), 0, atol=1e-12)
    assert out[items].isna().equals(survey[items].isna())
    with pytest.raises(ValueError, match="not in data"):
        het.center_within(survey, ["nope"], "community_type")


def test_effects_follow_user_paths(cb, survey):
    # a shorter chain (no MS -> OM, no CS -> CC): effects follow the paths the model used
    paths = [("MS", "CS"), ("CS", "OM"), ("CS", "RA"), ("OM", "RA"), ("OM", "CC")]
    res = fit_sem(models.chain_model(cb, paths), survey.dropna(), std_se=False)
    eff = st.effects(res, cb, paths=paths)
    spec = eff[eff["effect"] == "specific"]
    assert set(spec["path"]) == {" -> ".join(p) for p in models.indirect_paths(cb, paths).values()}
    est = res.estimates.set_index("label")["est"]
    ms_cs_om_cc = est["b_MS_CS"] * est["b_CS_OM"] * est["b_OM_CC"] * est["b_CC_PV"]
    assert spec.set_index("path").loc["MS -> CS -> OM -> CC -> PV", "est"] == pytest.approx(
        ms_cs_om_cc, rel=1e-10)
    with pytest.raises(ValueError, match="chain_model"):
        st.effects(res, cb)  # the default paths name effects this model does not define


def _mi_merge(mi, ref):
    return mi.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))


def test_modification_indices_of_an_mlr_fit_match_lavaan(cb, survey):
    # the notebook screens the MIs of the ML fit; under MLR lavaan reports the same MIs
    from analysis.sem import modification_indices

    res = fit_sem(models.chain_model(cb), survey.dropna(), estimator="MLR", std_se=False)
    m = _mi_merge(modification_indices(res), pd.read_csv(REF / "modindices_mlr.csv"))
    assert len(m) == 30
    np.testing.assert_allclose(m["mi"], m["mi_ref"], rtol=1e-3)
    np.testing.assert_allclose(m["sepc_all"], m["sepc.all"], rtol=1e-3, atol=1e-4)


def test_modification_indices_of_a_fiml_fit_match_lavaan(cb, survey):
    from analysis.sem import modification_indices

    res = fit_sem(models.chain_model(cb), survey, missing="fiml", std_se=False)
    m = _mi_merge(modification_indices(res), pd.read_csv(REF / "modindices_fiml.csv"))
    assert len(m) == 30
    # FIML score test: agrees to ~1e-4 (lavaan's optimiser tolerance), so 1e-3 not 1 %
    np.testing.assert_allclose(m["mi"], m["mi_ref"], rtol=1e-3)


def test_estimator_comparison_keeps_the_fits():
    """The long table and the fit table are those of the fitted models it returns."""
    from semopy.examples import holzinger39

    specs = {"ML": {}, "MLR": {"estimator": "MLR"}}
    cmp = rob.estimator_comparison("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
                                  holzinger39.get_data(), specs, ops=("=~",))
    assert list(cmp.results) == ["ML", "MLR"]
    assert cmp.results["MLR"].estimator == "MLR"
    for name, res in cmp.results.items():
        mine = cmp.estimates[cmp.estimates["spec"] == name]
        ref = res.estimates[res.estimates["op"] == "=~"]
        np.testing.assert_array_equal(mine["se"].to_numpy(), ref["se"].to_numpy())
    pd.testing.assert_frame_equal(cmp.fits, st.fit_table(cmp.results))
    # same point estimates, different (robust) SEs
    ml, mlr = (cmp.estimates[cmp.estimates["spec"] == k] for k in specs)
    np.testing.assert_allclose(ml["est"].to_numpy(), mlr["est"].to_numpy())
    assert not np.allclose(ml["se"].to_numpy(), mlr["se"].to_numpy())
