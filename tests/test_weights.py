"""Weights checked against published worked examples and lavaan output.

Tolerances: examples published to k decimals are compared at half a unit of the k-th
decimal; algebra on the same inputs (total effects from lavaan's own estimates) at 1e-6.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.io import companions
from analysis.methods import weighting
from analysis.study import indicators

REF = Path(__file__).parent / "reference" / "psych"

# methods.md, AHP example (4 criteria)
A4 = [[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]]

# Saaty (2008), Int. J. Services Sciences 1(1), Table 2: relative consumption of drinks
# in the USA (coffee, wine, tea, beer, sodas, milk, water); published eigenvector to 3 dp.
DRINKS = [[1, 9, 5, 2, 1, 1, 1 / 2],
          [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
          [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
          [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
          [1, 9, 4, 2, 1, 2, 1 / 2],
          [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
          [2, 9, 9, 3, 2, 3, 1]]
DRINKS_W = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]


def consistent(w):
    w = np.asarray(w, float)
    return np.outer(w, 1 / w)


# ------------------------------------------------------------------------------ AHP
def test_ahp_methods_md_example():
    w, cr = weighting.ahp_weights(A4)
    np.testing.assert_allclose(w, [0.54757, 0.12656, 0.26995, 0.05593], atol=5e-6)
    c = weighting.ahp_consistency(A4)
    assert c["lambda_max"] == pytest.approx(4.11842, abs=5e-6)
    assert c["ri"] == 0.90
    assert cr == pytest.approx(0.0439, abs=5e-5)


def test_ahp_saaty_2008_drinks():
    w, cr = weighting.ahp_weights(DRINKS)
    np.testing.assert_allclose(w, DRINKS_W, atol=5e-4)
    assert cr < 0.10


def test_ahp_consistent_matrix_recovers_weights():
    true = np.array([0.4, 0.3, 0.2, 0.1])
    labels = list("abcd")
    w, cr = weighting.ahp_weights(pd.DataFrame(consistent(true), index=labels, columns=labels))
    assert list(w.index) == labels
    np.testing.assert_allclose(w.to_numpy(), true, atol=1e-12)
    assert cr == pytest.approx(0.0, abs=1e-12)


def test_ri_table_is_saatys():
    assert [weighting.SAATY_RI[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32,
                                                     1.41, 1.45, 1.49]


@pytest.mark.parametrize("bad, message", [
    ([[1, 3], [3, 1]], "not reciprocal"),
    ([[1, -2], [-0.5, 1]], "positive"),
    ([[1, 0], [0, 1]], "positive"),
    ([[1, np.nan], [1, 1]], "missing"),
    ([[1, 2, 3], [0.5, 1, 2]], "square"),
])
def test_ahp_bad_matrices(bad, message):
    with pytest.raises(ValueError, match=message):
        weighting.ahp_weights(bad)


def test_ahp_error_names_the_cell():
    m = pd.DataFrame(consistent([0.5, 0.3, 0.2]), index=list("xyz"), columns=list("xyz"))
    m.loc["x", "z"] = 4.0
    with pytest.raises(ValueError, match=r"\(x, z\)"):
        weighting.ahp_weights(m)


# ---------------------------------------------------------------------- expert panel
def write_panel(path, mats):
    rows = []
    for e, m in mats.items():
        for r, lab in enumerate("ABCDE"):
            rows.append({"expert_id": e, "row": lab, **dict(zip("ABCDE", m[r]))})
    pd.DataFrame(rows).to_csv(path, index=False)


PANEL_W = {"E1": [0.30, 0.25, 0.20, 0.15, 0.10], "E2": [0.10, 0.20, 0.30, 0.25, 0.15],
           "E3": [0.22, 0.18, 0.20, 0.20, 0.20]}


def inconsistent_matrix():
    m = consistent([0.2] * 5)
    # a cyclic judgement A > B > C > A, strongly: CR far above 0.10
    for i, j, v in [(0, 1, 9), (1, 2, 9), (2, 0, 9)]:
        m[i, j], m[j, i] = v, 1 / v
    return m


def test_load_expert_panel_and_group_aij_aip(tmp_path):
    mats = {e: consistent(w) for e, w in PANEL_W.items()}
    mats["E4"] = inconsistent_matrix()
    f = tmp_path / "panel.csv"
    write_panel(f, mats)
    panel = companions.load_expert_panel(f)
    assert list(panel) == ["E1", "E2", "E3", "E4"]

    g = weighting.group_ahp(panel, "aij")
    assert g.screened == ["E4"]
    assert g.consistency.set_index("expert_id").loc["E4", "cr"] > 0.10
    # AIJ of consistent matrices is the consistent matrix of the geometric-mean priorities
    gm = np.exp(np.mean(np.log([PANEL_W[e] for e in ("E1", "E2", "E3")]), axis=0))
    np.testing.assert_allclose(g.weights.to_numpy(), gm / gm.sum(), atol=1e-10)
    assert g.cr == pytest.approx(0.0, abs=1e-10)

    g2 = weighting.group_ahp(panel, "aip")
    am = np.mean([PANEL_W[e] for e in ("E1", "E2", "E3")], axis=0)
    np.testing.assert_allclose(g2.weights.to_numpy(), am / am.sum(), atol=1e-10)
    assert g2.screened == ["E4"]


def test_load_expert_panel_names_file_and_expert(tmp_path):
    mats = {e: consistent(w) for e, w in PANEL_W.items()}
    mats["E2"][0, 3] = 5.0            # breaks reciprocity with mats["E2"][3, 0]
    f = tmp_path / "experts.csv"
    write_panel(f, mats)
    with pytest.raises(ValueError, match=r"experts\.csv: expert E2.*not reciprocal"):
        companions.load_expert_panel(f)
    mats["E2"] = consistent(PANEL_W["E2"])
    mats["E3"][1, 2] = -1.0
    write_panel(f, mats)
    with pytest.raises(ValueError, match=r"expert E3.*positive"):
        companions.load_expert_panel(f)


def test_compendium_expert_panel_if_present():
    from analysis.io import paths
    if not paths.EXPERT_AHP.exists():
        pytest.skip("data/raw/expert_ahp.csv not written yet")
    panel = companions.load_expert_panel()
    g = weighting.group_ahp(panel)
    assert g.weights.sum() == pytest.approx(1.0)
    assert g.cr < 0.10
    assert len(g.screened) >= 1          # the synthetic panel includes inconsistent experts
    assert set(g.screened) == set(g.consistency.loc[g.consistency["cr"] >= 0.10, "expert_id"])


# ------------------------------------------------------------------------ entropy
def test_entropy_methods_md_raw_example():
    w = weighting.entropy_weights([[1, 2], [4, 16]], variant="sum")
    np.testing.assert_allclose(w, [0.358889, 0.641111], atol=5e-7)


def test_entropy_xu_2004():
    # Xu (2004) EJOR 156(2) 530-532, as reproduced in pyrepo-mcda's test suite, 4 dp.
    X = [[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]]
    np.testing.assert_allclose(weighting.entropy_weights(X, variant="sum"),
                               [0.4630, 0.3992, 0.1378, 0.0000], atol=5e-5)


def test_entropy_zavadskas_podvezko_2016():
    # Zavadskas & Podvezko (2016) IJITDM 15(2) 267-283, entropy on raw proportions, 4 dp.
    X = [[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]]
    np.testing.assert_allclose(weighting.entropy_weights(X, variant="sum"),
                               [0.1146, 0.1981, 0.4185, 0.2689], atol=5e-5)


def test_entropy_minmax_by_hand_and_cost():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 2.0], "k": [5.0, 5.0, 5.0]})
    # by hand: a -> (0, 1/3, 1) ; b -> (1, 0, 1/2); constant k -> weight 0
    def d(z):
        p = np.asarray(z) / np.sum(z)
        p = p[p > 0]
        return 1 + np.sum(p * np.log(p)) / np.log(3)
    da, db = d([0, 1 / 3, 1]), d([1, 0, 0.5])
    w = weighting.entropy_weights(X)
    np.testing.assert_allclose(w, [da / (da + db), db / (da + db), 0.0], atol=1e-12)
    # b as cost: (3 - b)/2 = (0, 1, 0.5), the same proportions permuted -> same weight
    wc = weighting.entropy_weights(X, benefit={"a": True, "b": False, "k": True})
    np.testing.assert_allclose(wc, w, atol=1e-12)
    # scale invariance of the min-max variant
    np.testing.assert_allclose(weighting.entropy_weights(X * 7 + 3), w, atol=1e-12)


def test_entropy_bad_input():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, np.nan, 2.0]})
    with pytest.raises(ValueError, match=r"'b'.*rows 1"):
        weighting.entropy_weights(X)
    with pytest.raises(ValueError, match="variant"):
        weighting.entropy_weights([[1, 2], [3, 4]], variant="log")
    with pytest.raises(ValueError, match="cost"):
        weighting.entropy_weights([[1, 2], [3, 4]], benefit=[True, False], variant="sum")


# ------------------------------------------------------------------------- CRITIC
def test_critic_tus_aytac_adali_2019():
    # Tus & Aytac Adali (2019) Opsearch 56(2) 528-538, 3 dp, as reproduced in pyrepo-mcda.
    # The published weights are obtained with all six criteria min-max normalised
    # as benefit (the price column is not reversed), which is what we pass here.
    X = [[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3],
         [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]]
    np.testing.assert_allclose(weighting.critic_weights(X), [0.157, 0.249, 0.168, 0.121, 0.154, 0.151],
                               atol=5e-4)


def test_critic_by_hand_and_constant():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0, 3.0], "b": [2.0, 1.0, 1.0, 4.0],
                      "k": [1.0, 1.0, 1.0, 1.0]})
    Z = (X[["a", "b"]] - X[["a", "b"]].min()) / (X[["a", "b"]].max() - X[["a", "b"]].min())
    r = np.corrcoef(Z.to_numpy().T)[0, 1]
    C = Z.std().to_numpy() * (1 - r)
    w = weighting.critic_weights(X)
    np.testing.assert_allclose(w, list(C / C.sum()) + [0.0], atol=1e-12)
    # a cost indicator flips the sign of its correlations
    wc = weighting.critic_weights(X[["a", "b"]], benefit=[True, False])
    Cc = Z.std().to_numpy() * (1 + r)
    np.testing.assert_allclose(wc, Cc / Cc.sum(), atol=1e-12)


def test_critic_nan_raises():
    X = pd.DataFrame({"a": [1.0, 2.0, np.nan, np.nan], "b": [2.0, 1.0, 1.0, 4.0]})
    with pytest.raises(ValueError, match=r"'a'.*rows 2, 3"):
        weighting.critic_weights(X)


# --------------------------------------------------------------- SEM-based weights
@pytest.fixture(scope="module")
def pd_estimates():
    est = pd.read_csv(REF / "pd_estimates.csv").rename(columns={"std.all": "std_all"})
    return est


def test_total_effects_match_lavaan(pd_estimates):
    defined = pd_estimates[pd_estimates["op"] == ":="].set_index("lhs")
    for column in ("est", "std_all"):
        te = indicators.total_effects(pd_estimates, column=column)
        te = te.set_index(["source", "target"])["total"]
        assert te[("ind60", "dem65")] == pytest.approx(defined.loc["total_ind60", column], abs=1e-6)
        assert te[("dem60", "dem65")] == pytest.approx(defined.loc["total_dem60", column], abs=1e-6)


def test_path_weights(pd_estimates):
    w = indicators.path_weights(pd_estimates, "dem65")
    defined = pd_estimates[pd_estimates["op"] == ":="].set_index("lhs")["std_all"]
    t = defined[["total_ind60", "total_dem60"]].to_numpy()
    np.testing.assert_allclose(w.loc[["ind60", "dem60"]], t / t.sum(), atol=1e-6)
    with pytest.raises(ValueError, match="no path"):
        indicators.path_weights(pd_estimates, "dem65", sources=["ind60", "x1"])


def test_loading_weights_from_lavaan_cfa():
    std = pd.read_csv(REF / "cfa_std.csv").rename(columns={"est.std": "std_all"})
    lw = indicators.loading_weights(std)
    assert lw.groupby("construct")["weight"].sum().to_numpy() == pytest.approx([1.0] * 5)
    a = std[(std["op"] == "=~") & (std["lhs"] == "A")]["std_all"].to_numpy()
    np.testing.assert_allclose(lw[lw["construct"] == "A"]["weight"], a / a.sum(), atol=1e-12)
    bad = std.copy()
    bad.loc[(bad["op"] == "=~") & (bad["rhs"] == "A1"), "std_all"] = -0.3
    with pytest.raises(ValueError, match="A1"):
        indicators.loading_weights(bad)


# ------------------------------------------------------------------------ combining
def test_combine_weights_rules():
    s = pd.Series([0.5, 0.3, 0.2], index=list("abc"))
    o = pd.Series([0.2, 0.5, 0.3], index=list("cba"))     # different order on purpose
    m = indicators.combine_weights(s, o)
    prod = np.array([0.5 * 0.3, 0.3 * 0.5, 0.2 * 0.2])
    np.testing.assert_allclose(m.loc[list("abc")], prod / prod.sum(), atol=1e-12)
    lin = indicators.combine_weights(s, o, rule="linear", alpha=0.25)
    np.testing.assert_allclose(lin.loc[list("abc")],
                               0.25 * s.to_numpy() + 0.75 * np.array([0.3, 0.5, 0.2]))
    with pytest.raises(ValueError, match="different indicators"):
        indicators.combine_weights(s, o.rename({"c": "d"}))
    with pytest.raises(ValueError, match="non-negative"):
        indicators.combine_weights(s, pd.Series([np.nan, 0.5, 0.5], index=list("abc")))


def test_compare_weights_table():
    t = indicators.compare_weights(x=pd.Series([0.6, 0.4], index=["a", "b"]),
                          y=pd.Series([0.3, 0.7], index=["a", "b"]))
    assert t.loc["a", "rank_x"] == 1 and t.loc["a", "rank_y"] == 2


def test_indicator_system_table():
    cb = pd.DataFrame({"item": ["a1", "a2", "a3", "y1"], "construct": ["A", "A", "A", "Y"],
                       "construct_en": ["Alpha"] * 3 + ["Why"], "construct_zh": ["甲"] * 3 + ["乙"],
                       "wording_en": list("pqrs"), "wording_zh": list("甲乙丙丁")})
    lo = pd.DataFrame({"item": ["a1", "a2", "a3", "y1"], "std_all": [0.7, 0.6, 0.8, 0.9]})
    w = pd.Series([0.5, 0.3, 0.2], index=["a1", "a2", "a3"])
    t = indicators.indicator_system(cb, lo, {"x": w})
    assert t["w_x"].tolist()[:3] == [0.5, 0.3, 0.2] and np.isnan(t["w_x"].iloc[3])
    assert t.loc[t["item"] == "a3", "loading"].iloc[0] == 0.8
    with pytest.raises(ValueError, match="sum to"):
        indicators.indicator_system(cb, lo, {"x": w * 2})
    with pytest.raises(ValueError, match="missing or negative"):
        indicators.indicator_system(cb, lo, {"x": pd.Series([0.5, np.nan, 0.5], index=["a1", "a2", "a3"])})
