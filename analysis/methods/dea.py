"""Data envelopment analysis: CCR and BCC envelopment models with phase-II slacks.

Each unit (here: a community) is compared with the best practice formed by convex or conical
combinations of all units. Phase I finds the radial efficiency; phase II holds it fixed and
maximises the sum of slacks, so that the reported targets lie on the strongly efficient
frontier (Cooper, Seiford & Tone 2007, ch. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

#: lambda values above this count a unit as a peer (HiGHS' feasibility tolerance is ~1e-7,
#: solutions at vertices give exact zeros, so 1e-9 only guards against signed noise).
PEER_TOL = 1e-9


def _as_frame(x, what: str) -> pd.DataFrame:
    if isinstance(x, pd.Series):
        x = x.to_frame()
    if not isinstance(x, pd.DataFrame):
        arr = np.asarray(x, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        x = pd.DataFrame(arr, columns=[f"{what}{i + 1}" for i in range(arr.shape[1])])
    if x.shape[1] == 0:
        raise ValueError(f"DEA needs at least one {what} column")
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]):
            raise ValueError(f"DEA {what} column {col!r} is not numeric")
    return x.astype(float)


def _check(frame: pd.DataFrame, what: str, strictly_positive: bool) -> None:
    for col in frame.columns:
        v = frame[col]
        bad = v.isna() | ~np.isfinite(v) | ((v <= 0) if strictly_positive else (v < 0))
        if bad.any():
            rows = list(frame.index[bad][:5])
            rule = "positive" if strictly_positive else "non-negative"
            raise ValueError(
                f"DEA {what} column {col!r} must be finite and {rule}; "
                f"offending rows (first {len(rows)}): {rows}")


def dea(inputs, outputs, rts: str = "crs", orientation: str = "input",
        names=None) -> pd.DataFrame:
    """Radial DEA efficiency with phase-II slacks, peers and targets for every unit.

    Parameters
    ----------
    inputs : DataFrame or array-like, shape (n_units, m)
        Inputs (smaller is better). Must be finite and strictly positive.
    outputs : DataFrame or array-like, shape (n_units, s)
        Outputs (larger is better). Finite and non-negative; each unit needs one positive output.
    rts : {"crs", "vrs"}
        Constant returns to scale (CCR; Charnes, Cooper & Rhodes 1978) or variable returns
        to scale (BCC; Banker, Charnes & Cooper 1984, adds ``sum(lambda) = 1``).
    orientation : {"input", "output"}
        Input orientation minimises theta (radial input contraction); output orientation
        maximises phi (radial output expansion) and reports ``efficiency = 1 / phi``.
    names : sequence, optional
        Unit labels; default the index of ``inputs``.

    Returns
    -------
    DataFrame
        One row per unit, in input order: ``unit``, ``efficiency`` (theta, or 1/phi),
        ``phi`` (output orientation only), ``efficient`` (efficiency = 1 and all slacks 0,
        i.e. Pareto–Koopmans efficient), ``peers`` (sorted unit labels with lambda > 1e-9,
        joined by ``";"``), ``lambda_sum``, ``slack_<col>`` for every input and output and
        ``target_<col>`` (input targets ``theta x - s-``, output targets ``y + s+``; for
        output orientation ``x - s-`` and ``phi y + s+``).

    Notes
    -----
    Phase II maximises the unweighted sum of slacks at the optimal theta, as in Cooper,
    Seiford & Tone (2007, model 3.10). That sum is not invariant to the units of measurement,
    so when several slack solutions exist the one chosen depends on the units; efficiency
    scores and the strong-efficiency verdict do not.

    References
    ----------
    Cooper, W. W., Seiford, L. M., & Tone, K. (2007). *Data Envelopment Analysis* (2nd ed.).
    Springer. Bogetoft, P., & Otto, L. (2011). *Benchmarking with DEA, SFA, and R*. Springer.

    Examples
    --------
    >>> out = dea([20, 40, 40, 60, 70, 50], [20, 30, 50, 40, 60, 20], rts="crs")
    >>> out["efficiency"].round(4).tolist()
    [0.8, 0.6, 1.0, 0.5333, 0.6857, 0.32]
    """
    if rts not in ("crs", "vrs"):
        raise ValueError(f"rts must be 'crs' or 'vrs', got {rts!r}")
    if orientation not in ("input", "output"):
        raise ValueError(f"orientation must be 'input' or 'output', got {orientation!r}")
    X = _as_frame(inputs, "input")
    Y = _as_frame(outputs, "output")
    if len(X) != len(Y):
        raise ValueError(f"inputs have {len(X)} rows but outputs {len(Y)}")
    if isinstance(inputs, (pd.DataFrame, pd.Series)) and isinstance(outputs, (pd.DataFrame, pd.Series))\
            and not X.index.equals(Y.index):
        raise ValueError("inputs and outputs must have the same index (same units, same order)")
    _check(X, "input", strictly_positive=True)
    _check(Y, "output", strictly_positive=False)
    nil = (Y.to_numpy() <= 0).all(axis=1)
    if nil.any():
        raise ValueError(f"DEA outputs are all zero for rows {list(Y.index[nil][:5])}")
    if len(set(X.columns) & set(Y.columns)):
        raise ValueError("input and output columns must have distinct names")
    labels = list(X.index if names is None else names)
    if len(labels) != len(X):
        raise ValueError("names must have one label per unit")

    x, y = X.to_numpy().T, Y.to_numpy().T  # (m, n), (s, n)
    rows = [_one_unit(x, y, o, rts, orientation) for o in range(x.shape[1])]

    out = pd.DataFrame({"unit": labels})
    if orientation == "input":
        out["efficiency"] = [r[0] for r in rows]
    else:
        out["phi"] = [r[0] for r in rows]
        out["efficiency"] = 1.0 / out["phi"]
    lam = np.array([r[1] for r in rows])
    s_in = np.array([r[2] for r in rows])
    s_out = np.array([r[3] for r in rows])
    # strong efficiency: radial score 1 and no slack left (both to LP tolerance, relative
    # to the unit's own values so that large-valued columns do not mask small ones)
    tol = 1e-6
    no_slack = (s_in <= tol * np.maximum(1, x.T)).all(axis=1) &\
        (s_out <= tol * np.maximum(1, y.T)).all(axis=1)
    out["efficient"] = (np.abs(out["efficiency"].to_numpy() - 1) < tol) & no_slack
    out["peers"] = [";".join(sorted(str(labels[j]) for j in np.flatnonzero(lam[o] > PEER_TOL)))
                    for o in range(len(labels))]
    out["lambda_sum"] = lam.sum(axis=1)
    radial = out["efficiency"].to_numpy() if orientation == "input" else out["phi"].to_numpy()
    for k, col in enumerate(X.columns):
        out[f"slack_{col}"] = s_in[:, k]
    for k, col in enumerate(Y.columns):
        out[f"slack_{col}"] = s_out[:, k]
    for k, col in enumerate(X.columns):
        base = x[k] * radial if orientation == "input" else x[k]
        out[f"target_{col}"] = base - s_in[:, k]
    for k, col in enumerate(Y.columns):
        base = y[k] * radial if orientation == "output" else y[k]
        out[f"target_{col}"] = base + s_out[:, k]
    return out


def _one_unit(x: np.ndarray, y: np.ndarray, o: int, rts: str, orientation: str):
    """Phase I (radial score) and phase II (max slacks) for unit ``o``."""
    m, n = x.shape
    s = y.shape[0]
    a_eq = np.ones((1, n)) if rts == "vrs" else None
    b_eq = np.ones(1) if rts == "vrs" else None
    # Phase I, variables [score, lambda_1..n]
    c = np.r_[1.0 if orientation == "input" else -1.0, np.zeros(n)]
    if orientation == "input":
        # sum_j lambda_j x_ij - theta x_io <= 0 ; -sum_j lambda_j y_rj <= -y_ro
        a_ub = np.vstack([np.c_[-x[:, o], x], np.c_[np.zeros(s), -y]])
        b_ub = np.r_[np.zeros(m), -y[:, o]]
    else:
        # sum_j lambda_j x_ij <= x_io ; phi y_ro - sum_j lambda_j y_rj <= 0
        a_ub = np.vstack([np.c_[np.zeros(m), x], np.c_[y[:, o], -y]])
        b_ub = np.r_[x[:, o], np.zeros(s)]
    eq1 = None if a_eq is None else np.c_[np.zeros((1, 1)), a_eq]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=eq1, b_eq=b_eq,
                  bounds=[(None, None)] + [(0, None)] * n, method="highs")
    if res.status != 0:
        raise RuntimeError(f"DEA phase I failed for unit {o}: {res.message}")
    score = float(res.x[0])

    # Phase II, variables [lambda (n), s_minus (m), s_plus (s)]; maximise sum of slacks
    c2 = np.r_[np.zeros(n), -np.ones(m + s)]
    if orientation == "input":
        rhs_x, rhs_y = score * x[:, o], y[:, o]
    else:
        rhs_x, rhs_y = x[:, o], score * y[:, o]
    a2 = np.block([[x, np.eye(m), np.zeros((m, s))],
                   [y, np.zeros((s, m)), -np.eye(s)]])
    b2 = np.r_[rhs_x, rhs_y]
    if a_eq is not None:
        a2 = np.vstack([a2, np.r_[np.ones(n), np.zeros(m + s)]])
        b2 = np.r_[b2, 1.0]
    res2 = linprog(c2, A_eq=a2, b_eq=b2, bounds=[(0, None)] * (n + m + s), method="highs")
    if res2.status != 0:  # phase-I score sits a hair inside the frontier: relax by 1e-9
        if orientation == "input":
            b2[:m] = (score + 1e-9) * x[:, o]
        else:
            b2[m:m + s] = (score - 1e-9) * y[:, o]
        res2 = linprog(c2, A_eq=a2, b_eq=b2, bounds=[(0, None)] * (n + m + s), method="highs")
    if res2.status != 0:
        raise RuntimeError(f"DEA phase II failed for unit {o}: {res2.message}")
    z = res2.x
    lam = np.where(z[:n] > PEER_TOL, z[:n], 0.0)
    s_minus = np.clip(z[n:n + m], 0, None)
    s_plus = np.clip(z[n + m:], 0, None)
    return score, lam, s_minus, s_plus
