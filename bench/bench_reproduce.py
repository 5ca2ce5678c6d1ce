"""Benchmark: wall time of ``make reproduce`` (every notebook, in order, at full size).

``make reproduce`` executes the notebooks in place (scripts/run_notebook.py); with fixed seeds
they rewrite the same outputs, so the work tree is unchanged afterwards. Writes the row
``reproduce_all_notebooks, <residents in the survey>, <seconds>, , `` to
data/processed/benchmarks.csv (one run: it takes minutes; the target is under 5 minutes on
2 cores) and the time of each notebook to data/processed/benchmarks-reproduce.csv, parsed
from the ``== notebook`` lines the Makefile prints.

    .venv/bin/python bench/bench_reproduce.py [--skip]

``--skip`` (or the environment variable ``BENCH_SKIP_REPRODUCE=1``) records nothing and
returns at once, for a quick ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, record  # noqa: E402

from analysis.io.paths import DATA_PROCESSED, SURVEY, atomic_path  # noqa: E402


def run_reproduce() -> tuple[float, pd.DataFrame]:
    """Run ``make reproduce``; total wall time and the time of each notebook."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["make", "--no-print-directory", "reproduce"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    per, current, start = [], None, t0
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.startswith("== "):
            now = time.perf_counter()
            if current is not None:
                per.append({"notebook": current, "wall_s": round(now - start, 2)})
            current, start = line[3:].strip(), now
    rc = proc.wait()
    total = time.perf_counter() - t0
    if current is not None:
        per.append({"notebook": current, "wall_s": round(time.perf_counter() - start, 2)})
    if rc:
        raise SystemExit(f"make reproduce failed with exit code {rc}")
    return total, pd.DataFrame(per)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip", action="store_true", help="record nothing (quick make bench)")
    args = ap.parse_args(argv)
    if args.skip or os.environ.get("BENCH_SKIP_REPRODUCE") == "1":
        print("make reproduce benchmark skipped")
        return 0
    total, per = run_reproduce()
    n = sum(1 for _ in open(SURVEY, encoding="utf-8")) - 1 if SURVEY.exists() else np.nan
    row = pd.DataFrame([{"task": "reproduce_all_notebooks", "n": n, "ours_s": round(total, 1),
                         "lavaan_s": np.nan, "ratio": np.nan}])
    record(row)
    with atomic_path(DATA_PROCESSED / "benchmarks-reproduce.csv") as tmp:
        per.to_csv(tmp, index=False, lineterminator="\n")
    print(per.to_string(index=False))
    print(f"make reproduce: {total:.1f} s (target: under 300 s on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
