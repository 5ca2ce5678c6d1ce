"""Common-method variance in the survey: every construct, the outcome included, is rated by
the same residents in one questionnaire.

:func:`method_variance_checks` runs the three checks of
:mod:`analysis.methods.method_variance` on a survey and its codebook and returns one tidy
table (``data/processed/common-method-variance.csv``); :func:`method_variance_sentence` reads
it in words. Nothing here assumes the shipped survey's constructs or results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items, outcome
from analysis.methods.method_variance import (harman_single_factor, marker_adjusted_correlations,
                                              method_factor_test, smallest_cross_correlation)

__all__ = ["method_variance_checks", "method_variance_sentence"]

COLUMNS = ["check", "statistic", "value", "criterion", "flag", "note"]


def method_variance_checks(survey: pd.DataFrame, codebook: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harman's test, the unmeasured latent method construct and the Lindell-Whitney
    correction on one survey.

    Parameters
    ----------
    survey : DataFrame
        From :func:`analysis.io.survey.load_survey` (items reverse-coded, missing as NaN).
    codebook : DataFrame

    Returns
    -------
    table : DataFrame
        ``check statistic value criterion flag note``: one row per statistic; ``flag`` is
        True where the statistic points to common-method variance, NaN where the check
        could not be read (an inadmissible method-factor solution).
    adjusted : DataFrame
        :func:`analysis.methods.method_variance.marker_adjusted_correlations` of every
        construct's item mean with the outcome's.

    References
    ----------
    Podsakoff, MacKenzie, Lee & Podsakoff (2003); Lindell & Whitney (2001); see
    :mod:`analysis.methods.method_variance`.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> table, adjusted = method_variance_checks(load_survey(None, cb), cb)   # doctest: +SKIP
    """
    constructs = construct_items(codebook)
    items = [i for its in constructs.values() for i in its]
    rows = []
    h = harman_single_factor(survey[items]).iloc[0]
    rows.append(("Harman single factor", "first_share", h["first_share"],
                 "> 0.50: one general factor dominates", bool(h["dominant"]),
                 f"{int(h['n_eigen_above_1'])} eigenvalues above 1 for {len(constructs)} constructs"))
    ulmc = method_factor_test(constructs, survey).iloc[1].copy()
    readable = bool(ulmc["admissible"])
    note = "" if readable else f"inadmissible solution, not to be read: {ulmc['problem']}"
    if not readable:   # an unconverged optimum is not a result (nor the same on every machine)
        ulmc[["p_diff", "method_share", "trait_share", "max_abs_change_correlation"]] = np.nan
    rows.append(("method factor (ULMC)", "p_diff", ulmc["p_diff"],
                 "< .05: a method factor improves fit",
                 bool(ulmc["p_diff"] < 0.05) if readable else np.nan, note))
    rows.append(("method factor (ULMC)", "method_share", ulmc["method_share"],
                 "> 0.25: method variance comparable to the median in self-report research",
                 bool(ulmc["method_share"] > 0.25) if readable else np.nan, note))
    rows.append(("method factor (ULMC)", "trait_share", ulmc["trait_share"],
                 "share of item variance due to the constructs", np.nan, note))
    rows.append(("method factor (ULMC)", "max_abs_change_correlation",
                 ulmc["max_abs_change_correlation"], "> 0.10: construct correlations move",
                 bool(ulmc["max_abs_change_correlation"] > 0.10) if readable else np.nan, note))
    r_m = smallest_cross_correlation(survey[items], constructs)
    scores = pd.DataFrame({c: survey[its].mean(axis=1) for c, its in constructs.items()})
    adjusted = marker_adjusted_correlations(scores, outcome(codebook), r_m)
    lost = adjusted[adjusted["significant_unadjusted"] & ~adjusted["significant"]]
    rows.append(("Lindell-Whitney marker", "r_marker", r_m,
                 "smallest correlation between items of different constructs", np.nan, ""))
    rows.append(("Lindell-Whitney marker", "n_lost_significance", float(len(lost)),
                 "> 0: a correlation with the outcome is not significant once corrected",
                 bool(len(lost) > 0),
                 ", ".join(lost["predictor"]) if len(lost) else
                 f"{int(adjusted['significant'].sum())} of {len(adjusted)} stay significant"))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, adjusted


def method_variance_sentence(table: pd.DataFrame, adjusted: pd.DataFrame) -> str:
    """The verdict of :func:`method_variance_checks` in words.

    Parameters
    ----------
    table, adjusted : DataFrame
        The two results of :func:`method_variance_checks`.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"check": ["Harman single factor", "method factor (ULMC)",
    ...                             "method factor (ULMC)", "method factor (ULMC)",
    ...                             "method factor (ULMC)", "Lindell-Whitney marker",
    ...                             "Lindell-Whitney marker"],
    ...                   "statistic": ["first_share", "p_diff", "method_share", "trait_share",
    ...                                 "max_abs_change_correlation", "r_marker",
    ...                                 "n_lost_significance"],
    ...                   "value": [0.3, 0.2, 0.02, 0.5, 0.01, 0.1, 0.0],
    ...                   "flag": [False, False, False, np.nan, False, np.nan, False],
    ...                   "note": [""] * 7})
    >>> a = pd.DataFrame({"r": [0.4], "r_adjusted": [0.33], "significant": [True]})
    >>> print(method_variance_sentence(t, a))  # doctest: +NORMALIZE_WHITESPACE
    The first unrotated factor carries 30% of the item variance (not a dominant general
    factor); a method factor on every item does not improve the fit (p = 0.200) and carries 2%
    of the item variance; corrected for a method correlation of 0.10 (Lindell-Whitney), the
    construct-outcome correlations fall from 0.40-0.40 to 0.33-0.33 and 1 of 1 stay
    significant. None of the three checks points to common-method variance that would explain
    the links; this does not prove its absence (no check can), and a marker variable or a second
    data source in the next survey would be stronger evidence.
    """
    v = table.set_index("statistic")
    share = v.loc["first_share", "value"]
    parts = [f"The first unrotated factor carries {share:.0%} of the item variance "
             f"({'a dominant general factor' if share > 0.5 else 'not a dominant general factor'})"]
    if pd.isna(v.loc["p_diff", "flag"]):
        parts.append("the method-factor model (ULMC) has no admissible solution, so it gives no "
                     "evidence either way (this is common when there is little method variance to "
                     "find)")
    else:
        p = v.loc["p_diff", "value"]
        parts.append(f"a method factor on every item {'improves' if p < 0.05 else 'does not improve'} "
                     f"the fit (p = {p:.3f}) and carries {v.loc['method_share', 'value']:.0%} of "
                     "the item variance")
    n_sig = int(adjusted["significant"].sum())
    parts.append(f"corrected for a method correlation of {v.loc['r_marker', 'value']:.2f} "
                 f"(Lindell-Whitney), the construct-outcome correlations fall from "
                 f"{adjusted['r'].min():.2f}-{adjusted['r'].max():.2f} to "
                 f"{adjusted['r_adjusted'].min():.2f}-{adjusted['r_adjusted'].max():.2f} and "
                 f"{n_sig} of {len(adjusted)} stay significant")
    flags = table["flag"].dropna().astype(bool)
    n_flag = int(flags.sum())
    n_read = int(table.loc[table["flag"].notna(), "check"].nunique())
    if n_flag == 0:
        which = {3: "None of the three checks points", 2: "Neither of the two readable checks points",
                 1: "The one readable check does not point"}.get(n_read, "No check points")
        verdict = (f"{which} to common-method variance that would explain "
                   "the links; this does not prove its absence (no check can), and a marker "
                   "variable or a second data source in the next survey would be stronger evidence.")
    else:
        which = ", ".join(dict.fromkeys(table.loc[table["flag"] == True, "check"]))  # noqa: E712
        verdict = (f"{which} point{'s' if n_flag == 1 else ''} to common-method variance: the "
                   "links between elements and performance may be inflated by the shared "
                   "questionnaire, and should be confirmed with another data source (records, "
                   "an independent respondent group) before they guide decisions.")
    return "; ".join(parts) + ". " + verdict
