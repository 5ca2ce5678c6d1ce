"""Fixtures shared by the test modules: the shipped codebook and survey, public SEM data, the
variant matrix (every notebook run on each survey variant, once per session) and headless
Chromium for the browser tests of the HTML edition and the reports."""

import importlib.util
import shutil
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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _browser_missing() -> str | None:
    if not CHROMIUM or not CHROMEDRIVER:
        return ("headless Chromium is not installed (Debian: apt-get install chromium "
                "chromium-driver; .ci/run installs them)")
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium with a new empty profile and no background network traffic; a test
    that asks for it is skipped, with the reason, where Chromium or selenium is missing."""
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
