"""From diagnosis to action: per-community improvement paths and the findings table.

The study's problem catalogue (``data/raw/problem_catalogue.csv``, bilingual) lists for each
element the problems the study names, the questionnaire items that measure each problem, the
improvement path the study proposes and a concrete action. Recommendations are looked up in
that table, never written in code, so a user can edit the wording or map their own items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items, elements
from analysis.io.companions import split_list


def problem_of_item(cat: pd.DataFrame) -> pd.Series:
    """Item -> problem_id.

    Parameters
    ----------
    cat : pandas.DataFrame
        The problem catalogue (:func:`analysis.io.companions.load_catalogue`), whose ``items``
        column lists each problem's items separated by ``;``.

    Returns
    -------
    pandas.Series
        Indexed by item, name ``"problem_id"``.

    Examples
    --------
    >>> cat = pd.DataFrame({"problem_id": ["P1", "P2"], "items": ["A1; A2", "B1"]})
    >>> problem_of_item(cat).to_dict()
    {'A1': 'P1', 'A2': 'P1', 'B1': 'P2'}
    """
    return pd.Series({i: pid for pid, items in zip(cat["problem_id"], cat["items"])
                      for i in split_list(items)}, name="problem_id")


def community_paths(item_scores: pd.DataFrame, element_scores: pd.DataFrame,
                    community_type: pd.Series, importance: pd.Series,
                    catalogue: pd.DataFrame, codebook: pd.DataFrame,
                    efficiency: pd.DataFrame | None = None, n_items: int = 2,
                    score_se: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """The improvement path of every community: what first, which items, which action.

    Parameters
    ----------
    item_scores, element_scores : DataFrame
        0-100 scores, one row per community (index = community id); items and elements as
        columns (:mod:`analysis.study.improvement`).
    community_type : Series
        Community id -> type.
    importance : Series
        Element -> total effect on performance (the IPMA importance).
    catalogue : DataFrame
        :func:`analysis.io.companions.load_catalogue`.
    codebook : DataFrame
    efficiency : DataFrame, optional
        Output of :func:`analysis.methods.dea.dea` with ``unit`` = community id. Without it (no
        community table) the peer comparison is skipped.
    n_items : int
        Items to name behind the focus element.
    score_se : DataFrame, optional
        Standard errors of ``element_scores`` (same communities and elements), e.g. from the
        resident bootstrap :func:`analysis.study.community.score_draws`. With them a shortfall
        counts only when it exceeds ``z`` standard errors
        (:func:`analysis.study.community.significant_shortfall`), the focus is chosen among
        such elements, and a community without one gets no focus problem (empty ``focus``,
        ``problem_id`` and action columns).
    level : float
        Level of the shortfall test (two-sided normal quantile).

    Returns
    -------
    DataFrame
        One row per community (sorted by id): ``community_id``, ``community_type``,
        ``efficiency`` and ``peers`` (if DEA given), ``weakest_vs_type`` and ``gap_vs_type``
        (score minus type mean), ``weakest_vs_peers`` and ``gap_vs_peers`` (score minus the
        mean of its DEA peers; empty for efficient units), ``focus`` (element with the largest
        importance-weighted shortfall against the higher of the two benchmarks), ``focus_score``,
        ``benchmark``, ``shortfall`` (False when the community is at or above both benchmarks
        on every element: its focus is then only its relatively weakest point), ``items`` (the
        focus element's items furthest below the type's item means, or its single lowest
        item), ``problem_id``, ``path_en``, ``path_zh``, ``action_en``, ``action_zh``.

    Notes
    -----
    The focus maximises ``importance_j * (benchmark_j - score_j)``: a shortfall on an element
    that matters more for performance comes first. The peer benchmark is the plain mean of the
    peers' scores, the profile a community could emulate among units that convert similar
    resources into governance most efficiently.

    Examples
    --------
    >>> import warnings
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.companions import load_catalogue
    >>> from analysis.io.survey import load_survey
    >>> from analysis.sem import fit_sem
    >>> from analysis.study.models import chain_model
    >>> from analysis.study.importance import outer_weights, total_effects
    >>> from analysis.study.improvement import community_scores
    >>> from analysis.study.ipma import ipma
    >>> cb = load_codebook(); survey = load_survey(None, cb); cat = load_catalogue(codebook=cb)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # listwise deletion is announced with a warning
    ...     res = fit_sem(chain_model(cb), survey)
    >>> items, scores = community_scores(survey, cb, outer_weights(res))
    >>> importance = total_effects(res).loc["PV"].drop("PV")
    >>> types = survey.groupby("community_id")["community_type"].first()
    >>> paths = community_paths(items, scores, types, importance, cat, cb)
    >>> len(paths), bool(paths["focus"].isin(["MS", "CS", "OM", "RA", "CC"]).all())
    (47, True)
    """
    els = [e for e in elements(codebook) if e in element_scores.columns]
    ids = sorted(element_scores.index)
    scores = element_scores.loc[ids, els].astype(float)
    items = item_scores.loc[ids].astype(float)
    ctype = community_type.reindex(ids)
    if ctype.isna().any():
        raise ValueError(f"no community type for {list(ctype.index[ctype.isna()][:5])}")
    imp = importance.reindex(els)
    if imp.isna().any():
        raise ValueError(f"no importance for element(s) {list(imp.index[imp.isna()])}")
    type_mean = scores.groupby(ctype).transform("mean")
    type_item_mean = items.groupby(ctype).transform("mean")
    gap_type = scores - type_mean

    peer_mean = pd.DataFrame(np.nan, index=ids, columns=els)
    eff = None
    if efficiency is not None:
        eff = efficiency.set_index("unit").reindex(ids)
        if eff["efficiency"].isna().any():
            raise ValueError(f"DEA results lack communities {list(eff.index[eff['efficiency'].isna()][:5])}")
        for c in ids:
            peers = [p for p in str(eff.loc[c, "peers"]).split(";") if p and p != c]
            if peers:
                peer_mean.loc[c] = scores.loc[peers].mean()
    gap_peer = scores - peer_mean
    benchmark = np.fmax(type_mean, peer_mean)  # fmax ignores NaN peers
    priority = (benchmark - scores).mul(imp, axis=1)
    significant = None
    if score_se is not None:
        from analysis.study.community import significant_shortfall

        se = score_se.reindex(index=ids, columns=els).astype(float)
        if se.isna().any().any():
            raise ValueError("score_se lacks communities or elements of element_scores")
        significant = significant_shortfall(scores, benchmark, se, level)
        priority = priority.where(significant)

    pid_of = problem_of_item(catalogue)
    cat = catalogue.set_index("problem_id")
    items_of = construct_items(codebook)
    rows = []
    for c in ids:
        if significant is not None and not significant.loc[c].any():
            row = {"community_id": c, "community_type": ctype[c]}
            if eff is not None:
                row["efficiency"] = float(eff.loc[c, "efficiency"])
                row["peers"] = eff.loc[c, "peers"]
            gp = gap_peer.loc[c].dropna()
            row.update({"weakest_vs_type": gap_type.loc[c].idxmin(),
                        "gap_vs_type": float(gap_type.loc[c].min()),
                        "weakest_vs_peers": gp.idxmin() if len(gp) else "",
                        "gap_vs_peers": float(gp.min()) if len(gp) else np.nan,
                        "focus": "", "focus_score": np.nan, "benchmark": np.nan,
                        "shortfall": False, "items": "", "problem_id": ""})
            for col in ("problem_en", "problem_zh", "strategy_en", "strategy_zh", "path_en",
                        "path_zh", "action_en", "action_zh"):
                if col in cat.columns:
                    row[col] = ""
            rows.append(row)
            continue
        focus = priority.loc[c].idxmax()
        gaps = (items.loc[c, items_of[focus]] - type_item_mean.loc[c, items_of[focus]]
                ).sort_values(kind="stable")
        below = gaps[gaps < 0]
        chosen = list(below.index[:n_items]) if len(below) else list(gaps.index[:1])
        pids = list(dict.fromkeys(pid_of[i] for i in chosen))
        row = {"community_id": c, "community_type": ctype[c]}
        if eff is not None:
            row["efficiency"] = float(eff.loc[c, "efficiency"])
            row["peers"] = eff.loc[c, "peers"]
        gp = gap_peer.loc[c].dropna()
        row.update({
            "weakest_vs_type": gap_type.loc[c].idxmin(),
            "gap_vs_type": float(gap_type.loc[c].min()),
            "weakest_vs_peers": gp.idxmin() if len(gp) else "",
            "gap_vs_peers": float(gp.min()) if len(gp) else np.nan,
            "focus": focus,
            "focus_score": float(scores.loc[c, focus]),
            "benchmark": float(benchmark.loc[c, focus]),
            "shortfall": bool(benchmark.loc[c, focus] > scores.loc[c, focus]),
            "items": ";".join(chosen),
            "problem_id": ";".join(pids),
        })
        for col in ("problem_en", "problem_zh", "strategy_en", "strategy_zh", "path_en", "path_zh",
                    "action_en", "action_zh"):
            if col in cat.columns:
                row[col] = " | ".join(dict.fromkeys(cat.loc[p, col] for p in pids))
        rows.append(row)
    return pd.DataFrame(rows)


def findings_table(ipma_table: pd.DataFrame, paths_table: pd.DataFrame | None,
                   catalogue: pd.DataFrame) -> pd.DataFrame:
    """Map each diagnosed weakness to the study's problem catalogue and improvement paths.

    Parameters
    ----------
    ipma_table : DataFrame
        :func:`analysis.study.ipma.ipma` output (with group ``"all"`` and optionally per type).
    paths_table : DataFrame, optional
        :func:`community_paths` output.
    catalogue : DataFrame
        :func:`analysis.io.companions.load_catalogue`.

    Returns
    -------
    DataFrame
        One row per problem, most urgent first: ``problem_id``, ``construct``, ``problem_en``,
        ``problem_zh``, ``items``, ``importance`` (the total effect of its element on
        performance, city-wide: the same for every problem of an element, so the number of
        items mapped to a problem does not enter its priority), ``performance``
        (weight-averaged 0-100 performance of its items, city-wide), ``priority`` =
        importance x (100 - performance) (the gain in performance if the element rose by the
        problem's distance to 100), ``element_quadrant`` (city-wide), ``concentrate_in``
        (groups where one of its items is in the "concentrate here" quadrant),
        ``n_communities`` (communities with a shortfall whose recommended action addresses
        it; where to act, not whether), ``diagnosed`` (``concentrate_in`` is not empty: one
        of its items is a high-importance, low-performance point in some group; with a map
        from :func:`analysis.study.ipma.ipma_intervals`, whose "within noise" points
        are in no quadrant, this means beyond the sampling error, and the diagnosis can come
        out negative), then ``strategy_en``, ``strategy_zh`` (if in the catalogue), ``path_id``,
        ``path_en``, ``path_zh``, ``action_en``, ``action_zh``.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79 (the quadrants).

    Examples
    --------
    >>> import warnings
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.companions import load_catalogue
    >>> from analysis.io.survey import load_survey
    >>> from analysis.sem import fit_sem
    >>> from analysis.study.models import chain_model
    >>> from analysis.study.importance import outer_weights, total_effects
    >>> from analysis.study.improvement import community_scores
    >>> from analysis.study.ipma import ipma
    >>> cb = load_codebook(); survey = load_survey(None, cb); cat = load_catalogue(codebook=cb)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # listwise deletion is announced with a warning
    ...     res = fit_sem(chain_model(cb), survey)
    >>> items, scores = community_scores(survey, cb, outer_weights(res))
    >>> importance = total_effects(res).loc["PV"].drop("PV")
    >>> types = survey.groupby("community_id")["community_type"].first()
    >>> paths = community_paths(items, scores, types, importance, cat, cb)
    >>> table = findings_table(ipma(res, survey, cb, by="community_type"), paths, cat)
    >>> len(table) == len(cat), bool(table["priority"].is_monotonic_decreasing)
    (True, True)
    """
    items = ipma_table[ipma_table["level"] == "item"]
    city = items[items["group"] == "all"].set_index("item")
    elem = ipma_table[(ipma_table["level"] == "construct") & (ipma_table["group"] == "all")]
    elem_q = elem.set_index("construct")["quadrant"]
    rows = []
    for _, p in catalogue.iterrows():
        its = [i for i in split_list(p["items"]) if i in city.index]
        if not its:
            continue
        w = city.loc[its, "weight"]
        conc = items[items["item"].isin(its) & (items["quadrant"] == "concentrate here")]
        groups = list(dict.fromkeys(conc["group"]))
        n_comm = 0
        if paths_table is not None and len(paths_table):
            hit = paths_table["problem_id"].map(lambda s, pid=p["problem_id"]: pid in split_list(s))
            n_comm = int((hit & paths_table["shortfall"]).sum())
        imp = float(elem.set_index("construct").loc[p["construct"], "importance"])
        perf = float((city.loc[its, "performance"] * w).sum() / w.sum())
        rows.append({
            "problem_id": p["problem_id"], "construct": p["construct"],
            "problem_en": p["problem_en"], "problem_zh": p["problem_zh"], "items": ";".join(its),
            "importance": imp, "performance": perf, "priority": imp * (100 - perf),
            "element_quadrant": elem_q.get(p["construct"], ""),
            "concentrate_in": ";".join(str(g) for g in groups),
            "n_communities": n_comm, "diagnosed": bool(groups),
            **{c: p[c] for c in ("strategy_en", "strategy_zh") if c in catalogue.columns},
            "path_id": p["path_id"], "path_en": p["path_en"], "path_zh": p["path_zh"],
            "action_en": p["action_en"], "action_zh": p["action_zh"],
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["priority", "problem_id"], ascending=[False, True], ignore_index=True)


def rekey_catalogue(catalogue: pd.DataFrame, codebook: pd.DataFrame,
                    reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Key a problem catalogue to a codebook by construct and dimension, not by item id.

    A catalogue names the items of the questionnaire it was written for. For another
    questionnaire with the same constructs, each of the codebook's element items is assigned
    to the problem of its construct whose items (in ``reference``, the catalogue's own
    codebook) share its ``dimension_en``; an item whose dimension no problem covers goes to
    its construct's first problem. Rows whose items all exist in ``codebook`` already fit and
    are kept as they are. The column ``matched_by`` records how each problem got its items
    (``item``, ``dimension`` or ``construct``).

    Parameters
    ----------
    catalogue : DataFrame
        ``problem_id construct items ...`` (:func:`analysis.io.companions.load_catalogue`
        without a codebook check).
    codebook : DataFrame
        The questionnaire the catalogue is applied to.
    reference : DataFrame, optional
        The codebook the catalogue was written for (default: the compendium's).

    Returns
    -------
    DataFrame
        The catalogue restricted to the codebook's elements, problems without items dropped.

    Raises
    ------
    ValueError
        When no construct of the catalogue is an element of ``codebook``.

    References
    ----------
    Nardo, M. et al. (2008). *Handbook on Constructing Composite Indicators*. OECD/JRC
    (indicators mapped to the dimensions of the theoretical framework, step 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.companions import load_catalogue
    >>> cb = load_codebook()
    >>> own = cb[cb["item"] != "MS4"].copy()          # a questionnaire without MS4
    >>> cat = rekey_catalogue(load_catalogue(), own)
    >>> cat.set_index("problem_id").loc["MS-3", ["items", "matched_by"]].tolist()
    ['MS1', 'item']
    """
    from analysis.io.codebook import load_codebook

    reference = load_codebook() if reference is None else reference
    items_of = construct_items(codebook)
    els = [c for c in elements(codebook)]
    cat = catalogue[catalogue["construct"].isin(els)].copy()
    if cat.empty:
        raise ValueError("the problem catalogue names none of the codebook's elements "
                         f"({', '.join(els)}); give your own catalogue beside the survey")
    dim_ref = reference.set_index("item")["dimension_en"].to_dict() if "dimension_en" in reference else {}
    dim_own = codebook.set_index("item")["dimension_en"].to_dict() if "dimension_en" in codebook else {}
    assigned: dict[str, list[str]] = {pid: [] for pid in cat["problem_id"]}
    how: dict[str, str] = {}
    for c in els:
        rows = cat[cat["construct"] == c]
        if rows.empty:
            continue
        taken = set()
        for pid, items in zip(rows["problem_id"], rows["items"]):  # ids that exist keep their problem
            for it in split_list(items):
                if it in items_of[c] and it not in taken:
                    assigned[pid].append(it)
                    taken.add(it)
                    how.setdefault(pid, "item")
        for it in items_of[c]:
            if it in taken:
                continue
            dim = str(dim_own.get(it, "")).strip().lower()
            match = [pid for pid, items in zip(rows["problem_id"], rows["items"])
                     if dim and any(str(dim_ref.get(r, "")).strip().lower() == dim for r in split_list(items))]
            pid = match[0] if match else rows["problem_id"].iloc[0]
            assigned[pid].append(it)
            taken.add(it)
            how[pid] = "dimension" if match and how.get(pid) != "construct" else "construct"
    cat["items"] = cat["problem_id"].map(lambda p: ";".join(assigned[p]))
    cat["matched_by"] = cat["problem_id"].map(lambda p: how.get(p, ""))
    return cat[cat["items"] != ""].reset_index(drop=True)
