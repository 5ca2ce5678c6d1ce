"""Notebook 06 at a small size (it is too heavy for nbval at full size in CI).

The committed notebook is executed with papermill at 12 replications per design into a
temporary folder (figures and tables too), and its outputs are checked for structure and
for wide bounds on the numbers, not for the full-size values.
"""

from pathlib import Path

import pandas as pd
import pytest

papermill = pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "06-simulation-validation.ipynb"
SMALL = dict(n_reps=12, n_grid=[400, 1600], n_reps_grid=8, n_reps_designs=8, n_boot_reps=2,
             n_boot=20, power_n=[400, 1600], power_k=[16, 64], n_reps_power=6, n_jobs=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb06")
    figs, tabs = tmp / "figures", tmp / "tables"
    figs.mkdir()
    tabs.mkdir()
    papermill.execute_notebook(str(NOTEBOOK), str(tmp / "out.ipynb"), kernel_name="python3",
                               parameters=dict(SMALL, figures_dir=str(figs),
                                               tables_dir=str(tabs)),
                               cwd=str(NOTEBOOK.parent), progress_bar=False)
    return figs, tabs


def test_figures_are_written(run):
    figs, _ = run
    for stem in ("simulation-recovery-by-n", "simulation-missing-likert-clustering",
                 "power-by-sample-size"):
        for ext in ("png", "pdf"):
            assert (figs / f"{stem}.{ext}").stat().st_size > 10_000


def test_recovery_table_has_every_design_and_sane_numbers(run):
    _, tabs = run
    s = pd.read_csv(tabs / "simulation-recovery.csv")
    designs = {"main", "N400", "N1600", "mar10", "mar20", "likert", "clustered", "zero_paths"}
    assert set(s["design"]) == designs
    # 12 paths + 22 defined effects per design and method (zero_paths: its 4 zero effects left out)
    counts = s.groupby(["design", "method"]).size()
    assert (counts == 34).all() and len(counts) == 13   # + ML-cluster (clustered), WLSMV (likert)
    assert s["coverage"].between(0, 1).all() and s["rejection"].between(0, 1).all()
    assert (s["n_reps"] >= 6).all()
    main = s[(s["design"] == "main") & (s["kind"] == "path")]
    # 12 replications of ~1,570 residents: SE of a mean path ~0.035/sqrt(12) = 0.01
    assert (main["bias"].abs() < 0.05).all()
    assert main["se_ratio"].between(0.4, 2.5).all()
    fiml = s[(s["design"] == "mar20") & (s["method"] == "FIML")]
    lw = s[(s["design"] == "mar20") & (s["method"] == "listwise")]
    assert fiml["n_obs"].mean() > lw["n_obs"].mean() * 1.15  # listwise drops ~20%


def test_type_contrast_coverage_table(run):
    """Invariants at the small size: the cluster-robust SEs are larger than the resident-level
    ones for every contrast (the community effects of the documented population), and the
    coverage columns are proportions in the right order on average (t >= z >= naive)."""
    _, tabs = run
    s = pd.read_csv(tabs / "simulation-type-contrasts.csv")
    assert len(s) == 18 and (s["n_reps"] >= 6).all()
    assert (s["mean_se_cluster_d"] > 1.3 * s["mean_se_d"]).all()
    for col in ("coverage", "coverage_cluster_z", "coverage_cluster"):
        assert s[col].between(0, 1).all()
    assert (s["coverage_cluster"] >= s["coverage_cluster_z"]).all()
    assert s["coverage_cluster"].mean() > s["coverage"].mean()
    assert (s["bias"].abs() < 0.25).all()


def test_power_tables(run):
    _, tabs = run
    pw = pd.read_csv(tabs / "power-by-design.csv")
    assert set(pw["n_residents"]) == {400, 1600} and set(pw["n_communities"]) == {16, 64}
    assert pw["power"].between(0, 1).all()
    need = pd.read_csv(tabs / "power-required-residents.csv")
    assert list(need.columns) == ["label", "16", "64"]
    b = pd.read_csv(tabs / "simulation-bootstrap-coverage.csv")
    assert len(b) == 34 and b["coverage"].between(0, 1).all()
