"""Single-threaded BLAS for the engine's small dense matrices.

SEM matrices are small (tens to a few hundred rows); multi-threaded OpenBLAS then spends
its time synchronising, and on a loaded machine a 360 x 360 Cholesky became ~50x slower.
``threadpoolctl`` (installed with scikit-learn) limits BLAS to one thread while we work;
without it this is a no-op. Parallelism comes from joblib over resamples instead.
"""

from __future__ import annotations

import contextlib

try:
    from threadpoolctl import threadpool_limits as _limits
except ImportError:  # pragma: no cover - optional
    _limits = None


def single_thread_blas():
    """Context manager limiting BLAS to one thread (no-op without threadpoolctl).

    Returns
    -------
    contextlib.AbstractContextManager
        ``threadpoolctl.threadpool_limits(limits=1, user_api="blas")``, or
        ``contextlib.nullcontext()`` when threadpoolctl is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> with single_thread_blas():
    ...     float(np.linalg.det(np.eye(3)))
    1.0
    """
    if _limits is None:
        return contextlib.nullcontext()
    return _limits(limits=1, user_api="blas")
