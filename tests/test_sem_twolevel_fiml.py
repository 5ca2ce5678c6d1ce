"""Two-level FIML (``fit_twolevel(..., missing="fiml")``) against lavaan 0.6-14.

Reference numbers: section 4 of ``tests/reference/sem_twolevel_reference.R`` (lavaan
``sem(model, data, cluster=, missing="ml")``), committed under
``tests/reference/sem_twolevel``: lavaan's Demo.twolevel and the generated two-level survey
(72 communities), each with about 10% of the indicators missing at random (the probability
rises with an always-observed variable), injected in R with a fixed seed and exported.

Tolerances as for the complete-data two-level tests (tests/test_sem_twolevel.py), for the
same reasons: lavaan's nlminb stops early (our -2 log L at the optimum is lower than
lavaan's: 6e-4 on Demo.twolevel), so estimates agree to 1e-3 relative OR 2e-3 of lavaan's
SE (near-zero level-2 intercepts); SEs and chi-squares to 1e-3 relative; CFI, TLI, RMSEA,
SRMR to 1e-3; loglik, AIC, BIC and the unrestricted loglik to 0.01 (lavaan's EM for the
saturated model stops 2e-3 short of the maximum on Demo.twolevel, which is also why its
chi-square is 3e-4 relative below ours).

The likelihood itself is checked exactly: at lavaan's saturated (h1) moments our observed
log-likelihood reproduces lavaan's ``unrestricted.logl`` to 1e-6, and on small data with
values missing at both levels it equals the multivariate normal density of each cluster's
stacked observed values (dense, brute force); the analytic gradient and the per-cluster
gradients (MLR scores) equal numerical derivatives.

MLR with FIML: lavaan 0.6-14 stops with an error for two-level models with missing="ml"
and estimator="MLR", so the reference is structural: on complete data the FIML fit (ML
and MLR) equals the listwise fit, which equals lavaan's.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from analysis.sem import SEMWarning
from analysis.sem.twolevel import cluster_stats, fit_twolevel, twolevel_objective
from analysis.sem.twolevel_fiml import missing_cluster_data

REF = Path(__file__).resolve().parent / "reference" / "sem_twolevel"

CASES = {
    "demo_fiml": ("demo_fiml.csv", "demo.lav", "cluster"),
    "generated_fiml": ("generated_fiml.csv", "generated.lav", "community"),
}
NAMES = {"logl": "loglik", "unrestricted.logl": "unrestricted_logl"}


def _fit(case, estimator="ML", data=None):
    csv, lav, cl = CASES[case]
    df = pd.read_csv(REF / csv) if data is None else data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        return fit_twolevel((REF / lav).read_text(), df, cluster=cl, estimator=estimator,
                            missing="fiml")


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case, estimator="ML"):
        if (case, estimator) not in cache:
            cache[(case, estimator)] = _fit(case, estimator)
        return cache[(case, estimator)]

    return get


def _ref(case):
    est = pd.read_csv(REF / f"{case}_ml_est.csv")
    est["rhs"] = est["rhs"].fillna("")
    fit = json.loads((REF / f"{case}_ml_fit.json").read_text())
    h1 = json.loads((REF / f"{case}_ml_h1.json").read_text())
    return est, fit, h1


def _covariate_rows(res, m):
    """Rows of the fixed.x covariates' own moments (their values come from h1)."""
    xs = set(res.model.within.ov_x) | set(res.model.between.ov_x)
    return m["lhs"].isin(xs) & (m["rhs"].isin(xs) | (m["op"] == "~1"))


@pytest.mark.parametrize("case", list(CASES))
def test_data_have_missing_values_at_random(case):
    csv, lav, cl = CASES[case]
    df = pd.read_csv(REF / csv)
    miss = df.columns[df.isna().any()]
    frac = df[miss].isna().to_numpy().mean()
    assert 0.07 < frac < 0.13  # about 10% of the incomplete indicators
    # at random: missingness rises with the always-observed driver
    driver = {"demo_fiml": "x1", "generated_fiml": "a1"}[case]
    assert df[driver].notna().all()
    r = np.corrcoef(df[driver], df[miss].isna().sum(axis=1))[0, 1]
    assert r > 0.1


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_se_match_lavaan(fits, case):
    res = fits(case)
    ref, _, _ = _ref(case)
    est = res.estimates[res.estimates["op"] != ":="]
    m = est.merge(ref, on=["lhs", "op", "rhs", "level"], suffixes=("", "_r"))
    assert len(m) == len(ref[ref["op"] != ":="]) == len(est)
    assert res.converged and res.missing == "fiml"
    free = m[m["se_r"] > 0]
    d = np.abs(free["est"] - free["est_r"])
    ok = (d <= 1e-3 * np.abs(free["est_r"])) | (d <= 2e-3 * free["se_r"])
    assert ok.all(), free.loc[~ok, ["lhs", "op", "rhs", "level", "est", "est_r", "se_r"]]
    assert np.max(np.abs(free["se"] - free["se_r"]) / free["se_r"]) < 1e-3
    cov = _covariate_rows(res, m)
    fixed = m[(m["se_r"] == 0) & ~cov]
    np.testing.assert_allclose(fixed["est"], fixed["est_r"], rtol=1e-6, atol=1e-4)
    # the covariates' moments (fixed.x): ours are their sample moments (the exact ML
    # estimates: with complete covariates the saturated likelihood factorises), lavaan's
    # come from its EM for h1 and are off by up to 1.3e-3
    np.testing.assert_allclose(m.loc[cov, "est"], m.loc[cov, "est_r"], atol=1.5e-3)
    std = m[~cov].dropna(subset=["std.all"])
    np.testing.assert_allclose(std["std_all"], std["std.all"], rtol=1e-3, atol=5e-4)


def test_covariate_moments_are_sample_moments(fits):
    res = fits("demo_fiml")
    df = pd.read_csv(REF / "demo_fiml.csv")
    w = df.groupby("cluster")[["w1", "w2"]].first()
    est = res.estimates.set_index(["lhs", "op", "rhs", "level"])["est"]
    assert est[("w1", "~~", "w2", 2)] == pytest.approx(np.cov(w.T, bias=True)[0, 1], abs=1e-7)
    assert est[("x1", "~~", "x1", 1)] == pytest.approx(df["x1"].var(ddof=0), abs=1e-7)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_indices_match_lavaan(fits, case):
    fi = fits(case).fit_indices
    _, ref, _ = _ref(case)

    def ours(k):
        return fi[NAMES.get(k, k.replace(".", "_"))]

    for k in ("npar", "df", "baseline.df", "ntotal", "nclusters"):
        assert ours(k) == ref[k], k
    for k in ("chisq", "baseline.chisq"):
        assert ours(k) == pytest.approx(ref[k], rel=1e-3), k
    for k in ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr",
              "srmr_within", "srmr_between", "pvalue"):
        assert ours(k) == pytest.approx(ref[k], abs=1e-3), k
    for k in ("logl", "aic", "bic", "unrestricted.logl"):
        assert ours(k) == pytest.approx(ref[k], abs=0.01), k
    # our maxima are not below lavaan's (its optimiser and its EM stop earlier)
    assert ours("logl") >= ref["logl"] - 1e-6
    assert ours("unrestricted.logl") >= ref["unrestricted.logl"] - 1e-6


@pytest.mark.parametrize("case", list(CASES))
def test_loglik_at_lavaans_h1_is_lavaans(fits, case):
    """The observed-data likelihood is lavaan's: at lavaan's h1 moments it gives lavaan's
    unrestricted.logl (the covariates' marginal part at their sample moments, which our
    h1 has), to rounding."""
    res = fits(case)
    _, ref, h = _ref(case)
    tl, cs = res.model, res.model.cs
    assert h["within_names"] == tl.within.ov_names and h["between_names"] == tl.between.ov_names
    Sw = np.array(h["h1_within_cov"])
    SB = np.zeros((cs.P, cs.P))
    SB[np.ix_(tl.pos_b, tl.pos_b)] = h["h1_between_cov"]
    mu = np.zeros(cs.P)
    mu[: cs.pw] = h["h1_within_mean"]
    mu[tl.pos_b] += np.array(h["h1_between_mean"])
    f = cs.objective(Sw, SB, mu, grad=False)
    h1 = res.extra["h1"]
    xw = [tl.within.ov_names.index(v) for v in tl.within.ov_x]
    xb = [int(tl.pos_b[tl.between.ov_names.index(v)]) for v in tl.between.ov_x]
    lx = 0.0
    for idx, S, n in ((xw, h1["Sigma_W"], cs.N), (xb, h1["Sigma_B"], cs.J)):
        if idx:
            k = len(idx)
            lx -= n / 2 * (k * np.log(2 * np.pi) + np.linalg.slogdet(S[np.ix_(idx, idx)])[1] + k)
    assert -f / 2 - lx == pytest.approx(ref["unrestricted.logl"], abs=1e-6)


def test_defined_parameter(fits):
    est = fits("generated_fiml").estimates.query("op == ':='").set_index("lhs")
    ref, _, _ = _ref("generated_fiml")
    theirs = ref[ref["op"] == ":="].set_index("lhs")
    assert est.loc["ind", "est"] == pytest.approx(theirs.loc["ind", "est"], rel=1e-3)
    assert est.loc["ind", "se"] == pytest.approx(theirs.loc["ind", "se"], rel=1e-3)


# -- the likelihood on small data ---------------------------------------------------------

W_NAMES, Z_NAMES = ["y1", "y2", "x"], ["z"]
POS_B = np.array([0, 1, 3])  # y1, y2 have between parts; x is within-only; z between-only


def _small_problem(seed=1, n_clusters=12, missing=True):
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(n_clusters), rng.integers(1, 6, n_clusters))
    A = rng.normal(size=(3, 3))
    Sw = A @ A.T + np.eye(3)
    Bm = rng.normal(size=(3, 3))
    SB = np.zeros((4, 4))
    SB[np.ix_(POS_B, POS_B)] = 0.3 * Bm @ Bm.T + 0.1 * np.eye(3)
    mu = rng.normal(size=4)
    df = pd.DataFrame(rng.normal(size=(len(cl), 3)) + mu[:3], columns=W_NAMES)
    df["z"] = rng.normal(size=n_clusters)[cl]
    df["c"] = cl
    if missing:
        for k, v in enumerate(W_NAMES):
            df.loc[rng.random(len(cl)) < 0.25, v] = np.nan
        df.loc[df["c"].isin([2, 5]), "z"] = np.nan  # between-only value missing
        df.loc[[0, 7], "z"] = np.nan  # ... or missing in some rows of a cluster only
        df = df[df[W_NAMES + Z_NAMES].notna().any(axis=1)]
    return df, Sw, SB, mu


def _dense(df, Sw, SB, mu):
    """-2 log L from each cluster's stacked observed values and their full covariance."""
    total = 0.0
    for _, g in df.groupby("c"):
        idx, x = [], []
        for m, (_, row) in enumerate(g.iterrows()):
            for k, v in enumerate(W_NAMES):
                if not np.isnan(row[v]):
                    idx.append((m, k))
                    x.append(row[v])
        z = g["z"].dropna()
        if len(z):
            idx.append((-1, 3))
            x.append(z.iloc[0])
        C = np.array([[SB[ka, kb] + (Sw[ka, kb] if ma == mb >= 0 else 0.0)
                       for mb, kb in idx] for ma, ka in idx])
        total -= 2 * multivariate_normal.logpdf(x, mu[[k for _, k in idx]], C)
    return total


def test_objective_equals_dense_likelihood():
    df, Sw, SB, mu = _small_problem()
    md = missing_cluster_data(df, W_NAMES, Z_NAMES, "c", POS_B)
    assert md.n_missing > 0
    assert md.objective(Sw, SB, mu, grad=False) == pytest.approx(_dense(df, Sw, SB, mu),
                                                                   rel=1e-12)


def test_complete_data_objective_is_the_complete_data_one():
    df, Sw, SB, mu = _small_problem(missing=False)
    md = missing_cluster_data(df, W_NAMES, Z_NAMES, "c", POS_B)
    cs = cluster_stats(df, W_NAMES, Z_NAMES, "c")
    assert md.objective(Sw, SB, mu, grad=False) == pytest.approx(
        twolevel_objective(cs, Sw, SB, mu, grad=False), rel=1e-12)


def test_gradient_and_cluster_gradients_are_derivatives():
    df, Sw, SB, mu = _small_problem(seed=3)
    md = missing_cluster_data(df, W_NAMES, Z_NAMES, "c", POS_B)
    _, (GW, GB, gm) = md.objective(Sw, SB, mu)
    h = 1e-6

    def num(dSw=0.0, dSB=0.0, dmu=0.0):
        fp = md.objective(Sw + h * dSw, SB + h * dSB, mu + h * dmu, grad=False)
        fm = md.objective(Sw - h * dSw, SB - h * dSB, mu - h * dmu, grad=False)
        return (fp - fm) / (2 * h)

    for i in range(3):
        for j in range(i + 1):
            E = np.zeros((3, 3))
            E[i, j] = E[j, i] = 1.0
            assert np.sum(GW * E) == pytest.approx(num(dSw=E), abs=1e-6)
    for a in range(3):
        for b in range(a + 1):
            E = np.zeros((4, 4))
            E[POS_B[a], POS_B[b]] = E[POS_B[b], POS_B[a]] = 1.0
            assert np.sum(GB * E) == pytest.approx(num(dSB=E), abs=1e-6)
    for k in range(4):
        assert gm[k] == pytest.approx(num(dmu=np.eye(4)[k]), abs=1e-6)
    # per-cluster gradients: each equals the gradient of that cluster's own likelihood
    cg = md.cluster_gradients(Sw, SB, mu)
    for lab in md.labels[:6]:
        one = missing_cluster_data(df[df["c"] == lab], W_NAMES, Z_NAMES, "c", POS_B)
        _, G1 = one.objective(Sw, SB, mu)
        k = md.labels.index(lab)
        for t in range(3):
            np.testing.assert_allclose(cg[t][k], G1[t], atol=1e-12)
    for t in range(3):
        np.testing.assert_allclose(cg[t].sum(axis=0), (GW, GB, gm)[t], atol=1e-10)


def test_not_positive_definite_is_infinite():
    df, Sw, SB, mu = _small_problem()
    md = missing_cluster_data(df, W_NAMES, Z_NAMES, "c", POS_B)
    assert md.objective(-Sw, SB, mu, grad=False) == np.inf
    assert md.objective(-Sw, SB, mu) == (np.inf, None)


# -- complete data: FIML is ML --------------------------------------------------------------

@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_fiml_on_complete_data_is_the_listwise_fit(estimator):
    """No missing value: the FIML path (its own likelihood code and optimiser) gives the
    listwise fit, which tests/test_sem_twolevel.py checks against lavaan (MLR included)."""
    df = pd.read_csv(REF / "demo_twolevel.csv")
    model = (REF / "demo.lav").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        a = fit_twolevel(model, df, cluster="cluster", estimator=estimator)
        b = fit_twolevel(model, df, cluster="cluster", estimator=estimator, missing="fiml")
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b.estimates["se"], a.estimates["se"], rtol=1e-5, atol=1e-8)
    keys = ["chisq", "loglik", "unrestricted_logl", "baseline_chisq", "cfi", "rmsea",
            "srmr_within", "srmr_between"]
    if estimator == "MLR":
        keys += ["chisq_scaled", "scaling_factor", "cfi_robust", "rmsea_robust"]
    np.testing.assert_allclose(b.fit_indices[keys].to_numpy(float),
                               a.fit_indices[keys].to_numpy(float), rtol=1e-5, atol=1e-6)


def test_mlr_fiml_runs_and_differs_from_ml(fits):
    ml, mlr = fits("demo_fiml"), fits("demo_fiml", "MLR")
    np.testing.assert_array_equal(ml.theta, mlr.theta)
    fi = mlr.fit_indices
    assert np.isfinite(fi["chisq_scaled"]) and 0.5 < fi["scaling_factor"] < 2.0
    assert not np.allclose(ml.estimates["se"], mlr.estimates["se"])


# -- data handling --------------------------------------------------------------------------

def test_empty_rows_and_missing_covariates_are_dropped_with_a_message():
    df = pd.read_csv(REF / "demo_fiml.csv")
    df.loc[[0, 1], ["y1", "y2", "y3", "x1", "x2", "x3", "w1", "w2"]] = np.nan
    df.loc[[5, 6, 9], "x2"] = np.nan
    with pytest.warns(SEMWarning) as rec:
        res = fit_twolevel((REF / "demo.lav").read_text(), df, cluster="cluster",
                           missing="fiml")
    text = " ".join(str(w.message) for w in rec)
    assert "2 of 2500 rows have no observed value" in text
    assert "3 rows with missing values in exogenous covariates" in text
    assert res.n_obs == 2495 and res.n_dropped == 5


# -- saturated model on the boundary (few clusters): EM, as lavaan --------------------------

def _few_clusters(seed=1, J=14, p=6):
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(J), rng.integers(8, 16, J))
    n = len(cl)
    f, fb = rng.normal(size=n), 0.5 * rng.normal(size=J)
    df = pd.DataFrame({f"y{k}": f + fb[cl] + rng.normal(size=n) + 0.2 * rng.normal(size=J)[cl]
                       for k in range(1, p + 1)})
    df["cl"] = cl
    return df


FEW = ("level: 1\n fw =~ y1 + y2 + y3 + y4 + y5 + y6\n"
       "level: 2\n fb =~ y1 + y2 + y3 + y4 + y5 + y6")


def test_boundary_h1_by_em_equals_the_complete_data_em():
    """14 clusters, 6 variables: the unrestricted between covariance is indefinite, so h1 is
    the constrained maximum (EM, positive semi-definite), with complete data (listwise, its
    own EM) and through the FIML code (the gradient-based EM of twolevel_fiml): the two
    stop within 1e-3 of each other in log L (EM's linear convergence)."""
    df = _few_clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        a = fit_twolevel(FEW, df, cluster="cl")
        b = fit_twolevel(FEW, df, cluster="cl", missing="fiml")
    for res in (a, b):
        assert any("h1 fitted by EM" in w for w in res.warnings)
        SB = res.extra["h1"]["Sigma_B"]
        assert np.linalg.eigvalsh(SB)[0] > -1e-10
    assert b.fit_indices["unrestricted_logl"] == pytest.approx(
        a.fit_indices["unrestricted_logl"], abs=1e-3)
    assert b.fit_indices["chisq"] == pytest.approx(a.fit_indices["chisq"], rel=1e-3)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-5, atol=1e-6)


def test_em_step_increases_the_likelihood_with_missing_values():
    df = _few_clusters(seed=2)
    rng = np.random.default_rng(0)
    for v in ("y2", "y4", "y6"):
        df.loc[rng.random(len(df)) < 0.2, v] = np.nan
    names = [f"y{k}" for k in range(1, 7)]
    md = missing_cluster_data(df, names, [], "cl", np.arange(6))
    X = df[names].to_numpy()
    m = (np.diag(np.nanvar(X, axis=0)) * 0.8, np.diag(np.nanvar(X, axis=0)) * 0.2,
         np.nanmean(X, axis=0))
    f = [md.objective(*m, grad=False)]
    for _ in range(5):
        m = md.em_step(*m)
        f.append(md.objective(*m, grad=False))
        assert np.linalg.eigvalsh(m[1])[0] >= -1e-12
    assert np.all(np.diff(f) < 0)
