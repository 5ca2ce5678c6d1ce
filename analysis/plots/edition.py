"""Editions of the figures: the committed English one and a Chinese one (``LABELS=zh``).

A figure is drawn once, in English, by the functions of :mod:`analysis.plots`; for another
edition :func:`translate_figure` replaces every visible string (titles, axis labels, tick
labels, legends, annotations) through :func:`analysis.io.terms.glossary`, and
:func:`save_figure` writes it beside the English figures in a sub-folder named after the
edition (``figures/zh/``), so that a Chinese run leaves the committed English figures and
``git status`` untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from matplotlib.text import Text

from analysis.io import paths
from analysis.io.outputs import savefig, write_table
from analysis.io.terms import check_language, glossary, translate
from analysis.plots.style import CJK_FAMILY, register_cjk_font

__all__ = ["edition_directory", "translate_figure", "save_figure", "translate_tex",
           "translate_tables", "UNTRANSLATED"]

#: Strings with Latin letters that an edition left unchanged (for checking the glossary).
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


def translate_figure(fig, labels: str = "zh", sources: Iterable[pd.DataFrame] = ()):
    """Replace every visible string of ``fig`` by its translation (in place).

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
        new = translate(old, mapping)
        if new != old:
            text.set_text(new)
            family = list(text.get_fontfamily())
            if CJK_FAMILY not in family:           # also when use_style was not called
                text.set_fontfamily(family + [CJK_FAMILY])
        elif any("a" <= ch.lower() <= "z" for ch in old):
            UNTRANSLATED.add(old)
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


_TEX_ESCAPES = {r"\_": "_", r"\&": "&", r"\%": "%", r"\#": "#", r"\$": "$"}


def _tex_unescape(text: str) -> str:
    for k, v in _TEX_ESCAPES.items():
        text = text.replace(k, v)
    return text


def _tex_escape(text: str) -> str:
    text = text.replace("\\", r"\textbackslash{}")
    for k, v in _TEX_ESCAPES.items():
        text = text.replace(v, k)
    return text


def translate_tex(tex: str, mapping) -> str:
    r"""Translate the caption and the header row of a booktabs table written by
    :func:`analysis.io.outputs.write_table` (the body is left as it is).

    Parameters
    ----------
    tex : str
    mapping : mapping
        From :func:`analysis.io.terms.glossary`.

    Returns
    -------
    str

    Examples
    --------
    >>> tex = "\\caption{Scores}\n\\toprule\ncommunity\\_type & n \\\\\n\\midrule\n"
    >>> print(translate_tex(tex, {"community_type": "社区类型", "Scores": "得分"}))
    \caption{得分}
    \toprule
    社区类型 & n \\
    \midrule
    <BLANKLINE>
    """
    def cell(c: str) -> str:
        raw = _tex_unescape(c.strip())
        new = translate(raw, mapping)
        return c if new == raw else _tex_escape(new)

    lines = tex.split("\n")
    out = []
    header_next = False
    for line in lines:
        if line.startswith("\\caption{") and line.endswith("}"):
            line = "\\caption{" + cell(line[len("\\caption{"):-1]) + "}"
        elif header_next and line.endswith(" \\\\"):
            line = " & ".join(cell(c) for c in line[:-3].split(" & ")) + " \\\\"
        header_next = line == "\\toprule"
        out.append(line)
    return "\n".join(out)


def translate_tables(labels: str = "zh", directory: str | os.PathLike | None = None,
                     sources: Iterable[pd.DataFrame] = ()) -> list[Path]:
    """Write the ``labels`` edition of every table in ``directory`` to ``directory/<labels>``.

    The English tables stay as they are (other steps read the csv files by their column
    names). The edition's ``.tex`` has its caption and header row translated; its ``.csv``
    its header line. Cell values (codes, numbers) are unchanged.

    Parameters
    ----------
    labels : {"zh"}
    directory : path, optional
        Default ``data/processed/``.
    sources : iterable of DataFrame
        Further bilingual tables for :func:`analysis.io.terms.glossary`.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_table(pd.DataFrame({"community_type": ["x"]}), "demo", directory=d)
    >>> [p.relative_to(d).as_posix() for p in translate_tables("zh", d)]
    ['zh/demo.csv', 'zh/demo.tex']
    >>> (d / "zh" / "demo.csv").read_text(encoding="utf-8").splitlines()[0]
    '社区类型'
    """
    base = Path(directory) if directory is not None else paths.DATA_PROCESSED
    if check_language(labels) == "en":
        return []
    mapping = glossary(labels, sources)
    target = edition_directory(labels, base, paths.DATA_PROCESSED)
    written = []
    for src in sorted(base.glob("*.csv")):
        df = pd.read_csv(src, nrows=0)
        header = ",".join(_csv_cell(translate(str(c), mapping)) for c in df.columns)
        body = src.read_text(encoding="utf-8").split("\n", 1)
        paths.write_text(target / src.name, header + "\n" + (body[1] if len(body) > 1 else ""))
        written.append(target / src.name)
        tex = src.with_suffix(".tex")
        if tex.exists():
            paths.write_text(target / tex.name,
                             translate_tex(tex.read_text(encoding="utf-8"), mapping))
            written.append(target / tex.name)
    return written


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(ch in text for ch in ',"\n') else text


def main(argv=None) -> int:
    """``python -m analysis.plots.edition zh``: the Chinese edition of the tables.

    Parameters
    ----------
    argv : list of str, optional
        The edition's label (default ``"zh"``); ``sys.argv[1:]`` when not given.

    Returns
    -------
    int
        The exit status (0).
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    labels = args[0] if args else "zh"
    out = translate_tables(labels)
    print(f"{len(out)} files of the {labels!r} edition of the tables in "
          f"{edition_directory(labels, None, paths.DATA_PROCESSED)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
