"""Power and sample-size planning (analysis.power)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from analysis.io.codebook import load_codebook  # noqa: E402
from analysis.plots.validation import plot_power
from analysis.study.population import POPULATION  # noqa: E402
from analysis.study.power import (
    cluster_information,
    design_effect,
    monte_carlo_power,
    planned_population,
    power_table,
    required_residents,
)

CB = load_codebook()


def _toy_codebook():
    rows = []
    for c, role in (("A", "element"), ("B", "element"), ("Y", "outcome")):
        for i in range(1, 4):
            rows.append({"item": f"{c}{i}", "construct": c, "construct_en": c, "construct_zh": c,
                         "role": role, "wording_en": "w", "wording_zh": "w", "scale_min": 1,
                         "scale_max": 5, "reverse": False, "missing_codes": "9"})
    return pd.DataFrame(rows)


def test_power_follows_the_wald_formula_and_scales_with_n():
    pw = power_table(sample_sizes=[400, 1600], n_communities=[16], icc=0.0).table
    a = pw[pw["n_residents"] == 400].set_index("label")
    b = pw[pw["n_residents"] == 1600].set_index("label")
    np.testing.assert_allclose(a["se"] / b["se"], 2.0)  # SE ~ 1/sqrt(N) without clustering
    z = stats.norm.ppf(0.975)
    r = a["true"].abs() / a["se"]
    np.testing.assert_allclose(a["power"], stats.norm.cdf(r - z) + stats.norm.cdf(-r - z))
    assert (a["deff"] == 1).all()
    # a standardised path of 0.10 into PV is far from certain at 400 residents
    assert 0.2 < a.at["b_MS_PV", "power"] < 0.5 and a.at["b_MS_CS", "power"] > 0.999


def test_clustering_lowers_power_and_more_communities_restore_it():
    pw = power_table(sample_sizes=[1600], n_communities=[16, 64], icc=0.12).table
    few = pw[pw["n_communities"] == 16].set_index("label")
    many = pw[pw["n_communities"] == 64].set_index("label")
    plain = power_table(sample_sizes=[1600], n_communities=[64], icc=0.0).table.set_index("label")
    assert (few["power"] <= many["power"] + 1e-12).all()
    assert (many["power"] <= plain["power"] + 1e-12).all()
    assert (few["deff"] > many["deff"]).all() and (many["deff"] > 1).all()


def test_cluster_design_effects_are_below_the_scott_holt_rule():
    info = cluster_information(icc=0.12).table.set_index("label")
    # items' unique parts are not clustered, so g < icc_x * icc_e for the latent paths
    assert (info.loc[info["kind"] == "path", "g"] < 0.12 ** 2).all()
    assert (info["g"] > 0).all()
    assert design_effect(34, 0.12) == pytest.approx(1 + 33 * 0.0144)


def test_analytic_design_effect_matches_simulated_spread():
    """icc = 0.3, 50 residents in each of 16 communities: analytic deff ~3.2. Over 40
    replications an SD has ~11% relative error; the mean over 12 paths of (emp SD /
    corrected SE) is held within 0.8-1.25 (about 2 SEs allowing for correlated paths),
    while the naive SE understates the spread by a factor ~1.8 (clearly detectable)."""
    mc = monte_carlo_power(designs=[(800, 16)], icc=0.3, n_reps=40, seed=5, n_jobs=2)
    paths = mc[mc["label"].str.startswith("b_")]
    ratio = paths["emp_sd"] / (paths["mean_se"] * np.sqrt(paths["deff"]))
    assert 0.8 < ratio.mean() < 1.25
    assert (paths["emp_sd"] / paths["mean_se"]).mean() > 1.4
    assert (paths["power_naive"] >= paths["power"]).all()
    assert (paths["n_reps"] == 40).all()


def test_monte_carlo_power_is_reproducible_across_workers():
    kw = dict(designs=[(200, 8)], icc=0.1, n_reps=4, seed=1)
    pd.testing.assert_frame_equal(monte_carlo_power(n_jobs=1, **kw),
                                  monte_carlo_power(n_jobs=2, **kw))


def test_required_residents_reach_the_target_power():
    pw = power_table(sample_sizes=[400], icc=0.0)
    need = required_residents(pw).set_index("label")
    labels = ["b_MS_PV", "b_MS_OM", "ind_MS_CS"]
    for lab in labels:
        n = int(need.at[lab, "n_required"])
        at = power_table(sample_sizes=[n, n - 1], n_communities=[1], icc=0.0).table.set_index(
            ["label", "n_residents"])["power"]
        assert at[(lab, n)] >= 0.80 > at[(lab, n - 1)] - 0.001


def test_too_few_communities_cannot_be_fixed_by_residents():
    pw = power_table(sample_sizes=[400], n_communities=[4], icc=0.3)
    need = required_residents(pw, n_communities=4).set_index("label")
    assert np.isinf(need.at["b_CS_PV", "n_required"])
    assert np.isfinite(need.at["b_MS_CS", "n_required"])
    with pytest.raises(ValueError, match="power"):
        required_residents(pw, power=1.2)
    with pytest.raises(TypeError, match="PowerAnalysis"):
        required_residents(pw.table, n_communities=4)  # the slopes g are not in the table


def test_a_users_own_codebook_and_effects():
    cb = _toy_codebook()
    effects = {("A", "B"): 0.4, ("A", "Y"): 0.2, ("B", "Y"): 0.3}
    pw = power_table(cb, effects, loadings=0.7, sample_sizes=[300]).table
    t = pw.set_index("label")
    assert t.at["b_A_B", "effect"] == pytest.approx(0.4, abs=1e-8)
    assert t.at["ind_A_B", "effect"] == pytest.approx(0.12, abs=1e-8)
    assert set(pw["label"]) == {"b_A_B", "b_A_Y", "b_B_Y", "ind_A_B", "indirect_A", "total_A"}


def test_planned_population_refuses_impossible_plans():
    cb = _toy_codebook()
    with pytest.raises(ValueError, match="give effects"):
        planned_population(cb)
    with pytest.raises(ValueError, match="lacks"):
        planned_population(cb, {("A", "Z"): 0.3})
    with pytest.raises(ValueError, match="loadings"):
        planned_population(cb, {("A", "B"): 0.3}, loadings=1.2)
    with pytest.raises(ValueError, match="icc"):
        planned_population(cb, {("A", "B"): 0.3}, icc=1.0)
    with pytest.raises(ValueError, match="unit variance"):
        planned_population(cb, {("A", "B"): 1.2})
    with pytest.raises(ValueError, match="sample_sizes"):
        power_table(sample_sizes=[])
    pop = planned_population()
    assert pop["paths"] == POPULATION["paths"] and pop["type_shifts"] == {}


def test_plot_power_draws_one_panel_per_kind():
    pw = power_table(sample_sizes=[200, 800], n_communities=[8, 32], icc=0.1).table
    fig = plot_power(pw)
    assert len(fig.axes) == 2  # structural paths, specific indirect effects
    assert len(fig.axes[0].lines) == 12 * 2 + 1  # 12 paths x 2 community counts + target
    assert len(fig.axes[1].lines) == 16 * 2 + 1
    with pytest.raises(ValueError, match="empty"):
        plot_power(pw.iloc[:0])
