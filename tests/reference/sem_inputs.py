"""Write the study's model syntax for tests/reference/sem_reference.R (run before the R script).

The R script reads data/raw/survey.csv and data/raw/codebook.csv itself and recodes them
(missing codes -> NA, reverse items -> (min + max) - x); only the lavaan model text comes
from Python, so that R and the tests fit exactly the same model.

    .venv/bin/python tests/reference/sem_inputs.py && Rscript tests/reference/sem_reference.R
"""

from pathlib import Path

from analysis.io.codebook import load_codebook
from analysis.study.models import chain_model, measurement_model

OUT = Path(__file__).resolve().parent / "sem"

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    cb = load_codebook()
    (OUT / "chain.lav").write_text(chain_model(cb), encoding="utf-8")
    (OUT / "measurement.lav").write_text(measurement_model(cb) + "\n", encoding="utf-8")
