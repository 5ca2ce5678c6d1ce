"""Benchmark: cluster-robust MLR of the chain model, ~2,400 residents in 80 communities.

Times ``analysis.sem.fit_sem(chain, data, cluster="community_id", estimator="MLR")`` as
the median of repeats and, where ``Rscript`` with lavaan is available, lavaan's
``sem(chain, data, cluster = "community_id", estimator = "MLR")`` on the same data in the
same run (timed inside R, so R's start-up is excluded). Records rows ``task, n, ours_s,
lavaan_s, ratio`` (ratio = lavaan / ours) in data/processed/benchmarks.csv; the target of
issue #14 is ours <= 0.25 x lavaan (ratio >= 4).

Data (engine only, no study code): the chain model (tests/reference/sem_robust/chain.lav)
is fitted by ML to the committed recoded survey; residents are drawn from its implied
normal distribution as ``y = mu + b_c + e`` with a community effect ``b_c ~ N(0, 0.15
Sigma)`` and ``e ~ N(0, 0.85 Sigma)`` (so the single-level model holds for the total
covariance, with an intraclass correlation of 0.15 on every item), 80 communities of 30.

Usage::

    .venv/bin/python bench/bench_cluster.py [--repeats 5] [--communities 80] [--size 30]
        [--no-lavaan]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.sem import fit_sem  # noqa: E402
from _common import median_time, record, time_in_r  # noqa: E402

REF = ROOT / "tests" / "reference" / "sem_robust"
SEED = 20261202

R_TIMER = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3])
f <- function() sem(m, d, cluster = "community_id", estimator = "MLR")
invisible(f())  # warm-up (byte compilation)
t <- replicate(reps, system.time(f())[["elapsed"]])
cat(median(t), "\n")
"""


def bench_data(n_communities: int = 80, size: int = 30) -> tuple[pd.DataFrame, str]:
    """Clustered residents drawn from the chain model's ML fit to the committed survey."""
    syntax = (REF / "chain.lav").read_text(encoding="utf-8")
    survey = pd.read_csv(REF / "survey_recoded.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_sem(syntax, survey, meanstructure=True, std_se=False)
    Sigma, mu = res.model.sigma_mu(res.theta, 0)
    ov = res.model.ov_names
    rng = np.random.default_rng(SEED)
    L = np.linalg.cholesky(Sigma)
    n = n_communities * size
    b = rng.standard_normal((n_communities, len(ov))) @ L.T * np.sqrt(0.15)
    e = rng.standard_normal((n, len(ov))) @ L.T * np.sqrt(0.85)
    data = pd.DataFrame(mu + np.repeat(b, size, axis=0) + e, columns=ov)
    data["community_id"] = np.repeat([f"C{j + 1:03d}" for j in range(n_communities)], size)
    return data, syntax


def time_ours(syntax, data, repeats) -> float:
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_sem(syntax, data, cluster="community_id", estimator="MLR")
    fit()  # warm-up (imports, caches)
    return median_time(fit, repeats)


def time_lavaan(syntax, data, repeats) -> float:
    return time_in_r(R_TIMER, data, syntax, repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--communities", type=int, default=80)
    ap.add_argument("--size", type=int, default=30)
    ap.add_argument("--no-lavaan", action="store_true")
    args = ap.parse_args(argv)
    data, syntax = bench_data(args.communities, args.size)
    n = len(data)
    print(f"clustered survey: {n} residents in {args.communities} communities, "
          f"{data.shape[1] - 1} items")
    ours = time_ours(syntax, data, args.repeats)
    lav = float("nan") if args.no_lavaan else time_lavaan(syntax, data, args.repeats)
    task = f"cluster_mlr_chain_{args.communities}x{args.size}"
    print(f"{task}: ours {ours:.3f} s, lavaan {lav:.3f} s, ratio {lav / ours:.1f} "
          f"(target >= 4)")
    print(f"wrote {record([dict(task=task, n=n, ours_s=ours, lavaan_s=lav, ratio=lav / ours)]).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
