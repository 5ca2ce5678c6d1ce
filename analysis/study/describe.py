"""Describing a survey before analysing it: sample, item distributions, missingness."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sample_by_type(survey: pd.DataFrame, by: str = "community_type") -> pd.DataFrame:
    """Communities and respondents per community type (or any grouping column).

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level data with ``community_id`` and the column ``by``.
    by : str
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per level of ``by`` and a last row ``"all"``: ``communities``,
        ``respondents`` and the ``median_size``, ``min_size`` and ``max_size`` of the
        communities (respondents per community), all int.

    Examples
    --------
    >>> from analysis.io.survey import load_survey
    >>> t = sample_by_type(load_survey()).set_index("community_type")
    >>> int(t.at["all", "communities"]), int(t.at["all", "respondents"]) > 1000
    (48, True)
    """
    sizes = survey.groupby([by, "community_id"]).size()
    g = sizes.groupby(level=0)
    out = pd.DataFrame({"communities": g.size(), "respondents": g.sum(),
                        "median_size": g.median(), "min_size": g.min(), "max_size": g.max()})
    out.loc["all"] = [sizes.size, sizes.sum(), sizes.median(), sizes.min(), sizes.max()]
    return out.astype(int).rename_axis(by).reset_index()


def item_distribution(survey: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Share of answers in each scale category per item (missing answers excluded).

    Items are as analysed, i.e. after reverse coding.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers (:func:`analysis.io.survey.load_survey`).
    codebook : pandas.DataFrame
        Gives the items, their constructs and the scale range.

    Returns
    -------
    pandas.DataFrame
        A wide table: one row per item (``item``, ``construct``), one column per category
        (``"1"`` ... ``"5"``, shares summing to 1), plus ``n`` (answers) and ``mean``.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> d = item_distribution(load_survey(codebook=cb), cb)
    >>> list(d.columns)
    ['item', 'construct', '1', '2', '3', '4', '5', 'n', 'mean']
    >>> bool(np.allclose(d[["1", "2", "3", "4", "5"]].sum(axis=1), 1))
    True
    """
    lo, hi = int(codebook["scale_min"].min()), int(codebook["scale_max"].max())
    items = codebook["item"].tolist()
    counts = {it: survey[it].value_counts().reindex(range(lo, hi + 1), fill_value=0)
              for it in items}
    out = pd.DataFrame(counts).T
    n = out.sum(axis=1)
    out = out.div(n, axis=0)
    out.columns = [str(c) for c in out.columns]
    out.insert(0, "construct", codebook.set_index("item").loc[items, "construct"])
    out["n"] = n.astype(int)
    out["mean"] = survey[items].mean()
    return out.rename_axis("item").reset_index()


def missingness(survey: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Share of missing answers per item, overall and by community type.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers; ``community_type`` is used when present.
    codebook : pandas.DataFrame
        Gives the items.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``all`` and one column per community type (shares in [0, 1]).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> m = missingness(load_survey(codebook=cb), cb)
    >>> m.columns[:2].tolist(), bool(m["all"].between(0, 0.05).all())
    (['item', 'all'], True)
    """
    items = codebook["item"].tolist()
    miss = survey[items].isna()
    out = miss.groupby(survey["community_type"]).mean().T if "community_type" in survey else None
    overall = miss.mean().rename("all")
    res = pd.concat([overall, out], axis=1) if out is not None else overall.to_frame()
    return res.rename_axis("item").reset_index()


def missing_patterns(survey: pd.DataFrame, codebook: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The most frequent missingness patterns (which items are missing together).

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level answers.
    codebook : pandas.DataFrame
        Gives the items.
    top : int
        Number of patterns to keep.

    Returns
    -------
    pandas.DataFrame
        ``pattern`` (the missing items, ``"(complete)"`` for none), ``respondents``,
        ``share`` and ``n_patterns`` (the number of distinct patterns), most frequent first.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> from analysis.io.survey import load_survey
    >>> cb = load_codebook()
    >>> missing_patterns(load_survey(codebook=cb), cb, top=1)["pattern"].tolist()
    ['(complete)']
    """
    items = codebook["item"].tolist()
    miss = survey[items].isna()
    labels = miss.apply(lambda r: ", ".join(np.array(items)[r.to_numpy()]) or "(complete)", axis=1)
    counts = labels.value_counts()
    out = pd.DataFrame({"pattern": counts.index, "respondents": counts.to_numpy()})
    out["share"] = out["respondents"] / len(survey)
    out = out.sort_values(["respondents", "pattern"], ascending=[False, True], kind="mergesort")
    return out.head(top).reset_index(drop=True).assign(
        n_patterns=counts.size)


def respondents_per_community(survey: pd.DataFrame, by: str = "community_type") -> pd.DataFrame:
    """Respondents per community with its type.

    Parameters
    ----------
    survey : pandas.DataFrame
        Respondent-level data with ``community_id`` and the column ``by``.
    by : str
        Grouping column kept beside each community.

    Returns
    -------
    pandas.DataFrame
        ``by``, ``community_id``, ``respondents``; one row per community, in order of
        appearance.

    Examples
    --------
    >>> from analysis.io.survey import load_survey
    >>> respondents_per_community(load_survey()).to_dict("records")[0]
    {'community_type': 'old neighbourhood', 'community_id': 'C01', 'respondents': 40}
    """
    return (survey.groupby([by, "community_id"], sort=False).size()
            .rename("respondents").reset_index())
