"""Write the data that sem_robust_reference.R fits, so R and Python read identical input.

Run from the repository root (before the R script)::

    .venv/bin/python tests/reference/sem_robust_inputs.py
    Rscript tests/reference/sem_robust_reference.R

* ``hs_mcar.csv``: HolzingerSwineford1939 x1..x9 (semopy's copy, identical to lavaan's)
  with a seeded ~10% MCAR mask (no row left empty), and the (complete) ``school`` column
  for multi-group fits.
* ``survey_recoded.csv``: the synthetic survey's items after the codebook recoding
  (``analysis.io.survey.load_survey``: missing codes -> NA, reverse items -> (min+max)-x).
* ``chain.lav``: ``analysis.study.models.chain_model(load_codebook())``.
"""

from pathlib import Path

import numpy as np
import semopy.examples

OUT = Path(__file__).resolve().parent / "sem_robust"
SEED = 20261127


def mcar(df, rate: float, seed: int):
    """Set a share ``rate`` of cells to NaN completely at random, never a whole row."""
    rng = np.random.default_rng(seed)
    m = rng.random(df.shape) < rate
    m[m.all(axis=1), 0] = False
    return df.mask(m)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    hs = semopy.examples.holzinger39.get_data().reset_index(drop=True)
    masked = mcar(hs[[f"x{i}" for i in range(1, 10)]], 0.10, SEED)
    masked["school"] = hs["school"].astype(str)
    masked.to_csv(OUT / "hs_mcar.csv", index=False, float_format="%.17g")

    from analysis.io.codebook import construct_items, load_codebook
    from analysis.io.survey import load_survey
    from analysis.study.models import chain_model

    cb = load_codebook()
    items = [i for its in construct_items(cb).values() for i in its]
    load_survey(codebook=cb)[items].to_csv(OUT / "survey_recoded.csv", index=False,
                                           float_format="%.17g")
    (OUT / "chain.lav").write_text(chain_model(cb), encoding="utf-8")


if __name__ == "__main__":
    main()
