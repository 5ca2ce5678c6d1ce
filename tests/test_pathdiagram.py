"""analysis.plots.structural: what is drawn matches the estimates it is given.

The figures are checked through the artists they create (arrows, labels, points), from
small hand-made estimate tables, so the tests are fast and do not depend on a fit.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle  # noqa: E402

from analysis.plots import structural as pdg  # noqa: E402
from analysis.study.models import CHAIN_PATHS  # noqa: E402


@pytest.fixture
def estimates():
    rows = [("X", "=~", "x1", 1.0, np.nan, 0.8), ("X", "=~", "x2", 0.9, 1e-9, 0.7),
            ("M", "=~", "m1", 1.0, np.nan, 0.75), ("M", "=~", "m2", 1.1, 1e-9, 0.72),
            ("Y", "=~", "y1", 1.0, np.nan, 0.81), ("Y", "=~", "y2", 1.0, 1e-9, 0.77),
            ("M", "~", "X", 0.5, 1e-6, 0.456), ("Y", "~", "M", 0.3, 0.003, 0.31),
            ("Y", "~", "X", 0.05, 0.40, 0.048),
            ("M", "~~", "M", 0.7, 1e-9, 0.79), ("Y", "~~", "Y", 0.6, 1e-9, 0.88)]
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "pvalue", "std_all"])


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_stars():
    assert [pdg.stars(p) for p in (0.0005, 0.005, 0.03, 0.2, np.nan)] == [
        "***", "**", "*", "", ""]


def test_layered_layout_orders_the_chain_by_causal_depth():
    pos = pdg.layered_layout(list(CHAIN_PATHS) + [(e, "PV") for e in
                                                  ("MS", "CS", "OM", "RA", "CC")])
    xs = {k: v[0] for k, v in pos.items()}
    assert xs["MS"] < xs["CS"] < xs["OM"] < xs["RA"] == xs["CC"] < xs["PV"]
    # RA and CC share a layer and are spread vertically; MS and OM are off the centre line
    assert pos["RA"][1] != pos["CC"][1]
    assert pos["PV"][1] == 0 and pos["MS"][1] != 0
    with pytest.raises(ValueError, match="cycle"):
        pdg.layered_layout([("a", "b"), ("b", "a")])


def test_path_diagram_draws_every_path_with_its_coefficient(estimates):
    fig, ax = plt.subplots()
    pdg.path_diagram(estimates, ax)
    ells = [p for p in ax.patches if isinstance(p, Ellipse)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(ells) == 3 and len(arrows) == 3
    t = texts(ax)
    assert "0.46***" in t and "0.31**" in t and "0.05" in t
    # R-squared = 1 - standardised residual variance
    assert "R² = 0.21" in t and "R² = 0.12" in t
    # the non-significant path is dashed and grey, the others solid
    styles = [a.get_linestyle() for a in arrows]
    assert styles.count("-") == 2 and sum(s != "-" for s in styles) == 1
    plt.close(fig)


def test_path_diagram_items_and_errors(estimates):
    fig, ax = plt.subplots()
    pdg.path_diagram(estimates, ax, show_items=True)
    assert len([p for p in ax.patches if isinstance(p, Rectangle)
                and p.get_width() < 1]) == 6
    assert "0.72" in texts(ax) and "x2" in texts(ax)
    with pytest.raises(ValueError, match="single-group"):
        pdg.path_diagram(estimates.assign(group=1), ax)
    with pytest.raises(ValueError, match="positions lack"):
        pdg.path_diagram(estimates, ax, positions={"X": (0, 0)})
    plt.close(fig)


def test_forest_plot_draws_one_row_per_path():
    eff = pd.DataFrame({"element": ["A", "A", "B"], "effect": ["specific"] * 3,
                        "path": ["A -> M -> Y", "A -> N -> Y", "B -> M -> Y"],
                        "name": ["ind_A_M", "ind_A_N", "ind_B_M"], "est": [0.1, 0.2, 0.05],
                        "ci_lower_perc": [0.0, 0.1, -0.02], "ci_upper_perc": [0.2, 0.3, 0.1]})
    fig, ax = plt.subplots()
    pdg.forest_plot(eff, ax, kinds=("perc",))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["A -> M -> Y", "A -> N -> Y", "B -> M -> Y"]
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose(sorted(s[0][0] for s in segs), [-0.02, 0.0, 0.1])
    with pytest.raises(ValueError, match="attach_bootstrap"):
        pdg.forest_plot(eff, ax, kinds=("bca",))
    plt.close(fig)


def test_latent_means_plot_draws_d_and_scaled_intervals():
    lm = pd.DataFrame({"construct": ["F", "F", "G", "G"], "group": ["ref", "b", "ref", "b"],
                       "est": [0.0, 0.4, 0.0, -0.2], "ci_lower": [0, 0.2, 0, -0.4],
                       "ci_upper": [0, 0.6, 0, 0.0], "d": [0.0, 0.8, 0.0, -0.1]})
    truth = pd.DataFrame({"construct": ["F", "G"], "group": ["b", "b"], "true_d": [0.7, 0.0]})
    fig, ax = plt.subplots()
    pdg.latent_means_plot(lm, ax, truth=truth)
    line = ax.lines[0]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), [0.8, -0.1])
    # interval scaled by d / est: F [0.4, 1.2], G [-0.2, 0.0]
    bars = ax.collections[0].get_segments()
    np.testing.assert_allclose([np.asarray(s, float)[:, 1] for s in bars],
                               [[0.4, 1.2], [-0.2, 0.0]])
    assert "ref" in ax.get_ylabel()
    with pytest.raises(ValueError, match="lack columns"):
        pdg.latent_means_plot(lm.drop(columns="d"), ax)
    plt.close(fig)
