"""Reading and validating a questionnaire file against the codebook.

:func:`load_survey` is the one door through which respondent data enter the compendium. It
never writes to its input, refuses files that carry direct identifiers, and explains every
problem by file, column and row (spreadsheet numbering: the header is row 1).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pandas as pd

from analysis.io import paths
from analysis.io.checks import spreadsheet_rows
from analysis.io.codebook import construct_items, load_codebook, missing_codes

ID_COLUMNS = ("respondent_id", "community_id")
KNOWN_COLUMNS = ("respondent_id", "community_id", "community_type", "gender", "age",
                 "years_resident", "tenure")

# Column names that announce direct identifiers (English and Chinese).
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(name|full_?name|surname|phone|mobile|tel|telephone|cell|email|e_?mail|address|"
    r"id_?card|id_?number|national_?id|passport|wechat|qq)($|_)|姓名|名字|电话|手机|身份证|住址|地址|微信",
    re.IGNORECASE)
# Values that look like a mainland mobile number or an 18-character resident ID number.
_IDENTIFIER_VALUE = re.compile(r"^(1[3-9]\d{9}|\d{17}[\dXx])$")


class SurveyDataError(ValueError):
    """A survey file that cannot be analysed as it is; the message says where and why."""


class SurveyWarning(UserWarning):
    """Something the analyst should know about a survey that is still loaded."""




def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    if suffix == ".sav":
        import pyreadstat  # imported here: only SPSS users need it

        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False,
                                       user_missing=False)
        return df.astype(object).where(df.notna(), "").astype(str).replace(
            {r"^(-?\d+)\.0$": r"\1"}, regex=True)
    raise SurveyDataError(f"{path}: unsupported file type '{suffix}' (use .csv, .xlsx or .sav)")


def minimum_respondents(codebook: pd.DataFrame) -> int:
    """Free parameters of the codebook's CFA with a mean structure (the identification floor).

    Loadings (items - constructs), residual variances (items), factor variances and
    covariances, and intercepts (items). Fewer complete respondents than this cannot identify
    the measurement model.
    """
    p, k = len(codebook), codebook["construct"].nunique()
    return (p - k) + p + k * (k + 1) // 2 + p


def load_survey(path: str | os.PathLike | None = None,
                codebook: pd.DataFrame | str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a questionnaire file, validate it against the codebook and recode it.

    Reads ``.csv`` (UTF-8), ``.xlsx`` and SPSS ``.sav``. Declared missing-value codes (the
    codebook's ``missing_codes``, e.g. 9 = "don't know") become NaN, and reverse-worded
    items are recoded as ``(min + max) - x`` so that every item points the positive way.

    Parameters
    ----------
    path : path, optional
        The survey; defaults to ``data/raw/survey.csv`` (synthetic).
    codebook : DataFrame or path, optional
        Defaults to ``data/raw/codebook.csv``.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id``, ``community_id`` (strings), the other known columns when present
        (``community_type``, ``gender``, ``age``, ``years_resident``, ``tenure``), then one
        float column per item in codebook order, then unknown extra columns (kept, and
        reported in a :class:`SurveyWarning`).

    Raises
    ------
    SurveyDataError
        Naming the file, the column and the first offending rows, for: a missing required
        column; a column that looks like a direct identifier (name, phone, ID-card number),
        which is refused; duplicate respondent ids; missing community ids; non-numeric item
        values; values outside the scale; an item with zero variance; fewer respondents than
        the measurement model needs to be identified.

    Examples
    --------
    >>> df = load_survey()
    >>> df.loc[:, "MS1":"MS4"].shape[1]
    4
    """
    path = Path(path) if path is not None else paths.SURVEY
    if not isinstance(codebook, pd.DataFrame):
        codebook = load_codebook(codebook)
    if not path.exists():
        raise SurveyDataError(f"{path}: survey file not found")
    raw = _read(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())

    for col in raw.columns:
        if _IDENTIFIER_NAME.search(col):
            raise SurveyDataError(
                f"{path}: column '{col}' looks like a direct identifier; remove it before "
                "analysis (respondent-level identifiers must not enter the compendium)")
        hits = raw[col].str.fullmatch(_IDENTIFIER_VALUE.pattern).fillna(False)
        if hits.any():
            raise SurveyDataError(
                f"{path}: column '{col}' holds values that look like phone or ID-card numbers "
                f"in rows {spreadsheet_rows(hits)}; remove them before analysis")

    items = [it for its in construct_items(codebook).values() for it in its]
    required = list(ID_COLUMNS) + items
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise SurveyDataError(f"{path}: required column(s) missing: {', '.join(missing)}")

    dup = raw["respondent_id"].duplicated(keep=False) & (raw["respondent_id"] != "")
    if dup.any():
        raise SurveyDataError(
            f"{path}: column 'respondent_id' has duplicate ids in rows {spreadsheet_rows(dup)}")
    for col in ID_COLUMNS:
        empty = raw[col] == ""
        if empty.any():
            raise SurveyDataError(f"{path}: column '{col}' is empty in rows {spreadsheet_rows(empty)}")

    cb = codebook.set_index("item")
    codes = missing_codes(codebook)
    values = {}
    for it in items:
        text = raw[it]
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & (text != "")
        if bad.any():
            first = text[bad].iloc[0]
            raise SurveyDataError(
                f"{path}: column '{it}' has non-numeric values (first: {first!r}) in rows "
                f"{spreadsheet_rows(bad)}")
        num = num.mask(num.isin(codes[it]))
        lo, hi = cb.at[it, "scale_min"], cb.at[it, "scale_max"]
        out = num.notna() & ((num < lo) | (num > hi) | (num != num.round()))
        if out.any():
            raise SurveyDataError(
                f"{path}: column '{it}' has values outside the scale {lo}-{hi} "
                f"(first: {num[out].iloc[0]:g}) in rows {spreadsheet_rows(out)}")
        if cb.at[it, "reverse"]:
            num = (lo + hi) - num
        if num.nunique(dropna=True) < 2:
            raise SurveyDataError(
                f"{path}: column '{it}' has zero variance (every answer is "
                f"{num.dropna().iloc[0] if num.notna().any() else 'missing'}); "
                "drop the item from the codebook or check the data")
        values[it] = num.astype(float)

    floor = minimum_respondents(codebook)
    if len(raw) < floor:
        raise SurveyDataError(
            f"{path}: {len(raw)} respondents, fewer than the {floor} free parameters of the "
            "codebook's measurement model; the model cannot be identified")

    out = raw[[c for c in KNOWN_COLUMNS if c in raw.columns]].copy()
    for col in ("age", "years_resident"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    out = pd.concat([out, pd.DataFrame(values)], axis=1)
    extra = [c for c in raw.columns if c not in KNOWN_COLUMNS and c not in items]
    if extra:
        out = pd.concat([out, raw[extra]], axis=1)
        warnings.warn(f"{path}: kept {len(extra)} column(s) the codebook does not describe: "
                      f"{', '.join(extra)}", SurveyWarning, stacklevel=2)
    return out


def extra_columns(survey: pd.DataFrame, codebook: pd.DataFrame) -> list[str]:
    """The columns of a survey that the codebook does not describe, in survey order.

    These are the columns :func:`load_survey` keeps after the items and reports in a
    :class:`SurveyWarning`: neither a known respondent column (identifiers, community type,
    gender, age, years of residence, tenure) nor one of the codebook's items.

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
    known = set(KNOWN_COLUMNS) | set(codebook["item"])
    return [c for c in survey.columns if c not in known]


def companion_path(survey_path: str | os.PathLike | None, default: Path) -> Path | None:
    """Where a table that accompanies the survey lives, or ``None`` if there is none.

    With the shipped synthetic survey (``survey_path`` None) this is ``default`` (e.g.
    ``data/raw/communities.csv``). With a user's survey it is the file of the same name in the
    survey's folder; a user's survey may come without it, and the steps that need it are then
    skipped with a message.

    Examples
    --------
    >>> companion_path(None, paths.COMMUNITIES).name
    'communities.csv'
    """
    if survey_path is None:
        return default if default.exists() else None
    candidate = Path(survey_path).parent / default.name
    return candidate if candidate.exists() else None
