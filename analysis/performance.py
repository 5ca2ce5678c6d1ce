"""Performance on the 0-100 scale: item means and weighted construct scores by group.

The importance-performance map and the per-community paths both need "how well is this item /
element doing" on a common scale. Items are rescaled with the theoretical scale limits from the
codebook, ``100 (x - min) / (max - min)`` (Ringle & Sarstedt 2016), so 0 is the worst and 100
the best possible answer whatever the number of scale points.

This is a deliberately small stand-in for :mod:`analysis.scoring` (community composite index);
it uses the same IPMA outer weights as :func:`analysis.ipma.ipma` so that the map and the
community table agree.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .codebook import construct_items


def rescale(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Item answers rescaled to 0-100 with the codebook's ``scale_min`` / ``scale_max``.

    Returns a frame with one column per codebook item found in ``data`` (NaN stays NaN).

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1"], "scale_min": [1], "scale_max": [5]})
    >>> rescale(pd.DataFrame({"A1": [1, 3, 5]}), cb)["A1"].tolist()
    [0.0, 50.0, 100.0]
    """
    items = [i for i in codebook["item"] if i in data.columns]
    if not items:
        raise ValueError("none of the codebook's items is a column of the data")
    lim = codebook.set_index("item").loc[items, ["scale_min", "scale_max"]].astype(float)
    block = data[items].astype(float)
    out = 100.0 * (block - lim["scale_min"]) / (lim["scale_max"] - lim["scale_min"])
    bad = (out < -1e-9) | (out > 100 + 1e-9)
    if bad.to_numpy().any():
        col = bad.any().idxmax()
        rows = list(out.index[bad[col]][:5])
        raise ValueError(f"column {col!r} has answers outside the codebook's scale, rows {rows}")
    return out


def item_means(data: pd.DataFrame, codebook: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Mean 0-100 item scores, overall (one row, index ``"all"``) or per level of ``by``."""
    scaled = rescale(data, codebook)
    if by is None:
        return scaled.mean().to_frame("all").T
    if by not in data.columns:
        raise ValueError(f"grouping column {by!r} is not in the data")
    return scaled.groupby(data[by], sort=True).mean()


def construct_scores(item_scores: pd.DataFrame, weights: Mapping[str, Mapping[str, float]]
                     | pd.Series | None, codebook: pd.DataFrame) -> pd.DataFrame:
    """Weighted 0-100 construct scores from 0-100 item scores (one row per unit).

    ``weights`` maps item -> weight (a Series indexed by item) and is renormalised within each
    construct over the items present (a missing item does not drag the score to 0); ``None``
    means equal weights.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "construct": ["A", "A"]})
    >>> construct_scores(pd.DataFrame({"A1": [40.0], "A2": [80.0]}), None, cb)["A"].tolist()
    [60.0]
    """
    out = {}
    for construct, items in construct_items(codebook).items():
        items = [i for i in items if i in item_scores.columns]
        if not items:
            continue
        w = pd.Series(1.0, index=items) if weights is None else pd.Series(weights).reindex(items)
        if w.isna().any():
            raise ValueError(f"no weight for item(s) {list(w.index[w.isna()])} of {construct}")
        block = item_scores[items]
        ww = block.notna().mul(w, axis=1)
        out[construct] = (block.fillna(0) * w).sum(axis=1) / ww.sum(axis=1).replace(0, np.nan)
    return pd.DataFrame(out, index=item_scores.index)
