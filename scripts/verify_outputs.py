"""Regenerate the compendium's outputs in a temporary folder and compare them with the committed ones.

Usage: python scripts/verify_outputs.py [NOTEBOOK ...] [--keep DIR] [--against DIR]

Every notebook (or the ones named, by path or by number: ``00 01``) is executed with papermill
into a temporary folder, with ``COMPENDIUM_OUTPUT_DIR`` pointing there so that its figures and
tables are written there too; the repository, its notebooks included, is not touched. Then
every file written is compared with the committed file of the same name:

* CSV tables numerically, at the precision they were written with: both files must have the
  same header and rows, text cells must be equal, and numbers must agree to one unit in the
  last significant digit the column is written with (``write_table`` rounds every float to a
  stated number of significant digits, 6 by default), or to 1e-12 of the column's largest
  magnitude (values below that are written as 0);
* every other file (figures, LaTeX tables, Markdown) byte for byte.

The first difference is reported by file, row and column; the exit status is 1 if any file
differs or is missing. The comparison does not depend on the machine: a value that sits on a
rounding boundary (the one way two machines can write different digits) still passes.
``make verify`` runs it over every notebook; ``tests/test_verify_outputs.py`` over a fast subset.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIRS = ("data/processed", "figures")
#: Written by ``make bench``, not by the notebooks.
NOT_FROM_NOTEBOOKS = {"data/processed/benchmarks.csv", "data/processed/benchmarks-memory.csv"}
ZERO_BELOW = 1e-12  # as analysis.io.outputs.ZERO_BELOW


@dataclass
class Difference:
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}" if self.where else \
            f"{self.file}: {self.message}"


def _number(text: str):
    try:
        v = float(text)
    except ValueError:
        return None
    return v


def significant_digits(text: str) -> int:
    """Significant digits written in a number's text: ``"0.01230"`` -> 4, ``"1.2e-05"`` -> 2."""
    mant = text.strip().lstrip("+-").lower().split("e")[0].replace(".", "").lstrip("0")
    return len(mant) if mant else 1


def compare_csv(committed: Path, regenerated: Path, name: str) -> Difference | None:
    """The first difference between two tables beyond their written precision, or None."""
    with open(committed, newline="", encoding="utf-8") as f:
        a = list(csv.reader(f))
    with open(regenerated, newline="", encoding="utf-8") as f:
        b = list(csv.reader(f))
    if not a or not b:
        return None if a == b else Difference(name, "", "one of the files is empty")
    if a[0] != b[0]:
        return Difference(name, "header", f"committed {a[0]}, regenerated {b[0]}")
    header, a, b = a[0], a[1:], b[1:]
    if len(a) != len(b):
        return Difference(name, "", f"committed {len(a)} rows, regenerated {len(b)}")
    ncol = len(header)
    # per column: the digits the code writes it with now (the regenerated file), and its
    # largest magnitude in either file
    digits, scale, integral = [1] * ncol, [0.0] * ncol, [True] * ncol
    for rows, count_digits in ((a, False), (b, True)):
        for row in rows:
            for j, cell in enumerate(row[:ncol]):
                v = _number(cell)
                if v is not None and math.isfinite(v):
                    if count_digits:
                        digits[j] = max(digits[j], significant_digits(cell))
                        integral[j] &= not any(c in cell for c in ".eE")
                    scale[j] = max(scale[j], abs(v))
    for i, (ra, rb) in enumerate(zip(a, b), start=1):
        if len(ra) != len(rb):
            return Difference(name, f"row {i}", f"committed {len(ra)} cells, regenerated {len(rb)}")
        for j, (x, y) in enumerate(zip(ra, rb)):
            if x == y:
                continue
            col = header[j] if j < ncol else f"#{j}"
            where = f"row {i} ({header[0]}={ra[0]!r}), column {col!r}"
            vx, vy = _number(x), _number(y)
            if vx is None or vy is None or not (math.isfinite(vx) and math.isfinite(vy)):
                return Difference(name, where, f"committed {x!r}, regenerated {y!r}")
            if integral[j]:  # counts and other whole numbers: exactly
                return Difference(name, where, f"committed {x}, regenerated {y}")
            rtol = 10.0 ** (1 - digits[j])  # one unit in the last written digit
            tol = rtol * max(abs(vx), abs(vy)) + ZERO_BELOW * scale[j]
            if abs(vx - vy) > tol * (1 + 1e-9):
                rel = abs(vx - vy) / max(abs(vx), abs(vy))
                return Difference(name, where, f"committed {x}, regenerated {y} (relative "
                                  f"difference {rel:.2g} > {rtol:.0e}, the precision written)")
    return None


def compare_trees(committed_root: Path, regenerated_root: Path) -> tuple[list[Difference], int]:
    """Compare every output under ``regenerated_root`` with its committed counterpart."""
    diffs, n = [], 0
    for sub in OUTPUT_DIRS:
        base = regenerated_root / sub
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(regenerated_root).as_posix()
            n += 1
            target = committed_root / rel
            if not target.exists():
                diffs.append(Difference(rel, "", "written by the notebooks but not committed"))
            elif path.suffix == ".csv":
                d = compare_csv(target, path, rel)
                if d:
                    diffs.append(d)
            elif path.read_bytes() != target.read_bytes():
                diffs.append(Difference(rel, "", "bytes differ from the committed file"))
    return diffs, n


def committed_not_regenerated(committed_root: Path, regenerated_root: Path) -> list[str]:
    """Committed outputs that no notebook wrote (only meaningful after a full run)."""
    out = []
    for sub in OUTPUT_DIRS:
        for path in sorted((committed_root / sub).glob("*")):
            rel = path.relative_to(committed_root).as_posix()
            if path.is_file() and rel not in NOT_FROM_NOTEBOOKS and not (regenerated_root / rel).exists():
                out.append(rel)
    return out


def notebooks(selection: list[str]) -> list[Path]:
    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not selection:
        return every
    chosen = []
    for s in selection:
        hits = [p for p in every if p.name.startswith(f"{s}-") or p == Path(s).resolve()]
        if not hits:
            raise SystemExit(f"verify_outputs: no notebook matches {s!r}")
        chosen += hits
    return chosen


def regenerate(nbs: list[Path], out: Path, parameters: dict | None = None) -> None:
    """Execute ``nbs`` in order with their outputs redirected to ``out``."""
    import papermill as pm

    for sub in OUTPUT_DIRS:
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / "notebooks").mkdir(exist_ok=True)
    saved = dict(os.environ)
    os.environ["COMPENDIUM_OUTPUT_DIR"] = str(out)  # the kernels inherit it
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    try:
        for nb in nbs:
            print(f"== {nb.relative_to(ROOT)}", flush=True)
            pm.execute_notebook(str(nb), str(out / "notebooks" / nb.name), kernel_name="python3",
                                parameters=parameters or {}, cwd=str(nb.parent),
                                progress_bar=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", nargs="*", help="notebooks to run (paths or numbers; default all)")
    ap.add_argument("--keep", type=Path, help="write the regenerated outputs here and keep them")
    ap.add_argument("--against", type=Path,
                    help="compare outputs already regenerated in this folder (runs nothing)")
    args = ap.parse_args(argv)
    if args.against:
        out = args.against.resolve()
    else:
        out = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="verify-"))
        regenerate(notebooks(args.notebook), out)
    try:
        diffs, n = compare_trees(ROOT, out)
        if not args.notebook and not args.against:
            diffs += [Difference(rel, "", "committed but written by no notebook")
                      for rel in committed_not_regenerated(ROOT, out)]
        for d in diffs:
            print(f"DIFFERS {d}")
        print(f"verify_outputs: {n} files regenerated, {len(diffs)} differ from the committed ones")
        return 1 if diffs else 0
    finally:
        if not (args.keep or args.against):
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
