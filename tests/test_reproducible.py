"""Outputs that are the same on every machine (issue #18).

Machines differ in the BLAS kernels their processors select, and so in the last bits of
every matrix product. The defences tested here: fits polished to the floating-point limit (so
the point they stop at does not depend on the path), tables written at a stated precision,
figures drawn from rounded numbers, and a comparison that does not depend on the machine.
A different BLAS kernel cannot be selected inside a running process, so the tests perturb
the inputs the way a kernel does -- a different starting point for a fit, a relative change
of 1e-9 in what a table or a figure shows -- and require identical results.
"""

import hashlib
import importlib.util
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.io.outputs import (  # noqa: E402
    quantize_figure,
    round_significant,
    rounded_table,
    savefig,
    write_table,
)
from analysis.plots.style import use_style  # noqa: E402
from analysis.sem import fit_sem  # noqa: E402
from analysis.sem.converge import polish  # noqa: E402
from analysis.sem.estimate import fit_ml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("verify_outputs", ROOT / "scripts" / "verify_outputs.py")
verify = importlib.util.module_from_spec(_spec)
sys.modules["verify_outputs"] = verify  # dataclasses look their module up
_spec.loader.exec_module(verify)

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- rounding ------------------------------------------------------------------------------

def test_round_significant_is_correct_decimal_rounding():
    """Against Python's Decimal rounding of the exact binary value (half to even)."""
    rng = np.random.default_rng(18)
    x = rng.standard_normal(2000) * 10.0 ** rng.integers(-12, 6, 2000)
    for digits in (3, 6):
        got = round_significant(x, digits)
        for v, g in zip(x, got):
            d = Decimal(float(v))
            q = Decimal(1).scaleb(d.adjusted() - digits + 1)
            assert g == float(d.quantize(q, rounding=ROUND_HALF_EVEN))
        assert np.array_equal(round_significant(got, digits), got)  # idempotent
    z = round_significant(np.array([-0.0, -1e-300 * 1e-300]))
    assert np.all(np.signbit(z) == False)  # noqa: E712  (negative zero normalised)
    assert np.isnan(round_significant(np.nan)) and round_significant(np.inf) == np.inf
    with pytest.raises(ValueError, match="digits"):
        round_significant(1.0, 0)


def test_rounded_table_digits_floor_and_object_columns():
    df = pd.DataFrame({"name": ["a", "b", "c"], "est": [0.14425338771, -2.5e-17, 12.3456789],
                       "p": [4.3e-23, 0.5, 0.0123456789], "n": [1, 2, 3],
                       "mixed": ["x", 0.123456789, np.nan]})
    out = rounded_table(df, digits={"p": 3})
    assert out["est"].tolist() == [0.144253, 0.0, 12.3457]  # noise below 1e-12 of 12.3 -> 0
    assert out["p"].tolist() == [0.0, 0.5, 0.0123]          # 4.3e-23 < 1e-12 * 0.5
    assert out["n"].tolist() == [1, 2, 3] and out["n"].dtype == df["n"].dtype
    assert out["mixed"].iloc[1] == 0.123457 and out["mixed"].iloc[0] == "x"
    assert rounded_table(df, zero_below=0)["p"].iloc[0] == 4.3e-23


def test_write_table_writes_the_stated_precision(tmp_path):
    df = pd.DataFrame({"construct": ["MS", "CS"], "alpha": [0.81234567891, -1e-20],
                       "n": [1160.0, np.nan]})
    csv, tex = write_table(df, "t", directory=tmp_path)
    assert csv.read_text() == "construct,alpha,n\nMS,0.812346,1160\nCS,0,\n"
    assert "CS & 0.000 & " in tex.read_text() and "-0.000" not in tex.read_text()
    csv3, _ = write_table(df, "t3", directory=tmp_path, digits={"alpha": 3})
    assert csv3.read_text().splitlines()[1] == "MS,0.812,1160"


def test_write_table_is_unchanged_by_machine_noise(tmp_path):
    """A relative change of 1e-9 (what a BLAS kernel did to the old fits) changes no byte.

    The values are drawn to 4 digits and so sit in the middle of their 6-digit rounding
    interval; a value within 1e-9 of a boundary would change (chance ~1e-3 per value at
    1e-9, ~1e-6 at the 1e-12 the polished fits now reach -- see ``round_significant``).
    """
    rng = np.random.default_rng(7)
    base = pd.DataFrame({"est": np.round(rng.normal(0, 1, 300), 4),
                         "se": np.round(rng.uniform(0.01, 0.1, 300), 5)})
    noisy = base * (1 + 1e-9 * rng.choice([-1, 1], size=base.shape))
    a = write_table(base, "t", directory=tmp_path / "a")
    b = write_table(noisy, "t", directory=tmp_path / "b")
    assert [_sha(p) for p in a] == [_sha(p) for p in b]
    # ... while the old %.10g output would have differed
    assert base.to_csv(float_format="%.10g") != noisy.to_csv(float_format="%.10g")


# --- figures -------------------------------------------------------------------------------

def _busy_figure(scale: float):
    """Lines, markers, bars, a band, error bars, text, an annotation and a heatmap."""
    use_style()
    rng = np.random.default_rng(3)
    x = np.round(np.linspace(0.1, 9.7, 40), 3)
    y = np.round(np.sin(x) + 0.1 * rng.standard_normal(40), 4)
    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(10, 3.5))
    ax.plot(x, y * scale, label="line")
    ax.scatter(x, (y + 0.5) * scale, c=np.abs(y) * scale, s=12)
    ax.fill_between(x, (y - 0.2) * scale, (y + 0.2) * scale, alpha=0.3)
    ax.errorbar(x[::5], y[::5] * scale, yerr=0.1234 * scale, fmt="o")
    ax.annotate("peak", xy=(x[8], y[8] * scale), xytext=(x[8] + 1, y[8] * scale + 0.3),
                arrowprops=dict(arrowstyle="->"))
    ax.axvline(2.3456 * scale)
    ax.legend()
    bx.barh(["a", "b", "c"], np.array([0.3142, 0.2718, 0.1618]) * scale)
    bx.text(0.2 * scale, 1, "label")
    im = cx.imshow(np.round(rng.uniform(size=(5, 5)), 4) * scale, cmap="viridis")
    fig.colorbar(im, ax=cx)
    return fig


def test_figures_are_unchanged_by_machine_noise(tmp_path):
    """PNG and PDF bytes are the same when every plotted value moves by 1e-9 relative."""
    a = savefig(_busy_figure(1.0), "busy", directory=tmp_path / "a")
    b = savefig(_busy_figure(1 + 1e-9), "busy", directory=tmp_path / "b")
    assert [_sha(p) for p in a] == [_sha(p) for p in b]
    # without rounding what is drawn the PDF differs (its paths carry 6 decimals of a point)
    for scale, sub in ((1.0, "c"), (1 + 1e-9, "d")):
        (tmp_path / sub).mkdir()
        _busy_figure(scale).savefig(tmp_path / sub / "busy.pdf", metadata={
            "Creator": None, "Producer": None, "CreationDate": None})
    assert _sha(tmp_path / "c" / "busy.pdf") != _sha(tmp_path / "d" / "busy.pdf")
    plt.close("all")


def test_quantize_figure_rounds_data_and_autoscaled_limits_only():
    fig, (ax, px) = plt.subplots(1, 2)
    line, = ax.plot([0.0, 1.0], [1.23456789, 2.0])
    ax.set_xlim(-0.123456789, 1.5)  # set by hand: kept as given
    px.remove()
    px = fig.add_subplot(1, 2, 2, projection="polar")
    px.plot(np.linspace(0, 2 * np.pi, 6), [1.11111111] * 6)
    quantize_figure(fig)
    assert line.get_ydata().tolist() == [1.23457, 2.0]
    assert ax.get_xlim() == (-0.123456789, 1.5)
    assert ax.get_ylim() == tuple(round_significant(np.array(ax.get_ylim())).tolist())
    assert px.get_xlim() == (0.0, 2 * np.pi)  # polar angles left alone
    plt.close(fig)


# --- fits polished to the floating-point limit ---------------------------------------------

def test_polished_fit_does_not_depend_on_the_path(hs):
    """Two different paths to the ML optimum end within 1e-12 relative (before: ~1e-9).

    A different BLAS kernel changes the path through its rounding; a different start value
    changes it much more, so agreement from two starts bounds what a kernel can do. The
    polished point is limited by the rounding noise of the gradient (~1e-14 here).
    """
    res = fit_sem(HS_MODEL, hs)
    model = res.model
    t1, i1 = fit_ml(model)
    t2, i2 = fit_ml(model, start=np.asarray(model.theta_start) * 1.05 + 0.01)
    assert i1.converged and i2.converged
    assert np.max(np.abs(t1 - t2) / np.maximum(np.abs(t1), 1e-3)) < 1e-12
    assert np.allclose(t1, res.theta, rtol=1e-12, atol=0)


def test_polished_fiml_fit_does_not_depend_on_the_path(hs_mcar):
    """FIML from two starts, as ``fit_sem`` runs it (scoring, then Newton polish): the
    estimates agree to 1e-12 relative (before: ~1e-6 -- scoring converges at a ratio of ~0.5
    per step on these data, and its decrement test stopped it early)."""
    from analysis.sem import fiml
    from analysis.sem.fiml_polish import polish_fiml

    res = fit_sem(HS_MODEL, hs_mcar, missing="fiml")
    model, pats, h1 = res.model, res.extra["patterns"], res.extra["h1"]
    ends = []
    for factor in (1.02, 0.97):
        th, _, _, ok, _ = fiml.maximise_fiml(model, pats, res.theta * factor)
        assert ok
        ends.append(polish_fiml(model, pats, h1, th)[0])
    assert np.max(np.abs(ends[0] - ends[1]) / np.maximum(np.abs(ends[0]), 1e-3)) < 1e-12
    assert np.allclose(ends[0], res.theta, rtol=1e-12, atol=0)


def test_polish_stops_at_the_noise_floor():
    """On a quadratic approached with a poor Hessian, polishing reaches the exact optimum."""
    A = np.array([[3.0, 1.0], [1.0, 2.0]])

    def step(th):
        g = A @ th - np.array([1.0, 1.0])
        return 0.5 * th @ A @ th - th.sum(), -g / 2.5, g @ g / 2.5

    th, n = polish(np.array([0.5, 0.1]), step, max_steps=200)
    assert np.allclose(th, np.linalg.solve(A, [1.0, 1.0]), rtol=0, atol=1e-15)
    assert 5 < n < 200
    bad = polish(np.array([0.2, 0.4]), lambda th: (np.inf, th, np.nan))
    assert bad[1] == 0


# --- the machine-independent comparison ----------------------------------------------------

def _csv(path, text):
    path.write_text(text)
    return path


def test_compare_csv_at_the_written_precision(tmp_path):
    ref = _csv(tmp_path / "a.csv", "lhs,est,n\nOM,0.144253,1160\nCS,2.5e-07,12\n")
    same = _csv(tmp_path / "b.csv", "lhs,est,n\nOM,0.144254,1160\nCS,2.5e-07,12\n")
    assert verify.compare_csv(ref, same, "t.csv") is None  # one unit in the 6th digit
    off = _csv(tmp_path / "c.csv", "lhs,est,n\nOM,0.144253,1160\nCS,2.6e-07,12\n")
    d = verify.compare_csv(ref, off, "t.csv")
    assert d.file == "t.csv" and "row 2" in d.where and "'est'" in d.where and "CS" in d.where
    count = _csv(tmp_path / "d.csv", "lhs,est,n\nOM,0.144253,1161\nCS,2.5e-07,12\n")
    assert "'n'" in verify.compare_csv(ref, count, "t.csv").where  # whole numbers: exact
    text = _csv(tmp_path / "e.csv", "lhs,est,n\nOM,0.144253,1160\nRA,2.5e-07,12\n")
    assert "'lhs'" in verify.compare_csv(ref, text, "t.csv").where
    short = _csv(tmp_path / "f.csv", "lhs,est,n\nOM,0.144253,1160\n")
    assert "rows" in verify.compare_csv(ref, short, "t.csv").message
    cols = _csv(tmp_path / "g.csv", "lhs,se,n\nOM,0.144253,1160\nCS,2.5e-07,12\n")
    assert verify.compare_csv(ref, cols, "t.csv").where == "header"


def test_compare_trees_reports_every_kind_of_difference(tmp_path):
    committed, regen = tmp_path / "repo", tmp_path / "regen"
    for root in (committed, regen):
        (root / "data" / "processed").mkdir(parents=True)
        (root / "figures").mkdir()
    _csv(committed / "data/processed/t.csv", "a\n0.5\n")
    _csv(regen / "data/processed/t.csv", "a\n0.5\n")
    (committed / "figures/f.png").write_bytes(b"\x89PNG1")
    (regen / "figures/f.png").write_bytes(b"\x89PNG2")
    (regen / "figures/new.pdf").write_bytes(b"%PDF")
    diffs, n = verify.compare_trees(committed, regen)
    assert n == 3
    assert [(d.file, d.message.split()[0]) for d in diffs] == [
        ("figures/f.png", "bytes"), ("figures/new.pdf", "written")]


@pytest.mark.skipif(importlib.util.find_spec("papermill") is None, reason="needs papermill")
def test_verify_regenerates_notebooks_00_01_identically(tmp_path, capsys):
    """``make verify`` on the two fastest notebooks (~30 s): every table, figure and text file
    they write equals the committed one (tables at their written precision, the rest byte
    for byte), without touching the repository."""
    before = {p: _sha(p) for p in (ROOT / "figures").glob("*")}
    rc = verify.main(["00", "01", "--keep", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "0 differ" in out
    written = {p.name for p in (tmp_path / "out" / "figures").glob("*")}
    assert {"sample-by-community.pdf", "policy-timeline.png"} <= written
    assert {p: _sha(p) for p in (ROOT / "figures").glob("*")} == before
