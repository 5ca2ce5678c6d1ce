"""Chinese text renders in figures: the font that ships with the pinned package is registered
by the style, so drawing a Chinese label warns of no missing glyph, in PNG or PDF, and the PDF
embeds the font (issue #17, part 1)."""

import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from analysis.plots.style import CJK_FAMILY, use_style  # noqa: E402

LABELS = ["老旧小区", "单位大院", "商品房小区", "安置社区", "多元主体 · 共识塑造 · 资源配置"]


def test_chinese_labels_render_without_missing_glyphs():
    use_style()
    fig, ax = plt.subplots()
    ax.bar(range(len(LABELS)), [1, 2, 3, 4, 5])
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_title("各类社区的要素得分 (Element scores)")
    pdf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(pdf, format="pdf")
    plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing[:3]
    assert CJK_FAMILY in matplotlib.rcParams["font.family"]
    # the PDF embeds a subset of the CJK font (subset tag, then its PostScript name)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansSC", pdf.getvalue())


def test_without_the_cjk_font_the_check_would_fail():
    """The check above can fail: with DejaVu Sans alone, matplotlib warns of missing glyphs."""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title(LABELS[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    assert any("missing from" in str(w.message) for w in caught)
