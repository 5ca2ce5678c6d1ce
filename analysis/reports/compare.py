"""The comparisons a report states, computed from a run's tables (nothing is refitted).

* :func:`element_table`: a community's element scores beside the mean of its type and the mean
  of its efficient (DEA) peers, with intervals when the run has the element scores' sampling
  error;
* :func:`type_rank_interval`: where a community stands among the communities of its type;
* :func:`furthest_below_type`: the element on which it most falls short of its type;
* :func:`need_order`: the overview's order, communities most clearly in need first.

References
----------
Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations: statistical
issues in comparisons of institutional performance. *Journal of the Royal Statistical Society
A*, 159(3), 385-443 (ranks read as intervals; institutions compared by their intervals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.companions import split_list
from analysis.reports.data import Run

__all__ = ["LEVEL", "Z", "peers_of", "element_table", "type_rank_interval",
           "furthest_below_type", "need_order"]

#: Level of every interval the reports show (the notebooks' intervals are 95%).
LEVEL = 0.95
#: Normal quantile of :data:`LEVEL` (two-sided): intervals score +- Z * SE.
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))


def peers_of(run: Run, community: str) -> list:
    """The efficient peers of ``community`` (DEA), itself excluded; empty if it is efficient.

    Parameters
    ----------
    run : Run
    community : str

    Returns
    -------
    list of str
        Peers that have scores (published communities only).

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> peers_of(load_run(paths.ROOT / "data" / "processed"), "C01")
    ['C03', 'C18', 'C19']
    """
    if run.peers is None or community not in run.peers.index:
        return []
    return [p for p in split_list(run.peers[community]) if p != community and p in run.scores.index]


def element_table(run: Run, community: str) -> pd.DataFrame:
    """A community's element scores against its type and its efficient peers.

    Parameters
    ----------
    run : Run
    community : str

    Returns
    -------
    pandas.DataFrame
        One row per element (codebook order): ``element``, ``score`` (``community-scores``),
        ``type_mean`` (the plain mean of the element over the scored communities of its type;
        over all communities when the survey has no types), ``peer_mean`` (mean over its DEA
        peers; NaN without peers), ``gap_type`` and ``gap_peer`` (score minus each), and when
        the run has the sampling error of the element scores ``se``, ``lower`` and ``upper``
        (score -+ :data:`Z` SE) and ``above_type`` / ``below_benchmark`` (the difference from
        the type mean, or from the higher of the two benchmarks, exceeds ``Z`` SE); without it
        those columns are NaN (and the flags False).

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> t = element_table(load_run(paths.ROOT / "data" / "processed"), "C01")
    >>> list(t["element"]), bool(t["peer_mean"].notna().all())
    (['MS', 'CS', 'OM', 'RA', 'CC'], True)
    """
    els = run.elements
    scores = run.scores[els].astype(float)
    ctype = run.scores["community_type"].astype(str)
    own = ctype[community]
    type_mean = scores[ctype == own].mean()
    peers = peers_of(run, community)
    peer_mean = scores.loc[peers].mean() if peers else pd.Series(np.nan, index=els)
    out = pd.DataFrame({"element": els, "score": scores.loc[community].to_numpy(),
                        "type_mean": type_mean.to_numpy(), "peer_mean": peer_mean.to_numpy()})
    out["gap_type"] = out["score"] - out["type_mean"]
    out["gap_peer"] = out["score"] - out["peer_mean"]
    if run.element_se is not None:
        se = run.element_se.loc[community, els].astype(float).to_numpy()
    else:
        se = np.full(len(els), np.nan)
    out["se"] = se
    out["lower"] = out["score"] - Z * out["se"]
    out["upper"] = out["score"] + Z * out["se"]
    bench = np.fmax(out["type_mean"], out["peer_mean"])
    out["above_type"] = out["gap_type"] > Z * out["se"]
    out["below_benchmark"] = (bench - out["score"]) > Z * out["se"]
    return out


def type_rank_interval(run: Run, community: str) -> tuple[int, int, int]:
    """Where a community stands among its type: the ranks its 95% interval leaves open.

    The lower end is one more than the number of communities of its type whose interval of
    the (shrunken) score lies wholly above its own, the upper end the number of the type's
    communities minus those wholly below. Two intervals that do not overlap differ beyond the
    survey's sampling error (conservatively: non-overlap of two 95% intervals is a stricter test
    than a 5% test of the difference), so the range holds every rank the data cannot rule out.

    Parameters
    ----------
    run : Run
    community : str

    Returns
    -------
    (lower, upper, n) : tuple of int
        Best and worst rank left open, and the number of communities of the type.

    References
    ----------
    Goldstein & Spiegelhalter (1996), section 4 (overlap of intervals as a guide to
    comparisons between institutions).

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> type_rank_interval(load_run(paths.ROOT / "data" / "processed"), "C21")
    (1, 7, 12)
    """
    r = run.ranks
    same = r[r["community_type"].astype(str) == str(r.loc[community, "community_type"])]
    lo, hi = float(r.loc[community, "score_eb_lower"]), float(r.loc[community, "score_eb_upper"])
    above = int((same["score_eb_lower"] > hi).sum())
    below = int((same["score_eb_upper"] < lo).sum())
    return above + 1, len(same) - below, len(same)


def furthest_below_type(run: Run, community: str) -> tuple[str, float] | None:
    """The element on which a community is furthest below its type's mean, and by how much.

    Parameters
    ----------
    run : Run
    community : str

    Returns
    -------
    (element, gap) or None
        ``gap`` is negative (score minus type mean); ``None`` when the community is at or
        above its type's mean on every element.

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> furthest_below_type(load_run(paths.ROOT / "data" / "processed"), "C21") is None
    True
    """
    t = element_table(run, community)
    i = int(t["gap_type"].to_numpy().argmin())
    gap = float(t["gap_type"].iloc[i])
    return (t["element"].iloc[i], gap) if gap < 0 else None


def need_order(run: Run) -> list:
    """Community ids in the overview's order: the most clearly in need first.

    A community is the more clearly in need the lower the best rank its interval allows
    (``rank_lower``: even at its best it stands near the bottom); ties are broken by the worst
    rank allowed (``rank_upper``), then by the shrunken score (lower first), then by id.

    Parameters
    ----------
    run : Run

    Returns
    -------
    list of str

    Examples
    --------
    >>> from analysis.io import paths
    >>> from analysis.reports.data import load_run
    >>> order = need_order(load_run(paths.ROOT / "data" / "processed"))
    >>> order[-1]
    'C21'
    """
    r = run.ranks
    key = pd.DataFrame({"lo": -r["rank_lower"].astype(float), "hi": -r["rank_upper"].astype(float),
                        "eb": r["score_eb"].astype(float), "id": r.index.astype(str)},
                       index=r.index)
    return list(key.sort_values(["lo", "hi", "eb", "id"], kind="stable").index)
