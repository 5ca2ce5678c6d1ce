"""The community level of notebook 03 on surveys unlike the shipped one: the two-level chain,
cluster-robust latent means with t intervals, and the common-method-variance checks
(analysis.study.multilevel, analysis.study.common_method)."""

import numpy as np
import pytest
from scipy import stats

from analysis.io.codebook import construct_items, load_codebook
from analysis.io.survey import load_survey
from analysis.sem import fit_sem
from analysis.study import common_method, heterogeneity, multilevel
from dataclasses import replace

from survey_variants import VARIANTS, write_variant


@pytest.fixture(scope="module")
def other_codes(tmp_path_factory):
    files = write_variant("other-codes", tmp_path_factory.mktemp("other"))
    cb = load_codebook(files["codebook"])
    return load_survey(files["survey"], cb), cb


def test_twolevel_model_follows_the_codebook(other_codes):
    survey, cb = other_codes
    syntax = multilevel.twolevel_chain_model(cb, ())
    lines = syntax.splitlines()
    constructs = construct_items(cb)
    assert lines[0] == "level: 1" and "level: 2" in lines
    for c, items in constructs.items():
        assert f"{c} =~ " + " + ".join(f"l_{i}*{i}" for i in items) in lines
        assert f"{c}{multilevel.BETWEEN_SUFFIX} =~ " + " + ".join(f"l_{i}*{i}" for i in items) in lines
        assert all(f"{i} ~~ 0*{i}" in lines for i in items)
    free = multilevel.twolevel_chain_model(cb, (), between_residuals=True)
    assert "~~ 0*" not in free


@pytest.fixture(scope="module")
def many_communities(tmp_path_factory):
    # the other-codes questionnaire on 60 communities: enough for the between level
    v = replace(VARIANTS["other-codes"], name="other-codes-60", n=2400, n_communities=60)
    files = write_variant(v, tmp_path_factory.mktemp("other60"))
    cb = load_codebook(files["codebook"])
    return load_survey(files["survey"], cb), cb


def test_twolevel_paths_on_another_survey(many_communities):
    survey, cb = many_communities
    res = fit_sem(multilevel.twolevel_chain_model(cb, ()), survey, cluster="community_id")
    paths = multilevel.twolevel_verdict(multilevel.twolevel_paths(res))
    els = list(construct_items(cb))
    # every element -> outcome, at both levels, with the levels' own SEs
    assert set(paths["predictor"]) == set(els[:-1]) and set(paths["outcome"]) == {els[-1]}
    est = res.estimates
    w = est[(est["op"] == "~") & (est["level"] == 1)].set_index("rhs")["est"]
    assert np.allclose(paths.set_index("predictor")["est_within"], w.loc[paths["predictor"]])
    z = (paths["est_between"] - paths["est_within"]) / np.hypot(paths["se_between"], paths["se_within"])
    assert np.allclose(paths["diff_z"], z)
    assert set(paths["reading"]) <= {"both levels", "within (between n.s.)",
                                     "between (within n.s.)", "neither"}
    # equal loadings across levels are estimated equal
    load = est[est["op"] == "=~"]
    by_item = load.groupby("rhs")["est"].agg(["min", "max"])
    assert np.allclose(by_item["min"], by_item["max"])


def test_cluster_robust_latent_means_use_t_on_clusters_minus_one(other_codes):
    survey, cb = other_codes
    from analysis.sem import invariance
    from analysis.study.models import measurement_model

    inv = invariance(measurement_model(cb), survey, "community_type")
    scalar = inv.fits["scalar"]
    robust = multilevel.cluster_robust_refit(scalar, survey, "community_id")
    a, b = heterogeneity.latent_means(scalar), heterogeneity.latent_means(robust)
    assert np.allclose(a["est"], b["est"])                   # same estimates, other SEs
    per_type = survey.groupby("community_type")["community_id"].nunique()
    m = multilevel.compare_latent_means(a, b, clusters_per_group=per_type)
    ref = scalar.model.group_labels[0]
    other = m[m["group"] != ref]
    df = np.minimum(per_type[ref], per_type.loc[other["group"]].to_numpy()) - 1
    assert np.allclose(other["df_cluster"], df)
    t = stats.t.isf(0.025, df)
    assert np.allclose(other["ci_upper_cluster"], other["est"] + t * other["se_cluster"])
    assert np.allclose(other["pvalue_cluster"], 2 * stats.t.sf(np.abs(other["z_cluster"]), df))


def test_method_variance_checks_on_another_survey(other_codes):
    survey, cb = other_codes
    table, adjusted = common_method.method_variance_checks(survey, cb)
    assert list(table["check"].unique()) == ["Harman single factor", "method factor (ULMC)",
                                             "Lindell-Whitney marker"]
    els = list(construct_items(cb))
    assert list(adjusted["predictor"]) == els[:-1]            # the codebook's own outcome
    assert (adjusted["r_adjusted"] <= adjusted["r"] + 1e-12).all()
    sentence = common_method.method_variance_sentence(table, adjusted)
    assert f"of {len(els) - 1} stay significant" in sentence
    # an unreadable method-factor model is reported as such, never as numbers
    ulmc = table[table["check"] == "method factor (ULMC)"]
    if ulmc["note"].str.startswith("inadmissible").any():
        assert ulmc["value"].isna().all() and ulmc["flag"].isna().all()
