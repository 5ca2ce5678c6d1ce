"""Messages that point at the offending rows of an input, in one format everywhere.

Every loader and method that rejects input names the file, the column and the first
offending rows; these helpers write the "which rows" part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def first_labels(labels, limit: int = 5) -> str:
    """The first ``limit`` labels, comma-separated, with a count of the rest.

    Parameters
    ----------
    labels : iterable
        Row labels, ids or short descriptions of the offending entries.
    limit : int
        How many to name.

    Returns
    -------
    str

    Examples
    --------
    >>> first_labels(["C01", "C02", "C03"], limit=2)
    'C01, C02 (and 1 more)'
    """
    labels = list(labels)
    more = len(labels) - limit
    return ", ".join(map(str, labels[:limit])) + (f" (and {more} more)" if more > 0 else "")


def masked_labels(mask, labels, limit: int = 5) -> str:
    """:func:`first_labels` of the ``labels`` where ``mask`` is true.

    Parameters
    ----------
    mask : array-like of bool
    labels : sequence
        One label per element of ``mask``.
    limit : int

    Returns
    -------
    str

    Examples
    --------
    >>> masked_labels([False, True, True], ["x1", "x2", "x3"])
    'x2, x3'
    """
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    labels = list(labels)
    return first_labels([labels[i] for i in idx], limit)


def spreadsheet_rows(mask, limit: int = 5) -> str:
    """Spreadsheet row numbers of the true entries of ``mask`` (the header is row 1).

    Data row ``i`` (0-based) is spreadsheet row ``i + 2``, the number a user sees in Excel.

    Parameters
    ----------
    mask : array-like of bool
        One entry per data row, in file order.
    limit : int

    Returns
    -------
    str

    Examples
    --------
    >>> spreadsheet_rows([True, False, True])
    '2, 4'
    """
    idx = np.flatnonzero(np.asarray(pd.Series(mask).to_numpy(), dtype=bool))
    return first_labels([int(i) + 2 for i in idx], limit)


def check_pairwise(matrix, *, name: str = "pairwise matrix", tol: float = 0.02) -> np.ndarray:
    """Validate an AHP judgement matrix and return it as a float array.

    A valid matrix is square, finite, strictly positive, has a unit diagonal and is
    reciprocal: ``a_ij * a_ji = 1`` within ``tol`` (judgements stored with a few decimals,
    e.g. 0.333 for 1/3, pass; 3 and 3 do not).

    Raises
    ------
    ValueError
        Naming ``name`` and the first offending cells.
    """
    labels = list(matrix.index) if isinstance(matrix, pd.DataFrame) else None
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"{name}: an AHP matrix must be square, got shape {a.shape}")
    n = a.shape[0]
    labels = labels or [str(i) for i in range(n)]
    cells = np.array([f"({labels[i]}, {labels[j]})" for i in range(n) for j in range(n)])
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: missing or infinite judgements at "
                         f"{masked_labels(~np.isfinite(a).ravel(), cells)}")
    if (a <= 0).any():
        raise ValueError(f"{name}: AHP judgements must be positive; non-positive at "
                         f"{masked_labels((a <= 0).ravel(), cells)}")
    if not np.allclose(np.diag(a), 1.0, atol=tol):
        raise ValueError(f"{name}: the diagonal must be 1")
    bad = np.abs(a * a.T - 1.0) > tol
    if bad.any():
        raise ValueError(f"{name}: not reciprocal (a_ij * a_ji != 1) at "
                         f"{masked_labels(np.triu(bad).ravel(), cells)}")
    return a
