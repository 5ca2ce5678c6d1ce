"""Build the HTML edition of the executed notebooks: ``make book``.

Usage: python scripts/build_book.py [--out DIR]

The sources of the edition are ``book/`` (Sphinx configuration, landing page, theme CSS) and the
committed notebooks ``notebooks/NN-*.ipynb``, shown with their stored outputs: nothing is
executed (``nb_execution_mode = "off"`` in ``book/conf.py``). Both are copied into a fresh
staging folder, ``_build/book-src/``, so that Sphinx never writes next to the notebooks, and the
pages are written to ``--out`` (default ``_build/html/``; open ``index.html``). Any Sphinx
warning (a broken reference, an unreadable output) stops the build.

Chinese text: where the figure style's font package ``pylopdf-fonts-zh-cn`` (Noto Sans SC, SIL
OFL 1.1) and ``fontTools`` are installed, the font is subset to the CJK characters of the
sources and served from the build as a web font (``_static/fonts/``, a few kB), so the pages do
not depend on the reader's system fonts; otherwise the CSS font stack falls back to the
system's CJK fonts (``book/_static/book.css``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
#: The Unicode blocks served from the web font: CJK symbols and punctuation, CJK unified
#: ideographs (and extension A), half- and full-width forms.
CJK_RANGES = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))
CJK_FAMILY = "Compendium Noto Sans SC"


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
    web_font(src)
    return src


def cjk_characters(src: Path) -> str:
    """The sorted CJK characters (see ``CJK_RANGES``) of the staged sources' text."""
    cls = "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in CJK_RANGES)
    found = set()
    for path in sorted(src.glob("*.md")) + sorted(src.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = json.dumps(json.loads(text), ensure_ascii=False)
        found.update(re.findall(f"[{cls}]", text))
    return "".join(sorted(found))


def web_font(src: Path) -> Path | None:
    """Subset the figure style's CJK font to the sources' characters, beside a stylesheet.

    Writes ``_static/fonts/NotoSansSC-book.otf`` and ``_static/cjk-font.css`` (an
    ``@font-face`` limited to ``CJK_RANGES``, picked up by ``conf.py``) and returns the font's
    path; returns None, writing nothing, when ``pylopdf-fonts-zh-cn`` or ``fontTools`` is not
    installed or the sources have no CJK text. The subset is deterministic (no timestamps).
    """
    try:
        import pylopdf_fonts_zh_cn
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    chars = cjk_characters(src)
    if not chars:
        return None
    font = TTFont(pylopdf_fonts_zh_cn.sans_path(), recalcTimestamp=False)
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the font's name and its licence (OFL) records
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    target = src / "_static" / "fonts" / "NotoSansSC-book.otf"
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target))
    ranges = ", ".join(f"U+{a:04X}-{b:04X}" for a, b in CJK_RANGES)
    (src / "_static" / "cjk-font.css").write_text(
        "/* Written by scripts/build_book.py: Noto Sans SC (SIL OFL 1.1, from the PyPI package\n"
        " * pylopdf-fonts-zh-cn, the figure style's font), subset to the book's characters. */\n"
        f"@font-face {{\n  font-family: \"{CJK_FAMILY}\";\n"
        "  src: url(\"fonts/NotoSansSC-book.otf\") format(\"opentype\");\n"
        f"  unicode-range: {ranges};\n  font-display: swap;\n}}\n"
        f"body {{\n  --cjk-web: \"{CJK_FAMILY}\";\n}}\n", encoding="utf-8")
    return target


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
