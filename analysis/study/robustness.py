"""Robustness of the structural results: other estimators, auxiliary variables, modification
indices.

* :func:`estimator_comparison` fits one model under several treatments (ML, MLR, FIML, FIML
  with auxiliary variables, WLSMV) and stacks their estimates; :func:`difference_test` picks
  the right nested-model test for each (LR, Satorra-Bentler, scaled-shifted for WLSMV).
* :func:`resolve_auxiliary` and :func:`missingness_predictors` choose the survey's auxiliary
  variables for FIML (Graham 2003) and say why.
* :func:`screen_modindices`: modification indices are screened, not fished — a candidate is
  flagged only when its MI exceeds the Bonferroni-corrected chi-square(1) critical value *and*
  its completely standardised expected change is large (Saris, Satorra & van der Veld 2009).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items
from analysis.sem import chisq_difference, fit_sem, lrt_scaled
from analysis.study.structural import fit_table

__all__ = ["EstimatorComparison", "estimator_comparison", "screen_modindices", "difference_test",
           "resolve_auxiliary", "missingness_predictors"]


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
    >>> from analysis.study.structural import fit_competing
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
