"""End to end on surveys unlike the shipped one (issue #13): every notebook runs on each variant,
writes only to the run's own results folder, says why it skips a step, and leaves no sentence
about the synthetic survey in the user's results.

The variants come from tests/survey_variants.py (other construct codes and counts; 4-, 7- and
10-point scales and scales that differ between constructs; no community type or demographics;
SPSS with value labels and missing codes 99/-1; Chinese community types; a user MODEL file).
Sizes are the smallest that exercise every cell: 300 respondents in 20 communities, 20
bootstrap resamples, 10 parallel-analysis data sets, 20 Monte Carlo runs. Notebook 01 (the
policy corpus, which reads no survey) runs for one variant; every other notebook, 06
(simulation and power planning for the variant's codebook) at its smallest size, on each. The runs go through two
workers (each notebook is its own kernel); the whole matrix takes about five minutes on two
cores, which is why it runs once per session: the ``matrix`` fixture (tests/conftest.py, with
tests/variant_runs.py) is shared with tests/test_reports.py, which builds the reports from the
same results.
"""

import re

import nbformat
import pytest

from analysis.io import paths
from survey_variants import VARIANTS
from variant_runs import ALL, EXTRA
from variant_runs import notebook as _notebook

STUDY_ELEMENTS = {"MS", "CS", "OM", "RA", "CC"}


def _texts(path):
    nb = nbformat.read(path, as_version=4)
    out, md = [], []
    for c in nb.cells:
        if c.cell_type == "markdown":
            md.append(c.source)
        else:
            for o in c.outputs:
                out.append("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", "")))
    return "\n".join(out), md


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_notebook_runs_into_its_own_folder(matrix, name):
    runs, errors, before, after = matrix
    failed = {k: v for k, v in errors.items() if k[0] == name}
    assert not failed, "\n\n".join(f"{k}: {v}" for k, v in failed.items())
    files, out = runs[name]
    for nb_id in ALL + EXTRA.get(name, ()):
        assert (out / "notebooks" / _notebook(nb_id).name).exists()
    assert (out / "figures" / "sample-by-community.png").exists()
    assert (out / "tables" / "sample-by-type.csv").exists()
    assert paths.results_folder(files["survey"]).name == name
    assert after == before, "a user's run changed the committed compendium"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_skipped_steps_say_why(matrix, name):
    runs, errors, _, _ = matrix
    if any(k[0] == name for k in errors):
        pytest.skip("the notebooks did not run (reported by the test above)")
    files, out = runs[name]
    v = files["variant"]
    text = {nb_id: _texts(out / "notebooks" / _notebook(nb_id).name)[0] for nb_id in ALL}
    assert not any("Traceback" in t for t in text.values())
    if v.community_type is None:
        assert "the comparison of community types skipped: the survey has no community_type column" in text["00"]
        assert "measurement invariance and latent means by community type skipped" in text["03"]
        assert "IPMA by community type skipped" in text["05"]
    else:
        assert "Equal loadings (metric)" in text["03"]
    if files["model"]:
        assert f"structural model from {files['model'].name}" in text["03"]
    elif STUDY_ELEMENTS <= set(v.constructs):
        assert "the study's public-value chain" in text["03"]
    else:
        assert "the parallel model (every element ->" in text["03"]
        assert "H1 vs H0 skipped" in text["03"]
        assert "budget allocation skipped: the cost table has no cost per point" in text["05"]
        assert "improvement paths and findings skipped" in text["05"]
    if STUDY_ELEMENTS <= set(v.constructs):
        assert "problem catalogue: the study's, matched to this questionnaire" in text["05"]
    scales = {f"{lo}-{hi}" for lo, hi in v.scales.values()}
    for s in scales:
        assert f"grades of the {s} scale" in text["04"]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_no_markdown_describes_the_synthetic_survey(matrix, name):
    """The interpretations of the shipped results (cells tagged synthetic-only) are left out of
    a user's results, and no remaining markdown cell quotes a number of the synthetic survey
    (its sample size, community count or missing share)."""
    runs, errors, _, _ = matrix
    if any(k[0] == name for k in errors):
        pytest.skip("the notebooks did not run (reported by the test above)")
    _, out = runs[name]
    synthetic = re.compile(r"1,6\d\d|1,5\d\d|1,160|\b48 communities|twenty-five items|"
                           r"on these synthetic data|in the simulation", re.I)
    for nb_path in sorted((out / "notebooks").glob("0[0-5]-*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        assert not [c for c in nb.cells if "synthetic-only" in c.metadata.get("tags", [])]
        _, md = _texts(nb_path)
        hits = [m for m in md if synthetic.search(m)]
        assert not hits, f"{nb_path.name}: {hits[0][:200]}"
    # captions of a user's tables do not call the user's survey synthetic (notebook 06's
    # simulation and power tables are of synthetic data drawn for the user's codebook)
    labelled = [t.name for t in sorted((out / "tables").glob("*.tex"))
                if not t.name.startswith(("simulation-", "power-"))
                and "synthetic data" in t.read_text(encoding="utf-8")]
    assert not labelled, f"tables captioned 'synthetic data' in a user's run: {labelled}"
