"""Reading and validating a questionnaire file against the codebook.

:func:`load_survey` is the one door through which respondent data enter the compendium. It
never writes to its input, refuses files that carry direct identifiers, and explains every
problem by file, column and row (spreadsheet numbering: the header is row 1).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.io import paths
from analysis.io.checks import first_labels, spreadsheet_rows
from analysis.io.codebook import (
    construct_items,
    load_codebook,
    missing_codes,
    source_columns,
    survey_columns,
    value_labels,
)
from analysis.io.platforms import (
    NO_ANSWER,
    identifier_mask,
    ip_mask,
    match_header,
    normalise_frame,
    normalise_text,
    parse_duration,
    platform_role,
    read_table,
)

ID_COLUMNS = ("respondent_id", "community_id")
KNOWN_COLUMNS = ("respondent_id", "community_id", "community_type", "gender", "age",
                 "years_resident", "tenure")
# Platform metadata that are kept (parsed), after the known columns.
METADATA_COLUMNS = ("submitted_at", "duration_seconds")
# Known columns read through their SPSS value labels (the others are numbers or times).
LABELLED_COLUMNS = ("community_id", "community_type", "gender", "tenure")

# Column names that announce direct identifiers (English and Chinese).
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(name|full_?name|surname|phone|mobile|tel|telephone|cell|email|e_?mail|address|"
    r"id_?card|id_?number|national_?id|passport|wechat|qq)($|_)|姓名|名字|电话|手机|身份证|住址|地址|微信",
    re.IGNORECASE)
# Values holding phone, ID-card numbers or IP addresses: analysis.io.platforms.identifier_mask, ip_mask.


class SurveyDataError(ValueError):
    """A survey file that cannot be analysed as it is; the message says where and why."""


class SurveyWarning(UserWarning):
    """Something the analyst should know about a survey that is still loaded."""




def minimum_respondents(codebook: pd.DataFrame) -> int:
    """Free parameters of the codebook's CFA with a mean structure (the identification floor).

    Loadings (items - constructs), residual variances (items), factor variances and
    covariances, and intercepts (items). Fewer complete respondents than this cannot identify
    the measurement model.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook` (one row per item).

    Returns
    -------
    int

    Examples
    --------
    >>> minimum_respondents(load_codebook())
    90
    """
    p, k = len(codebook), codebook["construct"].nunique()
    return (p - k) + p + k * (k + 1) // 2 + p


def load_survey(path: str | os.PathLike | None = None,
                codebook: pd.DataFrame | str | os.PathLike | None = None,
                columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a questionnaire file, validate it against the codebook and recode it.

    Reads ``.csv`` (UTF-8 or GBK), ``.xlsx`` and SPSS ``.sav``, including survey-platform
    exports as they come (Wenjuanxing 问卷星, Tencent Questionnaire 腾讯问卷): full-width digits
    are read as digits, each item is found by the codebook's ``source_column`` (the exact
    header, or the header's leading question number such as ``3、``; blank: the item id) and
    answers given as option text are turned into codes by the codebook's ``value_labels``;
    SPSS value labels stored in a ``.sav`` are honoured. Declared missing-value codes (the
    codebook's ``missing_codes``, e.g. 9 = "don't know") become NaN, and reverse-worded
    items are recoded as ``(min + max) - x`` so that every item points the positive way.

    Privacy: metadata a platform adds that identify a person or a device (IP address
    ``来自IP``, referrer ``来源``/``来源详情``, nickname, location, device; see
    :data:`analysis.io.platforms.PLATFORM_COLUMNS`) are dropped with a :class:`SurveyWarning`
    naming them; any other column whose name announces an identifier (name, phone, address,
    ID card) or whose values contain a phone number, an ID-card number or an IP address is
    refused, because it means the survey itself collected identifying data. Submission time
    (``提交答卷时间``) and duration (``所用时间``) are kept as ``submitted_at`` and
    ``duration_seconds``.

    Parameters
    ----------
    path : path, optional
        The survey; defaults to ``data/raw/survey.csv`` (synthetic).
    codebook : DataFrame or path, optional
        Defaults to ``data/raw/codebook.csv``.
    columns : dict, optional
        Where the respondent columns are when the export does not use their names, e.g.
        ``{"community_id": "1、您所在的社区", "gender": "2"}``: keys among ``respondent_id
        community_id community_type gender age years_resident tenure submitted_at
        duration_seconds``, values matched like ``source_column``. When ``codebook`` is a path,
        the codebook's rows with role ``column`` are read too (``columns`` overrides them);
        with a codebook DataFrame pass ``columns=survey_columns(codebook_path)``. A name given
        nowhere is looked for as a column of that name; a platform's answer-sheet number
        (``序号``), submission time and duration are recognised by their headers.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id``, ``community_id`` (strings), the other known columns when present
        (``community_type``, ``gender``, ``age``, ``years_resident``, ``tenure``,
        ``submitted_at`` as datetime, ``duration_seconds`` as float), then one float column per
        item in codebook order, then unknown extra columns (kept, and reported in a
        :class:`SurveyWarning`). Dropped platform metadata are named in a
        :class:`SurveyWarning`; :func:`export_layout` tells which header gave which column.

    Raises
    ------
    SurveyDataError
        Naming the file, the column and the first offending rows, for: a missing required
        column; a ``source_column`` that matches several headers; a column that looks like a
        direct identifier (name, phone, ID-card number) or holds phone, ID-card numbers or IP
        addresses, which is refused; duplicate respondent ids; missing community ids;
        non-numeric item values, or text answers that match none of the item's value labels;
        values outside the scale; an item with zero variance; unreadable submission times or
        durations; fewer respondents than the measurement model needs to be identified.

    References
    ----------
    The Unicode Standard, "Halfwidth and Fullwidth Forms"; GB 11643-1999 (citizen
    identification number); GB 18030-2005 (the GBK superset used for decoding CSV).

    Examples
    --------
    >>> df = load_survey()
    >>> df.loc[:, "MS1":"MS4"].shape[1]
    4
    """
    path = Path(path) if path is not None else paths.SURVEY
    codebook_file = None
    if not isinstance(codebook, pd.DataFrame):
        codebook_file = Path(codebook) if codebook is not None else paths.CODEBOOK
        codebook = load_codebook(codebook_file)
    if not path.exists():
        raise SurveyDataError(f"{path}: survey file not found")
    try:
        table, sav_labels = read_table(path)
    except ValueError as err:
        raise SurveyDataError(str(err)) from None
    raw = normalise_frame(table)
    if raw.columns.duplicated().any():
        dup = list(dict.fromkeys(raw.columns[raw.columns.duplicated()]))
        raise SurveyDataError(f"{path}: column name(s) {', '.join(map(repr, dup))} occur twice")
    sav_labels = {normalise_text(str(k)): {normalise_text(c): normalise_text(v)
                                            for c, v in m.items()}
                  for k, m in sav_labels.items()}
    headers = list(raw.columns)

    items = [it for its in construct_items(codebook).values() for it in its]
    if codebook_file is not None:
        columns = {**survey_columns(codebook_file), **(columns or {})}
    layout = export_layout(headers, codebook, columns, path)
    item_header, std_header, dropped = layout.items, layout.columns, layout.dropped
    used = {h: name for name, h in {**item_header, **std_header}.items()}
    missing = [it if src == it else f"{it} (source_column '{src}')"
               for it, src in source_columns(codebook).items() if item_header[it] is None]
    if dropped:
        warnings.warn(f"{path}: dropped {len(dropped)} platform metadata column(s) that identify "
                      f"respondents or their devices: {', '.join(dropped)}", SurveyWarning,
                      stacklevel=2)
    raw = raw.drop(columns=dropped)
    explicit = {std_header[n] for n in (columns or {}) if n in std_header}

    for col in raw.columns:
        if col not in item_header.values() and col not in explicit and _IDENTIFIER_NAME.search(col):
            raise SurveyDataError(
                f"{path}: column '{col}' looks like a direct identifier; remove it before "
                "analysis (respondent-level identifiers must not enter the compendium)")
        hits = identifier_mask(raw[col])
        if hits.any():
            raise SurveyDataError(
                f"{path}: column '{col}' holds values that look like phone or ID-card numbers "
                f"in rows {spreadsheet_rows(hits)}; remove them before analysis")
        hits = ip_mask(raw[col])
        if hits.any():
            raise SurveyDataError(
                f"{path}: column '{col}' holds IP addresses in rows {spreadsheet_rows(hits)}; "
                "remove the column before analysis")

    no_ids = [c for c in ID_COLUMNS if c not in std_header]
    missing = no_ids + missing
    if missing:
        hint = ("; in a platform export, say which header holds it with a codebook row of role "
                "'column' (data/raw/README.md, codebook.csv) or with columns=") if no_ids else ""
        raise SurveyDataError(f"{path}: required column(s) missing: {', '.join(missing)}{hint}")
    ids = {c: raw[std_header[c]] for c in ID_COLUMNS}
    dup = ids["respondent_id"].duplicated(keep=False) & (ids["respondent_id"] != "")
    if dup.any():
        raise SurveyDataError(
            f"{path}: column 'respondent_id' has duplicate ids in rows {spreadsheet_rows(dup)}")
    for col in ID_COLUMNS:
        empty = ids[col] == ""
        if empty.any():
            raise SurveyDataError(f"{path}: column '{col}' is empty in rows {spreadsheet_rows(empty)}")

    cb = codebook.set_index("item")
    codes = missing_codes(codebook)
    labels = value_labels(codebook)
    values = {}
    for it in items:
        header = item_header[it]
        where = f"column '{it}'" if header == it else f"column '{header}' (item {it})"
        text = raw[header]
        if labels[it] and header in sav_labels:
            text = text.map(lambda v, m=sav_labels[header]: m.get(v, v))
        blank = (text == "") | text.isin(NO_ANSWER)
        num = pd.to_numeric(text.where(~blank), errors="coerce")
        if labels[it]:
            num = text.map(labels[it]).astype(float).fillna(num)
        bad = num.isna() & ~blank
        if bad.any():
            first = text[bad].iloc[0]
            if labels[it]:
                raise SurveyDataError(
                    f"{path}: {where} has answers that match none of its value_labels "
                    f"(first: {first!r}) in rows {spreadsheet_rows(bad)}")
            raise SurveyDataError(
                f"{path}: {where} has non-numeric values (first: {first!r}) in rows "
                f"{spreadsheet_rows(bad)}")
        num = num.mask(num.isin(codes[it]))
        lo, hi = cb.at[it, "scale_min"], cb.at[it, "scale_max"]
        out = num.notna() & ((num < lo) | (num > hi) | (num != num.round()))
        if out.any():
            raise SurveyDataError(
                f"{path}: {where} has values outside the scale {lo}-{hi} "
                f"(first: {num[out].iloc[0]:g}) in rows {spreadsheet_rows(out)}")
        if cb.at[it, "reverse"]:
            num = (lo + hi) - num
        if num.nunique(dropna=True) < 2:
            raise SurveyDataError(
                f"{path}: {where} has zero variance (every answer is "
                f"{num.dropna().iloc[0] if num.notna().any() else 'missing'}); "
                "drop the item from the codebook or check the data")
        values[it] = num.astype(float)

    floor = minimum_respondents(codebook)
    if len(raw) < floor:
        raise SurveyDataError(
            f"{path}: {len(raw)} respondents, fewer than the {floor} free parameters of the "
            "codebook's measurement model; the model cannot be identified")

    out = pd.DataFrame(index=raw.index)
    for col in KNOWN_COLUMNS + METADATA_COLUMNS:
        if col not in std_header:
            continue
        header = std_header[col]
        series = raw[header]
        if header in sav_labels and col in LABELLED_COLUMNS:
            series = series.map(lambda v, m=sav_labels[header]: m.get(v, v))
        if col in ("age", "years_resident"):
            series = pd.to_numeric(series, errors="coerce")
        elif col == "submitted_at":
            series = parse_times(series, path, header)
        elif col == "duration_seconds":
            series, bad = parse_duration(series)
            if bad.any():
                raise SurveyDataError(
                    f"{path}: column '{header}' has durations that cannot be read (first: "
                    f"{raw[header][bad].iloc[0]!r}) in rows {spreadsheet_rows(bad)}; use "
                    "seconds, '245秒', '4分5秒' or '00:04:05'")
        out[col] = series
    out = pd.concat([out, pd.DataFrame(values)], axis=1)
    extra = [c for c in raw.columns if c not in used]
    if extra:
        out = pd.concat([out, raw[extra]], axis=1)
        warnings.warn(f"{path}: kept {len(extra)} column(s) the codebook does not describe: "
                      f"{', '.join(extra)}", SurveyWarning, stacklevel=2)
    return out


@dataclass(frozen=True)
class ExportLayout:
    """Which header of a survey file gives which column of the loaded survey.

    Attributes
    ----------
    items : dict
        Item id -> header (``None`` when no header matches).
    columns : dict
        Respondent column (``respondent_id``, ``community_id``, ..., ``submitted_at``,
        ``duration_seconds``) -> header, for those found.
    dropped : list of str
        Platform metadata headers left out because they identify people or devices.
    """

    items: dict
    columns: dict
    dropped: list


def export_layout(headers, codebook: pd.DataFrame, columns: dict[str, str] | None = None,
                  path="survey") -> ExportLayout:
    """Match a survey file's headers to the codebook's items and the respondent columns.

    Items by ``source_column`` (:func:`analysis.io.platforms.match_header`); respondent
    columns by ``columns``, else by their own name, else (answer-sheet number, submission
    time, duration) by the platform's header; platform metadata that identify people are
    listed in ``dropped``.

    Parameters
    ----------
    headers : sequence of str
        The file's headers, normalised (:func:`analysis.io.platforms.normalise_text`).
    codebook : pandas.DataFrame
    columns : dict, optional
        Respondent column -> header or question number, as in :func:`load_survey`.
    path : path or str
        Named in messages.

    Returns
    -------
    ExportLayout

    Raises
    ------
    SurveyDataError
        For an unknown key of ``columns``, a header that matches nothing it is given for, a
        question number shared by several headers, or one header given for two columns.

    Examples
    --------
    >>> cb = load_codebook()
    >>> layout = export_layout(["序号", "来自IP", "community_id"] + cb["item"].tolist(), cb)
    >>> layout.columns, layout.dropped, layout.items["MS1"]
    ({'community_id': 'community_id', 'respondent_id': '序号'}, ['来自IP'], 'MS1')
    """
    headers = list(headers)
    wanted = list(KNOWN_COLUMNS) + list(METADATA_COLUMNS)
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(wanted))
    if unknown:
        raise SurveyDataError(f"columns: unknown name(s) {', '.join(unknown)}; use "
                              f"{', '.join(wanted)}")

    def resolve(name, source, what):
        hit, candidates = match_header(source, headers)
        if hit is None and candidates:
            raise SurveyDataError(
                f"{path}: {what} '{source}' for {name} matches {len(candidates)} columns "
                f"({first_labels(map(repr, candidates))}); give the full header")
        return hit

    item_header = {it: resolve(it, src, "source_column")
                   for it, src in source_columns(codebook).items()}
    seen = [h for h in item_header.values() if h is not None]
    dup = [h for h in seen if seen.count(h) > 1]
    if dup:
        raise SurveyDataError(f"{path}: column '{dup[0]}' is the source of several items")
    std_header = {}
    for name in wanted:
        if name in columns:
            hit = resolve(name, columns[name], "column")
            if hit is None:
                raise SurveyDataError(f"{path}: no column matches '{columns[name]}' "
                                      f"(given for {name})")
            std_header[name] = hit
        elif name in headers and name not in seen:
            std_header[name] = name
    used = {h: it for it, h in item_header.items() if h is not None}
    for name, h in std_header.items():
        if h in used:
            raise SurveyDataError(f"{path}: column '{h}' is given both for {used[h]} and {name}")
        used[h] = name
    dropped = []
    for h in headers:
        if h in used:
            continue
        role = platform_role(h)
        if role == "drop":
            dropped.append(h)
        elif role is not None and role not in std_header:
            std_header[role] = h
            used[h] = role
    return ExportLayout(items=item_header, columns=std_header, dropped=dropped)


def parse_times(values: pd.Series, path, column: str) -> pd.Series:
    """Submission times as datetimes (``2026/11/3 10:21:33``, ``2026-11-03 10:21``, ...).

    Parameters
    ----------
    values : pandas.Series of str
        Blank for unknown.
    path : path or str
        Named in the message.
    column : str
        Named in the message.

    Returns
    -------
    pandas.Series of datetime64[s]

    Raises
    ------
    SurveyDataError
        Naming the column, the first unreadable text and its rows.

    Examples
    --------
    >>> parse_times(pd.Series(["2026/11/3 10:21:33", "2026-11-04 08:00", ""]), "s.csv", "t").tolist()
    [Timestamp('2026-11-03 10:21:33'), Timestamp('2026-11-04 08:00:00'), NaT]
    """
    text = values.map(normalise_text)
    parsed = pd.to_datetime(text.where(text != ""), errors="coerce", format="mixed",
                            yearfirst=True)
    bad = parsed.isna() & (text != "")
    if bad.any():
        raise SurveyDataError(
            f"{path}: column '{column}' has times that cannot be read (first: "
            f"{text[bad].iloc[0]!r}) in rows {spreadsheet_rows(bad)}")
    return parsed.astype("datetime64[s]")


def extra_columns(survey: pd.DataFrame, codebook: pd.DataFrame) -> list[str]:
    """The columns of a survey that the codebook does not describe, in survey order.

    These are the columns :func:`load_survey` keeps after the items and reports in a
    :class:`SurveyWarning`: neither a known respondent column (identifiers, community type,
    gender, age, years of residence, tenure, submission time, duration) nor one of the
    codebook's items.

    Parameters
    ----------
    survey : pandas.DataFrame
        A survey, e.g. from :func:`load_survey`.
    codebook : pandas.DataFrame
        The codebook whose items the survey answers.

    Returns
    -------
    list of str

    References
    ----------
    von Elm E, Altman DG, Egger M, et al. (2007). The STROBE statement. *The Lancet*
    370:1453-1457, item 14a (characteristics of study participants).

    Examples
    --------
    >>> cb = load_codebook()
    >>> df = load_survey(codebook=cb)
    >>> extra_columns(df.assign(interviewer="A"), cb)
    ['interviewer']
    """
    known = set(KNOWN_COLUMNS) | set(METADATA_COLUMNS) | set(codebook["item"])
    return [c for c in survey.columns if c not in known]


def companion_path(survey_path: str | os.PathLike | None, default: Path) -> Path | None:
    """Where a table that accompanies the survey lives, or ``None`` if there is none.

    With the shipped synthetic survey (``survey_path`` None) this is ``default`` (e.g.
    ``data/raw/communities.csv``). With a user's survey it is the file of the same name in the
    survey's folder; a user's survey may come without it, and the steps that need it are then
    skipped with a message.

    Parameters
    ----------
    survey_path : str or os.PathLike or None
        The survey file, or ``None`` for the shipped one.
    default : pathlib.Path
        The shipped companion table (its file name is looked for beside a user's survey).

    Returns
    -------
    pathlib.Path or None
        The companion file if it exists.

    Examples
    --------
    >>> companion_path(None, paths.COMMUNITIES).name
    'communities.csv'
    >>> companion_path("/nonexistent/my-survey.xlsx", paths.COMMUNITIES) is None
    True
    """
    if survey_path is None:
        return default if default.exists() else None
    candidate = Path(survey_path).parent / default.name
    return candidate if candidate.exists() else None
