"""Common-method variance: does one shared source of answers inflate the correlations?

When every construct, the outcome included, is rated by the same respondents in one
questionnaire, part of the covariance among the items can come from the method (response
styles, mood, consistency motives) rather than from the constructs (Podsakoff, MacKenzie,
Lee & Podsakoff 2003). No single test settles this; three complementary checks are
implemented here, each returning a tidy table:

* :func:`harman_single_factor`: the share of the item variance carried by the first
  unrotated factor (principal components of the correlation matrix). A share above one half
  suggests a dominant general factor. The test is known to be insensitive (Podsakoff et al.
  2003), so it can flag a problem but never clear one.
* :func:`method_factor_test`: the unmeasured latent method construct (ULMC; Williams, Cote &
  Buckley 1989; Podsakoff et al. 2003, Table 4): the measurement model with an extra factor
  on every item, uncorrelated with the constructs, against the model without it; the
  likelihood-ratio test, the average share of item variance due to the method factor
  beside that due to the constructs, and how much the construct correlations move.
* :func:`marker_adjusted_correlations`: Lindell & Whitney's (2001) correction
  ``r_A = (r - r_M) / (1 - r_M)`` with ``r_M`` an estimate of the method correlation; with
  no marker variable in the questionnaire, :func:`smallest_cross_correlation` gives their
  conservative proxy, the smallest correlation between items of different constructs.

References
----------
Lindell, M. K., & Whitney, D. J. (2001). Accounting for common method variance in
cross-sectional research designs. *Journal of Applied Psychology*, 86, 114-121.
Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method
biases in behavioral research. *Journal of Applied Psychology*, 88, 879-903.
Williams, L. J., Cote, J. A., & Buckley, M. R. (1989). Lack of method variance in
self-reported affect and perceptions at work: reality or artifact? *Journal of Applied
Psychology*, 74, 462-468.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.methods.items import check_items
from analysis.sem import chisq_difference, fit_sem

_INADMISSIBLE = re.compile(r"not converge|singular|Heywood|not positive definite")

__all__ = ["harman_single_factor", "method_factor_syntax", "method_factor_test",
           "smallest_cross_correlation", "marker_adjusted_correlations", "METHOD_FACTOR"]

METHOD_FACTOR = "METHOD"


def harman_single_factor(items: pd.DataFrame) -> pd.DataFrame:
    """Harman's single-factor test: variance share of the first unrotated component.

    Parameters
    ----------
    items : DataFrame
        One column per item (reverse-coded), one row per respondent; pairwise-complete
        correlations are used.

    Returns
    -------
    DataFrame
        One row: ``n_items first_share n_eigen_above_1 dominant`` (``dominant`` is
        ``first_share > 0.5``).

    References
    ----------
    Podsakoff, P. M., & Organ, D. W. (1986). Self-reports in organizational research.
    *Journal of Management*, 12, 531-544. Podsakoff et al. (2003), p. 889.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(500, 2))
    >>> x = pd.DataFrame(np.repeat(f, 3, axis=1) + rng.normal(size=(500, 6)))
    >>> h = harman_single_factor(x).iloc[0]
    >>> int(h["n_items"]), int(h["n_eigen_above_1"]), round(float(h["first_share"]), 3)
    (6, 2, 0.351)
    """
    x = check_items(items)
    R = x.corr(min_periods=2).to_numpy()
    if np.isnan(R).any():
        raise ValueError("some item pairs have fewer than 2 joint observations")
    ev = np.sort(np.linalg.eigvalsh(R))[::-1]
    share = float(ev[0] / ev.sum())
    return pd.DataFrame({"n_items": [R.shape[0]], "first_share": [share],
                         "n_eigen_above_1": [int((ev > 1).sum())], "dominant": [share > 0.5]})


def method_factor_syntax(constructs: Mapping[str, Sequence[str]], name: str = METHOD_FACTOR) -> str:
    """Measurement model plus an unmeasured method factor on every item.

    The method factor has unit variance, free loadings and no covariance with the
    constructs (the ULMC of Podsakoff et al. 2003).

    Parameters
    ----------
    constructs : mapping construct -> list of items
    name : str
        Name of the method factor (must not be a construct).

    Returns
    -------
    str
        lavaan syntax.

    Examples
    --------
    >>> print(method_factor_syntax({"A": ["a1", "a2"], "B": ["b1", "b2"]}))
    A =~ a1 + a2
    B =~ b1 + b2
    METHOD =~ NA*a1 + a2 + b1 + b2
    METHOD ~~ 1*METHOD
    METHOD ~~ 0*A + 0*B
    """
    if name in constructs:
        raise ValueError(f"the method factor's name {name!r} is also a construct")
    items = [i for its in constructs.values() for i in its]
    lines = [f"{c} =~ {' + '.join(its)}" for c, its in constructs.items()]
    lines.append(f"{name} =~ NA*{items[0]}" + "".join(f" + {i}" for i in items[1:]))
    lines.append(f"{name} ~~ 1*{name}")
    lines.append(f"{name} ~~ " + " + ".join(f"0*{c}" for c in constructs))
    return "\n".join(lines)


def _variance_shares(result, constructs, method):
    """Mean squared standardised loading of the items on their construct and on the method."""
    est = result.estimates
    load = est[est["op"] == "=~"]
    trait = load[load["lhs"].isin(list(constructs))]
    meth = load[load["lhs"] == method]
    return float((trait["std_all"] ** 2).mean()), float((meth["std_all"] ** 2).mean())


def _factor_correlations(result, constructs):
    est = result.estimates
    cov = est[(est["op"] == "~~") & est["lhs"].isin(list(constructs))
              & est["rhs"].isin(list(constructs)) & (est["lhs"] != est["rhs"])]
    return cov.set_index(["lhs", "rhs"])["std_all"]


def method_factor_test(constructs: Mapping[str, Sequence[str]], data: pd.DataFrame, *,
                       estimator: str = "ML", missing: str = "listwise") -> pd.DataFrame:
    """Unmeasured latent method construct: the measurement model with and without it.

    Parameters
    ----------
    constructs : mapping construct -> list of items
    data : DataFrame
        The items (reverse-coded).
    estimator, missing : str
        Passed to :func:`analysis.sem.fit_sem`.

    Returns
    -------
    DataFrame
        One row per model (``traits``, ``traits + method``): ``model npar chisq df cfi tli
        rmsea srmr trait_share method_share`` and, on the second row, the likelihood-ratio
        test against the first (``chisq_diff df_diff p_diff``) and
        ``max_abs_change_correlation``, the largest change of a construct correlation when
        the method factor is added. ``trait_share`` and ``method_share`` are the mean
        squared standardised loadings (the average share of an item's variance due to its
        construct and to the method). ``admissible`` is False when a fit did not converge,
        has a singular information matrix or a negative variance, and ``problem`` then says
        which (the ULMC is often empirically under-identified when there is little method
        variance to find, because a general factor competes with the construct
        correlations; its numbers are then not to be read).

    Raises
    ------
    analysis.sem.SEMError
        If a model cannot be fitted.

    References
    ----------
    Williams, Cote & Buckley (1989); Podsakoff et al. (2003), Table 4 and p. 894.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f, m = rng.normal(size=(800, 3)), rng.normal(size=(800, 1))  # m: a shared method
    >>> x = pd.DataFrame(np.repeat(f, 4, axis=1) + 0.7 * m + rng.normal(size=(800, 12)),
    ...                  columns=[f"{c}{k}" for c in "abc" for k in (1, 2, 3, 4)])
    >>> t = method_factor_test({c: [f"{c}{k}" for k in (1, 2, 3, 4)] for c in "abc"}, x)
    >>> t[["model", "df", "admissible"]].values.tolist()
    [['traits', 51.0, True], ['traits + method', 39.0, True]]
    >>> round(float(t.loc[1, "method_share"]), 3)
    0.083
    """
    constructs = {c: list(v) for c, v in constructs.items()}
    base_syntax = "\n".join(f"{c} =~ {' + '.join(its)}" for c, its in constructs.items())
    kw = {"estimator": estimator, "missing": missing, "std_se": False}
    with warnings.catch_warnings():    # the problems are reported in the table instead
        warnings.simplefilter("ignore")
        base = fit_sem(base_syntax, data, **kw)
        meth = fit_sem(method_factor_syntax(constructs), data, **kw)
    rows = []
    for name, res in (("traits", base), ("traits + method", meth)):
        fi = res.fit_indices
        problems = [w for w in res.warnings if _INADMISSIBLE.search(w)]
        trait, method = _variance_shares(res, constructs, METHOD_FACTOR)
        rows.append({"model": name, "npar": fi["npar"], "chisq": fi["chisq"], "df": fi["df"],
                     "cfi": fi["cfi"], "tli": fi["tli"], "rmsea": fi["rmsea"],
                     "srmr": fi["srmr"], "trait_share": trait,
                     "method_share": method if name != "traits" else 0.0,
                     "admissible": bool(res.converged and not problems),
                     "problem": "; ".join(problems)})
    out = pd.DataFrame(rows)
    diff = chisq_difference(base, meth)
    for col in ("chisq_diff", "df_diff", "p_diff"):
        out[col] = [np.nan, float(diff[col])]
    r0, r1 = _factor_correlations(base, constructs), _factor_correlations(meth, constructs)
    change = (r1.reindex(r0.index) - r0).abs().max() if len(r0) else np.nan
    out["max_abs_change_correlation"] = [np.nan, float(change)]
    return out


def smallest_cross_correlation(items: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> float:
    """Lindell & Whitney's proxy for the method correlation: the smallest correlation between
    two items of different constructs (pairwise complete).

    Parameters
    ----------
    items : DataFrame
        The items (reverse-coded).
    constructs : mapping construct -> list of items

    Returns
    -------
    float
        The smallest cross-construct item correlation, floored at 0 (a negative smallest
        correlation means no method correlation can be estimated this way).

    References
    ----------
    Lindell & Whitney (2001), p. 115: "the smallest correlation among the manifest
    variables provides a reasonable proxy for CMV".

    Examples
    --------
    >>> x = pd.DataFrame({"a1": [1, 2, 3, 4, 5], "a2": [1, 2, 3, 5, 4], "b1": [2, 1, 4, 3, 5]})
    >>> round(smallest_cross_correlation(x, {"A": ["a1", "a2"], "B": ["b1"]}), 3)
    0.6
    """
    R = check_items(items).corr(min_periods=2)
    owner = {i: c for c, its in constructs.items() for i in its}
    cols = [i for i in R.columns if i in owner]
    best = np.inf
    for a_pos, a in enumerate(cols):
        for b in cols[a_pos + 1:]:
            if owner[a] != owner[b] and np.isfinite(R.loc[a, b]):
                best = min(best, float(R.loc[a, b]))
    if not np.isfinite(best):
        raise ValueError("no pair of items from different constructs")
    return max(best, 0.0)


def marker_adjusted_correlations(scores: pd.DataFrame, outcome: str, r_marker: float,
                                 alpha: float = 0.05) -> pd.DataFrame:
    """Correlations of each predictor with the outcome, corrected for a method correlation.

    ``r_A = (r - r_M) / (1 - r_M)``, tested with ``t = r_A / sqrt((1 - r_A^2) / (n - 3))``
    on ``n - 3`` degrees of freedom (Lindell & Whitney 2001, eqs. 4-5).

    Parameters
    ----------
    scores : DataFrame
        Construct scores (e.g. item means), one column per construct.
    outcome : str
        The outcome column.
    r_marker : float
        The method correlation ``r_M`` (e.g. :func:`smallest_cross_correlation`).
    alpha : float
        Level of the test.

    Returns
    -------
    DataFrame
        ``predictor r r_adjusted t pvalue significant significant_unadjusted n``.

    References
    ----------
    Lindell, M. K., & Whitney, D. J. (2001). *Journal of Applied Psychology*, 86, 114-121.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> df = pd.DataFrame({"X": x, "Y": 0.5 * x + rng.normal(size=400)})
    >>> t = marker_adjusted_correlations(df, "Y", 0.2)
    >>> bool(t.loc[0, "r_adjusted"] < t.loc[0, "r"]), bool(t.loc[0, "significant"])
    (True, True)
    """
    if not 0 <= r_marker < 1:
        raise ValueError(f"r_marker must be in [0, 1), not {r_marker}")
    if outcome not in scores:
        raise ValueError(f"outcome {outcome!r} is not a column of the scores")
    rows = []
    for col in scores.columns:
        if col == outcome:
            continue
        pair = scores[[col, outcome]].dropna()
        n = len(pair)
        r = float(pair[col].corr(pair[outcome]))
        ra = (r - r_marker) / (1 - r_marker)
        df = n - 3
        t = ra / np.sqrt(max(1 - ra ** 2, 1e-300) / df)
        p = float(2 * stats.t.sf(abs(t), df))
        p_raw = float(2 * stats.t.sf(abs(r / np.sqrt((1 - r ** 2) / (n - 2))), n - 2))
        rows.append({"predictor": col, "r": r, "r_adjusted": ra, "t": float(t), "pvalue": p,
                     "significant": p < alpha, "significant_unadjusted": p_raw < alpha, "n": n})
    return pd.DataFrame(rows)
