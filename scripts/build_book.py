"""Build the HTML edition of the executed notebooks: ``make book``.

Usage: python scripts/build_book.py [--out DIR]

The sources of the edition are ``book/`` (Sphinx configuration, landing page, theme CSS) and the
committed notebooks ``notebooks/NN-*.ipynb``, shown with their stored outputs: nothing is
executed (``nb_execution_mode = "off"`` in ``book/conf.py``). Both are copied into a fresh
staging folder, ``_build/book-src/``, so that Sphinx never writes next to the notebooks, and the
pages are written to ``--out`` (default ``_build/html/``; open ``index.html``). Any Sphinx
warning (a broken reference, an unreadable output) stops the build.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"


def notebooks() -> list[Path]:
    """The notebooks of the edition, in reading order (``notebooks/NN-*.ipynb``)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def stage(src: Path) -> Path:
    """Copy ``book/`` and the notebooks into a fresh folder ``src`` and return it."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK, src, ignore=shutil.ignore_patterns("__pycache__", "_build"))
    for nb in notebooks():
        shutil.copy2(nb, src / nb.name)
    return src


def build(out: Path, work: Path | None = None) -> Path:
    """Build the HTML edition into ``out`` and return ``out``.

    ``work`` holds the staging sources and Sphinx's doctrees (default: beside ``out``).
    Raises ``subprocess.CalledProcessError`` if Sphinx fails or warns.
    """
    out = Path(out).resolve()
    work = Path(work).resolve() if work else out.parent
    src = stage(work / "book-src")
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
           "-d", str(work / "doctrees"), str(src), str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html",
                        help="folder for the pages (default: _build/html)")
    args = parser.parse_args(argv)
    try:
        out = build(args.out)
    except subprocess.CalledProcessError as err:
        print(f"build_book: sphinx failed (exit {err.returncode})", file=sys.stderr)
        return 1
    print(f"build_book: {len(notebooks())} notebooks -> {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
