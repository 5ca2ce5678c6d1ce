"""Benchmark analysis.sem beside lavaan on the compendium's synthetic survey.

Tasks (same data, same machine, same run):

* ``ml_fit``       one ML fit of the public-value chain model (listwise), with SEs,
                   std.all and fit indices (lavaan: ``sem()``);
* ``bootstrap``    1,000 nonparametric bootstrap resamples with percentile CIs for every
                   free and defined parameter, on one core and on all cores (lavaan,
                   serial: ``sem(se = "bootstrap")`` +
                   ``parameterEstimates(boot.ci.type = "perc")``);
* ``invariance``   configural, metric and scalar models by community type with the
                   difference tests (lavaan: three ``sem()`` calls + ``lavTestLRT``).

Times are medians over repeats (wall clock; data loading, R's start-up and the start of
joblib's worker pool excluded). lavaan runs only where
``Rscript`` with lavaan is installed; otherwise its columns are empty. Rows are written to
data/processed/benchmarks.csv (columns task, n, ours_s, lavaan_s, ratio; other tasks'
rows in that file are kept).

    .venv/bin/python bench/bench_sem.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import lavaan_available, median_time, record  # noqa: E402

from analysis.io.codebook import load_codebook  # noqa: E402
from analysis.io.survey import load_survey  # noqa: E402
from analysis.sem import bootstrap, fit_sem, invariance  # noqa: E402
from analysis.study.models import chain_model, measurement_model  # noqa: E402

R_CODE = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
chain <- paste(readLines(args[2]), collapse = "\n")
meas <- paste(readLines(args[3]), collapse = "\n")
reps <- as.integer(args[4]); nboot <- as.integer(args[5])
el <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
med <- function(f, k) median(sapply(seq_len(k), function(i) el(f())))
fit1 <- function() { f <- sem(chain, data = d); fitMeasures(f); standardizedSolution(f) }
boot1 <- function() {
  set.seed(1)
  f <- sem(chain, data = d, se = "bootstrap", bootstrap = nboot)
  parameterEstimates(f, boot.ci.type = "perc")
}
inv1 <- function() {
  a <- sem(meas, data = d, group = "community_type")
  b <- sem(meas, data = d, group = "community_type", group.equal = "loadings")
  c <- sem(meas, data = d, group = "community_type", group.equal = c("loadings", "intercepts"))
  lavTestLRT(a, b, c)
}
invisible(fit1())  # warm-up
cat("ml_fit,", med(fit1, reps), "\n", sep = "")
cat("invariance,", med(inv1, max(1, reps %/% 3)), "\n", sep = "")
cat("bootstrap,", el(boot1()), "\n", sep = "")
"""


def run(quick: bool = False, n_jobs: int | None = None) -> pd.DataFrame:
    cb = load_codebook()
    chain, meas = chain_model(cb), measurement_model(cb)
    survey = load_survey()
    items = list(cb["item"])
    data = survey.dropna(subset=items).reset_index(drop=True)  # the rows both engines use
    n = len(data)
    reps = 3 if quick else 7
    n_boot = 200 if quick else 1000
    n_jobs = n_jobs or os.cpu_count() or 1
    warnings.simplefilter("ignore")

    fit_sem(chain, data)  # warm-up (imports, caches)
    ours = {
        "ml_fit": median_time(lambda: fit_sem(chain, data), reps),
        "invariance": median_time(lambda: invariance(meas, data, "community_type"),
                                   max(1, reps // 3)),
    }
    res = fit_sem(chain, data)
    # one core (the same resources as lavaan's serial bootstrap) and all cores
    ours["bootstrap"] = median_time(
        lambda: bootstrap(res, n_boot=n_boot, seed=1, n_jobs=1, progress=False), 1)
    # start the joblib worker pool first: like R's start-up for lavaan, the pool's start
    # (seconds, once per session) is not part of the timed task
    bootstrap(res, n_boot=2 * n_jobs, seed=0, n_jobs=n_jobs, chunk_size=1, progress=False)
    ours["bootstrap_parallel"] = median_time(
        lambda: bootstrap(res, n_boot=n_boot, seed=1, n_jobs=n_jobs, progress=False,
                          chunk_size=max(25, n_boot // (4 * n_jobs))), 1)

    lav = {k: np.nan for k in ours}
    lav_key = {"bootstrap_parallel": "bootstrap"}
    if lavaan_available():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data.to_csv(tmp / "survey.csv", index=False)
            (tmp / "chain.lav").write_text(chain, encoding="utf-8")
            (tmp / "meas.lav").write_text(measurement_model(cb) + "\n", encoding="utf-8")
            (tmp / "bench.R").write_text(R_CODE, encoding="utf-8")
            out = subprocess.run(
                ["Rscript", str(tmp / "bench.R"), str(tmp / "survey.csv"), str(tmp / "chain.lav"),
                 str(tmp / "meas.lav"), str(reps), str(n_boot)],
                capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                task, _, val = line.partition(",")
                if task in lav:
                    lav[task] = float(val)
    labels = {"ml_fit": "sem_ml_fit_chain", "bootstrap": f"sem_bootstrap_{n_boot}_1core",
              "bootstrap_parallel": f"sem_bootstrap_{n_boot}_{n_jobs}cores",
              "invariance": "sem_invariance_3_models"}
    rows = []
    for k in ("ml_fit", "bootstrap", "bootstrap_parallel", "invariance"):
        lv = lav[lav_key.get(k, k)]
        rows.append(dict(task=labels[k], n=n, ours_s=round(ours[k], 4),
                         lavaan_s=round(lv, 4) if np.isfinite(lv) else np.nan,
                         ratio=round(lv / ours[k], 2) if np.isfinite(lv) else np.nan))
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, 200 resamples")
    ap.add_argument("--n-jobs", type=int, default=None, help="bootstrap workers (default: all)")
    args = ap.parse_args(argv)
    rows = run(quick=args.quick, n_jobs=args.n_jobs)
    print(rows.to_string(index=False))
    print(f"written to {record(rows)}")


if __name__ == "__main__":
    main()
