"""Historical stages of urban community governance: corpus, dictionary coder, agreement, periodisation.

The study divides urban community governance since 1949 into four ordered stages (community
management, service, construction, governance), each with a public-value orientation. This
module makes that history a testable step:

* :func:`load_corpus` / :func:`validate_corpus` read the hand-curated policy corpus and refuse
  bad rows (unparseable date, unknown stage, missing title) with an error naming the row;
* :func:`load_codebook` reads the bilingual dictionary of stage and value-orientation terms;
* :func:`match_terms` and :func:`code_corpus` are a transparent dictionary coder: every
  document gets a stage (or ``"unclassified"`` / ``"tie"``) and a value-orientation profile,
  with the evidence terms it matched;
* :func:`cohen_kappa` measures agreement with the hand-assigned stage (Cohen 1960, 1968;
  large-sample standard errors of Fleiss, Cohen & Everitt 1969);
* :func:`segment_sequence` finds, by exact dynamic programming, the ordered segmentation of
  the dated sequence into the four stages that best fits the coding; :func:`fit_periodisation`
  reports its boundaries as dates.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths
from analysis.io.checks import first_labels

CORPUS = paths.DATA_RAW / "policy_milestones.csv"
STAGE_CODEBOOK = paths.DATA_RAW / "stage_codebook.csv"

#: The study's four stages, in historical order (the codebook's ``order`` column agrees).
STAGES = ("management", "service", "construction", "governance")
#: The public-value orientation the study attributes to each stage, in the same order.
VALUES = ("control_stability", "welfare_services", "residents_needs", "institutionalisation")
#: Labels the coder gives when no stage term matched, or when stages tie after tie-breaking.
UNCLASSIFIED = "unclassified"
TIE = "tie"
STATUSES = ("V", "S", "U")

#: Text fields the coder reads, and the language of each.
FIELDS = {"title_zh": "zh", "summary_zh": "zh", "title_en": "en", "summary_en": "en"}
TITLE_FIELDS = ("title_zh", "title_en")

_CORPUS_REQUIRED = ("id", "date", "title_zh", "title_en", "issuer", "stage", "status", "source")
_CORPUS_OPTIONAL = ("doc_number", "summary_zh", "summary_en", "note")
_CODEBOOK_COLUMNS = ("dimension", "code", "order", "label_en", "label_zh", "tier", "lang", "term")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


# --------------------------------------------------------------------------------------------
# Reading and validation
# --------------------------------------------------------------------------------------------



def _corpus_rows(df: pd.DataFrame, mask) -> str:
    """The first offending rows as 'row 3 (id 'PM03')'; rows count from 1."""
    ids = df["id"] if "id" in df.columns else pd.Series("", index=df.index)
    idx = np.flatnonzero(np.asarray(mask))
    return first_labels([f"row {i + 1} (id {ids.iloc[i]!r})" for i in idx])


def _blank(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy() | (series.astype(str).str.strip() == "").to_numpy()


def parse_date(text: str) -> tuple[_dt.date, _dt.date, str]:
    """Parse an ISO 8601 date at year, month or day precision.

    Parameters
    ----------
    text : str
        ``"YYYY"``, ``"YYYY-MM"`` or ``"YYYY-MM-DD"``.

    Returns
    -------
    start, end : datetime.date
        First and last day of the period the date denotes.
    precision : {"year", "month", "day"}

    Raises
    ------
    ValueError
        If ``text`` is not one of the three forms or names no real day.

    Examples
    --------
    >>> parse_date("1989-12")
    (datetime.date(1989, 12, 1), datetime.date(1989, 12, 31), 'month')
    """
    m = _DATE.match(str(text).strip())
    if not m:
        raise ValueError(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.groups()
    y = int(year)
    if month is None:
        return _dt.date(y, 1, 1), _dt.date(y, 12, 31), "year"
    mo = int(month)
    if day is None:
        start = _dt.date(y, mo, 1)  # raises ValueError for month 13
        nxt = _dt.date(y + (mo == 12), mo % 12 + 1, 1)
        return start, nxt - _dt.timedelta(days=1), "month"
    d = _dt.date(y, mo, int(day))
    return d, d, "day"


def _decimal_year(d: _dt.date) -> float:
    start = _dt.date(d.year, 1, 1)
    length = (_dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / length


def validate_corpus(df: pd.DataFrame, source: str = "corpus",
                    stages: tuple[str, ...] = STAGES) -> pd.DataFrame:
    """Check a policy corpus and add parsed date columns.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per document with the columns ``id, date, title_zh, title_en, issuer, stage,
        status, source`` (required, non-empty) and ``doc_number, summary_zh, summary_en, note``
        (optional, may be empty).
    source : str
        Name used in error messages (usually the file path).
    stages : tuple of str
        Allowed hand-assigned stage labels.

    Returns
    -------
    pandas.DataFrame
        A copy, in the input order, with ``date_start``, ``date_end`` (first and last day of
        the dated period), ``precision`` and ``year`` (decimal year of the period's midpoint).

    Raises
    ------
    ValueError
        Naming the source, the column and the first offending rows, for a missing column,
        an empty required field (e.g. a missing title), an unparseable date, an unknown stage
        or status, or a duplicated id.

    Examples
    --------
    >>> corpus = validate_corpus(pd.read_csv(CORPUS, dtype=str, keep_default_na=False))
    >>> corpus.loc[0, "precision"]
    'month'
    """
    missing = [c for c in _CORPUS_REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; "
                         f"required are {list(_CORPUS_REQUIRED)}")
    out = df.copy()
    for col in _CORPUS_OPTIONAL:
        if col not in out.columns:
            out[col] = ""
    for col in _CORPUS_REQUIRED + _CORPUS_OPTIONAL:
        out[col] = out[col].astype(object).where(~_blank(out[col]), "").astype(str).str.strip()
    for col in _CORPUS_REQUIRED:
        bad = (out[col] == "").to_numpy()
        if bad.any():
            raise ValueError(f"{source}: column {col!r} is empty in {_corpus_rows(out, bad)}")
    dup = out["id"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"{source}: column 'id' has duplicated values in {_corpus_rows(out, dup)}")
    parsed, bad = [], np.zeros(len(out), dtype=bool)
    for i, text in enumerate(out["date"]):
        try:
            parsed.append(parse_date(text))
        except ValueError:
            parsed.append((None, None, None))
            bad[i] = True
    if bad.any():
        shown = ", ".join(f"{out['date'].iloc[i]!r}" for i in np.flatnonzero(bad)[:5])
        raise ValueError(f"{source}: column 'date' is not an ISO 8601 date (YYYY, YYYY-MM or "
                         f"YYYY-MM-DD) in {_corpus_rows(out, bad)}: {shown}")
    bad = ~out["stage"].isin(stages).to_numpy()
    if bad.any():
        labels = sorted(set(out["stage"][bad]))
        raise ValueError(f"{source}: column 'stage' has unknown label(s) {labels} in "
                         f"{_corpus_rows(out, bad)}; allowed are {list(stages)}")
    bad = ~out["status"].isin(STATUSES).to_numpy()
    if bad.any():
        raise ValueError(f"{source}: column 'status' must be one of {list(STATUSES)}; "
                         f"see {_corpus_rows(out, bad)}")
    out["date_start"] = pd.to_datetime([p[0] for p in parsed])
    out["date_end"] = pd.to_datetime([p[1] for p in parsed])
    out["precision"] = [p[2] for p in parsed]
    out["year"] = [_decimal_year(p[0] + (p[1] - p[0]) / 2) for p in parsed]
    return out


def load_corpus(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the policy corpus (default ``data/raw/policy_milestones.csv``).

    See :func:`validate_corpus` for the columns and the checks.

    Examples
    --------
    >>> corpus = load_corpus()
    >>> len(corpus) >= 30
    True
    """
    path = Path(path) if path is not None else CORPUS
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return validate_corpus(df, source=str(path))


def validate_codebook(df: pd.DataFrame, source: str = "codebook") -> pd.DataFrame:
    """Check the stage/value codebook (one row per indicator term).

    Columns: ``dimension`` (``stage`` or ``value``), ``code``, ``order`` (1-4, the study's
    historical order), ``label_en``, ``label_zh``, ``tier`` (``core``: words of the study's own
    stage names and value orientations; ``extended``: synonyms and instruments), ``lang``
    (``zh`` or ``en``) and ``term``. English terms may end in ``*`` (any word ending).

    Raises
    ------
    ValueError
        For a missing column or value, an unknown dimension/tier/language, codes that do not
        match :data:`STAGES` / :data:`VALUES` in order, or a term listed twice in a dimension.
    """
    missing = [c for c in _CODEBOOK_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}")
    out = df.copy()
    for col in _CODEBOOK_COLUMNS:
        bad = _blank(out[col])
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            raise ValueError(f"{source}: column {col!r} is empty in row(s) {rows}")
    order = pd.to_numeric(out["order"], errors="coerce")
    bad = (order.isna() | (order % 1 != 0)).to_numpy()
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
        raise ValueError(f"{source}: column 'order' must be an integer 1-4; see row(s) {rows}")
    out["order"] = order.astype(int)
    for col, allowed in (("dimension", ("stage", "value")), ("tier", ("core", "extended")),
                         ("lang", ("zh", "en"))):
        bad = ~out[col].isin(allowed).to_numpy()
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            raise ValueError(f"{source}: column {col!r} must be one of {list(allowed)}; "
                             f"see row(s) {rows}")
    for dim, expected in (("stage", STAGES), ("value", VALUES)):
        codes = (out[out["dimension"] == dim].drop_duplicates("code")
                 .sort_values("order")[["code", "order"]])
        if tuple(codes["code"]) != expected or list(codes["order"]) != list(range(1, 5)):
            raise ValueError(f"{source}: {dim} codes in order must be {list(expected)} "
                             f"(order 1-4), got {list(codes['code'])}")
    dup = out.duplicated(["dimension", "lang", "term"], keep=False).to_numpy()
    if dup.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(dup)[:5])
        raise ValueError(f"{source}: a term is listed twice within a dimension, row(s) {rows}")
    return out


def load_stage_codebook(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the codebook (default ``data/raw/stage_codebook.csv``).

    Examples
    --------
    >>> cb = load_codebook()
    >>> sorted(cb["dimension"].unique())
    ['stage', 'value']
    """
    path = Path(path) if path is not None else STAGE_CODEBOOK
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return validate_codebook(df, source=str(path))


def stage_labels(codebook: pd.DataFrame) -> pd.DataFrame:
    """One row per stage with its value orientation and bilingual labels (joined on ``order``)."""
    cols = ["order", "code", "label_en", "label_zh"]
    s = codebook[codebook["dimension"] == "stage"].drop_duplicates("code")[cols]
    v = codebook[codebook["dimension"] == "value"].drop_duplicates("code")[cols]
    out = s.merge(v, on="order", suffixes=("", "_value")).sort_values("order")
    return out.rename(columns={"code": "stage", "code_value": "value"}).reset_index(drop=True)
