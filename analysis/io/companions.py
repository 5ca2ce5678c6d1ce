"""Tables that accompany the survey: improvement costs, the problem catalogue, the expert panel.

Each loader reads one editable file from ``data/raw/`` (or a user's own) and refuses it with
an error naming the column and the offending rows:

* :func:`load_costs` / :func:`check_costs`: the cost of one score point per element
  (``improvement_costs.csv``), used by the budget allocation
  (:mod:`analysis.methods.budget`);
* :func:`load_catalogue` / :func:`check_catalogue`: the study's problems, the items that
  measure them, improvement paths and actions (``problem_catalogue.csv``), used by
  :mod:`analysis.study.findings`;
* :func:`load_expert_panel`: the experts' AHP pairwise matrices (``expert_ahp.csv``), used
  by :mod:`analysis.methods.weighting`.
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

    Parameters
    ----------
    path : str or os.PathLike, optional
        CSV file with the columns ``construct`` and ``cost_per_point_10k_yuan`` (others are
        kept); defaults to the shipped synthetic table.

    Returns
    -------
    pandas.DataFrame
        The table as read, one row per element.

    Raises
    ------
    ValueError
        See :func:`check_costs`.

    Examples
    --------
    >>> costs = load_costs()
    >>> costs[["construct", "cost_per_point_10k_yuan"]].to_dict("records")[0]
    {'construct': 'MS', 'cost_per_point_10k_yuan': 40}
    """
    path = paths.DATA_RAW / "improvement_costs.csv" if path is None else path
    costs = pd.read_csv(path)
    check_costs(costs)
    return costs


def check_costs(costs: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless every cost per point is a finite number above zero.

    Parameters
    ----------
    costs : pandas.DataFrame
        Cost table with ``construct`` and ``cost_per_point_10k_yuan``.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        Naming the missing column, the offending constructs (non-numeric, non-finite or
        non-positive cost) or the duplicated constructs.

    Examples
    --------
    >>> check_costs(pd.DataFrame({"construct": ["MS", "CS"], "cost_per_point_10k_yuan": [40, 0]}))
    Traceback (most recent call last):
    ...
    ValueError: column 'cost_per_point_10k_yuan' must be positive and finite; offending rows (construct): ['CS']
    """
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
    """Read and validate the problem catalogue (``data/raw/problem_catalogue.csv``).

    With a ``codebook``, every item of every element must be mapped to exactly one problem of
    its own construct, so that each weak item leads to an action.

    Parameters
    ----------
    path : str or os.PathLike, optional
        CSV file with the columns :data:`CATALOGUE_COLUMNS`; defaults to the shipped catalogue.
    codebook : pandas.DataFrame, optional
        From :func:`analysis.io.codebook.load_codebook`; enables the item-mapping checks.

    Returns
    -------
    pandas.DataFrame
        One row per problem, all columns as strings.

    Raises
    ------
    ValueError
        See :func:`check_catalogue`.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> cat = load_catalogue(codebook=load_codebook())
    >>> cat.loc[0, ["problem_id", "construct", "items"]].tolist()
    ['MS-1', 'MS', 'MS2']
    """
    path = paths.DATA_RAW / "problem_catalogue.csv" if path is None else path
    cat = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    check_catalogue(cat, codebook, source=str(path))
    return cat


def check_catalogue(cat: pd.DataFrame, codebook: pd.DataFrame | None = None,
                    source: str = "catalogue") -> None:
    """Raise ``ValueError`` naming the column and rows of any defect of a problem catalogue.

    Parameters
    ----------
    cat : pandas.DataFrame
        The catalogue (columns :data:`CATALOGUE_COLUMNS`).
    codebook : pandas.DataFrame, optional
        With it, each problem must belong to an element and name items of that element, and
        every item of every element must be mapped to exactly one problem.
    source : str
        Name of the catalogue in error messages (usually its path).

    Returns
    -------
    None

    Raises
    ------
    ValueError
        Missing columns, empty cells, duplicate ``problem_id``, a non-element construct, an item
        of another construct, an item mapped twice or an item mapped to no problem.

    Examples
    --------
    >>> cat = pd.DataFrame({c: ["x"] for c in CATALOGUE_COLUMNS})
    >>> check_catalogue(pd.concat([cat, cat]), source="my catalogue")
    Traceback (most recent call last):
    ...
    ValueError: my catalogue: duplicate problem_id ['x']
    """
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
    """Split a ``;``-separated cell (e.g. the catalogue's ``items``) into its stripped entries.

    Parameters
    ----------
    text : str
        The cell; empty entries are dropped.

    Returns
    -------
    list of str

    Examples
    --------
    >>> split_list("MS1; MS2;")
    ['MS1', 'MS2']
    """
    return [t.strip() for t in str(text).split(";") if t.strip()]


def load_expert_panel(path=None) -> dict[str, pd.DataFrame]:
    """Read the expert panel's pairwise matrices (one 5x5 block per expert).

    The file has columns ``expert_id, row`` and one column per element; each expert's
    rows form a square matrix whose row labels equal the element columns.

    Parameters
    ----------
    path : str or os.PathLike, optional
        CSV file; defaults to ``data/raw/expert_ahp.csv`` (synthetic).

    Returns
    -------
    dict of str to pandas.DataFrame
        Expert id -> judgement matrix (rows and columns the elements, in the file's column
        order), checked with :func:`analysis.io.checks.check_pairwise`.

    Raises
    ------
    ValueError
        Naming the file and the expert for a malformed, non-positive or non-reciprocal
        matrix.

    Examples
    --------
    >>> panel = load_expert_panel()
    >>> len(panel), panel["E01"].shape
    (12, (5, 5))
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
