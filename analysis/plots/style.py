"""The compendium's figure style (:data:`STYLE`) and colours (:data:`PALETTE`), in one place.

Notebooks call :func:`use_style` once; every figure function of :mod:`analysis.plots` takes
its colours from :data:`PALETTE`. Saving figures reproducibly is
:func:`analysis.io.outputs.savefig`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import matplotlib
from matplotlib import font_manager

#: The compendium's figure style, applied by :func:`use_style` (notebooks call it once).
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.figsize": (7.0, 4.5),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "svg.hashsalt": "compendium",
    "pdf.fonttype": 42,
    "path.simplify": True,
}

#: Colours for the four community types and the five elements, used in every figure.
PALETTE = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057"]


#: Family name of the CJK font registered by :func:`use_style` (Chinese labels fall back to it).
CJK_FAMILY = "Noto Sans SC"


def type_colors(types: Iterable) -> dict:
    """One colour per community type, the same in every figure.

    Colours are taken from :data:`PALETTE` in the sorted order of the distinct types, so a
    given set of types always gets the same colours whatever order the data come in (pass
    all the types of the survey, not the subset a figure happens to show).

    Parameters
    ----------
    types : iterable
        Community types (repeats and missing values are ignored).

    Returns
    -------
    dict
        type -> hex colour.

    Examples
    --------
    >>> type_colors(["b", "a", "b"])
    {'a': '#1b6ca8', 'b': '#d1495b'}
    """
    levels = sorted({str(t) for t in types if isinstance(t, str) or t == t})
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(levels)}


def _font_cache_dir() -> Path:
    return Path(os.environ.get("ANALYSIS_FONT_CACHE") or Path(matplotlib.get_cachedir()) / "analysis-fonts")


def cjk_font_path() -> Path:
    """The Simplified Chinese font (Noto Sans SC, SIL OFL 1.1) as a TrueType file.

    The font ships with the PyPI package ``pylopdf-fonts-zh-cn`` (a dependency of the
    project) in OpenType/CFF form. Matplotlib embeds Type 42 (TrueType) fonts in PDF and
    cannot embed CFF outlines that way, so the outlines are converted once to quadratic
    TrueType curves (fontTools' cu2qu, maximum error 1 font unit) and cached under
    matplotlib's cache directory (or ``$ANALYSIS_FONT_CACHE``). The conversion takes under a
    minute once per machine; it is deterministic, and matplotlib subsets the font when it
    saves a PDF, so figures stay small and byte-reproducible.

    Returns
    -------
    pathlib.Path

    References
    ----------
    Adobe & Google (2021). Source Han Sans / Noto Sans CJK, version 2.004, SIL Open Font
    License 1.1. Microsoft (2021). OpenType specification 1.9: ``glyf`` and ``CFF`` tables.

    Examples
    --------
    >>> cjk_font_path().suffix
    '.ttf'
    """
    import pylopdf_fonts_zh_cn

    source = Path(pylopdf_fonts_zh_cn.sans_path())
    tag = hashlib.sha256(f"{source.stat().st_size}:{pylopdf_fonts_zh_cn.__version__}".encode()).hexdigest()[:10]
    target = _font_cache_dir() / f"NotoSansSC-Regular-{tag}.ttf"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        _cff_to_truetype(source, tmp)
        os.replace(tmp, target)
    return target


def _cff_to_truetype(source: Path, target: Path) -> None:
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(source))
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(target))


def register_cjk_font() -> str:
    """Register :func:`cjk_font_path` with matplotlib and return its family name.

    Returns
    -------
    str
        :data:`CJK_FAMILY`.

    Examples
    --------
    >>> register_cjk_font()
    'Noto Sans SC'
    """
    path = str(cjk_font_path())
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
        # The package ships the regular weight only: let bold (and italic) text use it too,
        # rather than have matplotlib warn for every bold label.
        for weight, style in ((700, "normal"), (400, "italic"), (700, "italic")):
            font_manager.fontManager.ttflist.append(font_manager.FontEntry(
                fname=path, name=CJK_FAMILY, style=style, variant="normal", weight=weight,
                stretch="normal", size="scalable"))
    return CJK_FAMILY


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib (idempotent).

    Text is set in DejaVu Sans; characters it lacks (Chinese) fall back to
    :data:`CJK_FAMILY`, registered by :func:`register_cjk_font`.

    Also pins ``SOURCE_DATE_EPOCH`` (if unset) so that PDF creation dates do not depend on the
    clock.

    Returns
    -------
    None

    Examples
    --------
    >>> use_style()
    >>> matplotlib.rcParams["axes.spines.top"]
    False
    """
    matplotlib.rcParams.update(STYLE)
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", register_cjk_font()]
    # only fonts that install with the project: a system DejaVu Sans (another version than
    # matplotlib's own) would otherwise be picked on some machines and change the PDF bytes
    data = Path(matplotlib.get_data_path()).resolve()
    fm = font_manager.fontManager
    known = {f.fname for f in fm.ttflist}
    for ttf in sorted((data / "fonts" / "ttf").glob("DejaVuSans*.ttf")):
        if str(ttf) not in known:  # the shared font cache may list another venv's copy
            fm.addfont(str(ttf))
    fm.ttflist = [f for f in fm.ttflist
                  if Path(f.fname).resolve().is_relative_to(data) or f.name == CJK_FAMILY]
    if hasattr(fm, "_findfont_cached"):
        fm._findfont_cached.cache_clear()
    # PDF creation dates honour SOURCE_DATE_EPOCH; pin it so nothing depends on the clock.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
