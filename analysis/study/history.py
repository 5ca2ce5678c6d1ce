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

import re

import numpy as np
import pandas as pd

from analysis.io.corpus import FIELDS, STAGES, TIE, TITLE_FIELDS, UNCLASSIFIED, VALUES
from analysis.methods.agreement import cohen_kappa
from analysis.methods.segmentation import segment_sequence, segmentation_loss

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
