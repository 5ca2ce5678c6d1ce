"""Cluster-robust inference (``fit_sem(..., cluster=)``) against lavaan 0.6-14.

References: tests/reference/sem_cluster/ (written by tests/reference/sem_cluster_reference.R,
which also writes the data it fits): Demo.twolevel's y1..y6 as a single-level two-factor
CFA with cluster = "cluster" (complete; with an MCAR mask under FIML and listwise; two
groups that split most clusters, also with equal loadings; singleton clusters; only 15
clusters), HS with a pseudo-cluster of 8 consecutive rows (alone, with group = "school",
with two fixed exogenous covariates), and the compendium's survey with the chain model and
cluster = community_id (listwise and FIML; 48 communities for 87 free parameters).

Tolerances (the brief's): estimates and SEs 1e-3 relative (atol 1e-3 / 1e-4 for values
near 0), chisq 1e-4, scaled statistics, scaling factors and robust CFI/TLI/RMSEA 1e-3.
Measured agreement is ~1e-5 or better (max 9e-5 for an SE of the two-group HS fit),
limited by lavaan's optimiser and EM tolerances; the moment-level test uses lavaan's own
Delta and implied moments and agrees to 1e-7.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import SEMError, SEMWarning, fit_sem
from analysis.sem import cluster as cl
from analysis.sem import fiml, robust

REF = Path(__file__).parent / "reference" / "sem_cluster"
DEMO = "fw =~ y1 + y2 + y3\nfb =~ y4 + y5 + y6"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
YS = [f"y{i}" for i in range(1, 7)]

# lavaan fitMeasures name -> ours
FIT_KEYS = {"chisq": "chisq", "df": "df", "npar": "npar", "ntotal": "ntotal",
            "baseline.chisq": "baseline_chisq", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
            "srmr": "srmr", "logl": "loglik", "chisq.scaled": "chisq_scaled",
            "pvalue.scaled": "pvalue_scaled", "chisq.scaling.factor": "scaling_factor",
            "baseline.chisq.scaled": "baseline_chisq_scaled",
            "baseline.chisq.scaling.factor": "baseline_scaling_factor",
            "cfi.robust": "cfi_robust", "tli.robust": "tli_robust",
            "rmsea.robust": "rmsea_robust", "rmsea.ci.upper.robust": "rmsea_ci_upper_robust"}
EXACT = ("chisq", "df", "npar", "ntotal", "baseline.chisq", "logl")  # ML quantities: 1e-4


@pytest.fixture(scope="module")
def data():
    demo = pd.read_csv(REF / "demo.csv")
    single = demo.copy()
    single.loc[:29, "cluster"] = 10000 + np.arange(1, 31)  # as in the R script
    return dict(demo=demo, mcar=pd.read_csv(REF / "demo_mcar.csv"), single=single,
                few=demo[demo["cluster"] <= 15], hs=pd.read_csv(REF / "hs_cluster.csv"),
                survey=pd.read_csv(REF / "survey_cluster.csv"))


CHAIN = (Path(__file__).parent / "reference" / "sem_robust" / "chain.lav").read_text()
CASES = {
    "demo_mlr": (DEMO, "demo", dict(cluster="cluster", estimator="MLR")),
    "demo_ml": (DEMO, "demo", dict(cluster="cluster")),
    "demo_fiml_mlr": (DEMO, "mcar", dict(cluster="cluster", estimator="MLR", missing="fiml")),
    "demo_fiml_ml": (DEMO, "mcar", dict(cluster="cluster", missing="fiml")),
    "demo_listwise_mlr": (DEMO, "mcar", dict(cluster="cluster", estimator="MLR")),
    "demo_group_mlr": (DEMO, "demo", dict(cluster="cluster", group="g", estimator="MLR")),
    "demo_group_metric_mlr": (DEMO, "demo", dict(cluster="cluster", group="g",
                                                 group_equal=("loadings",), estimator="MLR")),
    "demo_group_fiml_mlr": (DEMO, "mcar", dict(cluster="cluster", group="g", estimator="MLR",
                                               missing="fiml")),
    "demo_singletons_mlr": (DEMO, "single", dict(cluster="cluster", estimator="MLR")),
    "demo_few_mlr": (DEMO, "few", dict(cluster="cluster", estimator="MLR")),
    "hs_mlr": (HS, "hs", dict(cluster="clu", estimator="MLR")),
    "hs_school_mlr": (HS, "hs", dict(cluster="clu", group="school", estimator="MLR")),
    "hs_fixedx_mlr": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                      "visual ~ ageyr + grade\ntextual ~ grade", "hs",
                      dict(cluster="clu", estimator="MLR")),
    "survey_mlr": (CHAIN, "survey", dict(cluster="community_id", estimator="MLR")),
    "survey_fiml_mlr": (CHAIN, "survey", dict(cluster="community_id", estimator="MLR",
                                              missing="fiml")),
}


def fit_case(name, data):
    syntax, key, kw = CASES[name]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = fit_sem(syntax, data[key], **kw)
    return res, [str(x.message) for x in w if issubclass(x.category, SEMWarning)]


@pytest.fixture(scope="module")
def fits(data):
    return {name: fit_case(name, data) for name in CASES}


def lavaan_fit(name):
    return json.loads((REF / f"{name}_fit.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_ses_match_lavaan(name, fits):
    res, _ = fits[name]
    ref = pd.read_csv(REF / f"{name}_est.csv", keep_default_na=False)
    ref = ref[ref["op"] != ":="]
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in res.estimates.columns else [])
    m = ref.merge(res.estimates, on=keys, suffixes=("_lav", ""))
    assert len(m) == len(ref)  # every lavaan row, intercepts included (meanstructure)
    assert (m["op"] == "~1").sum() >= 6 and np.isfinite(m["se"]).all()
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(m["se"], m["se_lav"], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name, fits):
    res, _ = fits[name]
    ref = lavaan_fit(name)
    fi = res.fit_indices
    for k, ours in FIT_KEYS.items():
        rtol = 1e-4 if k in EXACT else 1e-3
        assert fi[ours] == pytest.approx(ref[k], rel=rtol, abs=1e-6), (name, k)
    assert fi["nclusters"] == np.sum(ref["nclusters"])
    assert res.extra["cluster"]["n_clusters"] == list(np.atleast_1d(ref["nclusters"]))
    assert res.extra["se"] == ref["se"] == "robust.cluster"


@pytest.mark.parametrize("name", list(CASES))
def test_vcov_warning_as_lavaan(name, fits):
    """lavaan warns that vcov is not positive definite exactly where we do: fewer clusters
    than free parameters (demo_few, hs_school, the survey)."""
    res, emitted = fits[name]
    ref = lavaan_fit(name)
    lav = any("not appear to be positive definite" in w for w in np.atleast_1d(ref["warnings"]))
    ours = [w for w in res.warnings if "not positive definite" in w]
    assert bool(ours) == lav
    if ours:
        assert ours[0] in emitted and ours[0] in res.summary()
        assert np.isfinite(res.estimates["se"]).all()  # SEs are still reported


def test_moment_level_meat_and_sandwich_from_lavaan_delta(data):
    """With lavaan's Delta and implied moments, our cluster meat equals lavaan's
    first-order information (x N) and the sandwich its vcov: this checks the cluster
    sums and the G/(G-1) factor independently of our model code."""
    ex = json.loads((REF / "demo_mlr_extra.json").read_text())
    X = data["demo"][YS].to_numpy()
    N, p = X.shape
    D = np.array(ex["delta"])
    D = np.r_[D[p:], D[:p]]  # lavaan's rows are [mu, vech(Sigma)], ours [vech(Sigma), mu]
    codes, G = cl.cluster_codes(data["demo"]["cluster"])
    pat = fiml.MissingPatterns(X)
    g = cl.ClusterGroupMoments(pat, np.array(ex["implied_mean"]), np.array(ex["implied_cov"]),
                               D, X.mean(0), np.cov(X.T, bias=True), clusters=codes,
                               n_clusters=G)
    B = g.meat()
    np.testing.assert_allclose(B / N, ex["information_first_order"], rtol=1e-7, atol=1e-10)
    info = np.array(ex["information"]) * N
    np.testing.assert_allclose(robust.sandwich(info, B), ex["vcov"], rtol=1e-7, atol=1e-12)
    # the plain (casewise) meat is something else: clustering matters in these data
    plain = robust.GroupMoments(pat, g.mu, g.Sigma, D, g.mu1, g.Sigma1).meat()
    assert np.abs(np.diag(B) / np.diag(plain) - 1).max() > 0.5
    yb = robust.yuan_bentler_mplus([g], info, 8, B)
    assert yb["scaling_factor"] == pytest.approx(lavaan_fit("demo_mlr")["chisq.scaling.factor"],
                                                 rel=1e-6)


def test_ml_with_cluster_is_robust_as_in_lavaan(fits):
    """lavaan: estimator "ML" + cluster= gives the same cluster-robust SEs as MLR, and a
    scaled test whose information is h1-based (so a different scaling factor)."""
    ml, mlr = fits["demo_ml"][0], fits["demo_mlr"][0]
    assert ml.estimator == "ML" and mlr.estimator == "MLR"
    np.testing.assert_allclose(ml.estimates["se"], mlr.estimates["se"], rtol=1e-10)
    c_ml, c_mlr = ml.fit_indices["scaling_factor"], mlr.fit_indices["scaling_factor"]
    assert abs(c_ml / c_mlr - 1) > 1e-3  # 1.5862 vs 1.5818 in lavaan
    assert "clusters 200 (cluster)" in ml.summary()


def test_clusters_matter(data, fits):
    """Cluster-robust SEs differ from Huber-White ones on these clustered data (the
    intercepts' design effect), so the agreement tests above cannot pass by accident."""
    naive = fit_sem(DEMO + "\ny1 ~ 1", data["demo"], estimator="MLR")
    se = lambda r: r.estimates.query("lhs == 'y1' and op == '~1'")["se"].iloc[0]  # noqa: E731
    assert se(fits["demo_mlr"][0]) > 1.5 * se(naive)


def test_singletons_are_accepted_and_counted(fits):
    res, _ = fits["demo_singletons_mlr"]
    assert res.extra["cluster"]["n_singletons"] == [30]
    assert res.extra["cluster"]["n_clusters"] == [227]
    assert not res.warnings


def test_multigroup_clusters_are_nested_in_groups(fits):
    res, _ = fits["hs_school_mlr"]
    # the pseudo-cluster of rows 152..159 straddles the two schools: it counts in both
    assert res.extra["cluster"]["n_clusters"] == [20, 19]


def test_cluster_sums_and_codes():
    S = np.arange(12.0).reshape(6, 2)
    codes, G = cl.cluster_codes(["x", "y", "x", "z", "y", "x"])
    np.testing.assert_array_equal(codes, [0, 1, 0, 2, 1, 0])
    T = cl.cluster_sums(S, codes, G)
    np.testing.assert_allclose(T, [[0 + 4 + 10, 1 + 5 + 11], [2 + 8, 3 + 9], [6, 7]])
    np.testing.assert_allclose(T.sum(axis=0), S.sum(axis=0))


def test_errors_name_column_and_rows(data):
    d = data["demo"].copy()
    with pytest.raises(SEMError, match="cluster column not found in data: school"):
        fit_sem(DEMO, d, cluster="school")
    d.loc[[5, 17, 40], "cluster"] = np.nan
    with pytest.raises(SEMError, match=r"'cluster' has missing values in 3 rows .*5, 17, 40"):
        fit_sem(DEMO, d, cluster="cluster")
    # a missing cluster label in a row that listwise deletion drops anyway is harmless
    d2 = data["demo"].copy()
    d2.loc[5, ["cluster", "y1"]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        res = fit_sem(DEMO, d2, cluster="cluster", estimator="MLR")
    assert res.n_obs == 2499 and res.n_dropped == 1
    with pytest.raises(SEMError, match="also an observed variable"):
        fit_sem(DEMO, d, cluster="y1")
    one = data["demo"][data["demo"]["cluster"] == 1]
    with pytest.raises(SEMError, match="only 1 cluster"):
        fit_sem(DEMO, one, cluster="cluster")
    with pytest.raises(SEMError, match="two-level models"):
        fit_sem("level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3", d,
                cluster="cluster")
    with pytest.raises(SEMError, match="estimator"):
        fit_sem(DEMO, data["demo"], cluster="cluster", estimator="WLSMV")


def test_string_cluster_labels_give_the_same_fit(data, fits):
    d = data["demo"].copy()
    d["cluster"] = "c" + d["cluster"].astype(str)
    res = fit_sem(DEMO, d, cluster="cluster", estimator="MLR")
    np.testing.assert_allclose(res.estimates["se"], fits["demo_mlr"][0].estimates["se"],
                               rtol=1e-12)


# --------------------------------------------------------------------------
# bootstrap by clusters: Monte Carlo properties and invariants (lavaan has no cluster
# bootstrap to compare with)
# --------------------------------------------------------------------------

ONE = "f =~ y1 + y2 + y3 + y4"
N_BOOT = 300


def clustered_data(seed, n_clusters=60, size=15):
    """One factor, four items; a random cluster effect on the factor (variance 0.5 of 1.5)
    and on every item (0.3): intercepts have a large design effect."""
    rng = np.random.default_rng(seed)
    n = n_clusters * size
    f = np.repeat(rng.normal(0, np.sqrt(0.5), n_clusters), size) + rng.normal(size=n)
    d = pd.DataFrame({f"y{k + 1}": 0.5 * k + lam * f
                      + np.repeat(rng.normal(0, np.sqrt(0.3), n_clusters), size)
                      + rng.normal(0, np.sqrt(0.6), n)
                      for k, lam in enumerate((1.0, 0.8, 0.7, 0.9))})
    d["cl"] = np.repeat(np.arange(n_clusters), size)
    return d


@pytest.fixture(scope="module")
def mc_fit():
    return fit_sem(ONE, clustered_data(1), cluster="cl", estimator="MLR")


@pytest.fixture(scope="module")
def mc_boot(mc_fit):
    from analysis.sem import bootstrap

    return bootstrap(mc_fit, n_boot=N_BOOT, seed=3, progress=False, keep_draws=True)


def test_cluster_bootstrap_se_close_to_cluster_robust_se(mc_fit, mc_boot):
    """For a smooth estimator the cluster bootstrap variance tends to
    E^-1 (sum_c t_c t_c') E^-1 = (G-1)/G times the cluster-robust sandwich (the scores
    sum to 0 at the estimates), so boot SE / (sqrt((G-1)/G) SE_cluster) -> 1. Monte Carlo
    error of an SD from B draws is ~1/sqrt(2B) relative (0.041 at B = 300): we allow 4 of
    them plus 0.03 for the O(1/G) nonlinearity (G = 60). Row resampling would give the
    Huber-White SE instead, which for the intercepts is less than half the cluster one
    (checked below), so this test detects resampling rows."""
    G = 60
    assert mc_boot.resampled == "clusters" and mc_boot.n_clusters == [G]
    assert mc_boot.n_failed == 0
    est = mc_fit.estimates[mc_fit.estimates["se"] > 0]
    m = est.merge(mc_boot.table, on=["lhs", "op", "rhs"], suffixes=("", "_boot"))
    assert len(m) == mc_fit.model.n_free == 12
    ratio = m["se_boot"] / (np.sqrt((G - 1) / G) * m["se"])
    assert np.abs(ratio - 1).max() <= 4 * np.sqrt(1 / (2 * N_BOOT)) + 0.03, ratio.tolist()
    naive = fit_sem(ONE + "\ny1 ~ 1\ny2 ~ 1\ny3 ~ 1\ny4 ~ 1", clustered_data(1), estimator="MLR")
    nse = naive.estimates.set_index(["lhs", "op"]).query("op == '~1'")["se"]
    bse = m.set_index(["lhs", "op"]).query("op == '~1'")["se_boot"]
    assert (bse / nse.loc[bse.index]).min() > 1.8


def test_cluster_bootstrap_is_deterministic_for_any_n_jobs(mc_fit):
    from analysis.sem.bootstrap import bootstrap_draws

    kw = dict(seed=7, progress=False, chunk_size=10)
    a = bootstrap_draws(mc_fit, 30, **kw)
    b = bootstrap_draws(mc_fit, 30, n_jobs=2, **kw)
    c = bootstrap_draws(mc_fit, 30, **kw)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    rows = bootstrap_draws(mc_fit, 30, cluster=False, **kw)
    assert not np.allclose(a, rows)  # rows are a different resampling scheme


def test_singleton_clusters_reproduce_the_row_bootstrap():
    """With every row its own cluster, drawing clusters is drawing rows: for the same
    seed the replicates are identical."""
    from analysis.sem.bootstrap import bootstrap_draws

    d = clustered_data(2, n_clusters=20, size=10)
    res = fit_sem(ONE, d)
    kw = dict(seed=5, progress=False)
    np.testing.assert_array_equal(bootstrap_draws(res, 20, cluster=np.arange(len(d)), **kw),
                                  bootstrap_draws(res, 20, **kw))


def test_resample_counts_keep_clusters_whole():
    rng = np.random.default_rng(0)
    codes = np.repeat(np.arange(7), [1, 3, 2, 5, 4, 1, 2])
    for _ in range(20):
        w = cl.cluster_resample_counts(rng, codes, 7)
        per = pd.Series(w).groupby(codes).agg(["min", "max"])
        assert (per["min"] == per["max"]).all()  # one weight per cluster
        assert per["min"].sum() == 7  # 7 clusters drawn


def test_multigroup_cluster_bootstrap_resamples_within_groups():
    """Clusters nested in groups: a label seen in two groups is two clusters, and each
    group keeps its own number of clusters in every resample (so the group sizes vary
    only by the cluster sizes drawn)."""
    from analysis.sem import bootstrap

    d = clustered_data(4, n_clusters=30, size=10)
    d["g"] = np.where(np.arange(len(d)) % 10 < 5, "a", "b")  # every cluster in both groups
    res = fit_sem(ONE, d, cluster="cl", group="g", estimator="MLR")
    assert res.extra["cluster"]["n_clusters"] == [30, 30]
    clusters = cl.bootstrap_clusters(res)
    assert [k for _, k in clusters] == [30, 30]
    assert all(c.size == 150 for c, _ in clusters)
    boot = bootstrap(res, n_boot=20, seed=1, progress=False)
    assert boot.n_clusters == [30, 30] and boot.n_failed == 0
    tab = boot.table
    assert np.isfinite(tab["se"]).all() and set(tab["group"]) == {1, 2}


def test_cluster_bca_uses_leave_one_cluster_out():
    from analysis.sem import bootstrap

    d = clustered_data(5, n_clusters=25, size=8)
    res = fit_sem(ONE, d, cluster="cl")
    boot = bootstrap(res, n_boot=60, seed=2, ci="bca", progress=False)
    assert boot.resampled == "clusters"
    tab = boot.table
    assert ((tab["ci_lower"] < tab["est"]) & (tab["est"] < tab["ci_upper"])).all()


def test_bootstrap_cluster_argument_errors(mc_fit):
    from analysis.sem import bootstrap

    with pytest.raises(SEMError, match="fitted with cluster='cl'"):
        bootstrap(mc_fit, n_boot=5, cluster="school", progress=False)
    with pytest.raises(SEMError, match="3 labels for 900 fitted rows"):
        bootstrap(mc_fit, n_boot=5, cluster=[1, 2, 3], progress=False)
    labels = np.repeat(np.arange(60.0), 15)
    labels[[3, 8]] = np.nan
    with pytest.raises(SEMError, match="missing cluster labels at positions 3, 8"):
        bootstrap(mc_fit, n_boot=5, cluster=labels, progress=False)
    plain = fit_sem(ONE, clustered_data(1))
    with pytest.raises(SEMError, match="fitted without cluster="):
        bootstrap(plain, n_boot=5, cluster="cl", progress=False)


def test_complete_data_fast_paths_equal_the_casewise_definitions(data):
    """The complete-data shortcuts (cluster aggregates for the cluster score sums, the
    gathered Hessian) equal the casewise scores summed within clusters and fiml.hessian,
    to rounding, at a point that is neither the h1 nor the h0 optimum."""
    X = data["demo"][YS].to_numpy()
    codes, G = cl.cluster_codes(data["demo"]["cluster"])
    pat = fiml.MissingPatterns(X)
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    Sigma, mu = np.cov(X.T, bias=True) + 0.1 * A @ A.T, X.mean(0) + 0.1
    g = cl.ClusterGroupMoments(pat, mu, Sigma, np.eye(27), X.mean(0), np.cov(X.T, bias=True),
                               clusters=codes, n_clusters=G)
    assert g.complete
    slow = cl.cluster_sums(fiml.casewise_scores(pat, mu, Sigma), codes, G)
    np.testing.assert_allclose(g.cluster_moment_scores(), slow, rtol=1e-9,
                               atol=1e-9 * np.abs(slow).max())
    H = fiml.hessian(pat, mu, Sigma)
    np.testing.assert_allclose(g.moment_hessian(), H, rtol=1e-10, atol=1e-10 * np.abs(H).max())
    np.testing.assert_allclose(g.h1_information(),
                               -fiml.hessian(pat, X.mean(0), np.cov(X.T, bias=True)),
                               rtol=1e-10, atol=1e-8)


def test_level_blocks_are_refused_until_the_two_level_module_is_wired(data):
    with pytest.raises(SEMError, match="two-level models"):
        fit_sem("level: within\nfw =~ y1 + y2 + y3\nlevel: between\nfb =~ y1 + y2 + y3",
                data["demo"])


@pytest.mark.parametrize("name", ["survey_mlr", "survey_fiml_mlr"])
def test_defined_effects_of_the_chain_match_lavaan(name, fits):
    """The chain's 22 ``:=`` indirect and total effects: delta-method SEs from the
    cluster-robust vcov, 1e-3 relative as for the free parameters (measured ~1e-5)."""
    res, _ = fits[name]
    ref = pd.read_csv(REF / f"{name}_est.csv", keep_default_na=False)
    ref = ref[ref["op"] == ":="]
    m = ref.merge(res.estimates[res.estimates["op"] == ":="], on=["lhs", "op"],
                  suffixes=("_lav", ""))
    assert len(m) == len(ref) == 22
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_lav"], rtol=1e-3, atol=1e-5)
