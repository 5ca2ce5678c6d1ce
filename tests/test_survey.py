"""load_survey: recoding, and one clear error per kind of bad input."""

import hashlib
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import load_codebook
from analysis.io.survey import (
    SurveyDataError,
    SurveyWarning,
    load_survey,
    minimum_respondents,
)


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(paths.SURVEY, dtype=str, keep_default_na=False)


def write(df, tmp_path, name="survey.csv"):
    target = tmp_path / name
    df.to_csv(target, index=False)
    return target


def test_recoding_of_missing_codes_and_reverse_items(raw):
    df = load_survey()
    cb = load_codebook()
    # 9 ("don't know") becomes NaN, blanks too.
    for item in ("MS1", "PV3"):
        expected_missing = raw[item].isin(["", "9"])
        assert df[item].isna().to_numpy().tolist() == expected_missing.tolist()
    # Reverse-coded items are (min + max) - x; the others are unchanged.
    rev = cb.loc[cb["reverse"], "item"].tolist()
    assert rev == ["OM3", "CC3"]
    x = pd.to_numeric(raw["OM3"].replace({"": None, "9": None}))
    np.testing.assert_array_equal(df["OM3"].to_numpy(), (6 - x).to_numpy())
    y = pd.to_numeric(raw["MS2"].replace({"": None, "9": None}))
    np.testing.assert_array_equal(df["MS2"].to_numpy(), y.to_numpy())
    # one column per item, in codebook order, after the identifiers and respondent columns
    cols = df.columns.tolist()
    assert [c for c in cols if c in set(cb["item"])] == cb["item"].tolist()
    assert cols[cols.index(cb["item"].iloc[0]):] == cb["item"].tolist()


def test_never_writes_to_its_input(tmp_path):
    target = tmp_path / "survey.csv"
    shutil.copy(paths.SURVEY, target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    load_survey(target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["survey.csv"]


def test_xlsx_and_sav_read_like_csv(tmp_path, raw):
    pyreadstat = pytest.importorskip("pyreadstat")
    small = raw.iloc[:300]
    csv = load_survey(write(small, tmp_path))
    xlsx_path = tmp_path / "survey.xlsx"
    small.to_excel(xlsx_path, index=False)
    pd.testing.assert_frame_equal(load_survey(xlsx_path), csv, check_dtype=False)
    sav = small.copy()
    items = load_codebook()["item"].tolist()
    sav[items] = sav[items].replace("", np.nan).astype(float)
    sav["age"] = sav["age"].astype(float)
    sav["years_resident"] = sav["years_resident"].astype(float)
    sav_path = tmp_path / "survey.sav"
    pyreadstat.write_sav(sav, str(sav_path))
    got = load_survey(sav_path)
    pd.testing.assert_frame_equal(got[items], csv[items])
    assert got["respondent_id"].tolist() == csv["respondent_id"].tolist()


def test_missing_required_column(raw, tmp_path):
    path = write(raw.drop(columns=["CS2"]), tmp_path)
    with pytest.raises(SurveyDataError, match=r"survey\.csv: required column\(s\) missing: CS2"):
        load_survey(path)


def test_non_numeric_values_name_column_and_rows(raw, tmp_path):
    bad = raw.copy()
    bad.loc[[3, 10], "RA2"] = "agree"
    with pytest.raises(SurveyDataError, match=r"column 'RA2' has non-numeric values \(first: 'agree'\) in rows 5, 12"):
        load_survey(write(bad, tmp_path))


def test_values_outside_the_scale(raw, tmp_path):
    bad = raw.copy()
    bad.loc[7, "PV1"] = "6"
    with pytest.raises(SurveyDataError, match=r"column 'PV1' has values outside the scale 1-5 \(first: 6\) in rows 9"):
        load_survey(write(bad, tmp_path))


def test_duplicate_respondent_ids(raw, tmp_path):
    bad = raw.copy()
    bad.loc[20, "respondent_id"] = bad.loc[2, "respondent_id"]
    with pytest.raises(SurveyDataError, match=r"'respondent_id' has duplicate ids in rows 4, 22"):
        load_survey(write(bad, tmp_path))


def test_missing_community_ids(raw, tmp_path):
    bad = raw.copy()
    bad.loc[[0, 99], "community_id"] = ""
    with pytest.raises(SurveyDataError, match=r"'community_id' is empty in rows 2, 101"):
        load_survey(write(bad, tmp_path))


def test_zero_variance_item(raw, tmp_path):
    bad = raw.copy()
    bad["CC4"] = "3"
    with pytest.raises(SurveyDataError, match=r"column 'CC4' has zero variance"):
        load_survey(write(bad, tmp_path))


def test_too_few_respondents(raw, tmp_path):
    floor = minimum_respondents(load_codebook())
    assert floor == 19 + 25 + 21 + 25
    with pytest.raises(SurveyDataError, match=rf"{floor - 1} respondents, fewer than the {floor}"):
        load_survey(write(raw.iloc[: floor - 1], tmp_path))


@pytest.mark.parametrize("column", ["name", "phone", "id_card", "姓名", "mobile_number"])
def test_identifier_columns_are_refused(raw, tmp_path, column):
    bad = raw.copy()
    bad[column] = "x"
    with pytest.raises(SurveyDataError, match=rf"column '{column}' looks like a direct identifier"):
        load_survey(write(bad, tmp_path))


def test_identifier_values_are_refused_whatever_the_column_name(raw, tmp_path):
    bad = raw.copy()
    bad["note"] = ""
    bad.loc[5, "note"] = "13812345678"
    bad.loc[8, "note"] = "11010519491231002X"
    with pytest.raises(SurveyDataError, match=r"column 'note' holds values that look like phone or ID-card numbers in rows 7, 10"):
        load_survey(write(bad, tmp_path))


def test_unknown_columns_are_kept_and_reported(raw, tmp_path):
    extra = raw.copy()
    extra["interviewer"] = "A"
    with pytest.warns(SurveyWarning, match="interviewer"):
        df = load_survey(write(extra, tmp_path))
    assert df.columns[-1] == "interviewer"  # kept after the codebook's items
    assert (df["interviewer"] == "A").all()


def test_shipped_survey_loads_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = load_survey()
    assert len(df) == pd.read_csv(paths.SURVEY).shape[0]
