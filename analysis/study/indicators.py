"""The indicator system: every construct of the codebook measured, validated and weighted.

* Measurement, construct by construct from the codebook: :func:`item_analysis`,
  :func:`reliability` (alpha, omega, CR, AVE), :func:`cfa` with convergent and discriminant
  validity (:func:`validity_from_estimates`: Fornell & Larcker 1981; HTMT, Henseler et al.
  2015), and :func:`item_decisions` (keep or drop each item by stated rules).
* SEM-based weights from a fitted model: within constructs from the standardised loadings
  (:func:`loading_weights`), between constructs from the total effects on the outcome
  (:func:`total_effects`, :func:`path_weights`; Bollen 1987).
* Combining and reporting weights: :func:`combine_weights` (subjective with objective),
  :func:`compare_weights`, :func:`indicator_system`.

The methods themselves (alpha, omega, minres, HTMT) are in :mod:`analysis.methods.reliability`
and :mod:`analysis.methods.factor`; AHP, entropy and CRITIC weights in
:mod:`analysis.methods.weighting`. Items are expected already reverse-coded (as
:func:`analysis.io.survey.load_survey` returns them).

References
----------
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
unobservable variables and measurement error. *J. Marketing Research*, 18(1), 39-50.
Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
discriminant validity in variance-based structural equation modeling. *Journal of the
Academy of Marketing Science*, 43, 115-135.
Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
*Sociological Methodology*, 17, 37-69.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items
from analysis.methods.factor import minres
from analysis.methods.items import MIN_ITEMS, check_items, correlation
from analysis.methods.reliability import (
    composite_reliability,
    cronbach_alpha,
    htmt,
    item_statistics,
)
from analysis.sem import polychoric
from analysis.sem import total_effects as sem_total_effects


def _construct_frames(data: pd.DataFrame, codebook: pd.DataFrame) -> dict[str, pd.DataFrame]:
    groups = construct_items(codebook)
    missing = [i for items in groups.values() for i in items if i not in data.columns]
    if missing:
        raise ValueError(f"data lack the codebook's items {missing[:5]}")
    out = {}
    for c, items in groups.items():
        if len(items) < MIN_ITEMS:
            raise ValueError(f"construct {c!r} has {len(items)} items ({items}); at least "
                             f"{MIN_ITEMS} are needed")
        out[c] = check_items(data[items], min_items=MIN_ITEMS, name=f"construct {c}")
    return out


def item_analysis(data: pd.DataFrame, codebook: pd.DataFrame, *, extreme: float = 0.27,
                  r_drop_min: float = 0.30) -> pd.DataFrame:
    """Item analysis of every construct in the codebook (see
    :func:`analysis.methods.reliability.item_statistics`).

    Adds ``construct`` and two flags a methodologist would look at: ``weak_r_drop``
    (corrected item-total correlation below ``r_drop_min``, 0.30 by the usual rule of
    thumb, Nunnally & Bernstein 1994) and ``raises_alpha`` (deleting the item would raise
    the construct's alpha).

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers with the codebook's items.
    codebook : pandas.DataFrame
        Gives the constructs, their items and the scale limits.
    extreme : float
        Share of respondents in each extreme group of the critical ratio.
    r_drop_min : float
        Threshold of ``weak_r_drop``.

    Returns
    -------
    pandas.DataFrame
        ``construct`` plus the columns of :func:`analysis.methods.reliability.item_statistics`,
        ``weak_r_drop`` and ``raises_alpha``; one row per item.

    Raises
    ------
    ValueError
        The data lack items of the codebook, or a construct has fewer than 3 items or a
        constant item.

    References
    ----------
    Nunnally, J. C. & Bernstein, I. H. (1994). *Psychometric Theory* (3rd ed.). McGraw-Hill.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> ia = item_analysis(load_survey(codebook=cb), cb)
    >>> len(ia) == len(cb), int(ia["weak_r_drop"].sum())
    (True, 0)
    """
    frames = _construct_frames(data, codebook)
    lim = codebook.set_index("item")[["scale_min", "scale_max"]]
    out = []
    for c, x in frames.items():
        st = item_statistics(x, scale_min=lim.loc[x.columns, "scale_min"].min(),
                             scale_max=lim.loc[x.columns, "scale_max"].max(), extreme=extreme)
        alpha = cronbach_alpha(x)
        st.insert(0, "construct", c)
        st["weak_r_drop"] = st["r_drop"] < r_drop_min
        st["raises_alpha"] = st["alpha_if_deleted"] > alpha
        out.append(st)
    return pd.concat(out, ignore_index=True)


def reliability(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Reliability of every construct in the codebook.

    Columns: ``construct n_items n alpha alpha_std omega_total cr ave mean_r``:
    Cronbach's alpha (pairwise covariances, as psych), standardised alpha (from the
    correlations rescaled from those covariances, as psych), omega total
    (:func:`analysis.methods.reliability.omega_total`), composite reliability and AVE from
    the one-factor minres loadings, and the mean inter-item correlation. ``n`` counts
    respondents who answered every item of the construct.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers with the codebook's items.
    codebook : pandas.DataFrame
        Gives the constructs and their items (a subset of rows gives a subset of constructs).

    Returns
    -------
    pandas.DataFrame
        One row per construct with the columns above.

    Raises
    ------
    ValueError
        For a construct with fewer than 3 items or a constant item.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334. McDonald, R. P. (1999). *Test Theory: A Unified Treatment*.
    Erlbaum. Fornell, C., & Larcker, D. F. (1981). *J. Marketing Research*, 18(1), 39-50.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> r = reliability(load_survey(codebook=cb), cb[cb["construct"] == "MS"])
    >>> r[["construct", "n_items", "alpha", "omega_total"]].round(3).to_dict("records")
    [{'construct': 'MS', 'n_items': 4, 'alpha': 0.764, 'omega_total': 0.767}]
    """
    rows = []
    for c, x in _construct_frames(data, codebook).items():
        R = correlation(x)
        k = R.shape[0]
        # psych's standardised alpha and average r use cov2cor of the pairwise covariances
        C = x.cov(min_periods=2).to_numpy()
        Rc = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
        mean_r = (Rc.sum() - k) / (k * (k - 1))
        L, u2 = minres(R, 1)
        lam = L[:, 0]
        rows.append({"construct": c, "n_items": k, "n": int(x.dropna().shape[0]),
                     "alpha": cronbach_alpha(x), "alpha_std": k * mean_r / (1 + (k - 1) * mean_r),
                     "omega_total": float(1.0 - u2.sum() / R.sum()),
                     "cr": composite_reliability(lam), "ave": float(np.mean(lam ** 2)),
                     "mean_r": mean_r})
    return pd.DataFrame(rows)


def validity_from_estimates(estimates: pd.DataFrame, column: str = "std_all") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convergent and discriminant validity from a standardised CFA solution.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Parameter table in lavaan vocabulary (``lhs op rhs`` and ``column``), e.g.
        ``SEMResult.estimates``.
    column : str
        Column of the standardised estimates.

    Returns
    -------
    validity : DataFrame
        ``construct n_items ave cr sqrt_ave max_corr fornell_larcker`` - AVE = mean of
        squared standardised loadings, CR from loadings and standardised residual variances,
        and whether sqrt(AVE) exceeds every correlation with another construct.
    fornell_larcker : DataFrame
        Latent correlations with sqrt(AVE) on the diagonal.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *J. Marketing Research*, 18(1), 39-50.

    Examples
    --------
    >>> lam = {"a": .7, "b": .8, "c": .9, "d": .6, "e": .7, "f": .8}
    >>> rows = ([("F", "=~", i, lam[i]) for i in "abc"] + [("G", "=~", i, lam[i]) for i in "def"]
    ...         + [("F", "~~", "G", .5)] + [(i, "~~", i, 1 - v ** 2) for i, v in lam.items()])
    >>> est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "std_all"])
    >>> val, fl = validity_from_estimates(est)
    >>> val[["construct", "ave", "cr", "fornell_larcker"]].round(3).values.tolist()
    [['F', 0.647, 0.845, True], ['G', 0.497, 0.745, True]]
    """
    est = estimates
    lo = est[est["op"] == "=~"]
    factors = list(dict.fromkeys(lo["lhs"]))
    resid = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")[column]
    rows = []
    for f in factors:
        sub = lo[lo["lhs"] == f]
        lam = sub[column].to_numpy(float)
        th = [resid.get(i, np.nan) for i in sub["rhs"]]
        th = None if np.isnan(th).any() else th
        rows.append({"construct": f, "n_items": len(lam), "ave": float(np.mean(lam ** 2)),
                     "cr": composite_reliability(lam, th)})
    val = pd.DataFrame(rows)
    val["sqrt_ave"] = np.sqrt(val["ave"])
    phi = pd.DataFrame(np.eye(len(factors)), index=factors, columns=factors)
    cov = est[(est["op"] == "~~") & est["lhs"].isin(factors) & est["rhs"].isin(factors)
              & (est["lhs"] != est["rhs"])]
    for a, b, v in cov[["lhs", "rhs", column]].itertuples(index=False):
        phi.loc[a, b] = phi.loc[b, a] = float(v)
    off = phi.abs().to_numpy() - np.eye(len(factors))
    val["max_corr"] = off.max(axis=1)
    val["fornell_larcker"] = val["sqrt_ave"] > val["max_corr"]
    fl = phi.copy()
    for k, f in enumerate(factors):
        fl.loc[f, f] = val["sqrt_ave"].iloc[k]
    return val, fl


@dataclass
class CFAResult:
    """Result of :func:`cfa`.

    Attributes
    ----------
    sem : analysis.sem.SEMResult
        The fitted CFA.
    loadings : pandas.DataFrame
        ``construct item est se std_all`` per loading.
    fit : pandas.Series
        Fit indices (lavaan names).
    validity : pandas.DataFrame
        AVE, CR, Fornell-Larcker and max HTMT per construct.
    fornell_larcker : pandas.DataFrame
        Latent correlations with sqrt(AVE) on the diagonal.
    htmt : pandas.DataFrame
        HTMT matrix of the constructs.
    syntax : str
        The lavaan syntax fitted.
    """

    sem: object                     #: the :class:`analysis.sem.SEMResult`
    loadings: pd.DataFrame          #: construct item est se std_all
    fit: pd.Series                  #: fit indices
    validity: pd.DataFrame          #: AVE, CR, Fornell-Larcker, max HTMT per construct
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    syntax: str = field(default="")


def cfa(data: pd.DataFrame, codebook: pd.DataFrame, *, estimator: str = "ML",
        missing: str = "listwise") -> CFAResult:
    """Confirmatory factor analysis of the codebook's constructs with :mod:`analysis.sem`.

    The model has one factor per construct (first loading fixed to 1, factors correlated,
    lavaan's defaults); validity follows Fornell & Larcker (1981) and Henseler et al. (2015).

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers with the codebook's items.
    codebook : pandas.DataFrame
        Gives the constructs and their items.
    estimator : {"ML", "MLR"}
        Passed to :func:`analysis.sem.fit_sem`.
    missing : {"listwise", "fiml"}
        Passed to :func:`analysis.sem.fit_sem`; HTMT uses listwise or pairwise deletion to
        match.

    Returns
    -------
    CFAResult

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). *J. Marketing Research*, 18(1), 39-50.
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). *Journal of the Academy of Marketing
    Science*, 43, 115-135.

    Examples
    --------
    >>> import warnings
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # listwise deletion is announced with a warning
    ...     res = cfa(load_survey(codebook=cb), cb)
    >>> res.syntax.splitlines()[0], bool(res.validity["fornell_larcker"].all())
    ('MS =~ MS1 + MS2 + MS3 + MS4', True)
    """
    from analysis.sem import fit_sem

    frames = _construct_frames(data, codebook)
    groups = {c: list(x.columns) for c, x in frames.items()}
    syntax = "\n".join(f"{c} =~ {' + '.join(items)}" for c, items in groups.items())
    cols = [i for items in groups.values() for i in items]
    res = fit_sem(syntax, data[cols], estimator=estimator, missing=missing)
    est = res.estimates
    lo = est[est["op"] == "=~"][["lhs", "rhs", "est", "se", "std_all"]]
    lo = lo.rename(columns={"lhs": "construct", "rhs": "item"}).reset_index(drop=True)
    val, fl = validity_from_estimates(est)
    h = htmt(data, groups, missing="listwise" if missing == "listwise" else "pairwise")
    val["max_htmt"] = (h - np.eye(len(h))).max(axis=1).to_numpy()
    return CFAResult(sem=res, loadings=lo, fit=res.fit_indices, validity=val,
                     fornell_larcker=fl, htmt=h, syntax=syntax)


def item_decisions(items: pd.DataFrame, efa_table: pd.DataFrame | None = None,
                   cfa_loadings: pd.DataFrame | None = None, *, r_drop_min: float = 0.30,
                   efa_min: float = 0.40, cross_max: float = 0.40,
                   cfa_min: float = 0.50) -> pd.DataFrame:
    """Keep or drop each item by stated rules, with the reasons.

    An item is flagged when its corrected item-total correlation is below ``r_drop_min``
    (Nunnally & Bernstein 1994), deleting it would raise its construct's alpha, its
    critical ratio is not significant (p >= .05), its primary EFA loading is below
    ``efa_min`` or a cross-loading reaches ``cross_max``, its primary EFA factor differs
    from the one most of its construct's items load on, or its standardised CFA loading is
    below ``cfa_min`` (Hair et al. 2019). ``keep`` is False when any rule fails.

    Parameters
    ----------
    items : pandas.DataFrame
        From :func:`item_analysis`.
    efa_table : pandas.DataFrame, optional
        From :func:`analysis.methods.factor.loadings_table` (with ``construct``).
    cfa_loadings : pandas.DataFrame, optional
        ``item std_all`` (e.g. ``CFAResult.loadings``).
    r_drop_min, efa_min, cross_max, cfa_min : float
        The thresholds of the rules.

    Returns
    -------
    pandas.DataFrame
        ``construct item r_drop alpha_if_deleted cr_p``, the EFA/CFA loadings used, ``keep``
        and ``reason`` (the failed rules, or ``"meets every rule"``).

    References
    ----------
    Nunnally, J. C. & Bernstein, I. H. (1994). *Psychometric Theory* (3rd ed.). McGraw-Hill.
    Hair, J. F., Black, W. C., Babin, B. J. & Anderson, R. E. (2019). *Multivariate Data
    Analysis* (8th ed.). Cengage.

    Examples
    --------
    >>> items = pd.DataFrame({"construct": ["A", "A"], "item": ["A1", "A2"], "r_drop": [.6, .2],
    ...                       "alpha_if_deleted": [.7, .8], "cr_p": [.001, .2],
    ...                       "raises_alpha": [False, True]})
    >>> item_decisions(items)[["item", "keep", "reason"]].values.tolist()
    [['A1', True, 'meets every rule'], ['A2', False, 'item-total r < 0.30; alpha rises if deleted; critical ratio not significant']]
    """
    out = items[["construct", "item", "r_drop", "alpha_if_deleted", "cr_p"]].copy()
    reasons = [[] for _ in range(len(out))]

    def flag(mask, text):
        for k in np.flatnonzero(np.asarray(mask)):
            reasons[k].append(text)

    flag(out["r_drop"] < r_drop_min, f"item-total r < {r_drop_min:.2f}")
    flag(items["raises_alpha"], "alpha rises if deleted")
    flag(out["cr_p"] >= 0.05, "critical ratio not significant")
    if efa_table is not None:
        e = efa_table.set_index("item").loc[out["item"]]
        out["efa_loading"] = e["loading"].to_numpy()
        out["cross_loading"] = e["cross_loading"].to_numpy()
        modal = e.groupby("construct")["factor"].agg(lambda f: f.value_counts().index[0])
        wrong = e["factor"].to_numpy() != modal.loc[e["construct"]].to_numpy()
        flag(out["efa_loading"].abs() < efa_min, f"EFA loading < {efa_min:.2f}")
        flag(out["cross_loading"] >= cross_max, f"cross-loading >= {cross_max:.2f}")
        flag(wrong, "loads on another construct's factor")
    if cfa_loadings is not None:
        c = cfa_loadings.set_index("item")["std_all"]
        out["cfa_loading"] = c.reindex(out["item"]).to_numpy()
        flag(out["cfa_loading"] < cfa_min, f"CFA loading < {cfa_min:.2f}")
    out["keep"] = [not r for r in reasons]
    out["reason"] = ["; ".join(r) if r else "meets every rule" for r in reasons]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------- SEM-based weights
def _check_estimates(estimates: pd.DataFrame, column: str) -> pd.DataFrame:
    need = {"lhs", "op", "rhs", column}
    if not need <= set(estimates.columns):
        raise ValueError(f"estimates need columns {sorted(need)} (lavaan vocabulary), "
                         f"got {list(estimates.columns)}")
    return estimates


def loading_weights(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Within-construct item weights from standardised loadings, normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame
        Parameter table in lavaan vocabulary (``lhs op rhs`` and ``column``), e.g.
        ``SEMResult.estimates`` or ``lavaan::standardizedSolution``.
    column : str
        Which estimate column holds the standardised loadings.

    Returns
    -------
    DataFrame with ``construct, item, loading, weight``; weights sum to 1 per construct.

    Raises
    ------
    ValueError
        Missing columns, no loadings, or missing or non-positive loadings.

    References
    ----------
    The loading-proportional rule used for SEM-derived indicator weights, e.g.
    Fornell, C., et al. (1996). The American Customer Satisfaction Index. *J. Marketing*, 60(4).

    Examples
    --------
    >>> lam = {"a": .7, "b": .8, "c": .9, "d": .6, "e": .7, "f": .8}
    >>> rows = ([("F", "=~", i, lam[i]) for i in "abc"] + [("G", "=~", i, lam[i]) for i in "def"]
    ...         + [("F", "~~", "G", .5)] + [(i, "~~", i, 1 - v ** 2) for i, v in lam.items()])
    >>> est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "std_all"])
    >>> loading_weights(est).round(3)["weight"].tolist()
    [0.292, 0.333, 0.375, 0.286, 0.333, 0.381]
    """
    est = _check_estimates(estimates, column)
    lo = est.loc[est["op"] == "=~", ["lhs", "rhs", column]].copy()
    if lo.empty:
        raise ValueError("no loadings ('=~' rows) in the estimates")
    lo.columns = ["construct", "item", "loading"]
    lo["loading"] = lo["loading"].astype(float)
    if lo["loading"].isna().any():
        bad = lo.loc[lo["loading"].isna(), "item"].tolist()[:3]
        raise ValueError(f"missing standardised loadings for items {bad}")
    if (lo["loading"] <= 0).any():
        bad = lo.loc[lo["loading"] <= 0, "item"].tolist()[:3]
        raise ValueError(f"non-positive loadings for items {bad}: reverse-code them first")
    lo["weight"] = lo["loading"] / lo.groupby("construct")["loading"].transform("sum")
    return lo.reset_index(drop=True)


def total_effects(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Direct, indirect and total effects of a recursive structural model (``~`` rows).

    With ``column="est"`` the effects are unstandardised; with ``"std_all"`` fully
    standardised. A checked wrapper of :func:`analysis.sem.total_effects`.

    Parameters
    ----------
    estimates : DataFrame
        ``SEMResult.estimates``.
    column : str

    Returns
    -------
    DataFrame with ``source, target, direct, indirect, total`` for every pair with a
    non-zero total effect.

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["M", "Y", "Y"], "op": ["~"] * 3, "rhs": ["X", "M", "X"],
    ...                     "std_all": [0.4, 0.5, 0.2]})
    >>> te = total_effects(est).round(3)
    >>> xy = (te["source"] == "X") & (te["target"] == "Y")
    >>> te.loc[xy, ["direct", "indirect", "total"]].values.tolist()
    [[0.2, 0.2, 0.4]]
    """
    return sem_total_effects(_check_estimates(estimates, column), column)


def path_weights(estimates: pd.DataFrame, target: str, sources=None,
                 column: str = "std_all") -> pd.Series:
    """Between-construct weights: total effects on ``target`` normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame in lavaan vocabulary.
    target : str
        The outcome construct (e.g. ``"PV"``).
    sources : list of str, optional
        Constructs to weight (default: every construct with an effect on ``target``).
    column : {"std_all", "est"}
        Standardised (default) or unstandardised total effects.

    Returns
    -------
    pandas.Series
        Source construct -> weight (name ``"weight"``), summing to 1.

    Raises
    ------
    ValueError
        If a source has a negative total effect (a weight must not be negative) or no path.

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["M", "Y", "Y"], "op": ["~"] * 3, "rhs": ["X", "M", "X"],
    ...                     "std_all": [0.4, 0.5, 0.2]})
    >>> path_weights(est, "Y").round(3).to_dict()  # total effects 0.4 and 0.5
    {'X': 0.444, 'M': 0.556}
    """
    te = total_effects(estimates, column)
    te = te[te["target"] == target].set_index("source")["total"]
    if sources is None:
        sources = list(te.index)
    missing = [s for s in sources if s not in te.index]
    if missing:
        raise ValueError(f"no path from {missing} to {target!r}")
    te = te.loc[list(sources)]
    if (te < 0).any():
        raise ValueError(f"negative total effects on {target!r} for {list(te[te < 0].index)}: "
                         "path-based weights need non-negative importance")
    return (te / te.sum()).rename("weight")


# ------------------------------------------------------------------------- combining
def combine_weights(subjective, objective, rule: str = "multiplicative",
                    alpha: float = 0.5) -> pd.Series:
    """Combine subjective and objective weights over the same indicators.

    * ``"multiplicative"``: ``w_j = s_j o_j / sum_k s_k o_k`` (multiplicative synthesis);
    * ``"linear"``: ``w_j = alpha s_j + (1 - alpha) o_j`` (both normalised first).

    Parameters
    ----------
    subjective, objective : pandas.Series or mapping
        Non-negative weights over the same indicators (e.g. AHP and entropy weights).
    rule : {"multiplicative", "linear"}
    alpha : float
        Share of the subjective weights in the linear rule, in [0, 1].

    Returns
    -------
    pandas.Series
        Combined weights summing to 1 (name ``"weight"``), in the order of ``subjective``.

    Raises
    ------
    ValueError
        Different indicators, negative or missing weights, disjoint support, an unknown rule
        or ``alpha`` outside [0, 1].

    Examples
    --------
    >>> s = pd.Series([0.5, 0.3, 0.2], index=list("abc"))
    >>> o = pd.Series([0.2, 0.3, 0.5], index=list("abc"))
    >>> combine_weights(s, o).round(4).tolist()
    [0.3448, 0.3103, 0.3448]
    >>> combine_weights(s, o, rule="linear", alpha=0.5).round(3).tolist()
    [0.35, 0.3, 0.35]
    """
    s, o = pd.Series(subjective, dtype=float), pd.Series(objective, dtype=float)
    if set(s.index) != set(o.index):
        raise ValueError(f"subjective and objective weights cover different indicators: "
                         f"{sorted(set(s.index) ^ set(o.index))}")
    o = o.loc[s.index]
    for name, w in (("subjective", s), ("objective", o)):
        if w.isna().any() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"{name} weights must be non-negative numbers, got {w.tolist()}")
    s, o = s / s.sum(), o / o.sum()
    if rule == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise ValueError("subjective and objective weights have disjoint support")
        w = w / w.sum()
    elif rule == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        w = alpha * s + (1.0 - alpha) * o
    else:
        raise ValueError(f"rule must be 'multiplicative' or 'linear', got {rule!r}")
    return w.rename("weight")


def compare_weights(**schemes) -> pd.DataFrame:
    """Side-by-side table of weighting schemes (one column each) with their ranks.

    Parameters
    ----------
    **schemes : pandas.Series
        Scheme name -> weights over the same indicators.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: each scheme's weight, then ``rank_<scheme>`` (1 = largest,
        ties share the lowest rank).

    Raises
    ------
    ValueError
        No scheme, or schemes over different indicators.

    Examples
    --------
    >>> t = compare_weights(ahp=pd.Series([.6, .4], index=["a", "b"]),
    ...                     entropy=pd.Series([.3, .7], index=["a", "b"]))
    >>> list(t.columns)
    ['ahp', 'entropy', 'rank_ahp', 'rank_entropy']
    """
    if not schemes:
        raise ValueError("give at least one weighting scheme")
    t = pd.DataFrame({k: pd.Series(v, dtype=float) for k, v in schemes.items()})
    if t.isna().any().any():
        raise ValueError(f"schemes cover different indicators: {t[t.isna().any(axis=1)].index.tolist()}")
    for k in schemes:
        t[f"rank_{k}"] = t[k].rank(ascending=False, method="min").astype(int)
    return t


def indicator_system(codebook: pd.DataFrame, loadings: pd.DataFrame,
                     schemes: dict[str, pd.Series]) -> pd.DataFrame:
    """The indicator system as one table: construct, item, wording (en/zh), loading and the
    item's weight under each scheme.

    Parameters
    ----------
    codebook : DataFrame with ``item construct construct_en construct_zh wording_en
        wording_zh`` (:func:`analysis.io.codebook.load_codebook`).
    loadings : DataFrame ``item std_all`` (standardised CFA loadings); items without a
        loading get NaN.
    schemes : dict name -> item weights (Series indexed by item). Items a scheme does not
        weight (the outcome construct's) are left empty, not zero.

    Returns
    -------
    DataFrame with ``construct construct_en construct_zh item wording_en wording_zh loading``
    and ``w_<scheme>`` columns; each scheme's weights sum to 1 over the items it covers.

    Raises
    ------
    ValueError
        Codebook columns missing, or a scheme with unknown items, missing or negative weights,
        or weights not summing to 1.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> cb = load_codebook()
    >>> equal = pd.Series(0.05, index=cb["item"][:20])
    >>> loadings = pd.DataFrame({"item": ["MS1"], "std_all": [0.76]})
    >>> t = indicator_system(cb, loadings, {"equal": equal})
    >>> t[["item", "loading", "w_equal"]].to_dict("records")[0]
    {'item': 'MS1', 'loading': 0.76, 'w_equal': 0.05}
    >>> int(t["w_equal"].isna().sum())  # the five PV items
    5
    """
    cols = ["construct", "construct_en", "construct_zh", "item", "wording_en", "wording_zh"]
    missing = [c for c in cols if c not in codebook.columns]
    if missing:
        raise ValueError(f"codebook lacks columns {missing}")
    out = codebook[cols].copy().reset_index(drop=True)
    out["loading"] = out["item"].map(loadings.set_index("item")["std_all"])
    for name, w in schemes.items():
        w = pd.Series(w, dtype=float)
        unknown = sorted(set(w.index) - set(out["item"]))
        if unknown:
            raise ValueError(f"scheme {name!r} weights unknown items {unknown[:5]}")
        if w.isna().any() or (w < 0).any():
            raise ValueError(f"scheme {name!r} has missing or negative weights: "
                             f"{w[w.isna() | (w < 0)].index.tolist()[:5]}")
        if abs(w.sum() - 1.0) > 1e-8:
            raise ValueError(f"scheme {name!r} weights sum to {w.sum():.6f}, not 1")
        out[f"w_{name}"] = out["item"].map(w)
    return out


# -- ordinal reliability (issue 15) ---------------------------------------------------------

def ordinal_coefficients(R) -> tuple[float, float]:
    """Ordinal alpha and ordinal omega of one construct from its polychoric matrix.

    Ordinal alpha is the standardised alpha of the polychoric correlations,
    ``k / (k - 1) * (1 - k / sum(R))``; ordinal omega is omega total of a one-factor minres
    model of the same matrix, ``1 - sum(u2) / sum(R)`` (Zumbo, Gadermann & Zeisser 2007;
    the values ``psych::alpha`` and ``psych::omega(nfactors = 1)`` give for that matrix).

    Parameters
    ----------
    R : array-like, shape (k, k)
        Polychoric correlation matrix of the construct's items (``k >= 2``).

    Returns
    -------
    (float, float)
        Ordinal alpha, ordinal omega.

    Raises
    ------
    ValueError
        If ``R`` is not a square matrix with unit diagonal and at least two items.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. *Journal of Modern Applied Statistical
    Methods*, 6(1), 21-29. Gadermann, A. M., Guhn, M., & Zumbo, B. D. (2012). Estimating
    ordinal reliability for Likert-type and ordinal item response data. *Practical
    Assessment, Research & Evaluation*, 17(3).

    Examples
    --------
    >>> R = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    >>> a, w = ordinal_coefficients(R)
    >>> round(a, 4), round(w, 4)  # equal loadings: alpha = omega = 4 * .5 / (1 + 3 * .5)
    (0.8, 0.8)
    """
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 2:
        raise ValueError(f"R must be a square matrix of at least 2 items, got shape {R.shape}")
    if not np.allclose(np.diag(R), 1.0):
        raise ValueError("R must be a correlation matrix (unit diagonal)")
    k, total = R.shape[0], float(R.sum())
    alpha = k / (k - 1) * (1.0 - k / total)
    _, u2 = minres(R, 1)
    return float(alpha), float(1.0 - u2.sum() / total)


def ordinal_reliability(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Ordinal alpha and omega of every construct, from the items' polychoric correlations.

    Likert items are ordinal: Pearson correlations of five-point ratings are attenuated, so
    alpha and omega computed from them understate the reliability of the continuous
    responses behind the ratings. Ordinal alpha and omega replace the Pearson matrix by the
    polychoric one (:func:`analysis.sem.polychoric`, two-step ML as lavaan's ``lavCor``),
    estimated on the residents who answered every item of the construct.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers (whole-number categories) with the codebook's items.
    codebook : pandas.DataFrame
        Gives the constructs and their items.

    Returns
    -------
    pandas.DataFrame
        ``construct n_items n ordinal_alpha ordinal_omega mean_polychoric``, one row per
        construct (``n``: residents complete on the construct).

    Raises
    ------
    ValueError
        For a construct with fewer than 3 items or a constant item.
    analysis.sem.SEMError
        From :func:`analysis.sem.polychoric`: non-numeric answers, a category nobody chose
        among the complete cases, a polychoric correlation at +-1.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. *Journal of Modern Applied Statistical
    Methods*, 6(1), 21-29. Olsson, U. (1979). Maximum likelihood estimation of the polychoric
    correlation coefficient. *Psychometrika*, 44, 443-460.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> r = ordinal_reliability(load_survey(codebook=cb), cb[cb["construct"] == "MS"])
    >>> r[["construct", "n", "ordinal_alpha", "ordinal_omega"]].round(3).to_dict("records")
    [{'construct': 'MS', 'n': 1553, 'ordinal_alpha': 0.797, 'ordinal_omega': 0.799}]
    """
    rows = []
    for c, x in _construct_frames(data, codebook).items():
        pc = polychoric(x.dropna().astype(float), acov=False)
        R = pc.cor.to_numpy()
        a, w = ordinal_coefficients(R)
        k = R.shape[0]
        rows.append({"construct": c, "n_items": k, "n": int(pc.n), "ordinal_alpha": a,
                     "ordinal_omega": w, "mean_polychoric": float((R.sum() - k) / (k * (k - 1)))})
    return pd.DataFrame(rows)
