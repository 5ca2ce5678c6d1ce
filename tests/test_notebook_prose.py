r"""Prose that contradicts the output beside it (issue #19.4): every number a notebook's markdown
states must be printed by one of its output cells, or be a constant of the method that its code
or the literature it cites fixes (listed below, each with its source).

A markdown number counts as printed when an output of the same notebook shows the same value
at the markdown's precision: "0.49" is printed by an output 0.485 (rounded half up), "1,600"
only by 1600 itself, "22%" by 0.22 or by 22. What counts as "a number" is the hook's pattern
(decimals, leading-dot decimals of two or more digits, thousands with separators), made
stricter: thousands from one leading digit ("1,570", which the hook's ``\d{2,}`` misses), and
percentages are matched against shares. Cells tagged ``synthetic-only`` are checked too: they state
results of the shipped survey and must agree with its committed outputs.
"""

import re

import nbformat
import pytest

from analysis.io import paths

NUMBER = re.compile(r"(?<![\w.,])(\d[\d,]*\.\d+|\.\d{2,}|\d{1,3}(?:,\d{3})+)(?![\w])")
TOKEN = re.compile(r"(?<![\w.])-?(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)")

# Method constants that the markdown explains and no output needs to print: thresholds and
# values fixed by the cited literature or by the method itself.
METHOD_CONSTANTS = {
    ".70": "conventional ICC(2), rwg(j), alpha and CR threshold (Nunnally & Bernstein 1994; LeBreton & Senter 2008)",
    ".50": "AVE and standardised-loading threshold (Fornell & Larcker 1981)",
    ".85": "HTMT conservative cut-off (Henseler, Ringle & Sarstedt 2015)",
    ".90": "HTMT liberal cut-off; Kaiser's 'marvelous' KMO (Kaiser 1974)",
    ".80": "Kaiser's 'meritorious' KMO (Kaiser 1974)",
    ".95": "CFI/TLI cut-off (Hu & Bentler 1999)",
    ".06": "RMSEA cut-off (Hu & Bentler 1999)",
    ".08": "SRMR cut-off (Hu & Bentler 1999)",
    ".60": "CR threshold when AVE is below .50 (Fornell & Larcker 1981)",
    ".15": "lower end of the mean inter-item correlation band (Clark & Watson 1995)",
    ".30": "corrected item-total correlation threshold (the notebook's r_drop_min)",
    ".40": "EFA primary-loading and cross-loading thresholds (efa_min, cross_max)",
    ".10": "AHP consistency-ratio threshold (Saaty 1980)",
    "0.10": "AHP consistency-ratio threshold (Saaty 1980)",
    "1.12": "Saaty's random index for five elements",
    "1.96": "the 97.5% normal quantile",
    "0.50": "a documented population path (MS -> CS), the notebook's example",
    "0.25": "an equal weight share of four items",
    "87.5": "fuzzy-grade band bound (scoring.GRADE_BANDS)",
    "62.5": "fuzzy-grade band bound (scoring.GRADE_BANDS)",
    "37.5": "fuzzy-grade band bound (scoring.GRADE_BANDS)",
    ".01": "change-in-CFI criterion (Chen 2007)",
    "1,000": "quoted from the 2025 revision of the Organic Law (households per committee), notebook 01",
    "3,000": "quoted from the 2025 revision of the Organic Law (households per committee), notebook 01",
}

NOTEBOOKS = sorted((paths.ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def printed_numbers(nb) -> list[float]:
    """Every number shown by the notebook's outputs (text, tables, computed Markdown)."""
    found = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        for o in c.outputs:
            text = "".join(o.get("text", ""))
            for key in ("text/plain", "text/markdown", "text/html"):
                text += "".join(o.get("data", {}).get(key, ""))
            found += [_value(m.group(1)) for m in TOKEN.finditer(text)]
    return found


def unprinted(nb) -> list[tuple[int, str, str]]:
    """(cell, number, context) of markdown numbers that no output prints."""
    shown = printed_numbers(nb)
    code = " ".join(c.source for c in nb.cells if c.cell_type == "code")
    bad = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "markdown":
            continue
        for m in NUMBER.finditer(c.source):
            s = m.group(1)
            if s in METHOD_CONSTANTS or re.search(rf"(?<![\w.]){re.escape(s)}(?![\w])", code):
                continue
            v, d = _value(s), _decimals(s)
            half = 0.5 * 10 ** -d + 1e-9
            if "," in s or d == 0:
                ok = any(o == v for o in shown)
            else:
                pct = m.end() < len(c.source) and c.source[m.end():m.end() + 2].strip().startswith("%")
                ok = any(abs(o - v) <= half for o in shown) or (
                    pct and any(abs(100 * o - v) <= half for o in shown))
            if not ok:
                bad.append((i, s, c.source[max(0, m.start() - 60):m.end() + 20].replace("\n", " ")))
    return bad


def test_the_check_catches_an_unprinted_number():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(0.485, 1601)"),
                nbformat.v4.new_markdown_cell("kappa is 0.49 and about 1,570 residents; ceilings .22")]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.485 1601\n")]
    assert [b[1] for b in unprinted(nb)] == ["1,570", ".22"]
    nb.cells[0].outputs[0]["text"] = "0.485 1570 0.221\n"
    assert unprinted(nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_numbers_are_printed_by_the_notebook(path):
    nb = nbformat.read(path, as_version=4)
    bad = unprinted(nb)
    assert not bad, "\n".join(f"cell {i}: {s!r} in ...{ctx}..." for i, s, ctx in bad)
