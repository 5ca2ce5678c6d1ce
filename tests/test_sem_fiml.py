"""FIML (missing = "ml") against lavaan 0.6-14.

References are written by tests/reference/sem_robust_reference.R (committed output in
tests/reference/sem_robust/); the data are committed there too (hs_mcar.csv: HS with a
seeded ~10% MCAR mask; survey_recoded.csv: the synthetic survey after codebook recoding).

Tolerances: lavaan's EM stops when moments change by < 1e-5 and its optimiser (nlminb)
at a relative tolerance near 1e-10 in the objective, so agreement is limited to about
1e-5 in estimates and 1e-6 in the likelihood; we assert estimates and SEs to 1e-3
relative (1e-3 absolute below 1), chisq to 1e-4 relative and the log-likelihood to 0.01.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lavaan_compare import (  # noqa: F401
    FIT_NAMES,
    HS,
    XCOLS,
    compare_estimates,
    compare_fit,
    load_extra,
    load_fit,
)
from semopy.examples import holzinger39

from analysis.sem import SEMError, fiml, fit_sem

REF = Path(__file__).parent / "reference" / "sem_robust"


@pytest.fixture(scope="module")
def pat(hs_mcar):
    return fiml.MissingPatterns(hs_mcar[XCOLS].to_numpy())


def test_patterns_group_rows(pat, hs_mcar):
    X = hs_mcar[XCOLS].to_numpy()
    assert pat.n == 301 and pat.p == 9
    assert pat.counts.sum() == 301
    # every row's observed values are the pattern's; pattern means reproduce the data
    obs = ~np.isnan(X)
    np.testing.assert_array_equal(pat.mask[pat.row_pattern], obs)
    k = int(np.argmax(pat.counts))
    rows = X[pat.row_pattern == k][:, pat.mask[k]]
    np.testing.assert_allclose(pat.ybar[k, pat.mask[k]], rows.mean(axis=0))
    assert pat.fraction_missing == pytest.approx(np.isnan(X).mean())


def test_loglik_at_lavaan_implied_moments(pat):
    ex = load_extra("hs_fiml_ml")
    ll = fiml.loglik(pat, ex["implied_mean"], np.array(ex["implied_cov"]))
    assert ll == pytest.approx(load_fit("hs_fiml_ml")["logl"], abs=1e-6)


def test_saturated_em_matches_lavaan_h1(pat):
    ex = load_extra("hs_fiml_ml")
    em = fiml.saturated_em(pat)
    assert em.converged
    assert em.loglik == pytest.approx(load_fit("hs_fiml_ml")["unrestricted.logl"], abs=1e-4)
    # lavaan's EM stops at a 1e-5 change in the moments
    np.testing.assert_allclose(em.Sigma, ex["h1_cov"], atol=5e-5)
    np.testing.assert_allclose(em.mu, ex["h1_mean"], atol=5e-5)


def test_saturated_em_complete_data_gives_sample_moments():
    X = holzinger39.get_data()[[f"x{i}" for i in range(1, 10)]].to_numpy()
    em = fiml.saturated_em(X)
    np.testing.assert_allclose(em.mu, X.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(em.Sigma, np.cov(X.T, bias=True), atol=1e-9)


def test_baseline_chisq(pat):
    em = fiml.saturated_em(pat)
    ll0, mu, var = fiml.baseline_loglik(pat)
    assert 2 * (em.loglik - ll0) == pytest.approx(load_fit("hs_fiml_ml")["baseline.chisq"],
                                                  rel=1e-7)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(7)
    L = rng.normal(size=(4, 4))
    X = rng.multivariate_normal(np.arange(4.0), L @ L.T + np.eye(4), size=60)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[0] = np.nan  # an empty row is dropped with a warning
    with pytest.warns(UserWarning, match="all values missing"):
        pat = fiml.MissingPatterns(X)
    Sigma = np.cov(np.nan_to_num(X[1:]).T) + np.eye(4)
    mu = np.array([0.1, 0.9, 2.2, 2.8])
    return pat, mu, Sigma


def _unpack(x, p):
    r, c = fiml.vech_indices(p)
    S = np.zeros((p, p))
    S[r, c] = S[c, r] = x[: r.size]
    return x[r.size:], S


def test_gradient_and_hessian_against_finite_differences(small):
    pat, mu, Sigma = small
    p = pat.p
    x0 = np.r_[fiml.vech(Sigma), mu]
    h = 1e-6
    E = np.eye(x0.size)
    num_g = [(fiml.loglik(pat, *_unpack(x0 + h * e, p)) - fiml.loglik(pat, *_unpack(x0 - h * e, p)))
             / (2 * h) for e in E]
    np.testing.assert_allclose(fiml.gradient(pat, mu, Sigma), num_g, rtol=1e-6, atol=1e-6)
    num_H = np.array([(fiml.gradient(pat, *_unpack(x0 + h * e, p))
                       - fiml.gradient(pat, *_unpack(x0 - h * e, p))) / (2 * h) for e in E])
    np.testing.assert_allclose(fiml.hessian(pat, mu, Sigma), num_H, rtol=1e-5, atol=1e-5)


def test_scores_sum_to_gradient(small):
    pat, mu, Sigma = small
    S = fiml.casewise_scores(pat, mu, Sigma)
    assert S.shape == (pat.n, 14)
    np.testing.assert_allclose(S.sum(axis=0), fiml.gradient(pat, mu, Sigma), atol=1e-10)


def test_loglik_not_positive_definite_is_minus_inf(small):
    pat, mu, _ = small
    assert fiml.loglik(pat, mu, -np.eye(4)) == -np.inf


def test_bad_input():
    with pytest.raises(ValueError, match="2-d"):
        fiml.MissingPatterns(np.arange(5.0))
    X = np.ones((5, 2))
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match="no observed values"):
        fiml.MissingPatterns(X)
    with pytest.raises(ValueError, match="shape"):
        fiml.loglik(fiml.MissingPatterns(np.eye(3)), np.zeros(2), np.eye(3))


def test_fit_sem_fiml_hs_matches_lavaan(hs_mcar):
    res = fit_sem(HS, hs_mcar, missing="fiml")
    assert res.converged and res.missing == "fiml" and res.n_obs == 301
    compare_estimates(res, "hs_fiml_ml")
    compare_fit(res, "hs_fiml_ml")


def test_fit_sem_fiml_survey_chain_model_matches_lavaan():
    data = pd.read_csv(REF / "survey_recoded.csv")
    syntax = (REF / "chain.lav").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(syntax, data, missing="fiml")
    compare_estimates(res, "survey_fiml_ml")
    compare_fit(res, "survey_fiml_ml")


def test_fiml_on_complete_data_gives_ml_estimates():
    data = holzinger39.get_data()
    ml = fit_sem(HS, data)
    fm = fit_sem(HS, data, missing="fiml")
    m = ml.estimates.merge(fm.estimates, on=["lhs", "op", "rhs"], suffixes=("_ml", ""))
    np.testing.assert_allclose(m["est"], m["est_ml"], atol=1e-5)
    assert fm.fit_indices["chisq"] == pytest.approx(ml.fit_indices["chisq"], rel=1e-6)
    assert fm.fit_indices["loglik"] == pytest.approx(ml.fit_indices["loglik"], abs=1e-4)


def test_fiml_rejects_fixed_x_covariates():
    data = holzinger39.get_data()
    with pytest.raises(SEMError, match="fixed.x"):
        fit_sem("visual =~ x1 + x2 + x3\nvisual ~ ageyr", data, missing="fiml")


# --- modification indices of FIML fits (lavaan modindices() on missing = "ml") -------------
# Score tests from the FIML likelihood with the expected FIML information. Tolerance: the
# estimates agree with lavaan's to ~1e-5 (its optimiser's tolerance), so MIs are asserted
# within 1e-3 relative or 1e-3 absolute, EPCs within 1e-3 relative or 1e-4 absolute.

def _within(ours, ref, rel, abs_):
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    return np.abs(ours - ref) <= np.maximum(abs_, rel * np.abs(ref))


def _compare_mi(mi, ref, keys):
    m = ref.merge(mi, on=keys, how="outer", suffixes=("_ref", ""), indicator=True)
    # the same candidate set as lavaan (non-identified candidates dropped on both sides)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", keys]
    assert _within(m["mi"], m["mi_ref"], 1e-3, 1e-3).all()
    assert _within(m["epc"], m["epc_ref"], 1e-3, 1e-4).all()
    assert _within(m["sepc_all"], m["sepc.all"], 1e-3, 1e-4).all()
    assert mi["mi"].is_monotonic_decreasing


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_modification_indices_fiml_hs_match_lavaan(hs_mcar, estimator):
    from analysis.sem import modification_indices

    res = fit_sem(HS, hs_mcar, missing="fiml", estimator=estimator, std_se=False)
    mi = modification_indices(res)
    ref = pd.read_csv(REF / "hs_fiml_modindices.csv")
    _compare_mi(mi, ref[ref["estimator"] == estimator].drop(columns="estimator"),
                ["lhs", "op", "rhs"])
    # the FIML score test differs from the complete-data test on the EM moments
    assert mi.iloc[0][["lhs", "op", "rhs"]].tolist() == ["visual", "=~", "x9"]
    assert mi["mi"].iloc[0] == pytest.approx(31.7122, abs=1e-3)


def test_modification_indices_fiml_multigroup_match_lavaan(hs_mcar):
    from analysis.sem import modification_indices

    res = fit_sem(HS, hs_mcar, missing="fiml", group="school", std_se=False)
    mi = modification_indices(res)
    # lavaan numbers groups in order of appearance, as fit_sem does
    _compare_mi(mi, pd.read_csv(REF / "hs_fiml_school_modindices.csv"),
                ["lhs", "op", "rhs", "group"])


def test_modification_indices_fiml_on_complete_data_equal_ml():
    from analysis.sem import modification_indices

    data = holzinger39.get_data()
    ml = modification_indices(fit_sem(HS, data, std_se=False))
    fm = modification_indices(fit_sem(HS, data, missing="fiml", std_se=False))
    m = ml.merge(fm, on=["lhs", "op", "rhs"], suffixes=("_ml", ""))
    assert len(m) == len(ml) == len(fm)
    np.testing.assert_allclose(m["mi"], m["mi_ml"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m["epc"], m["epc_ml"], rtol=1e-4, atol=1e-5)


def test_modification_indices_fiml_without_patterns_is_refused(hs_mcar):
    import dataclasses

    from analysis.sem import modification_indices

    res = fit_sem(HS, hs_mcar, missing="fiml", std_se=False)
    with pytest.raises(SEMError, match="missingness pattern"):
        modification_indices(dataclasses.replace(res, extra={}))
