"""The report pages as HTML: the district overview and one page per community.

Each page is one self-contained file (styles, figures and the Chinese font inside it), built
from a :class:`analysis.reports.data.Run` with the phrases of :mod:`analysis.reports.text`.
Every text from a table is escaped (:func:`html.escape`); the stylesheet has a print part
(A4, page breaks kept out of figures and tables) so that a community page prints on one or two
sheets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from analysis.io.companions import split_list
from analysis.reports import compare, figures
from analysis.reports.data import Run
from analysis.reports.fonts import FAMILY, cjk_characters, font_face
from analysis.reports.text import (Phrases, const, grade_phrase, half_phrase, ident, number,
                                   quoted, rank_phrase)

__all__ = ["CSS", "FONT_SLOT", "MAX_PROBLEMS", "document", "embed_font", "overview_page",
           "community_page"]

#: Where :func:`embed_font` puts the ``@font-face`` rule of the embedded Chinese font.
FONT_SLOT = "/* embedded CJK font */"

#: Most problems a community page lists (the issue asks for one to three).
MAX_PROBLEMS = 3

CSS = """
:root {
  --cjk: "%(family)s", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
    "Hiragino Sans GB", "Microsoft YaHei", "Droid Sans Fallback", "WenQuanYi Micro Hei";
  --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --accent: #1b6ca8;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%%; }
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, var(--cjk),
  sans-serif; color: var(--ink); line-height: 1.5; margin: 0 auto; max-width: 50rem;
  padding: 1rem 1.1rem 2rem; font-size: 15px; overflow-wrap: break-word; }
body.wide { max-width: 72rem; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: .6rem 0 .3rem; }
h2 { font-size: 1.1rem; margin: 1.3rem 0 .4rem; border-bottom: 1px solid var(--rule);
  padding-bottom: .15rem; }
h3 { font-size: 1rem; margin: .9rem 0 .25rem; }
p { margin: .35rem 0; }
a { color: var(--accent); }
nav { font-size: .9rem; }
.banner { background: #fff4ce; border: 2px solid #c69026; border-radius: 4px;
  padding: .45rem .7rem; font-weight: 600; margin: .3rem 0 .6rem; }
.lede { color: var(--muted); }
.key { font-size: 1.05rem; }
.key .num[data-field="score_eb"] { font-weight: 700; font-size: 1.25rem; }
.scroll { overflow-x: auto; max-width: 100%%; }
table { border-collapse: collapse; width: 100%%; font-size: .9rem; }
th, td { text-align: left; padding: .22rem .4rem; border-bottom: 1px solid var(--rule);
  vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; vertical-align: bottom; }
th::first-letter { text-transform: uppercase; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
figure { margin: .6rem 0; }
figure img { display: block; width: 100%%; max-width: 40rem; height: auto; }
figcaption { font-size: .85rem; color: var(--muted); }
ul { margin: .3rem 0; padding-left: 1.3rem; }
.problem { border-left: 3px solid #d1495b; padding: .1rem 0 .1rem .7rem; margin: .6rem 0; }
.problem p { margin: .2rem 0; }
.note { font-size: .85rem; color: var(--muted); }
footer { margin-top: 1.5rem; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--rule);
  padding-top: .4rem; }
@media print {
  @page { size: A4; margin: 13mm 13mm 14mm; }
  body { max-width: none; padding: 0; font-size: 9.5pt; line-height: 1.38; }
  nav { display: none; }
  h1 { font-size: 15pt; margin-top: 0; }
  h2 { font-size: 11pt; margin: 9pt 0 3pt; break-after: avoid; }
  h3 { break-after: avoid; }
  figure, table, .problem, .banner { break-inside: avoid; }
  figure img { max-width: 15.5cm; }
  .banner, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  .overview-table { font-size: 7.5pt; }
}
"""


def document(p: Phrases, title: str, body: str, *, synthetic: bool, wide: bool = False) -> str:
    """A complete page: head (title, styles, a slot for the CJK font), banner and body.

    The font itself is put in by :func:`embed_font` (once for all pages of a build, so the
    font is subset once).

    Parameters
    ----------
    p : Phrases
    title : str
        HTML (already escaped).
    body : str
        HTML.
    synthetic : bool
        Show the synthetic-data banner (the run analysed the shipped survey).
    wide : bool
        A wider page (the overview's table).

    Returns
    -------
    str

    Examples
    --------
    >>> page = document(Phrases("en"), "T", "<p>x</p>", synthetic=True)
    >>> page.startswith("<!DOCTYPE html>"), 'class="banner"' in page
    (True, True)
    """
    banner = f'<p class="banner" role="note">{p("banner.synthetic")}</p>\n' if synthetic else ""
    lang = "zh-CN" if p.labels == "zh" else "en"
    css = CSS % {"family": FAMILY}
    body_class = ' class="wide"' if wide else ""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_strip(title)}</title>\n<style>{FONT_SLOT}\n{css}</style>\n</head>\n"
            f"<body{body_class}>\n"
            f"{banner}{body}\n</body>\n</html>\n")


def embed_font(pages: Mapping[str, str]) -> dict:
    """The pages with the Chinese font, subset to the CJK characters of all of them, embedded.

    Parameters
    ----------
    pages : mapping
        File name -> HTML from :func:`document`.

    Returns
    -------
    dict
        The same pages, the ``@font-face`` rule (:func:`analysis.reports.fonts.font_face`) in
        each one's font slot; pages without Chinese text get none.

    Examples
    --------
    >>> page = document(Phrases("zh"), "社区", "<p>社区</p>", synthetic=False)
    >>> embed_font({"a.html": page})["a.html"].count("@font-face")
    1
    """
    face = font_face("".join(pages.values()))
    return {name: text.replace(FONT_SLOT, face if cjk_characters(text) else "", 1)
            for name, text in pages.items()}


def _strip(fragment: str) -> str:
    """The text of an HTML fragment (tags removed, entities kept), for <title> and alt text."""
    return re.sub(r"<[^>]+>", "", fragment)


def _figure(uri: str, caption: str) -> str:
    return (f'<figure><img src="{uri}" alt="{html.escape(html.unescape(_strip(caption)))}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _names(p: Phrases, run: Run, codes) -> str:
    return "、".join(html.escape(run.element_names[p.labels][c]) for c in codes) if p.labels == "zh" \
        else ", ".join(html.escape(run.element_names[p.labels][c]) for c in codes)


def _type(p: Phrases, run: Run, community: str) -> str:
    return html.escape(p.term(str(run.ranks.loc[community, "community_type"])))


def _probs(run: Run, community: str) -> dict:
    return {g: float(run.ranks.loc[community, f"p_{g}"]) for g in run.grades}


def _grade_cell(p: Phrases, probs: dict, community: str) -> str:
    """The grades with a probability above zero, the most likely first: "fair 94% · good 6%"."""
    order = sorted((g for g in probs if probs[g] > 0), key=lambda g: (-probs[g], list(probs).index(g)))
    return " · ".join(f"{html.escape(p.grade(g))}\u00a0"
                      f"{number(probs[g], f'p_{g}', community=community, digits=0, scale=100)}%"
                      for g in order)


# --- the community page -------------------------------------------------------------------------

def _score_section(run: Run, c: str, p: Phrases) -> str:
    r = run.ranks.loc[c]
    n = len(run.ranks)
    score = p("score.value", score=number(r["score_eb"], "score_eb", community=c),
              lower=number(r["score_eb_lower"], "score_eb_lower", community=c),
              upper=number(r["score_eb_upper"], "score_eb_upper", community=c),
              level=const("95"), max=const("100"))
    rank = rank_phrase(p, float(r["rank_lower"]), float(r["rank_upper"]), n, community=c)
    half = half_phrase(p, float(r["rank_lower"]), float(r["rank_upper"]), n)
    parts = [f'<p class="key">{score}</p>', f"<p>{p('score.adjusted')}</p>",
             f"<p>{p('rank.sentence', rank=rank, half=half)}</p>"]
    if run.has_types:
        lo, hi, n_type = compare.type_rank_interval(run, c)
        if n_type == 1:
            parts.append(f"<p>{p('typerank.only', type=_type(p, run, c))}</p>")
        else:
            trank = rank_phrase(p, lo, hi, n_type, field="type_rank", community=c,
                                of="typerank.between")
            parts.append(f"<p>{p('typerank.sentence', type=_type(p, run, c), rank=trank)}</p>")
    else:
        parts.append(f"<p>{p('typerank.none')}</p>")
    if run.grades:
        parts.append(f"<p>{p('grade.sentence', grade=grade_phrase(p, _probs(run, c), c))}</p>")
    fig = figures.data_uri(figures.position_figure(run, c, p))
    parts.append(_figure(fig, p("fig.position.caption", level=const("95"))))
    return f"<section>\n<h2>{p('h.score')}</h2>\n" + "\n".join(parts) + "\n</section>\n"


def _elements_section(run: Run, c: str, p: Phrases) -> str:
    t = compare.element_table(run, c)
    peers = compare.peers_of(run, c)
    has_se = run.element_se is not None
    has_peers = bool(peers)
    ref = p("ref.type") if run.has_types else p("ref.all")
    parts = [f"<p>{p('elements.intro', scale=const('0–100'))}</p>"]
    if run.peers is None:
        parts.append(f"<p>{p('elements.no_dea')}</p>")
    elif not has_peers:
        parts.append(f"<p>{p('elements.efficient')}</p>")
    else:
        parts.append(f"<p>{p('elements.peers', peers=', '.join(ident(x) for x in peers))}</p>")
    if not has_se:
        parts.append(f'<p class="note">{p("elements.no_se")}</p>')
    head = [f"<th>{p('col.element')}</th>", f'<th class="n">{p("label.this_community")}</th>']
    if has_se:
        head.append(f'<th class="n">{p("col.interval", level=const("95"))}</th>')
    head.append(f'<th class="n">{p("label.type_mean" if run.has_types else "label.all_mean")}</th>')
    if has_peers:
        head.append(f'<th class="n">{p("label.peer_mean")}</th>')
    rows = []
    for row in t.itertuples():
        e = row.element
        cells = [f"<td>{html.escape(run.element_names[p.labels][e])}</td>",
                 f'<td class="n">{number(row.score, "element_score", community=c, element=e)}</td>']
        if has_se:
            cells.append(f'<td class="n">{number(row.lower, "element_lower", community=c, element=e)}'
                         f"–{number(row.upper, 'element_upper', community=c, element=e)}</td>")
        cells.append(f'<td class="n">{number(row.type_mean, "type_mean", community=c, element=e)}</td>')
        if has_peers:
            peer = number(row.peer_mean, "peer_mean", community=c, element=e)
            cells.append(f'<td class="n">{peer}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    parts.append('<div class="scroll"><table><thead><tr>' + "".join(head) + "</tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table></div>")
    if has_se:
        above = list(t.loc[t["above_type"], "element"])
        key = "elements.strengths" if above else "elements.strengths_none"
    else:
        above = list(t.loc[t["gap_type"] > 0, "element"])
        key = "elements.above" if above else "elements.above_none"
    parts.append(f"<p>{p(key, ref=ref, list=_names(p, run, above))}</p>")
    fig = figures.data_uri(figures.elements_figure(t, run, p, has_peers=has_peers))
    parts.append(_figure(fig, p("fig.elements.caption", ref=ref)))
    return f"<section>\n<h2>{p('h.elements')}</h2>\n" + "\n".join(parts) + "\n</section>\n"


def _aligned(text: str, n: int) -> list:
    """The ``" | "``-joined entries of a community-paths cell, one per problem."""
    parts = [s.strip() for s in str(text).split(" | ")] if str(text).strip() else []
    if len(parts) == n:
        return parts
    if len(parts) == 1:
        return parts * n
    return [" | ".join(parts)] + [""] * (n - 1) if n else []


def _problems_section(run: Run, c: str, p: Phrases) -> str:
    head = f"<section>\n<h2>{p('h.problems')}</h2>\n"
    if run.paths is None:
        return head + f"<p>{p('problems.absent')}</p>\n</section>\n"
    if c not in run.paths.index or not str(run.paths.loc[c, "focus"]).strip():
        return head + f"<p>{p('problems.intro')}</p>\n<p>{p('problems.none')}</p>\n</section>\n"
    row = run.paths.loc[c]
    lang = p.labels
    ids = split_list(row["problem_id"])[:MAX_PROBLEMS]
    texts = {col: _aligned(row.get(f"{col}_{lang}", ""), len(split_list(row["problem_id"])))
             for col in ("problem", "strategy", "path", "action")}
    e = str(row["focus"])
    items = [i for i in split_list(row.get("items", "")) if i in run.wording[lang]]
    parts = [f"<p>{p('problems.intro')}</p>"]
    element = html.escape(run.element_names[lang].get(e, e))
    score = number(row["focus_score"], "focus_score", community=c)
    benchmark = number(row["benchmark"], "benchmark", community=c)
    parts.append(f"<p>{p('problem.element', element=element, score=score, benchmark=benchmark)}</p>")
    if items:
        statements = "".join(f"<li>{quoted(run.wording[lang][i], 'wording')}</li>" for i in items)
        parts.append(f"<p>{p('problem.items')}</p><ul>{statements}</ul>")
    for j, pid in enumerate(ids):
        title = texts["problem"][j] if texts["problem"] else pid
        block = [f"<h3>{quoted(title, 'problem')}</h3>"]
        for col, key in (("strategy", "problem.strategy"), ("path", "problem.path"),
                         ("action", "problem.action")):
            if texts[col] and texts[col][j]:
                block.append(f"<p>{p(key, text=quoted(texts[col][j], col))}</p>")
        parts.append('<div class="problem">' + "".join(block) + "</div>")
    parts.append(f'<p class="note">{p("problem.scores_note")}</p>')
    return head + "\n".join(parts) + "\n</section>\n"


def community_page(run: Run, community: str, p: Phrases, overview: str = "index.html") -> str:
    """The report of one community.

    Parameters
    ----------
    run : Run
    community : str
        A scored community (one with at least ``run.k`` respondents).
    p : Phrases
    overview : str
        Link to the district overview.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        If ``community`` has no scores (suppressed or unknown).

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> page = community_page(load_run(paths.ROOT / "data" / "processed"), "C03", Phrases("en"))
    >>> 'data-field="score_eb" data-community="C03"' in page
    True
    """
    if community not in run.ranks.index:
        raise KeyError(f"community {community!r} has no scores in {run.folder} (suppressed or unknown)")
    c = community
    n = run.scores.loc[c, "n_respondents"]
    title = p("page.community", community=ident(c))
    lede = [p("page.residents", n=number(n, "n_respondents", community=c, digits=0))]
    if run.has_types:
        lede.insert(0, p("page.type", type=_type(p, run, c)))
    body = (f'<nav><a href="{html.escape(overview)}">{p("nav.overview")}</a></nav>\n'
            f"<header><h1>{title}</h1>\n<p class=\"lede\">{' · '.join(lede)}</p></header>\n"
            + _score_section(run, c, p) + _elements_section(run, c, p)
            + _problems_section(run, c, p) + _reading(p) + _footer(p))
    return document(p, title, body, synthetic=run.synthetic)


def _reading(p: Phrases) -> str:
    items = "".join(f"<li>{p(f'reading.{i}', level=const('95'))}</li>" for i in (1, 2, 3))
    return f"<section>\n<h2>{p('h.reading')}</h2>\n<ul>{items}</ul>\n</section>\n"


def _footer(p: Phrases) -> str:
    return f"<footer>{p('footer.source')}</footer>"


# --- the overview -------------------------------------------------------------------------------

def overview_page(run: Run, p: Phrases, pages: Mapping[str, str]) -> str:
    """The district overview: every community, the most clearly in need first.

    Parameters
    ----------
    run : Run
    p : Phrases
    pages : mapping
        Community id -> file name of its page.

    Returns
    -------
    str

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> run = load_run(paths.ROOT / "data" / "processed")
    >>> page = overview_page(run, Phrases("en"), {c: f"{c}.html" for c in run.communities})
    >>> page.count('data-field="score_eb" data-community=')
    47
    """
    n_comm = len(run.ranks) + len(run.suppressed)
    title = p("page.overview", n=number(len(run.ranks), "n_communities", digits=0))
    k = number(run.k, "k", digits=0)
    survey = [p("survey.counts", n_resp=number(run.n_respondents, "n_respondents_total", digits=0),
                n_comm=number(n_comm, "n_communities_surveyed", digits=0),
                n_pub=number(len(run.ranks), "n_communities", digits=0), k=k),
              p("survey.nodates")]
    if len(run.suppressed):
        ids = ", ".join(ident(x) for x in sorted(run.suppressed["community_id"].astype(str)))
        survey.append(p("suppressed.some", ids=ids, k=k))
    else:
        survey.append(p("suppressed.none", k=k))
    can = "".join(f"<li>{p(key, level=const('95'), scale=const('0–100'))}</li>"
                  for key in ("can.1", "can.2", "can.3", "cannot.1", "cannot.2"))
    notes = []
    if run.paths is None:
        notes.append(p("table.no_paths"))
    if run.has_types:
        below_head = p("col.below_type")
    else:
        below_head = p("col.below_all")
    head = [html.escape(p.key("community_id")),
            html.escape(p.key("community_type")) if run.has_types else None,
            p("col.residents"), p("col.score_interval", level=const("95")),
            p("col.rank_interval", level=const("95"))]
    head += [p("col.grades") if run.grades else None, below_head,
             p("col.shortfall") if run.paths is not None else None]
    numeric = {2, 3, 4}
    ths = "".join(f'<th{" class=n" if i in numeric else ""} scope="col">{h}</th>'
                  for i, h in enumerate(head) if h is not None)
    rows = []
    for c in compare.need_order(run):
        r = run.ranks.loc[c]
        cells = [f'<td><a href="{html.escape(pages[c])}">{ident(c)}</a></td>']
        if run.has_types:
            cells.append(f"<td>{_type(p, run, c)}</td>")
        n = number(run.scores.loc[c, "n_respondents"], "n_respondents", community=c, digits=0)
        cells.append(f'<td class="n">{n}</td>')
        cells.append(f'<td class="n">{number(r["score_eb"], "score_eb", community=c)} '
                     f'({number(r["score_eb_lower"], "score_eb_lower", community=c)}–'
                     f'{number(r["score_eb_upper"], "score_eb_upper", community=c)})</td>')
        cells.append(f'<td class="n">{number(r["rank_lower"], "rank_lower", community=c, digits=0)}–'
                     f'{number(r["rank_upper"], "rank_upper", community=c, digits=0)}</td>')
        if run.grades:
            cells.append(f"<td>{_grade_cell(p, _probs(run, c), c)}</td>")
        below = compare.furthest_below_type(run, c)
        if below is None:
            cells.append("<td>–</td>")
        else:
            e, gap = below
            cells.append(f"<td>{html.escape(run.element_names[p.labels][e])} "
                         f"({number(gap, 'gap_below', community=c, element=e, signed=True)})</td>")
        if run.paths is not None:
            focus = str(run.paths.loc[c, "focus"]) if c in run.paths.index else ""
            name = html.escape(run.element_names[p.labels].get(focus, focus)) if focus.strip() else "–"
            cells.append(f"<td>{name}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = ('<div class="scroll"><table class="overview-table"><thead>'
             + f"<tr>{ths}</tr></thead><tbody>" + "\n".join(rows) + "</tbody></table></div>")
    fig = figures.data_uri(figures.overview_figure(run, p))
    ref = p("ref.type") if run.has_types else p("ref.all")
    body = (f"<header><h1>{title}</h1></header>\n"
            f"<section>\n<h2>{p('h.survey')}</h2>\n" + "".join(f"<p>{s}</p>" for s in survey)
            + "\n</section>\n"
            f"<section>\n<h2>{p('h.cancannot')}</h2>\n<ul>{can}</ul>\n</section>\n"
            f"<section>\n<h2>{p('h.table')}</h2>\n<p>{p('table.sort')}</p>\n"
            f"<p class=\"note\">{p('table.dash', ref=ref)}</p>\n"
            + "".join(f'<p class="note">{s}</p>' for s in notes) + table
            + _figure(fig, p("fig.overview.caption" if run.has_types else "fig.overview.caption_notypes",
                             level=const("95"))) + "\n</section>\n"
            + _footer(p))
    return document(p, title, body, synthetic=run.synthetic, wide=True)
