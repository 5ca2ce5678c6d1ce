"""Export the compendium's survey (recoded items, missing as empty) for the R reference script.

Run from the repository root, then run the R script:
    .venv/bin/python tests/reference/multilevel/make_survey_fixture.py
    Rscript tests/reference/multilevel_reference.R
"""

from analysis.io.codebook import construct_items, load_codebook
from analysis.io.paths import ROOT
from analysis.io.survey import load_survey

codebook = load_codebook()
survey = load_survey(codebook=codebook)
items = [i for cols in construct_items(codebook).values() for i in cols]
out = ROOT / "tests" / "reference" / "multilevel" / "survey_items.csv"
survey[["community_id", *items]].to_csv(out, index=False, float_format="%.10g", lineterminator="\n")
print(f"wrote {out.relative_to(ROOT)}")
