"""Common-method-variance checks (analysis.methods.method_variance) against lavaan 0.6-14 and
the published formulas.

Reference: tests/reference/method_variance_reference.R on tests/reference/method_variance/ulmc.csv
(three constructs, a method factor on every item). ML estimates agree with lavaan to the
optimiser's precision, so 1e-4 relative for chi-square and 1e-3 absolute for standardised
loadings are generous.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.methods.method_variance import (harman_single_factor, marker_adjusted_correlations,
                                              method_factor_syntax, method_factor_test,
                                              smallest_cross_correlation)
from analysis.sem import fit_sem

REF = Path(__file__).parent / "reference" / "method_variance"
CONSTRUCTS = {c.upper(): [f"{c}{k}" for k in (1, 2, 3, 4)] for c in "abc"}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "ulmc.csv")


def test_ulmc_fit_and_lrt_match_lavaan(data):
    table = method_factor_test(CONSTRUCTS, data)
    ref = pd.read_csv(REF / "ulmc_fit.csv")
    np.testing.assert_allclose(table["chisq"], ref["chisq"], rtol=1e-4)
    np.testing.assert_array_equal(table["df"], ref["df"])
    np.testing.assert_allclose(table["cfi"], ref["cfi"], atol=1e-4)
    lrt = pd.read_csv(REF / "ulmc_lrt.csv").iloc[0]
    assert table.loc[1, "chisq_diff"] == pytest.approx(lrt["chisq_diff"], rel=1e-4)
    assert table.loc[1, "df_diff"] == lrt["df_diff"]
    assert table["admissible"].all()


def test_ulmc_variance_shares_are_lavaans_squared_loadings(data):
    table = method_factor_test(CONSTRUCTS, data)
    std = pd.read_csv(REF / "ulmc_std_loadings.csv")
    method = std[std["lhs"] == "METHOD"]["est.std"]
    trait = std[std["lhs"] != "METHOD"]["est.std"]
    assert table.loc[1, "method_share"] == pytest.approx((method ** 2).mean(), abs=1e-3)
    assert table.loc[1, "trait_share"] == pytest.approx((trait ** 2).mean(), abs=1e-3)
    # the generating method loadings (.2-.6 against unit-ish traits) leave a clear share
    assert 0.05 < table.loc[1, "method_share"] < 0.3


def test_ulmc_without_method_variance_is_flagged_not_read():
    # no method factor in the population: the ULMC is empirically under-identified; it must
    # say so instead of returning numbers that look like results
    rng = np.random.default_rng(4)
    f = rng.normal(size=(800, 3))
    x = pd.DataFrame(np.repeat(f, 4, axis=1) + rng.normal(size=(800, 12)),
                     columns=[c for its in CONSTRUCTS.values() for c in its])
    table = method_factor_test(CONSTRUCTS, x)
    row = table.iloc[1]
    if not row["admissible"]:
        assert row["problem"]
    else:   # an admissible solution must then find (almost) no method variance
        assert row["method_share"] < 0.05


def test_method_factor_syntax_fits_as_written(data):
    res = fit_sem(method_factor_syntax(CONSTRUCTS), data)
    est = res.estimates
    assert est[(est["lhs"] == "METHOD") & (est["op"] == "~~") & (est["rhs"] == "METHOD")]["est"].iloc[0] == 1
    free = est[(est["lhs"] == "METHOD") & (est["op"] == "=~")]["se"]
    assert (free > 0).all() and len(free) == 12
    with pytest.raises(ValueError, match="also a construct"):
        method_factor_syntax({"METHOD": ["a1"]})


def test_harman_share_is_first_eigenvalue_over_items(data):
    h = harman_single_factor(data).iloc[0]
    ev = np.linalg.eigvalsh(data.corr().to_numpy())
    assert h["first_share"] == pytest.approx(ev.max() / 12, rel=1e-12)
    assert h["n_eigen_above_1"] == int((ev > 1).sum())
    # a single dominant factor is flagged
    rng = np.random.default_rng(0)
    g = rng.normal(size=(500, 1))
    one = pd.DataFrame(2 * g + rng.normal(size=(500, 6)))
    assert bool(harman_single_factor(one)["dominant"].iloc[0])


def test_lindell_whitney_formulas():
    # r = .5, r_M = .2: r_A = (.5 - .2) / .8 = .375; t = r_A / sqrt((1 - r_A^2) / (n - 3))
    rng = np.random.default_rng(1)
    x = rng.normal(size=203)
    y = 0.55 * x + rng.normal(size=203)
    df = pd.DataFrame({"X": x, "Y": y})
    r = df["X"].corr(df["Y"])
    out = marker_adjusted_correlations(df, "Y", 0.2).iloc[0]
    ra = (r - 0.2) / 0.8
    assert out["r_adjusted"] == pytest.approx(ra, rel=1e-12)
    assert out["t"] == pytest.approx(ra / np.sqrt((1 - ra ** 2) / 200), rel=1e-12)
    with pytest.raises(ValueError, match="r_marker"):
        marker_adjusted_correlations(df, "Y", 1.0)


def test_smallest_cross_correlation_ignores_within_construct_pairs(data):
    R = data.corr()
    cross = [R.loc[a, b] for ca, ia in CONSTRUCTS.items() for cb, ib in CONSTRUCTS.items()
             if ca < cb for a in ia for b in ib]
    assert smallest_cross_correlation(data, CONSTRUCTS) == pytest.approx(min(cross))
