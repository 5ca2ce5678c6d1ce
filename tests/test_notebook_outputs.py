"""Committed notebooks show no machine-specific output (it would fail nbval on any other clone)."""

import json
import re

import pytest

from analysis.io import paths

NOTEBOOKS = sorted((paths.ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
MACHINE = re.compile(r"PosixPath\(|WindowsPath\(|(?<![\w.])/(home|root|work|tmp|Users)/")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_carry_no_local_paths(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            match = MACHINE.search(text)
            assert match is None, f"{nb.name} cell {i}: output shows a local path: ...{text[max(0, match.start() - 40):match.end() + 40]}..."


def test_every_notebook_has_a_parameters_cell():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells), nb.name
