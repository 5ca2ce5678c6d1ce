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
from analysis.io.terms import check_language, glossary, translate, translate_columns

__all__ = ["edition_directory", "translate_figure", "save_figure", "save_table", "UNTRANSLATED"]

#: Strings with Latin letters that an edition left unchanged (for checking the glossary).
UNTRANSLATED: set[str] = set()


def edition_directory(labels: str, directory: str | os.PathLike | None = None,
                      default: Path = paths.FIGURES) -> Path:
    """Where an edition's files go: ``directory`` for English, ``directory/<labels>`` else.

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
    out = base if labels == "en" else base / labels
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
    fig.canvas.draw()                           # tick labels exist only once drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _tick_labels(axis, mapping)
    for text in fig.findobj(Text):
        old = text.get_text()
        new = translate(old, mapping)
        if new != old:
            text.set_text(new)
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


def save_table(df: pd.DataFrame, name: str, labels: str = "en", *, caption: str | None = None,
               directory: str | os.PathLike | None = None, sources: Iterable[pd.DataFrame] = (),
               **kwargs) -> list[Path]:
    """Write a table with :func:`analysis.io.outputs.write_table`; for ``labels="zh"`` a
    copy with translated column headers and caption goes to ``directory/zh``.

    The English ``.csv`` and ``.tex`` are always written (other steps read the csv by its
    English column names); the Chinese edition adds ``zh/<name>.tex`` and ``zh/<name>.csv``
    whose headers (not values) are translated.

    Parameters
    ----------
    df : pandas.DataFrame
    name : str
    labels : {"en", "zh"}
    caption : str, optional
    directory : path, optional
        Default ``data/processed/``.
    sources : iterable of DataFrame
    **kwargs
        Passed to :func:`analysis.io.outputs.write_table`.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> out = save_table(pd.DataFrame({"community_type": ["x"]}), "demo", "zh", directory=d)
    >>> sorted(p.relative_to(d).as_posix() for p in out)
    ['demo.csv', 'demo.tex', 'zh/demo.csv', 'zh/demo.tex']
    """
    base = Path(directory) if directory is not None else paths.DATA_PROCESSED
    out = write_table(df, name, caption=caption, directory=base, **kwargs)
    if check_language(labels) != "en":
        mapping = glossary(labels, sources)
        tdf = translate_columns(df.reset_index() if kwargs.get("index") else df, labels, sources)
        kw = {k: v for k, v in kwargs.items() if k != "index"}
        out += write_table(tdf, name, caption=translate(caption, mapping) if caption else None,
                           directory=edition_directory(labels, base, paths.DATA_PROCESSED), **kw)
    return out
