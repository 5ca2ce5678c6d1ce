"""Failure behaviour: each problem gives a clear SEMError (a ValueError) naming it, or a
flagged warning in the result (SEMWarning + result.warnings) - never a silent number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import SEMError, SEMWarning, fit_sem

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _exact_sample(cov, n=200, seed=0):
    """Data whose ML sample covariance equals ``cov`` exactly."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(cov)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    return z @ np.linalg.cholesky(cov).T


def test_missing_column_is_named(hs):
    with pytest.raises(SEMError, match="x10"):
        fit_sem(HS_MODEL + "\nspeed =~ x10", hs)
    with pytest.raises(ValueError, match="column.*not found.*x10"):
        fit_sem(HS_MODEL.replace("x9", "x10"), hs)


def test_missing_group_column(hs):
    with pytest.raises(SEMError, match="group column not found.*county"):
        fit_sem(HS_MODEL, hs, group="county")


def test_non_numeric_column(hs):
    with pytest.raises(SEMError, match="non-numeric.*school"):
        fit_sem("f =~ x1 + x2 + school", hs)


def test_constant_column_non_pd_covariance(hs):
    d = hs.copy()
    d["x3"] = 2.0
    with pytest.raises(SEMError, match="not positive definite.*x3"):
        fit_sem(HS_MODEL, d)


def test_collinear_columns_non_pd_covariance(hs):
    d = hs.copy()
    d["x3"] = d["x1"] + d["x2"]
    with pytest.raises(SEMError, match="not positive definite.*collinear"):
        fit_sem(HS_MODEL, d)


def test_more_parameters_than_moments(hs):
    with pytest.raises(SEMError, match="not identified.*4 free parameters.*3 sample moments"):
        fit_sem("f =~ x1 + x2", hs)


def test_singular_information_is_flagged(hs):
    # the scale of 'visual' is set neither by a marker nor by its variance
    model = HS_MODEL.replace("visual =~ x1", "visual =~ NA*x1")
    with pytest.warns(SEMWarning, match="singular"):
        res = fit_sem(model, hs)
    assert any("not be identified" in w for w in res.warnings)
    assert res.estimates.loc[res.estimates["op"] == "=~", "se"].isna().any()


def test_heywood_case_is_flagged():
    # communality of a implied by these correlations: .8 * .8 / .5 = 1.28 > 1
    cov = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    d = pd.DataFrame(_exact_sample(cov), columns=["a", "b", "c"])
    with pytest.warns(SEMWarning, match="Heywood"):
        res = fit_sem("f =~ a + b + c", d)
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("a", "~~", "a"), "est"] == pytest.approx(1 - 1.28, abs=1e-6)
    assert any("Heywood" in w and "a ~~ a" in w for w in res.warnings)


def test_non_convergence_is_flagged(hs):
    with pytest.warns(SEMWarning, match="did not converge"):
        res = fit_sem(HS_MODEL, hs, max_iter=1)
    assert not res.converged
    assert "NOT CONVERGED" in res.summary()


def test_listwise_deletion_is_reported(hs):
    d = hs.reset_index(drop=True)
    d.loc[[0, 5, 9], "x4"] = np.nan
    d.loc[[5, 20], "x7"] = np.nan
    d.loc[[30], "ageyr"] = np.nan  # not a model column: row kept
    with pytest.warns(SEMWarning, match="4 of 301 rows"):
        res = fit_sem(HS_MODEL, d)
    assert res.n_dropped == 4 and res.n_obs == 297
    full = fit_sem(HS_MODEL, d.dropna(subset=[f"x{i}" for i in range(1, 10)]))
    assert res.fit_indices["chisq"] == pytest.approx(full.fit_indices["chisq"], rel=1e-10)


def test_bad_options(hs):
    with pytest.raises(SEMError, match="estimator"):
        fit_sem(HS_MODEL, hs, estimator="WLSMV")
    with pytest.raises(SEMError, match="missing"):
        fit_sem(HS_MODEL, hs, missing="pairwise")
    with pytest.raises(SEMError, match="group_equal"):
        fit_sem(HS_MODEL, hs, group="school", group_equal=("residuals",))


def test_defined_parameter_with_unknown_label(hs):
    with pytest.raises(SEMError, match="'zz'"):
        fit_sem(HS_MODEL + "\nvisual ~~ a*textual\nd := a*zz", hs)


def test_latent_name_clashing_with_column(hs):
    with pytest.raises(SEMError, match="latent.*x1"):
        fit_sem("x1 =~ x2 + x3 + x4", hs)


def test_clean_fit_has_no_warnings(hs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SEMWarning)
        res = fit_sem(HS_MODEL, hs)
    assert res.converged and res.warnings == []


def test_ncx2_tail_survives_a_scipy_overflow(monkeypatch):
    """SciPy's noncentral chi-square overflows for some large df and noncentralities (seen
    in notebook 06 on a 10-point, 13-item codebook); the RMSEA p-value and interval then
    fall back to Patnaik's approximation instead of stopping the fit."""
    from scipy import stats

    from analysis.sem import fit_indices as fi

    exact = [fi.ncx2_sf(x, df, nc) for x, df, nc in [(300, 250, 30), (2500, 2000, 300)]]
    ci = fi.rmsea_ci(2500, 2000, 1600)

    def overflow(*args, **kwargs):
        raise OverflowError("Result of tgamma is too large to represent")

    monkeypatch.setattr(stats.ncx2, "sf", overflow)
    approx = [fi.ncx2_sf(x, df, nc) for x, df, nc in [(300, 250, 30), (2500, 2000, 300)]]
    # Patnaik's two-moment approximation: within 1e-4 absolute of the exact tails here
    assert approx == pytest.approx(exact, abs=1e-4)
    assert fi.rmsea_ci(2500, 2000, 1600) == pytest.approx(ci, abs=1e-4)
    assert fi.ncx2_sf(10.0, 5, 0.0) == pytest.approx(stats.chi2.sf(10.0, 5))
