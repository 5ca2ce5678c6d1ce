"""Benchmark: two-level ML fit of a six-construct chain (level 1) and six factors (level 2).

Data: ``tests/reference/sem_twolevel_inputs.simulate_twolevel`` (seeded): 80 communities
of 20-40 residents (about 2,400), six constructs of four items; the level-1 model is the
chain of ``chain.lav`` (CS ~ MS; OM ~ MS + CS; RA ~ CS + OM; CC ~ CS + OM;
PV ~ MS + CS + OM + RA + CC), the level-2 model six correlated factors on the same items.
Times ``analysis.sem.twolevel.fit_twolevel(..., cluster="community")`` (ML, with SEs and all
fit indices) as the median of repeats and, where ``Rscript`` with lavaan is available,
lavaan's ``sem(model, data, cluster = "community")`` on the same data in the same run
(timed inside R, so R's start-up is excluded). Also reports the scaling of our fit to 200
and 500 communities (lavaan at 500 with ``--lavaan-large``), and two-level FIML
(``missing="fiml"``; lavaan ``missing = "ml"``, timed once: it takes minutes) on the
80-community survey with about 10% of the answers missing at random (every item but the
first, with probability ``plogis(-2.4 + 0.8 z)``, z the standardised first item; seeded).
Records rows ``task, n, ours_s, lavaan_s, ratio`` (ratio = lavaan / ours) in
data/processed/benchmarks.csv.

Usage::

    .venv/bin/python bench/bench_twolevel.py [--repeats 3] [--no-lavaan] [--lavaan-large]
        [--no-fiml]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "reference"))

import numpy as np  # noqa: E402

from analysis.sem import fit_twolevel  # noqa: E402
from sem_twolevel_inputs import simulate_twolevel  # noqa: E402
from _common import median_time, record  # noqa: E402

SEED = 20261202
CONSTRUCTS = ["MS", "CS", "OM", "RA", "CC", "PV"]
PATHS = {"CS": ["MS"], "OM": ["MS", "CS"], "RA": ["CS", "OM"], "CC": ["CS", "OM"],
         "PV": ["MS", "CS", "OM", "RA", "CC"]}

R_TIMER = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3]); miss <- args[4]
run <- function() sem(m, d, cluster = "community", missing = miss)
t1 <- system.time(fit <- run())[["elapsed"]]
t <- c(t1, if (reps > 1) replicate(reps - 1, system.time(run())[["elapsed"]]))
cat(lavInspect(fit, "converged"), fitMeasures(fit, "chisq"), median(t), "\n")
"""


def bench_model() -> str:
    letters = "abcdef"
    items = {c: [f"{letters[k]}{i}" for i in range(1, 5)] for k, c in enumerate(CONSTRUCTS)}
    lines = ["level: 1"]
    lines += [f"  {c}w =~ " + " + ".join(items[c]) for c in CONSTRUCTS]
    lines += [f"  {c}w ~ " + " + ".join(f"{x}w" for x in xs) for c, xs in PATHS.items()]
    lines += ["level: 2"]
    lines += [f"  {c}b =~ " + " + ".join(items[c]) for c in CONSTRUCTS]
    return "\n".join(lines) + "\n"


def bench_data(n_clusters: int):
    return simulate_twolevel(n_clusters, 6, 4, seed=SEED + n_clusters, size_range=(20, 40))


def with_missing(data, seed: int = SEED):
    """About 10% missing at random: every item but the first is missing with probability
    ``plogis(-2.4 + 0.8 z)``, z the standardised first item (always observed)."""
    rng = np.random.default_rng(seed)
    out = data.copy()
    items = [c for c in out.columns if c != "community"]
    z = (out[items[0]] - out[items[0]].mean()) / out[items[0]].std()
    p = 1.0 / (1.0 + np.exp(-(-2.4 + 0.8 * z.to_numpy())))
    for c in items[1:]:
        out.loc[rng.random(len(out)) < p, c] = np.nan
    return out


def fit_ours(syntax, data, missing="listwise"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_twolevel(syntax, data, cluster="community", missing=missing)


def time_lavaan(syntax, data, repeats, missing="listwise"):
    if shutil.which("Rscript") is None:
        return float("nan"), float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        csv, lav, script = Path(tmp, "d.csv"), Path(tmp, "m.lav"), Path(tmp, "t.R")
        data.to_csv(csv, index=False)
        lav.write_text(syntax, encoding="utf-8")
        script.write_text(R_TIMER, encoding="utf-8")
        miss = "ml" if missing == "fiml" else "listwise"
        out = subprocess.run(["Rscript", str(script), str(csv), str(lav), str(repeats), miss],
                             capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr[-500:], file=sys.stderr)
        return float("nan"), float("nan")
    conv, chisq, t = out.stdout.split()[-3:]
    return float(t), float(chisq)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-lavaan", action="store_true")
    ap.add_argument("--lavaan-large", action="store_true",
                    help="also time lavaan at 500 communities (slow)")
    ap.add_argument("--no-fiml", action="store_true", help="skip the two-level FIML task")
    args = ap.parse_args(argv)
    syntax = bench_model()
    rows = []
    if not args.no_fiml:
        data = with_missing(bench_data(80))
        res = fit_ours(syntax, data, "fiml")
        ours = median_time(lambda: fit_ours(syntax, data, "fiml"), max(1, args.repeats - 2))
        lav, lchisq = ((float("nan"), float("nan")) if args.no_lavaan
                       else time_lavaan(syntax, data, 1, "fiml"))
        task = "twolevel_fiml_chain6_factors6_80communities"
        rows.append(dict(task=task, n=len(data), ours_s=ours, lavaan_s=lav, ratio=lav / ours))
        frac = data.drop(columns="community").isna().to_numpy().mean()
        print(f"{task}: N={len(data)} missing={frac:.3f} "
              f"converged={res.converged} chisq={res.fit_indices['chisq']:.3f} "
              f"(lavaan {lchisq:.3f}); ours {ours:.2f} s, lavaan {lav:.2f} s, "
              f"ratio {lav / ours:.1f}")
    for J in (80, 200, 500):
        data = bench_data(J)
        res = fit_ours(syntax, data)
        ours = median_time(lambda: fit_ours(syntax, data), args.repeats)
        want_lav = not args.no_lavaan and (J == 80 or args.lavaan_large)
        lav, lchisq = time_lavaan(syntax, data, args.repeats) if want_lav else (float("nan"),
                                                                               float("nan"))
        task = f"twolevel_ml_chain6_factors6_{J}communities"
        rows.append(dict(task=task, n=len(data), ours_s=ours, lavaan_s=lav, ratio=lav / ours))
        print(f"{task}: N={len(data)} converged={res.converged} "
              f"chisq={res.fit_indices['chisq']:.3f} (lavaan {lchisq:.3f}); ours {ours:.2f} s, "
              f"lavaan {lav:.2f} s, ratio {lav / ours:.1f}")
    ml = {r["task"]: r for r in rows if r["task"].startswith("twolevel_ml")}
    a = ml.get("twolevel_ml_chain6_factors6_80communities")
    b = ml.get("twolevel_ml_chain6_factors6_500communities")
    if a and b:
        print(f"scaling 80 -> 500 communities: N x {b['n'] / a['n']:.2f}, our time x "
              f"{b['ours_s'] / a['ours_s']:.2f}"
              + ("" if math.isnan(b["lavaan_s"]) else
                 f", lavaan's x {b['lavaan_s'] / a['lavaan_s']:.2f}"))
    print(f"wrote {record(rows).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
