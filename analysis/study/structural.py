"""The study's structural analysis on top of :mod:`analysis.sem`: competing theories, effect
decomposition, measurement invariance across community types and latent means.

Every function takes fitted :class:`analysis.sem.SEMResult` objects (or fits them from a
codebook and a survey) and returns tidy DataFrames in lavaan's vocabulary (``lhs op rhs``,
``est se z pvalue std_all``). Nothing here knows the shipped questionnaire: the models come
from :mod:`analysis.study.models`, so a user's own codebook yields the same analysis.

Methods and sources
-------------------
* Nested models: likelihood-ratio (chi-square difference) test; for MLR the scaled
  difference of Satorra & Bentler (2001), as lavaan's ``lavTestLRT(method =
  "satorra.bentler.2001")``.
* Effects: direct paths, specific indirect effects (products of paths, Alwin & Hauser 1975),
  total effects; delta-method SEs (Sobel 1982) and bootstrap CIs (Efron & Tibshirani 1993).
* Invariance: configural, metric, scalar (Meredith 1993); decisions by the LR test and by
  the changes in CFI (<= .01, Cheung & Rensvold 2002) and RMSEA (<= .015, Chen 2007).
  Non-invariant parameters are located by univariate score tests for releasing one group's
  equality constraint (lavaan ``lavTestScore``; Sörbom 1989; Byrne, Shavelson & Muthén 1989
  for partial invariance).
* Modification indices are screened, not fished: a candidate is flagged only when its MI
  exceeds the Bonferroni-corrected chi-square(1) critical value *and* its completely
  standardised expected change is substantively large (Saris, Satorra & van der Veld 2009).

Example
-------
>>> from analysis.io.codebook import load_codebook
>>> from analysis.io.survey import load_survey
>>> cb = load_codebook(); df = load_survey(None, cb)
>>> fits = fit_competing(cb, df)
>>> bool(chisq_difference(fits["H1"], fits["H0"])["p_diff"] > 0.05)  # the chain holds
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items, elements, outcome
from analysis.sem import BootstrapResult, chisq_difference, fit_sem, lrt_scaled, release_tests
from analysis.study import models
from analysis.study.population import type_mean_differences

__all__ = [
    "FIT_COLUMNS", "fit_competing", "fit_table", "chisq_difference", "compare_models",
    "model_verdict", "effects", "decomposition_table", "attach_bootstrap",
    "population_recovery", "invariance_decision", "latent_means", "implied_type_means",
    "release_tests", "partial_invariance_syntax", "estimator_comparison", "EstimatorComparison",
    "screen_modindices", "order_groups", "partial_invariance", "center_within",
]

#: Fit measures reported for every model (lavaan names with ``.`` -> ``_``).
FIT_COLUMNS = ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
               "rmsea_ci_upper", "srmr", "aic", "bic")
_ROBUST_COLUMNS = ("chisq_scaled", "scaling_factor", "pvalue_scaled", "cfi_robust",
                   "tli_robust", "rmsea_robust")


# --------------------------------------------------------------------------- model comparison
def fit_competing(codebook: pd.DataFrame, data: pd.DataFrame, *, model: str | None = None,
                  **kwargs) -> dict:
    """Fit H1 (the public-value chain) and H0 (the parallel model) with the same options.

    Parameters
    ----------
    codebook : DataFrame
        From :func:`analysis.io.codebook.load_codebook`; the models come from
        :func:`analysis.study.models.chain_model` and :func:`analysis.study.models.parallel_model`.
    data : DataFrame
        The recoded survey (:func:`analysis.io.survey.load_survey`).
    model : str, optional
        H1 in lavaan syntax (a user's MODEL: :meth:`analysis.study.config.Study.h1`); the
        study's chain by default.
    **kwargs
        Passed to :func:`analysis.sem.fit_sem` (``estimator``, ``missing``).

    Returns
    -------
    dict
        ``{"H1": SEMResult, "H0": SEMResult}``.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> fits = fit_competing(cb, load_survey(None, cb), estimator="MLR")
    >>> {name: int(f.fit_indices["df"]) for name, f in fits.items()}
    {'H1': 263, 'H0': 260}
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="listwise deletion")
        h1 = models.chain_model(codebook) if model is None else model
        return {"H1": fit_sem(h1, data, **kwargs),
                "H0": fit_sem(models.parallel_model(codebook), data, **kwargs)}


def fit_table(results: Mapping[str, object]) -> pd.DataFrame:
    r"""Fit measures of several models side by side (rows: models).

    Columns :data:`FIT_COLUMNS`, plus the scaled/robust measures when a model was fitted
    with MLR, plus ``estimator``, ``missing`` and ``n_obs``.

    Parameters
    ----------
    results : mapping of str to SEMResult
        Model name -> fit.

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``).

    Raises
    ------
    ValueError
        If ``results`` is empty.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> three = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> one = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
    >>> fits = {"three": fit_sem(three, hs), "one": fit_sem(one, hs)}
    >>> fit_table(fits)[["chisq", "df"]].round(3).to_dict("index")
    {'three': {'chisq': 85.306, 'df': 24.0}, 'one': {'chisq': 312.264, 'df': 27.0}}
    """
    if not results:
        raise ValueError("no fitted models given")
    rows = []
    for name, res in results.items():
        fi = res.fit_indices
        row = {k: float(fi.get(k, np.nan)) for k in FIT_COLUMNS}
        if res.estimator == "MLR":
            row.update({k: float(fi.get(k, np.nan)) for k in _ROBUST_COLUMNS})
        row.update(estimator=res.estimator, missing=res.missing, n_obs=int(res.n_obs))
        rows.append(pd.Series(row, name=name))
    out = pd.DataFrame(rows)
    out.index.name = "model"
    return out




def compare_models(results: Mapping[str, object], restricted: str, general: str) -> pd.DataFrame:
    r""":func:`fit_table` with the difference test of ``restricted`` against ``general``.

    The row of ``restricted`` carries ``chisq_diff df_diff p_diff`` (NaN for the other)
    and ``delta_aic``/``delta_bic`` relative to ``general`` (negative favours ``restricted``).
    The test is :func:`analysis.sem.chisq_difference` (likelihood ratio; Satorra-Bentler 2001
    scaled difference for MLR).

    Parameters
    ----------
    results : mapping of str to SEMResult
        Model name -> fit (same data).
    restricted, general : str
        Names of the nested model (more degrees of freedom) and of the model it is nested in.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    KeyError
        A name not among ``results``.

    References
    ----------
    Satorra, A. & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. *Psychometrika*, 66, 507-514.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> three = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> one = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
    >>> fits = {"three": fit_sem(three, hs), "one": fit_sem(one, hs)}
    >>> cmp = compare_models(fits, "one", "three")
    >>> cmp.loc["one", ["chisq_diff", "df_diff"]].round(3).tolist()
    [226.959, 3.0]
    """
    for k in (restricted, general):
        if k not in results:
            raise KeyError(f"model {k!r} not among {list(results)}")
    tab = fit_table(results)
    dt = chisq_difference(results[restricted], results[general])
    for col in ("chisq_diff", "df_diff", "p_diff"):
        tab[col] = np.nan
        tab.loc[restricted, col] = dt[col]
    tab["delta_aic"] = tab["aic"] - tab.loc[general, "aic"]
    tab["delta_bic"] = tab["bic"] - tab.loc[general, "bic"]
    return tab


def model_verdict(comparison: pd.DataFrame, restricted: str, general: str,
                  alpha: float = 0.05) -> pd.Series:
    r"""Which model each criterion supports, from a :func:`compare_models` table.

    The LR test retains the restricted model unless ``p_diff < alpha``; AIC and BIC prefer the
    lower value. ``supported`` names the model when all three agree, else ``"mixed"``.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`compare_models`.
    restricted, general : str
        As given to :func:`compare_models`.
    alpha : float
        Level of the LR test.

    Returns
    -------
    pandas.Series
        ``lrt``, ``aic``, ``bic`` (the model each supports) and ``supported``.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> three = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> one = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
    >>> fits = {"three": fit_sem(three, hs), "one": fit_sem(one, hs)}
    >>> model_verdict(compare_models(fits, "one", "three"), "one", "three").to_dict()
    {'lrt': 'three', 'aic': 'three', 'bic': 'three', 'supported': 'three'}
    """
    p = comparison.loc[restricted, "p_diff"]
    lrt = general if p < alpha else restricted
    r, g = comparison.loc[restricted], comparison.loc[general]
    aic = restricted if r["aic"] < g["aic"] else general
    bic = restricted if r["bic"] < g["bic"] else general
    votes = {lrt, aic, bic}
    return pd.Series({"lrt": lrt, "aic": aic, "bic": bic,
                      "supported": votes.pop() if len(votes) == 1 else "mixed"})


# --------------------------------------------------------------------------------- effects
def _arrow(path: Sequence[str]) -> str:
    return " -> ".join(path)


def effects(result, codebook: pd.DataFrame, target: str | None = None,
            paths=models.CHAIN_PATHS) -> pd.DataFrame:
    """Direct, specific indirect, total indirect and total effects of every element on PV.

    Reads the labelled paths and ``:=`` definitions that :func:`analysis.study.models.chain_model`
    writes (``b_<X>_<Y>``, ``ind_<path>``, ``indirect_<X>``, ``total_<X>``); elements without
    an indirect path get ``indirect`` 0 and ``total`` equal to their direct effect.

    Parameters
    ----------
    result : SEMResult
        A fit of ``chain_model(codebook)`` (any estimator).
    codebook : DataFrame
    target : str, optional
        The outcome construct; defaults to the codebook's outcome.
    paths : iterable of (predictor, outcome)
        The structural paths the model was written with (as for ``chain_model``).

    Returns
    -------
    DataFrame
        ``element effect path name est se z pvalue std_all se_std``; ``effect`` is one of
        ``direct``, ``specific``, ``indirect``, ``total``; ``path`` reads ``MS -> CS -> PV``.

    Raises
    ------
    ValueError
        ``target`` is not a latent construct of the model, or the result lacks the labels
        of ``chain_model(codebook)``.

    References
    ----------
    Alwin, D. F. & Hauser, R. M. (1975). The decomposition of effects in path analysis.
    American Sociological Review 40, 37-47. Sobel, M. E. (1982). Asymptotic confidence
    intervals for indirect effects in structural equation models. Sociological Methodology 13,
    290-312 (delta-method SEs).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> from analysis.study.models import chain_model
    >>> cb = load_codebook(); df = load_survey(None, cb)
    >>> res = fit_sem(chain_model(cb), df)
    >>> eff = effects(res, cb)
    >>> eff.iloc[0][["element", "effect", "path", "name"]].tolist()
    ['MS', 'direct', 'MS -> PV', 'b_MS_PV']
    """
    out_c = outcome(codebook)
    target = out_c if target is None else target
    lv = list(result.model.lv_names)
    if target not in lv:
        raise ValueError(f"target {target!r} is not a latent construct of the model "
                         f"(constructs: {', '.join(lv)})")
    if target != out_c:
        raise ValueError(f"effects are defined (by chain_model) on the codebook's outcome "
                         f"{out_c!r}, not on {target!r}")
    est = result.estimates
    if "group" in est.columns:
        raise ValueError("effects() expects a single-group fit")
    by_label = est[est["label"] != ""].drop_duplicates("label").set_index("label")
    ind = models.indirect_paths(codebook, paths)
    cols = ["est", "se", "z", "pvalue", "std_all", "se_std"]
    rows = []

    def get(name):
        if name not in by_label.index:
            raise ValueError(f"the result has no parameter {name!r}: fit "
                             "analysis.study.models.chain_model(codebook) to get the effects")
        return by_label.loc[name, cols].to_dict()

    for e in elements(codebook):
        rows.append(dict(element=e, effect="direct", path=_arrow([e, target]),
                         name=models.label(e, target), **get(models.label(e, target))))
        mine = {k: p for k, p in ind.items() if p[0] == e}
        for name, p in mine.items():
            rows.append(dict(element=e, effect="specific", path=_arrow(p),
                             name=name, **get(name)))
        if mine:
            rows.append(dict(element=e, effect="indirect", path="(sum of specific)",
                             name=f"indirect_{e}", **get(f"indirect_{e}")))
            rows.append(dict(element=e, effect="total", path="(direct + indirect)",
                             name=f"total_{e}", **get(f"total_{e}")))
        else:
            zero = dict.fromkeys(cols, np.nan)
            zero.update(est=0.0, std_all=0.0)
            rows.append(dict(element=e, effect="indirect", path="(no indirect path)",
                             name="", **zero))
            d = get(models.label(e, target))
            rows.append(dict(element=e, effect="total", path="(direct only)",
                             name=models.label(e, target), **d))
    return pd.DataFrame(rows)


def decomposition_table(eff: pd.DataFrame, standardized: bool = True) -> pd.DataFrame:
    """One row per element: direct, indirect and total effect and the share mediated.

    Parameters
    ----------
    eff : DataFrame
        From :func:`effects` (optionally with CIs from :func:`attach_bootstrap`).
    standardized : bool
        Use ``std_all`` (default) or the unstandardised ``est``.

    Returns
    -------
    DataFrame
        ``element direct indirect total share_mediated`` (+ ``*_se`` and, when present,
        ``*_lower``/``*_upper`` of the percentile and BCa intervals of the unstandardised
        effects).

    References
    ----------
    Alwin, D. F. & Hauser, R. M. (1975). The decomposition of effects in path analysis.
    *American Sociological Review*, 40, 37-47.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> from analysis.study.models import chain_model
    >>> cb = load_codebook(); df = load_survey(None, cb)
    >>> res = fit_sem(chain_model(cb), df)
    >>> d = decomposition_table(effects(res, cb))
    >>> d["element"].tolist(), bool(np.allclose(d["direct"] + d["indirect"], d["total"]))
    (['MS', 'CS', 'OM', 'RA', 'CC'], True)
    """
    col = "std_all" if standardized else "est"
    secol = "se_std" if standardized else "se"
    sub = eff[eff["effect"].isin(["direct", "indirect", "total"])]
    wide = sub.pivot(index="element", columns="effect", values=col)
    se = sub.pivot(index="element", columns="effect", values=secol).add_suffix("_se")
    out = pd.concat([wide[["direct", "indirect", "total"]], se[["direct_se", "indirect_se",
                                                                 "total_se"]]], axis=1)
    out["share_mediated"] = out["indirect"] / out["total"]
    for kind in ("perc", "bca"):
        lo, hi = f"ci_lower_{kind}", f"ci_upper_{kind}"
        if lo in eff.columns and not standardized:
            for ef in ("indirect", "total"):
                w = sub[sub["effect"] == ef].set_index("element")
                out[f"{ef}_lower_{kind}"] = w[lo]
                out[f"{ef}_upper_{kind}"] = w[hi]
    order = list(dict.fromkeys(eff["element"]))
    out = out.loc[order].reset_index()
    out.columns.name = None
    return out


def attach_bootstrap(eff: pd.DataFrame,
                     boots: Mapping[str, BootstrapResult | pd.DataFrame]) -> pd.DataFrame:
    """Add bootstrap CIs of the unstandardised effects to an :func:`effects` table.

    Parameters
    ----------
    eff : DataFrame
        From :func:`effects`.
    boots : mapping kind -> BootstrapResult or DataFrame
        e.g. ``{"perc": ..., "bca": ...}``: results of :func:`analysis.sem.bootstrap` (or
        their ``.table``) with ``lhs op rhs`` (or ``label``) and ``ci_lower``/``ci_upper``
        columns.

    Returns
    -------
    DataFrame
        ``eff`` with ``ci_lower_<kind> ci_upper_<kind>`` (0 for structural zeros) and
        ``sig_<kind>`` (the interval excludes 0).

    Raises
    ------
    ValueError
        A table without ``ci_lower``/``ci_upper``, or lacking one of the effects.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    Any table with those columns works; here Wald intervals of the fit stand in for a
    bootstrap:

    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> from analysis.study.models import chain_model
    >>> cb = load_codebook(); df = load_survey(None, cb)
    >>> res = fit_sem(chain_model(cb), df)
    >>> est = res.estimates
    >>> wald = est.assign(ci_lower=est["est"] - 1.96 * est["se"],
    ...                   ci_upper=est["est"] + 1.96 * est["se"])
    >>> out = attach_bootstrap(effects(res, cb), {"wald": wald})
    >>> [c for c in out.columns if c.endswith("wald")]
    ['ci_lower_wald', 'ci_upper_wald', 'sig_wald']
    """
    out = eff.copy()
    for kind, tab in boots.items():
        if isinstance(tab, BootstrapResult):
            tab = tab.table
        if not {"ci_lower", "ci_upper"} <= set(tab.columns):
            raise ValueError(f"bootstrap table {kind!r} needs ci_lower and ci_upper columns")
        key = tab.copy()
        key["key"] = np.where(key["op"] == ":=", key["lhs"], key.get("label", ""))
        key = key[key["key"] != ""].drop_duplicates("key").set_index("key")
        lo = out["name"].map(key["ci_lower"])
        hi = out["name"].map(key["ci_upper"])
        structural_zero = out["name"] == ""
        lo[structural_zero], hi[structural_zero] = 0.0, 0.0
        missing = out.loc[~structural_zero & lo.isna(), "name"].tolist()
        if missing:
            raise ValueError(f"bootstrap table {kind!r} lacks {missing[:3]}")
        out[f"ci_lower_{kind}"] = lo.astype(float)
        out[f"ci_upper_{kind}"] = hi.astype(float)
        out[f"sig_{kind}"] = (lo > 0) | (hi < 0)
    return out


def population_recovery(eff: pd.DataFrame, truth: pd.DataFrame,
                        ci: str | None = None) -> pd.DataFrame:
    """Estimated standardised effects beside the true population values.

    Parameters
    ----------
    eff : DataFrame
        From :func:`effects` (``std_all`` is compared).
    truth : DataFrame
        ``element direct indirect total`` (:func:`analysis.study.population.standardised_effects`).
    ci : str, optional
        If given (``"perc"``/``"bca"``), also report whether the standardised interval
        ``std_all +/- 1.96 se_std`` covers the truth.

    Returns
    -------
    DataFrame
        ``element effect true estimate se_std difference covered`` (covered: the true value
        lies within 1.96 delta-method SEs of the standardised estimate).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> from analysis.study.models import chain_model
    >>> cb = load_codebook(); df = load_survey(None, cb)
    >>> res = fit_sem(chain_model(cb), df)
    >>> from analysis.study.population import standardised_effects
    >>> rec = population_recovery(effects(res, cb), standardised_effects())
    >>> rec.round(3)[["element", "effect", "true"]].to_dict("records")[0]
    {'element': 'MS', 'effect': 'direct', 'true': 0.1}
    """
    sub = eff[eff["effect"].isin(["direct", "indirect", "total"])]
    t = truth.melt(id_vars="element", var_name="effect", value_name="true")
    m = sub.merge(t, on=["element", "effect"], how="inner")
    out = m[["element", "effect", "true", "std_all", "se_std"]].rename(
        columns={"std_all": "estimate"})
    out["difference"] = out["estimate"] - out["true"]
    out["covered"] = (out["difference"].abs() <= 1.96 * out["se_std"]) | (
        out["se_std"].isna() & (out["difference"].abs() < 1e-12))
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------ invariance
def order_groups(data: pd.DataFrame, group: str, order: Sequence | None = None) -> pd.DataFrame:
    """Rows sorted (stably) so that the groups appear in ``order`` (first = reference group).

    :func:`analysis.sem.fit_sem` numbers groups by first appearance; in the scalar model the
    first group's latent means are fixed at 0, so it is the reference of every comparison.

    Parameters
    ----------
    data : pandas.DataFrame
    group : str
        Grouping column.
    order : sequence, optional
        Every group present, in the wanted order; default the order of first appearance.

    Returns
    -------
    pandas.DataFrame
        ``data`` with its rows reordered (index kept).

    Raises
    ------
    ValueError
        ``group`` not a column, or ``order`` not listing exactly the groups present.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a", "b", "a", "c"], "x": [1, 2, 3, 4]})
    >>> order_groups(d, "g", ["c", "a", "b"])["x"].tolist()
    [4, 1, 3, 2]
    """
    if group not in data.columns:
        raise ValueError(f"group column {group!r} not in data")
    present = list(pd.unique(data[group].dropna()))
    order = list(order) if order is not None else present
    unknown = [g for g in order if g not in present]
    if unknown or set(order) != set(present):
        raise ValueError(f"order {order} does not list the groups present: {present}")
    rank = data[group].map({g: i for i, g in enumerate(order)})
    return data.iloc[np.argsort(rank.to_numpy(), kind="stable")]


def invariance_decision(table: pd.DataFrame, *, alpha: float = 0.05, max_delta_cfi: float = 0.01,
                        max_delta_rmsea: float = 0.015) -> pd.DataFrame:
    r"""Judge each step of an :func:`analysis.sem.invariance` table.

    A step holds by the LR test when ``p_diff >= alpha`` and by the approximate-fit rule when
    CFI falls by at most ``max_delta_cfi`` (Cheung & Rensvold 2002) and RMSEA rises by at most
    ``max_delta_rmsea`` (Chen 2007) against the previous step.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`analysis.sem.invariance` (rows configural, metric, scalar).
    alpha : float
        Level of the LR tests.
    max_delta_cfi, max_delta_rmsea : float
        Largest acceptable drop in CFI and rise in RMSEA.

    Returns
    -------
    DataFrame
        ``chisq df chisq_diff df_diff p_diff cfi rmsea delta_cfi delta_rmsea holds_lrt
        holds_fit`` per step (configural: NaN/True).

    Raises
    ------
    ValueError
        If the table lacks the columns above.

    References
    ----------
    Cheung, G. W. & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. *Structural Equation Modeling*, 9, 233-255.
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. *Structural Equation Modeling*, 14, 464-504.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> three = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> from analysis.sem import invariance
    >>> invariance_decision(invariance(three, hs, "school").table)["holds_lrt"].to_dict()
    {'configural': True, 'metric': True, 'scalar': False}
    """
    need = {"chisq", "df", "cfi", "rmsea", "chisq_diff", "df_diff", "p_diff"}
    if not need <= set(table.columns):
        raise ValueError(f"invariance table lacks {sorted(need - set(table.columns))}")
    out = table[["chisq", "df", "chisq_diff", "df_diff", "p_diff", "cfi", "rmsea"]].copy()
    out["delta_cfi"] = out["cfi"].diff()
    out["delta_rmsea"] = out["rmsea"].diff()
    out["holds_lrt"] = out["p_diff"].isna() | (out["p_diff"] >= alpha)
    out["holds_fit"] = out["delta_cfi"].isna() | (
        (out["delta_cfi"] >= -max_delta_cfi) & (out["delta_rmsea"] <= max_delta_rmsea))
    return out


def latent_means(result, level: float = 0.95) -> pd.DataFrame:
    r"""Latent means of every group against the first, from a scalar-invariance fit.

    Parameters
    ----------
    result : SEMResult
        Multi-group fit with equal loadings and intercepts (e.g.
        ``invariance(...).fits["scalar"]``): latent means are 0 in group 1 and
        free in the others.
    level : float
        Coverage of the Wald interval.

    Returns
    -------
    DataFrame
        ``construct group est se z pvalue ci_lower ci_upper d``; ``group`` is the group label;
        ``d = est / sqrt(pooled latent variance)`` is the difference in pooled within-group
        latent SD units (weights: group sizes).

    Raises
    ------
    ValueError
        Single-group fit, or intercepts not constrained equal.

    References
    ----------
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika*, 58, 525-543.

    Examples
    --------
    >>> scalar = invariance(meas, df, "community_type").fits["scalar"]  # doctest: +SKIP
    >>> latent_means(scalar)                                                    # doctest: +SKIP
    """
    model = result.model
    if model.n_groups < 2:
        raise ValueError("latent means need a multi-group fit")
    if "intercepts" not in getattr(model, "group_equal", ()):
        raise ValueError("latent means are comparable only in a model with equal intercepts "
                         "(scalar invariance); fit with group_equal=('loadings', 'intercepts')")
    est = result.estimates
    lv = list(model.lv_names)
    rows = est[(est["op"] == "~1") & est["lhs"].isin(lv)].copy()
    labels = list(model.group_labels)
    idx = [model.all_names.index(v) for v in lv]
    ns = np.array([s.n for s in model.sample], float)
    var = np.array([np.diag(model.total_cov(result.theta, g))[idx] for g in range(model.n_groups)])
    pooled = pd.Series(np.sqrt((ns[:, None] * var).sum(0) / ns.sum()), index=lv)
    zc = stats.norm.isf((1 - level) / 2)
    rows["construct"] = rows["lhs"]
    rows["group"] = [labels[g - 1] for g in rows["group"]]
    rows["ci_lower"] = rows["est"] - zc * rows["se"]
    rows["ci_upper"] = rows["est"] + zc * rows["se"]
    ref = rows["se"] == 0
    rows.loc[ref, ["z", "pvalue"]] = np.nan
    rows["d"] = rows["est"] / rows["construct"].map(pooled)
    rows["construct"] = pd.Categorical(rows["construct"], lv, ordered=True)
    rows = rows.sort_values(["construct"], kind="stable")
    rows["construct"] = rows["construct"].astype(str)
    return rows[["construct", "group", "est", "se", "z", "pvalue", "ci_lower", "ci_upper",
                 "d"]].reset_index(drop=True)


def implied_type_means(population: Mapping, reference: str,
                       order: Sequence[str] = ("MS", "CS", "OM", "RA", "CC", "PV")) -> pd.DataFrame:
    """True latent mean differences between community types (the population's algebra).

    See :func:`analysis.study.population.type_mean_differences`.

    Parameters
    ----------
    population : mapping
    reference : str
    order : sequence of str

    Returns
    -------
    DataFrame
        ``construct group true_d``.
    """
    return type_mean_differences(population, reference, order)




def partial_invariance_syntax(model: str, free: Sequence[tuple[str, str, str]],
                              n_groups: int) -> str:
    """Release equality constraints in all groups (lavaan's ``group.partial``).

    Parameters
    ----------
    model : str
        Measurement model syntax (``F =~ x1 + x2 ...``), to be fitted with
        ``group_equal=("loadings", "intercepts")``.
    free : sequence of (lhs, op, rhs)
        ``("x3", "~1", "")`` frees the intercept of x3; ``("F", "=~", "x3")`` the loading.
        The marker (first) indicator's loading cannot be freed.
    n_groups : int

    Returns
    -------
    str
        Syntax in which each freed parameter carries a distinct label per group.

    References
    ----------
    Byrne, B. M., Shavelson, R. J. & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: the issue of partial measurement invariance.
    *Psychological Bulletin*, 105, 456-466.

    Examples
    --------
    >>> print(partial_invariance_syntax("F =~ x1 + x2 + x3", [("x3", "~1", "")], 2))
    F =~ x1 + x2 + x3
    x3 ~ c(pi_x3_1, pi_x3_2)*1
    <BLANKLINE>
    """
    lines = model.strip().splitlines()
    extra = []
    for lhs, op, rhs in free:
        if op == "~1":
            labs = ", ".join(f"pi_{lhs}_{g + 1}" for g in range(n_groups))
            extra.append(f"{lhs} ~ c({labs})*1")
        elif op == "=~":
            hit = [k for k, ln in enumerate(lines)
                   if ln.split("=~")[0].strip() == lhs and "=~" in ln]
            if not hit:
                raise ValueError(f"no measurement line for {lhs!r}")
            k = hit[0]
            left, right = lines[k].split("=~", 1)
            terms = [t.strip() for t in right.split("+")]
            if rhs not in terms:
                raise ValueError(f"{rhs!r} is not an indicator of {lhs!r}")
            if terms[0] == rhs:
                raise ValueError(f"{rhs!r} is the marker of {lhs!r}; its loading is fixed at 1")
            labs = ", ".join(f"pl_{lhs}_{rhs}_{g + 1}" for g in range(n_groups))
            terms[terms.index(rhs)] = f"c({labs})*{rhs}"
            lines[k] = f"{left.strip()} =~ " + " + ".join(terms)
        else:
            raise ValueError(f"cannot release {op!r}; use '=~' or '~1'")
    return "\n".join(lines + extra) + "\n"


def partial_invariance(model: str, data: pd.DataFrame, group: str, *, alpha: float = 0.05,
                       which: Sequence[str] = ("intercepts", "loadings"),
                       max_free: int = 5) -> tuple[object, pd.DataFrame]:
    r"""Release non-invariant parameters one at a time until no score test is significant.

    Starting from the scalar model, the parameter with the largest release score test
    (:func:`release_tests`) is freed in all groups (:func:`partial_invariance_syntax`) while
    its Bonferroni-corrected p-value is below ``alpha``, at most ``max_free`` times. Each
    step frees one parameter: a specification search, so the freed parameters are findings
    to explain (which items mean something else in which community type), not a fit repair.

    Parameters
    ----------
    model : str
        Measurement model syntax.
    data, group
        As for :func:`analysis.sem.invariance` (listwise ML).
    alpha : float
    which : parameters eligible for release
    max_free : int

    Returns
    -------
    (SEMResult, DataFrame)
        The final (partial) scalar fit, and one row per step ``step lhs op rhs group mi
        p_bonferroni chisq df`` (empty when scalar invariance holds by this criterion).

    References
    ----------
    Byrne, B. M., Shavelson, R. J. & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: the issue of partial measurement invariance.
    *Psychological Bulletin*, 105, 456-466.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> three = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    >>> res, steps = partial_invariance(three, hs, "school")
    >>> steps[["lhs", "op"]].values.tolist()
    [['x3', '~1'], ['x7', '~1']]
    """
    eq = ("loadings", "intercepts")
    n_groups = int(data[group].dropna().nunique())
    freed: list[tuple[str, str, str]] = []
    steps = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="listwise deletion")
        syn = model
        res = fit_sem(syn, data, group=group, group_equal=eq, std_se=False)
        while len(freed) < max_free:
            rt = release_tests(res, which=which)
            rt = rt[~rt.apply(lambda r: (r["lhs"], r["op"], r["rhs"] if r["op"] == "=~" else "")
                              in freed, axis=1)]
            if rt.empty or not rt["p_bonferroni"].iloc[0] < alpha:
                break
            top = rt.iloc[0]
            freed.append((top["lhs"], top["op"], top["rhs"] if top["op"] == "=~" else ""))
            syn = partial_invariance_syntax(model, freed, n_groups)
            res = fit_sem(syn, data, group=group, group_equal=eq, std_se=False)
            steps.append(dict(step=len(freed), lhs=top["lhs"], op=top["op"], rhs=top["rhs"],
                              group=top["group"], mi=top["mi"],
                              p_bonferroni=top["p_bonferroni"],
                              chisq=res.fit_indices["chisq"], df=res.fit_indices["df"]))
    cols = ["step", "lhs", "op", "rhs", "group", "mi", "p_bonferroni", "chisq", "df"]
    out = pd.DataFrame(steps, columns=cols)
    return res, out


def center_within(data: pd.DataFrame, columns: Sequence[str], group: str) -> pd.DataFrame:
    """Subtract each group's mean from ``columns`` (NaN kept): removes between-group
    differences, so a pooled model sees only within-group covariances.

    Parameters
    ----------
    data : pandas.DataFrame
    columns : sequence of str
        Columns to centre.
    group : str
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``columns`` group-mean centred.

    Raises
    ------
    ValueError
        Naming the columns missing from ``data``.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [1.0, 3.0, 10.0, np.nan]})
    >>> center_within(d, ["x"], "g")["x"].tolist()
    [-1.0, 1.0, 0.0, nan]
    """
    missing = [c for c in [*columns, group] if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in data: {missing}")
    out = data.copy()
    cols = list(columns)
    out[cols] = data[cols] - data.groupby(group)[cols].transform("mean")
    return out


# ------------------------------------------------------------------------------ robustness
@dataclass(frozen=True, eq=False)
class EstimatorComparison:
    """One model fitted under several estimators, as returned by :func:`estimator_comparison`.

    Attributes
    ----------
    estimates : DataFrame
        Long: ``spec lhs op rhs label est se pvalue std_all se_std``.
    fits : DataFrame
        :func:`fit_table` of the specs.
    results : dict of str to SEMResult
        The fitted models, keyed by spec name.

    References
    ----------
    Yuan, K.-H. & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. *Sociological Methodology*,
    30, 165-200.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> cmp = estimator_comparison("visual =~ x1 + x2 + x3", holzinger39.get_data(),
    ...                            {"ML": {}, "MLR": {"estimator": "MLR"}}, ops=("=~",))
    >>> sorted(cmp.results), cmp.estimates.shape
    (['ML', 'MLR'], (6, 10))
    """

    estimates: pd.DataFrame
    fits: pd.DataFrame
    results: dict


def estimator_comparison(model: str, data: pd.DataFrame,
                         specs: Mapping[str, Mapping] | None = None,
                         ops: Sequence[str] = ("~", ":=")) -> EstimatorComparison:
    """Fit one model under several estimators / missing-data treatments.

    Parameters
    ----------
    model : str
        lavaan syntax.
    data : DataFrame
    specs : mapping name -> fit_sem keyword arguments
        Default: ML (listwise), MLR (listwise), FIML (ML), FIML with MLR SEs.
    ops : operators of the parameter rows to keep

    Returns
    -------
    EstimatorComparison
        ``estimates``: long, ``spec lhs op rhs label est se pvalue std_all se_std``;
        ``fits``: :func:`fit_table` of the specs; ``results``: the fitted models.

    Examples
    --------
    >>> cmp = estimator_comparison(chain_model(cb), df)            # doctest: +SKIP
    """
    specs = specs or {"ML": {}, "MLR": {"estimator": "MLR"}, "FIML": {"missing": "fiml"},
                      "FIML-MLR": {"estimator": "MLR", "missing": "fiml"}}
    res, parts = {}, []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="listwise deletion")
        for name, kw in specs.items():
            r = fit_sem(model, data, **kw)
            res[name] = r
            e = r.estimates[r.estimates["op"].isin(ops)]
            parts.append(e[["lhs", "op", "rhs", "label", "est", "se", "pvalue", "std_all",
                            "se_std"]].assign(spec=name))
    est = pd.concat(parts, ignore_index=True)
    est = est[["spec"] + [c for c in est.columns if c != "spec"]]
    return EstimatorComparison(est, fit_table(res), res)


def screen_modindices(mi: pd.DataFrame, *, alpha: float = 0.05, min_sepc: float = 0.10,
                      constructs: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Classify modification indices and flag the few that would justify a respecification.

    A candidate is flagged only when (a) its MI exceeds the chi-square(1) critical value at
    ``alpha / K`` (Bonferroni over all K candidates: inspecting every MI is K tests), and
    (b) its completely standardised expected change is at least ``min_sepc`` in absolute
    value (a misspecification large enough to matter; Saris, Satorra & van der Veld 2009).
    Flagged candidates still need a theoretical argument before the model is changed.

    Parameters
    ----------
    mi : DataFrame
        From :func:`analysis.sem.modification_indices`.
    alpha : float
        Family-wise level, Bonferroni-corrected over the candidates.
    min_sepc : float
        Smallest absolute completely standardised expected change that counts as large.
    constructs : mapping construct -> items, optional
        To label residual covariances as within or across constructs
        (:func:`analysis.io.codebook.construct_items`).

    Returns
    -------
    DataFrame
        ``mi`` with ``kind``, ``critical``, ``significant``, ``large``, ``flag``.

    References
    ----------
    Saris, W. E., Satorra, A. & van der Veld, W. M. (2009). Testing structural equation
    models or detection of misspecifications? Structural Equation Modeling 16, 561-582.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import modification_indices
    >>> groups = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...           "speed": ["x7", "x8", "x9"]}
    >>> res = fit_sem("\\n".join(f"{f} =~ {' + '.join(i)}" for f, i in groups.items()),
    ...               holzinger39.get_data())
    >>> s = screen_modindices(modification_indices(res), constructs=groups)
    >>> s.loc[s["flag"], ["lhs", "op", "rhs", "kind"]].values.tolist()[:2]
    [['visual', '=~', 'x9', 'cross-loading'], ['x7', '~~', 'x8', 'residual covariance, same construct']]
    """
    if mi.empty:
        raise ValueError("no modification indices to screen")
    owner = {i: c for c, items in (constructs or {}).items() for i in items}
    lat = set(owner.values())

    def kind(r):
        if r.op == "=~":
            return "cross-loading"
        if r.lhs in lat and r.rhs in lat:
            return "latent covariance"
        if owner and owner.get(r.lhs) == owner.get(r.rhs):
            return "residual covariance, same construct"
        return "residual covariance, across constructs" if owner else "residual covariance"

    out = mi.copy()
    out["kind"] = [kind(r) for r in out.itertuples()]
    crit = float(stats.chi2.isf(alpha / len(out), 1))
    out["critical"] = crit
    out["significant"] = out["mi"] > crit
    out["large"] = out["sepc_all"].abs() >= min_sepc
    out["flag"] = out["significant"] & out["large"]
    return out


# -- WLSMV beside ML and auxiliary variables for FIML (issues 15 and 19) ---------------------

def difference_test(restricted, general) -> pd.Series:
    """Test of two nested models with the difference test that suits their estimator.

    WLSMV fits get the scaled-shifted difference test of Satorra (2000) as lavaan's
    ``lavTestLRT`` computes it (:func:`analysis.sem.lrt_scaled`): the difference of two
    WLSMV chi-squares is not chi-square distributed. Every other fit gets
    :func:`analysis.sem.chisq_difference` (LR test; Satorra-Bentler 2001 for MLR).

    Parameters
    ----------
    restricted, general : SEMResult
        ``restricted`` nested in ``general``, fitted to the same data with the same options.

    Returns
    -------
    pandas.Series
        ``chisq_diff df_diff p_diff scaling method`` (``scaling``: the difference test's
        scaling factor; NaN for the plain LR test).

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In Heijmans, Pollock & Satorra (eds.), *Innovations in Multivariate
    Statistical Analysis*, 233-247. Kluwer. Satorra, A., & Bentler, P. M. (2001). A scaled
    difference chi-square test statistic for moment structure analysis. *Psychometrika*,
    66, 507-514.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> fits = fit_competing(cb, load_survey(None, cb), ordered=True)
    >>> t = difference_test(fits["H1"], fits["H0"])
    >>> t["method"], int(t["df_diff"])
    ('satorra.2000', 3)
    """
    if restricted.estimator != "WLSMV":
        return chisq_difference(restricted, general)
    t = lrt_scaled(restricted, general).iloc[0]
    return pd.Series({"chisq_diff": float(t["chisq_diff"]), "df_diff": float(t["df_diff"]),
                      "p_diff": float(t["pvalue"]), "scaling": float(t["scaling_factor"]),
                      "method": "satorra.2000"})


def resolve_auxiliary(auxiliary, data: pd.DataFrame, codebook: pd.DataFrame,
                      default: Sequence[str] = ("age",)) -> tuple[list, str]:
    """The auxiliary variables of a FIML fit, checked, with a one-line note saying why.

    FIML is unbiased when answers are missing at random given the variables *in the model*;
    when missingness depends on a variable the model does not contain, that variable must
    enter as a saturated correlate (auxiliary variable; Graham 2003; Enders 2010, ch. 5).
    ``auxiliary=None`` takes the survey columns of ``default`` (``age``, the variable the
    compendium's missing answers depend on) that exist and are numeric.

    Parameters
    ----------
    auxiliary : None or sequence of str
        Columns to use (``[]`` for none), or ``None`` for the default.
    data : pandas.DataFrame
        The recoded survey.
    codebook : pandas.DataFrame
        Its items are modelled, so they cannot be auxiliary variables.
    default : sequence of str
        Candidate columns when ``auxiliary`` is ``None``.

    Returns
    -------
    (list of str, str)
        The auxiliary columns and a sentence stating them.

    Raises
    ------
    ValueError
        A named column is absent, is an item of the codebook or is not numeric.

    References
    ----------
    Graham, J. W. (2003). Adding missing-data-relevant variables to FIML-based structural
    equation models. *Structural Equation Modeling*, 10(1), 80-100.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> resolve_auxiliary(None, load_survey(None, cb), cb)[0]
    ['age']
    >>> resolve_auxiliary(None, load_survey(None, cb).drop(columns="age"), cb)[1]
    'no auxiliary variables: the survey has none of the columns age'
    """
    items = set(codebook["item"])
    if auxiliary is None:
        cols = [c for c in default if c in data.columns and c not in items
                and pd.api.types.is_numeric_dtype(data[c])]
        if not cols:
            return [], f"no auxiliary variables: the survey has none of the columns {', '.join(default)}"
        return cols, (f"auxiliary variables (saturated correlates in FIML): {', '.join(cols)}, "
                      "observed, outside the model, and predicting missing answers")
    cols = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    for c in cols:
        if c not in data.columns:
            raise ValueError(f"auxiliary variable {c!r} is not a column of the survey")
        if c in items:
            raise ValueError(f"auxiliary variable {c!r} is an item of the model; an auxiliary "
                             "variable must lie outside it")
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise ValueError(f"auxiliary variable {c!r} is not numeric (first values: "
                             f"{data[c].head(3).tolist()})")
    if not cols:
        return [], "no auxiliary variables (auxiliary = [])"
    return cols, f"auxiliary variables (saturated correlates in FIML): {', '.join(cols)}"


def missingness_predictors(data: pd.DataFrame, codebook: pd.DataFrame,
                           columns: Sequence[str]) -> pd.DataFrame:
    """How observed variables outside the model relate to missingness and to the constructs.

    For each column: its correlation with the number of missing answers of a respondent
    (with the p-value of the usual t test), the means among incomplete and complete
    respondents, and its largest absolute correlation with a construct's mean score
    (available answers). A variable that predicts missingness *and* correlates with the
    constructs makes the data missing not at random from the model's point of view unless it
    enters the FIML fit as an auxiliary variable (Collins, Schafer & Kam 2001).

    Parameters
    ----------
    data : pandas.DataFrame
        The recoded survey.
    codebook : pandas.DataFrame
    columns : sequence of str
        Numeric columns outside the model.

    Returns
    -------
    pandas.DataFrame
        ``variable r_missing p_missing mean_incomplete mean_complete max_r_construct
        construct``.

    References
    ----------
    Collins, L. M., Schafer, J. L., & Kam, C.-M. (2001). A comparison of inclusive and
    restrictive strategies in modern missing data procedures. *Psychological Methods*, 6(4),
    330-351.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> t = missingness_predictors(load_survey(None, cb), cb, ["age"])
    >>> bool(t.loc[0, "p_missing"] < 0.001), bool(t.loc[0, "max_r_construct"] < 0.1)
    (True, True)
    """
    groups = {c: [i for i in its if i in data.columns]
              for c, its in construct_items(codebook).items()}
    groups = {c: its for c, its in groups.items() if its}
    items = [i for its in groups.values() for i in its]
    n_miss = data[items].isna().sum(axis=1).to_numpy(float)
    incomplete = n_miss > 0
    scores = pd.DataFrame({c: data[its].mean(axis=1) for c, its in groups.items()})
    rows = []
    for col in columns:
        x = data[col].to_numpy(float)
        ok = np.isfinite(x)
        r, p = stats.pearsonr(x[ok], n_miss[ok])
        cors = scores[ok].corrwith(pd.Series(x[ok], index=scores.index[ok])).abs()
        rows.append({"variable": col, "r_missing": float(r), "p_missing": float(p),
                     "mean_incomplete": float(np.nanmean(x[incomplete])),
                     "mean_complete": float(np.nanmean(x[~incomplete])),
                     "max_r_construct": float(cors.max()), "construct": cors.idxmax()})
    return pd.DataFrame(rows)


__all__ += ["difference_test", "resolve_auxiliary", "missingness_predictors"]
