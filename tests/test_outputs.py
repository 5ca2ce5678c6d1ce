"""Figures and tables are written atomically and byte-identically."""

import hashlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.io.outputs import (
    savefig,
    write_table,  # noqa: E402
)
from analysis.io.paths import atomic_path  # noqa: E402
from analysis.plots.style import use_style  # noqa: E402


def _figure():
    use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 3, 2], label="line")
    ax.set_title("Title")
    ax.legend()
    return fig


def test_savefig_is_byte_identical_across_calls(tmp_path):
    a = savefig(_figure(), "demo", directory=tmp_path / "a")
    b = savefig(_figure(), "demo", directory=tmp_path / "b")
    assert [p.name for p in a] == ["demo.png", "demo.pdf"]
    for x, y in zip(a, b):
        assert hashlib.sha256(x.read_bytes()).digest() == hashlib.sha256(y.read_bytes()).digest()
    assert b"CreationDate" not in a[1].read_bytes()
    plt.close("all")


@pytest.mark.parametrize("bad", ["", "fig.png", "sub/dir"])
def test_savefig_refuses_names_that_are_not_stems(tmp_path, bad):
    with pytest.raises(ValueError, match="bare stem"):
        savefig(_figure(), bad, directory=tmp_path)
    plt.close("all")


def test_write_table_csv_and_booktabs(tmp_path):
    df = pd.DataFrame({"construct": ["MS_a", "R&D"], "alpha": [0.81234, 0.7]})
    csv, tex = write_table(df, "reliability", caption="Alpha 100%", directory=tmp_path)
    assert csv.read_text() == "construct,alpha\nMS_a,0.81234\nR&D,0.7\n"
    text = tex.read_text()
    for piece in ["\\toprule", "\\midrule", "\\bottomrule", "MS\\_a & 0.812", "R\\&D & 0.700",
                  "\\caption{Alpha 100\\%}", "\\begin{tabular}{lr}"]:
        assert piece in text


def test_atomic_path_leaves_the_old_file_when_interrupted(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
