"""FIML with auxiliary variables (saturated correlates) against semTools' auxiliary().

References are written by tests/reference/sem_auxiliary_reference.R (semTools 0.5-6 with
lavaan 0.6-14; committed output in tests/reference/sem_auxiliary/, with the versions in
versions.json). The data are committed there too, written by sem_auxiliary_inputs.py:
hs_mar.csv is HolzingerSwineford1939 with x4..x8 missing at random given ``ageyr``
(seeded); survey_aux.csv is the synthetic survey after codebook recoding plus ``age``.

Tolerances: lavaan's EM stops when moments change by < 1e-5 and nlminb near a relative
1e-10 in the objective, so agreement is limited to ~1e-5 in estimates (measured: at most
6e-5 absolute, on a covariance with ``age`` in years). We assert estimates, SEs and std.all
to 1e-3 relative (1e-3 absolute below 1, 1e-4 for SEs), the likelihood-based statistics
(chisq, baseline chisq, scaled tests and scaling factors, CFI, TLI, RMSEA and its CI) to
1e-4 relative (measured: < 3e-6) and the log-likelihoods to 0.01 absolute (measured
< 1e-9 relative). SRMR and the robust CFI/TLI/RMSEA are functions of the EM moments
themselves, which lavaan's EM gives only to ~6e-5 (checked with lavInspect(fit, "h1") in
the two-group case); they are asserted to 1e-3 relative or 1e-4 absolute (measured: at
most 1.1e-4 relative, 2e-4 relative / 1.6e-5 absolute for the lower robust RMSEA limit,
which inverts the noncentral chi-square where it is flat).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from analysis.sem import SEMError, fit_sem, modification_indices
from analysis.sem.auxiliary import (baseline_statements, check_auxiliary, exogenous_observed,
                                    saturated_correlates)

REF = Path(__file__).parent / "reference" / "sem_auxiliary"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_REG = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
          "visual ~ sex + grade\ntextual ~ sex + visual")

# lavaan fitMeasures name -> our fit_indices name
FIT_NAMES = {
    "npar": "npar", "ntotal": "ntotal", "chisq": "chisq", "df": "df", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
    "baseline.pvalue": "baseline_pvalue", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
    "rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr",
    "logl": "loglik", "unrestricted.logl": "unrestricted_loglik", "aic": "aic", "bic": "bic",
    "chisq.scaled": "chisq_scaled", "pvalue.scaled": "pvalue_scaled",
    "chisq.scaling.factor": "scaling_factor",
    "baseline.chisq.scaled": "baseline_chisq_scaled",
    "baseline.chisq.scaling.factor": "baseline_scaling_factor",
    "cfi.robust": "cfi_robust", "tli.robust": "tli_robust", "rmsea.robust": "rmsea_robust",
    "rmsea.ci.lower.robust": "rmsea_ci_lower_robust",
    "rmsea.ci.upper.robust": "rmsea_ci_upper_robust",
}
LOGLIK = {"logl", "unrestricted.logl", "aic", "bic"}
# functions of the EM (h1) moments themselves, not only of the likelihood at its maximum
H1_BASED = {"srmr", "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
            "rmsea.ci.upper.robust"}


@pytest.fixture(scope="module")
def hs_mar():
    return pd.read_csv(REF / "hs_mar.csv")


@pytest.fixture(scope="module")
def survey():
    return pd.read_csv(REF / "survey_aux.csv"), (REF / "chain.lav").read_text(encoding="utf-8")


def _key(df: pd.DataFrame) -> pd.DataFrame:
    """(lhs, op, rhs, group) with ~~ pairs in a canonical order; := matched by name."""
    lhs, rhs = df["lhs"].astype(str), df["rhs"].fillna("").astype(str)
    swap = (df["op"] == "~~") & (lhs > rhs)
    defined = df["op"] == ":="
    group = df["group"] if "group" in df.columns else pd.Series(1, index=df.index)
    return pd.DataFrame(dict(a=np.where(swap, rhs, lhs), op=df["op"],
                             b=np.where(defined, "", np.where(swap, lhs, rhs)),
                             g=np.where(defined, 0, group)), index=df.index)


def compare_estimates(res, name, aux):
    ref = pd.read_csv(REF / f"{name}_est.csv", keep_default_na=False)
    ref = ref[ref["op"].isin(["=~", "~", "~~", "~1", ":="])]
    ours = res.estimates
    a = pd.concat([_key(ours), ours[["est", "se", "std_all", "auxiliary"]]], axis=1)
    b = pd.concat([_key(ref), ref[["est", "se", "std.all"]].astype(float)], axis=1)
    m = a.merge(b, on=["a", "op", "b", "g"], suffixes=("", "_lav"), validate="one_to_one")
    # the same rows on both sides: no auxiliary parameter missing or added
    assert len(m) == len(a) == len(b)
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(m["se"], m["se_lav"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(m["std_all"], m["std.all"], rtol=1e-3, atol=1e-3)
    # every row that involves an auxiliary is flagged, and only those
    involves = m["a"].isin(aux) | m["b"].isin(aux)
    assert (m["auxiliary"] == involves).all()
    n_aux = sum(1 for s in ours.itertuples() if s.lhs in aux or s.rhs in aux)
    assert int(ours["auxiliary"].sum()) == n_aux > 0
    assert not ours["label"].astype(str).str.startswith(".aux.").any()


def compare_fit(res, name):
    ref = json.loads((REF / f"{name}_fit.json").read_text())
    checked = 0
    for k, ours_name in FIT_NAMES.items():
        if k not in ref or ref[k] is None:
            continue
        ours = float(res.fit_indices[ours_name])
        if k in LOGLIK:
            assert ours == pytest.approx(ref[k], abs=0.01), k
        elif k in H1_BASED:
            assert ours == pytest.approx(ref[k], rel=1e-3, abs=1e-4), k
        else:
            assert ours == pytest.approx(ref[k], rel=1e-4, abs=1e-8), k
        checked += 1
    assert checked >= 20
    base = res.extra["baseline"]
    assert base["npar"] == ref["baseline.npar"]
    assert base["loglik"] == pytest.approx(ref["baseline.logl"], abs=0.01)


CASES = {
    "hs_aux_ml": dict(model=HS, auxiliary=["ageyr"]),
    "hs_aux_mlr": dict(model=HS, auxiliary=["ageyr"], estimator="MLR"),
    "hs_aux2_ml": dict(model=HS, auxiliary=["ageyr", "grade"]),
    "hs_aux_school_mlr": dict(model=HS, auxiliary="ageyr", group="school", estimator="MLR"),
    "hs_aux_school_scalar": dict(model=HS, auxiliary="ageyr", group="school",
                                 group_equal=("loadings", "intercepts")),
    "hs_aux_regression_mlr": dict(model=HS_REG, auxiliary="ageyr", estimator="MLR"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hs_auxiliary_matches_semtools(hs_mar, name):
    kw = dict(CASES[name])
    model = kw.pop("model")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit: no SEMWarning
        res = fit_sem(model, hs_mar, missing="fiml", **kw)
    assert res.converged
    aux = [kw["auxiliary"]] if isinstance(kw["auxiliary"], str) else kw["auxiliary"]
    assert res.extra["auxiliary"] == aux
    compare_estimates(res, name, aux)
    compare_fit(res, name)


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_survey_chain_model_with_age_matches_semtools(survey, estimator):
    data, chain = survey
    res = fit_sem(chain, data, missing="fiml", auxiliary=["age"], estimator=estimator)
    name = f"survey_aux_{estimator.lower()}"
    compare_estimates(res, name, ["age"])
    compare_fit(res, name)


def test_modification_indices_of_auxiliary_fit_match_lavaan(hs_mar):
    """The FIML score tests of the saturated-correlates model: the same candidate set as
    lavaan (none involves the auxiliary, whose part is saturated) and the same values
    (MI to 1e-3 relative or 1e-3 absolute, EPC to 1e-3 absolute: the estimates agree to
    ~1e-6, the MIs measured to < 1e-4)."""
    res = fit_sem(HS, hs_mar, missing="fiml", auxiliary="ageyr")
    mi = modification_indices(res)
    ref = pd.read_csv(REF / "hs_aux_ml_modindices.csv", keep_default_na=False)
    a = pd.concat([_key(mi), mi[["mi", "epc", "sepc_all"]]], axis=1)
    b = pd.concat([_key(ref), ref[["mi", "epc", "sepc.all"]]], axis=1)
    m = a.merge(b, on=["a", "op", "b", "g"], suffixes=("", "_lav"), validate="one_to_one")
    assert len(m) == len(a) == len(b)
    assert not (m["a"].eq("ageyr") | m["b"].eq("ageyr")).any()
    np.testing.assert_allclose(m["mi"], m["mi_lav"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(m["epc"], m["epc_lav"], atol=1e-3)
    np.testing.assert_allclose(m["sepc_all"], m["sepc.all"], atol=1e-3)
    assert mi.iloc[0][["lhs", "op", "rhs"]].tolist() == ["x7", "~~", "x8"]


def test_auxiliary_changes_the_fiml_estimates(hs_mar):
    """With MAR given ageyr, adding ageyr moves estimates beyond the lavaan tolerance
    (both fits agree with their own lavaan references)."""
    plain = fit_sem(HS, hs_mar, missing="fiml").estimates
    aux = fit_sem(HS, hs_mar, missing="fiml", auxiliary="ageyr").estimates
    ref = pd.read_csv(REF / "hs_fiml_est.csv", keep_default_na=False)
    m = plain.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_lav"))
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=1e-3, atol=1e-3)
    both = aux.merge(plain, on=["lhs", "op", "rhs"], suffixes=("_aux", ""))
    intercepts = both[both["op"] == "~1"]
    moved = (intercepts["est_aux"] - intercepts["est"]).abs()
    # the means of the complete items are their sample means either way; of the incomplete
    # x4..x8, three shift by more than 0.03 (30 times the tolerance; measured 0.04-0.10)
    assert moved[intercepts["lhs"].isin(["x1", "x2", "x3", "x9"])].max() < 1e-6
    incomplete = moved[intercepts["lhs"].isin(["x4", "x5", "x6", "x7", "x8"])]
    assert (incomplete > 0.03).sum() >= 3


def test_complete_data_auxiliary_leaves_model_unchanged():
    """Graham (2003): with complete data the saturated correlates change nothing in the
    model (same estimates, SEs, chisq and df as plain ML)."""
    hs = holzinger39.get_data()
    ml = fit_sem(HS, hs, missing="fiml")
    aux = fit_sem(HS, hs, missing="fiml", auxiliary=["ageyr", "agemo"])
    m = aux.estimates[~aux.estimates["auxiliary"]].merge(ml.estimates,
                                                         on=["lhs", "op", "rhs"])
    assert len(m) == len(ml.estimates)
    np.testing.assert_allclose(m["est_x"], m["est_y"], atol=1e-6)
    np.testing.assert_allclose(m["se_x"], m["se_y"], atol=1e-6)
    for k in ("chisq", "df", "rmsea"):
        assert aux.fit_indices[k] == pytest.approx(ml.fit_indices[k], rel=1e-6, abs=1e-8)
    assert aux.fit_indices["npar"] == ml.fit_indices["npar"] + 2 * 9 + 3 + 2
    # the baseline of semTools keeps the model's baseline df
    assert aux.fit_indices["baseline_df"] == ml.fit_indices["baseline_df"]


def test_rewrite_and_baseline_statements():
    out = saturated_correlates("f =~ y1 + y2\ny2 ~ x1 + x2", ["a", "b"],
                               exogenous=exogenous_observed("f =~ y1 + y2\ny2 ~ x1 + x2"))
    text = [f"{s.lhs} {s.op} {s.rhs}".strip() for s in out]
    assert text[:3] == ["f =~ y1", "f =~ y2", "y2 ~ x1"]
    assert "x1 ~~ x2" in text
    assert {"a ~~ a", "a ~~ b", "b ~~ b", "a ~1", "b ~1"} <= set(text)
    # every auxiliary with every observed variable of the model (x1, x2 exogenous)
    assert {f"{a} ~~ {v}" for a in "ab" for v in ("y1", "y2", "x1", "x2")} <= set(text)
    assert len(text) == 4 + 1 + 3 + 2 + 8
    base = [f"{s.lhs} {s.op} {s.rhs}".strip() for s in baseline_statements(["y1", "y2"], ["a"])]
    assert base == ["y1 ~~ y1", "y2 ~~ y2", "a ~~ a", "a ~1", "a ~~ y1", "a ~~ y2"]


def test_bad_auxiliary_input(hs_mar):
    with pytest.raises(SEMError, match="missing='fiml'"):
        fit_sem(HS, hs_mar, auxiliary="ageyr")
    with pytest.raises(SEMError, match="already in the model: x1"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary=["x1"])
    with pytest.raises(SEMError, match="not found in data: nope"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary=["nope"])
    with pytest.raises(SEMError, match="group column"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary=["school"], group="school")
    with pytest.raises(SEMError, match="listed twice: ageyr"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary=["ageyr", "ageyr"])
    bad = hs_mar.assign(age_txt=hs_mar["ageyr"].astype(str))
    bad.loc[[4, 9], "age_txt"] = "n/a"
    with pytest.raises(SEMError, match=r"'age_txt' is not numeric \(e.g. 'n/a' in row\(s\) 4, 9"):
        fit_sem(HS, bad, missing="fiml", auxiliary="age_txt")
    inf = hs_mar.assign(z=hs_mar["ageyr"].astype(float))
    inf.loc[7, "z"] = np.inf
    with pytest.raises(SEMError, match="'z' has infinite values in row"):
        fit_sem(HS, inf, missing="fiml", auxiliary="z")
    with pytest.raises(SEMError, match="'z' is constant"):
        fit_sem(HS, hs_mar.assign(z=1.0), missing="fiml", auxiliary="z")
    with pytest.raises(SEMError, match="'z' has no observed values"):
        fit_sem(HS, hs_mar.assign(z=np.nan), missing="fiml", auxiliary="z")
    with pytest.raises(SEMError, match="latent"):
        check_auxiliary(hs_mar.assign(visual=1.0), ["visual"], ["x1"], latent={"visual"})


# --------------------------------------------------------------------------------------
# Monte Carlo: auxiliaries remove the bias of FIML when missingness depends on them
# --------------------------------------------------------------------------------------

MC_REPS, MC_N = 25, 300
MC_TRUE = {("y1", "~1", ""): 0.0, ("y2", "~1", ""): 0.0, ("f", "=~", "y2"): 1.0,
           ("f", "~~", "f"): 0.49}


def _mc_sample(rng, n):
    """y = 0.7 f + e (residual variance 0.51); z correlates with f and with y1's residual;
    y1 and y2 are missing with logit P = -0.5 + 2.5 z (about 45%): MAR given z, not given
    the model's variables."""
    f = rng.normal(size=n)
    e = rng.normal(size=(n, 3)) * np.sqrt(0.51)
    y = 0.7 * f[:, None] + e
    z = 0.6 * f + 0.75 * e[:, 0] / np.sqrt(0.51) + 0.3 * rng.normal(size=n)
    d = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(z=z)
    p = 1.0 / (1.0 + np.exp(-(-0.5 + 2.5 * z)))
    for c in ("y1", "y2"):
        d.loc[rng.random(n) < p, c] = np.nan
    return d


@pytest.fixture(scope="module")
def monte_carlo():
    rng = np.random.default_rng(20261202)
    out = {"aux": [], "plain": []}
    for _ in range(MC_REPS):
        d = _mc_sample(rng, MC_N)
        for kind, aux in (("aux", ["z"]), ("plain", [])):
            est = fit_sem("f =~ y1 + y2 + y3", d, missing="fiml", auxiliary=aux,
                          std_se=False).estimates.set_index(["lhs", "op", "rhs"])["est"]
            out[kind].append([est[k] for k in MC_TRUE])
    return {k: np.array(v) for k, v in out.items()}


def test_monte_carlo_auxiliary_removes_mar_bias(monte_carlo):
    """25 samples of 300 (seeded). The Monte Carlo SE of a mean estimate is sd / 5:
    0.01-0.04 with the auxiliary, 0.01-0.07 without (measured). With the auxiliary every
    mean (y1 and y2 intercepts, y2's loading, the factor variance) is within 4 MC SEs of
    the truth and within 0.05 of it. Plain FIML, for which the data are not MAR, misses the
    mean of y1 and the factor variance by more than 8 MC SEs (measured: -0.46 = 38 MC SEs
    and -0.19 = 9.5 MC SEs) and every parameter by at least 3 MC SEs (the loading: +0.27 =
    3.6 MC SEs); each plain bias is at least four times the auxiliary fit's."""
    truth = np.array(list(MC_TRUE.values()))
    for kind in ("aux", "plain"):
        assert np.isfinite(monte_carlo[kind]).all()
    bias_aux = monte_carlo["aux"].mean(axis=0) - truth
    bias_plain = monte_carlo["plain"].mean(axis=0) - truth
    mcse_aux = monte_carlo["aux"].std(axis=0, ddof=1) / np.sqrt(MC_REPS)
    mcse_plain = monte_carlo["plain"].std(axis=0, ddof=1) / np.sqrt(MC_REPS)
    assert (np.abs(bias_aux) <= 4 * mcse_aux).all(), (bias_aux, mcse_aux)
    assert (np.abs(bias_aux) < 0.05).all()
    strong = [list(MC_TRUE).index(k) for k in (("y1", "~1", ""), ("f", "~~", "f"))]
    assert (np.abs(bias_plain[strong]) >= 8 * mcse_plain[strong]).all(), bias_plain
    assert (np.abs(bias_plain) >= 3 * mcse_plain).all(), (bias_plain, mcse_plain)
    assert (np.abs(bias_plain) >= 4 * np.abs(bias_aux)).all(), (bias_plain, bias_aux)


def test_auxiliary_refused_with_cluster_or_ordered(hs_mar):
    with pytest.raises(SEMError, match="continuous FIML only"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary="ageyr", cluster="school")
    with pytest.raises(SEMError, match="continuous FIML only"):
        fit_sem(HS, hs_mar, missing="fiml", auxiliary="ageyr", ordered=["x1"])
