"""Benchmark: how fit time grows with the number of respondents, beside lavaan; memory of a
Monte Carlo recovery run against the number of replications.

Fit tasks (median of repeats — 5 at N = 1,600, 3 above, after a warm-up; lavaan 3 and 1 —
wall clock, data generation and loading excluded):

* ``scaling_ml_fit``    ``fit_sem(chain, data)`` — ML, listwise, SEs, std.all, fit indices
                        (lavaan: ``sem(chain, d)``);
* ``scaling_mlr_fit``   ``estimator="MLR"`` (lavaan: ``estimator = "MLR"``);
* ``scaling_fiml_fit``  ``missing="fiml"`` with 10% of residents incomplete (lavaan:
                        ``missing = "ml"``);
* ``scaling_bootstrap_1000``  1,000 bootstrap resamples of the ML fit with percentile
                        intervals, on all cores (one timed run; lavaan ``se = "bootstrap"``
                        only at N = 1,600, where it already takes tens of seconds);
* ``scaling_invariance``  configural, metric and scalar models by community type with the
                        difference tests (lavaan: three ``sem()`` calls and ``lavTestLRT``);

at N = 1,600, 10,000 and 100,000 residents drawn from the documented population
(:mod:`analysis.study.population`: 5-point items, community effects, type shifts; 25 residents per
community). lavaan runs on the same data in the same run where ``Rscript`` with lavaan is
installed (timed inside R, so R's start-up is excluded); otherwise its columns are empty and
the script says so. Rows ``task, n, ours_s, lavaan_s, ratio`` (ratio = lavaan / ours, >1 means
we are faster) replace this script's earlier rows in data/processed/benchmarks.csv.

Memory: peak resident set size of a fresh process running
:func:`analysis.study.recovery.monte_carlo` (one worker) at two replication counts, written to
data/processed/benchmarks-memory.csv (``task, n_reps, peak_rss_mb, wall_s``); the estimates
of a replication are kept, its dataset is not, so the peak should not grow with replications.

    .venv/bin/python bench/bench_scaling.py [--quick] [--no-lavaan]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COLUMNS, ROOT, lavaan_available, record  # noqa: E402
from _common import median_time as _median  # noqa: E402

from analysis.io.codebook import load_codebook  # noqa: E402
from analysis.io.paths import DATA_PROCESSED, atomic_path  # noqa: E402
from analysis.sem import bootstrap, fit_sem, invariance  # noqa: E402
from analysis.study.models import chain_model, measurement_model  # noqa: E402
from analysis.study.population import simulate_survey  # noqa: E402
from analysis.study.recovery import impose_mar  # noqa: E402
from analysis.study.simulation_designs import design_population, recode_simulated  # noqa: E402

SEED = 20261127

R_TIMER = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
m <- paste(readLines(args[1]), collapse = "\n")
meas <- paste(readLines(args[2]), collapse = "\n")
el <- function(f) { t0 <- proc.time()[["elapsed"]]; f(); proc.time()[["elapsed"]] - t0 }
for (k in seq(3, length(args), by = 5)) {
  d <- read.csv(args[k]); kind <- args[k + 1]; est <- args[k + 2]; miss <- args[k + 3]
  reps <- as.integer(args[k + 4])
  f <- switch(kind,
    fit = function() { r <- sem(m, d, estimator = est, missing = miss); fitMeasures(r);
                       standardizedSolution(r) },
    boot = function() { set.seed(1); r <- sem(m, d, se = "bootstrap", bootstrap = 1000);
                        parameterEstimates(r, boot.ci.type = "perc") },
    inv = function() {
      a <- sem(meas, d, group = "community_type")
      b <- sem(meas, d, group = "community_type", group.equal = "loadings")
      c <- sem(meas, d, group = "community_type", group.equal = c("loadings", "intercepts"))
      lavTestLRT(a, b, c) })
  if (reps > 1) invisible(f())  # warm-up
  cat(args[k], kind, median(replicate(reps, el(f))), "\n", sep = ",")
}
"""

# Peak RSS from /proc/self/status (VmHWM): unlike getrusage's ru_maxrss, which Linux carries
# over from the parent across fork + exec, it belongs to this process alone.
MEMORY_CODE = r"""
import resource, sys, time
sys.path.insert(0, {root!r})
from analysis.study.recovery import monte_carlo
from analysis.study.simulation_designs import Design
def peak_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
est = monte_carlo(Design("main"), {reps}, seed=1, n_jobs=1)
wall = time.perf_counter() - t0
print(peak_mb(), wall, len(est))
"""


def bench_data(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete and incomplete (10% of residents, MAR) items of ``n`` residents, with their
    community type."""
    cb = load_codebook()
    pop = design_population(n, n // 25)
    survey = simulate_survey(SEED + n, pop, cb, missing=False)
    items = recode_simulated(survey, cb)
    incomplete = impose_mar(items, 0.10, np.random.default_rng(SEED + n), cb)
    items.insert(0, "community_type", survey["community_type"].to_numpy())
    return items, incomplete


def median_time(fun, repeats: int) -> float:
    fun()  # warm-up
    return _median(fun, repeats)


def run(sizes, use_lavaan: bool = True) -> pd.DataFrame:
    warnings.simplefilter("ignore")
    cb = load_codebook()
    chain, meas = chain_model(cb), measurement_model(cb)
    n_jobs = os.cpu_count() or 1
    tasks = {"scaling_ml_fit": ("ML", "listwise"), "scaling_mlr_fit": ("MLR", "listwise"),
             "scaling_fiml_fit": ("ML", "fiml")}
    rows, files = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            full, part = bench_data(n)
            repeats = 5 if n <= 2000 else 3
            for task, (est, miss) in tasks.items():
                data = part if miss == "fiml" else full
                t = median_time(lambda: fit_sem(chain, data, estimator=est, missing=miss),
                                repeats)
                rows.append({"task": task, "n": n, "ours_s": t})
                print(f"{task:18s} N={n:>7,d}  ours {t:8.3f} s", flush=True)
                path = tmp / f"{task}_{n}.csv"
                data.to_csv(path, index=False)
                # lavaan's FIML takes minutes at large N: one timed run there, no warm-up
                files += [str(path), "fit", est, "ml" if miss == "fiml" else "listwise",
                          "3" if n <= 2000 else "1"]
            res = fit_sem(chain, full, std_se=False)
            t = _median(lambda: bootstrap(res, n_boot=1000, seed=1, n_jobs=n_jobs,
                                          progress=False), 1)
            rows.append({"task": "scaling_bootstrap_1000", "n": n, "ours_s": t})
            print(f"{'scaling_bootstrap_1000':18s} N={n:>7,d}  ours {t:8.3f} s", flush=True)
            t = median_time(lambda: invariance(meas, full, "community_type"),
                            3 if n <= 2000 else 1)
            rows.append({"task": "scaling_invariance", "n": n, "ours_s": t})
            print(f"{'scaling_invariance':18s} N={n:>7,d}  ours {t:8.3f} s", flush=True)
            path = tmp / f"full_{n}.csv"
            full.to_csv(path, index=False)
            if n <= 2000:
                files += [str(path), "boot", "ML", "listwise", "1"]
            files += [str(path), "inv", "ML", "listwise", "3" if n <= 2000 else "1"]
        out = pd.DataFrame(rows)
        out["lavaan_s"] = np.nan
        if use_lavaan and lavaan_available():
            (tmp / "chain.lav").write_text(chain, encoding="utf-8")
            (tmp / "meas.lav").write_text(meas, encoding="utf-8")
            (tmp / "timer.R").write_text(R_TIMER, encoding="utf-8")
            r = subprocess.run(["Rscript", str(tmp / "timer.R"), str(tmp / "chain.lav"),
                                str(tmp / "meas.lav"), *files], capture_output=True, text=True,
                               check=True)
            for line in r.stdout.splitlines():
                path, kind, sec = line.strip().rstrip(",").split(",")[:3]
                stem, n = Path(path).stem.rsplit("_", 1)
                task = {"boot": "scaling_bootstrap_1000", "inv": "scaling_invariance"}.get(
                    kind, stem)
                out.loc[(out["task"] == task) & (out["n"] == int(n)), "lavaan_s"] = float(sec)
        elif use_lavaan:
            print("lavaan not available (no Rscript with lavaan): reporting our times only")
    out["ratio"] = out["lavaan_s"] / out["ours_s"]
    return out.round({"ours_s": 4, "lavaan_s": 4, "ratio": 2})


def memory(reps=(20, 100)) -> pd.DataFrame:
    """Peak RSS of a fresh process running the recovery Monte Carlo at each replication count."""
    rows = []
    for r in reps:
        code = MEMORY_CODE.format(root=str(ROOT), reps=int(r))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        mb, wall, n_rows = out.stdout.split()
        rows.append({"task": "recovery_monte_carlo_main", "n_reps": int(r),
                     "peak_rss_mb": round(float(mb), 1), "wall_s": round(float(wall), 2)})
        print(f"recovery Monte Carlo, {r:4d} replications: peak RSS {float(mb):7.1f} MB, "
              f"{float(wall):6.1f} s", flush=True)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 1,600 and 10,000 only")
    ap.add_argument("--no-lavaan", action="store_true", help="skip lavaan even if installed")
    ap.add_argument("--memory-only", action="store_true", help="only the memory measurement")
    args = ap.parse_args(argv)
    sizes = (1600, 10_000) if args.quick else (1600, 10_000, 100_000)
    rows = (pd.DataFrame(columns=COLUMNS) if args.memory_only
            else run(sizes, use_lavaan=not args.no_lavaan))
    mem = memory((10, 40) if args.quick else (20, 200))
    rec = mem.assign(task=[f"recovery_{r}_reps" for r in mem["n_reps"]], n=1570,
                     ours_s=mem["wall_s"], lavaan_s=np.nan, ratio=np.nan)
    record(pd.concat([rows, rec[COLUMNS]], ignore_index=True) if len(rows) else rec[COLUMNS])
    with atomic_path(DATA_PROCESSED / "benchmarks-memory.csv") as tmp:
        mem.to_csv(tmp, index=False, lineterminator="\n")
    if len(rows):
        print(rows.to_string(index=False))
    print(mem.to_string(index=False))
    growth = mem["peak_rss_mb"].iloc[-1] / mem["peak_rss_mb"].iloc[0]
    print(f"peak memory grows by a factor {growth:.2f} for {mem['n_reps'].iloc[-1] / mem['n_reps'].iloc[0]:.0f}x "
          "the replications")
    return 0


if __name__ == "__main__":
    sys.exit(main())
