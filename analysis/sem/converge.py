"""Polishing a converged iterate to the floating-point limit, so results do not depend on BLAS.

An iterative fit stopped by a tolerance returns a point whose distance from the exact optimum
(here ~1e-9 relative) depends on the path the iterations took, and the path depends on the
last bits of every matrix product -- which differ between the BLAS kernels that different
processors select. Two machines then report estimates that differ in the 9th digit. Iterating
on until the steps stop shrinking removes that dependence: the remaining difference is the
rounding noise of the objective's gradient at the optimum (about 1e-13 relative), the same
from whichever side the iterations came.

Reference: Dennis, J. E. & Schnabel, R. B. (1996). *Numerical Methods for Unconstrained
Optimization and Nonlinear Equations*. SIAM, sections 6.3 and 7.2 (Newton steps near the
solution and stopping rules in finite precision).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["polish"]


def polish(theta, newton_step: Callable, *, first: tuple | None = None, max_steps: int = 10,
           shrink: float = 0.5, floor: float = 1e-30, value_slack: float = 1e-12):
    """Take full (scoring) Newton steps from a converged ``theta`` until they stop shrinking.

    Parameters
    ----------
    theta : ndarray
        A point that passed the fit's own convergence test.
    newton_step : callable
        ``newton_step(theta) -> (value, step, decrement)``: the objective to be *minimised*,
        the Newton or Fisher-scoring step ``-H^-1 g`` and the decrement ``g' H^-1 g`` at
        ``theta``; the value may be ``inf`` outside the admissible region.
    first : tuple, optional
        ``newton_step(theta)`` if the caller has it already (saves one evaluation).
    max_steps : int
        At most this many extra steps. Newton steps converge quadratically (2-3 steps reach
        the noise floor); a Fisher-scoring step shrinks the decrement by a constant factor,
        from about 0.01 for a well-fitting model to 0.5 and more with misfit.
    shrink : float
        Stop once a step shrinks the decrement by less than this factor: the rounding noise
        floor has been reached (or the steps are too slow to be worth continuing).
    floor : float
        Stop once the decrement is below this (the rounding noise of ``g' H^-1 g``).
    value_slack : float
        A step is kept only if the value does not rise by more than this, relative: near the
        optimum the value is flat to rounding, so it may not fall either.

    Returns
    -------
    theta : ndarray
        The polished point (``theta`` itself if no step helped).
    steps : int
        Steps taken.

    References
    ----------
    Dennis, J. E. & Schnabel, R. B. (1996). *Numerical Methods for Unconstrained Optimization
    and Nonlinear Equations*. SIAM, sections 6.3 and 7.2.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> def step(th):   # a quadratic approached with a deliberately poor Hessian (2 I)
    ...     g = A @ th - 1.0
    ...     return 0.5 * th @ A @ th - th.sum(), -g / 2.0, g @ g / 2.0
    >>> th, n = polish(np.array([0.43, 0.79]), step, max_steps=60)
    >>> bool(np.allclose(A @ th, 1.0, rtol=0, atol=1e-14)), n > 5
    (True, True)
    """
    theta = np.asarray(theta, dtype=float)
    value, step, dec = first if first is not None else newton_step(theta)
    steps = 0
    for _ in range(max_steps):
        if not (np.isfinite(dec) and dec > floor):
            break
        cand = theta + step
        v2, s2, d2 = newton_step(cand)
        if not np.isfinite(v2) or v2 > value + value_slack * max(1.0, abs(value)):
            break
        theta, value, step, steps = cand, v2, s2, steps + 1
        if not d2 < shrink * dec:  # no longer shrinking: at the noise floor
            break
        dec = d2
    return theta, steps
