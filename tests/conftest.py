"""Fixtures shared by the test modules: the shipped codebook and survey, public SEM data, and the
variant matrix (every notebook run on each survey variant, once per session)."""

from pathlib import Path

import pandas as pd
import pytest
from semopy.examples import holzinger39

from analysis.io.codebook import load_codebook
from analysis.io.survey import load_survey
from variant_runs import run_matrix

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def cb():
    """The shipped codebook (data/raw/codebook.csv)."""
    return load_codebook()


@pytest.fixture(scope="session")
def survey(cb):
    """The shipped synthetic survey, loaded and recoded by the codebook."""
    return load_survey(codebook=cb)


@pytest.fixture(scope="session")
def hs():
    """HolzingerSwineford1939 (as shipped with lavaan and semopy)."""
    return holzinger39.get_data()


@pytest.fixture(scope="session")
def hs_mcar():
    """HS x1..x9 with a fixed ~10% MCAR mask (committed; lavaan read the same file)."""
    return pd.read_csv(REF / "sem_robust" / "hs_mcar.csv")


@pytest.fixture(scope="session")
def matrix(tmp_path_factory):
    """The notebooks run on every survey variant (tests/variant_runs.py; about five minutes):
    ``(runs, errors, git status before, git status after)``. Used by tests/test_variants.py
    and tests/test_reports.py."""
    return run_matrix(tmp_path_factory)
