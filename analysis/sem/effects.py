"""Direct, indirect and total effects from a fitted model's regression coefficients.

For a recursive structural model ``eta = B eta + zeta`` the total effects are
``T = (I - B)^-1 - I`` (Bollen 1987); the indirect effects are ``T - B``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SEMError


def structural_matrix(estimates: pd.DataFrame, column: str = "est",
                      variables=None) -> pd.DataFrame:
    """The coefficient matrix ``B`` of the ``~`` rows: ``B.loc[outcome, predictor]``.

    Parameters
    ----------
    estimates : DataFrame
        A parameter table with ``lhs op rhs`` and ``column`` (``SEMResult.estimates``).
    column : str
        ``"est"`` (unstandardised) or ``"std_all"``.
    variables : sequence of str, optional
        Rows and columns of ``B``, in this order; regressions involving other variables are
        ignored. Default: every variable in a ``~`` row, predictors first.

    Returns
    -------
    DataFrame
        Square, zero where there is no path.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["M", "Y", "Y"], "op": ["~"] * 3, "rhs": ["X", "M", "X"],
    ...                     "est": [0.4, 0.5, 0.2]})
    >>> structural_matrix(est).loc["Y", "M"]
    np.float64(0.5)
    """
    if column not in estimates.columns:
        raise SEMError(f"estimates have no column {column!r}")
    reg = estimates.loc[estimates["op"] == "~", ["lhs", "rhs", column]]
    if variables is None:
        variables = list(dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"])))
    variables = list(variables)
    reg = reg[reg["lhs"].isin(variables) & reg["rhs"].isin(variables)]
    b = pd.DataFrame(0.0, index=variables, columns=variables)
    for lhs, rhs, val in zip(reg["lhs"], reg["rhs"], reg[column]):
        b.loc[lhs, rhs] = float(val)
    return b


def total_effects_matrix(b: pd.DataFrame) -> pd.DataFrame:
    """Total effects ``T = (I - B)^-1 - I``; ``T.loc[target, source]`` is source's effect.

    Parameters
    ----------
    b : DataFrame
        A square coefficient matrix from :func:`structural_matrix`.

    Returns
    -------
    DataFrame
        Same labels as ``b``.

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    Sociological Methodology 17, 37-69.

    Examples
    --------
    >>> b = pd.DataFrame([[0, 0, 0], [0.4, 0, 0], [0.2, 0.5, 0]],
    ...                  index=list("XMY"), columns=list("XMY"))
    >>> round(float(total_effects_matrix(b).loc["Y", "X"]), 3)  # 0.2 + 0.4 * 0.5
    0.4
    """
    B = b.to_numpy(dtype=float)
    if not np.isfinite(B).all():
        raise SEMError("structural coefficients contain NaN")
    eye = np.eye(len(b))
    try:
        t = np.linalg.inv(eye - B) - eye
    except np.linalg.LinAlgError as err:  # only for non-recursive models with a unit loop
        raise SEMError("I - B is singular: the structural model has no total effects") from err
    return pd.DataFrame(t, index=b.index, columns=b.columns)


def total_effects(estimates: pd.DataFrame, column: str = "est", variables=None) -> pd.DataFrame:
    """Tidy direct, indirect and total effects for every pair with a non-zero total effect.

    Parameters
    ----------
    estimates : DataFrame
        ``SEMResult.estimates`` (or any table with ``lhs op rhs`` and ``column``).
    column : str
        ``"est"`` or ``"std_all"`` (for a recursive model the standardised total effect is
        the sum over paths of products of standardised coefficients).
    variables : sequence of str, optional
        As in :func:`structural_matrix`.

    Returns
    -------
    DataFrame
        ``source target direct indirect total``.

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    Sociological Methodology 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["M", "Y", "Y"], "op": ["~"] * 3, "rhs": ["X", "M", "X"],
    ...                     "est": [0.4, 0.5, 0.2]})
    >>> total_effects(est).round(3).values.tolist()[-1]
    ['X', 'Y', 0.2, 0.2, 0.4]
    """
    if not (estimates["op"] == "~").any():
        raise SEMError("no structural paths ('~' rows) in the estimates")
    b = structural_matrix(estimates, column, variables)
    t = total_effects_matrix(b)
    names = list(b.index)
    B, T = b.to_numpy(), t.to_numpy()
    pos = {v: i for i, v in enumerate(names)}
    rows = [{"source": s, "target": g, "direct": B[pos[g], pos[s]], "total": T[pos[g], pos[s]]}
            for g in names for s in names if s != g and abs(T[pos[g], pos[s]]) > 1e-12]
    out = pd.DataFrame(rows, columns=["source", "target", "direct", "total"])
    out["indirect"] = out["total"] - out["direct"]
    return out[["source", "target", "direct", "indirect", "total"]]
