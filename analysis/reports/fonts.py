"""The Chinese font of a report page, embedded in the page so that it renders anywhere.

A page's CJK characters are drawn with Noto Sans SC (SIL OFL 1.1, shipped with the figure
style's font package ``pylopdf-fonts-zh-cn``), subset to the characters the pages of a build
use and embedded as an OpenType ``data:`` URI in an ``@font-face`` limited to the CJK blocks
(about 100 kB per page for a Chinese edition), so a page needs no font on the reader's
machine; the CSS stack still lists the system CJK fonts, used if the package is absent. The
font is subset once per build, and the subset is deterministic (no timestamps).
"""

from __future__ import annotations

import base64
import functools
import io
import re

__all__ = ["FAMILY", "CJK_RANGES", "cjk_characters", "font_face"]

#: Family name of the embedded font (distinct from any installed font).
FAMILY = "Report Noto Sans SC"
#: Unicode blocks served from the embedded font: CJK symbols and punctuation, CJK unified
#: ideographs (and extension A), half- and full-width forms.
CJK_RANGES = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))
_CJK = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in CJK_RANGES) + "]")


def cjk_characters(text: str) -> str:
    """The distinct CJK characters of ``text`` (see :data:`CJK_RANGES`), sorted.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> cjk_characters("社区 C03：治理社区")
    '区治理社：'
    """
    return "".join(sorted(set(_CJK.findall(text))))


@functools.lru_cache(maxsize=64)
def _subset(chars: str) -> bytes | None:
    try:
        import pylopdf_fonts_zh_cn
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    font = TTFont(pylopdf_fonts_zh_cn.sans_path(), recalcTimestamp=False)
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the font's name and its licence (OFL) records
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the font subset to the CJK characters of ``text``.

    Parameters
    ----------
    text : str
        The page (its markup may be included: only CJK characters count).

    Returns
    -------
    str
        CSS; empty when ``text`` has no CJK character or the font package is not installed.

    References
    ----------
    W3C (2018). CSS Fonts Module Level 3, section 4 (``@font-face``, ``unicode-range``).

    Examples
    --------
    >>> font_face("no Chinese here")
    ''
    >>> font_face("社区").startswith("@font-face")
    True
    """
    chars = cjk_characters(text)
    if not chars:
        return ""
    data = _subset(chars)
    if data is None:
        return ""
    ranges = ", ".join(f"U+{a:04X}-{b:04X}" for a, b in CJK_RANGES)
    uri = "data:font/otf;base64," + base64.b64encode(data).decode("ascii")
    return (f'@font-face {{ font-family: "{FAMILY}"; src: url("{uri}") format("opentype"); '
            f"unicode-range: {ranges}; font-display: block; }}")
