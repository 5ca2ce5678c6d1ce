"""Run every benchmark in bench/ (``make bench``) and print the collected table.

Each ``bench/bench_*.py`` times its task as the median of repeats and appends rows
(task, n, ours_s, lavaan_s, ratio) to ``data/processed/benchmarks.csv``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    out = ROOT / "data" / "processed" / "benchmarks.csv"
    if out.exists():
        out.unlink()  # each run measures afresh
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if not scripts:
        print("no benchmarks in bench/")
        return 1
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=ROOT)
        if rc:
            return rc
    if out.exists():
        print(pd.read_csv(out).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
