"""DEA against published worked examples.

References
----------
* Bogetoft & Otto (2011), *Benchmarking with DEA, SFA, and R*, six units, one input, one
  output (numbers in ``/work/shared/reference/methods.md``): CRS and VRS input efficiencies.
* Cooper, Seiford & Tone (2007), *Data Envelopment Analysis* (2nd ed.), ch. 3, the
  two-input/one-output example with DMUs A-F, x1 = (4,7,8,4,2,10), x2 = (3,3,1,2,4,1), y = 1:
  theta* = (0.8571, 0.6316, 1, 1, 1, 1); A referenced by D, E (lambda 0.7143, 0.2857); B by C, D
  (0.1053, 0.8947); F is radially efficient but keeps an input slack s1- = 2 against C.
  The numbers follow from the frontier geometry (A projects onto x1 + x2 = 6: theta = 6/7;
  B onto x1 + 4 x2 = 12: theta = 12/19), so they are checked to 1e-6.
* Trick, M. A., *Data Envelopment Analysis* (course notes), Carnegie Mellon University
  (mat.tepper.cmu.edu/classes/mstc/dea), three DMUs, two inputs, three outputs; published LINDO
  output for DMU 2: theta = 0.773333, lambda1 = 0.261538, lambda3 = 0.661538, input-1 slack
  0.248205, output-3 surplus 2.784615 (printed to 6 decimals, so tolerance 1e-6).

Tolerance: HiGHS solves these LPs to ~1e-9, far below the 4-6 printed decimals.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.methods.dea import dea

BO_X = [20, 40, 40, 60, 70, 50]
BO_Y = [20, 30, 50, 40, 60, 20]


def test_bogetoft_otto_crs():
    out = dea(BO_X, BO_Y, rts="crs")
    np.testing.assert_allclose(out["efficiency"], [0.8, 0.6, 1, 0.533333, 0.685714, 0.32], atol=1e-6)
    # every unit is benchmarked against unit 3 (index 2), the highest output/input ratio
    assert out["peers"].tolist() == ["2"] * 6
    np.testing.assert_allclose(out["target_input1"], out["efficiency"] * np.array(BO_X), atol=1e-9)


def test_bogetoft_otto_vrs():
    out = dea(BO_X, BO_Y, rts="vrs")
    np.testing.assert_allclose(out["efficiency"], [1, 0.666667, 1, 0.555556, 1, 0.4], atol=1e-6)
    np.testing.assert_allclose(out["lambda_sum"], 1.0, atol=1e-9)
    # unit 6 (x=50, y=20): VRS target is unit 1 (x=20, y=20)
    assert out.loc[5, "peers"] == "0"
    assert out.loc[5, "target_input1"] == pytest.approx(20.0, abs=1e-6)


def test_output_orientation_crs_is_reciprocal_of_input():
    inp = dea(BO_X, BO_Y, rts="crs", orientation="input")
    out = dea(BO_X, BO_Y, rts="crs", orientation="output")
    np.testing.assert_allclose(out["efficiency"], inp["efficiency"], atol=1e-9)
    np.testing.assert_allclose(out["target_output1"], out["phi"] * np.array(BO_Y), atol=1e-6)


@pytest.fixture
def cst():
    units = list("ABCDEF")
    x = pd.DataFrame({"x1": [4, 7, 8, 4, 2, 10], "x2": [3, 3, 1, 2, 4, 1]}, index=units)
    y = pd.DataFrame({"y": [1.0] * 6}, index=units)
    return x, y


def test_cooper_seiford_tone_ccr_with_slacks(cst):
    x, y = cst
    out = dea(x, y, rts="crs").set_index("unit")
    np.testing.assert_allclose(out["efficiency"], [6 / 7, 12 / 19, 1, 1, 1, 1], atol=1e-6)
    assert out.loc["A", "peers"] == "D;E"
    assert out.loc["B", "peers"] == "C;D"
    assert out.loc["F", "peers"] == "C"
    assert out.loc["F", "slack_x1"] == pytest.approx(2.0, abs=1e-6)
    assert out.loc["F", "slack_x2"] == pytest.approx(0.0, abs=1e-9)
    # F is radially (weakly) efficient only; C, D, E are Pareto-Koopmans efficient
    assert out["efficient"].tolist() == [False, False, True, True, True, False]
    # A's projection theta x = 0.7143 D + 0.2857 E
    np.testing.assert_allclose(out.loc["A", ["target_x1", "target_x2"]].astype(float),
                               [24 / 7, 18 / 7], atol=1e-6)
    np.testing.assert_allclose(out.loc["F", ["target_x1", "target_x2"]].astype(float), [8, 1], atol=1e-6)


def test_trick_three_dmu_example():
    x = pd.DataFrame({"x1": [5, 8, 7], "x2": [14, 15, 12]})
    y = pd.DataFrame({"y1": [9, 5, 4], "y2": [4, 7, 9], "y3": [16, 10, 13]})
    out = dea(x, y, rts="crs")
    np.testing.assert_allclose(out["efficiency"], [1, 0.773333, 1], atol=1e-6)
    assert out.loc[1, "peers"] == "0;2"
    assert out.loc[1, "lambda_sum"] == pytest.approx(0.261538 + 0.661538, abs=2e-6)
    assert out.loc[1, "slack_x1"] == pytest.approx(0.248205, abs=1e-6)
    assert out.loc[1, "slack_y3"] == pytest.approx(2.784615, abs=1e-6)
    # the target is on the frontier: re-running DEA on targets gives full efficiency
    t = out.loc[[1], ["target_x1", "target_x2", "target_y1", "target_y2", "target_y3"]]
    x2 = pd.concat([x, t[["target_x1", "target_x2"]].set_axis(["x1", "x2"], axis=1)], ignore_index=True)
    y2 = pd.concat([y, t[["target_y1", "target_y2", "target_y3"]].set_axis(["y1", "y2", "y3"], axis=1)],
                   ignore_index=True)
    assert dea(x2, y2).loc[3, "efficiency"] == pytest.approx(1.0, abs=1e-7)


def test_vrs_never_below_crs(cst):
    x, y = cst
    crs = dea(x, y, rts="crs")["efficiency"]
    vrs = dea(x, y, rts="vrs")["efficiency"]
    assert (vrs >= crs - 1e-9).all()


def test_units_keep_input_order_and_labels():
    x = pd.DataFrame({"staff": [3.0, 1.0, 2.0]}, index=["c", "a", "b"])
    y = pd.DataFrame({"score": [3.0, 1.0, 1.0]}, index=["c", "a", "b"])
    out = dea(x, y)
    assert out["unit"].tolist() == ["c", "a", "b"]
    np.testing.assert_allclose(out["efficiency"], [1, 1, 0.5], atol=1e-9)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_inputs_name_column_and_rows(bad):
    x = pd.DataFrame({"staff": [3.0, bad, 2.0], "budget": [1.0, 2.0, 3.0]}, index=["C01", "C02", "C03"])
    y = pd.DataFrame({"PV": [1.0, 2.0, 3.0]}, index=x.index)
    with pytest.raises(ValueError, match=r"'staff'.*C02"):
        dea(x, y)


def test_bad_options_and_shapes():
    with pytest.raises(ValueError, match="rts"):
        dea(BO_X, BO_Y, rts="irs")
    with pytest.raises(ValueError, match="orientation"):
        dea(BO_X, BO_Y, orientation="both")
    with pytest.raises(ValueError, match="rows"):
        dea(BO_X, BO_Y[:5])
    with pytest.raises(ValueError, match="all zero"):
        dea([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="output column"):
        dea([1.0, 2.0], [np.nan, 1.0])
