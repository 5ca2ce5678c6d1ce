"""The synthetic data come from the documented population model, reproducibly."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import load_codebook
from analysis.io.survey import load_survey
from analysis.study.population import (
    POPULATION,
    SEED,
    disturbance_variances,
    simulate_expert_panel,
    simulate_survey,
    standardised_effects,
    true_structural_matrix,
    write_raw_data,
)


def _digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_make_data_is_byte_identical_to_the_shipped_files(tmp_path):
    written = write_raw_data(tmp_path, seed=SEED)
    for p in written:
        assert _digest(p) == _digest(paths.DATA_RAW / p.name), f"{p.name} differs from data/raw"


def test_latent_variances_are_one_within_type():
    B, order = true_structural_matrix()
    psi = disturbance_variances()
    inv = np.linalg.inv(np.eye(len(order)) - B)
    np.testing.assert_allclose(np.diag(inv @ np.diag(psi) @ inv.T), 1.0, atol=1e-12)


def test_true_total_effects_follow_the_chain():
    eff = standardised_effects().set_index("element")
    b = POPULATION["paths"]
    # OM -> PV: direct + via RA + via CC.
    expected = b[("OM", "PV")] + b[("OM", "RA")] * b[("RA", "PV")] + b[("OM", "CC")] * b[("CC", "PV")]
    assert eff.loc["OM", "total"] == pytest.approx(expected, abs=1e-12)
    assert eff.loc["RA", "indirect"] == 0


def test_design_of_the_sample():
    survey = pd.read_csv(paths.SURVEY)
    sizes = survey.groupby("community_id").size()
    assert sizes.size == 4 * POPULATION["n_communities_per_type"] == 48
    assert 1500 <= len(survey) <= 1700
    assert sizes.min() == POPULATION["small_community_size"]
    assert survey.groupby("community_type")["community_id"].nunique().eq(12).all()


def test_latent_structure_is_recovered_by_simple_regression():
    # Large sample, continuous items, no missingness: the latent path MS -> CS is recovered.
    _, latent, _ = simulate_survey(seed=7, n_communities_per_type=200, likert=False,
                                   missing=False, return_latent=True)
    slope = np.polyfit(latent["MS"], latent["CS"], 1)[0]
    # Pooled over types the slope is slightly off .50 (type shifts); it stays within .05.
    assert slope == pytest.approx(POPULATION["paths"][("MS", "CS")], abs=0.05)


def test_missingness_is_a_few_percent_and_at_random_on_age():
    df = load_survey()
    items = load_codebook()["item"].tolist()
    share = df[items].isna().mean().mean()
    assert 0.005 < share < 0.05
    any_missing = df[items].isna().any(axis=1)
    assert df.loc[any_missing, "age"].mean() > df.loc[~any_missing, "age"].mean() + 3


def test_performance_icc_is_in_the_documented_range():
    df = load_survey()
    pv = df[[f"PV{i}" for i in range(1, 6)]].mean(axis=1)
    g = df["community_id"]
    k = pv.groupby(g).size()
    grand = pv.mean()
    msb = (k * (pv.groupby(g).mean() - grand) ** 2).sum() / (k.size - 1)
    msw = ((pv - pv.groupby(g).transform("mean")) ** 2).sum() / (len(pv) - k.size)
    icc1 = (msb - msw) / (msb + (k.mean() - 1) * msw)
    assert 0.10 <= icc1 <= 0.16


def test_expert_panel_consistency_as_designed():
    panel = simulate_expert_panel()
    ri5 = 1.12
    for eid, g in panel.groupby("expert_id"):
        m = g[["MS", "CS", "OM", "RA", "CC"]].to_numpy()
        np.testing.assert_allclose(m * m.T, 1.0, rtol=1e-12)
        cr = (np.max(np.linalg.eigvals(m).real) - 5) / 4 / ri5
        assert (cr >= 0.10) == (eid in POPULATION["ahp_inconsistent_experts"]), eid


def test_data_readme_documents_the_true_paths():
    import re
    text = (paths.DATA_RAW / "README.md").read_text(encoding="utf-8")
    documented = {(a, b): float(v) for a, b, v in
                  re.findall(r"^\| (\w\w) → (\w\w) \| ([0-9.]+) \|$", text, re.M)}
    assert documented == POPULATION["paths"]
