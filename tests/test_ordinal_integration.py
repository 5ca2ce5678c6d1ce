"""Study functions for WLSMV, ordinal reliability and auxiliary variables (issues 15, 19).

References: ``tests/reference/ordinal_reliability_reference.R`` (psych 2.2.9 and lavaan
0.6-14 on the shipped survey; output committed in ``tests/reference/ordinal_reliability/``).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.io.codebook import construct_items, load_codebook
from analysis.io.survey import load_survey
from analysis.study import indicators, robustness, structural

REF = Path(__file__).parent / "reference" / "ordinal_reliability"


@pytest.fixture(scope="module")
def survey():
    cb = load_codebook()
    return cb, load_survey(None, cb)


def test_ordinal_coefficients_on_lavaan_matrix():
    """Alpha/omega step alone, on lavaan's polychoric matrix, against psych::alpha and
    psych::omega(nfactors = 1) of that matrix. Alpha is closed form (1e-10); omega rests on
    the minres fit, which both programs iterate to convergence (1e-6 relative)."""
    ref = pd.read_csv(REF / "survey_ordinal.csv").set_index("construct")
    for c, row in ref.iterrows():
        R = pd.read_csv(REF / f"survey_polychoric_{c}.csv").set_index("item").to_numpy()
        a, w = indicators.ordinal_coefficients(R)
        assert a == pytest.approx(row["ordinal_alpha"], rel=1e-10), c
        assert w == pytest.approx(row["ordinal_omega"], rel=1e-6), c


def test_ordinal_reliability_against_r(survey):
    """Whole pipeline (our polychoric -> coefficients) against R. Our polychorics agree with
    lavaan's to ~1e-5 (tests/test_sem_ordinal.py); propagated into alpha/omega that is well
    under 1e-4 relative. psych::polychoric's matrix gives slightly different values (its
    optimiser); the 1e-4 tolerance covers both."""
    cb, sv = survey
    ours = indicators.ordinal_reliability(sv, cb).set_index("construct")
    ref = pd.read_csv(REF / "survey_ordinal.csv").set_index("construct")
    assert list(ours.index) == list(ref.index)
    assert (ours["n"] == ref["n"]).all()
    for col in ("ordinal_alpha", "ordinal_omega"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-4)
    np.testing.assert_allclose(ours["ordinal_alpha"], ref["psych_poly_alpha"], rtol=1e-4)
    np.testing.assert_allclose(ours["ordinal_omega"], ref["psych_poly_omega"], rtol=1e-4)
    # ordinal coefficients exceed the Pearson-based ones for five-point items (Zumbo 2007)
    pearson = indicators.reliability(sv, cb).set_index("construct")
    assert (ours["ordinal_alpha"] > pearson["alpha"]).all()


def test_ordinal_coefficients_refuse_bad_matrix():
    with pytest.raises(ValueError, match="square"):
        indicators.ordinal_coefficients(np.ones((2, 3)))
    with pytest.raises(ValueError, match="unit diagonal"):
        indicators.ordinal_coefficients(2 * np.eye(3))


def test_difference_test_dispatches_wlsmv(survey):
    """WLSMV: the scaled-shifted test of lrt_scaled (checked against lavTestLRT in
    test_sem_ordinal.py), not the naive chi-square difference; ML: the LR test."""
    from analysis.sem import lrt_scaled

    cb, sv = survey
    fits = structural.fit_competing(cb, sv, ordered=True)
    t = robustness.difference_test(fits["H1"], fits["H0"])
    ref = lrt_scaled(fits["H1"], fits["H0"]).iloc[0]
    assert t["method"] == "satorra.2000"
    assert t["chisq_diff"] == ref["chisq_diff"] and t["p_diff"] == ref["pvalue"]
    naive = fits["H1"].fit_indices["chisq"] - fits["H0"].fit_indices["chisq"]
    assert abs(t["chisq_diff"] - naive) > 1.0
    ml = structural.fit_competing(cb, sv)
    assert robustness.difference_test(ml["H1"], ml["H0"])["method"] == "LRT"


def test_resolve_auxiliary_checks_columns(survey):
    cb, sv = survey
    assert robustness.resolve_auxiliary(None, sv, cb)[0] == ["age"]
    assert robustness.resolve_auxiliary([], sv, cb)[0] == []
    with pytest.raises(ValueError, match="'height' is not a column"):
        robustness.resolve_auxiliary(["height"], sv, cb)
    with pytest.raises(ValueError, match="'MS1' is an item"):
        robustness.resolve_auxiliary(["MS1"], sv, cb)
    with pytest.raises(ValueError, match="'tenure' is not numeric"):
        robustness.resolve_auxiliary(["tenure"], sv, cb)


def test_missingness_predictors_hand_computed(survey):
    """Against a direct computation with numpy (closed form, 1e-12)."""
    cb, sv = survey
    t = robustness.missingness_predictors(sv, cb, ["age"]).iloc[0]
    items = [i for its in construct_items(cb).values() for i in its]
    n_miss = sv[items].isna().sum(axis=1).to_numpy(float)
    assert t["r_missing"] == pytest.approx(np.corrcoef(sv["age"], n_miss)[0, 1], rel=1e-12)
    assert t["mean_incomplete"] == pytest.approx(sv.loc[n_miss > 0, "age"].mean(), rel=1e-12)
    ms = sv[construct_items(cb)["MS"]].mean(axis=1)
    assert t["max_r_construct"] >= abs(np.corrcoef(sv["age"], ms)[0, 1]) - 1e-12
