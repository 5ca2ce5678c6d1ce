"""Survey-platform exports as they come: Wenjuanxing (问卷星), Tencent Questionnaire (腾讯问卷), SPSS.

The helpers here turn what a platform writes into what :func:`analysis.io.survey.load_survey`
checks, without the user editing the export:

* :func:`read_table` reads CSV in UTF-8 or GBK (GB 18030), ``.xlsx`` and SPSS ``.sav`` (with the
  value labels stored in the file);
* :func:`normalise_text` maps full-width characters (``３``, ``１０``, ``Ｒ０１``, ``：``) to their
  ASCII forms, so that digits typed with a Chinese input method are digits;
* :func:`question_number` and :func:`match_header` find a codebook's ``source_column`` among the
  headers, exactly or by the leading question number (``3、本社区居民……``);
* :func:`parse_value_labels` reads the codebook's ``value_labels`` (``1=非常不同意;...``);
* :func:`platform_role` sorts the metadata columns a platform adds: identifying ones (IP address,
  referrer, nickname) are dropped, the submission time and duration are kept;
* :func:`parse_duration` reads durations such as ``245秒`` or ``4分5秒``;
* :func:`identifier_mask` and :func:`ip_mask` find phone, ID-card numbers and IP addresses
  inside free text.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; the ideographic space to " ".
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

#: Answers a platform writes for a question the respondent did not answer (after
#: :func:`normalise_text`): Wenjuanxing writes ``(跳过)`` for a skipped and ``(空)`` for an empty
#: question in its text downloads. They are read as blank (missing).
NO_ANSWER = ("(跳过)", "(空)", "跳过", "(未作答)", "未作答")

#: Platform metadata columns, matched on the whole header after :func:`normalise_text`
#: (lower case). ``drop``: identifies people or their device and never enters the analysis;
#: ``submitted_at``, ``duration_seconds``: parsed and kept; ``respondent_id``: the platform's
#: answer-sheet number, used as respondent id when the file has no ``respondent_id`` column.
PLATFORM_COLUMNS = {
    **dict.fromkeys(("来自ip", "ip", "ip地址", "答题ip", "提交ip", "ip address", "ip_address",
                     "来源", "来源详情", "来源渠道", "渠道", "昵称", "微信昵称", "用户昵称",
                     "用户标识", "用户id", "openid", "unionid", "地理位置", "地理位置国家和地区",
                     "地理位置省", "地理位置市", "国家和地区", "省份", "城市", "设备", "浏览器",
                     "操作系统", "user agent", "useragent", "referrer", "source", "source details"),
                    "drop"),
    **dict.fromkeys(("提交答卷时间", "提交时间", "结束答题时间", "答题结束时间", "结束时间",
                     "submitted_at", "submit time"), "submitted_at"),
    **dict.fromkeys(("所用时间", "答题时长", "用时", "答题用时", "填写用时", "duration_seconds",
                     "duration"), "duration_seconds"),
    **dict.fromkeys(("序号", "编号", "答卷编号", "答卷序号"), "respondent_id"),
}

_QUESTION_NUMBER = re.compile(r"^\s*(?:第\s*)?[Qq]?\s*(\d+)\s*(?:题)?\s*(?:[、.:)\]]|\(|$)")
_QUESTION_NUMBER_ONLY = re.compile(r"^\s*(?:第\s*)?[Qq]?\s*(\d+)\s*(?:题)?\s*[、.:]?\s*$")
_IP = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){4,7}\b"
_PHONE = r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"
_ID_CARD = r"(?<![\dA-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"


def normalise_text(value):
    """Full-width characters to ASCII (``３`` -> ``3``), ideographic space to space, stripped.

    Parameters
    ----------
    value : str or object
        Non-strings are returned unchanged.

    Returns
    -------
    str or object

    References
    ----------
    The Unicode Standard, block "Halfwidth and Fullwidth Forms" (U+FF00-U+FFEF): U+FF01-U+FF5E
    are the full-width forms of U+0021-U+007E.

    Examples
    --------
    >>> normalise_text("  １０ "), normalise_text("Ｒ００１"), normalise_text("3、（非常）同意")
    ('10', 'R001', '3、(非常)同意')
    """
    if not isinstance(value, str):
        return value
    return value.translate(_FULL_WIDTH).strip()


def normalise_series(values: pd.Series) -> pd.Series:
    """:func:`normalise_text` of every cell of a series, as strings (vectorised).

    Parameters
    ----------
    values : pandas.Series

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> normalise_series(pd.Series(["１０", " a "])).tolist()
    ['10', 'a']
    """
    text = values.astype(str)
    # Answers repeat: normalise each distinct value once.
    uniques = pd.unique(text.to_numpy(dtype=object))
    return text.map({u: normalise_text(u) for u in uniques}).astype(str)


def _search(values: pd.Series, pattern: str) -> pd.Series:
    regex = re.compile(pattern)
    uniques = pd.unique(values.astype(str).to_numpy(dtype=object))
    hits = [u for u in uniques if regex.search(normalise_text(u))]
    return values.astype(str).isin(hits).astype(bool)


def normalise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`normalise_text` applied to every header and every cell of a frame of strings.

    Parameters
    ----------
    df : pandas.DataFrame
        Cells as strings (as :func:`read_table` returns them).

    Returns
    -------
    pandas.DataFrame
        A new frame; the input is not changed.

    Examples
    --------
    >>> normalise_frame(pd.DataFrame({"ＭＳ１": ["４", " ５"]})).to_dict("list")
    {'MS1': ['4', '5']}
    """
    out = df.apply(normalise_series)
    out.columns = [normalise_text(str(c)) for c in df.columns]
    return out


def read_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """Read a survey export as strings, with the SPSS value labels it stores.

    CSV is decoded as UTF-8 (with or without byte-order mark) and, failing that, as GB 18030,
    the superset of GBK in which Chinese Excel and Wenjuanxing save CSV. Nothing is parsed:
    every cell is a string, blank for no answer.

    Parameters
    ----------
    path : path
        ``.csv``, ``.xlsx``/``.xlsm`` or ``.sav``.

    Returns
    -------
    table : pandas.DataFrame
        All cells as ``str``; whole numbers from SPSS and Excel number cells as ``"3"`` (not
        ``"3.0"``), system-missing as ``""``.
    labels : dict
        For ``.sav``: ``{column: {code: label}}`` from the file's value labels, codes written
        as the table writes them; empty for other formats.

    Raises
    ------
    ValueError
        For an unsupported suffix or a CSV that is neither UTF-8 nor GB 18030.

    References
    ----------
    GB 18030-2005, *Information technology -- Chinese coded character set* (a superset of GBK).
    IBM SPSS Statistics, *SAV file format*, read with pyreadstat (ReadStat).

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.TemporaryDirectory()
    >>> p = os.path.join(folder.name, "wjx.csv")
    >>> _ = open(p, "w", encoding="gbk").write("序号,1、性别\\n1,男\\n")
    >>> table, labels = read_table(p)
    >>> table.columns.tolist(), table.iloc[0].tolist(), labels
    (['序号', '1、性别'], ['1', '男'], {})
    >>> folder.cleanup()
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False), {}
        raise ValueError(f"{path}: the CSV is neither UTF-8 nor GBK/GB 18030 text; save it as "
                         "UTF-8 CSV or as .xlsx")
    if suffix in (".xlsx", ".xlsm"):
        table = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        # A whole number stored as a float cell reads "3.0": write it as Excel shows it.
        return table.replace({r"^(-?\d+)\.0$": r"\1"}, regex=True), {}
    if suffix == ".sav":
        import pyreadstat  # imported here: only SPSS users need it

        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=False)
        table = df.astype(object).where(df.notna(), "").astype(str).replace(
            {r"^(-?\d+)\.0$": r"\1"}, regex=True)
        labels = {}
        for col, mapping in (meta.variable_value_labels or {}).items():
            labels[col] = {_code_text(k): str(v) for k, v in mapping.items()}
        return table, labels
    raise ValueError(f"{path}: unsupported file type '{suffix}' (use .csv, .xlsx or .sav)")


def _code_text(code) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code)


def question_number(header: str) -> str | None:
    """The leading question number of a platform header, or ``None``.

    Recognises ``3、...`` (Wenjuanxing), ``3. ...``, ``3:...``, ``3(...)`` (Wenjuanxing's matrix
    rows), ``Q3 ...``, ``第3题 ...``, after full-width normalisation.

    Parameters
    ----------
    header : str

    Returns
    -------
    str or None

    Examples
    --------
    >>> [question_number(h) for h in ["3、本社区居民……", "Q12.满意度", "第５题", "8(物业)", "MS1"]]
    ['3', '12', '5', '8', None]
    """
    m = _QUESTION_NUMBER.match(normalise_text(str(header)))
    return str(int(m.group(1))) if m else None


def match_header(source: str, headers) -> tuple[str | None, list[str]]:
    """Find a codebook ``source_column`` among the headers of an export.

    Rules, in order: (1) a header equal to ``source`` (after :func:`normalise_text` and ignoring
    white space); (2) if ``source`` is only a question number (``3``, ``3、``, ``Q3``, ``第3题``),
    the one header whose :func:`question_number` is that number.

    Parameters
    ----------
    source : str
        The codebook's ``source_column`` (or an item id).
    headers : sequence of str

    Returns
    -------
    match : str or None
        The matching header, or None when there is none or more than one.
    candidates : list of str
        The headers that share the question number when the match is ambiguous, else ``[]``.

    Examples
    --------
    >>> headers = ["序号", "3、本社区居民有实际机会参与决策", "8(物业)", "8(业委会)"]
    >>> match_header("3、", headers)
    ('3、本社区居民有实际机会参与决策', [])
    >>> match_header("8", headers)
    (None, ['8(物业)', '8(业委会)'])
    >>> match_header("8(业委会)", headers)
    ('8(业委会)', [])
    """
    def key(s):
        return re.sub(r"\s+", "", normalise_text(str(s)))

    headers = list(headers)
    exact = [h for h in headers if key(h) == key(source)]
    if len(exact) == 1:
        return exact[0], []
    if len(exact) > 1:
        return None, exact
    m = _QUESTION_NUMBER_ONLY.match(normalise_text(str(source)))
    if not m:
        return None, []
    number = str(int(m.group(1)))
    hits = [h for h in headers if question_number(h) == number]
    return (hits[0], []) if len(hits) == 1 else (None, hits)


def parse_value_labels(text: str) -> dict[str, int]:
    """Read value labels ``1=非常不同意;2=不同意;...`` into ``{label: code}``.

    Parameters
    ----------
    text : str
        ``code=label`` pairs separated by ``;`` (full-width ``＝``/``；`` accepted); blank for none.

    Returns
    -------
    dict
        Label (normalised, see :func:`normalise_text`) to whole-number code.

    Raises
    ------
    ValueError
        For a pair without ``=``, a code that is not a whole number, an empty label, or a label
        or code given twice.

    Examples
    --------
    >>> parse_value_labels("1=非常不同意;2=不同意；３＝一般")
    {'非常不同意': 1, '不同意': 2, '一般': 3}
    """
    out: dict[str, int] = {}
    codes = set()
    for part in normalise_text(str(text)).split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"'{part}' is not of the form code=label")
        code, label = (s.strip() for s in part.split("=", 1))
        if not re.fullmatch(r"-?\d+", code):
            raise ValueError(f"code '{code}' in '{part}' is not a whole number")
        if not label:
            raise ValueError(f"code {code} has an empty label")
        if label in out:
            raise ValueError(f"label '{label}' is given twice")
        if int(code) in codes:
            raise ValueError(f"code {code} is given twice")
        if re.fullmatch(r"-?\d+(\.\d+)?", label) and float(label) != int(code):
            raise ValueError(f"label '{label}' is a number different from its code {code}")
        codes.add(int(code))
        out[label] = int(code)
    return out


def platform_role(header: str) -> str | None:
    """What a platform metadata column is for, or ``None`` for an ordinary column.

    Parameters
    ----------
    header : str

    Returns
    -------
    str or None
        ``"drop"`` (identifying metadata: IP address, referrer, nickname, location, device),
        ``"submitted_at"``, ``"duration_seconds"``, ``"respondent_id"`` (the answer-sheet
        number), or None. See :data:`PLATFORM_COLUMNS`; any header that is an IP address label
        (``IP``, ``ip_addr``, ``用户IP``) is ``"drop"`` too.

    Examples
    --------
    >>> [platform_role(h) for h in ["来自IP", "来源详情", "提交答卷时间", "所用时间", "序号", "3、性别"]]
    ['drop', 'drop', 'submitted_at', 'duration_seconds', 'respondent_id', None]
    """
    key = normalise_text(str(header)).lower()
    if key in PLATFORM_COLUMNS:
        return PLATFORM_COLUMNS[key]
    if question_number(key) is None and re.search(r"(^|[^a-z])ip($|[^a-z])|ip地址", key):
        return "drop"
    return None


def parse_duration(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Durations as seconds: ``245``, ``245秒``, ``4分5秒``, ``1小时2分``, ``00:04:05``, ``245 s``.

    Parameters
    ----------
    values : pandas.Series of str
        Blank for unknown.

    Returns
    -------
    seconds : pandas.Series of float
        NaN where blank or unreadable.
    bad : pandas.Series of bool
        True where a non-blank value could not be read.

    Examples
    --------
    >>> s, bad = parse_duration(pd.Series(["245秒", "4分5秒", "1小时", "00:04:05", "", "soon"]))
    >>> s.tolist()[:4], bad.tolist()
    ([245.0, 245.0, 3600.0, 245.0], [False, False, False, False, False, True])
    """
    units = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|min|m))?"
                       r"\s*(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec))?$", re.IGNORECASE)

    def one(v):
        v = normalise_text(str(v))
        if v == "":
            return np.nan
        if re.fullmatch(r"\d+(\.\d+)?", v):
            return float(v)
        m = re.fullmatch(r"(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)", v) or re.fullmatch(
            r"()(\d+):(\d{1,2}(?:\.\d+)?)", v)
        if m:
            h, mi, s = (float(x) if x else 0.0 for x in m.groups())
            return 3600 * h + 60 * mi + s
        m = units.match(v)
        if m and any(m.groups()):
            h, mi, s = (float(x) if x else 0.0 for x in m.groups())
            return 3600 * h + 60 * mi + s
        return None

    parsed = [one(v) for v in values]
    bad = pd.Series([p is None for p in parsed], index=values.index)
    seconds = pd.Series([np.nan if p is None else p for p in parsed], index=values.index,
                        dtype=float)
    return seconds, bad


def identifier_mask(values: pd.Series) -> pd.Series:
    """True where a text holds a mainland mobile number or a resident ID-card number.

    Searched anywhere in the text (``请联系我13812345678``), with or without separators
    (``138-1234-5678``, ``+86 138 1234 5678``), after full-width normalisation.

    Parameters
    ----------
    values : pandas.Series of str

    Returns
    -------
    pandas.Series of bool

    References
    ----------
    GB 11643-1999, *Citizen identification number* (18 characters: 6-digit area code, 8-digit
    birth date, 3-digit sequence, check character 0-9 or X). Mainland mobile numbers: 11
    digits beginning 13-19 (MIIT numbering plan).

    Examples
    --------
    >>> identifier_mask(pd.Series(["电话１３８１２３４５６７８", "110105194912310021", "2024/5/3", "5"])).tolist()
    [True, True, False, False]
    """
    return _search(values, f"{_PHONE}|{_ID_CARD}")


def ip_mask(values: pd.Series) -> pd.Series:
    """True where a text holds an IPv4 (``117.136.0.1``) or IPv6 address.

    Parameters
    ----------
    values : pandas.Series of str

    Returns
    -------
    pandas.Series of bool

    References
    ----------
    RFC 791 (IPv4 dotted-quad notation); RFC 4291, section 2.2 (IPv6 text representation).

    Examples
    --------
    >>> ip_mask(pd.Series(["117.136.0.1(广东-深圳)", "3.5", "1.2.3"])).tolist()
    [True, False, False]
    """
    return _search(values, _IP)
