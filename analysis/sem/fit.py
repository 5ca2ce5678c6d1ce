"""``fit_sem``: lavaan syntax + a DataFrame in, :class:`SEMResult` out.

Reference: Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
Journal of Statistical Software 48(2), 1-36 (defaults of ``sem()`` reproduced here).

Example
-------
>>> from semopy.examples import holzinger39
>>> res = fit_sem("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
...               "speed =~ x7 + x8 + x9", holzinger39.get_data())
>>> float(round(res.fit_indices["chisq"], 3))
85.306
"""

from __future__ import annotations

import pandas as pd

from . import cluster as _cluster
from . import wls
from ._threads import single_thread_blas
from .errors import SEMError
from .pipeline import fit_single
from .result import SEMResult

__all__ = ["fit_sem"]


def fit_sem(model: str, data: pd.DataFrame, *, estimator: str = "ML",
            missing: str = "listwise", group: str | None = None, group_equal=(),
            start=None, max_iter: int = 500, std_se: bool = True,
            cluster: str | None = None, meanstructure: bool | None = None, ordered=None,
            parameterization: str = "delta") -> SEMResult:
    """Fit a structural equation model written in lavaan syntax.

    Parameters
    ----------
    model : str
        lavaan syntax (``=~ ~ ~~ ~1 :=``, labels ``a*x``, fixed values ``1*x``, ``NA*x``).
    data : DataFrame
        One row per observation; the model's observed variables must be columns.
    estimator : {"ML", "MLR", "WLSMV", "DWLS", "WLS"}
        ML with expected-information SEs (lavaan's default) or MLR (robust, Huber-White
        SEs and Yuan-Bentler scaled chi-square; see :mod:`analysis.sem.robust`); the
        weighted least squares estimators need ``ordered`` (:mod:`analysis.sem.wls`).
    missing : {"listwise", "fiml"}
        Listwise deletion over the model's columns (the number dropped is reported) or
        full-information ML (:mod:`analysis.sem.fiml`).
    group : str, optional
        Column defining groups (multi-group model with mean structure).
    group_equal : iterable of {"loadings", "intercepts"}
        Equality constraints across groups.
    start : array-like, optional
        Starting values for theta (warm start).
    max_iter : int
        Iteration limit of the optimiser (a warning is issued when it is reached).
    std_se : bool
        Compute delta-method SEs of the standardised solution (``se_std``).
    cluster : str, optional
        Column of cluster labels: cluster-robust SEs and the Yuan-Bentler (Mplus) scaled
        test for a single-level model, as lavaan's ``sem(..., cluster=)`` (with "ML" as
        well as "MLR"; see :mod:`analysis.sem.cluster`).
    meanstructure : bool, optional
        Force (True) a mean structure; default as lavaan (groups, ``~ 1``, FIML); always
        True with ``cluster`` (as lavaan).
    ordered : True or list of str, optional
        Ordered-categorical indicators: thresholds + polychorics + WLSMV (lavaan's
        ``ordered=``; implies ``estimator="WLSMV"`` unless "DWLS"/"WLS" is given;
        ``missing`` may then be "listwise" or "pairwise"); see :mod:`analysis.sem.wls`.
    parameterization : {"delta", "theta"}
        Scale of the latent responses for ordered indicators (lavaan's default "delta").

    Returns
    -------
    SEMResult

    Raises
    ------
    SEMError
        Missing columns, a non-positive-definite sample covariance matrix, a model with
        more free parameters than sample moments, invalid syntax.

    Notes
    -----
    ML uses the sample covariance with divisor N (lavaan's ``likelihood = "normal"``);
    the optimiser is Fisher scoring with the analytic gradient (``estimate.py``).

    References
    ----------
    Rosseel (2012), J. Stat. Softw. 48(2); Bollen (1989), Structural Equations with Latent
    Variables, Wiley.

    Examples
    --------
    >>> res = fit_sem("f =~ x1 + x2 + x3", df)             # doctest: +SKIP
    >>> res.estimates.query("op == '=~'")                  # doctest: +SKIP
    """
    if _cluster.has_level_blocks(model):  # two-level models: the lead wires the module here
        raise SEMError("two-level models (level: blocks) are not yet wired into fit_sem")
    if ordered is True or (ordered is not None and ordered is not False
                           and len(ordered)):  # ordinal SEM (analysis/sem/wls.py)
        if cluster is not None:
            raise SEMError("cluster= is not implemented for ordered indicators (WLSMV)")
        est = "WLSMV" if str(estimator).upper() == "ML" else estimator
        with single_thread_blas():
            return wls.fit_wls(model, data, estimator=est, ordered=ordered,
                               missing=missing, group=group, group_equal=group_equal,
                               parameterization=parameterization, start=start,
                               max_iter=max_iter, std_se=std_se)
    if cluster is not None:
        with single_thread_blas():
            return _cluster.fit_clustered(model, data, cluster, estimator=estimator,
                                          missing=missing, group=group,
                                          group_equal=group_equal, start=start,
                                          max_iter=max_iter, std_se=std_se)
    with single_thread_blas():
        return fit_single(model, data, estimator=estimator, missing=missing, group=group,
                          group_equal=group_equal, start=start, max_iter=max_iter,
                          std_se=std_se, meanstructure=meanstructure)


