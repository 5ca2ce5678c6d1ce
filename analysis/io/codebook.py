"""The questionnaire's single source of truth: constructs, items, labels, scales, reverse flags.

Every model, label and check in the compendium is derived from ``data/raw/codebook.csv``. A user
with a different questionnaire edits that file (or passes their own), not the code.

Any questionnaire fits: any construct codes with at least three items each, rating scales of 3
to 11 points (which may differ between constructs), reverse items, missing-value codes, and,
for survey-platform exports, the header that holds each item (``source_column``) and the
labels of text answers (``value_labels``); rows with role ``column`` say where the respondent
columns (``community_id`` ...) are. The format is documented in ``data/raw/README.md``.

The shipped items are constructed for this compendium; they are not the original study's
questionnaire.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths
from analysis.io.checks import first_labels, spreadsheet_rows
from analysis.io.platforms import normalise_text, parse_value_labels, read_table

REQUIRED_COLUMNS = (
    "item", "construct", "construct_en", "construct_zh", "role", "wording_en", "wording_zh",
    "scale_min", "scale_max", "reverse",
)
OPTIONAL_COLUMNS = ("dimension_en", "dimension_zh", "missing_codes", "policy_source", "origin",
                    "source_column", "value_labels")
#: Fewest and most points a rating scale may have (``scale_max - scale_min + 1``).
SCALE_POINTS = (3, 11)
ROLES = ("element", "outcome")
#: Respondent columns a codebook row with role ``column`` may point at an export header.
SURVEY_COLUMNS = ("respondent_id", "community_id", "community_type", "gender", "age",
                  "years_resident", "tenure", "submitted_at", "duration_seconds")


class CodebookError(ValueError):
    """A codebook that cannot define a questionnaire.

    Raised by :func:`load_codebook` and the helpers that read a codebook, with a message that
    names the file, the column and the first offending rows.
    """




def load_codebook(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and validate a codebook (one row per questionnaire item).

    Parameters
    ----------
    path : path, optional
        CSV (UTF-8 or GBK) or ``.xlsx`` file; defaults to ``data/raw/codebook.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per item in questionnaire order, with ``reverse`` as bool, ``scale_min`` and
        ``scale_max`` as int and ``missing_codes`` as a string of ``;``-separated codes;
        ``source_column`` (the export's header for the item, blank: the item id) and
        ``value_labels`` (``code=label;...``, blank: answers are numbers) as strings.
        Full-width digits (``５``) are read as digits.

    Raises
    ------
    CodebookError
        Naming the file, the column and the first offending rows: missing columns, duplicate or
        malformed item ids, unknown roles, a construct with fewer than three items, scale
        minimum not below maximum, a scale with fewer than 3 or more than 11 points, missing
        codes that are not numbers or lie inside the scale, malformed value labels or labels
        whose codes are neither on the scale nor missing codes, two items with the same
        source column, no outcome construct, or a construct with two roles.

    References
    ----------
    Preston, C. C., & Colman, A. M. (2000). Optimal number of response categories in rating
    scales. *Acta Psychologica*, 104(1), 1-15 (scales of 3 to 11 points).
    Bollen, K. A. (1989). *Structural equations with latent variables*. Wiley, p. 244 (a
    congeneric factor needs three indicators to be identified on its own).

    Examples
    --------
    >>> cb = load_codebook()
    >>> construct_items(cb)["MS"]
    ['MS1', 'MS2', 'MS3', 'MS4']
    """
    path = Path(path) if path is not None else paths.CODEBOOK
    if not path.exists():
        raise CodebookError(f"{path}: codebook file not found")
    try:
        cb, _ = read_table(path)
    except ValueError as err:
        raise CodebookError(str(err)) from None
    cb.columns = [normalise_text(str(c)) for c in cb.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in cb.columns]
    if missing:
        raise CodebookError(f"{path}: required column(s) missing: {', '.join(missing)}")
    for col in OPTIONAL_COLUMNS:
        if col not in cb.columns:
            cb[col] = ""
    cb["source_column"] = cb["source_column"].map(normalise_text)
    key = cb["source_column"].str.replace(r"\s+", "", regex=True)
    dup = key.duplicated(keep=False) & (key != "")
    if dup.any():
        raise CodebookError(f"{path}: column 'source_column' names the same export column for "
                            f"several rows, rows {spreadsheet_rows(dup)}")
    n_rows = len(cb)

    def rows(mask):
        """Spreadsheet rows of the file for a mask over the rows kept (index = file order)."""
        full = np.zeros(n_rows, dtype=bool)
        full[np.asarray(mask.index)[np.asarray(mask, dtype=bool)]] = True
        return spreadsheet_rows(full)

    is_column = cb["role"].str.strip() == "column"
    survey_columns_of(cb[is_column], path, rows)
    cb = cb[~is_column].copy()
    for col in ("item", "construct", "role"):
        cb[col] = cb[col].str.strip()
        empty = cb[col] == ""
        if empty.any():
            raise CodebookError(f"{path}: column '{col}' is empty in rows {rows(empty)}")
    dup = cb["item"].duplicated(keep=False)
    if dup.any():
        raise CodebookError(f"{path}: column 'item' has duplicate ids in rows {rows(dup)}")
    bad_id = ~cb["item"].str.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*")
    if bad_id.any():
        raise CodebookError(
            f"{path}: column 'item' must hold identifiers (letters, digits, _), rows {rows(bad_id)}")
    bad_role = ~cb["role"].isin(ROLES)
    if bad_role.any():
        raise CodebookError(
            f"{path}: column 'role' must be one of {ROLES + ('column',)}, rows {rows(bad_role)}")
    for col in ("scale_min", "scale_max", "missing_codes", "reverse", "source_column",
                "value_labels"):
        cb[col] = cb[col].map(normalise_text)
    for col in ("scale_min", "scale_max"):
        num = pd.to_numeric(cb[col], errors="coerce")
        bad = num.isna() | (num != num.round())
        if bad.any():
            raise CodebookError(f"{path}: column '{col}' must be a whole number, rows {rows(bad)}")
        cb[col] = num.astype(int)
    bad = cb["scale_min"] >= cb["scale_max"]
    if bad.any():
        raise CodebookError(f"{path}: columns 'scale_min', 'scale_max': scale_min must be below "
                            f"scale_max, rows {rows(bad)}")
    points = cb["scale_max"] - cb["scale_min"] + 1
    lo_pts, hi_pts = SCALE_POINTS
    bad = (points < lo_pts) | (points > hi_pts)
    if bad.any():
        first = cb.loc[bad].iloc[0]
        raise CodebookError(
            f"{path}: columns 'scale_min', 'scale_max': a rating scale needs {lo_pts} to {hi_pts} "
            f"points, but rows {rows(bad)} have {', '.join(map(str, points[bad].unique()[:5]))} "
            f"(first: item {first['item']}, {first['scale_min']}-{first['scale_max']})")
    check_missing_codes(cb, path)
    check_value_labels(cb, path)
    rev = cb["reverse"].str.strip().str.lower()
    bad = ~rev.isin(["true", "false", "1", "0", "yes", "no"])
    if bad.any():
        raise CodebookError(f"{path}: column 'reverse' must be true/false, rows {rows(bad)}")
    cb["reverse"] = rev.isin(["true", "1", "yes"])
    roles = cb.groupby("construct", sort=False)["role"].nunique()
    if (roles > 1).any():
        two = cb["construct"].isin(roles[roles > 1].index)
        raise CodebookError(
            f"{path}: construct(s) {', '.join(roles[roles > 1].index)} have more than one role "
            f"(column 'role', rows {rows(two)})")
    sizes = cb.groupby("construct", sort=False).size()
    small = sizes[sizes < 3]
    if len(small):
        few = cb["construct"].isin(small.index)
        raise CodebookError(
            f"{path}: construct(s) {', '.join(f'{c} ({n} items)' for c, n in small.items())} "
            "have fewer than 3 items; a reflective construct needs at least 3 to be identified "
            f"(column 'construct', rows {rows(few)})")
    if not (cb["role"] == "outcome").any():
        raise CodebookError(f"{path}: no construct has role 'outcome' (the performance construct)")
    bad = cb["item"].isin(cb["construct"])
    if bad.any():
        raise CodebookError(f"{path}: item ids must differ from construct codes, rows {rows(bad)}")
    return cb.reset_index(drop=True)


def survey_columns(path: str | os.PathLike | None = None) -> dict[str, str]:
    """The respondent columns a codebook file declares in its rows with role ``column``.

    :func:`load_codebook` validates these rows and leaves them out of the items; this reads
    them, for :func:`analysis.io.survey.load_survey` (``columns=``).

    Parameters
    ----------
    path : path, optional
        The codebook file; defaults to ``data/raw/codebook.csv``.

    Returns
    -------
    dict
        ``{name: source_column}``, e.g. ``{"community_id": "1、您所在的社区"}``; empty when
        the codebook has no such rows (as the shipped one).

    Examples
    --------
    >>> survey_columns()
    {}
    """
    path = Path(path) if path is not None else paths.CODEBOOK
    load_codebook(path)  # validates the whole file, column rows included
    cb, _ = read_table(path)
    cb.columns = [normalise_text(str(c)) for c in cb.columns]
    if "source_column" not in cb:
        return {}
    cb["source_column"] = cb["source_column"].map(normalise_text)
    rows_ = cb[cb["role"].str.strip() == "column"]
    return survey_columns_of(rows_, path, lambda mask: "")


def survey_columns_of(rows_: pd.DataFrame, path, rows) -> dict[str, str]:
    """The respondent columns a codebook declares (rows with role ``column``).

    Such a row names, in ``item``, one of :data:`SURVEY_COLUMNS` and, in ``source_column``,
    the export header that holds it (matched like an item's ``source_column``); its other
    cells may be blank.

    Parameters
    ----------
    rows_ : pandas.DataFrame
        The codebook rows with role ``column``, index = position in the file.
    path : path or str
        Named in messages.
    rows : callable
        Mask -> spreadsheet row numbers.

    Returns
    -------
    dict
        ``{name: source_column}``, e.g. ``{"community_id": "1、您所在的社区"}``.

    Examples
    --------
    >>> d = pd.DataFrame({"item": ["community_id"], "source_column": ["1、"]})
    >>> survey_columns_of(d, "codebook.csv", lambda m: "")
    {'community_id': '1、'}
    """
    names = rows_["item"].str.strip()
    bad = ~names.isin(SURVEY_COLUMNS)
    if bad.any():
        raise CodebookError(
            f"{path}: column 'item' of a row with role 'column' must be one of "
            f"{', '.join(SURVEY_COLUMNS)} (first: {names[bad].iloc[0]!r}), rows {rows(bad)}")
    dup = names.duplicated(keep=False)
    if dup.any():
        raise CodebookError(f"{path}: column 'item' declares the same respondent column twice, "
                            f"rows {rows(dup)}")
    empty = rows_["source_column"] == ""
    if empty.any():
        raise CodebookError(f"{path}: column 'source_column' is empty in rows {rows(empty)} "
                            "(a row with role 'column' says where that column is)")
    return dict(zip(names, rows_["source_column"]))


def split_codes(text) -> list[str]:
    """The entries of a ``missing_codes`` cell: ``;``- or ``,``-separated, blanks dropped.

    Parameters
    ----------
    text : str or float
        The cell (NaN or empty for none).

    Returns
    -------
    list of str

    Examples
    --------
    >>> split_codes("9; 99,-1"), split_codes("")
    (['9', '99', '-1'], [])
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [p.strip() for p in str(text).replace(",", ";").split(";") if p.strip()]


def check_missing_codes(cb: pd.DataFrame, path) -> None:
    """Raise :class:`CodebookError` unless every ``missing_codes`` entry is a number off the scale.

    Parameters
    ----------
    cb : pandas.DataFrame
        Codebook with integer ``scale_min``/``scale_max`` and string ``missing_codes``; its
        index is the position in the file (0 = spreadsheet row 2).
    path : path or str
        Named in the message.

    Returns
    -------
    None

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1"], "scale_min": [1], "scale_max": [10], "missing_codes": ["9"]})
    >>> check_missing_codes(cb, "codebook.csv")
    Traceback (most recent call last):
    ...
    analysis.io.codebook.CodebookError: codebook.csv: column 'missing_codes': code 9 lies on the scale 1-10 of item A1 (rows 2); a missing-value code must lie off the scale
    """
    inside = []
    for i, item, text, lo, hi in zip(cb.index, cb["item"], cb["missing_codes"],
                                     cb["scale_min"], cb["scale_max"]):
        for part in split_codes(text):
            try:
                code = float(part)
            except ValueError:
                raise CodebookError(
                    f"{path}: column 'missing_codes' must hold numbers separated by ';' "
                    f"(first: {part!r}), rows {i + 2}") from None
            if lo <= code <= hi:
                inside.append((i, item, code, lo, hi))
    if inside:
        i, item, code, lo, hi = inside[0]
        rows = first_labels(sorted({t[0] + 2 for t in inside}))
        raise CodebookError(
            f"{path}: column 'missing_codes': code {code:g} lies on the scale {lo}-{hi} of item "
            f"{item} (rows {rows}); a missing-value code must lie off the scale")


def check_value_labels(cb: pd.DataFrame, path) -> None:
    """Raise :class:`CodebookError` unless every ``value_labels`` entry is well formed.

    Each label's code must be on the item's scale or one of its missing codes.

    Parameters
    ----------
    cb : pandas.DataFrame
        Codebook with integer scale limits and string ``missing_codes``, ``value_labels``;
        index = position in the file.
    path : path or str
        Named in the message.

    Returns
    -------
    None

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "scale_min": [1, 1], "scale_max": [4, 4],
    ...                    "missing_codes": ["", ""], "value_labels": ["", "1=不同意;5=同意"]})
    >>> check_value_labels(cb, "codebook.csv")
    Traceback (most recent call last):
    ...
    analysis.io.codebook.CodebookError: codebook.csv: column 'value_labels', row 3 (item A2): code 5 is neither on the scale 1-4 nor a missing code
    """
    for i, item, text, lo, hi, miss in zip(cb.index, cb["item"], cb["value_labels"],
                                           cb["scale_min"], cb["scale_max"], cb["missing_codes"]):
        where = f"{path}: column 'value_labels', row {i + 2} (item {item})"
        try:
            labels = parse_value_labels(text)
        except ValueError as err:
            raise CodebookError(f"{where}: {err}") from None
        codes = {float(p) for p in split_codes(miss)}
        for code in labels.values():
            if not (lo <= code <= hi) and float(code) not in codes:
                raise CodebookError(
                    f"{where}: code {code} is neither on the scale {lo}-{hi} nor a missing code")


def value_labels(codebook: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Declared answer labels per item, ``{item: {label: code}}`` (empty: answers are numbers).

    Parameters
    ----------
    codebook : pandas.DataFrame
        A loaded codebook; the optional ``value_labels`` column reads like
        ``1=非常不同意;2=不同意;3=一般;4=同意;5=非常同意``.

    Returns
    -------
    dict
        ``{item: {label: code}}``.

    Examples
    --------
    >>> value_labels(load_codebook())["MS1"]
    {}
    """
    texts = codebook["value_labels"] if "value_labels" in codebook else [""] * len(codebook)
    return {item: parse_value_labels(text) for item, text in zip(codebook["item"], texts)}


def source_columns(codebook: pd.DataFrame) -> dict[str, str]:
    """The export column of each item: its ``source_column``, or the item id when blank.

    Parameters
    ----------
    codebook : pandas.DataFrame
        A loaded codebook.

    Returns
    -------
    dict
        ``{item: column header or question number}``.

    Examples
    --------
    >>> source_columns(load_codebook())["PV5"]
    'PV5'
    """
    sources = codebook["source_column"] if "source_column" in codebook else [""] * len(codebook)
    return {item: (str(src).strip() if str(src).strip() else item)
            for item, src in zip(codebook["item"], sources)}


def construct_items(codebook: pd.DataFrame) -> dict[str, list[str]]:
    """Items of each construct, constructs and items in codebook order.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`.

    Returns
    -------
    dict of str to list of str
        Construct code -> its item ids.

    Examples
    --------
    >>> list(construct_items(load_codebook()))
    ['MS', 'CS', 'OM', 'RA', 'CC', 'PV']
    """
    return {c: list(g["item"]) for c, g in codebook.groupby("construct", sort=False)}


def constructs(codebook: pd.DataFrame) -> pd.DataFrame:
    """One row per construct: ``construct construct_en construct_zh role n_items``.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`.

    Returns
    -------
    pandas.DataFrame
        Constructs in codebook order with their bilingual names, role and number of items.

    Examples
    --------
    >>> constructs(load_codebook()).to_dict("records")[0]
    {'construct': 'MS', 'construct_en': 'Multiple subjects', 'construct_zh': '多元主体', 'role': 'element', 'n_items': 4}
    """
    g = codebook.groupby("construct", sort=False)
    out = g[["construct_en", "construct_zh", "role"]].first()
    out["n_items"] = g.size()
    return out.reset_index()


def elements(codebook: pd.DataFrame) -> list[str]:
    """Construct codes with role ``element`` (the five public-value elements), in order.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> elements(load_codebook())
    ['MS', 'CS', 'OM', 'RA', 'CC']
    """
    return [c for c in construct_items(codebook)
            if (codebook.loc[codebook["construct"] == c, "role"] == "element").all()]


def outcome(codebook: pd.DataFrame) -> str:
    """The construct code with role ``outcome`` (governance performance).

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`.

    Returns
    -------
    str

    Raises
    ------
    CodebookError
        If the codebook has no outcome construct or more than one.

    Examples
    --------
    >>> outcome(load_codebook())
    'PV'
    """
    outs = list(dict.fromkeys(codebook.loc[codebook["role"] == "outcome", "construct"]))
    if len(outs) != 1:
        raise CodebookError(f"the codebook needs exactly one outcome construct, found {outs}")
    return outs[0]


def missing_codes(codebook: pd.DataFrame) -> dict[str, list[float]]:
    """Declared missing-value codes per item (e.g. ``9`` = "don't know").

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`; its ``missing_codes`` column holds ``;``- (or ``,``-)
        separated codes, empty for none.

    Returns
    -------
    dict of str to list of float
        Item id -> its missing-value codes (an empty list when it has none).

    Examples
    --------
    >>> missing_codes(load_codebook())["MS1"]
    [9.0]
    """
    out = {}
    for item, codes in zip(codebook["item"], codebook["missing_codes"]):
        out[item] = [float(p) for p in split_codes(codes)]
    return out


def questionnaire_markdown(codebook: pd.DataFrame) -> str:
    """A printable bilingual questionnaire generated from the codebook.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`load_codebook`.

    Returns
    -------
    str
        Markdown: a title, the answering instructions (scale, missing codes, reverse-coded
        items), then one table per construct with one row of answer boxes per item.

    Examples
    --------
    >>> text = questionnaire_markdown(load_codebook())
    >>> text.splitlines()[0]
    '# Resident questionnaire: community governance and public value / 社区治理与公共价值居民问卷'
    """
    lo, hi = int(codebook["scale_min"].min()), int(codebook["scale_max"].max())
    one_scale = codebook["scale_min"].nunique() == 1 and codebook["scale_max"].nunique() == 1
    labels = value_labels(codebook)
    lines = [
        "# Resident questionnaire: community governance and public value / 社区治理与公共价值居民问卷",
        "",
        "> Generated from `data/raw/codebook.csv` by `analysis.io.codebook.questionnaire_markdown`.",
        "> The items are **constructed for this research compendium**; they are not the original",
        "> study's questionnaire. / 本问卷条目为本研究资料库自行编制，并非原研究的问卷。",
        "",
        f"Answer each statement from {lo} = strongly disagree / 非常不同意 to {hi} = strongly agree /"
        " 非常同意." if one_scale else
        "Answer each statement on the scale given in its section, from the lowest number = "
        "strongly disagree / 非常不同意 to the highest = strongly agree / 非常同意.",
    ]
    codes = sorted({c for v in missing_codes(codebook).values() for c in v})
    if codes:
        lines.append(f"Code {', '.join(f'{c:g}' for c in codes)} = don't know / 不清楚.")
    lines.append("Items marked (R) are reverse-coded in the analysis. / 标 (R) 的条目在分析中反向计分。")
    for c, g in codebook.groupby("construct", sort=False):
        first = g.iloc[0]
        if not one_scale:
            lo, hi = int(first["scale_min"]), int(first["scale_max"])
        names = {code: label for label, code in labels[first["item"]].items()}
        heads = [f"{v} {names[v]}" if v in names else str(v) for v in range(lo, hi + 1)]
        lines += ["", f"## {first['construct_en']} / {first['construct_zh']} ({c})", ""]
        if not one_scale:
            lines += [f"Scale / 量表: {lo}-{hi}.", ""]
        lines += [f"| item | statement | 陈述 | {' | '.join(heads)} |",
                  "|---|---|---|" + "---|" * (hi - lo + 1)]
        for _, r in g.iterrows():
            mark = " (R)" if r["reverse"] else ""
            boxes = " | ".join("☐" for _ in range(lo, hi + 1))
            lines.append(f"| {r['item']}{mark} | {r['wording_en']} | {r['wording_zh']} | {boxes} |")
    return "\n".join(lines) + "\n"
