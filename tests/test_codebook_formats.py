"""Codebooks for any questionnaire: construct codes, scales of 3 to 11 points, labels, sources.

Each bad codebook must be refused with a message naming the file, the column and the first
offending spreadsheet rows (header = row 1); each good one must load with the scale, labels
and sources it declares.
"""

import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import (
    CodebookError,
    construct_items,
    load_codebook,
    outcome,
    questionnaire_markdown,
    source_columns,
    value_labels,
)
from analysis.io.paths import survey_name


def shipped():
    return pd.read_csv(paths.CODEBOOK, dtype=str, keep_default_na=False)


def write(df, tmp_path, name="codebook.csv", **kw):
    p = tmp_path / name
    if name.endswith(".xlsx"):
        df.to_excel(p, index=False)
    else:
        df.to_csv(p, index=False, **kw)
    return p


def mixed_scales():
    """Other construct codes (A: 3 items, 3-point; B: 4 items, 11-point 0-10; Y: 3 items, 4-point)."""
    d = shipped().iloc[:10].copy()
    d["item"] = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "Y1", "Y2", "Y3"]
    d["construct"] = ["A"] * 3 + ["B"] * 4 + ["Y"] * 3
    d["role"] = ["element"] * 7 + ["outcome"] * 3
    d["scale_min"] = ["1"] * 3 + ["０"] * 4 + ["1"] * 3          # full-width zero
    d["scale_max"] = ["3"] * 3 + ["１０"] * 4 + ["4"] * 3
    d["missing_codes"] = ["9"] * 3 + ["99;-1"] * 4 + ["-1"] * 3
    d["reverse"] = ["false", "true", "false"] + ["false"] * 7
    d["value_labels"] = ["1=不同意;2=一般;3=同意"] * 3 + [""] * 4 + [
        "1=很不满意；2=不满意；3=满意；4=很满意；-1=不清楚"] * 3
    d["source_column"] = ["３、", "4", "Q5", "6", "7", "8", "9", "10(甲)", "10(乙)", "10(丙)"]
    return d


def test_mixed_scales_labels_and_sources_load(tmp_path):
    cb = load_codebook(write(mixed_scales(), tmp_path))
    assert construct_items(cb) == {"A": ["A1", "A2", "A3"], "B": ["B1", "B2", "B3", "B4"],
                                   "Y": ["Y1", "Y2", "Y3"]}
    assert outcome(cb) == "Y"
    assert cb["scale_min"].tolist() == [1] * 3 + [0] * 4 + [1] * 3
    assert cb["scale_max"].tolist() == [3] * 3 + [10] * 4 + [4] * 3
    assert value_labels(cb)["Y2"] == {"很不满意": 1, "不满意": 2, "满意": 3, "很满意": 4, "不清楚": -1}
    assert value_labels(cb)["B1"] == {}
    assert source_columns(cb)["A1"] == "3、" and source_columns(cb)["Y3"] == "10(丙)"
    text = questionnaire_markdown(cb)
    assert "| item | statement | 陈述 | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |" in text
    assert "| item | statement | 陈述 | 1 不同意 | 2 一般 | 3 同意 |" in text


def test_gbk_and_xlsx_codebooks_read_like_utf8(tmp_path):
    utf8 = load_codebook(write(mixed_scales(), tmp_path))
    gbk = load_codebook(write(mixed_scales(), tmp_path, "codebook-gbk.csv", encoding="gbk"))
    xlsx = load_codebook(write(mixed_scales(), tmp_path, "codebook.xlsx"))
    pd.testing.assert_frame_equal(gbk, utf8)
    pd.testing.assert_frame_equal(xlsx, utf8)


def edit(column, rows, value):
    def f(d):
        d = d.copy()
        d.loc[rows, column] = value
        return d
    return f


@pytest.mark.parametrize("change, message", [
    # a construct with fewer than three items: rows of the construct named
    (lambda d: d[~d["item"].isin(["B3", "B4"])],
     r"construct\(s\) B \(2 items\) have fewer than 3 items; .*\(column 'construct', rows 5, 6\)"),
    # a 2-point scale (1-2) and a 12-point scale (0-11)
    (edit("scale_max", [0, 1, 2], "2"),
     r"columns 'scale_min', 'scale_max': a rating scale needs 3 to 11 points, but rows 2, 3, 4 "
     r"have 2 \(first: item A1, 1-2\)"),
    (edit("scale_max", [3, 4, 5, 6], "11"),
     r"a rating scale needs 3 to 11 points, but rows 5, 6, 7, 8 have 12 \(first: item B1, 0-11\)"),
    (edit("scale_min", [8], "4"), r"columns 'scale_min', 'scale_max': scale_min must be below "
                                  r"scale_max, rows 10"),
    (edit("scale_min", [8], "low"), r"column 'scale_min' must be a whole number, rows 10"),
    (edit("missing_codes", [4], "99;n/a"),
     r"column 'missing_codes' must hold numbers separated by ';' \(first: 'n/a'\), rows 6"),
    (edit("missing_codes", [3, 5], "9"),
     r"column 'missing_codes': code 9 lies on the scale 0-10 of item B1 \(rows 5, 7\)"),
    (edit("value_labels", [1], "1=不同意;2=一般;5=同意"),
     r"column 'value_labels', row 3 \(item A2\): code 5 is neither on the scale 1-3 nor a missing code"),
    (edit("value_labels", [2], "1=不同意;2=不同意"),
     r"column 'value_labels', row 4 \(item A3\): label '不同意' is given twice"),
    (edit("value_labels", [2], "1:不同意"),
     r"column 'value_labels', row 4 \(item A3\): '1:不同意' is not of the form code=label"),
    (edit("source_column", [5], "6"),
     r"column 'source_column' names the same export column for several rows, rows 5, 7"),
])
def test_bad_codebooks_name_file_column_and_rows(tmp_path, change, message):
    path = write(change(mixed_scales()), tmp_path)
    with pytest.raises(CodebookError, match=rf"codebook\.csv: .*{message}"):
        load_codebook(path)


@pytest.mark.parametrize("lo, hi", [(1, 3), (0, 10), (1, 11), (-3, 3)])
def test_scales_of_three_to_eleven_points_are_accepted(tmp_path, lo, hi):
    d = mixed_scales().assign(scale_min=str(lo), scale_max=str(hi), value_labels="",
                              missing_codes="99")
    cb = load_codebook(write(d, tmp_path))
    assert set(cb["scale_max"] - cb["scale_min"] + 1) == {hi - lo + 1}


@pytest.mark.parametrize("given, name", [
    ("data/raw/private/my survey.xlsx", "my-survey"),
    ("/x/问卷星导出（第２批）.CSV", "问卷星导出-第2批"),
    ("a/b/../../etc.passwd.sav", "etc-passwd"),
    ("...sav", "survey"),
])
def test_survey_name_is_a_safe_folder_name(given, name):
    assert survey_name(given) == name
