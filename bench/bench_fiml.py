"""Benchmark: FIML fit of the chain model on the synthetic survey with ~10% extra MCAR.

Times ``analysis.sem.fit_sem(chain, data, missing="fiml")`` (and ``estimator="MLR"``)
as the median of repeats and, where ``Rscript`` with lavaan is available, lavaan's
``sem(chain, data, missing = "ml")`` on the same data in the same run (timed inside R, so
R's start-up is excluded). Appends rows ``task, n, ours_s, lavaan_s, ratio`` (ratio =
lavaan / ours) to data/processed/benchmarks.csv.

Usage::

    .venv/bin/python bench/bench_fiml.py [--repeats 3] [--rate 0.10] [--no-lavaan]
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

SEED = 20261127

R_TIMER = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse = "\n")
est <- args[3]; reps <- as.integer(args[4])
t <- replicate(reps, system.time(sem(m, d, missing = "ml", estimator = est))[["elapsed"]])
cat(median(t), "\n")
"""


def bench_data(rate: float) -> tuple[pd.DataFrame, str]:
    """The recoded survey items with a seeded MCAR share ``rate`` added, and the chain model."""
    cb = load_codebook()
    items = [i for its in construct_items(cb).values() for i in its]
    X = load_survey(codebook=cb)[items].reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    mask = rng.random(X.shape) < rate
    mask[mask.all(axis=1), 0] = False
    return X.mask(mask), chain_model(cb)


def time_ours(syntax, data, estimator, repeats) -> float:
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_sem(syntax, data, missing="fiml", estimator=estimator)
    return median_time(fit, repeats)


def time_lavaan(syntax, data, estimator, repeats) -> float:
    return time_in_r(R_TIMER, data, syntax, estimator, repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rate", type=float, default=0.10, help="extra MCAR share")
    ap.add_argument("--no-lavaan", action="store_true")
    args = ap.parse_args(argv)
    data, syntax = bench_data(args.rate)
    n, p = data.shape
    print(f"survey: {n} x {p}, {data.isna().mean().mean():.1%} missing")
    rows = []
    for est in ("ML", "MLR"):
        ours = time_ours(syntax, data, est, args.repeats)
        lav = float("nan") if args.no_lavaan else time_lavaan(syntax, data, est, args.repeats)
        task = f"fiml_{est.lower()}_chain_survey_mcar{round(100 * args.rate)}"
        rows.append(dict(task=task, n=n, ours_s=ours, lavaan_s=lav, ratio=lav / ours))
        print(f"{task}: ours {ours:.2f} s, lavaan {lav:.2f} s, ratio {lav / ours:.1f}")
    print(f"wrote {record(rows).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
