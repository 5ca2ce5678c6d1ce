"""The study-level glue: community scores on the map's scale and community DEA.

Checks: element scores equal the weighted means of 0-100 item means worked out by hand; CCR
never exceeds BCC; bad community inputs raise errors naming the column and the community.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.study.improvement import (
    DEA_INPUTS,
    community_efficiency,
    community_scores,
)


@pytest.fixture
def codebook():
    rows = [{"item": f"{c}{k}", "construct": c, "role": "outcome" if c == "PV" else "element",
             "scale_min": 1, "scale_max": 5} for c in ("AA", "BB", "PV") for k in (1, 2, 3)]
    return pd.DataFrame(rows)


def test_community_scores_by_hand(codebook):
    n = 6
    survey = pd.DataFrame({i: [3.0] * (2 * n) for i in codebook["item"]})
    survey["community_id"] = ["c1"] * n + ["c2"] * n
    survey.loc[:n - 1, "AA1"] = 5.0                 # c1: AA1 mean 100 (0-100)
    survey.loc[n:, "AA1"] = [1.0, 1.0, 1.0, 5.0, 5.0, 5.0]   # c2: AA1 mean 50
    weights = pd.Series({"AA1": 0.5, "AA2": 0.25, "AA3": 0.25, "BB1": 1 / 3, "BB2": 1 / 3,
                         "BB3": 1 / 3, "PV1": 1 / 3, "PV2": 1 / 3, "PV3": 1 / 3})
    items, scores = community_scores(survey, codebook, weights, k=5)
    assert items.loc["c1", "AA1"] == pytest.approx(100.0)
    assert scores.loc["c1", "AA"] == pytest.approx(0.5 * 100 + 0.5 * 50)
    assert scores.loc["c2", "AA"] == pytest.approx(50.0)
    assert list(scores.columns) == ["AA", "BB", "PV"]
    # a community below the disclosure threshold is not scored
    _, few = community_scores(survey.iloc[: n + 4], codebook, weights, k=5)
    assert list(few.index) == ["c1"]


def communities_table(n=8, seed=3):
    rng = np.random.default_rng(seed)
    ids = [f"C{i:02d}" for i in range(1, n + 1)]
    table = pd.DataFrame({"community_id": ids,
                          **{c: rng.uniform(5, 50, n).round(1) for c in DEA_INPUTS}})
    scores = pd.DataFrame(rng.uniform(40, 90, (n, 3)), index=ids, columns=["AA", "BB", "PV"])
    return table, scores


def test_community_efficiency_crs_below_vrs():
    table, scores = communities_table()
    eff = community_efficiency(table.iloc[::-1], scores)
    assert eff["unit"].tolist() == sorted(scores.index)
    assert (eff["efficiency_crs"] <= eff["efficiency_vrs"] + 1e-9).all()
    np.testing.assert_allclose(eff["scale_efficiency"], eff["efficiency_crs"] / eff["efficiency_vrs"])
    assert eff["efficient_vrs"].any()
    assert {"target_staff", "target_PV", "slack_volunteers", "peers"} <= set(eff.columns)


def test_community_efficiency_bad_inputs():
    table, scores = communities_table()
    table.loc[2, "staff"] = 0
    with pytest.raises(ValueError, match=r"'staff'.*C03"):
        community_efficiency(table, scores)
    table, scores = communities_table()
    table.loc[4, "volunteers"] = np.nan
    with pytest.raises(ValueError, match=r"'volunteers'.*C05"):
        community_efficiency(table, scores)
    with pytest.raises(ValueError, match="lacks column"):
        community_efficiency(table.drop(columns="floor_area_m2"), scores)
    with pytest.raises(ValueError, match="no row in the community table"):
        community_efficiency(table.iloc[1:], scores)
