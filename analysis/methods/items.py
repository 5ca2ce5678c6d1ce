"""Checked item matrices and their correlations: the common input of the measurement methods.

:func:`check_items` turns a block of questionnaire items into a numeric DataFrame or refuses
it (too few items, non-numeric answers, a constant item) naming the item and the rows;
:func:`correlation` is the pairwise-complete correlation matrix that
:mod:`analysis.methods.factor` and :mod:`analysis.methods.reliability` factor, as R's
``psych`` does. :data:`MIN_ITEMS` is the number of indicators a reflective construct needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.io.checks import masked_labels

MIN_ITEMS = 3  # a reflective construct needs three indicators to be identified


# ------------------------------------------------------------------------- checks


def check_items(items: pd.DataFrame, *, min_items: int = 2, name: str = "items") -> pd.DataFrame:
    """Numeric DataFrame with enough items and no constant item (clear errors otherwise).

    Parameters
    ----------
    items : pandas.DataFrame or array-like
        One column per item, one row per respondent; NaN allowed.
    min_items : int
        Fewest columns accepted.
    name : str
        What the block is (e.g. ``"construct MS"``), for error messages.

    Returns
    -------
    pandas.DataFrame
        The items as floats, same index and columns.

    Raises
    ------
    ValueError
        Fewer than ``min_items`` items, non-numeric values (naming the rows), an item with
        fewer than three observed values, or a constant item.

    Examples
    --------
    >>> check_items(pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 2]}))
    Traceback (most recent call last):
    ...
    ValueError: items: item 'b' is constant (value 2); it has no variance and cannot be analysed - drop it
    """
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(np.asarray(items, dtype=float))
    if items.shape[1] < min_items:
        raise ValueError(f"{name}: need at least {min_items} items, got {items.shape[1]} "
                         f"({list(items.columns)})")
    out = pd.DataFrame(index=items.index)
    for col in items.columns:
        v = pd.to_numeric(items[col], errors="coerce")
        bad = v.isna() & items[col].notna()
        if bad.any():
            raise ValueError(f"{name}: item {col!r} has non-numeric values in rows "
                             f"{masked_labels(bad, items.index)}")
        if v.notna().sum() < 3:
            raise ValueError(f"{name}: item {col!r} has fewer than 3 observed values")
        if v.nunique(dropna=True) <= 1:
            raise ValueError(f"{name}: item {col!r} is constant (value {v.dropna().iloc[0]:g}); "
                             "it has no variance and cannot be analysed - drop it")
        out[col] = v.astype(float)
    return out


# ------------------------------------------------------------------ factor extraction
def correlation(data: pd.DataFrame) -> np.ndarray:
    """Pairwise-complete Pearson correlation matrix (pairs need three joint observations).

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric items, e.g. from :func:`check_items`.

    Returns
    -------
    numpy.ndarray, shape (p, p)

    Raises
    ------
    ValueError
        If some pair of items has fewer than three joint observations.

    Examples
    --------
    >>> correlation(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0]})).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    R = data.corr(min_periods=3).to_numpy()
    if np.isnan(R).any():
        raise ValueError("some item pairs have too few joint observations for a correlation")
    return R
