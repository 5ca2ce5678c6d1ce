"""Ordinal SEM (thresholds, polychorics, DWLS / WLS / WLSMV) against lavaan 0.6-14.

References: tests/reference/sem_ordinal/ written by tests/reference/sem_ordinal_reference.R
(HolzingerSwineford1939 cut in R into 3-5 categories, with and without an MCAR mask;
psych::bfi, listwise -> 2,436 rows; the compendium's recoded survey with the chain model
from tests/reference/sem_robust/).

Tolerances (the brief's): estimates, SEs, std.all (and its delta-method SEs, lavaan's
``standardizedSolution``), chisq and chisq_scaled to 1e-3
relative; CFI, TLI, RMSEA (scaled and unscaled) and SRMR to 1e-3. A relative comparison is
meaningless for values near zero (thresholds at the median are ~0.003; RMSEA can be 0), so
the relative tolerance applies to ``max(|lavaan|, 0.05)`` for parameters and
``max(|lavaan|, 0.01)`` for fit indices. In practice everything agrees to ~2e-5 (lavaan's
optimiser tolerance; fit indices ~1e-6), except WLS (full weight matrix) thresholds near
zero, ~6e-4 of 0.05 in absolute terms. The polychoric statistics themselves (thresholds,
correlations, Gamma) are deterministic and agree to ~1e-7.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.sem import SEMError, SEMWarning, chisq_difference, fit_sem, lrt_scaled, polychoric
from analysis.sem.polychoric import bvn_cdf

REF = Path(__file__).parent / "reference" / "sem_ordinal"
ROBUST = Path(__file__).parent / "reference" / "sem_robust"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_DEF = ("visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
          "speed ~ b*visual + textual\nab := a*b")
HS_ORTH = HS + "\nvisual ~~ 0*speed\ntextual ~~ 0*speed"
XCOLS = [f"x{i}" for i in range(1, 10)]
MG = dict(group="school", group_equal=("loadings", "thresholds"))

FIT_MAP = {"chisq": "chisq", "chisq_scaled": "chisq.scaled",
           "scaling_factor": "chisq.scaling.factor",
           "shift_parameter": "chisq.shift.parameter", "baseline_chisq": "baseline.chisq",
           "baseline_chisq_scaled": "baseline.chisq.scaled",
           "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr",
           "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled",
           "rmsea_scaled": "rmsea.scaled", "rmsea_ci_lower": "rmsea.ci.lower",
           "rmsea_ci_upper": "rmsea.ci.upper", "fmin": "fmin", "pvalue": "pvalue",
           "pvalue_scaled": "pvalue.scaled", "baseline_df": "baseline.df"}


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(REF / "hs_cut.csv")


@pytest.fixture(scope="module")
def hs_na():
    return pd.read_csv(REF / "hs_cut_na.csv")


@pytest.fixture(scope="module")
def hs_mixed():
    """x1-x6 cut into categories, x7-x9 HolzingerSwineford1939's continuous scores."""
    return pd.read_csv(REF / "hs_mixed.csv")


def _fit(model, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        return fit_sem(model, data, **kw)


def compare_estimates(res, name, rtol=1e-3, floor=0.05):
    ref = pd.read_csv(REF / f"{name}_est.csv", keep_default_na=False, na_values=["NA"])
    ours = res.estimates.copy()
    if "group" not in ref.columns:
        ref["group"] = 1
    if "group" not in ours.columns:
        ours["group"] = 1
    ref = ref[ref["op"] != "=="]
    # defined parameters matched by name (lavaan re-spaces the expression)
    ref.loc[ref["op"] == ":=", "rhs"] = ""
    ref.loc[ref["op"] == ":=", "group"] = 0
    ours.loc[ours["op"] == ":=", "rhs"] = ""
    ours.loc[ours["op"] == ":=", "group"] = 0
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_lav", ""))
    assert len(m) == len(ref), "rows of lavaan's table missing from ours"
    for col, lav in [("est", "est_lav"), ("se", "se_lav"), ("std_all", "std.all"),
                     ("se_std", "se.std")]:
        ok = m[lav].notna() & m[col].notna()
        a, b = m.loc[ok, col].to_numpy(float), m.loc[ok, lav].to_numpy(float)
        err = np.abs(a - b) / np.maximum(np.abs(b), floor)
        worst = int(np.argmax(err))
        assert err.max() <= rtol, (col, m.loc[ok].iloc[worst][["lhs", "op", "rhs", "group"]]
                                   .tolist(), a[worst], b[worst])
    return m


def compare_fit(res, name, rtol=1e-3, floor=0.01):
    ref = json.loads((REF / f"{name}_fit.json").read_text())
    fi = res.fit_indices
    assert int(fi["npar"]) == ref["npar"] and int(fi["df"]) == ref["df"]
    checked = 0
    for ours, lav in FIT_MAP.items():
        if ref.get(lav) is None:
            continue
        assert ours in fi.index, ours
        b = ref[lav]
        assert abs(fi[ours] - b) <= rtol * max(abs(b), floor), (ours, fi[ours], b)
        checked += 1
    assert checked >= 8
    return ref


# ---- stage 1-2: bivariate normal, thresholds, polychorics, Gamma -------------------------

def test_bvn_cdf_matches_scipy():
    rng = np.random.default_rng(7)
    h, k = rng.normal(size=(2, 60)) * 1.5
    r = rng.uniform(-0.98, 0.98, 60)
    h[:4] = 0.0
    k[2:6] = 0.0
    ref = [stats.multivariate_normal(cov=[[1, c], [c, 1]]).cdf([a, b])
           for a, b, c in zip(h, k, r)]
    np.testing.assert_allclose(bvn_cdf(h, k, r), ref, atol=1e-7)  # scipy's Genz: ~1e-8
    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(stats.norm.cdf(0.3))
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0.0


def test_mixed_statistics_match_lavaan(hs_mixed):
    """Continuous items: -mean among the thresholds, variances, polyserial covariances
    (two-step ML) and Gamma as lavInspect(fit, "wls.obs"/"gamma"), to ~1e-8."""
    from analysis.sem.polychoric import encode_ordinal, ordinal_stats

    ex = json.loads((REF / "hs_wlsmv_mixed_extra.json").read_text())[0]
    codes = np.zeros((len(hs_mixed), 9), dtype=int)
    codes[:, :6], lev = encode_ordinal(hs_mixed, XCOLS[:6])
    st = ordinal_stats(codes, [len(lev[v]) for v in XCOLS[:6]] + [0, 0, 0], XCOLS,
                       numeric=hs_mixed[XCOLS].to_numpy(float))
    np.testing.assert_allclose(st.th[~st.th_num], ex["th"], atol=1e-10)
    np.testing.assert_allclose(-st.th[st.th_num], hs_mixed[XCOLS[6:]].mean(), rtol=1e-12)
    np.testing.assert_allclose(st.cor, ex["cor"], atol=1e-6)
    G = np.asarray(ex["gamma"])
    np.testing.assert_allclose(st.gamma, G, rtol=1e-5, atol=1e-6 * np.abs(G).max())
    pc = polychoric(hs_mixed, XCOLS, ordered=XCOLS[:6])
    np.testing.assert_allclose(pc.gamma, G, rtol=1e-5, atol=1e-6 * np.abs(G).max())
    assert list(pc.acov.index[15:21]) == ["x7~1", "x8~1", "x9~1", "x7~~x7", "x8~~x8",
                                          "x9~~x9"]
    np.testing.assert_allclose(pc.thresholds, ex["th"], atol=1e-10)


@pytest.mark.parametrize("case,data,missing", [("hs_wlsmv", "hs_cut.csv", "listwise"),
                                               ("hs_wlsmv_pairwise", "hs_cut_na.csv",
                                                "pairwise"),
                                               ("bfi_wlsmv", "bfi.csv", "listwise")])
def test_polychoric_thresholds_gamma_match_lavaan(case, data, missing):
    """lavInspect(fit, "sampstat") and "gamma": deterministic, so agreement ~1e-7."""
    d = pd.read_csv(REF / data)
    ex = json.loads((REF / f"{case}_extra.json").read_text())[0]
    cols = ex["ov"]
    pc = polychoric(d, cols, missing=missing)
    np.testing.assert_allclose(pc.thresholds.to_numpy(), ex["th"], atol=1e-10)
    assert list(pc.thresholds.index) == [n.replace("|", "|") for n in ex["th_names"]]
    np.testing.assert_allclose(pc.cor.to_numpy(), ex["cor"], atol=1e-6)
    G = np.asarray(ex["gamma"])
    np.testing.assert_allclose(pc.gamma, G, rtol=1e-5, atol=1e-6 * np.abs(G).max())
    np.testing.assert_allclose(np.diag(pc.acov.to_numpy()) * pc.n, np.diag(G), rtol=1e-5)


# ---- stage 3: fits against lavaan -----------------------------------------------------

CASES = {
    "hs_wlsmv": (HS, "hs", dict(ordered=True)),
    "hs_wlsmv_theta": (HS, "hs", dict(ordered=XCOLS, parameterization="theta")),
    "hs_dwls": (HS, "hs", dict(ordered=True, estimator="DWLS")),
    "hs_wls": (HS, "hs", dict(ordered=True, estimator="WLS")),
    "hs_wlsmv_def": (HS_DEF, "hs", dict(ordered=True)),
    "hs_wlsmv_mg": (HS, "hs", dict(ordered=True, **MG)),
    "hs_wlsmv_mg_theta": (HS, "hs", dict(ordered=True, parameterization="theta", **MG)),
    "hs_wlsmv_mg_config": (HS, "hs", dict(ordered=True, group="school")),
    "hs_wlsmv_mg_loadings": (HS, "hs", dict(ordered=True, group="school",
                                            group_equal="loadings")),
    "hs_wlsmv_mg_thresholds": (HS, "hs", dict(ordered=True, group="school",
                                              group_equal=["thresholds"])),
    "hs_wlsmv_pairwise": (HS, "hs_na", dict(ordered=True, missing="pairwise")),
    "hs_wlsmv_mixed": (HS, "hs_mixed", dict(ordered=XCOLS[:6])),
    "hs_wlsmv_mixed_theta": (HS, "hs_mixed", dict(ordered=XCOLS[:6],
                                                  parameterization="theta")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hs_fits_match_lavaan(name, hs, hs_na, hs_mixed):
    model, data, kw = CASES[name]
    res = _fit(model, {"hs": hs, "hs_na": hs_na, "hs_mixed": hs_mixed}[data], **kw)
    assert res.converged
    m = compare_estimates(res, name)
    compare_fit(res, name)
    n_th = 15 if "mixed" in name else 27  # x7-x9 continuous in the mixed cases
    assert (m["op"] == "|").sum() == n_th * (2 if "mg" in name else 1)
    assert res.estimator == kw.get("estimator", "WLSMV")


def test_wlsmv_without_estimator_equals_explicit(hs):
    a = _fit(HS, hs, ordered=True)
    b = _fit(HS, hs, ordered=XCOLS, estimator="WLSMV")
    np.testing.assert_array_equal(a.theta, b.theta)
    pd.testing.assert_series_equal(a.fit_indices, b.fit_indices)


@pytest.fixture(scope="module")
def survey_fit():
    d = pd.read_csv(ROBUST / "survey_recoded.csv")
    model = (ROBUST / "chain.lav").read_text()
    return _fit(model, d, ordered=True)


def test_survey_chain_matches_lavaan(survey_fit):
    res = survey_fit
    ref = compare_fit(res, "survey_wlsmv")
    assert res.n_obs == ref["nobs"] == 1160
    m = compare_estimates(res, "survey_wlsmv")
    assert (m["op"] == ":=").sum() == 22
    assert any("listwise deletion: 476" in w for w in res.warnings)


def test_bfi_five_factors_match_lavaan():
    d = pd.read_csv(REF / "bfi.csv")
    res = _fit((REF / "bfi.lav").read_text(), d, ordered=True)
    assert res.n_obs == 2436
    compare_estimates(res, "bfi_wlsmv")
    compare_fit(res, "bfi_wlsmv")


@pytest.mark.parametrize("restricted,full,kw,name", [
    (HS_ORTH, HS, {}, "hs_lrt_orth"),
    (HS, HS, "mg", "hs_lrt_mg"),
])
def test_lrt_scaled_matches_lavtestlrt(restricted, full, kw, name, hs):
    if kw == "mg":
        r0 = _fit(restricted, hs, ordered=True, **MG)
        r1 = _fit(full, hs, ordered=True, group="school")
    else:
        r0 = _fit(restricted, hs, ordered=True)
        r1 = _fit(full, hs, ordered=True)
    ref = pd.read_csv(REF / f"{name}.csv").iloc[1]
    out = lrt_scaled(r0, r1)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["df_diff"] == ref["df_diff"] and row["df"] == ref["df"]
    assert row["chisq_diff"] == pytest.approx(ref["chisq_diff"], rel=1e-3)
    assert row["pvalue"] == pytest.approx(ref["pvalue"], rel=1e-2)
    with pytest.raises(SEMError, match="restricted"):
        lrt_scaled(r1, r0)
    # the naive difference of two WLSMV chi-squares is refused, pointing to lrt_scaled
    with pytest.raises(ValueError, match="lrt_scaled"):
        chisq_difference(r0, r1)


def test_determinism(hs):
    a = _fit(HS, hs, ordered=True, **MG)
    b = _fit(HS, hs, ordered=True, **MG)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.vcov, b.vcov)


# ---- failure behaviour ------------------------------------------------------------------

def test_empty_category_in_a_group_is_an_error(hs):
    d = hs.copy()
    d.loc[(d["school"] == "Pasteur") & (d["x1"] == 3), "x1"] = 2
    with pytest.raises(SEMError, match=r"'x1'.*category 3 of 3 is empty.*Pasteur"):
        _fit(HS, d, ordered=True, **MG)


def test_rare_category_is_a_warning(hs):
    d = hs.copy()
    idx = d.index[d["x4"] == 4][3:]
    d.loc[idx, "x4"] = 3  # category 4 of x4 keeps 3 respondents
    with pytest.warns(SEMWarning, match="'x4': category 4 has only 3"):
        res = fit_sem(HS, d, ordered=True)
    assert any("only 3 respondent" in w for w in res.warnings)


def _inconsistent_pairs(n=300, seed=3):
    """Three items observed two at a time: a~b and b~c strongly positive, a~c strongly
    negative, so the pairwise polychoric matrix cannot be positive definite."""
    rng = np.random.default_rng(seed)
    blocks = []
    for cols, sign in [(("a", "b"), 1), (("b", "c"), 1), (("a", "c"), -1)]:
        z = rng.normal(size=n)
        u = (z + 0.4 * rng.normal(size=n) > 0).astype(float)
        v = (sign * z + 0.4 * rng.normal(size=n) > 0).astype(float)
        blocks.append(pd.DataFrame({cols[0]: u, cols[1]: v}))
    return pd.concat(blocks, ignore_index=True)[["a", "b", "c"]]


def test_non_positive_definite_polychorics_warn():
    d = _inconsistent_pairs()
    pc = polychoric(d, missing="pairwise")
    assert np.linalg.eigvalsh(pc.cor.to_numpy())[0] < 0
    assert any("not positive definite" in w for w in pc.warnings)
    with pytest.warns(SEMWarning) as rec:
        res = fit_sem("f =~ a + b + c", d, ordered=True, missing="pairwise")
    assert any("not positive definite" in str(w.message) for w in rec)
    assert any("not positive definite" in w for w in res.warnings)


def test_polychoric_at_the_boundary_is_an_error():
    d = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3] * 20, "b": [1, 1, 2, 2, 3, 3] * 20,
                      "c": [1, 2, 3, 1, 2, 3] * 20})
    with pytest.raises(SEMError, match="'b' and 'a' is at the boundary"):
        polychoric(d)


def test_bad_input_messages(hs):
    with pytest.raises(SEMError, match="none of the ordered columns"):
        _fit(HS, hs, ordered=["zz"])
    with pytest.raises(SEMError, match="pairwise.*not supported with continuous"):
        _fit(HS, hs, ordered=["x1", "x2"], missing="pairwise")
    with pytest.raises(SEMError, match="group_equal"):
        _fit(HS, hs, ordered=True, group="school", group_equal=("intercepts",))
    d = hs.copy()
    d["x2"] = d["x2"].astype(str)
    d.loc[7, "x2"] = "two"
    with pytest.raises(SEMError, match=r"'x2' has non-numeric values \(rows \[7\]\)"):
        _fit(HS, d, ordered=True)
    with pytest.raises(SEMError, match="parameterization"):
        _fit(HS, hs, ordered=True, parameterization="gamma")
    d = hs.copy()
    d["x5"] = 1
    with pytest.raises(SEMError, match="'x5' has fewer than 2 categories"):
        _fit(HS, d, ordered=True)


# ---- bootstrap of WLSMV fits ------------------------------------------------------------

def test_bootstrap_of_wlsmv_fit(hs):
    """Bootstrap SEs (60 resamples: each SE has ~9% Monte Carlo error) of the well
    determined parameters agree with the robust sandwich SEs: the median ratio lies within
    [0.85, 1.2] (both estimate the same sampling SD); CIs contain the estimate; the same
    seed gives identical draws for any number of workers."""
    from analysis.sem import bootstrap

    res = _fit(HS_DEF, hs, ordered=True)
    boot = bootstrap(res, 60, seed=11, progress=False)
    assert boot.n_failed == 0
    b = boot.table
    est = res.estimates[res.estimates["se"] > 0]
    m = b.merge(est[["lhs", "op", "rhs", "se"]], on=["lhs", "op", "rhs"],
                suffixes=("_boot", ""))
    assert len(m) == len(b) == res.model.n_free + 1
    ratio = (m["se_boot"] / m["se"]).median()
    assert 0.85 < ratio < 1.2, ratio
    assert ((m["ci_lower"] <= m["est"]) & (m["est"] <= m["ci_upper"])).all()
    ab = m[m["op"] == ":="].iloc[0]
    assert ab["lhs"] == "ab" and 0.5 < ab["se_boot"] / ab["se"] < 2
    d1 = bootstrap(res, 4, seed=3, progress=False, keep_draws=True).draws
    d2 = bootstrap(res, 4, seed=3, progress=False, keep_draws=True, n_jobs=2,
                   chunk_size=2).draws
    np.testing.assert_array_equal(d1, d2)


def test_polychoric_input_errors(hs):
    with pytest.raises(SEMError, match="column.*not found.*zz"):
        polychoric(hs, ["x1", "zz"])
    with pytest.raises(SEMError, match="at least two columns"):
        polychoric(hs, ["x1"])
    with pytest.raises(SEMError, match="missing must be"):
        polychoric(hs[XCOLS], missing="fiml")
    with pytest.raises(SEMError, match="missing must be 'listwise' or 'pairwise'"):
        _fit(HS, hs, ordered=True, missing="fiml")
    with pytest.raises(SEMError, match="ordered data, not 'MLR'"):
        _fit(HS, hs, ordered=True, estimator="MLR")
    res = _fit(HS, hs, ordered=True, estimator="DWLS")
    with pytest.raises(SEMError, match="two WLSMV fits"):
        lrt_scaled(res, res)
    from analysis.sem import modification_indices

    with pytest.raises(SEMError, match="not implemented for ordinal"):
        modification_indices(res)


def test_pairwise_multigroup_runs_and_listwise_reports_dropped(hs_na):
    res = _fit(HS, hs_na, ordered=True, missing="pairwise", **MG)
    assert res.converged and res.n_obs == len(hs_na) and res.n_dropped == 0
    lw = _fit(HS, hs_na, ordered=True)
    n_complete = int(hs_na[XCOLS].notna().all(axis=1).sum())
    assert lw.n_obs == n_complete and lw.n_dropped == len(hs_na) - n_complete
    assert any(f"{len(hs_na) - n_complete} of {len(hs_na)} rows" in w for w in lw.warnings)


def test_bca_bootstrap_of_wlsmv_fit(hs):
    """BCa needs the leave-one-out refits (jackknife) of the WLSMV fit: on 80 rows and a
    one-factor model the intervals bracket the estimates and differ from the percentile
    ones only through bias correction and acceleration (same draws, same seed)."""
    from analysis.sem import bootstrap

    d = hs.iloc[:80]
    res = _fit("textual =~ x4 + x5 + x6", d, ordered=True)
    pct = bootstrap(res, 40, seed=5, progress=False).table
    bca = bootstrap(res, 40, seed=5, ci="bca", progress=False).table
    np.testing.assert_array_equal(pct["se"], bca["se"])
    assert ((bca["ci_lower"] <= bca["est"]) & (bca["est"] <= bca["ci_upper"])).all()
    assert not np.allclose(pct["ci_lower"], bca["ci_lower"])


def test_ordered_categorical_columns_use_their_category_order(hs):
    """An ordered pandas Categorical gives the same fit as its integer codes, whatever
    the labels' alphabetical order."""
    d = hs.copy()
    labels = {1: "low", 2: "mid", 3: "high"}  # alphabetical order differs from the scale
    for v in ["x1", "x2", "x3"]:
        d[v] = pd.Categorical(d[v].map(labels), categories=["low", "mid", "high"],
                              ordered=True)
    a = _fit("visual =~ x1 + x2 + x3", d, ordered=True)
    b = _fit("visual =~ x1 + x2 + x3", hs, ordered=True)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-12)
