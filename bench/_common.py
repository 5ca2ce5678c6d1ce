"""What every benchmark shares: timing, the lavaan check, and the one results table.

Each ``bench/bench_*.py`` times its tasks and calls :func:`record`, which replaces that
script's rows in ``data/processed/benchmarks.csv`` (columns ``task n ours_s lavaan_s ratio``)
and keeps everyone else's, atomically.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.io.paths import DATA_PROCESSED, atomic_path  # noqa: E402

COLUMNS = ["task", "n", "ours_s", "lavaan_s", "ratio"]
TABLE = DATA_PROCESSED / "benchmarks.csv"


def median_time(fun, repeats: int) -> float:
    """Median wall time of ``fun()`` over ``repeats`` calls, in seconds."""
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fun()
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times))


def lavaan_available() -> bool:
    """Whether ``Rscript`` with lavaan is installed (benchmarks then run it beside ours)."""
    if shutil.which("Rscript") is None:
        return False
    return subprocess.run(["Rscript", "-e", "library(lavaan)"], capture_output=True).returncode == 0


def record(rows, path: Path = TABLE) -> Path:
    """Write ``rows`` into the benchmark table, replacing earlier rows with the same tasks."""
    new = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in new:
            new[col] = float("nan")
    new = new[COLUMNS]
    if path.exists():
        old = pd.read_csv(path)
        old = old[~old["task"].isin(new["task"])]
        new = pd.concat([old[COLUMNS], new], ignore_index=True)
    with atomic_path(path) as tmp:
        new.to_csv(tmp, index=False, lineterminator="\n", float_format="%.4g")
    return path


def time_in_r(timer: str, data: pd.DataFrame, syntax: str, *args) -> float:
    """Seconds that R script ``timer`` reports on ``data`` and ``syntax`` (NaN without R).

    The script is called as ``Rscript t.R data.csv model.lav *args`` and must print the time
    as the last word of its output; a failing run prints R's error and gives NaN.
    """
    if shutil.which("Rscript") is None:
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        csv, lav, script = Path(tmp, "d.csv"), Path(tmp, "m.lav"), Path(tmp, "t.R")
        data.to_csv(csv, index=False)
        lav.write_text(syntax, encoding="utf-8")
        script.write_text(timer, encoding="utf-8")
        out = subprocess.run(["Rscript", str(script), str(csv), str(lav), *map(str, args)],
                             capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr[-500:], file=sys.stderr)
        return float("nan")
    return float(out.stdout.split()[-1])
