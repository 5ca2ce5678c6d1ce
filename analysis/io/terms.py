"""Bilingual labels for figures and tables: one glossary from the compendium's data.

The Chinese edition of a figure is the English figure with every visible string looked up in a
glossary built from

* ``data/raw/terms.csv`` (columns ``key, en, zh``): community types, grades, IPMA quadrants,
  effect kinds, axis titles, figure titles ...;
* the bilingual fields of the questionnaire codebook (``construct_en/_zh``,
  ``dimension_en/_zh``, ``wording_en/_zh``);
* the problem catalogue (``problem_en/_zh``, ``path_en/_zh``, ``action_en/_zh``);
* the stage codebook of the policy corpus (``label_en/_zh``) and the policy milestones
  (``title_en/_zh``).

A string that is not in the glossary is kept as it is (a user's community types written in
Chinese therefore pass through unchanged and render with the CJK font of
:mod:`analysis.plots.style`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from analysis.io import paths
from analysis.io.checks import spreadsheet_rows

TERMS = paths.DATA_RAW / "terms.csv"
#: The editions the compendium knows: ``en`` (committed) and ``zh`` (Simplified Chinese).
LANGUAGES = ("en", "zh")
TERMS_COLUMNS = ("key", "en", "zh")

#: Bilingual column pairs looked for in companion tables (``<stem>_en`` -> ``<stem>_zh``).
_PAIRS = ("construct", "dimension", "wording", "problem", "path", "action", "label", "title",
          "summary", "note")


class TermsError(ValueError):
    """A terms table that cannot be used as a glossary."""


def check_language(labels: str) -> str:
    """Return ``labels`` if it is one of :data:`LANGUAGES`, else raise :class:`TermsError`.

    Parameters
    ----------
    labels : str

    Returns
    -------
    str

    Examples
    --------
    >>> check_language("zh")
    'zh'
    """
    if labels not in LANGUAGES:
        raise TermsError(f"labels must be one of {', '.join(LANGUAGES)}, got {labels!r}")
    return labels


def load_terms(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and validate a terms table (default ``data/raw/terms.csv``).

    Parameters
    ----------
    path : path, optional
        UTF-8 CSV with columns ``key``, ``en`` and ``zh``.

    Returns
    -------
    pandas.DataFrame
        One row per term, all columns as strings.

    Raises
    ------
    TermsError
        Naming the file, the column and the first offending rows (spreadsheet numbering,
        header = row 1): a missing column, a blank ``key``, ``en`` or ``zh``, or a ``key``
        or ``en`` listed twice.

    Examples
    --------
    >>> terms = load_terms()
    >>> terms.set_index("key").loc["type.old", "zh"]
    '老旧小区'
    """
    path = Path(path) if path is not None else TERMS
    if not path.exists():
        raise TermsError(f"{path}: terms table not found")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in TERMS_COLUMNS if c not in df.columns]
    if missing:
        raise TermsError(f"{path}: missing column(s) {', '.join(missing)} "
                         f"(a terms table has columns {', '.join(TERMS_COLUMNS)})")
    df = df[list(TERMS_COLUMNS)].apply(lambda s: s.str.strip())
    for col in TERMS_COLUMNS:
        blank = df[col] == ""
        if blank.any():
            raise TermsError(f"{path}: column {col!r} is blank in row(s) {spreadsheet_rows(blank)}")
    for col in ("key", "en"):
        dup = df[col].duplicated(keep=False)
        if dup.any():
            raise TermsError(f"{path}: column {col!r} lists the same value twice, "
                             f"row(s) {spreadsheet_rows(dup)}")
    return df


def pairs_from(table: pd.DataFrame, target: str = "zh") -> dict[str, str]:
    """English -> ``target`` pairs from the bilingual columns of a companion table.

    Every column pair ``<stem>_en`` / ``<stem>_<target>`` (construct, dimension, wording,
    problem, path, action, label, title, summary, note) contributes its non-blank rows.

    Parameters
    ----------
    table : pandas.DataFrame
        E.g. the questionnaire codebook, the problem catalogue or the stage codebook.
    target : str

    Returns
    -------
    dict

    Examples
    --------
    >>> cb = pd.DataFrame({"construct_en": ["Trust"], "construct_zh": ["信任"]})
    >>> pairs_from(cb)
    {'Trust': '信任'}
    """
    out: dict[str, str] = {}
    for stem in _PAIRS:
        en, tr = f"{stem}_en", f"{stem}_{target}"
        if en in table.columns and tr in table.columns:
            for a, b in zip(table[en].astype(str), table[tr].astype(str)):
                a, b = a.strip(), b.strip()
                if a and b and a.lower() != "nan" and b.lower() != "nan":
                    out.setdefault(a, b)
    return out


@functools.lru_cache(maxsize=4)
def _default_glossary(labels: str) -> tuple[tuple[str, str], ...]:
    from analysis.io import codebook as io_codebook
    from analysis.io import corpus

    pairs: dict[str, str] = {}
    terms = load_terms()
    pairs.update(zip(terms["en"], terms[labels]))
    pairs.update(zip(terms["key"], terms[labels]))
    companions = [pd.read_csv(paths.DATA_RAW / name, dtype=str, keep_default_na=False,
                              encoding="utf-8")
                  for name in ("problem_catalogue.csv", "policy_milestones.csv")
                  if (paths.DATA_RAW / name).exists()]
    for table in [io_codebook.load_codebook(), corpus.load_stage_codebook(), *companions]:
        for a, b in pairs_from(table, labels).items():
            pairs.setdefault(a, b)
    return tuple(pairs.items())


def glossary(labels: str = "zh", sources: Iterable[pd.DataFrame] = (),
             terms: str | os.PathLike | pd.DataFrame | None = None) -> dict[str, str]:
    """The lookup table of an edition: English string -> string in ``labels``.

    Parameters
    ----------
    labels : {"en", "zh"}
        ``"en"`` gives an empty glossary (the figures are drawn in English).
    sources : iterable of DataFrame
        Further bilingual tables, e.g. a user's codebook; their pairs take precedence over
        the shipped ones.
    terms : path or DataFrame, optional
        A terms table other than ``data/raw/terms.csv``; its entries take precedence.

    Returns
    -------
    dict

    Examples
    --------
    >>> g = glossary("zh")
    >>> g["old neighbourhood"], g["Multiple subjects"]
    ('老旧小区', '多元主体')
    >>> glossary("en")
    {}
    """
    check_language(labels)
    if labels == "en":
        return {}
    out = dict(_default_glossary(labels))
    for table in sources:
        if table is not None:
            out.update(pairs_from(table, labels))
    if terms is not None:
        t = terms if isinstance(terms, pd.DataFrame) else load_terms(terms)
        out.update(zip(t["en"], t[labels]))
        out.update(zip(t["key"], t[labels]))
    return out


@functools.lru_cache(maxsize=8)
def _fragment_pattern(keys: tuple[str, ...]):
    frags = sorted((k for k in keys if len(k) >= 4 and "_" not in k and "." not in k),
                   key=len, reverse=True)
    if not frags:
        return None
    return re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(k) for k in frags) + r")(?![A-Za-z])")


def translate(text: str, mapping: Mapping[str, str]) -> str:
    """Translate one visible string with a :func:`glossary`.

    The whole string is looked up first, then each line of it; otherwise the longest known
    phrases inside it (of at least four characters, without ``_`` or ``.``, at word
    boundaries) are replaced, so
    that ``"Element scores (synthetic data)"`` becomes Chinese even when only its parts are
    in the glossary. Anything unknown is kept as it is.

    Parameters
    ----------
    text : str
    mapping : mapping
        From :func:`glossary`.

    Returns
    -------
    str

    Examples
    --------
    >>> translate("old neighbourhood", {"old neighbourhood": "老旧小区"})
    '老旧小区'
    >>> translate("C07 (old neighbourhood)", {"old neighbourhood": "老旧小区"})
    'C07 (老旧小区)'
    >>> translate("幸福社区", {"old neighbourhood": "老旧小区"})
    '幸福社区'
    """
    if not mapping or not text or not text.strip():
        return text
    if text in mapping:
        return mapping[text]
    stripped = text.strip()
    if stripped in mapping:
        return text.replace(stripped, mapping[stripped])
    if "\n" in text:
        return "\n".join(translate(line, mapping) for line in text.split("\n"))
    pattern = _fragment_pattern(tuple(mapping))
    if pattern is None:
        return text
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def translate_columns(df: pd.DataFrame, labels: str = "zh",
                      sources: Iterable[pd.DataFrame] = ()) -> pd.DataFrame:
    """A copy of ``df`` with its column headers translated (values untouched).

    For the ``.tex`` tables of an edition; the ``.csv`` files keep their machine-readable
    English headers.

    Parameters
    ----------
    df : pandas.DataFrame
    labels : {"en", "zh"}
    sources : iterable of DataFrame
        Passed to :func:`glossary`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> translate_columns(pd.DataFrame({"community_type": ["x"]}), "zh").columns[0]
    '社区类型'
    """
    mapping = glossary(labels, sources)
    return df.rename(columns=lambda c: translate(str(c), mapping) if mapping else c)
