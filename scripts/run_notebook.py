"""Execute a notebook in place with papermill, then strip what changes from run to run.

Usage: python scripts/run_notebook.py NOTEBOOK [-p NAME VALUE ...] [--output-dir DIR]

With ``--output-dir`` (a user's run: ``make reproduce SURVEY=...``) the executed notebook is
written to ``DIR/notebooks/`` and the notebook's figures and tables to ``DIR/figures/`` and
``DIR/tables/`` (through ``analysis.io.paths``), so the committed compendium stays untouched;
markdown cells tagged ``synthetic-only`` (interpretations of the shipped synthetic results) are
left out of it.

The executed notebook is written to a temporary file and renamed over the original only when
execution succeeded, so an interrupted run never leaves a half-written notebook. Volatile
metadata (timestamps, durations, random cell ids, papermill's run records) are removed, so a
second run with the same inputs leaves ``git status`` clean.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.io.paths import RESULTS_ENV, USER_SURVEY_ENV, atomic_path  # noqa: E402

KERNEL = "python3"


def strip_volatile(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """Remove run-specific metadata and give cells stable ids."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    lang = nb.metadata.get("language_info", {})
    lang.pop("version", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": KERNEL}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stem[:40]}-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type == "code":
            cell.outputs = _drop_progress(_merge_streams(cell.get("outputs", [])))
            for out in cell.outputs:
                out.get("metadata", {}).pop("execution", None)
    return nb


# A tqdm progress line: "label: 100%|#####| 1000/1000 [00:03<00:00, 290.12it/s]".
_PROGRESS = re.compile(r"^.*\d+%\|.*\|.*\[[^\]]*\]\s*$")


def _drop_progress(outputs: list) -> list:
    """Remove progress bars: they show elapsed time and rates, which differ on every run."""
    kept = []
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            text = "".join(out["text"]).replace("\r", "\n")
            lines = [ln for ln in text.split("\n") if ln.strip() and not _PROGRESS.match(ln)]
            if not lines:
                continue
            out["text"] = "\n".join(lines) + "\n"
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
            continue
        kept.append(out)
    return kept


def _merge_streams(outputs: list) -> list:
    """Join consecutive outputs of the same stream: how the kernel flushes them varies."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


#: Markdown cells with this tag interpret the shipped synthetic survey's results (or compare them
#: with the population's true values); a user's run (``--output-dir``) leaves them out, so no
#: sentence in a user's results describes the synthetic data.
SYNTHETIC_ONLY = "synthetic-only"


def drop_synthetic_only(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove the markdown cells tagged :data:`SYNTHETIC_ONLY` (for a user's results)."""
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "markdown" and SYNTHETIC_ONLY in c.metadata.get("tags", []))]
    return nb


#: In an edition other than English the runner appends a cell that prints the figure strings
#: the glossary left in English (:data:`analysis.plots.edition.UNTRANSLATED`), reports them on
#: stderr and removes the cell again, so the executed notebook is the same as without it.
REPORT_TAG = "edition-report"
REPORT_CELL = ("from analysis.plots.edition import UNTRANSLATED as _untranslated\n"
               "print('\\n'.join(sorted(_untranslated)))")


def pop_edition_report(nb: nbformat.NotebookNode) -> list[str]:
    """Remove the report cell (:data:`REPORT_TAG`) and return the strings it printed."""
    found = []
    kept = []
    for cell in nb.cells:
        if REPORT_TAG in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    found += [s for s in "".join(out["text"]).split("\n") if s.strip()]
        else:
            kept.append(cell)
    nb.cells = kept
    return found


def run(path: Path, parameters: dict, output_dir: Path | None = None) -> Path:
    path = path.resolve()
    source = nbformat.read(path, as_version=4)
    edition = str(parameters.get("labels", "en"))
    if edition != "en":
        source.cells.append(nbformat.v4.new_code_cell(REPORT_CELL,
                                                      metadata={"tags": [REPORT_TAG]}))
    target = path
    saved = os.environ.get(RESULTS_ENV)
    if output_dir is not None:
        output_dir = Path(output_dir).resolve()
        target = output_dir / "notebooks" / path.name
        os.environ[RESULTS_ENV] = str(output_dir)  # the kernel inherits it
    saved_user = os.environ.pop(USER_SURVEY_ENV, None)
    if parameters.get("survey_path"):
        os.environ[USER_SURVEY_ENV] = "1"  # titles and captions drop "(synthetic data)"
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # fixed summation order: bit-reproducible numbers
    fd, staging = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=".ipynb")
    os.close(fd)
    try:
        pm.execute_notebook(source, staging, parameters=parameters, kernel_name=KERNEL,
                            cwd=str(path.parent), progress_bar=sys.stderr.isatty())
        nb = nbformat.read(staging, as_version=4)
        left = pop_edition_report(nb)
        if left:
            print(f"{path.name}: {len(left)} figure strings left untranslated in the "
                  f"{edition!r} edition (add them to data/raw/terms.csv):", file=sys.stderr)
            for s in left:
                print(f"  {s!r}", file=sys.stderr)
        if output_dir is not None:
            nb = drop_synthetic_only(nb)
        nb = strip_volatile(nb, path.stem)
        with atomic_path(target) as out:
            nbformat.write(nb, str(out))
    finally:
        os.unlink(staging)
        os.environ.pop(USER_SURVEY_ENV, None)
        if saved_user is not None:
            os.environ[USER_SURVEY_ENV] = saved_user
        if output_dir is not None:
            if saved is None:
                os.environ.pop(RESULTS_ENV, None)
            else:
                os.environ[RESULTS_ENV] = saved
    return target


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="papermill parameter (Python literal or text)")
    ap.add_argument("--output-dir", type=Path, default=None,
                    help="write the executed notebook, figures and tables under this folder")
    args = ap.parse_args(argv)
    target = run(args.notebook, {k: _value(v) for k, v in args.parameter}, args.output_dir)
    print(f"executed {args.notebook} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
