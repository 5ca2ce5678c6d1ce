"""Budget allocation across governance elements under diminishing returns.

Spending ``x_j`` (10k yuan) on element ``j`` raises its 0-100 score by

    d_j(x_j) = h_j * (1 - exp(-x_j / (c_j * h_j))),

where ``c_j`` is the cost of one score point at the margin when nothing has been spent yet and
``h_j = ceiling - current score`` is the headroom to the scale maximum: the first points are
bought at ``c_j`` each, every further point is dearer, and the score can never pass the
ceiling. The predicted performance gain is ``sum_j a_j d_j(x_j)`` with ``a_j`` the element's
total effect on performance (its IPMA importance). The objective is concave and separable, so
the optimum is unique and satisfies the KKT conditions

    a_j / c_j * exp(-x_j / (c_j h_j)) = mu   if x_j > 0,    a_j / c_j <= mu   if x_j = 0,

("equalise the marginal gain per yuan"), which the tests use as an independent check of the
SLSQP solution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths
from analysis.io.checks import check_pairwise
from analysis.io.codebook import construct_items, elements

COST_COLUMNS = ("construct", "cost_per_point_10k_yuan")


def load_costs(path=None) -> pd.DataFrame:
    """Read the editable cost table (``data/raw/improvement_costs.csv``) and validate it.

    Examples
    --------
    >>> costs = load_costs()  # doctest: +SKIP
    """
    path = paths.DATA_RAW / "improvement_costs.csv" if path is None else path
    costs = pd.read_csv(path)
    check_costs(costs)
    return costs


def check_costs(costs: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless every cost per point is a finite number above zero."""
    missing = [c for c in COST_COLUMNS if c not in costs.columns]
    if missing:
        raise ValueError(f"cost table lacks column(s) {missing}")
    v = pd.to_numeric(costs["cost_per_point_10k_yuan"], errors="coerce")
    bad = v.isna() | ~np.isfinite(v) | (v <= 0)
    if bad.any():
        rows = costs.loc[bad, "construct"].tolist()[:5]
        raise ValueError("column 'cost_per_point_10k_yuan' must be positive and finite; "
                         f"offending rows (construct): {rows}")
    if costs["construct"].duplicated().any():
        raise ValueError(f"duplicate constructs in cost table: "
                         f"{costs.loc[costs['construct'].duplicated(), 'construct'].tolist()}")

CATALOGUE_COLUMNS = ("problem_id", "construct", "problem_en", "problem_zh", "items", "path_id",
                     "path_en", "path_zh", "action_en", "action_zh")


def load_catalogue(path=None, codebook: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate the problem catalogue.

    With a ``codebook``, every item of every element must be mapped to exactly one problem of
    its own construct, so that each weak item leads to an action.

    Examples
    --------
    >>> cat = load_catalogue()  # doctest: +SKIP
    """
    path = paths.DATA_RAW / "problem_catalogue.csv" if path is None else path
    cat = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    check_catalogue(cat, codebook, source=str(path))
    return cat


def check_catalogue(cat: pd.DataFrame, codebook: pd.DataFrame | None = None,
                    source: str = "catalogue") -> None:
    """Raise ``ValueError`` naming the column and rows of any defect."""
    missing = [c for c in CATALOGUE_COLUMNS if c not in cat.columns]
    if missing:
        raise ValueError(f"{source}: column(s) {missing} missing")
    for col in CATALOGUE_COLUMNS:
        empty = cat[col].astype(str).str.strip() == ""
        if empty.any():
            raise ValueError(f"{source}: column {col!r} is empty in rows {list(cat.index[empty][:5])}")
    dup = cat["problem_id"].duplicated()
    if dup.any():
        raise ValueError(f"{source}: duplicate problem_id {cat.loc[dup, 'problem_id'].tolist()}")
    if codebook is None:
        return
    items_of = construct_items(codebook)
    unknown = ~cat["construct"].isin(elements(codebook))
    if unknown.any():
        raise ValueError(f"{source}: column 'construct' names non-elements in rows "
                         f"{list(cat.index[unknown][:5])}: {cat.loc[unknown, 'construct'].tolist()[:5]}")
    seen: dict[str, str] = {}
    for idx, (pid, c, items) in enumerate(zip(cat["problem_id"], cat["construct"], cat["items"])):
        for item in split_list(items):
            if item not in items_of[c]:
                raise ValueError(f"{source}: column 'items' of row {idx} ({pid}) names {item!r}, "
                                 f"not an item of {c}")
            if item in seen:
                raise ValueError(f"{source}: item {item!r} is mapped to both {seen[item]} and {pid}")
            seen[item] = pid
    unmapped = [i for c in elements(codebook) for i in items_of[c] if i not in seen]
    if unmapped:
        raise ValueError(f"{source}: item(s) {unmapped} are not mapped to any problem")


def split_list(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(";") if t.strip()]


def load_expert_panel(path=None) -> dict[str, pd.DataFrame]:
    """Read the expert panel's pairwise matrices (one 5x5 block per expert).

    The file has columns ``expert_id, row`` and one column per element; each expert's
    rows form a square matrix whose row labels equal the element columns.

    Returns
    -------
    dict mapping expert_id to a DataFrame (rows and columns the elements).

    Raises
    ------
    ValueError
        Naming the file and the expert for a malformed, non-positive or non-reciprocal
        matrix.
    """
    path = Path(path) if path is not None else paths.EXPERT_AHP
    raw = pd.read_csv(path)
    for col in ("expert_id", "row"):
        if col not in raw.columns:
            raise ValueError(f"{path.name}: missing column {col!r}")
    elements = [c for c in raw.columns if c not in ("expert_id", "row")]
    panel = {}
    for expert, block in raw.groupby("expert_id", sort=False):
        m = block.set_index("row")[elements].astype(float)
        if sorted(m.index) != sorted(elements) or m.index.duplicated().any():
            raise ValueError(f"{path.name}: expert {expert}: rows {list(m.index)} do not "
                             f"match the element columns {elements}")
        m = m.loc[elements]
        m.index.name = None
        check_pairwise(m, name=f"{path.name}: expert {expert}")
        panel[str(expert)] = m
    if not panel:
        raise ValueError(f"{path.name}: no expert matrices found")
    return panel
