"""Editions of the figures: the committed English one and a Chinese one (``LABELS=zh``).

A figure is drawn once, in English, by the functions of :mod:`analysis.plots`; for another
edition :func:`translate_figure` replaces every visible string (titles, axis labels, tick
labels, legends, annotations) through :func:`analysis.io.terms.glossary`, and
:func:`save_figure` writes it beside the English figures in a sub-folder named after the
edition (``figures/zh/``), so that a Chinese run leaves the committed English figures and
``git status`` untouched.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from matplotlib.text import Text

from analysis.io import paths
from analysis.io.outputs import data_label, savefig, write_table
from analysis.io.terms import (check_language, english_words, glossary, translate,
                               translate_header, translate_value)
from analysis.plots.style import CJK_FAMILY, register_cjk_font

__all__ = ["edition_directory", "translate_figure", "wrap_cjk", "save_figure", "translate_tex",
           "translate_csv", "translate_tables", "english_words", "UNTRANSLATED"]

#: Visible strings of the figures an edition translated that still hold an English word
#: (:func:`english_words`); the notebook runner reports them after each notebook.
UNTRANSLATED: set[str] = set()

def edition_directory(labels: str, directory: str | os.PathLike | None = None,
                      default: Path = paths.FIGURES) -> Path:
    """Where an edition's files go: ``directory`` for English, ``directory/<labels>`` else.

    Within a run that has its own results folder (``make reproduce LABELS=zh`` writes to
    ``results/zh/``), every edition goes straight to ``directory``.

    Parameters
    ----------
    labels : {"en", "zh"}
    directory : path, optional
        The English edition's folder (default ``default``).
    default : pathlib.Path
        ``figures/`` for figures, ``data/processed/`` for tables.

    Returns
    -------
    pathlib.Path
        Created if it does not exist.

    Examples
    --------
    >>> edition_directory("zh", "/tmp/figs").as_posix()
    '/tmp/figs/zh'
    """
    base = Path(directory) if directory is not None else default
    check_language(labels)
    own_folder = bool(os.environ.get(paths.RESULTS_ENV))
    out = base if labels == "en" or own_folder else base / labels
    out.mkdir(parents=True, exist_ok=True)
    return out


def _tick_labels(axis, mapping) -> None:
    texts = axis.get_ticklabels()
    new = [translate(t.get_text(), mapping) for t in texts]
    if any(a != t.get_text() for a, t in zip(new, texts)):
        axis.set_ticks(axis.get_ticklocs(), labels=new)


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_CLOSING = "、，。；：）》」』】,;:)"
_OPENING = "（《「『【("


def wrap_cjk(text: str) -> str:
    r"""``text`` broken into two lines near its middle, if it holds Chinese text.

    Breaks go, by preference, after Chinese punctuation or before an opening bracket, beside
    a particle (before 与, 和, 及, 或; after 的, 之), at a space, and last between two Chinese
    characters (two characters into a run, since most words have two); never inside a run of
    Latin letters or digits (``95%``, ``MS1``). Text of one line without Chinese is returned
    unchanged.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> wrap_cjk("制度化、规范化、程序化"), wrap_cjk("政治控制与稳定"), wrap_cjk("满足居民需求")
    ('制度化、\n规范化、程序化', '政治控制\n与稳定', '满足\n居民需求')
    >>> wrap_cjk("与老旧小区的潜均值之差（合并潜标准差单位，95% 置信区间）")
    '与老旧小区的潜均值之差\n（合并潜标准差单位，95% 置信区间）'
    >>> wrap_cjk("MS1 score")
    'MS1 score'
    """
    if "\n" in text or not _CJK.search(text) or len(text) < 4:
        return text
    best, best_score, run = None, float("inf"), 0
    for i in range(1, len(text)):
        a, b = text[i - 1], text[i]
        run = run + 1 if _CJK.match(a) else 0
        if b in _CLOSING or a in _OPENING:
            continue
        if a in _CLOSING or b in _OPENING:
            cost = 0.0
        elif b in "与和及或" or a in "的之":
            cost = 1.5
        elif a == " " or b == " ":
            cost = 1.0
        elif _CJK.match(a) and _CJK.match(b):
            cost = 5.0 + run % 2
        else:
            continue
        score = abs(i - len(text) / 2) + cost
        if score < best_score:
            best, best_score = i, score
    if best is None:
        return text
    return text[:best].rstrip() + "\n" + text[best:].lstrip()


def _overlapping(texts, renderer) -> bool:
    """Whether any two of ``texts`` (tick labels along x) touch, within 2 pixels."""
    boxes = sorted((t.get_window_extent(renderer) for t in texts), key=lambda b: b.x0)
    return any(b.x0 < a.x1 + 2 for a, b in zip(boxes, boxes[1:]))


def _fit_texts(fig) -> None:
    """Wrap the translated strings that no longer fit: tick labels of an x axis that run
    into each other, axis labels longer than their axis, titles wider than the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        box = ax.get_window_extent(renderer)
        title = ax.title
        if title.get_text() and title.get_window_extent(renderer).width > width:
            title.set_text(wrap_cjk(title.get_text()))
        if not ax.axison:
            continue
        ticks = [t for t in ax.xaxis.get_ticklabels() if t.get_visible() and t.get_text()]
        if ticks and _overlapping(ticks, renderer):
            ax.xaxis.set_ticks(ax.xaxis.get_ticklocs(),
                               labels=[wrap_cjk(t.get_text()) for t in ax.xaxis.get_ticklabels()])
        label = ax.xaxis.label
        if label.get_text() and label.get_window_extent(renderer).width > box.width:
            label.set_text(wrap_cjk(label.get_text()))
        label = ax.yaxis.label
        if label.get_text() and label.get_window_extent(renderer).height > box.height:
            label.set_text(wrap_cjk(label.get_text()))
    for text in fig.texts:
        if text.get_text() and text.get_window_extent(renderer).width > width:
            text.set_text(wrap_cjk(text.get_text()))


def translate_figure(fig, labels: str = "zh", sources: Iterable[pd.DataFrame] = ()):
    """Replace every visible string of ``fig`` by its translation (in place).

    Strings are translated with :func:`analysis.io.terms.translate`; the "synthetic data"
    label of a title is dropped first when a user's survey is analysed
    (:func:`analysis.io.outputs.data_label`). Translated strings that no longer fit are
    wrapped into two lines (:func:`wrap_cjk`): x tick labels that run into each other, axis
    labels longer than their axis, titles wider than the figure. Strings still holding an
    English word are added to :data:`UNTRANSLATED`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    labels : {"en", "zh"}
        ``"en"`` leaves the figure untouched.
    sources : iterable of DataFrame
        Further bilingual tables for :func:`analysis.io.terms.glossary` (e.g. a user's
        codebook).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.bar(["old neighbourhood"], [1])
    >>> _ = ax.set_title("Element scores by community type")
    >>> _ = translate_figure(fig, "zh")
    >>> ax.get_title(), ax.get_xticklabels()[0].get_text()
    ('各类社区的要素得分', '老旧小区')
    >>> plt.close(fig)
    """
    mapping = glossary(labels, sources)
    if not mapping:
        return fig
    register_cjk_font()
    fig.canvas.draw()                           # tick labels exist only once drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _tick_labels(axis, mapping)
    for text in fig.findobj(Text):
        old = text.get_text()
        new = translate(data_label(old), mapping)
        if new != old:
            text.set_text(new)
        if _CJK.search(new):
            family = list(text.get_fontfamily())
            if CJK_FAMILY not in family:           # also when use_style was not called
                text.set_fontfamily(family + [CJK_FAMILY])
        if english_words(new):
            UNTRANSLATED.add(new)
    _fit_texts(fig)
    return fig


def save_figure(fig, name: str, labels: str = "en", directory: str | os.PathLike | None = None,
                sources: Iterable[pd.DataFrame] = ()) -> list[Path]:
    """Save the ``labels`` edition of ``fig`` (PNG and PDF) with
    :func:`analysis.io.outputs.savefig`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        File stem, e.g. ``"ipma-map"``.
    labels : {"en", "zh"}
        ``"en"``: the figure as drawn, into ``directory`` (default ``figures/``); ``"zh"``:
        translated by :func:`translate_figure`, into ``directory/zh``.
    directory : path, optional
    sources : iterable of DataFrame
        Passed to :func:`translate_figure`.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Element scores by community type")
    >>> out = save_figure(fig, "demo", labels="zh", directory=tempfile.mkdtemp())
    >>> [p.parent.name for p in out], [p.suffix for p in out]
    (['zh', 'zh'], ['.png', '.pdf'])
    >>> plt.close(fig)
    """
    target = edition_directory(labels, directory, paths.FIGURES)
    translate_figure(fig, labels, sources)
    return savefig(fig, name, directory=target)


# LaTeX's special characters as analysis.io.outputs.write_table escapes them
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
                "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_TEX_ESCAPE = re.compile("|".join(re.escape(k) for k in _TEX_SPECIAL))
_TEX_UNESCAPE = re.compile("|".join(re.escape(v) for v in
                                    sorted(_TEX_SPECIAL.values(), key=len, reverse=True)))
_TEX_PLAIN = {v: k for k, v in _TEX_SPECIAL.items()}


def _tex_unescape(text: str) -> str:
    return _TEX_UNESCAPE.sub(lambda m: _TEX_PLAIN[m.group()], text)


def _tex_escape(text: str) -> str:
    return _TEX_ESCAPE.sub(lambda m: _TEX_SPECIAL[m.group()], text)


def translate_tex(tex: str, mapping, table: str | None = None) -> str:
    r"""Translate a booktabs table written by :func:`analysis.io.outputs.write_table`: its
    caption, its header row and the category labels of its body.

    Headers go through :func:`analysis.io.terms.translate_header`, body cells through
    :func:`analysis.io.terms.translate_value` (codes and numbers are kept).

    Parameters
    ----------
    tex : str
    mapping : mapping
        From :func:`analysis.io.terms.glossary`.
    table : str, optional
        The table's name (file stem), for headers and values whose meaning depends on it.

    Returns
    -------
    str

    Examples
    --------
    >>> tex = ("\\caption{Scores}\n\\toprule\ncommunity\\_type & n\\_a \\\\\n\\midrule\n"
    ...        "old neighbourhood & 3 \\\\\n\\bottomrule\n")
    >>> g = {"community_type": "社区类型", "Scores": "得分", "old neighbourhood": "老旧小区"}
    >>> print(translate_tex(tex, g))
    \caption{得分}
    \toprule
    社区类型 & n\_a \\
    \midrule
    老旧小区 & 3 \\
    \bottomrule
    <BLANKLINE>
    """
    def escaped(old: str, new: str) -> str:
        return old if new == _tex_unescape(old.strip()) else _tex_escape(new)

    out, columns, part = [], [], None
    for line in tex.split("\n"):
        if line.startswith("\\caption{") and line.endswith("}"):
            raw = _tex_unescape(line[len("\\caption{"):-1])
            line = "\\caption{" + escaped(line[len("\\caption{"):-1], translate(raw, mapping)) + "}"
        elif line == "\\toprule":
            part = "header"
        elif line == "\\midrule":
            part = "body"
        elif line == "\\bottomrule":
            part = None
        elif part in ("header", "body") and line.endswith(" \\\\"):
            cells = line[:-3].split(" & ")
            if part == "header":
                columns = [_tex_unescape(c.strip()) for c in cells]
                new = [translate_header(c, mapping, table) for c in columns]
            else:
                names = columns if len(columns) == len(cells) else [None] * len(cells)
                new = [translate_value(_tex_unescape(c.strip()), mapping, table, name)
                       for c, name in zip(cells, names)]
            line = " & ".join(escaped(c, n) for c, n in zip(cells, new)) + " \\\\"
        out.append(line)
    return "\n".join(out)


def translate_csv(text: str, mapping, table: str | None = None) -> str:
    """Translate a csv table written by :func:`analysis.io.outputs.write_table`: its header
    line and the category labels of its cells (codes and numbers are kept, byte for byte).

    Parameters
    ----------
    text : str
        The csv file's text.
    mapping : mapping
        From :func:`analysis.io.terms.glossary`.
    table : str, optional
        The table's name (file stem).

    Returns
    -------
    str

    Examples
    --------
    >>> g = {"community_type": "社区类型", "old neighbourhood": "老旧小区"}
    >>> print(translate_csv("community_type,n\\nold neighbourhood,0.250\\n", g), end="")
    社区类型,n
    老旧小区,0.250
    """
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    columns = rows[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([translate_header(c, mapping, table) for c in columns])
    for row in rows[1:]:
        writer.writerow([translate_value(v, mapping, table, c) if v else v
                         for v, c in zip(row, columns + [None] * (len(row) - len(columns)))])
    return buffer.getvalue()


def translate_tables(labels: str = "zh", directory: str | os.PathLike | None = None,
                     sources: Iterable[pd.DataFrame] = (),
                     target: str | os.PathLike | None = None) -> list[Path]:
    """Write the ``labels`` edition of every table (``.csv`` and ``.tex``) in ``directory``.

    The edition's ``.tex`` has its caption, header row and category labels translated
    (:func:`translate_tex`), its ``.csv`` its header line and category labels
    (:func:`translate_csv`); codes and numbers are unchanged.

    Parameters
    ----------
    labels : {"zh"}
    directory : path, optional
        The English tables; default ``data/processed/``.
    sources : iterable of DataFrame
        Further bilingual tables for :func:`analysis.io.terms.glossary` (a user's codebook).
    target : path, optional
        Where the edition goes; default ``directory/<labels>``
        (:func:`edition_directory`), so the English tables, which other steps read by their
        column names, stay as they are. A run of its own (``make reproduce LABELS=zh``)
        passes its tables folder itself: that run's tables are the edition.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_table(pd.DataFrame({"community_type": ["old neighbourhood"]}), "demo",
    ...                 directory=d)
    >>> [p.relative_to(d).as_posix() for p in translate_tables("zh", d)]
    ['zh/demo.csv', 'zh/demo.tex']
    >>> (d / "zh" / "demo.csv").read_text(encoding="utf-8").splitlines()
    ['社区类型', '老旧小区']
    """
    base = Path(directory) if directory is not None else paths.DATA_PROCESSED
    if check_language(labels) == "en":
        return []
    mapping = glossary(labels, sources)
    out = Path(target) if target is not None else \
        edition_directory(labels, base, paths.DATA_PROCESSED)
    written = []
    for src in sorted(base.glob("*.csv")):
        if out.resolve() == base.resolve() and _translated(src, mapping):
            continue  # in place, and already the edition: a second pass would change nothing
        tables = [(src, translate_csv)]
        if src.with_suffix(".tex").exists():
            tables.append((src.with_suffix(".tex"), translate_tex))
        for path, convert in tables:
            text = convert(path.read_text(encoding="utf-8"), mapping, src.stem)
            written.append(paths.write_text(out / path.name, text))
    return written


def _translated(src: Path, mapping) -> bool:
    """Whether the csv ``src`` is already an edition: its header has Chinese (CJK) text and
    nothing in it left to translate."""
    with src.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    cjk = any("\u3400" <= ch <= "\u9fff" for c in header for ch in c)
    return cjk and all(translate_header(c, mapping, src.stem) == c for c in header)


def main(argv=None) -> int:
    """``python -m analysis.plots.edition zh``: the Chinese edition of the tables.

    Without options the tables of ``data/processed/`` are written to
    ``data/processed/zh/``; ``--results DIR`` translates the tables of a run of its own
    (``DIR/tables``, e.g. ``results/zh``) in place, and ``--codebook`` adds a user's
    codebook to the glossary. ``make reproduce LABELS=zh`` calls it at the end of the run.

    Parameters
    ----------
    argv : list of str, optional
        ``sys.argv[1:]`` when not given.

    Returns
    -------
    int
        The exit status (0).
    """
    import argparse

    ap = argparse.ArgumentParser(prog="python -m analysis.plots.edition",
                                 description="Write an edition of the tables in another language.")
    ap.add_argument("labels", nargs="?", default="zh", help="the edition's language (zh)")
    ap.add_argument("--results", type=Path, default=None,
                    help="a run's own folder (results/<name>): its tables/ are translated in place")
    ap.add_argument("--codebook", type=Path, default=None,
                    help="a user's codebook (its construct_<labels> names join the glossary)")
    args = ap.parse_args(argv)
    sources = []
    if args.codebook is not None:
        from analysis.io.codebook import load_codebook

        sources.append(load_codebook(args.codebook))
    if args.results is not None:
        folder = Path(args.results) / "tables"
        out = translate_tables(args.labels, folder, sources, target=folder)
    else:
        folder = edition_directory(args.labels, None, paths.DATA_PROCESSED)
        out = translate_tables(args.labels, sources=sources)
    print(f"{len(out)} files of the {args.labels!r} edition of the tables in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
