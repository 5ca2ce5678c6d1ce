"""The reports for a street office (issue #20): built from a run's tables, checked page by page.

The shipped survey's reports are built from the committed tables (data/processed) in both
languages by the command line (``python -m analysis.reports``, as ``make reports`` calls it);
the survey variants' reports from the results of the variant matrix (the session's ``matrix``
fixture, shared with tests/test_variants.py). Every page is parsed with the standard
library's HTML parser:

* every community with at least k respondents has a page, none below k does, and the overview
  names the suppressed ones;
* every number on a page is a tagged span (``data-field``, ``data-community``,
  ``data-element``, ``data-digits``, ``data-scale``) whose text equals the value this test
  computes from the CSV tables, at the stated rounding; every other digit on the page belongs
  to a constant of the method (95%, 0-100), an identifier or text quoted from the catalogue;
* nothing on a page is respondent-level (no respondent id, only community-level fields);
* the overview lists the communities most clearly in need first; verdict words ("highest",
  "lowest", "clearly in the upper half") appear only where the rank interval supports them;
* the Chinese edition carries Chinese labels and no English element name; the shipped pages
  carry the synthetic-data banner and a user's do not;
* the same tables give the same bytes; missing tables stop with a message naming the
  ``make reproduce`` to run, and bad ones name the file and column.

The browser tests open the overview and community pages in headless Chromium (skipped with the
reason where Chromium is not installed, as in tests/test_book.py): figures drawn, no sideways
overflow, Chinese glyphs rendered, and a community page prints on at most two A4 sheets.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import load_codebook
from analysis.reports import load_run, page_names, render, write_reports
from analysis.reports.data import RunTablesError
from survey_variants import simulate

ROOT = paths.ROOT
SHIPPED = ROOT / "data" / "processed"
CJK = re.compile(r"[\u3400-\u9fff]")
K = 5
#: The constants of the method a page may name besides the tables' numbers.
CONSTANTS = {"95", "100", "0–100"}
#: Every field a page may show: community-level results only (no item or respondent data).
FIELDS = {"score_eb", "score_eb_lower", "score_eb_upper", "rank_lower", "rank_upper",
          "type_rank_lower", "type_rank_upper", "n_type", "n_communities",
          "n_communities_surveyed", "n_respondents", "n_respondents_total", "k",
          "element_score", "element_lower", "element_upper", "type_mean", "peer_mean",
          "gap_below", "focus_score", "benchmark",
          "p_excellent", "p_good", "p_fair", "p_poor"}
VOID = {"img", "br", "hr", "meta", "link", "input", "source", "wbr"}


class Page(HTMLParser):
    """What the checks need from a page: its tagged numbers, the rest of its text, links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.numbers, self.consts, self.loose, self.text = [], [], [], []
        self.links, self.images, self.lang, self.title = [], [], None, ""
        self.banner = False
        self._stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        if "banner" in (a.get("class") or "").split():
            self.banner = True
        if tag in VOID:
            return
        kind = None
        if tag in ("style", "script", "title"):
            kind = tag
        elif "data-field" in a:
            kind = "field"
            self.numbers.append({**a, "text": ""})
        elif "data-const" in a:
            kind = "const"
            self.consts.append(a["data-const"])
        elif "data-id" in a:
            kind = "id"
        elif "data-text" in a:
            kind = "text"
        self._stack.append((tag, kind))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        kinds = {k for _, k in self._stack}
        if "title" in kinds:
            self.title += data
        if kinds & {"style", "script", "title"}:
            return
        self.text.append(data)
        if "field" in kinds:
            self.numbers[-1]["text"] += data
        elif not kinds & {"const", "id", "text"}:
            self.loose.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


# --- the tables, read independently of analysis.reports -----------------------------------------

class Tables:
    """A run's CSV tables and the values a page may show, computed here from them."""

    def __init__(self, folder: Path, codebook: pd.DataFrame, element_se: pd.DataFrame | None = None):
        read = lambda name: pd.read_csv(folder / f"{name}.csv", dtype={"community_id": str, "unit": str})
        self.ranks = read("community-ranks").set_index("community_id")
        self.scores = read("community-scores").set_index("community_id")
        self.suppressed = read("suppressed-communities")
        self.paths = read("community-paths").set_index("community_id") \
            if (folder / "community-paths.csv").exists() else None
        self.dea = read("dea-efficiency").set_index("unit") if (folder / "dea-efficiency.csv").exists() else None
        self.sample = read("sample-characteristics") if (folder / "sample-characteristics.csv").exists() else None
        if element_se is None and (folder / "community-element-se.csv").exists():
            element_se = read("community-element-se").set_index("community_id")
        self.se = element_se
        cb = codebook
        self.elements = list(dict.fromkeys(cb.loc[cb["role"] == "element", "construct"]))
        self.names = {lang: {e: n for e, n in zip(cb["construct"], cb[f"construct_{lang}"])
                             if e in self.elements} for lang in ("en", "zh")}

    def peers(self, c):
        source = self.paths if self.paths is not None and "peers" in self.paths.columns else self.dea
        if source is None or c not in source.index or not isinstance(source.loc[c, "peers"], str):
            return []
        return [p for p in source.loc[c, "peers"].split(";") if p and p != c and p in self.scores.index]

    def type_mean(self, c, e):
        t = self.scores["community_type"]
        return self.scores.loc[t == t[c], e].mean()

    def type_ranks(self, c):
        r = self.ranks
        same = r[r["community_type"] == r.loc[c, "community_type"]]
        above = (same["score_eb_lower"] > r.loc[c, "score_eb_upper"]).sum()
        below = (same["score_eb_upper"] < r.loc[c, "score_eb_lower"]).sum()
        return 1 + above, len(same) - below, len(same)

    def value(self, field, c, e):
        """The number a span of ``field`` for community ``c`` (element ``e``) must show."""
        if field in ("n_communities",):
            return len(self.ranks)
        if field == "n_communities_surveyed":
            return len(self.ranks) + len(self.suppressed)
        if field == "n_respondents_total":
            row = self.sample[(self.sample["group"] == "all") & (self.sample["variable"] == "respondents")]
            return float(row["n"].iloc[0])
        if field == "k":
            return K
        if field == "n_respondents":
            return self.scores.loc[c, "n_respondents"]
        if field in ("type_rank_lower", "type_rank_upper", "n_type"):
            return dict(zip(("type_rank_lower", "type_rank_upper", "n_type"), self.type_ranks(c)))[field]
        if field == "element_score":
            return self.scores.loc[c, e]
        if field == "type_mean":
            return self.type_mean(c, e)
        if field == "gap_below":
            gaps = {x: self.scores.loc[c, x] - self.type_mean(c, x) for x in self.elements}
            assert min(gaps.values()) < 0 and gaps[e] == min(gaps.values()), (c, e, gaps)
            return gaps[e]
        if field == "peer_mean":
            return self.scores.loc[self.peers(c), e].mean()
        if field in ("element_lower", "element_upper"):
            sign = -1 if field == "element_lower" else 1
            return self.scores.loc[c, e] + sign * 1.959963984540054 * self.se.loc[c, e]
        if field in ("focus_score", "benchmark"):
            return self.paths.loc[c, field]
        return self.ranks.loc[c, field]


def shown(text: str) -> tuple[str, float]:
    """(``"="``, ``"<"`` or ``">"``, the number) of a span's text."""
    t = text.strip().replace("\u2212", "-").replace("+", "")
    if t[:1] in "<>":
        return t[0], float(t[1:])
    return "=", float(t)


def check_numbers(page: Page, tables: Tables, where: str) -> int:
    """Assert every tagged number equals its table value at its stated rounding; return count."""
    bad = []
    for n in page.numbers:
        field, c, e = n["data-field"], n.get("data-community"), n.get("data-element")
        assert field in FIELDS, f"{where}: unexpected field {field!r}"
        digits, scale = int(n["data-digits"]), float(n.get("data-scale", 1))
        value = float(tables.value(field, c, e)) * scale
        op, x = shown(n["text"])
        if op == "<":
            ok = 0 < value < x
        elif op == ">":
            ok = x < value < 100
        else:
            ok = abs(x - value) <= 0.5 * 10 ** -digits * (1 + 1e-9) + 1e-9
        if not ok:
            bad.append(f"{field} {c} {e}: shows {n['text']!r}, table gives {value!r}")
    assert not bad, f"{where}:\n" + "\n".join(bad[:10])
    return len(page.numbers)


def check_page(path: Path, tables: Tables, respondent_ids=()) -> Page:
    """The checks every page passes, whatever the run: numbers, loose digits, no respondent data."""
    page = parse(path)
    check_numbers(page, tables, path.name)
    loose = "".join(page.loose)
    assert not re.search(r"\d", loose), \
        f"{path.name}: an untagged number on the page: ...{loose[max(0, re.search(r'[0-9]', loose).start() - 60):][:120]!r}"
    assert set(page.consts) <= CONSTANTS, f"{path.name}: constants {set(page.consts) - CONSTANTS}"
    # the text a reader sees (and the title): no token of it is a respondent's id
    tokens = set(re.findall(r"[\w-]+", page.plain + " " + page.title))
    hits = sorted(tokens & set(respondent_ids))
    assert not hits, f"{path.name} names respondents {hits[:3]}"
    for src in page.images:
        assert src.startswith("data:image/svg+xml;base64,"), f"{path.name}: image not embedded: {src[:60]}"
    return page


def test_the_page_checks_catch_what_they_forbid(tmp_path):
    """Each check fails on a page that breaks it: a number off the table, an untagged number,
    a respondent's id, an unknown field, an image fetched from elsewhere."""
    t = Tables(SHIPPED, load_codebook())
    score = t.ranks.loc["C03", "score_eb"]
    span = '<span data-field="score_eb" data-community="C03" data-digits="1">{}</span>'
    cases = {
        "ok": f"<p>{span.format(f'{score:.1f}')}</p>",
        "off": f"<p>{span.format(f'{score + 0.2:.1f}')}</p>",
        "loose": f"<p>{span.format(f'{score:.1f}')} and 12 residents</p>",
        "respondent": f"<p>{span.format(f'{score:.1f}')} R00001</p>",
        "field": '<p><span data-field="item_mean" data-community="C03" data-digits="1">3.2</span></p>',
        "image": '<p><img src="https://example.org/x.png"></p>',
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.html"
        path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
        if name == "ok":
            check_page(path, t, {"R00001"})
        else:
            with pytest.raises(AssertionError):
                check_page(path, t, {"R00001"})


# --- the shipped survey ---------------------------------------------------------------------------

def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis.reports", *args], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped survey's reports, English and Chinese, built by the command line."""
    out = tmp_path_factory.mktemp("reports") / "reports"
    for labels, folder in (("en", out), ("zh", out / "zh")):
        done = _cli("--results", str(SHIPPED), "--out", str(folder), "--labels", labels)
        assert done.returncode == 0, done.stderr
        assert f"reports written to {folder}" in done.stdout
    return out, Tables(SHIPPED, load_codebook())


@pytest.fixture(scope="module")
def respondent_ids():
    return set(pd.read_csv(paths.SURVEY, usecols=["respondent_id"], dtype=str)["respondent_id"])


@pytest.mark.parametrize("labels", ["en", "zh"])
def test_every_community_above_k_has_a_page_and_none_below(shipped, labels):
    out, t = shipped
    folder = out if labels == "en" else out / "zh"
    pages = {p.stem for p in folder.glob("*.html")} - {"index"}
    assert pages == set(t.ranks.index)
    assert (t.scores["n_respondents"] >= K).all()
    below = set(t.suppressed["community_id"])
    assert below and not below & pages and (t.suppressed["n_respondents"] < K).all()
    overview = parse(folder / "index.html")
    linked = {h[:-5] for h in overview.links if h.endswith(".html")}
    assert linked == pages
    for c in below:
        assert c in overview.plain, f"the overview does not say why {c} has no page"


@pytest.mark.parametrize("labels", ["en", "zh"])
def test_every_number_on_every_page_equals_the_tables(shipped, respondent_ids, labels):
    out, t = shipped
    folder = out if labels == "en" else out / "zh"
    total = 0
    for path in sorted(folder.glob("*.html")):
        page = check_page(path, t, respondent_ids)
        total += len(page.numbers)
        if path.stem != "index":
            fields = {n["data-field"] for n in page.numbers}
            assert {"score_eb", "rank_lower", "rank_upper", "element_score", "type_mean",
                    "n_respondents", "type_rank_lower"} <= fields, path.name
            assert {n.get("data-community") for n in page.numbers} == {path.stem}, path.name
            assert page.banner, f"{path.name}: no synthetic-data banner on the shipped survey"
    assert total > 47 * 20


def test_the_overview_puts_the_most_clearly_in_need_first(shipped):
    out, t = shipped
    page = parse(out / "index.html")
    order = [h[:-5] for h in page.links if h.endswith(".html")]
    r = t.ranks
    expected = sorted(r.index, key=lambda c: (-r.loc[c, "rank_lower"], -r.loc[c, "rank_upper"],
                                              r.loc[c, "score_eb"], c))
    assert order == expected
    # the first rows stand near the bottom even at the best end of their intervals
    assert r.loc[order[0], "rank_lower"] == r["rank_lower"].max()
    assert page.banner and "No report for C48" in page.plain


def test_verdict_words_only_where_the_interval_supports_them(shipped):
    out, t = shipped
    n = len(t.ranks)
    for path in sorted(out.glob("C*.html")):
        text, r = parse(path).plain, t.ranks.loc[path.stem]
        assert not re.search(r"\b(best|worst|should)\b", text, re.I), path.name
        assert ("the highest of all" in text) == (r["rank_lower"] == r["rank_upper"] == 1)
        assert ("the lowest of all" in text) == (r["rank_lower"] == r["rank_upper"] == n)
        assert ("clearly in the upper half" in text) == (r["rank_upper"] < (n + 1) / 2), path.name
        assert ("clearly in the lower half" in text) == (r["rank_lower"] > (n + 1) / 2), path.name
        assert f"between {int(r['rank_lower'])}" in text or r["rank_lower"] == r["rank_upper"]
    for path in sorted((out / "zh").glob("C*.html")):
        assert not re.search("应该|应当|最好|最差", parse(path).plain), path.name


def test_problems_come_from_the_improvement_paths_with_their_actions(shipped):
    out, t = shipped
    for c in t.ranks.index:
        text = parse(out / f"{c}.html").plain
        focus = t.paths.loc[c, "focus"]
        if isinstance(focus, str) and focus:
            for col in ("problem_en", "path_en", "action_en"):
                for part in t.paths.loc[c, col].split(" | ")[:3]:
                    assert part in text, f"{c}: {col} {part[:40]!r} missing"
            assert t.names["en"][focus] in text
        else:
            assert "names no problem for this community" in text
        zh = parse(out / "zh" / f"{c}.html").plain
        if isinstance(focus, str) and focus:
            assert t.paths.loc[c, "action_zh"].split(" | ")[0] in zh


def test_the_chinese_edition_has_chinese_labels_and_no_english_element_names(shipped):
    out, t = shipped
    english = [v for v in t.names["en"].values()] + ["excellent", "Governance performance",
                                                     "old neighbourhood", "interval"]
    for path in sorted((out / "zh").glob("*.html")):
        page = parse(path)
        assert page.lang == "zh-CN" and CJK.search(page.plain)
        found = [w for w in english if w in page.plain]
        assert not found, f"{path.name}: English labels {found}"
        assert "@font-face" in path.read_text(encoding="utf-8"), f"{path.name}: no embedded CJK font"
    for path in sorted(out.glob("*.html")):
        page = parse(path)
        assert page.lang == "en" and not CJK.search(page.plain), path.name
    zh = parse(out / "zh" / "C01.html").plain
    assert all(v in zh for v in t.names["zh"].values()), "element names missing in Chinese"


def test_the_same_tables_give_the_same_bytes(shipped):
    """A page rendered again in this process equals the one the command line wrote (the
    English pages carry no font; the figures are SVG with a fixed hash salt and no date)."""
    out, _ = shipped
    pages = render(load_run(SHIPPED), "en", communities=["C07", "C21"])
    for name in ("C07.html", "C21.html"):
        assert pages[name] == (out / name).read_text(encoding="utf-8"), name


def test_the_embedded_font_is_the_same_bytes_in_another_process():
    """The Chinese font subset a page embeds depends only on its characters."""
    from analysis.reports.fonts import font_face

    text = "社区治理绩效报告：同类社区平均"
    code = f"from analysis.reports.fonts import font_face; print(font_face({text!r}))"
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other.startswith("@font-face") and other == font_face(text)


def test_a_rebuild_keeps_the_other_edition(tmp_path):
    run = load_run(SHIPPED)
    out = tmp_path / "reports"
    write_reports(run, out / "zh", "zh", communities=["C03"])
    write_reports(run, out, "en", communities=["C03"])
    write_reports(run, out, "en", communities=["C05"])
    assert sorted(p.name for p in out.glob("*.html")) == ["C05.html", "index.html"]
    assert sorted(p.name for p in (out / "zh").glob("*.html")) == ["C03.html", "index.html"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folders left"


def test_missing_tables_stop_with_the_command_to_run(tmp_path):
    done = _cli("--results", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "make reproduce" in done.stderr and not (tmp_path / "out").exists()
    done = _cli("--survey", "data/raw/private/no-such-survey.xlsx", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "run `make reproduce SURVEY=data/raw/private/no-such-survey.xlsx` first" in done.stderr
    assert "results/no-such-survey/tables" in done.stderr


def _copy_tables(target: Path, names=("community-ranks", "community-scores", "suppressed-communities",
                                      "community-paths", "dea-efficiency", "sample-characteristics")):
    target.mkdir()
    for name in names:
        shutil.copy(SHIPPED / f"{name}.csv", target / f"{name}.csv")
    return target


def test_bad_tables_are_named_with_file_column_and_rows(tmp_path):
    folder = _copy_tables(tmp_path / "t")
    scores = pd.read_csv(folder / "community-scores.csv")
    scores.drop(columns=["n_respondents"]).to_csv(folder / "community-scores.csv", index=False)
    with pytest.raises(RunTablesError, match=r"community-scores\.csv: column\(s\) n_respondents missing"):
        load_run(folder)
    scores.to_csv(folder / "community-scores.csv", index=False)
    with pytest.raises(RunTablesError, match=r"'n_respondents' is below k = 30 for C\d\d"):
        load_run(folder, k=30)
    (folder / "community-ranks.csv").unlink()
    with pytest.raises(RunTablesError, match=r"community-ranks\.csv: table not found.*make reproduce"):
        load_run(folder)


def test_optional_tables_missing_are_said_not_invented(tmp_path):
    folder = _copy_tables(tmp_path / "t", names=("community-ranks", "community-scores",
                                                 "suppressed-communities"))
    run = load_run(folder)
    assert run.paths is None and run.peers is None and run.element_se is None
    pages = render(run, "en", communities=["C01"])
    text = re.sub(r"<[^>]+>", "", pages["C01.html"])
    assert "no improvement analysis" in text and "no efficiency analysis" in text
    assert "no sampling error for the element scores" in text
    assert "average of its efficient peers" not in text


def test_element_intervals_when_the_run_has_them(tmp_path):
    """With the element scores' sampling error (community-element-se.csv) the page shows each
    element's interval and calls an element a strength only beyond the noise."""
    folder = _copy_tables(tmp_path / "t")
    scores = pd.read_csv(folder / "community-scores.csv", dtype={"community_id": str})
    run0 = load_run(folder)
    se = scores[["community_id"]].copy()
    for j, e in enumerate(run0.elements):
        se[e] = 1.0 + 0.5 * j
    se.to_csv(folder / "community-element-se.csv", index=False)
    run = load_run(folder)
    tables = Tables(folder, load_codebook(), element_se=se.set_index("community_id"))
    out = write_reports(run, tmp_path / "out", communities=["C01", "C21"])
    for c in ("C01", "C21"):
        page = check_page(out / f"{c}.html", tables)
        assert {"element_lower", "element_upper"} <= {n["data-field"] for n in page.numbers}
    text = parse(out / "C21.html").plain
    gaps = {e: scores.set_index("community_id").loc["C21", e] - tables.type_mean("C21", e)
            for e in run.elements}
    strong = [tables.names["en"][e] for e, g in gaps.items() if g > 1.959963984540054 * se.set_index("community_id").loc["C21", e]]
    assert strong and "by more than the noise: " + ", ".join(strong) in text


# --- the survey variants --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def variant_reports(matrix, tmp_path_factory):
    """Each variant's reports, built from its results with its codebook (and one zh edition)."""
    runs, errors, _, _ = matrix
    built = {}
    for name, (files, out) in sorted(runs.items()):
        if any(k[0] == name and k[1] in ("04", "05") for k in errors):
            continue
        folder = tmp_path_factory.mktemp(f"reports-{name}")
        for labels in (("en", "zh") if name == "spss-7point-zh" else ("en",)):
            target = folder / labels
            done = _cli("--results", str(out), "--out", str(target), "--labels", labels,
                        "--codebook", str(files["codebook"]))
            assert done.returncode == 0, f"{name}: {done.stderr}"
        built[name] = (files, out, folder)
    return built


def test_the_variants_have_reports(matrix, variant_reports):
    _, errors, _, _ = matrix
    failed = sorted({k[0] for k in errors if k[1] in ("04", "05")})
    assert not failed, f"the notebooks did not run for {failed} (see tests/test_variants.py)"
    assert sorted(variant_reports) == sorted(matrix[0])


@pytest.mark.parametrize("name", ["bare-10point", "nested-mixed", "other-codes", "spss-7point-zh",
                                  "study-4point", "user-model"])
def test_variant_pages_hold_only_the_tables_numbers(variant_reports, name):
    if name not in variant_reports:
        pytest.skip("the notebooks did not run for this variant (reported above)")
    files, out, folder = variant_reports[name]
    cb = load_codebook(files["codebook"])
    tables = Tables(out / "tables", cb)
    ids = set(simulate(files["variant"])["respondent_id"])
    expected = {n[:-5] for n in page_names(sorted(tables.ranks.index)).values()}
    for labels in sorted(p.name for p in folder.iterdir()):
        pages = sorted((folder / labels).glob("*.html"))
        assert {p.stem for p in pages} - {"index"} == expected
        for path in pages:
            page = check_page(path, tables, ids)
            assert not page.banner, f"{name}/{path.name}: a user's survey labelled synthetic"
            if labels == "zh":
                found = [v for v in tables.names["en"].values() if v in page.plain]
                assert not found and CJK.search(page.plain), f"{name}/{path.name}: {found}"
        text = parse(next(p for p in pages if p.stem != "index")).plain
        if tables.paths is None:
            assert "no improvement analysis" in text or "没有改进分析" in text
        if tables.ranks["community_type"].eq("all").all():
            assert "records no community types" in text or "未记录社区类型" in text


# --- in a browser ---------------------------------------------------------------------------------





# Waits for the images and fonts, then reports what the checks need: every image's natural and
# shown width, the page's width against the window (a box that scrolls sideways, the wide
# table's, may be wider), and whether two Chinese characters draw different pixels in the font
# of the element that holds them (a missing font draws both as the same empty box).
_PROBE = r"""
const done = arguments[arguments.length - 1];
const settle = () => Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
Promise.all([settle(), document.fonts.ready]).then(() => {
  const vw = window.innerWidth;
  const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const s = getComputedStyle(e).overflowX; if (s === 'auto' || s === 'scroll') return true; }
    return false; };
  let right = 0; const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.right <= vw + 1 || scrolls(el)) continue;
    right = Math.max(right, r.right); wide.push(el.tagName + ' ' + Math.round(r.right));
  }
  const images = Array.from(document.images).map(img => ({natural: img.naturalWidth,
      shown: img.getBoundingClientRect().width}));
  let cjk = null;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/[\u3400-\u9fff]{2,}/);
    if (!m) continue;
    const chars = Array.from(new Set(m[0])).slice(0, 2);
    if (chars.length < 2) continue;
    const family = getComputedStyle(n.parentElement).fontFamily;
    const draw = ch => { const c = document.createElement('canvas'); c.width = 64; c.height = 64;
      const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
      g.fillStyle = '#000'; g.font = '48px ' + family; g.textBaseline = 'top'; g.fillText(ch, 4, 4);
      return Array.from(g.getImageData(0, 0, 64, 64).data).join(','); };
    const a = draw(chars[0]), b = draw(chars[1]);
    cjk = {text: m[0], inked: a.split(',').some(v => v !== '255'), distinct: a !== b};
    break;
  }
  done({vw: vw, scrollWidth: Math.max(document.documentElement.scrollWidth, Math.ceil(right)),
        wide: wide.slice(0, 5), images: images, cjk: cjk});
});
"""


def _pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: its ``/Type /Page`` objects (Chromium writes no object streams)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def test_pdf_pages_counts_page_objects():
    pdf = b"<< /Type /Catalog /Pages 2 0 R >> << /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page >>"
    assert _pdf_pages(pdf) == 2


@pytest.mark.parametrize("width", [1100, 400])
def test_pages_render_in_chromium(shipped, browser, width):
    """The overview and community pages in both languages: every figure drawn, nothing wider
    than the window (the overview's table scrolls in its own box), Chinese drawn with real
    glyphs."""
    out, _ = shipped
    browser.set_window_size(width, 900)
    problems = []
    for rel in ("index.html", "C01.html", "C21.html", "zh/index.html", "zh/C01.html"):
        browser.get((out / rel).as_uri())
        r = browser.execute_async_script(_PROBE)
        if not r["images"] or any(i["natural"] <= 0 or i["shown"] <= 0 for i in r["images"]):
            problems.append(f"{rel}: figures not drawn: {r['images']}")
        if r["scrollWidth"] > r["vw"]:
            problems.append(f"{rel}: {r['scrollWidth']} px wide in {r['vw']} px: {r['wide']}")
        if rel.startswith("zh/") and not (r["cjk"] and r["cjk"]["inked"] and r["cjk"]["distinct"]):
            problems.append(f"{rel}: Chinese not rendered with a CJK font: {r['cjk']}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rel", ["C01.html", "zh/C01.html", "C04.html", "zh/C21.html"])
def test_a_community_page_prints_on_at_most_two_a4_sheets(shipped, browser, rel):
    from selenium.webdriver.common.print_page_options import PrintOptions

    out, _ = shipped
    browser.set_window_size(1100, 900)
    browser.get((out / rel).as_uri())
    browser.execute_async_script(_PROBE)
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # A4, cm
    pdf = base64.b64decode(browser.print_page(options))
    assert pdf.startswith(b"%PDF")
    assert 1 <= _pdf_pages(pdf) <= 2, f"{rel} prints on {_pdf_pages(pdf)} pages"
