"""A structural-equation-modelling engine that agrees with lavaan 0.6 (R).

lavaan syntax in, :class:`SEMResult` out: ML estimation from sample moments (analytic
gradient, Fisher scoring), lavaan's fit indices, the standardised solution, ``:=``
defined parameters with delta-method SEs, multi-group models and invariance tests,
modification indices, bootstrap confidence intervals; MLR and FIML via
:mod:`analysis.sem.robust` and :mod:`analysis.sem.fiml`.

The package knows nothing of any particular study; it uses numpy, scipy, pandas, joblib
and tqdm only. The model object's API (implied moments, Jacobian ``Delta``) is documented
in :mod:`analysis.sem.model`.
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
