"""Improvement paths for the study: what to improve first, where, and how.

The methods live in small modules, each with its own reference:

* :mod:`analysis.ipma` — importance-performance map and what-if scenarios from the fitted SEM;
* :mod:`analysis.budget` — budget allocation under diminishing returns, the gain frontier;
* :mod:`analysis.dea` — CCR/BCC efficiency with slacks, peers and targets;
* :mod:`analysis.findings` — per-community paths and the findings table from the catalogue.

This module holds only the study's choices that tie them together: which community resources
are DEA inputs, which scores are its outputs, and how community scores are formed.
"""

from __future__ import annotations

import pandas as pd

from .budget import allocate, frontier, load_costs  # noqa: F401  (re-exported API)
from .codebook import construct_items, elements, outcome
from .dea import dea
from .findings import community_paths, findings_table, load_catalogue  # noqa: F401
from .ipma import (bootstrap_replicates, ipma, outer_weights, standard_scenarios,  # noqa: F401
                   total_effects, whatif)
from .performance import construct_scores, rescale
from .scoring import community_means

#: Community resources used as DEA inputs (columns of ``data/raw/communities.csv``).
DEA_INPUTS = ("staff", "budget_10k_yuan", "floor_area_m2", "social_orgs", "volunteers")

__all__ = ["DEA_INPUTS", "community_scores", "community_efficiency", "ipma", "whatif",
           "standard_scenarios", "allocate", "frontier", "load_costs", "dea",
           "community_paths", "findings_table", "load_catalogue", "total_effects",
           "outer_weights", "bootstrap_replicates"]


def community_scores(survey: pd.DataFrame, codebook: pd.DataFrame, weights: pd.Series,
                     k: int = 5, group: str = "community_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """0-100 item and construct scores per community (communities with >= ``k`` respondents).

    Item means come from :func:`analysis.scoring.community_means` (the compendium's disclosure
    rule); they are rescaled with the codebook's scale limits and combined with the IPMA item
    weights, so a community's element scores sit on the same scale as the map. The elements'
    scores equal :func:`analysis.scoring.composite_index` with ``normalisation="scale"`` and
    these item weights; the outcome (PV) is scored the same way.

    Returns
    -------
    (item_scores, construct_scores) : tuple of DataFrame
        Both indexed by community id.
    """
    cons = elements(codebook) + [outcome(codebook)]
    means = community_means(survey, codebook, k=k, group=group, constructs=cons)
    items = rescale(means, codebook)
    return items, construct_scores(items, weights, codebook)


def community_efficiency(communities: pd.DataFrame, scores: pd.DataFrame,
                         inputs=DEA_INPUTS, group: str = "community_id") -> pd.DataFrame:
    """Input-oriented CCR and BCC efficiency of communities, side by side.

    Parameters
    ----------
    communities : DataFrame
        The community table (one row per community) with ``group`` and the ``inputs``.
    scores : DataFrame
        0-100 element and performance scores indexed by community id: the outputs.
    inputs : sequence of str
        Input columns.

    Returns
    -------
    DataFrame
        ``unit``, ``efficiency_crs``, ``efficiency_vrs``, ``scale_efficiency`` (CRS / VRS),
        ``efficient_crs``, ``efficient_vrs``, ``peers`` (VRS), and the VRS slacks and targets
        of every input and output; the communities are those in ``scores`` (sorted).
    """
    missing = [c for c in [group, *inputs] if c not in communities.columns]
    if missing:
        raise ValueError(f"community table lacks column(s) {missing}")
    table = communities.set_index(group)
    absent = [c for c in scores.index if c not in table.index]
    if absent:
        raise ValueError(f"communities {absent[:5]} have scores but no row in the community table")
    ids = sorted(scores.index)
    x = table.loc[ids, list(inputs)]
    y = scores.loc[ids]
    crs = dea(x, y, rts="crs")
    vrs = dea(x, y, rts="vrs")
    out = pd.DataFrame({"unit": ids, "efficiency_crs": crs["efficiency"].to_numpy(),
                        "efficiency_vrs": vrs["efficiency"].to_numpy()})
    out["scale_efficiency"] = out["efficiency_crs"] / out["efficiency_vrs"]
    out["efficient_crs"] = crs["efficient"].to_numpy()
    out["efficient_vrs"] = vrs["efficient"].to_numpy()
    rest = vrs.drop(columns=["unit", "efficiency", "efficient"])
    return pd.concat([out, rest.reset_index(drop=True)], axis=1)
