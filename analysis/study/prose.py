"""Sentences computed from results, so a notebook's interpretation is true on any survey.

Each function takes a result table and returns one Markdown paragraph; a notebook shows it
with ``IPython.display.Markdown(...)``. Every number and every verdict in the sentence comes
from the table it is given, with the threshold that decides the verdict stated beside it.
Method explanations stay as written Markdown in the notebooks; only sentences that state
results live here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _list(words: Sequence[str], limit: int = 8) -> str:
    words = [str(w) for w in words]
    if len(words) > limit:
        return ", ".join(words[:limit]) + f" and {len(words) - limit} more"
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _num(n: int) -> str:
    return f"{n:,}"


def questionnaire_sentence(codebook: pd.DataFrame) -> str:
    """What the codebook defines: constructs, items per construct, scales, reverse items.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.

    Returns
    -------
    str
        Markdown.

    References
    ----------
    DeVellis, R. F. (2017). *Scale Development: Theory and Applications* (4th ed.). Sage
    (what a measurement instrument's description reports).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> questionnaire_sentence(load_codebook())[:60]
    '6 constructs, 5 elements and the outcome PV, measured by 25 '
    """
    g = codebook.groupby("construct", sort=False)
    counts = g.size()
    roles = g["role"].first()
    out = [c for c in counts.index if roles[c] == "outcome"]
    n_el = int((roles == "element").sum())
    scales = g.apply(lambda d: f"{int(d['scale_min'].min())}–{int(d['scale_max'].max())}",
                     include_groups=False)
    if scales.nunique() == 1:
        scale_text = f"all on a {scales.iloc[0]} scale"
    else:
        scale_text = "on scales " + _list([f"{c} {s}" for c, s in scales.items()], limit=12)
    rev = codebook.loc[codebook["reverse"], "item"].tolist()
    rev_text = (f"{len(rev)} reverse-worded ({_list(rev)})" if rev else "none reverse-worded")
    return (f"{len(counts)} constructs, {n_el} elements and the outcome {_list(out)}, measured by "
            f"{len(codebook)} items ({_list([f'{c} {n}' for c, n in counts.items()], limit=12)}), "
            f"{scale_text}; {rev_text}.")


def sample_sentence(sample: pd.DataFrame, k: int = 5, by: str = "community_type") -> str:
    """Communities, respondents and community sizes from :func:`analysis.study.describe.sample_by_type`.

    Parameters
    ----------
    sample : pandas.DataFrame
        One row per community type and an ``all`` row.
    k : int
        Disclosure threshold: communities with fewer respondents are not scored (notebook 04).
    by : str
        The grouping column of ``sample``.

    Returns
    -------
    str

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley (the threshold rule).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"community_type": ["a", "b", "all"], "communities": [2, 2, 4],
    ...                   "respondents": [60, 33, 93], "median_size": [30, 16, 24],
    ...                   "min_size": [28, 3, 3], "max_size": [32, 30, 32]})
    >>> sample_sentence(t)
    '93 respondents in 4 communities of 2 types (a 2, b 2); communities have 3 to 32 respondents (median 24). The smallest has fewer than 5, so later steps flag it rather than score it (disclosure control, notebook 04).'
    """
    all_row = sample.set_index(by).loc["all"]
    types = sample[sample[by] != "all"]
    text = f"{_num(int(all_row['respondents']))} respondents in {int(all_row['communities'])} communities"
    if len(types) > 1:
        text += (f" of {len(types)} types ("
                 + ", ".join(f"{t} {int(n)}" for t, n in zip(types[by], types["communities"])) + ")")
    text += (f"; communities have {int(all_row['min_size'])} to {int(all_row['max_size'])} "
             f"respondents (median {int(all_row['median_size'])}).")
    if all_row["min_size"] < k:
        text += (f" The smallest has fewer than {k}, so later steps flag it rather than score it "
                 "(disclosure control, notebook 04).")
    else:
        text += f" Every community has at least {k} respondents, the disclosure threshold of notebook 04."
    return text


def answers_sentence(items: pd.DataFrame, codebook: pd.DataFrame, limit: float = 0.15) -> str:
    """Where answers sit on the scale: item means, floor and ceiling shares against ``limit``.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item with ``item``, ``mean``, ``floor`` and ``ceiling`` (shares at the
        scale's ends), e.g. :func:`analysis.study.indicators.item_analysis`.
    codebook : pandas.DataFrame
    limit : float
        Share at an end above which an item counts as truncated (15%, Terwee et al. 2007).

    Returns
    -------
    str

    References
    ----------
    Terwee, C. B. et al. (2007). Quality criteria were proposed for measurement properties of
    health status questionnaires. *Journal of Clinical Epidemiology* 60, 34-42.

    Examples
    --------
    >>> import pandas as pd
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "scale_min": [1, 1], "scale_max": [5, 5]})
    >>> t = pd.DataFrame({"item": ["A1", "A2"], "mean": [3.1, 3.9], "floor": [.02, .01],
    ...                   "ceiling": [.10, .22]})
    >>> answers_sentence(t, cb)
    'Item means range from 3.10 to 3.90 (scale midpoint 3.00). Floor shares reach at most 2.0% and ceiling shares at most 22.0%; 1 of 2 items has more than 15% of its answers at an end of the scale (A2, ceiling 0.22), so those items separate respondents poorly at that end.'
    """
    cb = codebook.set_index("item")
    t = items.set_index("item")
    mid = ((cb["scale_min"] + cb["scale_max"]) / 2).reindex(t.index)
    mids = sorted(set(mid.round(2)))
    mid_text = f"scale midpoint {mids[0]:.2f}" if len(mids) == 1 else \
        f"scale midpoints {_list([f'{m:.2f}' for m in mids])}"
    text = (f"Item means range from {t['mean'].min():.2f} to {t['mean'].max():.2f} ({mid_text}). "
            f"Floor shares reach at most {_pct(t['floor'].max())} and ceiling shares at most "
            f"{_pct(t['ceiling'].max())}; ")
    end = pd.concat([t["floor"].rename("floor"), t["ceiling"].rename("ceiling")], axis=1)
    over = end[(end > limit).any(axis=1)]
    if over.empty:
        return text + f"no item has more than {limit:.0%} of its answers at either end of the scale."
    desc = [f"{i}, {'ceiling' if r['ceiling'] > limit else 'floor'} "
            f"{max(r['ceiling'], r['floor']):.2f}" for i, r in over.iterrows()]
    verb, its = ("has", "its") if len(over) == 1 else ("have", "their")
    return text + (f"{len(over)} of {len(t)} items {verb} more than {limit:.0%} of {its} answers "
                   f"at an end of the scale ({_list(desc, limit=6)}), so those items separate "
                   "respondents poorly at that end.")


def missing_sentence(survey: pd.DataFrame, items: Sequence[str], n_patterns: int | None = None) -> str:
    """How much is missing and what listwise deletion would cost.

    Parameters
    ----------
    survey : pandas.DataFrame
    items : sequence of str
    n_patterns : int, optional
        Number of distinct missingness patterns (:func:`analysis.study.describe.missing_patterns`).

    Returns
    -------
    str

    References
    ----------
    Enders, C. K. (2010). *Applied Missing Data Analysis*. Guilford.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.DataFrame({"a": [1, np.nan, 3, 4], "b": [1, 2, 3, 4]})
    >>> missing_sentence(s, ["a", "b"])
    '12.5% of the item answers are missing; listwise deletion would drop 1 of 4 respondents (25.0%), while FIML keeps every answer.'
    """
    x = survey[list(items)].isna()
    share = float(x.to_numpy().mean())
    if share == 0:
        return "No item answer is missing, so listwise deletion and FIML use the same respondents."
    incomplete = int(x.any(axis=1).sum())
    pat = f", in {n_patterns} patterns" if n_patterns else ""
    return (f"{_pct(share)} of the item answers are missing{pat}; listwise deletion would drop "
            f"{_num(incomplete)} of {_num(len(survey))} respondents ({_pct(incomplete / len(survey))}), "
            "while FIML keeps every answer.")


def reliability_sentence(rel: pd.DataFrame, threshold: float = 0.70) -> str:
    """Which constructs clear ``threshold`` for alpha, omega and composite reliability.

    Parameters
    ----------
    rel : pandas.DataFrame
        :func:`analysis.study.indicators.reliability` (``construct alpha omega_total cr mean_r``).
    threshold : float
        Nunnally & Bernstein's (1994) .70.

    Returns
    -------
    str

    References
    ----------
    Nunnally, J. C. & Bernstein, I. H. (1994). *Psychometric Theory* (3rd ed.). McGraw-Hill.
    Clark, L. A. & Watson, D. (1995). Constructing validity. *Psychological Assessment* 7, 309-319.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"construct": ["A", "B"], "alpha": [.81, .66], "omega_total": [.82, .68],
    ...                   "cr": [.82, .69], "mean_r": [.45, .33]})
    >>> reliability_sentence(r)
    'Alpha, omega and composite reliability reach .70 (Nunnally & Bernstein 1994) for A, not for B (lowest alpha .66). Mean inter-item correlations lie between .33 and .45 (Clark & Watson 1995 recommend .15-.50).'
    """
    cols = ["alpha", "omega_total", "cr"]
    ok = (rel[cols] >= threshold).all(axis=1)
    th = f"{threshold:.2f}".lstrip("0")
    if ok.all():
        text = f"Every construct clears {th} for alpha, omega and composite reliability (Nunnally & Bernstein 1994)."
    else:
        bad = rel[~ok]
        good = rel.loc[ok, "construct"].tolist()
        text = (f"Alpha, omega and composite reliability reach {th} (Nunnally & Bernstein 1994) for "
                f"{_list(good) if good else 'no construct'}, not for {_list(bad['construct'])} "
                f"(lowest alpha {bad['alpha'].min():.2f})."
                ).replace(" .", " .").replace("alpha 0.", "alpha .")
    lo, hi = rel["mean_r"].min(), rel["mean_r"].max()
    return text + (f" Mean inter-item correlations lie between {lo:.2f} and {hi:.2f} "
                   "(Clark & Watson 1995 recommend .15-.50).").replace(" 0.", " .")


def kmo_sentence(overall: float, item_min: float, bartlett_p: float) -> str:
    """Kaiser's verbal label of the KMO, the weakest item, and Bartlett's test.

    Parameters
    ----------
    overall, item_min : float
        Overall and smallest per-item KMO.
    bartlett_p : float
        p value of Bartlett's test of sphericity.

    Returns
    -------
    str

    References
    ----------
    Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika* 39, 31-36.

    Examples
    --------
    >>> kmo_sentence(0.93, 0.88, 1e-20)
    "The overall KMO of 0.930 is marvelous in Kaiser's (1974) terms and the weakest item's is 0.880 (meritorious); Bartlett's test rejects an identity correlation matrix (p < .001). The items are fit for factor analysis."
    """
    def label(v):
        for cut, name in ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"),
                          (0.6, "mediocre"), (0.5, "miserable")):
            if v >= cut:
                return name
        return "unacceptable"
    p = "p < .001" if bartlett_p < 0.001 else f"p = {bartlett_p:.3f}"
    rejects = "rejects" if bartlett_p < 0.05 else "does not reject"
    fit = ("The items are fit for factor analysis." if overall >= 0.6 and bartlett_p < 0.05
           else "Factor analysis of these items is questionable.")
    return (f"The overall KMO of {overall:.3f} is {label(overall)} in Kaiser's (1974) terms and the "
            f"weakest item's is {item_min:.3f} ({label(item_min)}); Bartlett's test {rejects} an "
            f"identity correlation matrix ({p}). {fit}")


def factors_sentence(n_factors: int, n_components: int, n_constructs: int) -> str:
    """Parallel analysis's count against the codebook's constructs.

    Parameters
    ----------
    n_factors, n_components : int
        Retained by the factor and component versions of parallel analysis.
    n_constructs : int
        Constructs in the codebook.

    Returns
    -------
    str

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika* 30, 179-185.

    Examples
    --------
    >>> factors_sentence(6, 6, 6)
    'Parallel analysis retains 6 factors (6 components), as many as the codebook has constructs.'
    """
    agree = ("as many as the codebook has constructs" if n_factors == n_constructs else
             f"while the codebook has {n_constructs} constructs: the exploratory structure does "
             "not reproduce the theorised one, and the loadings below show where")
    return f"Parallel analysis retains {n_factors} factors ({n_components} components), {agree}."


def rank_correlation_caveat(n_elements: int) -> str:
    """What a Spearman correlation over ``n_elements`` weights can show.

    With n values a rank correlation takes only n(n^2 - 1)/6 + 1 distinct values, and its
    exact 5% critical value is large for small n (.90 for n = 5, one-sided), so two schemes
    can look "correlated" or "opposed" by the placement of one element.

    Parameters
    ----------
    n_elements : int

    Returns
    -------
    str

    References
    ----------
    Zar, J. H. (1972). Significance testing of the Spearman rank correlation coefficient.
    *Journal of the American Statistical Association* 67, 578-580.

    Examples
    --------
    >>> rank_correlation_caveat(5)[:62]
    'These rank correlations rest on 5 element weights: a Spearman '
    """
    from scipy import stats

    n = int(n_elements)
    if n < 3:
        return (f"With {n} element weights a rank correlation says nothing; compare the weights "
                "in the table instead.")
    # exact permutation distribution for small n, normal approximation beyond 8
    if n <= 8:
        import itertools

        base = np.arange(n)
        rhos = np.array([stats.spearmanr(base, p)[0] for p in itertools.permutations(base)])
        crit = float(np.quantile(rhos, 0.95, method="higher"))
    else:
        crit = float(stats.norm.ppf(0.95) / np.sqrt(n - 1))
    return (f"These rank correlations rest on {n} element weights: a Spearman coefficient over "
            f"{n} values moves in steps of {6 / (n * (n * n - 1)) * 2:.2f} and must exceed about "
            f"{crit:.2f} to be distinguishable from chance at the 5% level (one-sided), so read "
            "them as a description of these weights, not as evidence that two schemes agree.")


def shape_sentence(items: pd.DataFrame, max_skew: float = 2.0, max_kurtosis: float = 7.0) -> str:
    """Whether item skewness and kurtosis stay within the limits for normal-theory ML.

    Parameters
    ----------
    items : pandas.DataFrame
        ``item skew kurtosis`` (:func:`analysis.study.indicators.item_analysis`).
    max_skew, max_kurtosis : float
        Curran, West & Finch's (1996) limits, 2 and 7.

    Returns
    -------
    str

    References
    ----------
    Curran, P. J., West, S. G. & Finch, J. F. (1996). The robustness of test statistics to
    nonnormality and specification error in confirmatory factor analysis. *Psychological
    Methods* 1, 16-29.

    Examples
    --------
    >>> import pandas as pd
    >>> shape_sentence(pd.DataFrame({"item": ["A"], "skew": [-0.4], "kurtosis": [-0.3]}))
    'The largest |skew| is 0.40 and the largest |kurtosis| 0.30, within the limits (2 and 7) of Curran, West & Finch (1996) for normal-theory ML.'
    """
    sk, ku = items["skew"].abs(), items["kurtosis"].abs()
    text = f"The largest |skew| is {sk.max():.2f} and the largest |kurtosis| {ku.max():.2f}"
    bad = items.loc[(sk > max_skew) | (ku > max_kurtosis), "item"].tolist()
    lim = f"({max_skew:g} and {max_kurtosis:g}) of Curran, West & Finch (1996)"
    if not bad:
        return text + f", within the limits {lim} for normal-theory ML."
    return text + (f"; {_list(bad)} exceed the limits {lim}, so the robust (MLR) results of "
                   "notebook 03 are the ones to read for them.")


def item_total_sentence(items: pd.DataFrame, r_min: float = 0.30) -> str:
    """Corrected item-total correlations and critical ratios against their thresholds.

    Parameters
    ----------
    items : pandas.DataFrame
        ``item r_drop cr_p`` (:func:`analysis.study.indicators.item_analysis`).
    r_min : float
        The retention threshold of the corrected item-total correlation.

    Returns
    -------
    str

    References
    ----------
    Kelley, T. L. (1939). The selection of upper and lower groups for the validation of test
    items. *Journal of Educational Psychology* 30, 17-24.

    Examples
    --------
    >>> import pandas as pd
    >>> item_total_sentence(pd.DataFrame({"item": ["A", "B"], "r_drop": [.6, .2], "cr_p": [1e-9, .2]}))
    'The corrected item-total correlation is below 0.30 for B; the critical ratio does not separate high from low scorers (p >= .05) for B.'
    """
    low = items.loc[items["r_drop"] < r_min, "item"].tolist()
    ns = items.loc[items["cr_p"] >= 0.05, "item"].tolist()
    a = (f"Every corrected item-total correlation reaches {r_min:.2f}" if not low else
         f"The corrected item-total correlation is below {r_min:.2f} for {_list(low)}")
    b = ("every critical ratio is significant: each item separates high from low scorers on its "
         "construct." if not ns else
         f"the critical ratio does not separate high from low scorers (p >= .05) for {_list(ns)}.")
    return f"{a}; {b}"


def invariance_sentence(decision: pd.DataFrame, group_label: str = "community types") -> str:
    """The verdict of a metric/scalar invariance sequence, with the tests that decide it.

    Parameters
    ----------
    decision : pandas.DataFrame
        :func:`analysis.study.heterogeneity.invariance_decision` (index ``configural``,
        ``metric``, ``scalar``; ``p_diff``, ``delta_cfi``, ``holds_lrt``, ``holds_fit``).
    group_label : str

    Returns
    -------
    str

    References
    ----------
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. *Structural Equation Modeling* 14, 464-504 (the change in CFI of .01).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"p_diff": [float("nan"), .97, .03], "delta_cfi": [float("nan"), 0., -.004],
    ...                   "holds_lrt": [True, True, False], "holds_fit": [True, True, True]},
    ...                  index=["configural", "metric", "scalar"])
    >>> invariance_sentence(d)
    'Equal loadings (metric) hold across community types (p = 0.970, change in CFI +0.000); equal intercepts (scalar) fail the likelihood-ratio test (p = 0.030, change in CFI -0.004): latent means of community types are compared under the partial model below.'
    """
    def step(name, what):
        r = decision.loc[name]
        ok = bool(r["holds_lrt"]) and bool(r["holds_fit"])
        why = ("hold" if ok else
               "fail the likelihood-ratio test" if not r["holds_lrt"] and r["holds_fit"] else
               "fail the change-in-CFI criterion" if r["holds_lrt"] else "fail both tests")
        return ok, f"{what} {why} (p = {r['p_diff']:.3f}, change in CFI {r['delta_cfi']:+.3f})"
    m_ok, m = step("metric", "equal loadings (metric)")
    s_ok, s = step("scalar", "equal intercepts (scalar)")
    text = f"{m[0].upper()}{m[1:]}".replace(" hold (", f" hold across {group_label} (", 1)
    text += f"; {s}: "
    if m_ok and s_ok:
        return text + f"latent means of {group_label} can be compared."
    return text + f"latent means of {group_label} are compared under the partial model below."


def grades_sentence(fuzzy: pd.DataFrame, grades: Sequence[str] = ("excellent", "good", "fair", "poor")) -> str:
    """How the communities spread over the fuzzy grades (weighted-average principle).

    Parameters
    ----------
    fuzzy : pandas.DataFrame
        :func:`analysis.study.scoring.fuzzy_evaluation` (``grade``, ``grade_max_membership``).
    grades : sequence of str
        Grade names, best first.

    Returns
    -------
    str

    References
    ----------
    Zadeh, L. A. (1965). Fuzzy sets. *Information and Control* 8, 338-353.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"grade": ["good", "fair", "good"], "grade_max_membership": ["good", "good", "good"]})
    >>> grades_sentence(f)
    'Of 3 scored communities, 2 grade good and 1 fair; none reaches excellent and none falls to poor. The maximum-membership principle agrees for 2 of them.'
    """
    counts = fuzzy["grade"].value_counts()
    parts = [f"{int(counts[g])} {g}" for g in grades if g in counts]
    if parts:
        parts[0] = parts[0].replace(" ", " grade ", 1)
    text = f"Of {len(fuzzy)} scored communities, {_list(parts)}"
    absent = [g for g in (grades[0], grades[-1]) if g not in counts]
    if absent == [grades[0], grades[-1]]:
        text += f"; none reaches {grades[0]} and none falls to {grades[-1]}"
    elif grades[0] in absent:
        text += f"; none reaches {grades[0]}"
    elif grades[-1] in absent:
        text += f"; none falls to {grades[-1]}"
    agree = int((fuzzy["grade"] == fuzzy["grade_max_membership"]).sum())
    return text + f". The maximum-membership principle agrees for {agree} of them."


def aggregation_sentence(agg: pd.DataFrame, icc2_min: float = 0.70, rwg_min: float = 0.70) -> str:
    """Whether residents may be averaged into community scores, construct by construct.

    Parameters
    ----------
    agg : pandas.DataFrame
        :func:`analysis.study.scoring.aggregation_statistics` (``construct icc1 icc2 p_value
        rwg_j_median``).
    icc2_min, rwg_min : float
        The conventional .70 for ICC(2) and rwg(j) (LeBreton & Senter 2008).

    Returns
    -------
    str

    References
    ----------
    Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In Klein
    & Kozlowski (eds.), *Multilevel Theory, Research, and Methods in Organizations*, 349-381.
    LeBreton, J. M. & Senter, J. L. (2008). Answers to 20 questions about interrater
    reliability and interrater agreement. *Organizational Research Methods* 11, 815-852.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"construct": ["A", "B"], "icc1": [.12, .03], "icc2": [.82, .41],
    ...                   "p_value": [0., .04], "rwg_j_median": [.85, .80]})
    >>> aggregation_sentence(a)
    'ICC(1) ranges from 0.03 to 0.12 and ICC(2) from 0.41 to 0.82; the median rwg(j) is at least 0.80. ICC(2) reaches 0.70 and the median rwg(j) 0.70 for A; for B community means are unreliable at these group sizes, so their community scores should be read with care.'
    """
    ok = (agg["icc2"] >= icc2_min) & (agg["rwg_j_median"] >= rwg_min) & (agg["p_value"] < 0.05)
    text = (f"ICC(1) ranges from {agg['icc1'].min():.2f} to {agg['icc1'].max():.2f} and ICC(2) from "
            f"{agg['icc2'].min():.2f} to {agg['icc2'].max():.2f}; the median rwg(j) is at least "
            f"{agg['rwg_j_median'].min():.2f}. ")
    if ok.all():
        return text + (f"ICC(2) reaches {icc2_min:.2f} and the median rwg(j) {rwg_min:.2f} for every "
                       "construct: averaging residents into community scores is justified.")
    good = agg.loc[ok, "construct"].tolist()
    bad = agg.loc[~ok, "construct"].tolist()
    return text + (f"ICC(2) reaches {icc2_min:.2f} and the median rwg(j) {rwg_min:.2f} for "
                   f"{_list(good) if good else 'no construct'}; for {_list(bad)} community means "
                   "are unreliable at these group sizes, so their community scores should be read "
                   "with care.")
