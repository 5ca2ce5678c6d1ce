"""Communities as units to improve: their 0-100 item and element scores and their efficiency.

* :func:`community_scores`: 0-100 item and element scores per community, with the disclosure
  rule of :mod:`analysis.study.scoring`;
* :func:`community_efficiency`: CCR/BCC efficiency of the communities' resources against their
  element scores and performance (:func:`analysis.methods.dea.dea`), with peers and targets.

The map of what matters is in :mod:`analysis.study.ipma`, the what-if scenarios in
:mod:`analysis.study.whatif`, their building blocks in :mod:`analysis.study.importance`.

References
----------
Charnes, A., Cooper, W. W., & Rhodes, E. (1978). Measuring the efficiency of decision making
units. *European Journal of Operational Research*, 2, 429-444.
Banker, R. D., Charnes, A., & Cooper, W. W. (1984). Some models for estimating technical and
scale inefficiencies in data envelopment analysis. *Management Science*, 30, 1078-1092.
"""

from __future__ import annotations


import pandas as pd

from analysis.io.codebook import elements, outcome
from analysis.methods.dea import dea
from analysis.study.importance import rescale, weighted_construct_scores
from analysis.study.scoring import community_means




#: Community resources used as DEA inputs (columns of ``data/raw/communities.csv``).
DEA_INPUTS = ("staff", "budget_10k_yuan", "floor_area_m2", "social_orgs", "volunteers")

__all__ = ["DEA_INPUTS", "community_scores", "community_efficiency"]


def community_scores(survey: pd.DataFrame, codebook: pd.DataFrame, weights: pd.Series,
                     k: int = 5, group: str = "community_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """0-100 item and construct scores per community (communities with >= ``k`` respondents).

    Item means come from :func:`analysis.study.scoring.community_means` (the compendium's disclosure
    rule); they are rescaled with the codebook's scale limits and combined with the IPMA item
    weights, so a community's element scores sit on the same scale as the map. The elements'
    scores equal :func:`analysis.study.scoring.composite_index` with ``normalisation="scale"`` and
    these item weights; the outcome (PV) is scored the same way.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (:func:`analysis.io.survey.load_survey`).
    codebook : pandas.DataFrame
    weights : pandas.Series
        Item -> weight (:func:`outer_weights`), renormalised within each construct.
    k : int
        Disclosure threshold.
    group : str
        Column holding the community id.

    Returns
    -------
    (item_scores, construct_scores) : tuple of DataFrame
        Both indexed by community id.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> equal = pd.Series(1.0, index=cb["item"])
    >>> items, scores = community_scores(load_survey(codebook=cb), cb, equal)
    >>> items.shape, scores.columns.tolist()
    ((47, 25), ['MS', 'CS', 'OM', 'RA', 'CC', 'PV'])
    """
    cons = elements(codebook) + [outcome(codebook)]
    means = community_means(survey, codebook, k=k, group=group, constructs=cons)
    items = rescale(means, codebook)
    return items, weighted_construct_scores(items, weights, codebook)


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
    group : str
        Column of ``communities`` holding the community id.

    Returns
    -------
    DataFrame
        ``unit``, ``efficiency_crs``, ``efficiency_vrs``, ``scale_efficiency`` (CRS / VRS),
        ``efficient_crs``, ``efficient_vrs``, ``peers`` (VRS), and the VRS slacks and targets
        of every input and output; the communities are those in ``scores`` (sorted).

    Raises
    ------
    ValueError
        Input columns missing from the table, or scored communities without a row in it.

    References
    ----------
    Charnes, A., Cooper, W. W. & Rhodes, E. (1978). Measuring the efficiency of decision
    making units. *European Journal of Operational Research*, 2, 429-444.
    Banker, R. D., Charnes, A. & Cooper, W. W. (1984). Some models for estimating technical and
    scale inefficiencies in data envelopment analysis. *Management Science*, 30, 1078-1092.

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> equal = pd.Series(1.0, index=cb["item"])
    >>> _, scores = community_scores(load_survey(codebook=cb), cb, equal)
    >>> eff = community_efficiency(pd.read_csv(paths.COMMUNITIES), scores.head(10))
    >>> bool((eff["efficiency_crs"] <= eff["efficiency_vrs"] + 1e-9).all())
    True
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


# --- scenarios whose labels are true, and an IPMA with its noise ----------------------------------


