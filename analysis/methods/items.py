"""Measurement: item analysis, reliability, exploratory and confirmatory factor analysis.

Conventions follow R's ``psych`` (Revelle) so that results can be checked against it:
pairwise-complete covariances and correlations, sample SDs (ddof 1), psych's default
skew/kurtosis (type 3), minres factoring and oblimin rotation by gradient projection
(GPArotation, no Kaiser normalisation). Items are expected already reverse-coded (as
:func:`analysis.io.survey.load_survey` returns them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.io.checks import masked_labels

MIN_ITEMS = 3  # a reflective construct needs three indicators to be identified


# ------------------------------------------------------------------------- checks


def check_items(items: pd.DataFrame, *, min_items: int = 2, name: str = "items") -> pd.DataFrame:
    """Numeric DataFrame with enough items and no constant item (clear errors otherwise)."""
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
    R = data.corr(min_periods=3).to_numpy()
    if np.isnan(R).any():
        raise ValueError("some item pairs have too few joint observations for a correlation")
    return R
