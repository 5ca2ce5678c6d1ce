"""Survey-platform exports (Wenjuanxing, Tencent Questionnaire, SPSS) load like a clean CSV.

Every export is generated here from one table of answer codes (60 respondents, seeded), for a
questionnaire unlike the shipped one: constructs TR (3 items, 7-point, text labels), SV
(4 items, 4-point, text labels) and EN (5 items, 10-point, numbers), missing codes 99 and -1,
Chinese community types, full-width digits. The reference is the recoding computed directly
from that table ((min + max) - x for reverse items, NaN for missing codes and skips); each
export must give exactly that frame, and so must a hand-made clean CSV. Equality is exact
(``assert_frame_equal`` with default tolerances on small integers): the loader only maps
labels to codes and subtracts integers, so any difference is a bug, not rounding.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.io.codebook import CodebookError, load_codebook, survey_columns
from analysis.io.platforms import normalise_frame, normalise_text, read_table
from analysis.io.survey import SurveyDataError, SurveyWarning, export_layout, load_survey

N = 60
SEED = 20261202
TYPES = ["老旧小区", "单位社区", "商品房小区", "安置社区"]
TR_LABELS = ["非常不同意", "不同意", "有点不同意", "一般", "有点同意", "同意", "非常同意"]
SV_LABELS = ["很不满意", "不满意", "满意", "很满意"]
# item, construct, role, scale, reverse, missing codes, source_column, question text
ITEMS = [
    ("TR1", "TR", "element", (1, 7), False, "99;-1", "5", "邻里之间相互信任"),
    ("TR2", "TR", "element", (1, 7), True, "99;-1", "6、", "居委会办事拖拉"),
    ("TR3", "TR", "element", (1, 7), False, "99;-1", "第7题", "社区干部值得信赖"),
    ("SV1", "SV", "element", (1, 4), False, "-1", "Q8", "社区服务方便"),
    ("SV2", "SV", "element", (1, 4), False, "-1", "9", "物业服务及时"),
    ("SV3", "SV", "element", (1, 4), False, "-1", "10", "社区环境整洁"),
    ("SV4", "SV", "element", (1, 4), False, "-1", "11", "矛盾调解公正"),
    ("EN1", "EN", "outcome", (1, 10), False, "99;-1", "12", "社区治理整体成效"),
    ("EN2", "EN", "outcome", (1, 10), False, "99;-1", "13", "居民诉求得到回应"),
    ("EN3", "EN", "outcome", (1, 10), True, "99;-1", "14", "治理流于形式"),
    ("EN4", "EN", "outcome", (1, 10), False, "99;-1", "15", "公共服务质量"),
    ("EN5", "EN", "outcome", (1, 10), False, "99;-1", "16", "居民对社区的信任"),
]
TR_VL = ";".join(f"{i + 1}={t}" for i, t in enumerate(TR_LABELS)) + ";99=不清楚"
SV_VL = ";".join(f"{i + 1}={t}" for i, t in enumerate(SV_LABELS))
FULL = str.maketrans("0123456789C", "０１２３４５６７８９Ｃ")


def codebook_frame(with_sources=True):
    rows = []
    for item, c, role, (lo, hi), rev, miss, src, text in ITEMS:
        rows.append(dict(
            item=item, construct=c, construct_en={"TR": "Trust", "SV": "Service",
                                                  "EN": "Effectiveness"}[c],
            construct_zh={"TR": "信任", "SV": "服务", "EN": "成效"}[c], role=role,
            wording_en=f"statement {item}", wording_zh=text, scale_min=str(lo),
            scale_max=str(hi), reverse=str(rev).lower(), missing_codes=miss,
            source_column=src if with_sources else "",
            value_labels={"TR": TR_VL, "SV": SV_VL, "EN": ""}[c]))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def answers():
    """The answer codes as given (before recoding), with skips as -1 and 'don't know' as 99."""
    rng = np.random.default_rng(SEED)
    df = pd.DataFrame({
        "respondent_id": [str(i + 1) for i in range(N)],
        "community_id": [f"C{1 + i % 6:02d}" for i in range(N)],
        "community_type": [TYPES[(i % 6) % 4] for i in range(N)],
        "gender": rng.choice(["男", "女"], N),
        "age": rng.integers(18, 90, N),
        "submitted_at": pd.Timestamp("2026-11-03 09:00:00")
        + pd.to_timedelta(rng.integers(0, 20 * 86400, N), unit="s"),
        "duration_seconds": rng.integers(60, 1500, N),
    })
    for item, _, _, (lo, hi), _, miss, _, _ in ITEMS:
        x = rng.integers(lo, hi + 1, N)
        codes = [int(c) for c in miss.split(";")]
        holes = rng.random(N) < 0.08
        x = np.where(holes, rng.choice(codes, N), x)
        df[item] = x
    return df


@pytest.fixture(scope="module")
def expected(answers):
    """The recoded frame, computed here from the codes (not by the loader)."""
    out = answers[["respondent_id", "community_id", "community_type", "gender"]].copy()
    out["age"] = answers["age"].astype("int64")
    out["submitted_at"] = answers["submitted_at"].astype("datetime64[s]")
    out["duration_seconds"] = answers["duration_seconds"].astype(float)
    for item, _, _, (lo, hi), rev, miss, _, _ in ITEMS:
        x = answers[item].astype(float).where(~answers[item].isin([99, -1]))
        out[item] = (lo + hi) - x if rev else x
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("platforms")


@pytest.fixture(scope="module")
def codebook(folder):
    path = folder / "codebook.csv"
    codebook_frame().to_csv(path, index=False)
    return load_codebook(path)


def wjx_headers():
    return {
        "community_id": "1、您所在的社区：", "community_type": "2、您所在社区的类型：",
        "gender": "3、您的性别：", "age": "4、您的年龄（周岁）：",
        **{item: f"{src.strip('、第题Q')}、{text}" for item, *_, src, text in ITEMS},
    }


def wenjuanxing(answers, text_answers=True):
    """A Wenjuanxing export: metadata first, numbered Chinese headers, text or option numbers."""
    h = wjx_headers()
    out = pd.DataFrame({
        "序号": [s.translate(FULL) if i % 7 == 0 else s for i, s in enumerate(answers["respondent_id"])],
        "提交答卷时间": [t.strftime("%Y/%-m/%-d %H:%M:%S") for t in answers["submitted_at"]],
        "所用时间": [f"{d}秒" for d in answers["duration_seconds"]],
        "来源": "手机提交",
        "来源详情": "直接访问",
        "来自IP": [f"117.136.{i}.{2 * i + 1}(广东-深圳)" for i in range(N)],
        h["community_id"]: [c.translate(FULL) for c in answers["community_id"]],
        h["community_type"]: answers["community_type"],
        h["gender"]: answers["gender"],
        h["age"]: [str(a).translate(FULL) for a in answers["age"]],
    })
    for item, c, *_ in ITEMS:
        codes = answers[item]
        if text_answers and c == "TR":
            col = [TR_LABELS[x - 1] if 1 <= x <= 7 else ("不清楚" if x == 99 else "(跳过)")
                   for x in codes]
        elif text_answers and c == "SV":
            col = [SV_LABELS[x - 1] if x >= 1 else "(跳过)" for x in codes]
        else:  # option numbers, some typed in full width
            col = [str(x).translate(FULL) if i % 3 == 0 else str(x) for i, x in enumerate(codes)]
        out[h[item]] = col
    return out


def columns_map():
    h = wjx_headers()
    return {"community_id": "1", "community_type": "2、", "gender": h["gender"], "age": "第4题"}


def load_quietly(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_survey(*args, **kwargs)
    return df, [str(w.message) for w in caught if issubclass(w.category, SurveyWarning)]


def test_clean_csv_gives_the_reference_frame(answers, expected, folder):
    path = folder / "clean.csv"
    clean = answers.copy()
    clean["submitted_at"] = clean["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    clean.to_csv(path, index=False)
    cb_path = folder / "codebook-clean.csv"
    codebook_frame(with_sources=False).to_csv(cb_path, index=False)
    df, warned = load_quietly(path, cb_path)
    assert warned == []
    pd.testing.assert_frame_equal(df, expected)


def test_wenjuanxing_gbk_csv_with_text_answers(answers, expected, codebook, folder):
    path = folder / "wjx-text.csv"
    wenjuanxing(answers).to_csv(path, index=False, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK, not UTF-8
    df, warned = load_quietly(path, codebook, columns=columns_map())
    pd.testing.assert_frame_equal(df, expected)
    assert warned == [f"{path}: dropped 3 platform metadata column(s) that identify "
                      "respondents or their devices: 来源, 来源详情, 来自IP"]
    layout = export_layout(normalise_frame(read_table(path)[0]).columns, codebook, columns_map())
    assert layout.dropped == ["来源", "来源详情", "来自IP"]
    assert layout.items["TR2"] == "6、居委会办事拖拉"
    assert layout.columns["respondent_id"] == "序号" and layout.columns["age"] == "4、您的年龄(周岁):"
    assert not any("117.136" in str(v) for v in df.astype(str).to_numpy().ravel())


def test_wenjuanxing_xlsx_with_option_numbers(answers, expected, codebook, folder):
    path = folder / "wjx-numbers.xlsx"
    wenjuanxing(answers, text_answers=False).to_excel(path, index=False)
    df, _ = load_quietly(path, codebook, columns=columns_map())
    pd.testing.assert_frame_equal(df, expected)


def test_tencent_style_xlsx(answers, expected, codebook, folder):
    """Tencent-style headers (``Q5.``), ``答题时长`` as ``4分5秒``, IP and location metadata."""
    wjx = wenjuanxing(answers)
    h = wjx_headers()
    out = pd.DataFrame({
        "编号": answers["respondent_id"],
        "结束答题时间": answers["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "答题时长": [f"{d // 60}分{d % 60}秒" for d in answers["duration_seconds"]],
        "IP": [f"10.0.0.{i}" for i in range(N)],
        "地理位置": "广东省深圳市",
        "昵称": [f"用户{i}" for i in range(N)],
    })
    for key, header in h.items():
        number = header.split("、", 1)[0]
        out[f"Q{number}.{header.split('、', 1)[1]}"] = wjx[header]
    path = folder / "tencent.xlsx"
    out.to_excel(path, index=False)
    cols = {"community_id": "Q1", "community_type": "2", "gender": "3", "age": "4"}
    df, warned = load_quietly(path, codebook, columns=cols)
    pd.testing.assert_frame_equal(df, expected)
    assert len(warned) == 1 and warned[0].endswith(": IP, 地理位置, 昵称")


def test_spss_value_labels_are_honoured(answers, expected, folder):
    """SV is stored in the .sav with the *opposite* numbering (1 = 很满意); the labels say so.

    Reading the numbers without the labels would reverse SV; honouring them gives the
    reference. Community type and gender are labelled numeric codes.
    """
    pyreadstat = pytest.importorskip("pyreadstat")
    sav = answers.drop(columns=["submitted_at"]).copy()
    sav["respondent_id"] = sav["respondent_id"].astype(float)
    sav["community_type"] = [float(TYPES.index(t) + 1) for t in answers["community_type"]]
    sav["gender"] = [1.0 if g == "男" else 2.0 for g in answers["gender"]]
    for item in ("SV1", "SV2", "SV3", "SV4"):
        sav[item] = [5 - x if x >= 1 else x for x in answers[item]]
    sav = sav.astype({c: float for c in sav.columns if c not in ("community_id",)})
    labels = {
        "community_type": {float(i + 1): t for i, t in enumerate(TYPES)},
        "gender": {1.0: "男", 2.0: "女"},
        **{f"TR{i}": {float(k + 1): t for k, t in enumerate(TR_LABELS)} | {99.0: "不清楚"}
           for i in (1, 2, 3)},
        **{f"SV{i}": {float(4 - k): t for k, t in enumerate(SV_LABELS)} for i in (1, 2, 3, 4)},
    }
    path = folder / "survey.sav"
    pyreadstat.write_sav(sav, str(path), variable_value_labels=labels)
    cb_path = folder / "codebook-sav.csv"
    codebook_frame(with_sources=False).to_csv(cb_path, index=False)
    df, _ = load_quietly(path, cb_path)
    pd.testing.assert_frame_equal(df, expected.drop(columns=["submitted_at"]))


def test_text_answer_matching_no_label_names_column_text_and_rows(answers, codebook, folder):
    bad = wenjuanxing(answers)
    header = wjx_headers()["SV3"]
    bad.loc[[4, 17], header] = "还行吧"
    path = folder / "wjx-badlabel.csv"
    bad.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(SurveyDataError, match=(
            rf"wjx-badlabel\.csv: column '{header}' \(item SV3\) has answers that match none "
            r"of its value_labels \(first: '还行吧'\) in rows 6, 19")):
        load_quietly(path, codebook, columns=columns_map())


def test_out_of_scale_option_number_names_the_header(answers, codebook, folder):
    bad = wenjuanxing(answers, text_answers=False)
    header = wjx_headers()["EN2"]
    bad.loc[9, header] = "１１"
    path = folder / "wjx-range.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(SurveyDataError, match=(
            rf"column '{header}' \(item EN2\) has values outside the scale 1-10 \(first: 11\) "
            r"in rows 11")):
        load_quietly(path, codebook, columns=columns_map())


def test_phone_number_in_a_free_text_answer_is_refused(answers, codebook, folder):
    bad = wenjuanxing(answers)
    bad["17、您对社区治理的其他建议"] = ""
    bad.loc[3, "17、您对社区治理的其他建议"] = "希望多办活动，请联系我 138 1234 5678"
    bad.loc[30, "17、您对社区治理的其他建议"] = "电话１３９１２３４５６７８"
    path = folder / "wjx-phone.csv"
    bad.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(SurveyDataError) as err:
        load_quietly(path, codebook, columns=columns_map())
    msg = str(err.value)
    assert "wjx-phone.csv: column '17、您对社区治理的其他建议' holds values that look like phone " \
           "or ID-card numbers in rows 5, 32" in msg
    assert "1234" not in msg.replace("rows 5, 32", "")  # the number itself is never echoed


def test_id_card_number_in_free_text_is_refused(answers, codebook, folder):
    bad = wenjuanxing(answers)
    bad["备注"] = ""
    bad.loc[0, "备注"] = "身份证号11010519491231002X已登记"
    path = folder / "wjx-id.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(SurveyDataError, match=r"column '备注' holds values .* in rows 2;"):
        load_quietly(path, codebook, columns=columns_map())


def test_ip_addresses_under_another_name_are_refused(answers, codebook, folder):
    bad = wenjuanxing(answers)
    bad["设备信息"] = [f"192.168.1.{i}" for i in range(N)]
    path = folder / "wjx-ip.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(SurveyDataError, match=r"column '设备信息' holds IP addresses in rows 2, 3, 4, 5, 6 \(and 55 more\)"):
        load_quietly(path, codebook, columns=columns_map())


def test_ambiguous_question_number_asks_for_the_full_header(answers, folder):
    """Wenjuanxing writes the rows of a matrix question as ``5(行标题)``: the number alone is
    ambiguous, the full header is not."""
    wjx = wenjuanxing(answers)
    for item, text in [("TR1", "邻里之间相互信任"), ("TR2", "居委会办事拖拉"), ("TR3", "社区干部值得信赖")]:
        wjx = wjx.rename(columns={wjx_headers()[item]: f"5({text})"})
    path = folder / "wjx-matrix.csv"
    wjx.to_csv(path, index=False)
    cb = codebook_frame()
    cb_path = folder / "codebook-matrix.csv"
    cb.to_csv(cb_path, index=False)
    with pytest.raises(SurveyDataError, match=(
            r"source_column '5' for TR1 matches 3 columns \('5\(邻里之间相互信任\)', "
            r"'5\(居委会办事拖拉\)', '5\(社区干部值得信赖\)'\); give the full header")):
        load_quietly(path, cb_path, columns=columns_map())
    cb.loc[:2, "source_column"] = ["5(邻里之间相互信任)", "5（居委会办事拖拉）", "5(社区干部 值得信赖)"]
    cb.to_csv(cb_path, index=False)
    load_quietly(path, cb_path, columns=columns_map())
    layout = export_layout(normalise_frame(read_table(path)[0]).columns, load_codebook(cb_path),
                           columns_map())
    assert layout.items["TR2"] == "5(居委会办事拖拉)"


def test_missing_source_column_is_named(answers, codebook, folder):
    wjx = wenjuanxing(answers).drop(columns=[wjx_headers()["SV2"]])
    path = folder / "wjx-missing.csv"
    wjx.to_csv(path, index=False)
    with pytest.raises(SurveyDataError, match=r"required column\(s\) missing: SV2 \(source_column '9'\)"):
        load_quietly(path, codebook, columns=columns_map())


def test_unreadable_duration_names_column_and_rows(answers, codebook, folder):
    bad = wenjuanxing(answers)
    bad.loc[2, "所用时间"] = "很久"
    path = folder / "wjx-duration.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(SurveyDataError, match=r"column '所用时间' has durations that cannot be read \(first: '很久'\) in rows 4"):
        load_quietly(path, codebook, columns=columns_map())


def test_unknown_columns_argument_is_refused(answers, codebook, folder):
    path = folder / "wjx-text.csv"
    wenjuanxing(answers).to_csv(path, index=False, encoding="gbk")
    with pytest.raises(SurveyDataError, match=r"columns: unknown name\(s\) district"):
        load_survey(path, codebook, columns={"district": "1"})


def codebook_with_column_rows():
    """The codebook with the respondent columns declared in it (role ``column``), first."""
    cols = [dict(item=name, role="column", source_column=src)
            for name, src in columns_map().items()]
    return pd.concat([pd.DataFrame(cols), codebook_frame()], ignore_index=True).fillna("")


def test_codebook_rows_with_role_column_declare_the_respondent_columns(answers, expected, folder):
    path = folder / "wjx-text.csv"
    wenjuanxing(answers).to_csv(path, index=False, encoding="gbk")
    cb_path = folder / "codebook-columns.csv"
    codebook_with_column_rows().to_csv(cb_path, index=False)
    cb = load_codebook(cb_path)
    assert cb["item"].tolist() == [it[0] for it in ITEMS]  # the column rows are not items
    declared = survey_columns(cb_path)
    assert declared == {k: normalise_text(v) for k, v in columns_map().items()}
    df, _ = load_quietly(path, cb_path)          # a codebook path: its column rows are read
    pd.testing.assert_frame_equal(df, expected)
    df, _ = load_quietly(path, cb, columns=declared)   # a codebook frame: columns passed
    pd.testing.assert_frame_equal(df, expected)
    with pytest.raises(SurveyDataError, match="required column.s. missing: community_id"):
        load_quietly(path, cb)


def test_codebook_errors_count_rows_of_the_file_including_column_rows(folder):
    d = codebook_with_column_rows()
    d.loc[d["item"] == "SV2", "scale_max"] = "1"   # 5th item after 4 column rows: row 10
    cb_path = folder / "codebook-columns-bad.csv"
    d.to_csv(cb_path, index=False)
    with pytest.raises(CodebookError, match=r"scale_min must be below scale_max, rows 10$"):
        load_codebook(cb_path)
    d = codebook_with_column_rows()
    d.loc[1, "item"] = "district"
    d.to_csv(cb_path, index=False)
    with pytest.raises(CodebookError, match=(r"column 'item' of a row with role 'column' must be one "
                                         r"of respondent_id, .* \(first: 'district'\), rows 3")):
        load_codebook(cb_path)


def test_survey_columns_agree_between_codebook_and_loader():
    from analysis.io import codebook as cbm, survey as sv
    assert cbm.SURVEY_COLUMNS == sv.KNOWN_COLUMNS + sv.METADATA_COLUMNS


def test_readme_worked_example(folder):
    """The worked example in data/raw/README.md does what the README says.

    The README's export and codebook blocks are taken verbatim; to make a questionnaire that
    can be identified, one more MS item, a three-item outcome construct and 20 further
    respondents are added here. The README's two respondents must come out as stated.
    """
    from analysis.io import paths

    text = (paths.DATA_RAW / "README.md").read_text(encoding="utf-8")
    blocks = text.split("**Worked example: a Wenjuanxing export.**", 1)[1].split("```csv\n")
    export_text, codebook_text = (b.split("```", 1)[0] for b in blocks[1:3])
    import io

    export = pd.read_csv(io.StringIO(export_text), dtype=str, keep_default_na=False)
    cb = pd.read_csv(io.StringIO(codebook_text), dtype=str, keep_default_na=False)
    for col in ("construct_en", "construct_zh", "wording_en", "wording_zh"):
        cb[col] = cb["item"].where(cb["role"] != "column", "")
    extra = pd.DataFrame([dict(item=i, construct=c, role=r, scale_min="1", scale_max="5",
                               reverse="false", construct_en=c, construct_zh=c,
                               wording_en=i, wording_zh=i)
                          for i, c, r in [("MS3", "MS", "element"), ("PV1", "PV", "outcome"),
                                          ("PV2", "PV", "outcome"), ("PV3", "PV", "outcome")]])
    cb = pd.concat([cb, extra], ignore_index=True).fillna("")
    rng = np.random.default_rng(7)
    labels = ["非常不同意", "不同意", "一般", "同意", "非常同意"]
    more = pd.DataFrame({
        "序号": [str(i) for i in range(3, 23)], "提交答卷时间": "2026/11/4 09:00:00",
        "所用时间": "300秒", "来源": "微信", "来源详情": "N/A", "来自IP": "1.2.3.4",
        export.columns[6]: "阳光社区", export.columns[7]: "老旧小区",
        export.columns[8]: rng.choice(labels, 20), export.columns[9]: rng.choice(labels, 20)})
    export = pd.concat([export, more], ignore_index=True)
    for item in ("MS3", "PV1", "PV2", "PV3"):
        export[item] = [str(v) for v in rng.integers(1, 6, len(export))]
    export_path, cb_path = folder / "readme-export.csv", folder / "readme-codebook.csv"
    export.to_csv(export_path, index=False, encoding="gbk")
    cb.to_csv(cb_path, index=False)
    with pytest.warns(SurveyWarning, match="dropped 3 platform metadata column.*: 来源, 来源详情, 来自IP"):
        df = load_survey(export_path, cb_path)
    first = df.iloc[:2]
    assert first["respondent_id"].tolist() == ["1", "2"]
    assert first["community_id"].tolist() == ["阳光社区", "和平社区"]
    assert first["community_type"].tolist() == ["老旧小区", "商品房小区"]
    assert first["submitted_at"].tolist() == [pd.Timestamp("2026-11-03 10:21:33"),
                                              pd.Timestamp("2026-11-03 11:02:10")]
    assert first["duration_seconds"].tolist() == [245.0, 245.0]
    np.testing.assert_array_equal(first["MS1"], [4.0, np.nan])
    np.testing.assert_array_equal(first["MS2"], [5.0, np.nan])
