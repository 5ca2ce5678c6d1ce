"""The variant matrix: every notebook run on each survey of tests/survey_variants.py, once.

:func:`run_matrix` writes each variant's survey, codebook and model into a temporary folder and
runs the notebooks on it into that variant's own results folder, through two workers (each
notebook in its own process). tests/conftest.py calls it from the session-scoped ``matrix``
fixture, so tests/test_variants.py (the notebooks' own checks) and tests/test_reports.py (the
reports built from those results) share one run: it takes about five minutes on two cores.

Sizes are the smallest that exercise every cell: 300 respondents in 20 communities, 20
bootstrap resamples, 10 parallel-analysis data sets, 20 Monte Carlo runs. Notebook 01 (the
policy corpus, which reads no survey) runs for one variant; every other notebook, 06
(simulation and power planning for the variant's codebook) at its smallest size, on each.
"""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys

from analysis.io import paths
from survey_variants import VARIANTS, write_variant

SMALL = {"02": {"pa_iter": 10}, "03": {"n_boot": 20}, "04": {"n_runs": 20, "n_resident_boot": 50},
         "05": {"n_boot": 20},
         "06": {"n_reps": 4, "n_grid": [400], "n_reps_grid": 2, "n_reps_designs": 2,
                "n_boot_reps": 1, "n_boot": 10, "power_n": [200, 800], "power_k": [20],
                "n_reps_power": 2, "n_jobs": 1}}
ALL = ("00", "02", "03", "04", "05", "06")
EXTRA = {"other-codes": ("01",)}


def git_status() -> str:
    """``git status --porcelain`` of the tracked files (to check a run leaves them untouched)."""
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                          capture_output=True, text=True, check=True).stdout


def notebook(nb_id):
    """The notebook ``notebooks/<nb_id>-*.ipynb``."""
    return sorted((paths.ROOT / "notebooks").glob(f"{nb_id}-*.ipynb"))[0]


def run_matrix(tmp_path_factory):
    """Run the notebooks on every variant.

    Returns
    -------
    tuple
        ``runs`` (variant -> (files of :func:`write_variant`, results folder)), ``errors``
        ((variant, notebook) -> the end of its output), and ``git status`` before and after.
    """
    before = git_status()
    jobs, runs = [], {}
    for name in sorted(VARIANTS):
        base = tmp_path_factory.mktemp(name)
        files = write_variant(name, base / "input")
        out = base / "results"
        runs[name] = (files, out)
        for nb_id in ALL + EXTRA.get(name, ()):
            params = {"survey_path": str(files["survey"]), "codebook_path": str(files["codebook"]),
                      **SMALL.get(nb_id, {})}
            if nb_id == "06":
                params = {k: v for k, v in params.items() if k != "survey_path"}
            if files["model"]:
                params["model_path"] = str(files["model"])
            jobs.append((name, nb_id, params, out))
    errors = {}
    script = str(paths.ROOT / "scripts" / "run_notebook.py")

    def run(nb_id, params, out):
        # one process per notebook: the runner sets environment variables that its kernel
        # inherits, so runs in threads of one process would see each other's settings
        cmd = [sys.executable, script, str(notebook(nb_id)), "--output-dir", str(out)]
        for k, v in params.items():
            cmd += ["-p", k, repr(v)]
        done = subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stdout[-1500:] + done.stderr[-3000:])

    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(run, nb_id, params, out): (name, nb_id)
                   for name, nb_id, params, out in jobs}
        for fut in cf.as_completed(futures):
            exc = fut.exception()
            if exc is not None:
                errors[futures[fut]] = str(exc)[-3000:]
    return runs, errors, before, git_status()
