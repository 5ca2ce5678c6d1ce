"""MLR (Huber-White SEs, Yuan-Bentler scaled test, robust CFI/TLI/RMSEA) against lavaan 0.6-14.

References: tests/reference/sem_robust/ (written by tests/reference/sem_robust_reference.R)
and the public oracle numbers in the project's SEM reference notes (HS MLR: scaled chisq
87.1316, scaling factor 0.979042, CFI.robust 0.929864, RMSEA.robust 0.092499, SEs x2
0.13208, x3 0.14109, x9 0.26638).

The moment-level tests use lavaan's own Delta, implied moments and information matrix, so
they check the casewise scores, the sandwich and the traces independently of our model
code; the end-to-end tests check fit_sem(estimator="MLR"). Robust quantities are asserted
to 1e-3 relative (the brief's tolerance); in practice they agree to ~1e-5, limited by
lavaan's optimiser and EM tolerances.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lavaan_compare import HS, XCOLS, compare_estimates, compare_fit
from semopy.examples import holzinger39, political_democracy

from analysis.sem import fiml, fit_sem, robust

REF = Path(__file__).parent / "reference" / "sem_robust"
PD = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""


def load(name):
    fit = json.loads((REF / f"{name}_fit.json").read_text())
    extra = json.loads((REF / f"{name}_extra.json").read_text())
    return fit, extra


def lavaan_group(name, X):
    """GroupMoments from lavaan's exported Delta and implied moments (our row order)."""
    fit, ex = load(name)
    pat = fiml.MissingPatterns(X)
    p = pat.p
    D = np.array(ex["delta"])
    if ex["implied_mean"] is not None:  # lavaan's rows are [mu, vech(Sigma)]
        D = np.r_[D[p:], D[:p]]
        em = fiml.saturated_em(pat)
        mu, mu1, S1 = np.array(ex["implied_mean"]), em.mu, em.Sigma
    else:
        mu = mu1 = X.mean(axis=0)
        S1 = np.cov(X.T, bias=True)
    g = robust.GroupMoments(pat, mu, np.array(ex["implied_cov"]), D, mu1, S1)
    info = np.array(ex["information"]) * fit["ntotal"]  # lavaan's is per case
    return fit, ex, g, info


@pytest.fixture(scope="module")
def hs_x():
    return holzinger39.get_data()[[f"x{i}" for i in range(1, 10)]].to_numpy()


@pytest.mark.parametrize("name", ["hs_mlr", "hs_fiml_mlr"])
def test_scores_sandwich_and_scaling_from_lavaan_delta(name, hs_x, hs_mcar):
    X = hs_x if name == "hs_mlr" else hs_mcar[XCOLS].to_numpy()
    fit, ex, g, info = lavaan_group(name, X)
    B = robust.meat([g])
    np.testing.assert_allclose(B / fit["ntotal"], ex["information_first_order"], rtol=1e-7,
                               atol=1e-10)
    np.testing.assert_allclose(robust.sandwich(info, B), ex["vcov"], rtol=1e-7, atol=1e-12)
    yb = robust.yuan_bentler_mplus([g], info, fit["df"], B)
    assert yb["scaling_factor"] == pytest.approx(fit["chisq.scaling.factor"], rel=1e-6)


def test_fiml_corrected_robust_indices_from_lavaan_delta(hs_mcar):
    for name, version in (("hs_fiml_mlr", "V3"), ("hs_fiml_ml", "V6")):
        fit, ex, g, _ = lavaan_group(name, hs_mcar[XCOLS].to_numpy())
        ll0, mu0, var0 = fiml.baseline_loglik(g.patterns)
        fc = robust.fiml_corrected([g], fit["df"], robust.baseline_groups([g], [mu0], [var0]),
                                   version=version)
        rb = robust.robust_indices(fc["XX3"], fit["df"], fc["c3"], fc["XX3_null"],
                                   fc["df_null"], fc["c3_null"], fit["ntotal"])
        for k in ("cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
                  "rmsea_ci_upper_robust"):
            assert rb[k] == pytest.approx(fit[k.replace("_", ".")], rel=1e-4), (name, k)


def test_hs_mlr_oracle_numbers():
    res = fit_sem(HS, holzinger39.get_data(), estimator="MLR")
    fi = res.fit_indices
    assert res.estimator == "MLR"
    assert fi["chisq"] == pytest.approx(85.3055, abs=1e-3)
    assert fi["chisq_scaled"] == pytest.approx(87.1316, abs=1e-3)
    assert fi["scaling_factor"] == pytest.approx(0.979042, abs=1e-5)
    assert fi["cfi_robust"] == pytest.approx(0.929864, abs=1e-5)
    assert fi["rmsea_robust"] == pytest.approx(0.092499, abs=1e-5)
    se = res.estimates.set_index(["lhs", "op", "rhs"])["se"]
    assert se[("visual", "=~", "x2")] == pytest.approx(0.13208, abs=1e-4)
    assert se[("visual", "=~", "x3")] == pytest.approx(0.14109, abs=1e-4)
    assert se[("speed", "=~", "x9")] == pytest.approx(0.26638, abs=1e-4)
    compare_estimates(res, "hs_mlr")
    compare_fit(res, "hs_mlr", skip=("unrestricted.logl",))  # not reported for complete data


def test_pd_mlr_matches_lavaan():
    res = fit_sem(PD, political_democracy.get_data(), estimator="MLR")
    compare_estimates(res, "pd_mlr")
    compare_fit(res, "pd_mlr", skip=("unrestricted.logl",))
    # ML and MLR share point estimates and the unscaled test
    ml = fit_sem(PD, political_democracy.get_data())
    np.testing.assert_allclose(res.theta, ml.theta)
    assert res.fit_indices["chisq"] == ml.fit_indices["chisq"]


def test_mlr_with_fixed_x_covariates_matches_lavaan():
    # the moments of fixed exogenous covariates leave the h1 trace and the baseline
    data = holzinger39.get_data().dropna(subset=["ageyr", "grade"])
    res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                  "visual ~ ageyr + grade\ntextual ~ grade", data, estimator="MLR")
    compare_estimates(res, "hs_mlr_fixedx")
    compare_fit(res, "hs_mlr_fixedx", skip=("unrestricted.logl",))


def test_hs_fiml_mlr_matches_lavaan(hs_mcar):
    res = fit_sem(HS, hs_mcar, estimator="MLR", missing="fiml")
    compare_estimates(res, "hs_fiml_mlr")
    compare_fit(res, "hs_fiml_mlr")


def test_multigroup_mlr_matches_lavaan():
    res = fit_sem(HS, holzinger39.get_data(), group="school", estimator="MLR")
    compare_estimates(res, "hs_mlr_school")
    compare_fit(res, "hs_mlr_school", skip=("unrestricted.logl",))


def test_multigroup_fiml_mlr_matches_lavaan(hs_mcar):
    res = fit_sem(HS, hs_mcar, group="school", estimator="MLR", missing="fiml")
    compare_estimates(res, "hs_fiml_mlr_school")
    compare_fit(res, "hs_fiml_mlr_school")


def test_survey_fiml_mlr_matches_lavaan():
    data = pd.read_csv(REF / "survey_recoded.csv")
    syntax = (REF / "chain.lav").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(syntax, data, estimator="MLR", missing="fiml")
    compare_estimates(res, "survey_fiml_mlr")
    compare_fit(res, "survey_fiml_mlr")


def test_index_formulas():
    # sem.md: HS ML chisq 85.3055 (df 24), RMSEA 0.092121, CFI 0.930560 with baseline 918.852
    assert robust.rmsea(85.3055, 24, 301) == pytest.approx(0.092121, abs=1e-6)
    assert robust.rmsea(10.0, 24, 301) == 0.0
    assert robust.rmsea(10.0, 0, 301) == 0.0
    assert robust.cfi(85.3055, 24, 918.852, 36) == pytest.approx(0.930560, abs=1e-5)
    assert robust.cfi(10.0, 24, 918.852, 36) == 1.0
    lo, hi = robust.rmsea_ci(85.3055, 24, 301)
    assert (lo, hi) == pytest.approx((0.071418, 0.113678), abs=1e-5)


def test_group_moments_checks_delta_shape(hs_x):
    pat = fiml.MissingPatterns(hs_x)
    with pytest.raises(ValueError, match="rows"):
        robust.GroupMoments(pat, hs_x.mean(0), np.eye(9), np.zeros((10, 3)), hs_x.mean(0),
                            np.eye(9))
