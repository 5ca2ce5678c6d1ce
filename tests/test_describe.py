"""Descriptive tables of notebook 00."""

import numpy as np
import pytest

from analysis.io.codebook import load_codebook
from analysis.io.survey import load_survey
from analysis.study.describe import (
    item_distribution,
    missing_patterns,
    missingness,
    sample_by_type,
)


@pytest.fixture(scope="module")
def data():
    return load_survey(), load_codebook()


def test_sample_by_type_adds_up(data):
    survey, _ = data
    s = sample_by_type(survey).set_index("community_type")
    assert s.loc["all", "respondents"] == len(survey)
    assert s.drop("all")["respondents"].sum() == len(survey)
    assert s.loc["all", "communities"] == survey["community_id"].nunique()
    assert s.loc["all", "min_size"] == survey.groupby("community_id").size().min()


def test_item_distribution_shares_sum_to_one_and_match_counts(data):
    survey, cb = data
    d = item_distribution(survey, cb).set_index("item")
    np.testing.assert_allclose(d[["1", "2", "3", "4", "5"]].sum(axis=1), 1.0)
    assert d.loc["PV2", "n"] == survey["PV2"].notna().sum()
    assert d.loc["PV2", "4"] == pytest.approx((survey["PV2"] == 4).sum() / survey["PV2"].notna().sum())


def test_missingness_tables(data):
    survey, cb = data
    m = missingness(survey, cb).set_index("item")
    assert m.loc["MS1", "all"] == pytest.approx(survey["MS1"].isna().mean())
    pats = missing_patterns(survey, cb)
    complete = survey[cb["item"]].notna().all(axis=1).sum()
    assert pats.iloc[0].tolist()[:2] == ["(complete)", complete]
