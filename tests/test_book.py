"""The HTML edition (``make book``): built from the committed notebooks, complete, and readable.

One module-scoped build (``scripts/build_book.py`` into a temporary folder, about 10 s: the
notebooks are not executed) serves every test. The static tests read the pages with the
standard library's HTML parser; the browser tests open them in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by selenium) and are skipped, with the reason, where
those are not installed (``.ci/run`` installs them).
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = _load_build_script()
NOTEBOOKS = build_book.notebooks()


class _Page(HTMLParser):
    """What the tests need from one page: its <h1>, images, links, tables and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.h1 = []
        self.imgs = []          # (src, inside a cell output?)
        self.links = []
        self.scripts = []
        self.stylesheets = []
        self.tables = 0
        self.text = []
        self._in_h1 = False
        self._stack = []        # open elements' classes, to know if we are in a cell output

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source", "wbr"):
            self._stack.append(a.get("class") or "")
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")
        elif tag == "img":
            in_output = any("cell_output" in c for c in self._stack)
            self.imgs.append((a.get("src", ""), in_output))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href", ""))
        elif tag == "table":
            self.tables += 1

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source", "wbr") and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._in_h1:
            self.h1[-1] += data
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _heading(nb_path: Path) -> str:
    """The first markdown heading of a notebook (its title)."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    raise AssertionError(f"{nb_path.name} has no '# title' heading")


def _outputs(nb_path: Path):
    """(number of PNG figures, printed texts, number of markdown tables) of a notebook."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    figures, texts, tables = 0, [], 0
    for cell in cells:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            tables += len(re.findall(r"^\|[-:| ]+\|\s*$", src, re.M))
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                figures += 1
            elif "text/markdown" in data:
                tables += len(re.findall(r"^\|[-:| ]+\|\s*$", "".join(data["text/markdown"]),
                                         re.M))
            if out["output_type"] == "stream":
                texts.append("".join(out["text"]))
    return figures, texts, tables


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """The HTML edition, built once for this module into a temporary folder."""
    work = tmp_path_factory.mktemp("book")
    return build_book.build(work / "html", work)


def test_there_are_seven_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_page(book, nb):
    """A page per notebook whose title is the notebook's, linked from the landing page."""
    page_path = book / f"{nb.stem}.html"
    assert page_path.is_file(), f"no page for {nb.name}"
    page = _parse(page_path)
    assert [_squash(h).rstrip("#¶ ") for h in page.h1] == [_heading(nb)]
    landing = _parse(book / "index.html")
    assert f"{nb.stem}.html" in landing.links, f"the landing page does not link {nb.stem}.html"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_and_printed_table_is_on_its_page(book, nb):
    """Each PNG output becomes an <img> in a cell output, each printed output is on the page
    verbatim (whitespace aside), each markdown table becomes a <table>."""
    figures, texts, tables = _outputs(nb)
    page = _parse(book / f"{nb.stem}.html")
    assert sum(in_output for _, in_output in page.imgs) == figures
    body = _squash("".join(page.text))
    for text in texts:
        assert _squash(html.unescape(text)) in body, f"{nb.name}: output missing: {text[:80]!r}"
    assert page.tables >= tables


def test_landing_page_says_what_the_study_asks_and_that_the_data_are_synthetic(book):
    page = _parse(book / "index.html")
    text = _squash("".join(page.text))
    assert "What the study asks" in text and "The map of steps" in text
    assert "The data are synthetic" in text and "No number in these pages is a result" in text
    assert page.tables >= 2


def test_every_image_and_local_link_resolves(book):
    """Every <img src>, stylesheet, script and link to a local page points to a file of the
    build (nothing is fetched from the network: the edition is read offline)."""
    pages = sorted(book.glob("*.html"))
    assert len(pages) >= len(NOTEBOOKS) + 1
    n_images = 0
    for path in pages:
        page = _parse(path)
        loaded = [src for src, _ in page.imgs] + page.scripts + page.stylesheets
        for ref in loaded:
            assert not re.match(r"^([a-z]+:)?//", ref), f"{path.name} loads {ref} from the network"
        for ref in loaded + [h for h in page.links if not h.startswith(("#", "mailto:"))]:
            if re.match(r"^[a-z]+:", ref) or ref.startswith("//"):
                continue  # an external hyperlink (a reader may follow it; nothing is loaded)
            target = (path.parent / ref.split("#")[0].split("?")[0]).resolve()
            assert target.is_file(), f"{path.name}: {ref} does not resolve"
        for src, _ in page.imgs:
            target = path.parent / src
            if target.suffix == ".png":
                assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{src} is not a PNG"
            n_images += 1
    assert n_images >= sum(_outputs(nb)[0] for nb in NOTEBOOKS)


def test_pages_carry_the_cjk_font_stack(book):
    css = (book / "_static" / "book.css").read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in css and "var(--cjk-sans)" in css
    assert 'href="_static/book.css' in (book / "index.html").read_text(encoding="utf-8")


# --- in a browser ---------------------------------------------------------------------------

WIDTHS = {"desktop": (1280, 900), "narrow": (400, 800)}




class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(book):
    """The built pages on a loopback HTTP server (as a reader's browser would get them)."""
    handler = functools.partial(_Quiet, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()




# Runs in the page once it is loaded: waits for every image, then reports what the checks need.
_PROBE = r"""
const done = arguments[arguments.length - 1];
const settle = () => Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
const typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
Promise.all([settle(), document.fonts.ready, typeset]).then(() => {
  const vw = window.innerWidth;
  // furo sets overflow-x: hidden on <html> and auto on its content column, which would clip
  // or scroll a too-wide element rather than widen document.scrollWidth; so the widest element
  // is measured too. Exempt are elements inside a box of the article that scrolls sideways
  // (overflow-x auto or scroll: a wide printed table, a code cell) and the theme's off-canvas
  // drawers (position: fixed, slid out of view on a narrow screen).
  const article = document.querySelector('article');
  const exempt = el => { for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.position === 'fixed') return true;
      if (e !== el && article && e !== article && article.contains(e)
          && (s.overflowX === 'auto' || s.overflowX === 'scroll')) return true; }
    return false; };
  const wide = [];
  let right = 0;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.right <= vw + 1 || exempt(el)) continue;
    right = Math.max(right, r.right + window.scrollX);
    wide.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '')
              + ' right=' + Math.round(r.right));
  }
  const images = Array.from(document.images).map(img => ({src: img.getAttribute('src'),
      natural: img.naturalWidth, shown: img.getBoundingClientRect().width}));
  // Chinese glyphs: draw two different characters in the font of the element that holds them.
  // With a CJK font they differ; without one both are the same missing-glyph box (tofu).
  let cjk = null;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/[\u3400-\u9fff]{2,}/);
    if (!m) continue;
    const family = getComputedStyle(n.parentElement).fontFamily;
    const draw = ch => { const c = document.createElement('canvas'); c.width = 64; c.height = 64;
      const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
      g.fillStyle = '#000'; g.font = '48px ' + family; g.textBaseline = 'top'; g.fillText(ch, 4, 4);
      return Array.from(g.getImageData(0, 0, 64, 64).data).join(','); };
    const chars = Array.from(new Set(m[0])).slice(0, 2);
    if (chars.length < 2) continue;
    const ink = s => s.split(',').some(v => v !== '255');
    const a = draw(chars[0]), b = draw(chars[1]);
    cjk = {text: m[0], family: family, inked: ink(a) && ink(b), distinct: a !== b};
    break;
  }
  const math = Array.from(document.querySelectorAll('span.math, div.math'));
  done({math: math.length, typeset: math.filter(m => m.querySelector('mjx-container')).length,
        vw: vw, scrollWidth: Math.max(document.documentElement.scrollWidth, Math.ceil(right)), wide: wide.slice(0, 5),
        images: images, cjk: cjk});
});
"""


def _pages():
    return ["index"] + [nb.stem for nb in NOTEBOOKS]


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
def test_pages_render_in_chromium(book, server, browser, width):
    """At a desktop and a 400 px width, every page shows every figure (naturalWidth > 0 and a
    visible width), nothing widens the page (document.scrollWidth <= window.innerWidth; wide
    tables scroll inside their own box), every formula is typeset by the bundled MathJax, and
    Chinese text is drawn with real glyphs (two different characters give different pixels: a
    missing font draws both as the same empty box)."""
    browser.set_window_size(*WIDTHS[width])
    browser.set_script_timeout(60)
    problems = []
    for name in _pages():
        browser.get(f"{server}/{name}.html")
        r = browser.execute_async_script(_PROBE)
        expected = _outputs(ROOT / "notebooks" / f"{name}.ipynb")[0] if name != "index" else 0
        shown = [i for i in r["images"] if i["natural"] > 0 and i["shown"] > 0]
        if len(shown) != len(r["images"]) or len(r["images"]) < expected:
            problems.append(f"{name}: images not rendered: "
                            f"{[i['src'] for i in r['images'] if i not in shown]}")
        if r["scrollWidth"] > r["vw"]:
            problems.append(f"{name}: page is {r['scrollWidth']} px wide in a {r['vw']} px "
                            f"window; widest: {r['wide']}")
        if r["typeset"] != r["math"]:
            problems.append(f"{name}: {r['math'] - r['typeset']} of {r['math']} formulas not "
                            "typeset by MathJax")
        has_cjk = bool(CJK.search((book / f"{name}.html").read_text(encoding="utf-8")))
        if has_cjk and not (r["cjk"] and r["cjk"]["inked"] and r["cjk"]["distinct"]):
            problems.append(f"{name}: Chinese text is not rendered with a CJK font: {r['cjk']} "
                            "(install a CJK font, e.g. Debian's fonts-noto-cjk)")
    assert not problems, "\n".join(problems)
