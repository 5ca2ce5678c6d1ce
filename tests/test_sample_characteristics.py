"""The sample-characteristics table, for our survey and for surveys that differ from it.

Counts are integers and must match exactly; means and SDs are compared with numpy's on the
same values to 1e-12 (they are the same arithmetic, up to summation order).
"""

import numpy as np
import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import load_codebook
from analysis.io.outputs import write_table
from analysis.io.survey import SurveyDataError, SurveyWarning, load_survey
from analysis.study.describe import (
    DEMOGRAPHICS,
    characteristics_display,
    sample_characteristics,
    sample_sentence,
)


@pytest.fixture(scope="module")
def raw():
    """The first 200 rows of the shipped survey file, as text (enough to pass load_survey)."""
    return pd.read_csv(paths.SURVEY, dtype=str, keep_default_na=False).head(200)


def _load(raw_df, tmp_path, name="survey.csv"):
    path = tmp_path / name
    raw_df.to_csv(path, index=False)
    return load_survey(path)


def _rows(table, group, variable):
    return table[(table["group"] == group) & (table["variable"] == variable)]


def test_shipped_survey_matches_direct_counts(survey):
    t = sample_characteristics(survey)
    types = sorted(survey["community_type"].unique())
    assert list(dict.fromkeys(t["group"])) == ["all"] + types
    assert list(dict.fromkeys(t["variable"])) == ["respondents", *DEMOGRAPHICS]
    for g in ["all"] + types:
        sub = survey if g == "all" else survey[survey["community_type"] == g]
        assert _rows(t, g, "respondents")["n"].item() == len(sub)
        for var in ("gender", "tenure"):
            r = _rows(t, g, var).set_index("level")
            assert r["n"].astype(int).to_dict() == sub[var].value_counts().to_dict()
            assert r["share"].sum() == pytest.approx(1.0, abs=1e-12)
        for var in ("age", "years_resident"):
            r = _rows(t, g, var).iloc[0]
            x = sub[var].to_numpy(dtype=float)
            assert r["n"] == len(x) and r["n_missing"] == 0
            assert r["mean"] == pytest.approx(x.mean(), rel=1e-12)
            assert r["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    # categories in overall-frequency order, the same in every group
    overall = _rows(t, "all", "tenure")
    assert overall["n"].is_monotonic_decreasing
    assert all(_rows(t, g, "tenure")["level"].tolist() == overall["level"].tolist() for g in types)
    # group sizes add up to the sample
    assert t[(t["variable"] == "respondents") & (t["group"] != "all")]["n"].sum() == len(survey)


def test_sentence_is_read_from_the_table(survey):
    t = sample_characteristics(survey)
    text = sample_sentence(t)
    age = _rows(t, "all", "age").iloc[0]
    assert text.startswith(f"The sample has {len(survey):,} respondents in 4 groups")
    assert f"mean {age['mean']:.1f} (SD {age['sd']:.1f})" in text
    female = _rows(t, "all", "gender").set_index("level").loc["female", "share"]
    assert f"female {100 * female:.1f}%" in text
    oldest = t[(t["variable"] == "age") & (t["group"] != "all")].sort_values("mean").iloc[-1]
    assert f"to {oldest['mean']:.1f} ({oldest['group']})" in text


def test_survey_without_demographics(raw, tmp_path):
    s = _load(raw.drop(columns=list(DEMOGRAPHICS)), tmp_path)
    t = sample_characteristics(s)
    assert set(t["variable"]) == {"respondents"}
    assert t.set_index("group")["n"].to_dict() == {
        "all": 200, **s["community_type"].value_counts().to_dict()}
    assert "no respondent characteristics" in sample_sentence(t)
    shown = characteristics_display(t)
    assert shown.index.tolist() == [("respondents", "n")]


def test_only_age_with_missing_values_and_no_type_column(raw, tmp_path):
    r = raw.drop(columns=["gender", "years_resident", "tenure", "community_type"]).copy()
    r.loc[[3, 10, 11], "age"] = ""
    s = _load(r, tmp_path)
    t = sample_characteristics(s)
    assert t["group"].unique().tolist() == ["all"]
    age = _rows(t, "all", "age").iloc[0]
    x = pd.to_numeric(raw["age"]).drop([3, 10, 11]).to_numpy(dtype=float)
    assert (age["n"], age["n_missing"]) == (197, 3)
    assert age["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert age["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    text = sample_sentence(t)
    assert "groups" not in text and "3 not answered" in text
    assert characteristics_display(t).loc[("age", "(not answered)"), "all"] == "3"


def test_chinese_labels_and_an_extra_demographic(raw, tmp_path):
    r = raw.copy()
    r["gender"] = r["gender"].map({"female": "女", "male": "男"})
    r.loc[5, "gender"] = ""
    rng = np.random.default_rng(19)
    r["学历"] = rng.choice(["初中及以下", "高中", "大学及以上"], size=len(r))
    with pytest.warns(SurveyWarning, match="学历"):
        s = _load(r, tmp_path, "问卷.csv")
    t = sample_characteristics(s, codebook=load_codebook())
    assert list(dict.fromkeys(t["variable"])) == ["respondents", *DEMOGRAPHICS, "学历"]
    g = _rows(t, "all", "gender").set_index("level")
    assert g["n"].to_dict() == {
        lv: int((r["gender"] == lv).sum()) for lv in g.index}
    assert set(g.index) == {"女", "男"} and g["n_missing"].iloc[0] == 1
    assert g["share"].sum() == pytest.approx(1.0, abs=1e-12)
    edu = _rows(t, "all", "学历").set_index("level")["n"]
    assert edu.to_dict() == pd.Series(r["学历"]).value_counts().to_dict()
    assert "**学历**" in sample_sentence(t)
    csv, _ = write_table(t, "sample-characteristics", directory=tmp_path)
    back = pd.read_csv(csv, encoding="utf-8")
    assert back.loc[back["variable"] == "gender", "level"].isin(["女", "男"]).all()
    assert back["n"].sum() == t["n"].sum()


def test_categories_from_a_categorical_dtype_and_numeric_codes():
    s = pd.DataFrame({
        "community_type": ["a", "a", "b", "b", "b"],
        "education": pd.Categorical(["low", "low", "high", None, "low"],
                                    categories=["low", "mid", "high"], ordered=True),
        "income_code": [1, 2, 2, 3, np.nan]})
    t = sample_characteristics(s, columns=["education", "income_code"],
                               categorical=["income_code"])
    edu = _rows(t, "a", "education")
    assert edu["level"].tolist() == ["low", "mid", "high"]   # the dtype's order, zeros kept
    assert edu["n"].tolist() == [2, 0, 0]
    b = _rows(t, "b", "education")
    assert b["n"].tolist() == [1, 0, 1] and b["n_missing"].iloc[0] == 1
    inc = _rows(t, "all", "income_code").set_index("level")
    assert inc["n"].to_dict() == {"2": 2, "1": 1, "3": 1}   # codes read as 2.0 label "2"
    assert inc["n_missing"].iloc[0] == 1
    # without `categorical`, codes are numbers
    num = _rows(sample_characteristics(s, columns=["income_code"]), "all", "income_code")
    assert num["type"].item() == "numeric" and num["mean"].item() == pytest.approx(2.0)


def test_free_text_and_bad_requests():
    s = pd.DataFrame({"age": [20, 30, 40, 50], "comment": ["a", "b", "c", "d"]})
    cb = load_codebook()
    with pytest.warns(SurveyWarning, match="'comment' has 4 distinct values"):
        t = sample_characteristics(s, max_levels=3, codebook=cb)
    assert "comment" not in set(t["variable"])
    # with few values the column the codebook does not describe is tabulated
    short = sample_characteristics(s.assign(comment=["a", "b", "a", "b"]), codebook=cb)
    assert _rows(short, "all", "comment")["n"].tolist() == [2, 2]
    # without the codebook only the known demographics are described
    assert set(sample_characteristics(s)["variable"]) == {"respondents", "age"}
    with pytest.raises(SurveyDataError, match="'comment' has 4 distinct values"):
        sample_characteristics(s, columns=["comment"], max_levels=3)
    with pytest.raises(SurveyDataError, match="not in the survey: income"):
        sample_characteristics(s, columns=["age", "income"])
    with pytest.raises(SurveyDataError, match="'community_type' has the value 'all'"):
        sample_characteristics(s.assign(community_type=["a", "all", "b", "a"]))


def test_respondents_without_a_type_count_overall_only():
    s = pd.DataFrame({"community_type": ["a", "", None, "b"], "age": [20.0, 30.0, 40.0, 50.0]})
    t = sample_characteristics(s)
    sizes = t[t["variable"] == "respondents"].set_index("group")["n"].to_dict()
    assert sizes == {"all": 4, "a": 1, "b": 1}
    assert _rows(t, "all", "age")["mean"].item() == pytest.approx(35.0)


def test_a_characteristic_nobody_answered():
    s = pd.DataFrame({"tenure": ["", "", ""], "age": [np.nan, np.nan, np.nan]})
    t = sample_characteristics(s)
    assert _rows(t, "all", "tenure")[["n", "n_missing"]].values.tolist() == [[0, 3]]
    assert _rows(t, "all", "age")[["n", "n_missing"]].values.tolist() == [[0, 3]]
    text = sample_sentence(t)
    assert "**tenure**: no answers, 3 not answered" in text
    assert "**age**: no answers, 3 not answered" in text
