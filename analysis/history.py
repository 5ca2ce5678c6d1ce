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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import paths

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

def _rows(df: pd.DataFrame, mask, limit: int = 5) -> str:
    """Describe the first offending rows as 'row 3 (id 'PM03': value)'; rows count from 1."""
    idx = np.flatnonzero(np.asarray(mask))
    parts = []
    for i in idx[:limit]:
        rid = df["id"].iloc[i] if "id" in df.columns else ""
        parts.append(f"row {i + 1} (id {rid!r})")
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return ", ".join(parts) + more


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
            raise ValueError(f"{source}: column {col!r} is empty in {_rows(out, bad)}")
    dup = out["id"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"{source}: column 'id' has duplicated values in {_rows(out, dup)}")
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
                         f"YYYY-MM-DD) in {_rows(out, bad)}: {shown}")
    bad = ~out["stage"].isin(stages).to_numpy()
    if bad.any():
        labels = sorted(set(out["stage"][bad]))
        raise ValueError(f"{source}: column 'stage' has unknown label(s) {labels} in "
                         f"{_rows(out, bad)}; allowed are {list(stages)}")
    bad = ~out["status"].isin(STATUSES).to_numpy()
    if bad.any():
        raise ValueError(f"{source}: column 'status' must be one of {list(STATUSES)}; "
                         f"see {_rows(out, bad)}")
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


def load_codebook(path: str | Path | None = None) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------------
# Dictionary coder
# --------------------------------------------------------------------------------------------

def _term_regex(term: str, lang: str) -> str:
    if lang == "zh":
        return re.escape(term)  # Chinese has no word boundaries: plain substring
    stem = term.endswith("*")
    words = term.rstrip("*").split()
    body = r"\s+".join(re.escape(w) for w in words)
    return r"\b" + body + (r"\w*" if stem else r"\b")


def match_terms(corpus: pd.DataFrame, codebook: pd.DataFrame, *,
                fields: tuple[str, ...] | None = None,
                tiers: tuple[str, ...] = ("core", "extended")) -> pd.DataFrame:
    """Find every codebook term in every document: the coder's evidence, one row per hit type.

    Chinese terms are searched in the ``*_zh`` fields as substrings, English terms in the
    ``*_en`` fields as whole words (case-insensitive; a trailing ``*`` allows any ending).
    Within a dimension and field, matches do not overlap and the longest term wins at a
    position (``制度化`` is not also counted as a shorter term inside it).

    Parameters
    ----------
    corpus : pandas.DataFrame
        Validated corpus (:func:`validate_corpus`).
    codebook : pandas.DataFrame
        Validated codebook (:func:`validate_codebook`).
    fields : tuple of str, optional
        Subset of :data:`FIELDS` to read (default all four).
    tiers : tuple of str
        Codebook tiers to use.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, dimension, code, tier, lang, field, term, count``; documents without a
        match have no row here (but every document appears in :func:`code_corpus`).

    Examples
    --------
    >>> ev = match_terms(load_corpus(), load_codebook())
    >>> set(ev["field"]) <= set(FIELDS)
    True
    """
    fields = tuple(FIELDS) if fields is None else tuple(fields)
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; choose from {list(FIELDS)}")
    cb = codebook[codebook["tier"].isin(tiers)]
    rows = []
    for (dim, lang), terms in cb.groupby(["dimension", "lang"], sort=True):
        terms = terms.assign(_len=terms["term"].str.rstrip("*").str.len())
        terms = terms.sort_values(["_len", "term"], ascending=[False, True])
        records = terms.to_dict("records")
        pattern = re.compile("|".join(f"(?P<t{i}>{_term_regex(r['term'], lang)})"
                                      for i, r in enumerate(records)),
                             flags=re.IGNORECASE if lang == "en" else 0)
        for field in (f for f in fields if FIELDS[f] == lang):
            for doc_id, text in zip(corpus["id"], corpus[field]):
                counts: dict[int, int] = {}
                for m in pattern.finditer(str(text)):
                    k = int(m.lastgroup[1:])
                    counts[k] = counts.get(k, 0) + 1
                for k, n in counts.items():
                    r = records[k]
                    rows.append({"id": doc_id, "dimension": dim, "code": r["code"],
                                 "tier": r["tier"], "lang": lang, "field": field,
                                 "term": r["term"], "count": n})
    cols = ["id", "dimension", "code", "tier", "lang", "field", "term", "count"]
    ev = pd.DataFrame(rows, columns=cols)
    order = {d: i for i, d in enumerate(corpus["id"])}
    ev["_doc"] = ev["id"].map(order)
    ev["_field"] = ev["field"].map({f: i for i, f in enumerate(FIELDS)})
    ev["_code"] = ev["code"].map({c: i for i, c in enumerate(STAGES + VALUES)})
    ev = ev.sort_values(["_doc", "dimension", "_code", "_field", "term"], kind="mergesort")
    return ev.drop(columns=["_doc", "_field", "_code"]).reset_index(drop=True)


def _evidence_text(ev: pd.DataFrame) -> str:
    return "; ".join(f"{t}[{f}]" + (f"x{c}" if c > 1 else "")
                     for t, f, c in zip(ev["term"], ev["field"], ev["count"]))


def code_corpus(corpus: pd.DataFrame, codebook: pd.DataFrame, *,
                fields: tuple[str, ...] | None = None,
                tiers: tuple[str, ...] = ("core", "extended")) -> pd.DataFrame:
    """Assign each document a stage and a value-orientation profile from its matched terms.

    Rule (deliberately simple and fully visible): a stage's score is the number of its term
    occurrences in the chosen fields; the coded stage is the top-scoring stage. A tie between
    top stages is broken by the occurrences in the titles (the official wording, whereas the
    summaries are paraphrases); if still tied the document is coded ``"tie"``. A document
    with no stage term is coded ``"unclassified"``. No document is dropped.

    The value-orientation profile is the share of each orientation among the document's value
    term occurrences (all zero when none matched); ``value_dominant`` is the top orientation,
    ``"none"`` or ``"tie"``.

    Parameters
    ----------
    corpus, codebook, fields, tiers
        As in :func:`match_terms`.

    Returns
    -------
    pandas.DataFrame
        One row per document, in corpus order: ``id, stage_coded, rule`` (``"top score"``,
        ``"title tie-break"``, ``"tie"``, ``"no match"``), ``score_<stage>`` for each stage,
        ``value_<orientation>`` shares, ``value_dominant``, ``evidence_stage`` and
        ``evidence_value`` (``term[field]xcount`` lists).

    Examples
    --------
    >>> coded = code_corpus(load_corpus(), load_codebook())
    >>> len(coded) == len(load_corpus())
    True
    """
    ev = match_terms(corpus, codebook, fields=fields, tiers=tiers)
    out = []
    for doc_id in corpus["id"]:
        d = ev[ev["id"] == doc_id]
        st = d[d["dimension"] == "stage"]
        score = st.groupby("code")["count"].sum().reindex(STAGES, fill_value=0)
        title = (st[st["field"].isin(TITLE_FIELDS)].groupby("code")["count"].sum()
                 .reindex(STAGES, fill_value=0))
        top = [s for s in STAGES if score[s] == score.max()]
        if score.max() == 0:
            stage, rule = UNCLASSIFIED, "no match"
        elif len(top) == 1:
            stage, rule = top[0], "top score"
        else:
            best = [s for s in top if title[s] == max(title[t] for t in top)]
            stage, rule = (best[0], "title tie-break") if len(best) == 1 else (TIE, "tie")
        va = d[d["dimension"] == "value"]
        vcount = va.groupby("code")["count"].sum().reindex(VALUES, fill_value=0)
        total = vcount.sum()
        shares = vcount / total if total > 0 else vcount * 0.0
        vtop = [v for v in VALUES if vcount[v] == vcount.max()]
        dominant = "none" if total == 0 else (vtop[0] if len(vtop) == 1 else TIE)
        row = {"id": doc_id, "stage_coded": stage, "rule": rule}
        row.update({f"score_{s}": int(score[s]) for s in STAGES})
        row.update({f"value_{v}": float(shares[v]) for v in VALUES})
        row.update({"value_dominant": dominant, "evidence_stage": _evidence_text(st),
                    "evidence_value": _evidence_text(va)})
        out.append(row)
    coded = pd.DataFrame(out)
    if len(coded) != len(corpus) or list(coded["id"]) != list(corpus["id"]):
        raise AssertionError("coder lost or reordered documents")  # cannot happen; guard
    return coded


# --------------------------------------------------------------------------------------------
# Agreement: Cohen's kappa
# --------------------------------------------------------------------------------------------

def confusion_table(reference, coded, categories=None) -> pd.DataFrame:
    """Cross-tabulate two codings: rows the reference, columns the coder, all categories kept.

    Parameters
    ----------
    reference, coded : array-like of str
        Labels for the same documents, in the same order.
    categories : sequence of str, optional
        Row/column order; default the reference's labels in first-seen order, then any other
        labels of ``coded``. Labels outside ``categories`` raise an error.

    Returns
    -------
    pandas.DataFrame
        Counts (int), index named ``reference``, columns named ``coded``.

    Examples
    --------
    >>> confusion_table(["a", "a", "b"], ["a", "b", "b"]).to_numpy().tolist()
    [[1, 1], [0, 1]]
    """
    ref = pd.Series(list(reference), dtype=object)
    cod = pd.Series(list(coded), dtype=object)
    if len(ref) != len(cod):
        raise ValueError(f"the two codings differ in length: {len(ref)} and {len(cod)}")
    if categories is None:
        categories = list(dict.fromkeys(list(ref) + list(cod)))
    categories = list(categories)
    for name, s in (("reference", ref), ("coded", cod)):
        extra = sorted(set(s) - set(categories))
        if extra:
            raise ValueError(f"{name} labels {extra} are not among the categories {categories}")
    k = len(categories)
    pos = {c: i for i, c in enumerate(categories)}
    table = np.zeros((k, k), dtype=int)
    for a, b in zip(ref, cod):
        table[pos[a], pos[b]] += 1
    return pd.DataFrame(table, index=pd.Index(categories, name="reference"),
                        columns=pd.Index(categories, name="coded"))


def agreement_weights(k: int, kind: str | None) -> np.ndarray:
    """Agreement weights for ``k`` ordered categories: 1 on the diagonal.

    ``None`` gives the identity (unweighted kappa); ``"linear"`` 1 - |i-j|/(k-1);
    ``"quadratic"`` 1 - (i-j)^2/(k-1)^2 (Fleiss & Cohen 1973; psych's default, expressed there
    as disagreement weights (i-j)^2).
    """
    if kind is None:
        return np.eye(k)
    d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / max(k - 1, 1)
    if kind == "linear":
        return 1.0 - d
    if kind == "quadratic":
        return 1.0 - d ** 2
    raise ValueError(f"weights must be None, 'linear', 'quadratic' or a matrix, got {kind!r}")


def kappa_from_table(table, weights=None, n: float | None = None,
                     alpha: float = 0.05) -> pd.DataFrame:
    """Cohen's (weighted) kappa with its large-sample standard error from a square table.

    kappa_w = (p_o - p_e) / (1 - p_e) with p_o = sum w_ij p_ij, p_e = sum w_ij p_i. p_.j
    (Cohen 1960; Cohen 1968 for agreement weights w, 1 on the diagonal). The standard error
    is the non-null large-sample one of Fleiss, Cohen & Everitt (1969, eq. 13 and its
    unweighted special case), which is the multinomial delta-method variance:

    var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2]
          / (n (1 - p_e)^2),  wbar_i. = sum_j p_.j w_ij,  wbar_.j = sum_i p_i. w_ij.

    The Wald interval kappa +/- z se is clipped to [-1, 1] (as psych::cohen.kappa does).

    Parameters
    ----------
    table : array-like (k, k)
        Counts or proportions; rows rater 1, columns rater 2.
    weights : None, "linear", "quadratic" or array (k, k)
        Agreement weights (similarities, 1 on the diagonal); ``None`` is unweighted kappa.
    n : float, optional
        Number of subjects; required when ``table`` holds proportions (sums to 1).
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``n, kappa, se, ci_low, ci_high, p_observed, p_expected``.

    References
    ----------
    Cohen, J. (1960). Educ. Psychol. Meas. 20, 37-46. Cohen, J. (1968). Psychol. Bull. 70,
    213-220. Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Psychol. Bull. 72, 323-327.

    Examples
    --------
    >>> t = [[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]  # Cohen (1968)
    >>> print(round(kappa_from_table(t, n=200).loc[0, "kappa"], 3))
    0.492
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"table must be square, got shape {t.shape}")
    if (t < 0).any() or t.sum() <= 0:
        raise ValueError("table must hold non-negative counts or proportions with a positive sum")
    if n is None:
        if np.isclose(t.sum(), 1.0) and not np.allclose(t, np.round(t)):
            raise ValueError("table holds proportions: give the number of subjects n")
        n = t.sum()
    k = t.shape[0]
    w = (agreement_weights(k, weights) if weights is None or isinstance(weights, str)
         else np.asarray(weights, dtype=float))
    if w.shape != (k, k):
        raise ValueError(f"weights must be {k} x {k}, got {w.shape}")
    p = t / t.sum()
    row, col = p.sum(axis=1), p.sum(axis=0)
    p_o = float((w * p).sum())
    p_e = float((w * np.outer(row, col)).sum())
    if np.isclose(p_e, 1.0):
        raise ValueError("expected agreement is 1 (one category only): kappa is undefined")
    kappa = (p_o - p_e) / (1.0 - p_e)
    wbar_row = w @ col  # wbar_i.
    wbar_col = row @ w  # wbar_.j
    inner = w - (wbar_row[:, None] + wbar_col[None, :]) * (1.0 - kappa)
    var = ((p * inner ** 2).sum() - (kappa - p_e * (1.0 - kappa)) ** 2) / (n * (1.0 - p_e) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    return pd.DataFrame([{"n": float(n), "kappa": kappa, "se": se,
                          "ci_low": max(kappa - z * se, -1.0), "ci_high": min(kappa + z * se, 1.0),
                          "p_observed": p_o, "p_expected": p_e}])


def cohen_kappa(reference, coded, categories=None, weights=None,
                alpha: float = 0.05) -> pd.DataFrame:
    """Cohen's kappa between two codings of the same documents, with a confidence interval.

    Parameters
    ----------
    reference, coded : array-like of str
        The two codings (e.g. hand-assigned and dictionary-coded stage).
    categories : sequence of str, optional
        All categories, in order (the order matters for weighted kappa). Labels a coder never
        used still count (they affect nothing but the table's shape); labels outside the
        list raise an error.
    weights : None, "linear", "quadratic" or array
        See :func:`kappa_from_table`.
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``n, kappa, se, ci_low, ci_high, p_observed, p_expected``.

    Examples
    --------
    >>> print(cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "a"]).loc[0, "kappa"])
    0.5
    """
    table = confusion_table(reference, coded, categories)
    return kappa_from_table(table.to_numpy(), weights=weights, alpha=alpha)


# --------------------------------------------------------------------------------------------
# Ordered segmentation (periodisation)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segmentation:
    """Result of :func:`segment_sequence`.

    Attributes
    ----------
    cuts : tuple of int
        Index of the first element of segments 2..K (0-based, in the sorted sequence) of the
        reported optimum: among equally good segmentations, the one with the earliest
        boundaries (lexicographically smallest ``cuts``).
    loss : float
        Total cost of the optimum.
    n_optimal : int
        Number of segmentations that attain ``loss``.
    cut_ranges : tuple of (int, int)
        For each boundary, the smallest and largest position it takes in any optimal
        segmentation: the boundary is only located within this range.
    """

    cuts: tuple[int, ...]
    loss: float
    n_optimal: int
    cut_ranges: tuple[tuple[int, int], ...]

    def assignment(self, n: int) -> np.ndarray:
        """Segment index (0..K-1) of each of ``n`` elements."""
        return np.searchsorted(np.asarray(self.cuts), np.arange(n), side="right")


def segmentation_loss(cost, cuts) -> float:
    """Total cost of the ordered segmentation with boundaries ``cuts`` (see :func:`segment_sequence`)."""
    c = np.asarray(cost, dtype=float)
    seg = np.searchsorted(np.asarray(cuts, dtype=int), np.arange(c.shape[0]), side="right")
    return float(c[np.arange(c.shape[0]), seg].sum())


def segment_sequence(cost, allowed=None, tol: float = 1e-9) -> Segmentation:
    """Exact optimal segmentation of an ordered sequence into K ordered, non-empty segments.

    Element i placed in segment k costs ``cost[i, k]``; segment k must come before segment
    k+1. The optimum over all cut points c_1 < ... < c_{K-1} is found by dynamic programming
    over cut points (Bellman 1961; Auger & Lawrence 1989), O(K n^2):
    F_k(j) = min_{a < j} F_{k-1}(a) + C_k(a, j), with segment costs C_k from prefix sums. A
    backward pass G gives, for each boundary, every position it takes in some optimum, and
    the number of optima is counted alongside.

    Ties: the reported ``cuts`` are the lexicographically earliest optimum; ``cut_ranges`` and
    ``n_optimal`` show how far the boundaries are determined. Costs are compared with the
    absolute tolerance ``tol`` (scaled by the loss), so integer costs tie exactly.

    Parameters
    ----------
    cost : array-like (n, K)
        Per-element, per-segment costs, e.g. :func:`stage_cost` (0 if the element's label is
        the segment's stage, 1 otherwise) or :func:`profile_cost`.
    allowed : array-like of bool (n,), optional
        ``allowed[a]`` says whether a boundary may fall just before element a (e.g. not
        between two documents of the same date). Default: everywhere.
    tol : float
        Tolerance for treating two costs as equal.

    Returns
    -------
    Segmentation

    Examples
    --------
    >>> labels = [0, 0, 1, 1, 1, 2, 3, 3]
    >>> segment_sequence(stage_cost(labels, [0, 1, 2, 3])).cuts
    (2, 5, 6)
    """
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"cost must be an (n, K) array, got shape {c.shape}")
    n, K = c.shape
    if not np.isfinite(c).all():
        raise ValueError("cost must be finite")
    ok = np.ones(n + 1, dtype=bool) if allowed is None else np.r_[np.asarray(allowed, bool), True]
    if len(ok) != n + 1:
        raise ValueError(f"allowed must have length {n}, got {len(ok) - 1}")
    ok[0] = False  # no boundary before the first element
    ok[n] = False  # nor after the last: segments are non-empty
    if n < K or ok.sum() < K - 1:
        raise ValueError(f"cannot split {n} elements into {K} non-empty segments "
                         f"with {int(ok.sum())} admissible boundaries")
    P = np.vstack([np.zeros(K), np.cumsum(c, axis=0)])  # P[j, k] = sum_{i<j} c[i, k]
    inf = np.inf
    ends = np.flatnonzero(ok)  # admissible cut positions 1..n-1
    # Forward: F[k, j] best cost of elements [0, j) in segments 0..k, j an admissible end.
    F = np.full((K, n + 1), inf)
    N = np.zeros((K, n + 1), dtype=np.int64)
    F[0, 1:] = P[1:, 0]
    N[0, 1:] = 1
    for k in range(1, K):
        for j in list(ends[ends > k]) + [n]:
            a = ends[(ends >= k) & (ends < j)]
            if a.size == 0:
                continue
            v = F[k - 1, a] + P[j, k] - P[a, k]
            best = v.min()
            if not np.isfinite(best):
                continue
            F[k, j] = best
            N[k, j] = N[k - 1, a[np.abs(v - best) <= tol * max(1.0, abs(best))]].sum()
    # only admissible ends are meaningful for k < K-1; F[K-1, n] is the optimum
    opt = F[K - 1, n]
    if not np.isfinite(opt):
        raise ValueError("no admissible segmentation")
    atol = tol * max(1.0, abs(opt))
    # Backward: G[k, a] best cost of elements [a, n) in segments k..K-1, a a segment start.
    G = np.full((K, n + 1), inf)
    G[K - 1, ends] = P[n, K - 1] - P[ends, K - 1]
    for k in range(K - 2, 0, -1):
        for a in ends:
            b = ends[ends > a]
            if b.size == 0:
                continue
            G[k, a] = (P[b, k] - P[a, k] + G[k + 1, b]).min()
    ranges = []
    for k in range(1, K):
        on = [a for a in ends if np.isfinite(F[k - 1, a]) and np.isfinite(G[k, a])
              and abs(F[k - 1, a] + G[k, a] - opt) <= atol]
        ranges.append((int(min(on)), int(max(on))))
    cuts, acc, prev = [], 0.0, 0
    for k in range(1, K):
        for a in ends[ends > prev]:
            seg = P[a, k - 1] - P[prev, k - 1]
            if np.isfinite(G[k, a]) and abs(acc + seg + G[k, a] - opt) <= atol:
                cuts.append(int(a))
                acc += seg
                prev = int(a)
                break
    return Segmentation(cuts=tuple(cuts), loss=float(opt), n_optimal=int(N[K - 1, n]),
                        cut_ranges=tuple(ranges))


def stage_cost(labels, stages=STAGES) -> np.ndarray:
    """0-1 cost matrix: 0 where an element's label is the segment's stage, 1 otherwise.

    Labels outside ``stages`` (``"unclassified"``, ``"tie"``) cost 1 in every segment, so they
    never move a boundary. The segmentation loss is then the number of documents whose coded
    stage differs from the stage of the period they fall in.
    """
    lab = np.asarray(list(labels), dtype=object)
    return np.array([[0.0 if x == s else 1.0 for s in stages] for x in lab]).reshape(len(lab),
                                                                                     len(stages))


def profile_cost(shares) -> np.ndarray:
    """Soft cost 1 - share: a document's profile over the K stages (or value orientations).

    A document without any matched term (all shares 0) costs 1 everywhere and so never moves
    a boundary.
    """
    s = np.asarray(shares, dtype=float)
    return 1.0 - s


def order_corpus(corpus: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Sort documents by the start of their dated period (then id) and mark admissible cuts.

    A boundary may fall before document a only if every earlier document's period ends
    before document a's period starts: documents of the same day, or whose dates overlap
    at the precision given (e.g. ``2006`` and ``2006-04-09``), stay in the same period.

    Returns
    -------
    sorted : pandas.DataFrame
    allowed : numpy.ndarray of bool
    """
    s = corpus.sort_values(["date_start", "id"], kind="mergesort").reset_index(drop=True)
    end_so_far = s["date_end"].cummax().shift(1)
    allowed = (end_so_far < s["date_start"]).to_numpy().copy()
    allowed[0] = False
    return s, allowed


def fit_periodisation(coded: pd.DataFrame, *, cost: str = "label", column: str = "stage_coded",
                      prefix: str = "score_", stages=STAGES) -> pd.DataFrame:
    """Fit the ordered four-stage periodisation to a coded corpus and date its boundaries.

    Parameters
    ----------
    coded : pandas.DataFrame
        Validated corpus (dates) joined with coder output (:func:`code_corpus`).
    cost : {"label", "profile"}
        ``"label"``: 0-1 loss on ``column`` (:func:`stage_cost`); ``"profile"``: 1 - share of
        the segment's stage among the columns ``prefix + stage`` (:func:`profile_cost`; with
        ``prefix="value_"`` and ``stages=VALUES`` the value-orientation profile is segmented;
        the boundaries are then still named by the stages whose values they separate).
    column, prefix, stages
        Where the coding is read from.

    Returns
    -------
    pandas.DataFrame
        One row per boundary: ``boundary`` ("management -> service"), ``first_id`` (first
        document of the later period in the reported optimum), ``after`` and ``before`` (dates
        of the last document before and the first after the boundary), ``earliest_after`` and
        ``latest_before`` (the interval within which every optimal segmentation puts the
        boundary), ``loss`` and ``n_optimal`` (same on every row), ``n`` (documents).

    Examples
    --------
    >>> corpus = load_corpus()
    >>> fit = fit_periodisation(corpus.assign(stage_coded=corpus["stage"]))
    >>> int(fit["loss"].iloc[0])
    0
    """
    s, allowed = order_corpus(coded)
    if cost == "label":
        c = stage_cost(s[column], stages)
    elif cost == "profile":
        prof = s[[prefix + x for x in stages]].to_numpy(dtype=float)
        tot = prof.sum(axis=1, keepdims=True)
        # scores are counts: turn them into shares (rows without any term stay all zero)
        c = profile_cost(np.divide(prof, tot, out=np.zeros_like(prof), where=tot > 0))
    else:
        raise ValueError(f"cost must be 'label' or 'profile', got {cost!r}")
    seg = segment_sequence(c, allowed)
    names = STAGES if tuple(stages) == VALUES else stages
    rows = []
    for k, (cut, (lo, hi)) in enumerate(zip(seg.cuts, seg.cut_ranges)):
        rows.append({"boundary": f"{names[k]} -> {names[k + 1]}", "first_id": s["id"][cut],
                     "after": s["date"][cut - 1], "before": s["date"][cut],
                     "earliest_after": s["date"][lo - 1], "latest_before": s["date"][hi],
                     "after_year": s["year"][lo - 1], "before_year": s["year"][hi],
                     "loss": seg.loss, "n_optimal": seg.n_optimal, "n": len(s)})
    return pd.DataFrame(rows)


def compare_with_study(coded: pd.DataFrame, fitted: pd.DataFrame,
                       column: str = "stage_coded") -> pd.DataFrame:
    """Set the study's stage boundaries beside the fitted ones.

    The study's boundaries are where the hand-assigned stage changes in the date-sorted
    corpus (found with the same segmentation on ``stage``, so they are dated the same way).

    Returns
    -------
    pandas.DataFrame
        One row per boundary: the study's ``study_after``/``study_before`` dates, the fitted
        interval ``fitted_after``/``fitted_before`` (from :func:`fit_periodisation`),
        ``study_inside`` (whether the study's boundary lies within the fitted interval), and
        the coding's loss under the study's boundaries (``study_loss``) and under the fitted
        ones (``fitted_loss``): the number of documents whose coded stage differs from the
        period's stage.
    """
    study = fit_periodisation(coded.assign(_hand=coded["stage"]), column="_hand")
    s, _ = order_corpus(coded)
    hand_cuts = [int(np.flatnonzero(s["id"].to_numpy() == i)[0]) for i in study["first_id"]]
    study_loss = segmentation_loss(stage_cost(s[column]), hand_cuts)
    inside = ((fitted["after_year"] <= study["after_year"] + 1e-9)
              & (study["before_year"] <= fitted["before_year"] + 1e-9))
    return pd.DataFrame({"boundary": study["boundary"],
                         "study_after": study["after"], "study_before": study["before"],
                         "fitted_after": fitted["earliest_after"],
                         "fitted_before": fitted["latest_before"],
                         "study_inside": inside.to_numpy(),
                         "study_loss": study_loss, "fitted_loss": fitted["loss"]})


# --------------------------------------------------------------------------------------------
# Summaries used by the notebook
# --------------------------------------------------------------------------------------------

def coded_corpus_table(corpus: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """The coded corpus for ``data/processed/``: facts, hand stage, coded stage and evidence."""
    keep = ["id", "date", "title_zh", "title_en", "issuer", "doc_number", "status", "stage"]
    out = corpus[keep].rename(columns={"stage": "stage_hand"}).merge(coded, on="id",
                                                                     validate="1:1")
    out["agree"] = out["stage_hand"] == out["stage_coded"]
    return out


def agreement_variants(corpus: pd.DataFrame, codebook: pd.DataFrame,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Kappa of the coder against the hand stage, for several coder settings and subsets.

    Settings: all fields and tiers (the main coder); titles only (official wording, no
    paraphrase); Chinese fields only; English fields only; core terms only. Subsets: all
    documents, and V+S only (unverified items kept out of the headline).

    Returns
    -------
    pandas.DataFrame
        ``setting, subset, n, n_agree, n_unclassified, kappa, se, ci_low, ci_high``.
    """
    settings = {"all fields, all terms": {},
                "titles only": {"fields": TITLE_FIELDS},
                "Chinese fields only": {"fields": ("title_zh", "summary_zh")},
                "English fields only": {"fields": ("title_en", "summary_en")},
                "core terms only": {"tiers": ("core",)}}
    cats = list(STAGES) + [UNCLASSIFIED, TIE]
    rows = []
    for name, kw in settings.items():
        coded = coded_corpus_table(corpus, code_corpus(corpus, codebook, **kw))
        for subset, mask in (("all", np.ones(len(coded), bool)),
                             ("V+S", coded["status"].isin(["V", "S"]).to_numpy())):
            d = coded[mask]
            k = cohen_kappa(d["stage_hand"], d["stage_coded"], cats, alpha=alpha).iloc[0]
            rows.append({"setting": name, "subset": subset, "n": len(d),
                         "n_agree": int(d["agree"].sum()),
                         "n_unclassified": int(d["stage_coded"].isin([UNCLASSIFIED, TIE]).sum()),
                         "kappa": k["kappa"], "se": k["se"],
                         "ci_low": k["ci_low"], "ci_high": k["ci_high"]})
    return pd.DataFrame(rows)


def value_by_stage(coded: pd.DataFrame, evidence: pd.DataFrame,
                   stage_column: str = "stage_hand") -> pd.DataFrame:
    """Value-term occurrences by stage: a stage x value-orientation table of counts.

    Parameters
    ----------
    coded : pandas.DataFrame
        Has ``id`` and ``stage_column``.
    evidence : pandas.DataFrame
        From :func:`match_terms`.

    Returns
    -------
    pandas.DataFrame
        Index the stages (historical order), columns the value orientations, integer counts.
    """
    v = evidence[evidence["dimension"] == "value"].merge(coded[["id", stage_column]], on="id")
    tab = v.pivot_table(index=stage_column, columns="code", values="count", aggfunc="sum",
                        fill_value=0)
    tab = tab.reindex(index=list(STAGES), columns=list(VALUES), fill_value=0).astype(int)
    tab.index.name, tab.columns.name = "stage", "value"
    return tab


# --------------------------------------------------------------------------------------------
# Figures (English text: no CJK font is assumed to be available to matplotlib)
# --------------------------------------------------------------------------------------------

def plot_timeline(table: pd.DataFrame, fitted: pd.DataFrame, ax=None, colors=None):
    """Timeline of milestones coloured by hand-assigned stage, with fitted boundaries.

    Rows are the hand-assigned stages; filled markers where the coder agrees, open where it
    does not, grey crosses for unverified (U) items. Shaded bands show where every optimal
    segmentation puts each fitted boundary; dashed lines the study's stage changes.
    """
    import matplotlib.pyplot as plt
    from . import figures

    colors = colors or figures.PALETTE[:4]
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 3.6))
    ypos = {s: i for i, s in enumerate(STAGES)}
    for s in STAGES:
        d = table[table["stage_hand"] == s]
        col = colors[ypos[s]]
        for agree, face in ((True, col), (False, "white")):
            e = d[(d["agree"] == agree) & (d["status"] != "U")]
            ax.scatter(e["year"], [ypos[s]] * len(e), s=46, facecolors=face, edgecolors=col,
                           linewidths=1.4, zorder=3)
        u = d[d["status"] == "U"]
        ax.scatter(u["year"], [ypos[s]] * len(u), marker="x", color="0.4", zorder=3)
    for _, b in fitted.iterrows():
        ax.axvspan(b["after_year"], b["before_year"], color="0.85", zorder=0)
    study = table.sort_values("year")
    change = study["stage_hand"].ne(study["stage_hand"].shift()) & study.index.isin(
        study.index[1:])
    years = study["year"].to_numpy()
    for i in np.flatnonzero(change.to_numpy()):
        ax.axvline((years[i - 1] + years[i]) / 2, color="0.3", linestyle="--", linewidth=1,
                   zorder=1)
    ax.set_yticks(range(4), [s.capitalize() for s in STAGES])
    ax.set_ylim(-0.6, 3.6)
    ax.set_xlabel("Year")
    ax.set_title("Policy milestones by hand-assigned stage; grey bands: fitted boundaries "
                 "(coder), dashed: study's stage changes", fontsize=9)
    from matplotlib.lines import Line2D
    legend = [Line2D([], [], marker="o", linestyle="", color="0.3", label="coder agrees"),
              Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                     markeredgecolor="0.3", label="coder differs"),
              Line2D([], [], marker="x", linestyle="", color="0.4", label="unverified (U)")]
    ax.legend(handles=legend, loc="lower right", fontsize=8)
    return ax


def plot_value_heatmap(counts: pd.DataFrame, ax=None):
    """Heatmap of a stage x value-orientation count table, shaded by row share, annotated."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    tot = counts.sum(axis=1).replace(0, np.nan)
    share = counts.div(tot, axis=0).fillna(0.0)
    im = ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            val = share.iat[i, j]
            ax.text(j, i, f"{counts.iat[i, j]}\n({val:.0%})", ha="center", va="center",
                    fontsize=8, color="white" if val > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), [c.replace("_", "\n") for c in counts.columns])
    ax.set_yticks(range(counts.shape[0]), [s.capitalize() for s in counts.index])
    ax.set_xlabel("Value orientation (term occurrences)")
    ax.set_ylabel("Hand-assigned stage")
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, label="share of the stage's value terms")
    return ax


__all__ = [
    "CORPUS", "STAGE_CODEBOOK", "STAGES", "VALUES", "UNCLASSIFIED", "TIE", "FIELDS",
    "parse_date", "validate_corpus", "load_corpus", "validate_codebook", "load_codebook",
    "stage_labels", "match_terms", "code_corpus", "confusion_table", "agreement_weights",
    "kappa_from_table", "cohen_kappa", "Segmentation", "segment_sequence", "segmentation_loss",
    "stage_cost", "profile_cost", "order_corpus", "fit_periodisation", "compare_with_study",
    "coded_corpus_table",
    "agreement_variants", "value_by_stage", "plot_timeline", "plot_value_heatmap",
]
