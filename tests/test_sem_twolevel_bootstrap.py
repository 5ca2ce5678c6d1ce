"""Cluster bootstrap of two-level fits (``bootstrap(fit_twolevel(...))``).

Whole clusters are drawn with replacement; a cluster drawn twice enters the resample as two
clusters (J stays the number of clusters), and each resample is refitted from the full-sample
estimates. Checks: a resample's estimates equal ``fit_twolevel`` on the explicitly resampled
data with the cluster ids made unique (and differ from the fit where duplicates merge);
reproducibility; FIML fits; and, on a generated data set with 150 clusters and skewed
level-1 errors, bootstrap SEs close to the two-level MLR (cluster-robust) SEs and not to
the ML SEs, which the skewness makes too small.

Tolerance of the SE comparison: with B = 200 resamples the Monte Carlo relative SD of a
bootstrap SE is about sqrt(2 / (4 B)) = 5% (normal estimator distribution), so 15% is three
Monte Carlo SDs for each of the 20 parameters (the largest seen is 12%); the median over
parameters is held to 5%. Both the cluster bootstrap and the sandwich estimate the same
sampling variance, and differ further only at O(1/J).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import SEMError, SEMWarning, bootstrap, bootstrap_draws
from analysis.sem.twolevel import fit_twolevel, take_clusters

REF = Path(__file__).resolve().parent / "reference" / "sem_twolevel"
MODEL = "level: 1\n fw =~ y1 + y2 + y3 + y4\nlevel: 2\n fb =~ y1 + y2 + y3 + y4"


def _quiet_fit(model, df, cluster, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        return fit_twolevel(model, df, cluster=cluster, **kw)


def _skewed(seed=7, J=150, lo=5, hi=15):
    """One factor at each level; level-1 errors chi-square(3) (skewness 1.6)."""
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(J), rng.integers(lo, hi + 1, J))
    n = len(cl)
    fw, fb = rng.normal(size=n), 0.6 * rng.normal(size=J)
    lam = [1.0, 0.8, 0.9, 0.7]
    df = pd.DataFrame({f"y{k + 1}": lam[k] * (fw + fb[cl])
                       + 0.7 * (rng.chisquare(3, n) - 3) / np.sqrt(6)
                       + 0.3 * rng.normal(size=J)[cl] for k in range(4)})
    df["cl"] = cl
    return df


@pytest.fixture(scope="module")
def generated():
    df = pd.read_csv(REF / "generated.csv")
    model = (REF / "generated.lav").read_text()
    return df, model, _quiet_fit(model, df, "community")


def _first_converged(draws):
    return int(np.flatnonzero(np.all(np.isfinite(draws), axis=1))[0])


def test_resample_is_the_fit_to_the_resampled_clusters_with_unique_ids(generated):
    df, model, res = generated
    n_boot = 4
    draws = bootstrap_draws(res, n_boot=n_boot, seed=11, progress=False)
    b = _first_converged(draws)
    J = res.model.cs.J
    idx = np.random.default_rng(np.random.SeedSequence(11).spawn(n_boot)[b]).integers(0, J, J)
    assert len(set(idx)) < J  # some clusters drawn more than once
    labels = res.model.cs.labels
    parts = []
    for k, j in enumerate(idx):
        part = df[df["community"] == labels[j]].copy()
        part["community"] = f"{labels[j]}-{k}"  # a cluster drawn twice: two clusters
        parts.append(part)
    unique = _quiet_fit(model, pd.concat(parts), "community")
    q = res.model.n_free
    np.testing.assert_allclose(draws[b, :q], unique.theta, atol=2e-4 * np.abs(unique.theta).max())
    assert unique.fit_indices["nclusters"] == J == take_clusters(res.model.cs, idx).J
    # merging the copies of a cluster (ids not made unique) is another data set
    merged = _quiet_fit(model, pd.concat(parts).assign(
        community=lambda d: d["community"].str.split("-").str[0]), "community")
    assert merged.fit_indices["nclusters"] == len(set(idx)) < J
    assert np.max(np.abs(merged.theta - unique.theta)) > 1e-2


def test_table_reproducibility_and_levels(generated):
    _, _, res = generated
    a = bootstrap(res, n_boot=12, seed=5, progress=False, keep_draws=True)
    b = bootstrap(res, n_boot=12, seed=5, progress=False, keep_draws=True, chunk_size=5,
                  cluster="community")
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.resampled == "clusters" and a.n_clusters == [72]
    tab = a.table
    assert list(tab.columns) == ["lhs", "op", "rhs", "label", "level", "est", "se",
                                 "ci_lower", "ci_upper"]
    assert set(tab["level"]) == {0, 1, 2}
    # a label shared by the levels (la2: the loading of a2 at both) is one parameter
    la2 = tab[tab["label"] == "la2"]
    assert len(la2) == 2 and la2["se"].nunique() == 1
    ind = tab[tab["op"] == ":="].iloc[0]
    assert ind["ci_lower"] < ind["est"] < ind["ci_upper"]


def test_bca_leaves_one_cluster_out(generated):
    _, _, res = generated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SEMWarning)
        bca = bootstrap(res, n_boot=30, seed=2, ci="bca", progress=False)
    assert np.all(bca.table["ci_lower"] < bca.table["ci_upper"])


def test_cluster_argument_is_checked(generated):
    _, _, res = generated
    with pytest.raises(SEMError, match="whole clusters"):
        bootstrap(res, n_boot=2, cluster=False, progress=False)
    with pytest.raises(SEMError, match="cluster='community'"):
        bootstrap(res, n_boot=2, cluster="region", progress=False)


def test_fiml_fit_is_bootstrapped():
    df = pd.read_csv(REF / "generated_fiml.csv")
    res = _quiet_fit((REF / "generated.lav").read_text(), df, "community", missing="fiml")
    boot = bootstrap(res, n_boot=6, seed=1, progress=False)
    assert boot.n_failed < 6 and np.all(boot.table["se"] > 0)


def test_bootstrap_se_close_to_mlr_se():
    df = _skewed()
    ml = _quiet_fit(MODEL, df, "cl")
    mlr = _quiet_fit(MODEL, df, "cl", estimator="MLR")
    boot = bootstrap(ml, n_boot=200, seed=3, progress=False)
    assert boot.n_failed == 0
    se_boot = boot.table["se"].to_numpy()
    se_mlr = mlr.estimates.loc[mlr.estimates["se"] > 0, "se"].to_numpy()
    se_ml = ml.estimates.loc[ml.estimates["se"] > 0, "se"].to_numpy()
    d = np.abs(np.log(se_boot / se_mlr))
    assert d.max() < 0.15 and np.median(d) < 0.05
    # the check can fail: the ML SEs of the level-1 residual variances are too small
    assert np.abs(np.log(se_boot / se_ml)).max() > 0.3
