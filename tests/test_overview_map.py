"""The map in notebook 00 names every figure and table the notebooks write, and nothing else."""

import re

import nbformat

from analysis.io import paths

# written by `make bench`, not by a notebook
NOT_FROM_NOTEBOOKS = {"benchmarks", "benchmarks-memory"}


def _map_cell() -> str:
    nb = nbformat.read(paths.ROOT / "notebooks" / "00-overview.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "markdown"
                and c.source.startswith("## The map"))


def _columns():
    figures, tables = [], []
    for line in _map_cell().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`0"):
            figures += re.findall(r"`([\w.-]+)`", cells[3])
            tables += re.findall(r"`([\w.-]+)`", cells[4])
    return figures, tables


def test_every_committed_figure_and_table_is_on_the_map_once():
    figures, tables = _columns()
    assert len(figures) == len(set(figures)) and len(tables) == len(set(tables))
    committed_figures = {p.stem for p in (paths.ROOT / "figures").glob("*.png")}
    committed_tables = ({p.stem for p in (paths.ROOT / "data" / "processed").glob("*.csv")}
                        | {p.name for p in (paths.ROOT / "data" / "processed").glob("*.md")})
    assert set(figures) == committed_figures
    assert set(tables) == committed_tables - NOT_FROM_NOTEBOOKS
