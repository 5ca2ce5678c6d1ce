"""Benchmark: ordinal SEM (polychorics + WLSMV) beside lavaan's ``sem(..., ordered = TRUE)``.

Tasks (median of repeats; lavaan timed inside R on the same data in the same run, so R's
start-up is excluded):

* ``wlsmv_chain_survey_2400``: the six-construct chain model on 2,400 complete 5-point
  answers (the recoded survey's complete rows, tests/reference/sem_robust/survey_recoded.csv,
  resampled with replacement to 2,400 rows with a fixed seed);
* ``wlsmv_bfi_cfa``: psych::bfi's 25 items, five-factor CFA, 2,436 complete rows
  (tests/reference/sem_ordinal/bfi.csv);
* ``polychoric_bfi``: thresholds, 300 polychorics and their asymptotic covariance alone
  (lavaan: ``lavCor(..., ordered = TRUE, output = "fit")`` with its NACOV).

Ours is ``fit_sem(..., ordered=True)`` with its defaults (std.all SEs included). Rows
``task, n, ours_s, lavaan_s, ratio`` (ratio = lavaan / ours) go to
data/processed/benchmarks.csv via bench/_common.record.

Usage::

    .venv/bin/python bench/bench_ordinal.py [--repeats 5] [--no-lavaan] [--no-record]
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

from _common import lavaan_available, median_time, record, time_in_r  # noqa: E402

from analysis.sem import fit_sem, polychoric  # noqa: E402

REF = ROOT / "tests" / "reference"
SEED = 20261202

R_TIMER = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3]); what <- args[4]
f <- if (what == "fit") function() sem(m, d, ordered = TRUE) else
  function() lavCor(d, ordered = names(d), output = "fit", se = "robust.sem")
invisible(f())
t <- replicate(reps, system.time(f())[["elapsed"]])
cat(median(t), "\n")
"""


def survey_2400() -> tuple[pd.DataFrame, str]:
    """2,400 complete 5-point answers for the chain model (seeded resample)."""
    d = pd.read_csv(REF / "sem_robust" / "survey_recoded.csv").dropna().reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    d = d.iloc[rng.integers(0, len(d), 2400)].reset_index(drop=True)
    return d, (REF / "sem_robust" / "chain.lav").read_text(encoding="utf-8")


def bfi() -> tuple[pd.DataFrame, str]:
    return (pd.read_csv(REF / "sem_ordinal" / "bfi.csv"),
            (REF / "sem_ordinal" / "bfi.lav").read_text(encoding="utf-8"))


def time_lavaan(data: pd.DataFrame, syntax: str, repeats: int, what: str) -> float:
    return time_in_r(R_TIMER, data, syntax, repeats, what)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-lavaan", action="store_true")
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args(argv)
    use_r = not args.no_lavaan and lavaan_available()
    rows = []
    tasks = [("wlsmv_chain_survey_2400", *survey_2400(), "fit"),
             ("wlsmv_bfi_cfa", *bfi(), "fit"),
             ("polychoric_bfi", *bfi(), "cor")]
    for task, data, syntax, what in tasks:
        def ours():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if what == "fit":
                    fit_sem(syntax, data, ordered=True)
                else:
                    polychoric(data)
        ours()  # warm-up
        t_ours = median_time(ours, args.repeats)
        t_lav = time_lavaan(data, syntax, args.repeats, what) if use_r else float("nan")
        rows.append(dict(task=task, n=len(data), ours_s=t_ours, lavaan_s=t_lav,
                         ratio=t_lav / t_ours))
        print(f"{task} (n={len(data)}): ours {t_ours:.3f} s, lavaan {t_lav:.3f} s, "
              f"ours/lavaan {t_ours / t_lav:.3f}")
    if not args.no_record:
        print(f"wrote {record(rows).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
