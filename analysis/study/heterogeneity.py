"""Community types: measurement invariance, partial invariance and latent means.

Latent means can be compared across community types only if the items measure the same
constructs in the same way in each type. Configural, metric and scalar models (Meredith 1993)
are judged by the LR test and by the changes in CFI (<= .01, Cheung & Rensvold 2002) and
RMSEA (<= .015, Chen 2007); non-invariant parameters are located by univariate score tests for
releasing one group's equality constraint (lavaan's ``lavTestScore``; Sörbom 1989) and freed
one at a time (partial invariance, Byrne, Shavelson & Muthén 1989). Nothing here knows the
shipped questionnaire.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.sem import fit_sem, release_tests
from analysis.study.population import type_mean_differences

__all__ = ["order_groups", "invariance_decision", "latent_means", "implied_type_means",
           "partial_invariance_syntax", "partial_invariance", "center_within"]


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
