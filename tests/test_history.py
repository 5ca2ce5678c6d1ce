"""Tests of analysis.study.history: corpus validation, dictionary coder, Cohen's kappa, segmentation.

References: kappa against a published example (Cohen 1968) and against R (psych::cohen.kappa
2.2.9 for kappa and its variance; the multinomial delta method with numDeriv for the weighted
variance), read from tests/reference/history/ (written by tests/reference/kappa_reference.R);
the segmentation against brute-force enumeration and constructed sequences with known cuts.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.io import corpus as io_corpus
from analysis.methods import agreement, segmentation
from analysis.study import history

REF = Path(__file__).parent / "reference" / "history"
CATS = list(io_corpus.STAGES) + [io_corpus.UNCLASSIFIED, io_corpus.TIE]


@pytest.fixture(scope="module")
def corpus():
    return io_corpus.load_corpus()


@pytest.fixture(scope="module")
def codebook():
    return io_corpus.load_stage_codebook()


@pytest.fixture(scope="module")
def coded(corpus, codebook):
    return history.coded_corpus_table(corpus, history.code_corpus(corpus, codebook))


def _raw(changes=None):
    """A minimal valid three-row corpus, with per-row changes {(row, column): value}."""
    changes = changes or {}
    df = pd.DataFrame({
        "id": ["A", "B", "C"], "date": ["1954-12-31", "1986", "2017-06"],
        "title_zh": ["管理条例", "社区服务", "社区治理"], "title_en": ["x", "y", "z"],
        "issuer": ["NPC"] * 3, "stage": ["management", "service", "governance"],
        "status": ["V", "S", "U"], "source": ["test"] * 3,
    })
    for (row, col), value in changes.items():
        df.loc[row, col] = value
    return df


# --- corpus and codebook --------------------------------------------------------------------

def test_corpus_is_complete_and_in_study_order(corpus):
    assert len(corpus) >= 30
    assert corpus["id"].is_unique
    assert set(corpus["status"]) <= set(io_corpus.STATUSES)
    # the hand-assigned stages follow the study's order along the dated sequence
    s, _ = history.order_corpus(corpus)
    rank = s["stage"].map({st: i for i, st in enumerate(io_corpus.STAGES)})
    assert rank.is_monotonic_increasing
    assert list(s["stage"].drop_duplicates()) == list(io_corpus.STAGES)


def test_corpus_document_numbers_are_only_the_verified_ones(corpus):
    # numbers the reference list gives; the commonly cited 2000 number is unverified: absent
    numbers = set(corpus.loc[corpus["doc_number"] != "", "doc_number"])
    assert numbers == {"Presidential Order No. 21", "国发〔2006〕14号", "中办发〔2010〕27号",
                       "国办发〔2021〕56号"}
    assert (corpus.loc[corpus["status"] == "U", "doc_number"] == "").all()
    row = corpus.set_index("id").loc["PM10"]
    assert (row["date"], row["precision"]) == ("1989-12-26", "day")


def test_parse_date_precisions():
    assert io_corpus.parse_date("1986")[2] == "year"
    start, end, prec = io_corpus.parse_date("2000-02")
    assert (start.isoformat(), end.isoformat(), prec) == ("2000-02-01", "2000-02-29", "month")
    assert io_corpus.parse_date("1954-12-31")[0] == io_corpus.parse_date("1954-12-31")[1]
    for bad in ("1954-13", "1954-02-30", "54-12-31", "1954/12/31", "Dec 1954", ""):
        with pytest.raises(ValueError):
            io_corpus.parse_date(bad)


def test_bad_date_raises_naming_row():
    with pytest.raises(ValueError, match=r"column 'date'.*row 2 \(id 'B'\).*'1986-13'"):
        io_corpus.validate_corpus(_raw({(1, "date"): "1986-13"}))


def test_unknown_stage_raises_naming_row_and_label():
    with pytest.raises(ValueError, match=r"column 'stage'.*\['welfare'\].*row 3 \(id 'C'\)"):
        io_corpus.validate_corpus(_raw({(2, "stage"): "welfare"}))


@pytest.mark.parametrize("column", ["title_zh", "title_en"])
def test_missing_title_raises_naming_row(column):
    with pytest.raises(ValueError, match=rf"column '{column}' is empty in row 1 \(id 'A'\)"):
        io_corpus.validate_corpus(_raw({(0, column): "  "}))


def test_missing_title_as_nan_and_other_checks():
    with pytest.raises(ValueError, match=r"'title_en' is empty in row 2"):
        io_corpus.validate_corpus(_raw({(1, "title_en"): np.nan}))
    with pytest.raises(ValueError, match=r"duplicated.*row 1 \(id 'A'\), row 2 \(id 'A'\)"):
        io_corpus.validate_corpus(_raw({(1, "id"): "A"}))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['source'\]"):
        io_corpus.validate_corpus(_raw().drop(columns="source"))
    with pytest.raises(ValueError, match=r"'status'.*row 1"):
        io_corpus.validate_corpus(_raw({(0, "status"): "verified"}))


def test_load_corpus_error_names_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    _raw({(2, "date"): "2017-6"}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"bad\.csv: column 'date'.*row 3 \(id 'C'\)"):
        io_corpus.load_corpus(path)


def test_codebook_structure(codebook):
    labels = io_corpus.stage_labels(codebook)
    assert list(labels["stage"]) == list(io_corpus.STAGES)
    assert list(labels["value"]) == list(io_corpus.VALUES)
    # every stage and value orientation has core terms in both languages
    core = codebook[codebook["tier"] == "core"]
    assert len(core.groupby(["dimension", "code", "lang"])) == 16
    bad = codebook.copy()
    bad.loc[0, "lang"] = "fr"
    with pytest.raises(ValueError, match=r"'lang'.*row\(s\) 1"):
        io_corpus.validate_codebook(bad)
    bad = pd.read_csv(io_corpus.STAGE_CODEBOOK, dtype=str, keep_default_na=False)
    bad.loc[2, "order"] = "first"
    with pytest.raises(ValueError, match=r"'order' must be an integer.*row\(s\) 3"):
        io_corpus.validate_codebook(bad)
    bad = pd.concat([codebook, codebook.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="listed twice"):
        io_corpus.validate_codebook(bad)
    bad = codebook.copy()
    bad.loc[bad["code"] == "service", "order"] = 5
    with pytest.raises(ValueError, match="stage codes in order"):
        io_corpus.validate_codebook(bad)


# --- dictionary coder -----------------------------------------------------------------------

def _codebook(rows):
    labels = {"stage": dict(zip(io_corpus.STAGES, range(1, 5))), "value": dict(zip(io_corpus.VALUES, range(1, 5)))}
    base = [(d, c, "core", "zh", "占位" + c) for d in labels for c in labels[d]]  # all codes
    recs = [{"dimension": d, "code": c, "order": labels[d][c], "label_en": c, "label_zh": c,
             "tier": t, "lang": lang, "term": term} for d, c, t, lang, term in base + rows]
    return io_corpus.validate_codebook(pd.DataFrame(recs))


def _docs(*rows):
    keys = ["title_zh", "summary_zh", "title_en", "summary_en"]
    df = pd.DataFrame([dict(zip(keys, r)) for r in rows])
    df.insert(0, "id", [f"D{i}" for i in range(len(rows))])
    return df


def test_coder_is_language_aware():
    cb = _codebook([("stage", "governance", "core", "zh", "治理"),
                    ("stage", "governance", "core", "en", "governance")])
    docs = _docs(("", "", "治理", "governance"),   # Chinese term in an English field
                 ("governance", "", "", ""),       # English term in a Chinese field
                 ("基层治理", "", "", ""))
    out = history.code_corpus(docs, cb)
    assert list(out["stage_coded"]) == ["governance", io_corpus.UNCLASSIFIED, "governance"]
    ev = history.match_terms(docs, cb)
    assert set(zip(ev["id"], ev["field"], ev["term"])) == {
        ("D0", "summary_en", "governance"), ("D2", "title_zh", "治理")}


def test_english_matching_whole_words_stems_and_case():
    cb = _codebook([("stage", "governance", "core", "en", "governance"),
                    ("stage", "service", "core", "en", "service*"),
                    ("stage", "management", "extended", "en", "household registration")])
    docs = _docs(("", "", "Government reform", ""),
                 ("", "", "", "Self-service and SERVICES; Governance."),
                 ("", "", "", "household  registration and registration"))
    ev = history.match_terms(docs, cb)
    assert ev[ev["id"] == "D0"].empty  # 'government' is not 'governance'
    d1 = ev[ev["id"] == "D1"].set_index("term")["count"]
    assert d1.to_dict() == {"governance": 1, "service*": 2}
    d2 = ev[ev["id"] == "D2"]
    assert d2["count"].tolist() == [1]


def test_longest_term_wins_without_double_counting():
    cb = _codebook([("value", "institutionalisation", "core", "zh", "制度"),
                    ("value", "institutionalisation", "core", "zh", "制度化"),
                    ("value", "residents_needs", "core", "zh", "需求")])
    ev = history.match_terms(_docs(("", "推进制度化，完善制度，回应需求", "", "")), cb)
    assert dict(zip(ev["term"], ev["count"])) == {"制度": 1, "制度化": 1, "需求": 1}
    out = history.code_corpus(_docs(("", "推进制度化，完善制度，回应需求", "", "")), cb)
    assert out.loc[0, "value_institutionalisation"] == pytest.approx(2 / 3)
    assert out.loc[0, "value_residents_needs"] == pytest.approx(1 / 3)
    assert out.loc[0, "value_dominant"] == "institutionalisation"


def test_coder_rules_ties_and_no_document_dropped():
    cb = _codebook([("stage", "service", "core", "zh", "服务"),
                    ("stage", "construction", "core", "zh", "建设"),
                    ("stage", "governance", "core", "zh", "治理")])
    docs = _docs(("社区服务", "加强建设", "", ""),        # 1-1, title decides: service
                 ("", "服务建设", "", ""),                 # 1-1, no title hit: tie
                 ("服务建设", "", "", ""),                 # 1-1 in the title too: tie
                 ("治理", "服务服务", "", ""),             # 2 beats 1: service
                 ("无关", "", "", ""),                     # nothing: unclassified
                 ("", "", "", ""))                         # empty text: unclassified, kept
    out = history.code_corpus(docs, cb)
    assert list(out["id"]) == list(docs["id"])
    assert list(out["stage_coded"]) == ["service", io_corpus.TIE, io_corpus.TIE, "service",
                                        io_corpus.UNCLASSIFIED, io_corpus.UNCLASSIFIED]
    assert list(out["rule"]) == ["title tie-break", "tie", "tie", "top score", "no match",
                                 "no match"]
    assert out.loc[3, "score_service"] == 2 and out.loc[3, "score_governance"] == 1
    assert out.loc[4, "value_dominant"] == "none"


def test_evidence_adds_up_to_scores(corpus, codebook):
    ev = history.match_terms(corpus, codebook)
    out = history.code_corpus(corpus, codebook)
    st = ev[ev["dimension"] == "stage"].pivot_table(index="id", columns="code", values="count",
                                                    aggfunc="sum", fill_value=0)
    st = st.reindex(index=corpus["id"], columns=list(io_corpus.STAGES), fill_value=0)
    got = out.set_index("id")[[f"score_{s}" for s in io_corpus.STAGES]]
    np.testing.assert_array_equal(got.to_numpy(), st.to_numpy())
    shares = out[[f"value_{v}" for v in io_corpus.VALUES]].sum(axis=1)
    assert set(np.round(shares, 12)) <= {0.0, 1.0}


def test_corpus_coding_examples(coded):
    c = coded.set_index("id")
    assert len(coded) == 31
    assert c.loc["PM05", "stage_coded"] == "management"
    assert "户口[title_zh]" in c.loc["PM05", "evidence_stage"]
    assert c.loc["PM22", "stage_coded"] == "governance"
    assert c.loc["PM22", "value_institutionalisation"] == 1.0
    assert c.loc["PM01", "stage_coded"] == io_corpus.UNCLASSIFIED
    assert c.loc["PM29", "stage_coded"] == io_corpus.TIE


# --- Cohen's kappa --------------------------------------------------------------------------

COHEN_1968 = np.array([[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]])
COHEN_WEIGHTS = np.array([[0, 1, 3], [1, 0, 6], [3, 6, 0]], dtype=float)  # disagreement
FCE_1969 = np.array([[106, 10, 4], [22, 28, 10], [2, 12, 6]], dtype=float)
FCE_WEIGHTS = np.array([[1, 0, 0.4444], [0, 1, 0.6667], [0.4444, 0.6667, 1]])


@pytest.fixture(scope="module")
def psych_ref():
    return pd.read_csv(REF / "kappa_psych.csv").set_index("case")


@pytest.fixture(scope="module")
def delta_ref():
    return pd.read_csv(REF / "kappa_delta.csv").set_index("case")


def test_kappa_published_cohen_1968():
    # Cohen (1968), Psychol. Bull. 70, 213-220: kappa .492 and, with the disagreement
    # weights (0, 1, 3; 1, 0, 6; 3, 6, 0), weighted kappa .348 (3 decimals published).
    k = agreement.kappa_from_table(COHEN_1968, n=200).iloc[0]
    kw = agreement.kappa_from_table(COHEN_1968, weights=1 - COHEN_WEIGHTS / 6, n=200).iloc[0]
    assert k["kappa"] == pytest.approx(0.492, abs=5e-4)
    assert kw["kappa"] == pytest.approx(0.348, abs=5e-4)
    assert k["p_observed"] == pytest.approx(0.70) and k["p_expected"] == pytest.approx(0.41)


@pytest.mark.parametrize("case, table", [("cohen1968", COHEN_1968), ("fce1969", FCE_1969)])
def test_kappa_matches_psych(psych_ref, case, table):
    # psych::cohen.kappa: Fleiss-Cohen-Everitt variance; R wrote 12 significant digits
    ref = psych_ref.loc[case]
    k = agreement.kappa_from_table(table, n=200).iloc[0]
    assert k["kappa"] == pytest.approx(ref["kappa"], rel=1e-10)
    assert k["se"] ** 2 == pytest.approx(ref["var_kappa"], rel=1e-9)
    assert k["ci_low"] == pytest.approx(ref["lower"], rel=1e-9)
    assert k["ci_high"] == pytest.approx(ref["upper"], rel=1e-9)


def test_weighted_kappa_matches_psych_estimate_and_delta_method(psych_ref, delta_ref):
    kw = agreement.kappa_from_table(FCE_1969, weights=FCE_WEIGHTS).iloc[0]
    assert kw["kappa"] == pytest.approx(psych_ref.loc["fce1969", "weighted_kappa"], rel=1e-10)
    # numDeriv's Richardson gradient is accurate to ~1e-10; allow 1e-7 relative
    assert kw["se"] ** 2 == pytest.approx(delta_ref.loc["fce1969", "var_weighted"], rel=1e-7)
    for case, w in (("cohen1968_unweighted", None),
                    ("cohen1968_cohen_weights", 1 - COHEN_WEIGHTS / 6),
                    ("cohen1968_quadratic", "quadratic")):
        k = agreement.kappa_from_table(COHEN_1968, weights=w, n=200).iloc[0]
        assert k["kappa"] == pytest.approx(delta_ref.loc[case, "weighted_kappa"], rel=1e-10)
        assert k["se"] ** 2 == pytest.approx(delta_ref.loc[case, "var_weighted"], rel=1e-7)


def test_weighted_kappa_invariant_to_rescaled_weights():
    # 1 - v/6 and 1 - v/9 describe the same disagreement weights: same kappa and same SE
    a = agreement.kappa_from_table(COHEN_1968, weights=1 - COHEN_WEIGHTS / 6, n=200).iloc[0]
    b = agreement.kappa_from_table(COHEN_1968, weights=1 - COHEN_WEIGHTS / 9, n=200).iloc[0]
    assert a["kappa"] == pytest.approx(b["kappa"], rel=1e-12)
    assert a["se"] == pytest.approx(b["se"], rel=1e-10)


def test_corpus_kappa_matches_psych_and_coding_unchanged(coded, psych_ref, delta_ref):
    ref_tables = pd.read_csv(REF / "corpus_tables.csv")
    subsets = {"corpus_all": coded, "corpus_vs": coded[coded["status"].isin(["V", "S"])]}
    for case, d in subsets.items():
        table = agreement.confusion_table(d["stage_hand"], d["stage_coded"], CATS)
        r = ref_tables[ref_tables["case"] == case].pivot(index="reference", columns="coded",
                                                          values="count")
        # the coding R saw is the current coding (else rerun kappa_reference.R)
        np.testing.assert_array_equal(table.to_numpy(), r.loc[CATS, CATS].to_numpy())
        k = agreement.cohen_kappa(d["stage_hand"], d["stage_coded"], CATS).iloc[0]
        assert k["n"] == psych_ref.loc[case, "n"]
        assert k["kappa"] == pytest.approx(psych_ref.loc[case, "kappa"], rel=1e-10)
        assert k["se"] ** 2 == pytest.approx(psych_ref.loc[case, "var_kappa"], rel=1e-9)
    cls = coded[coded["stage_coded"].isin(io_corpus.STAGES)]
    k = agreement.cohen_kappa(cls["stage_hand"], cls["stage_coded"], io_corpus.STAGES).iloc[0]
    assert k["kappa"] == pytest.approx(psych_ref.loc["corpus_classified", "kappa"], rel=1e-10)
    for kind in ("quadratic", "linear"):
        kw = agreement.cohen_kappa(cls["stage_hand"], cls["stage_coded"], io_corpus.STAGES, weights=kind).iloc[0]
        ref = delta_ref.loc[f"corpus_classified_{kind}"]
        assert kw["kappa"] == pytest.approx(ref["weighted_kappa"], rel=1e-10)
        assert kw["se"] ** 2 == pytest.approx(ref["var_weighted"], rel=1e-7)
    kq = agreement.cohen_kappa(cls["stage_hand"], cls["stage_coded"], io_corpus.STAGES, weights="quadratic")
    assert kq.loc[0, "kappa"] == pytest.approx(psych_ref.loc["corpus_classified",
                                                             "weighted_kappa"], rel=1e-10)


def test_kappa_edge_cases_and_errors():
    k = agreement.cohen_kappa(list("aabbc"), list("aabbc")).iloc[0]
    assert k["kappa"] == 1.0 and k["se"] == 0.0 and k["ci_high"] == 1.0
    # a 2x2 example by hand: p_o = .5, p_e = .5 -> kappa 0
    assert agreement.cohen_kappa(list("abab"), list("aabb")).loc[0, "kappa"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="differ in length"):
        agreement.cohen_kappa(["a"], ["a", "b"])
    with pytest.raises(ValueError, match=r"labels \['z'\] are not among"):
        agreement.cohen_kappa(["a", "b"], ["a", "z"], categories=["a", "b"])
    with pytest.raises(ValueError, match="undefined"):
        agreement.cohen_kappa(["a", "a"], ["a", "a"])
    with pytest.raises(ValueError, match="give the number of subjects"):
        agreement.kappa_from_table(COHEN_1968)


# --- segmentation ---------------------------------------------------------------------------

def _brute_force(cost, allowed):
    n, K = cost.shape
    positions = [a for a in range(1, n) if allowed[a]]
    sols = {cuts: segmentation.segmentation_loss(cost, cuts)
            for cuts in itertools.combinations(positions, K - 1)}
    best = min(sols.values())
    return best, sorted(c for c, v in sols.items() if abs(v - best) <= 1e-9)


def test_segmentation_recovers_known_cuts_without_noise():
    labels = [0] * 7 + [1] * 3 + [2] * 12 + [3] * 5
    seg = segmentation.segment_sequence(history.stage_cost(labels, [0, 1, 2, 3]))
    assert seg.cuts == (7, 10, 22) and seg.loss == 0 and seg.n_optimal == 1
    assert seg.cut_ranges == ((7, 7), (10, 10), (22, 22))
    np.testing.assert_array_equal(seg.assignment(len(labels)), labels)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_segmentation_recovers_known_cuts_with_noise(seed):
    rng = np.random.default_rng(seed)
    truth = (60, 110, 200)
    labels = np.repeat([0, 1, 2, 3], np.diff((0,) + truth + (260,)))
    noisy = labels.copy()
    flip = rng.random(len(labels)) < 0.15  # 15 % of labels replaced by another stage
    noisy[flip] = (labels[flip] + rng.integers(1, 4, flip.sum())) % 4
    seg = segmentation.segment_sequence(history.stage_cost(noisy, [0, 1, 2, 3]))
    assert np.abs(np.array(seg.cuts) - truth).max() <= 6
    # the true cuts can only be as good as the optimum
    assert seg.loss <= segmentation.segmentation_loss(history.stage_cost(noisy, [0, 1, 2, 3]), truth)
    for (lo, hi), c in zip(seg.cut_ranges, seg.cuts):
        assert lo <= c <= hi


@pytest.mark.parametrize("seed", range(12))
def test_segmentation_is_exact_against_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(5, 13))
    if seed % 2:  # integer 0-1 costs: many ties
        cost = history.stage_cost(rng.integers(0, 4, n), [0, 1, 2, 3])
    else:         # soft costs
        cost = rng.random((n, 4)).round(1)
    allowed = rng.random(n) < 0.8
    if sum(allowed[1:]) < 3:
        allowed[:] = True
    best, optima = _brute_force(cost, allowed)
    seg = segmentation.segment_sequence(cost, allowed)
    assert seg.loss == pytest.approx(best, abs=1e-9)
    assert seg.cuts == optima[0]  # lexicographically earliest optimum
    assert seg.n_optimal == len(optima)
    for k in range(3):
        assert seg.cut_ranges[k] == (min(o[k] for o in optima), max(o[k] for o in optima))
    assert all(allowed[c] for c in seg.cuts)


def test_segmentation_errors():
    with pytest.raises(ValueError, match="cannot split 3 elements into 4"):
        segmentation.segment_sequence(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="admissible"):
        segmentation.segment_sequence(np.zeros((6, 4)), allowed=[True, True, False, False, False, True])


def test_order_corpus_keeps_same_or_overlapping_dates_together():
    df = io_corpus.validate_corpus(_raw({(0, "date"): "2006", (1, "date"): "2006-04-09",
                                   (2, "date"): "2006-05"}))
    s, allowed = history.order_corpus(df)
    assert list(s["id"]) == ["A", "B", "C"]
    assert allowed.tolist() == [False, False, False]  # all inside the year 2006
    df = io_corpus.validate_corpus(_raw({(0, "date"): "1954-12-31", (1, "date"): "1954-12-31"}))
    assert history.order_corpus(df)[1].tolist() == [False, False, True]


def test_fit_periodisation_on_hand_stages_gives_study_boundaries(corpus):
    fit = history.fit_periodisation(corpus.assign(stage_coded=corpus["stage"]))
    assert fit["loss"].eq(0).all() and fit["n_optimal"].eq(1).all()
    got = list(zip(fit["after"], fit["before"]))
    assert got == [("1982-12-04", "1986"), ("1989-12-26", "1991"), ("2011-12", "2012-11")]


def test_compare_with_study_on_coded_corpus(corpus, coded):
    d = corpus.merge(coded[["id", "stage_coded"]], on="id")
    fit = history.fit_periodisation(d)
    cmp = history.compare_with_study(d, fit)
    # the fitted loss is optimal, so never above the study's boundaries' loss
    assert (cmp["fitted_loss"] <= cmp["study_loss"] + 1e-12).all()
    assert cmp["fitted_loss"].iloc[0] == fit["loss"].iloc[0]
    # loss = documents whose coded stage differs from the period's stage
    assert cmp["study_loss"].iloc[0] == (d["stage_coded"] != d["stage"]).sum()


def test_value_by_stage_counts(corpus, codebook, coded):
    ev = history.match_terms(corpus, codebook)
    tab = history.value_by_stage(coded, ev)
    assert list(tab.index) == list(io_corpus.STAGES) and list(tab.columns) == list(io_corpus.VALUES)
    assert tab.to_numpy().sum() == ev.loc[ev["dimension"] == "value", "count"].sum()
