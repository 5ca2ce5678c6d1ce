"""Writes tests/reference/method_variance/ulmc.csv (run once; the R script reads it).

Three correlated constructs of four items each and one method factor shared by all twelve
items (loadings .2-.6), N = 900, seed 20261202.
"""

import numpy as np
import pandas as pd

if __name__ == "__main__":
    rng = np.random.default_rng(20261202)
    n = 900
    phi = np.array([[1, .4, .3], [.4, 1, .5], [.3, .5, 1]])
    f = rng.multivariate_normal(np.zeros(3), phi, size=n)
    m = rng.normal(size=(n, 1))
    lam = np.array([.9, .8, .7, 1.0])
    meth = np.array([.5, .3, .6, .4, .2, .5, .45, .35, .55, .3, .6, .4])
    x = np.repeat(f, 4, axis=1) * np.tile(lam, 3) + m * meth + rng.normal(size=(n, 12)) * .7
    cols = [f"{c}{k}" for c in "abc" for k in (1, 2, 3, 4)]
    pd.DataFrame(x, columns=cols).round(4).to_csv("tests/reference/method_variance/ulmc.csv",
                                                  index=False)
