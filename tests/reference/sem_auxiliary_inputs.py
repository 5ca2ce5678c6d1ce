"""Write the data that sem_auxiliary_reference.R fits, so R and Python read identical input.

Run from the repository root (before the R script)::

    .venv/bin/python tests/reference/sem_auxiliary_inputs.py
    Rscript tests/reference/sem_auxiliary_reference.R

* ``hs_mar.csv``: HolzingerSwineford1939 x1..x9 (semopy's copy, identical to lavaan's) with
  missing values at random given age: the textual and speed items x4..x8 are each missing
  with probability ``1 / (1 + exp(-(-1.2 + 1.6 (ageyr - 13))))`` (about 25% overall; older
  pupils skip more), seeded. The auxiliary candidates ``ageyr``, ``grade`` (one value
  missing, as in the original) and ``sex`` (1/2) and the group column ``school`` are kept
  complete as shipped.
* ``survey_aux.csv``: the synthetic survey's items after the codebook recoding
  (``analysis.io.survey.load_survey``: missing codes -> NA, reverse items -> (min+max)-x) plus
  ``age`` (the synthetic data's missingness is MAR given age, see analysis/simulate.py).
* ``chain.lav``: ``analysis.study.models.chain_model(load_codebook())``.
"""

from pathlib import Path

import numpy as np
import semopy.examples

OUT = Path(__file__).resolve().parent / "sem_auxiliary"
SEED = 20261202


def mar_on(df, cols, driver, a: float, b: float, seed: int):
    """Set cells of ``cols`` to NaN with logit P(missing) = a + b * driver (one draw each)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (1.0 + np.exp(-(a + b * np.asarray(driver, dtype=float))))
    out = df.copy()
    for c in cols:
        out.loc[rng.random(len(df)) < p, c] = np.nan
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    hs = semopy.examples.holzinger39.get_data().reset_index(drop=True)
    x = [f"x{i}" for i in range(1, 10)]
    masked = mar_on(hs[x], ["x4", "x5", "x6", "x7", "x8"], hs["ageyr"] - 13, -1.2, 1.6, SEED)
    for c in ("ageyr", "grade", "sex"):
        masked[c] = hs[c]
    masked["school"] = hs["school"].astype(str)
    masked.to_csv(OUT / "hs_mar.csv", index=False, float_format="%.17g")

    from analysis.io.codebook import construct_items, load_codebook
    from analysis.io.survey import load_survey
    from analysis.study.models import chain_model

    cb = load_codebook()
    items = [i for its in construct_items(cb).values() for i in its]
    load_survey(codebook=cb)[items + ["age"]].to_csv(OUT / "survey_aux.csv", index=False,
                                                     float_format="%.17g")
    (OUT / "chain.lav").write_text(chain_model(cb), encoding="utf-8")


if __name__ == "__main__":
    main()
