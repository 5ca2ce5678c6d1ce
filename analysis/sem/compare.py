"""Comparing nested models: likelihood-ratio and Satorra-Bentler scaled difference tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def chisq_difference(restricted, general) -> pd.Series:
    r"""Chi-square difference test of two nested models fitted to the same data.

    ML (complete data or FIML): ``T = chisq_r - chisq_g`` on ``df_r - df_g`` degrees of
    freedom. MLR: the scaled difference of Satorra & Bentler (2001),
    ``cd = (df_r c_r - df_g c_g) / (df_r - df_g)``, ``T = (chisq_r - chisq_g) / cd`` with the
    unscaled chi-squares and the scaling factors ``c`` (lavaan's default for MLR).

    Parameters
    ----------
    restricted, general : SEMResult
        ``restricted`` is nested in ``general`` (more degrees of freedom); same data,
        observed variables, estimator and missing-data treatment.

    Returns
    -------
    Series
        ``chisq_diff df_diff p_diff scaling method``.

    Raises
    ------
    ValueError
        Different samples, variables or estimators, ``restricted`` not having more df, or
        WLSMV/DWLS fits (whose difference test is :func:`analysis.sem.lrt_scaled`).

    References
    ----------
    Satorra, A. & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. Psychometrika 66, 507-514.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> hs = holzinger39.get_data()
    >>> m = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> one = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
    >>> t = chisq_difference(fit_sem(one, hs), fit_sem(m, hs))
    >>> int(t["df_diff"]), bool(t["p_diff"] < 0.001)
    (3, True)
    """
    r, g = restricted, general
    if r.n_obs != g.n_obs:
        raise ValueError(f"models were fitted to different samples (N = {r.n_obs} vs {g.n_obs})")
    if set(r.model.ov_names) != set(g.model.ov_names):
        raise ValueError("models have different observed variables; they are not nested")
    if (r.estimator, r.missing) != (g.estimator, g.missing):
        raise ValueError("models were fitted with different estimators or missing-data methods")
    if r.estimator in ("WLSMV", "DWLS"):
        # the difference of two diagonally weighted chi-squares is not chi-square distributed
        raise ValueError(f"{r.estimator} fits need the scaled-shifted difference test: use "
                         "analysis.sem.lrt_scaled(restricted, general), as lavaan's lavTestLRT does")
    fr, fg = r.fit_indices, g.fit_indices
    ddf = float(fr["df"] - fg["df"])
    if ddf <= 0:
        raise ValueError(f"the restricted model must have more degrees of freedom "
                         f"(df {fr['df']:.0f} vs {fg['df']:.0f}); swap the arguments?")
    d = float(fr["chisq"] - fg["chisq"])
    if r.estimator == "MLR":
        cr, cg = float(fr["scaling_factor"]), float(fg["scaling_factor"])
        cd = (fr["df"] * cr - fg["df"] * cg) / ddf
        stat = d / cd if cd > 0 else np.nan
        method = "satorra.bentler.2001"
    else:
        cd, stat, method = np.nan, d, "LRT"
    p = float(stats.chi2.sf(stat, ddf)) if np.isfinite(stat) else np.nan
    return pd.Series({"chisq_diff": stat, "df_diff": ddf, "p_diff": p, "scaling": cd,
                      "method": method})
