"""Bilingual labels for figures and tables: one glossary from the compendium's data.

The Chinese edition of a figure is the English figure with every visible string looked up in a
glossary built from

* ``data/raw/terms.csv`` (columns ``key, en, zh``): community types, grades, IPMA quadrants,
  effect kinds, axis titles, figure titles, table headers and captions ...;
* the bilingual fields of the questionnaire codebook (``construct_en/_zh``,
  ``dimension_en/_zh``, ``wording_en/_zh``) and its construct codes (key
  ``construct.<code>``);
* the problem catalogue (``problem_en/_zh``, ``path_en/_zh``, ``action_en/_zh``);
* the stage codebook of the policy corpus (``label_en/_zh``, also by ``code``) and the
  policy milestones (``title_en/_zh``).

**Templated terms.** A visible string built from numbers or codes is translated by a term with
placeholders in braces, the same in ``en`` and ``zh`` (:data:`PLACEHOLDER`):
``{n} communities`` -> ``{n} 个社区`` matches ``"48 communities"``; the text a placeholder
matches is translated in its turn (``{title} (synthetic data)`` translates the title too), and
``{name:prefix}`` looks the text up as the key ``prefix.<text>``, so
``{a:construct} → {b:construct}`` turns the parameter label ``"OM → RA"`` into the
codebook's construct names, ``"组织管理 → 资源配置"``. The most specific term (the longest
fixed text) wins.

**Keys.** A key names its term; its prefix says where the term is used (``fig.``, ``cap.``
table captions, ``col.`` table headers, ``cat.`` category values, ``type.``, ``grade.``,
``quadrant.``, ``kind.``, ``anchor.``). Two keys are read by position: ``col.<table>.<column>``
is the header of one table's column whose meaning differs from the header elsewhere (``cr`` of
the AHP table is a consistency ratio, elsewhere composite reliability), and
``cat.<table>.<column>.<value>`` one table's category value (:func:`translate_header`,
:func:`translate_value`).

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


#: A placeholder of a templated term: ``{name}`` (any text, itself translated) or
#: ``{name:prefix}`` (a code, translated through the glossary key ``prefix.<code>``). Braces
#: inside mathtext (``$S_{Ti}$``) are not placeholders: the pattern also matches mathtext,
#: with no name.
PLACEHOLDER = re.compile(r"\$[^$]*\$|\{(\w+)(?::(\w+))?\}")


def _fill(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) else m.group(0), template)


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """The placeholders of a templated term, in order: ``(name, prefix or None)``.

    Parameters
    ----------
    template : str

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> placeholders("{a:construct} → {b:construct} (total)")
    [('a', 'construct'), ('b', 'construct')]
    """
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template) if m.group(1)]


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
        header = row 1): a missing column, a blank ``key``, ``en`` or ``zh``, a ``key``
        or ``en`` listed twice, or a templated term whose ``zh`` does not use the
        placeholders of its ``en`` (:data:`PLACEHOLDER`).

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
    for lang in LANGUAGES[1:]:
        bad = [not _same_placeholders(en, tr) for en, tr in zip(df["en"], df[lang])]
        if any(bad):
            raise TermsError(f"{path}: column {lang!r} must use the placeholders of column 'en' "
                             f"(each {{name}} once, and some fixed text beside them), "
                             f"row(s) {spreadsheet_rows(bad)}")
    return df


_GLOSS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def _same_placeholders(en: str, tr: str) -> bool:
    names = [n for n, _ in placeholders(en)]
    if not names:
        return not placeholders(tr)
    fixed = _fill(en, {n: "" for n in names}).strip()
    return bool(fixed) and len(set(names)) == len(names) and \
        sorted(n for n, _ in placeholders(tr)) == sorted(names)


def pairs_from(table: pd.DataFrame, target: str = "zh") -> dict[str, str]:
    """English -> ``target`` pairs from the bilingual columns of a companion table.

    Every column pair ``<stem>_en`` / ``<stem>_<target>`` (construct, dimension, wording,
    problem, path, action, label, title, summary, note) contributes its non-blank rows. Codes
    come too: a codebook's ``construct`` gives the key ``construct.<code>`` (the construct's
    name without a trailing gloss in brackets, for templated terms such as
    ``{a:construct} → {b:construct}``), and a table with a
    ``code`` column and ``label_<target>`` (the stage codebook) gives ``<code>`` and
    ``<dimension>.<code>``.

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
    >>> cb = pd.DataFrame({"construct": ["TR"], "construct_en": ["Trust"],
    ...                    "construct_zh": ["信任"]})
    >>> pairs_from(cb)
    {'Trust': '信任', 'construct.TR': '信任'}
    """
    out: dict[str, str] = {}

    def usable(*values: str) -> bool:
        return all(v and v.lower() != "nan" for v in values)

    for stem in _PAIRS:
        en, tr = f"{stem}_en", f"{stem}_{target}"
        if en in table.columns and tr in table.columns:
            for a, b in zip(table[en].astype(str), table[tr].astype(str)):
                a, b = a.strip(), b.strip()
                if usable(a, b):
                    out.setdefault(a, b)
    codes = [("construct", "construct", None), ("code", "label", "dimension")]
    for col, stem, group in codes:
        tr = f"{stem}_{target}"
        if col not in table.columns or tr not in table.columns:
            continue
        groups = table[group].astype(str) if group in table.columns else [""] * len(table)
        for c, b, g in zip(table[col].astype(str), table[tr].astype(str), groups):
            c, b, g = c.strip(), b.strip(), g.strip()
            if usable(c, b):
                if col == "construct":
                    # in a chain of arrows the name goes without its gloss in brackets
                    out.setdefault(f"construct.{c}", _GLOSS.sub("", b) or b)
                else:
                    out.setdefault(c, b)
                    if usable(g):
                        out.setdefault(f"{g}.{c}", b)
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
def _templates(items: tuple[tuple[str, str], ...]):
    """Compiled templated terms, the most specific (longest fixed text) first."""
    out = []
    for en, target in items:
        en = " ".join(en.split())
        parts, names, pos = [], [], 0
        for m in PLACEHOLDER.finditer(en):
            if not m.group(1):
                continue  # mathtext: fixed text
            parts.append(re.escape(en[pos:m.start()]))
            parts.append(f"(?P<p{len(names)}>.+?)")
            names.append((m.group(1), m.group(2)))
            pos = m.end()
        parts.append(re.escape(en[pos:]))
        fixed = len(_fill(en, {n: "" for n, _ in names}))
        out.append((-fixed, len(names), en, re.compile("".join(parts), re.DOTALL), names,
                    target))
    out.sort(key=lambda t: t[:3])
    return tuple(t[3:] for t in out)


@functools.lru_cache(maxsize=16)
def _fragment_pattern(keys: tuple[str, ...], phrases: bool = False):
    frags = sorted((k for k in keys if len(k) >= 4 and "_" not in k and "{" not in k
                    and (" " in k.strip() or not phrases)), key=len, reverse=True)
    if not frags:
        return None
    return re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(k) for k in frags) + r")(?![A-Za-z])")


def _whole(text: str, mapping: Mapping[str, str], prefix: str | None = None) -> str | None:
    """The translation of ``text`` as one term, or None (whitespace, case and ``_`` for
    spaces are forgiven; a ``prefix`` looks up the key ``prefix.<text>`` first)."""
    stripped = text.strip()
    if prefix is not None and f"{prefix}.{stripped}" in mapping:
        return mapping[f"{prefix}.{stripped}"]
    joined = " ".join(stripped.split())
    for cand in (text, stripped, joined, joined.lower(), joined.replace(" ", "_"),
                 joined.replace(" ", "_").lower()):
        if cand in mapping:
            return mapping[cand] if cand == text else text.replace(stripped, mapping[cand])
    return None


def _template(text: str, mapping: Mapping[str, str]) -> str | None:
    templates = _templates(tuple((k, v) for k, v in mapping.items() if "{" in k))
    joined = " ".join(text.split())
    for pattern, names, target in templates:
        m = pattern.fullmatch(joined)
        if m is None:
            continue
        values = {name: translate(m.group(f"p{i}"), mapping, prefix)
                  for i, (name, prefix) in enumerate(names)}
        return _fill(target, values)
    return None


def translate(text: str, mapping: Mapping[str, str], prefix: str | None = None) -> str:
    """Translate one visible string with a :func:`glossary`.

    In this order: the whole string is looked up (also with its white space and line breaks
    collapsed, in lower case, or with ``_`` for spaces, so a tick label ``"control\nstability"``
    finds the code ``control_stability``); then the templated terms (:data:`PLACEHOLDER`): a
    term ``"rank {k} of {n}"`` matches ``"rank 3 of 47"``, and each placeholder's text is
    translated in its turn (``{a:construct}`` through the key ``construct.<code>``, the
    codebook's construct names, without a gloss in brackets); then each line of a string of several lines; last, the
    longest known terms inside the string (at word boundaries) are replaced, so that
    ``"C07 (old neighbourhood)"`` becomes ``"C07 (老旧小区)"`` (single words only when no
    English word would be left beside them, :func:`english_words`). Anything unknown (codes,
    numbers, a user's own labels) is kept as it is.

    Parameters
    ----------
    text : str
    mapping : mapping
        From :func:`glossary`.
    prefix : str, optional
        Look ``text`` up as the key ``prefix.<text>`` first (used for placeholders).

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
    >>> g = {"{a:construct} → {b:construct}": "{a} → {b}", "construct.MS": "多元主体",
    ...      "construct.CS": "共识塑造", "rank {k} of {n}": "第 {k} 名（共 {n} 个）"}
    >>> translate("MS → CS → PV", g), translate("rank 3 of 47", g)
    ('多元主体 → 共识塑造 → PV', '第 3 名（共 47 个）')
    """
    if not mapping or not text or not text.strip():
        return text
    found = _whole(text, mapping, prefix)
    if found is not None:
        return found
    found = _template(text, mapping)
    if found is not None:
        return found
    if "\n" in text:
        return "\n".join(translate(line, mapping) for line in text.split("\n"))
    keys = tuple(k for k in mapping if "." not in k)
    pattern = _fragment_pattern(keys)
    if pattern is None:
        return text
    out = pattern.sub(lambda m: mapping[m.group(1)], text)
    if english_words(out):
        # a single word replaced inside an English sentence would leave a sentence of two
        # languages: then only phrases of several words are replaced
        pattern = _fragment_pattern(keys, phrases=True)
        out = text if pattern is None else pattern.sub(lambda m: mapping[m.group(1)], text)
    return out


#: Names and notation that Chinese statistical writing keeps in Latin script (Wald test,
#: Sobol indices, the Fornell-Larcker criterion, BCa intervals, r_wg(j), the R package
#: lavaan, Harman's test, the Lindell-Whitney correction): not counted by :func:`english_words`.
LATIN_NAMES = frozenset({"Wald", "Sobol", "Fornell", "Larcker", "rwg", "BCa", "lavaan",
                         "Harman", "Lindell", "Whitney"})

# a word of Latin letters; mathtext ($...$) is left out, it holds symbols, not words
_MATH = re.compile(r"\$[^$]*\$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def english_words(text: str) -> list[str]:
    """The words of ``text`` a reader of another edition would still read in English.

    A word is a run of Latin letters; codes are not words: single letters (statistical
    symbols such as *n*, *p*, *r*), words in capitals or with digits (item ids ``MS1``,
    construct codes ``PV``, community ids ``C07``, abbreviations ``DEA``, ``AHP``), the
    names of :data:`LATIN_NAMES` and mathtext between ``$`` signs.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> english_words("MS1 得分 (n = 34), rank 3 of 47, $S_{Ti}$")
    ['rank', 'of']
    """
    out = []
    plain = _MATH.sub(" ", text)
    for m in _WORD.finditer(plain):
        word, end = m.group(0), m.end()
        if len(word) < 2 or word.upper() == word or word in LATIN_NAMES or \
                (end < len(plain) and plain[end].isdigit()):
            continue
        out.append(word)
    return out


def translate_header(column: str, mapping: Mapping[str, str], table: str | None = None) -> str:
    """Translate a table's column header: the key ``col.<table>.<column>`` (a header whose
    meaning depends on the table, such as ``cr`` in the AHP table) first, else
    :func:`translate`.

    Parameters
    ----------
    column : str
    mapping : mapping
        From :func:`glossary`.
    table : str, optional
        The table's name (file stem), e.g. ``"ahp-experts"``.

    Returns
    -------
    str

    Examples
    --------
    >>> g = glossary("zh")
    >>> translate_header("cr", g, "reliability"), translate_header("cr", g, "ahp-experts")
    ('组合信度（CR）', '一致性比率（CR）')
    """
    if table is not None and f"col.{table}.{column}" in mapping:
        return mapping[f"col.{table}.{column}"]
    return translate(column, mapping)


def translate_value(value: str, mapping: Mapping[str, str], table: str | None = None,
                    column: str | None = None) -> str:
    """Translate a table cell when it is a category label a reader sees.

    Only a whole value is translated: the key ``cat.<table>.<column>.<value>`` first, then
    the value as a term of the glossary (exactly as written: ``True`` is not ``true``), then
    templated terms whose placeholders hold free text (``"item-total r < {x}"``); a list of
    such values separated by ``;`` is translated part by part. Codes, numbers, sentences and
    a user's own labels are kept as they are, and so are the cells of a column that carries
    its language in its name (``wording_en``, ``title_zh``).

    Parameters
    ----------
    value : str
    mapping : mapping
        From :func:`glossary`.
    table, column : str, optional
        The table's name (file stem) and the cell's column (its English header).

    Returns
    -------
    str

    Examples
    --------
    >>> g = glossary("zh")
    >>> [translate_value(v, g) for v in ("old neighbourhood", "True", "C07", "0.25")]
    ['老旧小区', '是', 'C07', '0.25']
    >>> translate_value("all;old neighbourhood", g), translate_value("total", g, "effects", "effect")
    ('全部；老旧小区', '总效应')
    """
    stripped = value.strip()
    if not mapping or not stripped or (column is not None and column.endswith(_LANGUAGE_SUFFIXES)):
        return value
    if table is not None and column is not None and f"cat.{table}.{column}.{stripped}" in mapping:
        return mapping[f"cat.{table}.{column}.{stripped}"]
    if stripped in mapping:
        return mapping[stripped]
    free = [(p, n, t) for p, n, t in _templates(tuple((k, v) for k, v in mapping.items()
                                                      if "{" in k))
            if all(prefix is None for _, prefix in n)]
    joined = " ".join(stripped.split())
    for pattern, names, target in free:
        m = pattern.fullmatch(joined)
        if m is not None:
            values = {name: m.group(f"p{i}") for i, (name, _) in enumerate(names)}
            return _fill(target, values)
    if ";" in stripped:
        parts = [p.strip() for p in stripped.split(";")]
        new = [translate_value(p, mapping) for p in parts]
        if all(a != b for a, b in zip(parts, new)):
            return "；".join(new)
    return value


_LANGUAGE_SUFFIXES = tuple(f"_{lang}" for lang in LANGUAGES)


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
