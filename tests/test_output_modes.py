"""Atomic writers give outputs the mode an ordinary write would, not mkstemp's private 0600.

A new file gets ``0o666 & ~umask`` (0644 under umask 022, 0664 under umask 002); a replaced
file keeps its mode. Checked for every writer that ``make reproduce`` uses: ``atomic_path``,
``write_text``, ``savefig``, ``write_table`` and the notebook runner.
"""

import importlib.util
import os
import stat

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.io import paths  # noqa: E402
from analysis.io.outputs import savefig, write_table  # noqa: E402
from analysis.io.paths import atomic_path, current_umask, output_mode, write_text  # noqa: E402

spec = importlib.util.spec_from_file_location("run_notebook",
                                              paths.ROOT / "scripts" / "run_notebook.py")
run_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebook)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _atomic(target):
    with atomic_path(target) as tmp:
        tmp.write_text("x")
    return [target]


def _text(target):
    return [write_text(target, "x")]


def _figure(target):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    try:
        return savefig(fig, target.stem, directory=target.parent)
    finally:
        plt.close(fig)


def _table(target):
    return write_table(pd.DataFrame({"a": [1.5]}), target.stem, directory=target.parent)


WRITERS = {"atomic_path": (_atomic, ["out.txt"]), "write_text": (_text, ["out.txt"]),
           "savefig": (_figure, ["out.png", "out.pdf"]),
           "write_table": (_table, ["out.csv", "out.tex"])}


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664)],
                         ids=["umask022", "umask002"])
def test_new_outputs_get_the_ordinary_mode(tmp_path, umask, writer, mask, expected):
    write, names = WRITERS[writer]
    umask(mask)
    written = write(tmp_path / "out.txt")
    assert sorted(p.name for p in written) == sorted(names)
    assert {p.name: oct(mode(p)) for p in written} == {n: oct(expected) for n in names}
    # no temporary file is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


@pytest.mark.parametrize("writer", WRITERS)
def test_replaced_outputs_keep_their_mode(tmp_path, umask, writer):
    write, names = WRITERS[writer]
    for n in names:
        (tmp_path / n).write_text("old")
        os.chmod(tmp_path / n, 0o640)
    umask(0o002)  # a new file would be 0664; the existing one must stay 0640
    written = write(tmp_path / "out.txt")
    assert {p.name: oct(mode(p)) for p in written} == {n: "0o640" for n in names}
    assert all(p.read_bytes() != b"old" for p in written)


def test_umask_is_read_without_proc_too(umask, monkeypatch):
    umask(0o027)
    assert current_umask() == 0o027
    monkeypatch.setattr(paths, "_PROC_STATUS", "/nonexistent/status")
    assert current_umask() == 0o027          # set-and-restore fallback
    assert os.umask(0o027) == 0o027          # ... which left the mask as it was


def test_output_mode_of_a_missing_and_an_existing_file(tmp_path, umask):
    umask(0o077)
    assert output_mode(tmp_path / "new.csv") == 0o600
    (tmp_path / "old.csv").write_text("")
    os.chmod(tmp_path / "old.csv", 0o664)
    assert output_mode(tmp_path / "old.csv") == 0o664


def test_run_notebook_keeps_the_notebooks_mode(tmp_path, umask):
    """The runner rewrites a notebook in place through atomic_path: its mode must survive.

    Under umask 077 mkstemp's 0600 and a umask-derived mode would coincide, so the notebook is
    made 0644 first: only keeping the existing mode gives 0644 afterwards.
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1 + 1)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb_path = tmp_path / "07-modes.ipynb"
    nbformat.write(nb, nb_path)
    os.chmod(nb_path, 0o644)
    umask(0o077)
    run_notebook.run(nb_path, {})
    assert oct(mode(nb_path)) == "0o644"
    assert nbformat.read(nb_path, as_version=4).cells[0].outputs[0]["text"] == "2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["07-modes.ipynb"]
