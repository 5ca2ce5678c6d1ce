"""Bootstrap CIs: lavaan's percentile intervals within Monte Carlo error, reproducibility
for any number of workers, and the BCa formula against scipy.stats.bootstrap.

Monte Carlo tolerance: a bootstrap quantile from B draws has standard error
se_q ~ sqrt(q (1 - q) / B) / f(x_q). We estimate it without assuming normality from our
own draws, by the order statistics one binomial SD either side of rank B q:
se_q ~ (x_(Bq + s) - x_(Bq - s)) / 2 with s = sqrt(B q (1 - q)). Ours and lavaan's
endpoints are independent, so their difference has SD ~ sqrt(2) se_q (both B = 1000); we
allow 4 SDs, which over ~70 endpoints leaves a false-alarm probability below 1%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sem_models import PD_MODEL
from semopy.examples import political_democracy

from analysis.sem import bootstrap, fit_sem
from analysis.sem.bootstrap import bca_limits

REF = Path(__file__).parent / "reference" / "sem"


def _merge_lavaan_cis(tab, filename):
    """lavaan's bootstrap CIs (free and defined parameters) beside ours, row by row.

    ``k`` is our row number (the column of the draws); ``:=`` rows match on lhs alone.
    """
    ref = pd.read_csv(REF / filename, keep_default_na=False, na_values=["NA"])
    ref = ref[ref["se"] > 0].rename(columns={"ci.lower": "lo_ref", "ci.upper": "hi_ref"})
    ref.loc[ref["op"] == ":=", "rhs"] = ""
    ours = tab.copy()
    ours["k"] = np.arange(len(ours))
    ours.loc[ours["op"] == ":=", "rhs"] = ""
    return ref, ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_ref", ""))


@pytest.fixture(scope="module")
def pd_fit():
    return fit_sem(PD_MODEL, political_democracy.get_data())


@pytest.fixture(scope="module")
def pd_boot(pd_fit):
    return bootstrap(pd_fit, n_boot=1000, seed=11, progress=False, keep_draws=True)


def _quantile_se(x, q):
    x = np.sort(x)
    B = len(x)
    s = np.sqrt(B * q * (1 - q))
    lo = int(np.clip(np.floor(B * q - s), 0, B - 1))
    hi = int(np.clip(np.ceil(B * q + s), 0, B - 1))
    return (x[hi] - x[lo]) / 2


def test_percentile_cis_match_lavaan_within_mc_error(pd_boot):
    tab = pd_boot.table
    assert pd_boot.n_failed == 0 and pd_boot.n_boot == 1000
    draws, cols = pd_boot.draws, pd_boot.columns
    assert draws.shape[0] == 1000 and len(cols) == len(tab)  # one draw column per row
    ref, m = _merge_lavaan_cis(tab, "pd_boot_perc.csv")
    assert len(m) == len(ref) == len(tab)  # every free and defined parameter
    assert np.allclose(m["est"], m["est_ref"], rtol=1e-3, atol=1e-4)
    n_checked = 0
    for r in m.itertuples():
        x = draws[:, cols[r.k]]
        for q, a, b in ((0.025, r.ci_lower, r.lo_ref), (0.975, r.ci_upper, r.hi_ref)):
            tol = 4 * np.sqrt(2) * _quantile_se(x, q)
            assert abs(a - b) <= tol, (r.lhs, r.op, r.rhs, q, a, b, tol)
            n_checked += 1
        # bootstrap SE: relative MC error of an SD from B=1000 is ~sqrt(1/(2B)) -> 4 SDs
        assert abs(r.se / r.se_ref - 1) <= 4 * np.sqrt(2) * np.sqrt(1 / 2000) + 0.02
    assert n_checked == 2 * len(m)


def test_same_seed_same_result_for_any_number_of_workers(pd_fit):
    a = bootstrap(pd_fit, n_boot=40, seed=3, n_jobs=1, chunk_size=7, progress=False)
    b = bootstrap(pd_fit, n_boot=40, seed=3, n_jobs=2, chunk_size=13, progress=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.draws is None and a.columns is None  # kept only on request
    assert (a.resampled, a.n_clusters) == ("rows", None)
    c = bootstrap(pd_fit, n_boot=40, seed=4, n_jobs=1, progress=False)
    assert not np.allclose(a.table["ci_lower"], c.table["ci_lower"])


def test_bca_formula_matches_scipy():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=60)  # skewed: nonzero bias correction and acceleration
    res = stats.bootstrap((x,), np.mean, n_resamples=4000, method="BCa",
                          confidence_level=0.9, random_state=np.random.default_rng(1))
    boot = res.bootstrap_distribution[:, None]
    jack = np.array([np.delete(x, i).mean() for i in range(len(x))])[:, None]
    lo, hi = bca_limits(boot, np.array([x.mean()]), jack, level=0.9)
    assert lo[0] == pytest.approx(res.confidence_interval.low, rel=1e-3)
    assert hi[0] == pytest.approx(res.confidence_interval.high, rel=1e-3)


def test_bca_on_sem(pd_fit):
    bca = bootstrap(pd_fit, n_boot=200, seed=5, ci="bca", progress=False)
    perc = bootstrap(pd_fit, n_boot=200, seed=5, ci="percentile", progress=False).table
    assert (bca.ci, bca.level, perc.shape[0]) == ("bca", 0.95, len(bca.table))
    tab = bca.table
    assert (tab["ci_lower"] < tab["ci_upper"]).all()
    assert np.allclose(tab["se"], perc["se"])  # same draws
    # the indirect effect's distribution is skewed: BCa shifts the interval
    ind = tab["lhs"] == "ind"
    assert not np.isclose(tab.loc[ind, "ci_lower"].item(), perc.loc[ind, "ci_lower"].item())


def test_bootstrap_rejects_bad_arguments(pd_fit):
    with pytest.raises(ValueError, match="ci must be"):
        bootstrap(pd_fit, n_boot=10, ci="normal", progress=False)


def test_survey_chain_percentile_cis_match_lavaan():
    """The compendium's chain model: all free and := parameters, 500 resamples of ours
    against lavaan's 1,000 (the tolerance accounts for both Monte Carlo errors)."""
    import warnings

    from analysis.io.survey import load_survey

    chain = (REF / "chain.lav").read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(chain, load_survey())
    B = 500
    boot = bootstrap(res, n_boot=B, seed=21, progress=False, keep_draws=True)
    tab, draws, cols = boot.table, boot.draws, boot.columns
    ref, m = _merge_lavaan_cis(tab, "survey_chain_boot_perc.csv")
    assert len(m) == len(ref) == len(tab)
    for r in m.itertuples():
        x = draws[:, cols[r.k]]
        for q, a, b in ((0.025, r.ci_lower, r.lo_ref), (0.975, r.ci_upper, r.hi_ref)):
            se_q = _quantile_se(x, q)  # for B = 500; lavaan's (B = 1000) is sqrt(1/2) of it
            assert abs(a - b) <= 4 * se_q * np.sqrt(1 + B / 1000), (r.lhs, r.op, r.rhs, q, a, b)


def test_bootstrap_multigroup_and_fixed_x():
    """Resampling within groups (mean structure: Fisher-scoring refits) and re-fixing the
    exogenous covariates' moments per resample (lavaan's fixed.x)."""
    from semopy.examples import holzinger39

    hs = holzinger39.get_data()
    res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", hs, group="school",
                  group_equal=("loadings",))
    boot = bootstrap(res, n_boot=30, seed=2, progress=False)
    tab = boot.table
    assert {"group", "est", "se", "ci_lower", "ci_upper"} <= set(tab.columns)
    assert len(tab) == (res.model.partable["free"] >= 0).sum()
    assert boot.n_failed == 0 and (tab["se"] > 0).all()
    est = res.estimates.set_index(["lhs", "op", "rhs", "group"])["est"]
    assert np.allclose(tab.set_index(["lhs", "op", "rhs", "group"])["est"],
                       est.loc[tab.set_index(["lhs", "op", "rhs", "group"]).index])

    fx = fit_sem("visual =~ x1 + x2 + x3\nvisual ~ ageyr", hs)
    tab = bootstrap(fx, n_boot=30, seed=2, progress=False).table
    assert not ((tab["lhs"] == "ageyr") & (tab["op"] == "~~")).any()  # fixed, not bootstrapped
    reg = tab[(tab["lhs"] == "visual") & (tab["op"] == "~")].iloc[0]
    assert reg["ci_lower"] < reg["est"] < reg["ci_upper"]


def test_bias_corrected_cis_match_lavaan_bca_simple(pd_fit, pd_boot):
    """ci="bc" (BCa without acceleration) against lavaan's boot.ci.type = "bca.simple";
    the same Monte Carlo tolerance as for the percentile intervals, with the quantile SE
    taken at the adjusted levels. The 1,000 draws are shared with the percentile test."""
    small = bootstrap(pd_fit, n_boot=30, seed=1, ci="bc", progress=False, keep_draws=True)
    est = np.concatenate([pd_fit.theta, pd_fit.defined_estimates["est"].to_numpy()])
    lo, hi = bca_limits(small.draws, est, None, 0.95)
    assert np.allclose(small.table["ci_lower"], lo[small.columns])
    draws, cols = pd_boot.draws, pd_boot.columns
    lo, hi = bca_limits(draws, est, None, 0.95)
    tab = pd_boot.table.copy()
    tab["ci_lower"], tab["ci_upper"] = lo[cols], hi[cols]
    ref, m = _merge_lavaan_cis(tab, "pd_boot_bca_simple.csv")
    assert len(m) == len(tab)
    for r in m.itertuples():
        x = draws[:, cols[r.k]]
        for a, b in ((r.ci_lower, r.lo_ref), (r.ci_upper, r.hi_ref)):
            q = np.clip((x < a).mean(), 0.005, 0.995)  # the level BC picked
            assert abs(a - b) <= 4 * np.sqrt(2) * _quantile_se(x, q), (r.lhs, r.op, r.rhs, a, b)
