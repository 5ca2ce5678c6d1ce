r"""A structural-equation-modelling engine that agrees with lavaan 0.6 (R).

lavaan syntax in, :class:`SEMResult` out: ML estimation from sample moments (analytic
gradient, Fisher scoring), lavaan's fit indices, the standardised solution, ``:=``
defined parameters with delta-method SEs, multi-group models and invariance tests,
modification indices, bootstrap confidence intervals; MLR and FIML via
:mod:`analysis.sem.robust` and :mod:`analysis.sem.fiml`.

The package knows nothing of any particular study; it uses numpy, scipy, pandas, joblib
and tqdm only (threadpoolctl if present). The model object's API (implied moments,
Jacobian ``Delta``) is documented in :mod:`analysis.sem.model`.

Functions
---------
fit_sem(model, data, *, estimator="ML", missing="listwise", group=None, group_equal=(),
        cluster=None)
    -> SEMResult (.estimates, .fit_indices, .summary(), .converged, .warnings);
    cluster="id": cluster-robust SEs and scaled test (:mod:`analysis.sem.cluster`)
invariance(model, data, group) -> InvarianceResult (.table: configural / metric / scalar
    with LR tests, .fits: the three SEMResults)
modification_indices(result) -> score tests (mi, epc, sepc_all), sorted; FIML fits and
    two-level ML fits too (a level column)
bootstrap(result, n_boot=1000, seed=..., ci="percentile" | "bca" | "bc", n_jobs=1,
          cluster=None)   (whole clusters resampled for cluster fits and two-level fits,
          a cluster drawn twice counting as two; WLSMV fits too)
    -> BootstrapResult (.table: est se ci_lower ci_upper, .n_failed)
fit_sem("level: 1 ... level: 2 ...", data, cluster="id", estimator="ML" | "MLR",
        missing="listwise" | "fiml")
    -> two-level SEM (:mod:`analysis.sem.twolevel`; FIML with values missing at random at
    both levels, Rosseel 2021: :mod:`analysis.sem.twolevel_fiml`)
fit_sem(model, data, missing="fiml", auxiliary=["age"]) -> FIML with saturated correlates
fit_sem(model, data, ordered=True | [columns], estimator="WLSMV" | "DWLS" | "WLS",
        parameterization="delta" | "theta") -> thresholds + polychorics + (D)WLS
polychoric(data, columns=None, missing="listwise") -> matrix, thresholds, acov
lrt_scaled(res_restricted, res_full) -> scaled-shifted difference test of WLSMV fits

Example
-------
>>> from semopy.examples import holzinger39
>>> from analysis.sem import fit_sem, modification_indices
>>> res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
...               "speed =~ x7 + x8 + x9", holzinger39.get_data())
>>> float(round(res.fit_indices["rmsea"], 4)), float(round(res.fit_indices["srmr"], 4))
(0.0921, 0.0652)
>>> modification_indices(res).iloc[0][["lhs", "op", "rhs"]].tolist()
['visual', '=~', 'x9']
"""

from ._threads import single_thread_blas
from .bootstrap import BootstrapResult, bootstrap, bootstrap_draws
from .compare import chisq_difference
from .effects import structural_matrix, total_effects, total_effects_matrix
from .errors import SEMError, SEMWarning
from .fit import fit_sem
from .model import vech_index
from .modindices import modification_indices
from .multigroup import InvarianceResult, invariance, release_tests
from .polychoric import PolychoricResult, polychoric
from .result import SEMResult
from .twolevel import fit_twolevel
from .wls import lrt_scaled

__all__ = ["BootstrapResult", "InvarianceResult", "PolychoricResult", "SEMError", "SEMResult", "SEMWarning",
           "bootstrap", "bootstrap_draws",
           "chisq_difference", "fit_sem", "fit_twolevel", "invariance", "lrt_scaled", "modification_indices", "polychoric",
           "release_tests", "single_thread_blas", "structural_matrix", "total_effects",
           "total_effects_matrix", "vech_index"]
