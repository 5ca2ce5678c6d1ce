"""The study's structural analysis on top of :mod:`analysis.sem`: competing theories and the
decomposition of effects. Community types (invariance, latent means) are in
:mod:`analysis.study.heterogeneity`, other estimators and modification indices in
:mod:`analysis.study.robustness`, the two-level chain in :mod:`analysis.study.multilevel`.

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

import numpy as np
import pandas as pd

from analysis.io.codebook import elements, outcome
from analysis.sem import BootstrapResult, chisq_difference, fit_sem, release_tests
from analysis.study import models

__all__ = [
    "FIT_COLUMNS", "fit_competing", "fit_table", "chisq_difference", "compare_models",
    "model_verdict", "effects", "decomposition_table", "attach_bootstrap",
    "population_recovery", "release_tests",
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


# ------------------------------------------------------------------------------ robustness

