"""Monte Carlo recovery (analysis.recovery): truths, designs, measures, reproducibility."""

import numpy as np
import pandas as pd
import pytest

from analysis.io.codebook import construct_items, load_codebook
from analysis.io.survey import load_survey
from analysis.sem import fit_sem
from analysis.study.models import chain_model
from analysis.study.population import (
    POPULATION,
    disturbance_variances,
    simulate_survey,
    true_structural_matrix,
)
from analysis.study.recovery import (
    assess,
    bootstrap_coverage,
    fit_replication,
    impose_mar,
    monte_carlo,
    simulate_design,
    summarise,
)
from analysis.study.simulation_designs import (
    Design,
    clean_population,
    design_population,
    recode_simulated,
)
from analysis.study.true_values import exact_moment_data, population_moments, true_values

CB = load_codebook()
ITEMS = construct_items(CB)


@pytest.fixture(scope="module")
def truth():
    return true_values()


def test_continuous_moments_follow_the_documented_population():
    cov, mean = population_moments(clean_population(), CB)
    B, order = true_structural_matrix()
    inv = np.linalg.inv(np.eye(len(order)) - B)
    phi = inv @ np.diag(disturbance_variances()) @ inv.T
    lam = POPULATION["loadings"]
    # an item pair across constructs: lambda_j lambda_k phi_ab; an item's variance is 1
    assert cov.at["MS1", "PV2"] == pytest.approx(lam["MS1"] * lam["PV2"] * phi[0, 5], abs=1e-12)
    assert cov.at["RA1", "RA2"] == pytest.approx(lam["RA1"] * lam["RA2"], abs=1e-12)
    np.testing.assert_allclose(np.diag(cov), 1.0)
    assert (mean == 0).all()


def test_likert_moments_match_a_large_simulation():
    pop = clean_population()
    cov, mean = population_moments(pop, CB, likert=True)
    x = recode_simulated(simulate_survey(11, design_population(100_000, 4000, pop), CB,
                                         likert=True, missing=False), CB)
    # SE of a sample covariance of 1-5 items with variance ~0.8 at N = 1e5 is ~0.003;
    # 0.015 is 5 SEs (300 entries are compared); means have SE ~0.003 too.
    assert np.abs(np.cov(x.T.to_numpy(), bias=True) - cov.to_numpy()).max() < 0.015
    assert np.abs(x.mean().to_numpy() - mean.to_numpy()).max() < 0.015


def test_exact_likert_moments_need_a_clean_population():
    with pytest.raises(ValueError, match="type shifts"):
        population_moments(POPULATION, CB)
    with pytest.raises(ValueError, match="jitter"):
        population_moments(dict(POPULATION, type_shifts={}), CB, likert=True)


def test_exact_moment_data_reproduce_the_moments():
    cov, _ = population_moments(clean_population(), CB)
    mean = pd.Series(np.arange(len(cov)), index=cov.index, dtype=float)
    x = exact_moment_data(cov, mean, n=300, seed=4)
    np.testing.assert_allclose(np.cov(x.T.to_numpy(), bias=True), cov.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(x.mean().to_numpy(), mean.to_numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="exceed"):
        exact_moment_data(cov, n=10)


def test_true_values_are_the_population_paths_in_the_fitted_metric(truth):
    t = truth.table.set_index("label")
    assert truth.fmin == pytest.approx(0, abs=1e-10)
    lam = POPULATION["loadings"]
    for (x, y), beta in POPULATION["paths"].items():
        assert t.at[f"b_{x}_{y}", "true_std"] == pytest.approx(beta, abs=1e-8)
        # marker-item metric: beta * lambda_Y1 / lambda_X1
        assert t.at[f"b_{x}_{y}", "true"] == pytest.approx(
            beta * lam[f"{y}1"] / lam[f"{x}1"], abs=1e-8)
    # a defined effect is the product of its paths
    assert t.at["ind_MS_CS_OM_RA", "true"] == pytest.approx(
        t.at["b_MS_CS", "true"] * t.at["b_CS_OM", "true"] * t.at["b_OM_RA", "true"]
        * t.at["b_RA_PV", "true"], rel=1e-8)
    assert set(truth.table["kind"]) == {"path", "indirect", "total indirect", "total"}


def test_likert_pseudo_truth_is_close_to_but_not_the_latent_truth(truth):
    likert = true_values(Design("lk", likert=True))
    assert likert.fmin > 1e-8  # the cut items do not fit the linear model exactly
    assert likert.theta.shape == truth.theta.shape  # same model, other population moments
    lk, tt = likert.table.set_index("label"), truth.table
    paths = tt[tt["kind"] == "path"]["label"]
    diff = (lk.loc[paths, "true_std"] - tt.set_index("label").loc[paths, "true_std"]).abs()
    assert 0 < diff.max() < 0.02


def test_recode_matches_the_survey_loader(tmp_path):
    s = simulate_survey(seed=3)
    path = tmp_path / "survey.csv"
    s.to_csv(path, index=False)
    loaded = load_survey(path, CB)
    mine = recode_simulated(s, CB)
    pd.testing.assert_frame_equal(mine, loaded[mine.columns], check_dtype=False)


def test_design_population_spreads_residents_evenly():
    s = simulate_survey(1, design_population(400, 16), CB, likert=False, missing=False)
    assert len(s) == 400 and s["community_id"].value_counts().eq(25).all()
    with pytest.raises(ValueError, match="evenly"):
        design_population(410, 16)
    with pytest.raises(ValueError, match="multiple of 4"):
        design_population(400, 10)


def test_bad_designs_are_refused():
    with pytest.raises(ValueError, match="unknown method"):
        Design("x", methods=("Bayes",))
    with pytest.raises(ValueError, match="missing_rate"):
        Design("x", missing_rate=1.2)
    with pytest.raises(ValueError, match="n_residents"):
        Design("x", n_residents=20)
    with pytest.raises(ValueError, match="unique"):
        monte_carlo([Design("a"), Design("a")], n_reps=2)
    with pytest.raises(ValueError, match="n_reps"):
        monte_carlo(Design("a"), n_reps=1)


def test_mar_blanks_the_target_blocks_more_often_for_low_driver_scores():
    items = simulate_design(Design("c", n_residents=20_000, n_communities=800), seed=5)
    rng = np.random.default_rng(0)
    out = impose_mar(items, 0.20, rng, CB)
    incomplete = out.isna().any(axis=1)
    # population share 0.20; binomial SE at N = 2e4 is 0.003 (4 SEs allowed)
    assert abs(incomplete.mean() - 0.20) < 0.012
    blank_cols = set(out.columns[out.isna().any()])
    assert blank_cols == set(ITEMS["CC"] + ITEMS["PV"])
    ra = items[ITEMS["RA"]].mean(axis=1)
    assert ra[incomplete].mean() < ra[~incomplete].mean() - 0.3  # missing at random on RA
    with pytest.raises(ValueError, match="rate"):
        impose_mar(items, 1.0, rng, CB)


def test_replications_do_not_depend_on_workers_backend_or_count():
    d = Design("tiny", n_residents=200)
    one = monte_carlo(d, 4, seed=9, n_jobs=1, chunk=2)
    two = monte_carlo(d, 4, seed=9, n_jobs=2, chunk=3)
    pd.testing.assert_frame_equal(one, two)
    more = monte_carlo(d, 5, seed=9, n_jobs=1)
    pd.testing.assert_frame_equal(one, more[more["rep"] < 4].reset_index(drop=True))
    other = monte_carlo(d, 4, seed=10, n_jobs=1)
    assert not np.allclose(one["est"], other["est"])


def test_the_dask_backend_gives_the_same_results():
    distributed = pytest.importorskip("distributed")
    d = Design("tiny", n_residents=200)
    ref = monte_carlo(d, 3, seed=9, n_jobs=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        got = monte_carlo(d, 3, seed=9, dask_scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(ref, got)


def test_summarise_computes_the_textbook_measures():
    truth = pd.DataFrame({"label": ["a", "z"], "kind": ["path", "path"], "true": [0.5, 0.0],
                          "true_std": [0.5, 0.0]})
    est = pd.DataFrame({
        "design": "d", "method": "ML", "rep": np.repeat(np.arange(4), 2),
        "label": ["a", "z"] * 4,
        "est": [0.4, 0.1, 0.6, -0.1, 0.5, 0.0, 0.7, 0.3],
        "se": [0.05, 0.2, 0.2, 0.2, 0.1, 0.2, 0.1, 0.1],
        "pvalue": [0.01, 0.5, 0.01, 0.6, 0.01, 0.9, 0.02, 0.01],
        "std_all": [0.4, 0.1, 0.6, -0.1, 0.5, 0.0, 0.7, 0.3], "n_obs": 100,
        "converged": [True, True, True, True, True, True, True, True]})
    s = summarise(est, {"d": truth}, beta_truth=truth).set_index("label")
    assert s.at["a", "bias"] == pytest.approx(0.05)
    assert s.at["a", "rel_bias"] == pytest.approx(0.10)
    assert s.at["a", "rmse"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0 + 0.04) / 4))
    # |0.4-0.5| > 1.96*0.05; |0.7-0.5| > 1.96*0.1; the other two are covered
    assert s.at["a", "coverage"] == pytest.approx(0.5)
    assert s.at["a", "rejection"] == pytest.approx(1.0)
    assert np.isnan(s.at["z", "rel_bias"])
    assert s.at["z", "rejection"] == pytest.approx(0.25)
    a = assess(s.reset_index()).set_index("label")
    assert not a.at["a", "bias_ok"] and not a.at["a", "pass"]
    with pytest.raises(KeyError, match="no true values"):
        summarise(est, {"other": truth}, beta_truth=truth)


def test_unconverged_replications_are_left_out():
    est = pd.DataFrame({"design": "d", "method": "ML", "rep": [0, 1, 2], "label": "a",
                        "est": [0.5, 0.5, 9.0], "se": 0.1, "pvalue": 0.0, "std_all": 0.5,
                        "n_obs": 10, "converged": [True, True, False]})
    truth = pd.DataFrame({"label": ["a"], "kind": ["path"], "true": [0.5], "true_std": [0.5]})
    s = summarise(est, {"d": truth}, beta_truth=truth)
    assert s.at[0, "n_reps"] == 2 and s.at[0, "bias"] == pytest.approx(0)


def test_large_continuous_samples_recover_every_path(truth):
    """N = 3,200 residents, 30 replications: |bias| within 4 Monte Carlo SEs for every path
    (Bonferroni over 12 paths at 1% with t(29): 3.9), SE ratio within the ~13% sampling
    error of an SD from 30 draws (3 SEs), pooled Wald coverage within 3 SEs of 95%. A bias
    of 0.02 (5% of a typical path) is about 5 MC SEs here and would fail."""
    d = Design("big", n_residents=3200)
    est = monte_carlo(d, 30, seed=2, n_jobs=2)
    s = summarise(est, {"big": truth})
    paths = s[s["kind"] == "path"]
    assert (paths["n_reps"] == 30).all()
    mcse = paths["emp_sd"] / np.sqrt(paths["n_reps"])
    assert (paths["bias"].abs() < 4 * mcse).all()
    assert paths["se_ratio"].between(0.6, 1.4).all()
    assert 0.90 <= paths["coverage"].mean() <= 0.99


def test_listwise_deletion_selects_on_the_mar_driver():
    d = Design("mar", missing_rate=0.2, methods=("FIML", "listwise"))
    data = simulate_design(d, seed=1)
    res = fit_sem(chain_model(CB), data, missing="listwise", std_se=False)
    assert 0.72 < res.n_obs / len(data) < 0.88  # about 20% of residents dropped
    rep = fit_replication(d, 0, seed=1)
    assert set(rep["method"]) == {"FIML", "listwise"}
    n = rep.groupby("method")["n_obs"].first()
    assert n["FIML"] == len(simulate_design(d, seed=int(np.random.SeedSequence(
        1, spawn_key=(d.key, 0)).generate_state(1, dtype=np.uint64)[0])))
    assert n["listwise"] < n["FIML"]


def test_bootstrap_coverage_table(truth):
    b = bootstrap_coverage(Design("main"), n_reps=2, n_boot=20, seed=3, truth=truth)
    assert list(b.columns) == ["label", "kind", "n_reps", "true", "coverage", "mcse_coverage",
                               "mean_width"]
    assert list(b["label"]) == list(truth.table["label"])
    assert b["coverage"].between(0, 1).all() and (b["mean_width"] > 0).all()
    # the TrueValues only adds the warm start: the same replications from its table alone
    cold = bootstrap_coverage(Design("main"), n_reps=2, n_boot=20, seed=3, truth=truth.table)
    pd.testing.assert_frame_equal(cold[["label", "kind", "n_reps", "true"]],
                                  b[["label", "kind", "n_reps", "true"]])


def test_fiml_honours_std_se_false():
    """FIML replications skip the delta-method SEs of std.all they do not use (this was an
    xfail until analysis.sem passed std_se through to the FIML path)."""
    data = simulate_design(Design("m", n_residents=400, missing_rate=0.1), seed=1)
    res = fit_sem(chain_model(CB), data, missing="fiml", std_se=False)
    assert res.estimates["se_std"].isna().all()
