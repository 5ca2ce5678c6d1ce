"""Problem catalogue, per-community improvement paths and the findings table.

The per-community logic is checked on a small hand-made case whose answer is worked out in the
comments; the shipped catalogue is checked against the shipped codebook (every element item
maps to exactly one problem of its own element, both languages filled in).
"""

import pandas as pd
import pytest

from analysis.io.codebook import construct_items, elements, load_codebook
from analysis.io.companions import check_catalogue, load_catalogue
from analysis.study.findings import community_paths, findings_table, problem_of_item

# the study names three problems and three improvement paths for each element (abstract)
STUDY_PROBLEMS = {"MS": 3, "RA": 3, "CS": 3, "OM": 3, "CC": 3}
STUDY_STRATEGIES = {
    "MS": "Reconstruct the relationship between the subjects of community governance",
    "RA": "Integrate community governance resources in many directions",
    "CS": "Build the consensus-shaping mechanism",
    "OM": "Innovate the means and methods of organisation and management",
    "CC": "Coordinate and balance the conflict of community values"}
# key words of each of the study's fifteen paths, and of the problem RA-3 the old catalogue lacked
STUDY_PATH_WORDS = {
    "MS": ["residents' committee", "integration", "active"],
    "RA": ["policies", "internal", "external"],
    "CS": ["transmission", "rule", "consultation"],
    "OM": ["rational administrative", "participatory", "information"],
    "CC": ["fair cooperation", "public value", "party organisation"]}


def test_shipped_catalogue_covers_the_codebook():
    cb = load_codebook()
    cat = load_catalogue(codebook=cb)
    assert cat.groupby("construct").size().to_dict() == STUDY_PROBLEMS
    for c, strategy in STUDY_STRATEGIES.items():
        rows = cat[cat.construct == c]
        assert set(rows["strategy_en"]) == {strategy}
        assert rows["path_en"].nunique() == 3 and rows["path_id"].nunique() == 3
        for word in STUDY_PATH_WORDS[c]:
            assert rows["path_en"].str.contains(word, regex=False).sum() == 1, (c, word)
    assert cat["problem_en"].str.contains("form and content of resources").sum() == 1
    # the dimension column names codebook dimensions of the problem's own construct
    dims = cb.groupby("construct")["dimension_en"].apply(set)
    for c, d in zip(cat["construct"], cat["dimension"]):
        assert set(d.split(";")) <= dims[c]
    mapped = problem_of_item(cat)
    assert sorted(mapped.index) == sorted(i for e in elements(cb) for i in construct_items(cb)[e])
    # the Chinese columns really hold Chinese
    for col in ("problem_zh", "strategy_zh", "path_zh", "action_zh"):
        assert cat[col].str.contains(r"[\u4e00-\u9fff]").all()


def tiny_codebook():
    rows = [{"item": f"{c}{k}", "construct": c, "role": "element" if c != "PV" else "outcome",
             "scale_min": 1, "scale_max": 5} for c in ("AA", "BB", "PV") for k in (1, 2)]
    return pd.DataFrame(rows)


def tiny_catalogue():
    return pd.DataFrame({
        "problem_id": ["A-1", "A-2", "B-1"], "construct": ["AA", "AA", "BB"],
        "problem_en": ["a one", "a two", "b one"], "problem_zh": ["甲一", "甲二", "乙一"],
        "items": ["AA1", "AA2", "BB1;BB2"], "path_id": ["P1", "P1", "P2"],
        "path_en": ["path a", "path a", "path b"], "path_zh": ["路径甲", "路径甲", "路径乙"],
        "action_en": ["do a1", "do a2", "do b"], "action_zh": ["做甲一", "做甲二", "做乙"]})


def test_catalogue_errors_name_the_problem():
    cb = tiny_codebook()
    cat = tiny_catalogue()
    check_catalogue(cat, cb)
    bad = cat.copy()
    bad.loc[2, "items"] = "BB1"
    with pytest.raises(ValueError, match=r"BB2.*not mapped"):
        check_catalogue(bad, cb)
    bad = cat.copy()
    bad.loc[1, "items"] = "BB2"
    with pytest.raises(ValueError, match=r"'BB2', not an item of AA"):
        check_catalogue(bad, cb)
    bad = cat.copy()
    bad.loc[0, "action_zh"] = " "
    with pytest.raises(ValueError, match=r"'action_zh' is empty in rows \[0\]"):
        check_catalogue(bad, cb)


@pytest.fixture
def case():
    ids = ["c1", "c2", "c3", "c4"]
    ctype = pd.Series(["x", "x", "y", "y"], index=ids)
    # element scores; type x means: AA 60, BB 60; type y: AA 70, BB 50
    elem = pd.DataFrame({"AA": [50.0, 70.0, 70.0, 70.0], "BB": [55.0, 65.0, 40.0, 60.0]}, index=ids)
    items = pd.DataFrame({"AA1": [40.0, 70.0, 70.0, 70.0], "AA2": [60.0, 70.0, 70.0, 70.0],
                          "BB1": [55.0, 65.0, 30.0, 60.0], "BB2": [55.0, 65.0, 50.0, 60.0]}, index=ids)
    importance = pd.Series({"AA": 0.2, "BB": 0.5})
    return items, elem, ctype, importance


def test_community_paths_without_dea(case):
    items, elem, ctype, imp = case
    out = community_paths(items, elem, ctype, imp, tiny_catalogue(), tiny_codebook()).set_index("community_id")
    # c1: shortfalls AA 10, BB 5 -> weighted 2.0 vs 2.5: BB first despite the larger AA gap
    assert out.loc["c1", "weakest_vs_type"] == "AA"
    assert out.loc["c1", "gap_vs_type"] == pytest.approx(-10.0)
    assert out.loc["c1", "focus"] == "BB"
    assert out.loc["c1", "benchmark"] == pytest.approx(60.0)
    assert out.loc["c1", "items"] == "BB1;BB2" and out.loc["c1", "action_en"] == "do b"
    # c3: BB 10 below the y mean; item BB1 is 15 below, BB2 5 below -> both named, BB1 first
    assert out.loc["c3", "focus"] == "BB" and out.loc["c3", "items"] == "BB1;BB2"
    # c2 is above its type on both: the focus is the smallest weighted surplus (AA: -10*.2 = -2
    # versus BB: -5*.5 = -2.5), no shortfall, and only its lowest item relative to type is named
    # (AA2: 70 vs 65, AA1: 70 vs 55)
    assert out.loc["c2", "focus"] == "AA" and not out.loc["c2", "shortfall"]
    assert out.loc["c2", "items"] == "AA2" and out.loc["c2", "problem_id"] == "A-2"
    assert out.loc["c1", "shortfall"] and out.loc["c3", "shortfall"]
    assert out.loc["c2", "weakest_vs_peers"] == ""
    assert "efficiency" not in out.columns


def test_community_paths_with_dea_peers(case):
    items, elem, ctype, imp = case
    eff = pd.DataFrame({"unit": ["c1", "c2", "c3", "c4"], "efficiency": [0.5, 1.0, 0.8, 1.0],
                        "peers": ["c2;c4", "c2", "c4", "c4"]})
    out = community_paths(items, elem, ctype, imp, tiny_catalogue(), tiny_codebook(),
                          efficiency=eff).set_index("community_id")
    # c1's peers c2, c4 average AA 70, BB 62.5: gaps -20, -7.5; benchmark max(type, peers)
    assert out.loc["c1", "gap_vs_peers"] == pytest.approx(-20.0)
    assert out.loc["c1", "weakest_vs_peers"] == "AA"
    # weighted shortfalls: AA 20*.2 = 4, BB 7.5*.5 = 3.75 -> AA; items AA1 (-10 vs type) first
    assert out.loc["c1", "focus"] == "AA" and out.loc["c1", "benchmark"] == pytest.approx(70.0)
    assert out.loc["c1", "items"] == "AA1;AA2"
    assert out.loc["c1", "problem_id"] == "A-1;A-2"
    assert out.loc["c1", "action_zh"] == "做甲一 | 做甲二"
    assert out.loc["c2", "gap_vs_peers"] != out.loc["c2", "gap_vs_peers"]  # NaN: its own peer


def test_findings_table_ranks_by_available_gain(case):
    items, elem, ctype, imp = case
    ipma_tab = pd.DataFrame({
        "group": ["all"] * 6, "level": ["construct"] * 2 + ["item"] * 4,
        "construct": ["AA", "BB", "AA", "AA", "BB", "BB"], "item": ["", "", "AA1", "AA2", "BB1", "BB2"],
        "importance": [0.2, 0.5, 0.1, 0.1, 0.3, 0.2], "performance": [60, 55, 50, 70, 40, 70],
        "weight": [1, 1, 0.5, 0.5, 0.6, 0.4],
        "quadrant": ["low priority", "concentrate here", "low priority", "possible overkill",
                     "concentrate here", "keep up the good work"]})
    paths = community_paths(items, elem, ctype, imp, tiny_catalogue(), tiny_codebook())
    f = findings_table(ipma_tab, paths, tiny_catalogue())
    # importance is the element's (AA .2, BB .5): B-1: performance .6*40+.4*70 = 52 -> .5*48 = 24;
    # .2*50 = 10; A-2: .2*30 = 6
    assert f["problem_id"].tolist() == ["B-1", "A-1", "A-2"]
    assert f["priority"].tolist() == pytest.approx([24.0, 10.0, 6.0])
    assert f.loc[0, "concentrate_in"] == "all" and bool(f.loc[0, "diagnosed"])
    # c1 and c3 fall short on BB; c2 and c4 have no shortfall and are not counted
    assert f.set_index("problem_id")["n_communities"].to_dict() == {"B-1": 2, "A-1": 0, "A-2": 0}
    assert not f.set_index("problem_id").loc["A-2", "diagnosed"]
