"""Budget allocation: the SLSQP optimum against closed-form KKT answers.

With the response d_j(x) = h_j (1 - exp(-x / (c_j h_j))) and gain sum_j a_j d_j(x_j), the
stationarity condition a_j / c_j exp(-x_j / (c_j h_j)) = mu for every funded element gives,
when all elements are funded, x_j = c_j h_j (ln(a_j / c_j) - ln mu) with
ln mu = (sum_j c_j h_j ln(a_j / c_j) - B) / sum_j c_j h_j. The optimiser is asked to reach that
to 1e-5 of the budget (SLSQP's ftol is 1e-12 on a gain of order one).
"""

import numpy as np
import pandas as pd
import pytest

from analysis.io.companions import check_costs, load_costs
from analysis.methods.budget import allocate, frontier, kkt_allocation, response


def closed_form(a, c, h, budget):
    a, c, h = map(np.asarray, (a, c, h))
    ch = c * h
    log_mu = (np.sum(ch * np.log(a / c)) - budget) / ch.sum()
    return ch * (np.log(a / c) - log_mu)


def test_response_is_concave_and_capped():
    x = np.linspace(0, 1000, 201)
    d = response(x, cost=2.0, headroom=30.0)
    assert d[0] == 0
    assert np.all(np.diff(d) > 0) and np.all(np.diff(d, 2) < 0)
    assert d[-1] < 30.0 and d[-1] == pytest.approx(30.0, rel=1e-6)
    # the first point costs c: slope at zero is 1 / c
    assert response(1e-6, 2.0, 30.0) / 1e-6 == pytest.approx(0.5, rel=1e-6)
    assert response(5.0, 1.0, 0.0) == 0.0  # no headroom, no gain


def test_allocation_matches_closed_form_interior_solution():
    a, c, p = [0.40, 0.25, 0.30], [30.0, 20.0, 50.0], [60.0, 55.0, 45.0]
    h = 100 - np.array(p)
    budget = 2000.0
    expected = closed_form(a, c, h, budget)
    assert np.all(expected > 0)  # the case is interior, so the closed form applies
    out = allocate(a, c, p, budget, names=["MS", "CS", "OM"], polish=False)
    np.testing.assert_allclose(out["spend"], expected, atol=1e-5 * budget)
    assert out["spend"].sum() == pytest.approx(budget, rel=1e-12)
    # KKT: equal marginal gain per 10k yuan in all funded elements
    mg = out["marginal_gain_per_10k"].to_numpy()
    np.testing.assert_allclose(mg, mg.mean(), rtol=1e-4)


def test_corner_solution_satisfies_kkt():
    # element 2 has a low gain-to-cost ratio and a negative element gets nothing
    a, c, p = [0.5, 0.02, -0.1], [10.0, 40.0, 5.0], [50.0, 50.0, 50.0]
    out = allocate(a, c, p, 100.0)
    assert out.loc[2, "spend"] == 0.0
    assert out.loc[1, "spend"] == pytest.approx(0.0, abs=1e-6)
    mu = out.loc[0, "marginal_gain_per_10k"]
    assert 0.02 / 40.0 <= mu + 1e-12  # unfunded element's first yuan is worth no more than mu
    np.testing.assert_allclose(out["spend"], kkt_allocation(a, c, p, 100.0), atol=1e-4)


@pytest.mark.parametrize("budget", [0.0, 10.0, 300.0, 1000.0])
@pytest.mark.parametrize("polish", [False, True])
def test_slsqp_agrees_with_water_filling(budget, polish):
    # the raw SLSQP optimum (polish=False) is checked on its own, independently of the
    # closed-form refinement; with polish the agreement is to bisection precision
    a, c, p = [0.35, 0.1, 0.25, 0.05, 0.2], [2.0, 1.0, 3.0, 0.5, 1.5], [55.0, 70.0, 40.0, 95.0, 60.0]
    out = allocate(a, c, p, budget, polish=polish)
    tol = 1e-9 if polish else 1e-5
    np.testing.assert_allclose(out["spend"], kkt_allocation(a, c, p, budget), atol=tol * max(budget, 1))


def test_ceiling_is_never_passed():
    out = allocate([0.5, 0.5], [1.0, 1.0], [99.0, 100.0], budget=1e4)
    assert (out["new_score"] <= 100.0).all()
    assert out.loc[1, "spend"] == 0.0 and out.loc[1, "points"] == 0.0


def test_frontier_is_increasing_and_concave():
    a, c, p = [0.4, 0.25, 0.3], [30.0, 20.0, 50.0], [60.0, 55.0, 45.0]
    f = frontier(a, c, p, budgets=np.linspace(0, 3000, 7), names=["MS", "CS", "OM"])
    total = f.loc[f["element"] == "total", "pv_gain"].to_numpy()
    assert total[0] == 0
    assert np.all(np.diff(total) > 0) and np.all(np.diff(total, 2) < 1e-9)
    assert total[-1] < np.sum(np.array(a) * (100 - np.array(p)))


@pytest.mark.parametrize("cost", [0.0, -5.0])
def test_nonpositive_cost_is_an_error(cost):
    with pytest.raises(ValueError, match="positive"):
        allocate([0.3, 0.2], [1.0, cost], [50.0, 50.0], 10.0)
    table = pd.DataFrame({"construct": ["MS", "CS"], "cost_per_point_10k_yuan": [10.0, cost]})
    with pytest.raises(ValueError, match=r"cost_per_point_10k_yuan.*CS"):
        check_costs(table)


def test_negative_budget_is_an_error():
    with pytest.raises(ValueError, match="budget"):
        allocate([0.3], [1.0], [50.0], -1.0)


def test_shipped_cost_table_is_valid():
    costs = load_costs()
    assert costs["construct"].tolist() == ["MS", "CS", "OM", "RA", "CC"]
    assert (costs["cost_per_point_10k_yuan"] > 0).all()
