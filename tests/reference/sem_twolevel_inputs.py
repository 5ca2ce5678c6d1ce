"""Write the data that sem_twolevel_reference.R fits, so R and Python read identical input.

Run from the repository root (before the R script)::

    .venv/bin/python tests/reference/sem_twolevel_inputs.py
    Rscript tests/reference/sem_twolevel_reference.R

* ``survey_twolevel.csv``: the synthetic survey's items after the codebook recoding
  (``analysis.survey.load_survey``) with its ``community_id`` (48 communities).
* ``generated.csv``: a two-level survey simulated here (seed below): 72 communities of
  8-40 residents (unbalanced), three constructs of three items at level 1 with a chain
  ``fw1 -> fw2 -> fw3``, two factors at level 2 and a community-level covariate ``w``.
  The level-1 and level-2 loadings of the first construct are equal (cross-level
  invariance), as ``generated.lav`` states with shared labels.
* ``demo_twolevel.csv`` is written by the R script (lavaan's ``Demo.twolevel``).

:func:`simulate_twolevel` is also used by ``bench/bench_twolevel.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "sem_twolevel"
SEED = 20261202

GENERATED_MODEL = """level: 1
  fw1 =~ a1 + la2*a2 + la3*a3
  fw2 =~ b1 + b2 + b3
  fw3 =~ c1 + c2 + c3
  fw2 ~ b21*fw1
  fw3 ~ fw1 + b32*fw2
level: 2
  fb1 =~ a1 + la2*a2 + la3*a3
  fb2 =~ b1 + b2 + b3 + c1 + c2 + c3
  fb2 ~ fb1 + w
ind := b21*b32
"""


def simulate_twolevel(n_clusters: int, n_constructs: int, n_items: int, *, seed: int,
                      size_range=(8, 40), between_factors: int | None = None,
                      covariate: bool = False) -> pd.DataFrame:
    """A two-level survey: ``n_constructs`` chained constructs of ``n_items`` items.

    Level 1: construct k is regressed on constructs k-1 and k-2 (a chain); loadings
    0.6-0.9, residual variances so that items have variance about 1. Level 2: ``between_factors``
    factors (default ``n_constructs``) measured by the same items, between-level residual
    variances about 0.05, factor variances 0.15 (ICC about 0.15); with ``covariate`` a
    community-level ``w`` affects the last between factor. Cluster sizes are uniform on
    ``size_range``; items are continuous (rounded to 3 decimals).
    """
    rng = np.random.default_rng(seed)
    p = n_constructs * n_items
    kb = between_factors or n_constructs
    sizes = rng.integers(size_range[0], size_range[1] + 1, size=n_clusters)
    # level 1: chain structural model
    Bm = np.zeros((n_constructs, n_constructs))
    for k in range(1, n_constructs):
        Bm[k, k - 1] = 0.45
        if k >= 2:
            Bm[k, k - 2] = 0.2
    lam_w = rng.uniform(0.6, 0.9, size=p)
    lam_b = lam_w.copy() * rng.uniform(0.8, 1.2, size=p)
    lam_b[:n_items] = lam_w[:n_items]  # first construct: loadings equal across levels
    N = int(sizes.sum())
    zeta = rng.standard_normal((N, n_constructs)) * 0.7
    eta = np.linalg.solve(np.eye(n_constructs) - Bm, zeta.T).T
    Lw = np.zeros((p, n_constructs))
    for k in range(n_constructs):
        Lw[k * n_items:(k + 1) * n_items, k] = lam_w[k * n_items:(k + 1) * n_items]
    yw = eta @ Lw.T + rng.standard_normal((N, p)) * 0.6
    # level 2
    per = int(np.ceil(n_constructs / kb))
    Lb = np.zeros((p, kb))
    for k in range(n_constructs):
        f = min(k // per, kb - 1)
        Lb[k * n_items:(k + 1) * n_items, f] = lam_b[k * n_items:(k + 1) * n_items]
    etab = rng.standard_normal((n_clusters, kb)) * np.sqrt(0.15)
    w = rng.standard_normal(n_clusters)
    if kb > 1:
        etab[:, 1:] += 0.5 * etab[:, :1]
    if covariate:
        etab[:, -1] += 0.3 * w * np.sqrt(0.15)
    yb = etab @ Lb.T + rng.standard_normal((n_clusters, p)) * np.sqrt(0.05)
    yb += np.linspace(2.5, 3.5, p)  # item means
    cl = np.repeat(np.arange(n_clusters), sizes)
    y = yw + yb[cl]
    names = []
    for k in range(n_constructs):
        letter = chr(ord("a") + k)
        names += [f"{letter}{i + 1}" for i in range(n_items)]
    df = pd.DataFrame(np.round(y, 3), columns=names)
    df.insert(0, "community", [f"K{c + 1:03d}" for c in cl])
    if covariate:
        df["w"] = np.round(w[cl], 3)
    return df


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    from analysis.codebook import construct_items, load_codebook
    from analysis.survey import load_survey

    cb = load_codebook()
    items = [i for its in construct_items(cb).values() for i in its]
    load_survey(codebook=cb)[["community_id"] + items].to_csv(
        OUT / "survey_twolevel.csv", index=False, float_format="%.17g")
    gen = simulate_twolevel(72, 3, 3, seed=SEED, between_factors=2, covariate=True)
    gen.to_csv(OUT / "generated.csv", index=False)
    (OUT / "generated.lav").write_text(GENERATED_MODEL, encoding="utf-8")


if __name__ == "__main__":
    main()
