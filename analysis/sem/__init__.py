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
fit_sem(model, data, *, estimator="ML", missing="listwise", group=None, group_equal=())
    -> SEMResult (.estimates, .fit_indices, .summary(), .converged, .warnings)
invariance(model, data, group) -> configural / metric / scalar table with LR tests
modification_indices(result) -> score tests (mi, epc, sepc_all), sorted; FIML fits too
bootstrap(result, n_boot=1000, seed=..., ci="percentile" | "bca" | "bc", n_jobs=1)

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

from .errors import SEMError, SEMWarning
from .fit import fit_sem
from .result import SEMResult

__all__ = ["SEMError", "SEMWarning", "SEMResult", "fit_sem"]

try:  # optional pieces are added as they land
    from .multigroup import invariance  # noqa: F401

    __all__.append("invariance")
except ImportError:  # pragma: no cover
    pass
try:
    from .modindices import modification_indices  # noqa: F401

    __all__.append("modification_indices")
except ImportError:  # pragma: no cover
    pass
try:
    from .bootstrap import bootstrap  # noqa: F401

    __all__.append("bootstrap")
except ImportError:  # pragma: no cover
    pass
try:  # two-level SEM (level: 1 / level: 2 blocks)
    from .twolevel import fit_twolevel  # noqa: F401

    __all__.append("fit_twolevel")
except ImportError:  # pragma: no cover
    pass
