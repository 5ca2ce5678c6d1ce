"""Benchmark: FIML with an auxiliary variable (saturated correlates) on the survey.

Times ``analysis.sem.fit_sem(chain, data, missing="fiml", auxiliary=["age"])`` (and
``estimator="MLR"``) as the median of repeats and, where ``Rscript`` with lavaan and
semTools is available, semTools' ``sem.auxiliary(chain, data, aux = "age")`` on the same
data in the same run (timed inside R, so R's start-up is excluded; semTools fits the
baseline model as well, as we do). The data are the recoded survey items plus ``age``
with a seeded ~10% extra missingness that is MAR given age (logit P = -2.4 + 0.8 (age -
50) / 15 per answer). Appends rows ``task, n, ours_s, lavaan_s, ratio`` (ratio = lavaan /
ours) to data/processed/benchmarks.csv.

Usage::

    .venv/bin/python bench/bench_auxiliary.py [--repeats 3] [--lavaan-repeats 1] [--no-lavaan]

(lavaan's FIML takes tens of seconds per fit here, hence its own, smaller repeat count.)
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

from _common import median_time, record, time_in_r  # noqa: E402

from analysis.io.codebook import construct_items, load_codebook  # noqa: E402
from analysis.io.survey import load_survey  # noqa: E402
from analysis.sem import fit_sem  # noqa: E402
from analysis.study.models import chain_model  # noqa: E402

SEED = 20261202

R_TIMER = r"""
suppressMessages({library(lavaan); library(semTools)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse = "\n")
est <- args[3]; reps <- as.integer(args[4])
t <- replicate(reps, system.time(sem.auxiliary(m, d, aux = "age",
                                               estimator = est))[["elapsed"]])
cat(median(t), "\n")
"""


def bench_data() -> tuple[pd.DataFrame, str]:
    """The recoded survey items and age, with seeded extra MAR-on-age missingness."""
    cb = load_codebook()
    items = [i for its in construct_items(cb).values() for i in its]
    d = load_survey(codebook=cb)[items + ["age"]].reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    p = 1.0 / (1.0 + np.exp(-(-2.4 + 0.8 * (d["age"].to_numpy() - 50) / 15)))
    mask = rng.random((len(d), len(items))) < p[:, None]
    X = d[items].mask(mask)
    return X.assign(age=d["age"]), chain_model(cb)


def time_ours(syntax, data, estimator, repeats) -> float:
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_sem(syntax, data, missing="fiml", estimator=estimator, auxiliary=["age"])
    return median_time(fit, repeats)


def time_lavaan(syntax, data, estimator, repeats) -> float:
    return time_in_r(R_TIMER, data, syntax, estimator, repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lavaan-repeats", type=int, default=1)
    ap.add_argument("--no-lavaan", action="store_true")
    args = ap.parse_args(argv)
    data, syntax = bench_data()
    n, p = data.shape
    print(f"survey + age: {n} x {p}, {data.isna().mean().mean():.1%} missing")
    rows = []
    for est in ("ML", "MLR"):
        ours = time_ours(syntax, data, est, args.repeats)
        lav = (float("nan") if args.no_lavaan
               else time_lavaan(syntax, data, est, args.lavaan_repeats))
        task = f"fiml_aux_{est.lower()}_chain_survey_age"
        rows.append(dict(task=task, n=n, ours_s=ours, lavaan_s=lav, ratio=lav / ours))
        print(f"{task}: ours {ours:.2f} s, semTools {lav:.2f} s, ratio {lav / ours:.1f}")
    print(f"wrote {record(rows).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
