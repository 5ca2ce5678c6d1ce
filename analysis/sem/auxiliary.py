r"""FIML with auxiliary variables: the saturated-correlates model (Graham 2003).

Full-information ML is unbiased when the data are missing at random *given the variables
in the model*. A variable that predicts the missingness (or the missing values) but has no
place in the substantive model can be brought in as an *auxiliary*: Graham's (2003)
saturated-correlates model adds it so that it changes neither the model's degrees of freedom
nor the meaning of its parameters, only the information FIML has about the missing values.

The rewrite is the one semTools' ``auxiliary()`` (``sem.auxiliary``/``cfa.auxiliary``,
semTools 0.5-6) makes to a lavaan model, and the fit is that of lavaan's
``missing = "fiml"`` with ``fixed.x = FALSE`` and a mean structure:

* every auxiliary gets a free mean and variance, and the auxiliaries covary freely among
  themselves (``a ~~ a``, ``a ~~ b``, ``a ~ 1``);
* every auxiliary covaries with every observed variable of the model: for an exogenous
  observed covariate that is a covariance with the variable itself, for an endogenous
  observed variable or an indicator a covariance with its residual (``a ~~ x``), as in
  Graham (2003, Figure 2 and rules 1-3);
* exogenous observed covariates are modelled (``fixed.x = FALSE``): their means, variances
  and covariances are free parameters (the auxiliaries must be allowed to covary with them).

The added parameters equal the added moments, so chisq and df are those of the model alone
up to the information the auxiliaries add. The fit indices follow what ``fitMeasures()``
reports for a semTools ``auxiliary()`` fit in lavaan 0.6-14:

* ``baseline_chisq`` / ``baseline_df``, ``cfi``, ``tli`` (and with MLR
  ``baseline_chisq_scaled``, ``baseline_scaling_factor``) come from semTools' baseline
  model (``@external$baseline.model``): the auxiliaries' saturated part as above, the
  model's observed variables with free means and variances but uncorrelated with each
  other (so ``baseline_df`` equals the model's baseline df without auxiliaries);
* ``cfi_robust`` / ``tli_robust`` are lavaan's FIML-corrected indices (Zhang & Savalei
  2022), whose null-model statistic and scaling factor lavaan takes from the plain
  independence model of *all* variables (auxiliaries included) while the null df is the
  semTools baseline's, a mixture reproduced here as lavaan computes it;
* everything else (``srmr`` over all variables, auxiliaries included; ``loglik``, ``aic``,
  ``bic`` with the auxiliary parameters counted in ``npar``; RMSEA; scaled tests) is the
  plain FIML fit of the rewritten model.

In ``estimates`` the auxiliary parameters are kept (a user comparing with semTools'
``parameterEstimates()`` finds every row) and marked by a boolean column ``auxiliary``;
``result.estimates.query("~auxiliary")`` is the substantive model's table.

Public API
----------
check_auxiliary(data, auxiliary, model_ov, latent, group)   validated list of names
exogenous_observed(stmts)                                   the model's ov.x (freed here)
saturated_correlates(stmts, auxiliary, n_groups=1, ...)     the statements semTools adds
baseline_statements(ov, auxiliary)                          semTools' baseline model
fit_baseline(ov, auxiliary, patterns, h1, ...)              its FIML fit (chisq, df, MLR scaling)
fit_auxiliary(model, data, auxiliary, ...)                  the ``fit_sem(auxiliary=...)`` path

Example
-------
>>> import numpy as np, pandas as pd
>>> from analysis.sem import fit_sem
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=400); z = 0.6 * f + rng.normal(size=400)
>>> df = pd.DataFrame({f"y{i}": f + rng.normal(size=400) for i in (1, 2, 3)}).assign(z=z)
>>> df.loc[z > 0.5, "y1"] = np.nan                       # MAR given z
>>> res = fit_sem("f =~ y1 + y2 + y3", df, missing="fiml", auxiliary=["z"])
>>> res.estimates.query("auxiliary")[["lhs", "op", "rhs"]].values.tolist()[:3]
[['z', '~~', 'z'], ['z', '~1', ''], ['z', '~~', 'y1']]
>>> int(res.fit_indices["df"])
0

References
----------
Graham, J. W. (2003). Adding missing-data-relevant variables to FIML-based structural
equation models. Structural Equation Modeling, 10(1), 80-100.
Enders, C. K. (2010). Applied Missing Data Analysis, ch. 5 (the saturated correlates
model). Guilford.
Collins, L. M., Schafer, J. L., & Kam, C.-M. (2001). A comparison of inclusive and
restrictive strategies in modern missing data procedures. Psychological Methods, 6,
330-351.
Zhang, X., & Savalei, V. (2022). New computations for RMSEA and CFI following FIML and TS
estimation with missing data. Psychological Methods.
semTools documentation of ``auxiliary()`` (version 0.5-6) for the conventions matched.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd
from scipy import stats

from .errors import SEMError, SEMWarning
from .syntax import Statement, parse_model

__all__ = ["check_auxiliary", "exogenous_observed", "saturated_correlates", "baseline_statements",
           "fit_baseline", "fit_auxiliary"]


def _rows(mask: pd.Series, k: int = 5) -> str:
    idx = list(mask[mask].index[:k])
    more = ", ..." if int(mask.sum()) > k else ""
    return ", ".join(str(i) for i in idx) + more


def check_auxiliary(data: pd.DataFrame, auxiliary, model_ov, latent=(), group=None) -> list:
    """Validate the auxiliary variables and return their names as a list.

    Parameters
    ----------
    data : DataFrame
        The data passed to ``fit_sem``.
    auxiliary : str or iterable of str
        Column names of the auxiliary variables.
    model_ov : list of str
        Observed variables of the substantive model.
    latent : iterable of str
        Latent variable names of the model.
    group : str, optional
        The group column.

    Returns
    -------
    list of str

    Raises
    ------
    SEMError
        For a name that is not a column, is used by the model (observed or latent) or is the
        group column, a duplicate, a column with non-numeric or infinite values (naming the
        first offending rows), without any observed value, or constant.

    References
    ----------
    Graham (2003), Structural Equation Modeling 10(1), 80-100 (auxiliaries must not be
    model variables).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0], "z": [0.0, 1.0, 5.0]})
    >>> check_auxiliary(d, "z", ["y"])
    ['z']
    >>> check_auxiliary(d, ["y"], ["y"])
    Traceback (most recent call last):
    ...
    analysis.sem.errors.SEMError: auxiliary variable(s) already in the model: y
    """
    if not isinstance(data, pd.DataFrame):
        raise SEMError("data must be a pandas DataFrame")
    aux = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    bad_type = [a for a in aux if not isinstance(a, str)]
    if bad_type:
        raise SEMError(f"auxiliary must be column names (str); got {bad_type!r}")
    dup = sorted({a for a in aux if aux.count(a) > 1})
    if dup:
        raise SEMError(f"auxiliary variable(s) listed twice: {', '.join(dup)}")
    absent = [a for a in aux if a not in data.columns]
    if absent:
        raise SEMError(f"auxiliary column(s) not found in data: {', '.join(absent)}")
    clash = [a for a in aux if a in set(model_ov)]
    if clash:
        raise SEMError(f"auxiliary variable(s) already in the model: {', '.join(clash)}")
    clash = [a for a in aux if a in set(latent)]
    if clash:
        raise SEMError(f"auxiliary variable(s) named like latent variable(s): {', '.join(clash)}")
    if group is not None and group in aux:
        raise SEMError(f"the group column {group!r} cannot be an auxiliary variable")
    for a in aux:
        col = data[a]
        if not pd.api.types.is_numeric_dtype(col):
            num = pd.to_numeric(col, errors="coerce")
            badrows = num.isna() & col.notna()
            raise SEMError(f"auxiliary column {a!r} is not numeric (e.g. {col[badrows].iloc[0]!r}"
                           f" in row(s) {_rows(badrows)})" if badrows.any() else
                           f"auxiliary column {a!r} is not numeric (dtype {col.dtype})")
        x = col.astype(float)
        inf = pd.Series(np.isinf(x.to_numpy()), index=col.index)
        if inf.any():
            raise SEMError(f"auxiliary column {a!r} has infinite values in row(s) {_rows(inf)}")
        if x.notna().sum() == 0:
            raise SEMError(f"auxiliary column {a!r} has no observed values")
        if x.notna().sum() < 2 or float(np.nanvar(x.to_numpy())) <= 0.0:
            raise SEMError(f"auxiliary column {a!r} is constant: it carries no information")
    if not aux:
        raise SEMError("auxiliary is empty")
    return aux


def _aux_mean_labels(a: str, n_groups: int) -> list:
    """Distinct per-group labels that keep an auxiliary's mean free under equal intercepts."""
    return [f".aux.{a}.g{g + 1}" for g in range(n_groups)]


def saturated_correlates(stmts, auxiliary, *, n_groups: int = 1, free_means: bool = False,
                         exogenous=()) -> list:
    """The statements that turn a model into Graham's saturated-correlates model.

    Parameters
    ----------
    stmts : str or list of Statement
        The substantive model (lavaan syntax or parsed).
    auxiliary : list of str
        Auxiliary variables (not in the model).
    n_groups : int
        Number of groups (for the per-group mean labels).
    free_means : bool
        Give every auxiliary mean a distinct label per group, so that
        ``group_equal=("intercepts",)`` (which equates observed intercepts) leaves the
        auxiliaries' means free, as in semTools.
    exogenous : iterable of str
        Exogenous observed covariates of the model: their covariances are added (lavaan's
        ``fixed.x = FALSE``, which semTools' ``auxiliary()`` sets).

    Returns
    -------
    list of Statement
        The model's statements followed by ``a ~~ b`` for all pairs of auxiliaries (with
        variances), ``a ~ 1`` and ``a ~~ x`` for every auxiliary ``a`` and every observed
        variable ``x`` of the model, and the covariances among ``exogenous``. The
        ``:=`` definitions stay last.

    References
    ----------
    Graham (2003), Structural Equation Modeling 10(1), 80-100, the saturated correlates
    model (auxiliaries correlated with each other, with exogenous manifest variables and
    with the residuals of endogenous manifest variables).

    Examples
    --------
    >>> out = saturated_correlates("f =~ y1 + y2 + y3", ["z"])
    >>> [f"{s.lhs} {s.op} {s.rhs}".strip() for s in out[3:]]
    ['z ~~ z', 'z ~1', 'z ~~ y1', 'z ~~ y2', 'z ~~ y3']
    """
    from .model import observed_variables

    stmts = parse_model(stmts) if isinstance(stmts, str) else list(stmts)
    ov = observed_variables(stmts)
    aux = list(auxiliary)
    body = [s for s in stmts if s.op != ":="]
    defs = [s for s in stmts if s.op == ":="]
    added = []
    exo = list(exogenous)
    for i in range(len(exo)):
        for j in range(i + 1, len(exo)):
            added.append(Statement(exo[i], "~~", exo[j]))
    for j, b in enumerate(aux):
        for a in aux[: j + 1]:
            added.append(Statement(a, "~~", b))
    for a in aux:
        lab = _aux_mean_labels(a, n_groups) if free_means else None
        added.append(Statement(a, "~1", "", label=lab))
    for x in ov:
        for a in aux:
            added.append(Statement(a, "~~", x))
    return body + added + defs


def baseline_statements(ov, auxiliary) -> list:
    """semTools' baseline model for CFI/TLI with auxiliaries, as statements.

    The model's observed variables ``ov`` get free variances (and, under FIML, free means)
    and no covariances among themselves; the auxiliaries are saturated among themselves and
    covary with every variable of ``ov``. Listed so that the observed-variable order is
    ``ov`` then ``auxiliary`` (the order of the data matrix of the main fit).

    Parameters
    ----------
    ov : list of str
        Observed variables of the substantive model.
    auxiliary : list of str

    Returns
    -------
    list of Statement

    References
    ----------
    semTools 0.5-6 ``auxiliary()``: ``@external$baseline.model``, which lavaan 0.6-14's
    ``fitMeasures()`` uses for baseline.chisq, cfi and tli.

    Examples
    --------
    >>> [f"{s.lhs} {s.op} {s.rhs}".strip() for s in baseline_statements(["y1", "y2"], ["z"])]
    ['y1 ~~ y1', 'y2 ~~ y2', 'z ~~ z', 'z ~1', 'z ~~ y1', 'z ~~ y2']
    """
    out = [Statement(x, "~~", x) for x in ov]
    aux = list(auxiliary)
    for j, b in enumerate(aux):
        for a in aux[: j + 1]:
            out.append(Statement(a, "~~", b))
    out += [Statement(a, "~1", "") for a in aux]
    out += [Statement(a, "~~", x) for x in ov for a in aux]
    return out


def fit_baseline(ov, auxiliary, patterns, h1, *, labels=None, estimator: str = "ML",
                 max_iter: int = 200) -> dict:
    """FIML fit of semTools' baseline model (see :func:`baseline_statements`).

    Parameters
    ----------
    ov, auxiliary : list of str
        The columns of ``patterns`` are ``ov + auxiliary``.
    patterns : list of fiml.MissingPatterns
        One per group, the data of the main fit.
    h1 : list of dict
        Saturated EM moments per group (``mu``, ``Sigma``, ``loglik``), as in
        ``SEMResult.extra["h1"]`` of a FIML fit.
    labels : list, optional
        Group labels.
    estimator : {"ML", "MLR"}
        With MLR also the baseline's Yuan-Bentler (Mplus) scaling factor, from its own
        observed information (the model is linear in its parameters) and casewise scores.
    max_iter : int

    Returns
    -------
    dict
        ``loglik``, ``npar``, ``chisq`` (against the EM log-likelihood), ``df``,
        ``pvalue``, ``converged``, ``theta`` and with MLR ``scaling_factor`` and
        ``chisq_scaled``.

    References
    ----------
    Arbuckle (1996) for the FIML likelihood; Yuan & Bentler (2000), Sociological
    Methodology 30, 165-200 for the scaling factor.

    Examples
    --------
    >>> from analysis.sem import fiml
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); X[:, 2] += X[:, 0]; X[::4, 1] = np.nan
    >>> pat = fiml.MissingPatterns(X); em = fiml.saturated_em(pat)
    >>> b = fit_baseline(["y1", "y2"], ["z"], [pat], [dict(mu=em.mu, Sigma=em.Sigma,
    ...                  loglik=em.loglik)])
    >>> b["df"], b["converged"]
    (1, True)
    """
    from . import fiml, robust
    from .estimate import fit_ml
    from .fit_indices import n_moments
    from .model import SampleStats, build_model

    names = list(ov) + list(auxiliary)
    samples = []
    for h, pat in zip(h1, patterns):
        ss = SampleStats.from_moments(h["Sigma"], h["mu"], pat.n)
        ss.ov_names = list(names)
        samples.append(ss)
    model = build_model(baseline_statements(ov, auxiliary), samples,
                        group_labels=labels if labels is not None else [None] * len(h1),
                        meanstructure=True)
    if model.ov_names != names:  # pragma: no cover - guarded by baseline_statements' order
        raise SEMError("internal: baseline variable order differs from the data's")
    theta, ll, converged = _newton_linear(model, patterns, _moment_start(model), max_iter)
    if not converged:  # Fisher scoring (and L-BFGS-B) from the complete-data fit to the EM moments
        theta0, _ = fit_ml(model)
        theta, ll, _, converged, _ = fiml.maximise_fiml(model, patterns, theta0,
                                                        max_iter=max_iter)
    ll1 = float(sum(h["loglik"] for h in h1))
    npar = model.n_free
    df = n_moments(model) - npar
    chisq = 2.0 * (ll1 - ll)
    out = dict(loglik=float(ll), npar=int(npar), chisq=float(chisq), df=int(df),
               pvalue=float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
               converged=bool(converged), theta=theta)
    if str(estimator).upper() == "MLR":
        groups = []
        for g, (pat, h) in enumerate(zip(patterns, h1)):
            Sigma, mu = model.sigma_mu(theta, g)
            groups.append(robust.GroupMoments(pat, mu, Sigma, model.delta(theta, g),
                                              h["mu"], h["Sigma"]))
        info = robust.linear_model_information(groups)
        yb = robust.yuan_bentler_mplus(groups, info, df)
        c = yb["scaling_factor"]
        out.update(scaling_factor=c, chisq_scaled=chisq / c if np.isfinite(c) else np.nan)
    return out


def _moment_start(model) -> np.ndarray:
    """Start values of a model whose parameters are moments (the baseline): the EM moments,
    the covariances shrunk until the implied covariance matrices are positive definite."""
    theta = np.array(model.theta_start, dtype=float)
    idx = {v: i for i, v in enumerate(model.ov_names)}
    pt = model.partable[model.partable["free"] >= 0]
    cov_rows = []
    for r in pt.itertuples():
        S, m = model.sample[r.group].cov, model.sample[r.group].mean
        if r.op == "~~":
            theta[r.free] = S[idx[r.lhs], idx[r.rhs]]
            if r.lhs != r.rhs:
                cov_rows.append(r.free)
        elif r.op == "~1":
            theta[r.free] = m[idx[r.lhs]]
    for _ in range(60):
        if all(np.linalg.eigvalsh(model.sigma_mu(theta, g)[0])[0] > 0
               for g in range(model.n_groups)):
            break
        theta[cov_rows] *= 0.8
    return theta


def _newton_linear(model, patterns, theta, max_iter: int, tol: float = 1e-10):
    """Maximise the FIML log-likelihood of a model linear in theta by Newton's method.

    For ``m(theta) = [vech(Sigma), mu]`` linear in theta the exact Hessian is
    ``Delta' H_m Delta`` (``H_m`` the analytic moment Hessian of :func:`fiml.hessian`), so
    Newton converges quadratically where Fisher scoring is only linear for a misfitting
    model such as a baseline. Steps fall back to the expected information when the
    Hessian is not negative definite; backtracking on the log-likelihood.

    Returns ``(theta, loglik, converged)``.
    """
    from . import fiml

    D = [model.delta(theta, g) for g in range(model.n_groups)]

    def value(th):
        total = 0.0
        for g, pat in enumerate(patterns):
            Sigma, mu = model.sigma_mu(th, g)
            total += fiml.loglik(pat, mu, Sigma)
        return total

    ll = value(theta)
    if not np.isfinite(ll):
        return theta, ll, False
    for _ in range(max_iter):
        grad = np.zeros(theta.size)
        H = np.zeros((theta.size, theta.size))
        for g, pat in enumerate(patterns):
            Sigma, mu = model.sigma_mu(theta, g)
            grad += D[g].T @ fiml.gradient(pat, mu, Sigma)
            H -= D[g].T @ fiml.hessian(pat, mu, Sigma) @ D[g]
        try:
            np.linalg.cholesky(H)  # Newton only where the Hessian is negative definite
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            E = np.zeros_like(H)
            for g, pat in enumerate(patterns):
                Sigma, mu = model.sigma_mu(theta, g)
                E += D[g].T @ fiml.expected_information(pat, mu, Sigma) @ D[g]
            step = np.linalg.solve(E, grad)
        dec = float(grad @ step)
        if not np.isfinite(dec):
            return theta, ll, False
        if dec < tol:
            return theta, ll, True
        t = 1.0
        while t > 1e-10:
            ll_new = value(theta + t * step)
            if np.isfinite(ll_new) and ll_new >= ll + 1e-4 * t * dec:
                break
            t *= 0.5
        if t <= 1e-10:
            return theta, ll, False
        theta, ll = theta + t * step, ll_new
    return theta, ll, False


def _corrected_robust(res, base_df):
    """lavaan's cfi.robust/tli.robust of a FIML fit with an external baseline df."""
    from . import fiml, robust
    from .fit_indices import cfi, tli

    model, theta = res.model, np.asarray(res.theta, dtype=float)
    pats, h1 = res.extra["patterns"], res.extra["h1"]
    groups = []
    for g, (pat, h) in enumerate(zip(pats, h1)):
        Sigma, mu = model.sigma_mu(theta, g)
        groups.append(robust.GroupMoments(pat, mu, Sigma, model.delta(theta, g), h["mu"],
                                          h["Sigma"]))
    base = [fiml.baseline_loglik(p) for p in pats]
    bgroups = robust.baseline_groups(groups, [b[1] for b in base], [b[2] for b in base])
    fc = robust.fiml_corrected(groups, int(res.fit_indices["df"]), bgroups,
                               version="V3" if res.estimator == "MLR" else "V6")
    ok = np.isfinite(fc["c3"]) and fc["c3"] > 0
    df = res.fit_indices["df"]
    return dict(cfi_robust=cfi(fc["XX3"], df, fc["XX3_null"], base_df, fc["c3"],
                               fc["c3_null"]) if ok else np.nan,
                tli_robust=tli(fc["XX3"], df, fc["XX3_null"], base_df, fc["c3"],
                               fc["c3_null"]) if ok else np.nan)


def fit_auxiliary(model: str, data: pd.DataFrame, auxiliary, *, estimator: str = "ML",
                  missing: str = "fiml", group: str | None = None, group_equal=(),
                  max_iter: int = 500, std_se: bool = True):
    """Fit a model by FIML with auxiliary variables (the ``fit_sem(auxiliary=...)`` path).

    Parameters
    ----------
    model : str
        lavaan syntax of the substantive model.
    data : DataFrame
        Must hold the model's observed variables and the auxiliaries.
    auxiliary : str or iterable of str
        Auxiliary variables: numeric columns that are not in the model.
    estimator : {"ML", "MLR"}
    missing : {"fiml"}
        Auxiliaries only make sense with FIML; anything else raises :class:`SEMError`.
    group : str, optional
        Group column (the saturated part is added in every group).
    group_equal : iterable of {"loadings", "intercepts"}
        Constraints of the substantive model; the auxiliaries' means stay free per group.
    max_iter : int
    std_se : bool

    Returns
    -------
    SEMResult
        As for ``missing="fiml"``, plus an ``auxiliary`` column in ``estimates`` (True for
        the rows that involve an auxiliary), ``extra["auxiliary"]`` (the names) and
        ``extra["baseline"]`` (semTools' baseline fit); fit indices as described in the
        module docstring.

    Raises
    ------
    SEMError
        ``missing`` other than ``"fiml"``, invalid auxiliaries (:func:`check_auxiliary`),
        and everything ``fit_sem`` raises.

    References
    ----------
    Graham (2003), Structural Equation Modeling 10(1), 80-100; semTools 0.5-6
    ``auxiliary()`` with lavaan 0.6-14 (``missing = "fiml"``, ``fixed.x = FALSE``).

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> hs = holzinger39.get_data()
    >>> hs.loc[hs["ageyr"] > 13, "x5"] = np.nan
    >>> res = fit_auxiliary("textual =~ x4 + x5 + x6", hs, ["ageyr"])
    >>> bool(res.estimates.query("auxiliary")["rhs"].isin(["ageyr", "", "x4", "x5", "x6"]).all())
    True
    """
    import dataclasses

    from .fit_indices import cfi, tli
    from .model import observed_variables
    from .pipeline import fit_fiml, prepare_data

    if missing != "fiml":
        raise SEMError(f"auxiliary variables need missing='fiml' (got {missing!r}): they enter "
                       "the FIML likelihood as saturated correlates")
    estimator = str(estimator).upper()
    if estimator not in ("ML", "MLR"):
        raise SEMError(f"estimator must be 'ML' or 'MLR', not {estimator!r}")
    group_equal = (group_equal,) if isinstance(group_equal, str) else tuple(group_equal)
    stmts = parse_model(model)
    ov = observed_variables(stmts)
    lv = {s.lhs for s in stmts if s.op == "=~"}
    aux = check_auxiliary(data, auxiliary, ov, lv, group)
    exo = exogenous_observed(stmts)
    aug = saturated_correlates(stmts, aux, exogenous=exo)
    ov_aug, Xs, labels, n_dropped = prepare_data(aug, data, group=group, missing="fiml")
    if ov_aug != ov + aux:  # pragma: no cover - the rewrite appends the auxiliaries
        raise SEMError("internal: unexpected variable order after the auxiliary rewrite")
    if "intercepts" in group_equal and len(labels) > 1:
        aug = saturated_correlates(stmts, aux, n_groups=len(labels), free_means=True,
                                   exogenous=exo)
    res = fit_fiml(aug, ov_aug, Xs, labels, estimator=estimator, group=group,
                   group_equal=group_equal, syntax=model, warnings_=[], n_dropped=n_dropped,
                   max_iter=max_iter, std_se=std_se, fixed_x=False)

    msgs = list(res.warnings)
    new_msgs = []
    base = fit_baseline(ov, aux, res.extra["patterns"], res.extra["h1"], labels=labels,
                        estimator=estimator, max_iter=max_iter)
    fi = res.fit_indices.copy()
    if base["converged"]:
        chisq, df = float(fi["chisq"]), float(fi["df"])
        fi["baseline_chisq"], fi["baseline_df"] = base["chisq"], base["df"]
        fi["baseline_pvalue"] = base["pvalue"]
        fi["cfi"] = cfi(chisq, df, base["chisq"], base["df"])
        fi["tli"] = tli(chisq, df, base["chisq"], base["df"])
        if estimator == "MLR":
            fi["baseline_chisq_scaled"] = base["chisq_scaled"]
            fi["baseline_scaling_factor"] = base["scaling_factor"]
        for k, v in _corrected_robust(res, base["df"]).items():
            fi[k] = v
    else:
        new_msgs.append("the baseline model with auxiliaries did not converge: baseline_chisq, "
                        "cfi, tli (and their robust versions) are not reported")
        for k in ("baseline_chisq", "baseline_pvalue", "cfi", "tli", "baseline_chisq_scaled",
                  "baseline_scaling_factor", "cfi_robust", "tli_robust"):
            if k in fi.index:
                fi[k] = np.nan
        fi["baseline_df"] = base["df"]
    est = res.estimates.copy()
    aux_set = set(aux)
    est["auxiliary"] = (est["lhs"].isin(aux_set) | est["rhs"].isin(aux_set)).to_numpy()
    internal = est["label"].astype(str).str.startswith(".aux.")
    est.loc[internal, "label"] = ""
    extra = dict(res.extra)
    extra.update(auxiliary=list(aux), exogenous_free=list(exo),
                 baseline={k: v for k, v in base.items() if k != "theta"})
    for m in new_msgs:
        _warnings.warn(m, SEMWarning, stacklevel=3)
    return dataclasses.replace(res, estimates=est, fit_indices=fi, warnings=msgs + new_msgs,
                               extra=extra)


def exogenous_observed(stmts) -> list:
    r"""Observed variables that are only predictors (lavaan's ``ov.x``).

    Parameters
    ----------
    stmts : str or list of Statement

    Returns
    -------
    list of str
        Variables on the right of ``~`` that are never on its left and are no indicator,
        in the model's order.

    References
    ----------
    Rosseel (2012), J. Stat. Softw. 48(2) (``fixed.x``: exogenous observed covariates).

    Examples
    --------
    >>> exogenous_observed("f =~ y1 + y2 + y3\nf ~ x1 + x2\ny3 ~ x1")
    ['x1', 'x2']
    """
    from .model import observed_variables

    stmts = parse_model(stmts) if isinstance(stmts, str) else list(stmts)
    eqs_y = {s.lhs for s in stmts if s.op == "~"}
    eqs_x = {s.rhs for s in stmts if s.op == "~"}
    ind = {s.rhs for s in stmts if s.op == "=~"}
    return [v for v in observed_variables(stmts) if v in eqs_x and v not in eqs_y
            and v not in ind]
