"""Describing a survey before analysing it: sample, item distributions, missingness."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis.io.survey import SurveyDataError, SurveyWarning, extra_columns


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
    >>> int(sample_by_type(load_survey()).set_index("community_type").loc["all", "communities"])
    48
    """
    if by not in survey.columns:  # a survey without community types: the overall row only
        sizes = survey.groupby("community_id").size()
        return pd.DataFrame({by: ["all"], "communities": [sizes.size], "respondents": [sizes.sum()],
                             "median_size": [sizes.median()], "min_size": [sizes.min()],
                             "max_size": [sizes.max()]}).astype({c: int for c in (
                                 "communities", "respondents", "median_size", "min_size", "max_size")})
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
    """Respondents per community with its type (``"all"`` when the survey has no ``by`` column).

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
    if by not in survey.columns:
        survey = survey.assign(**{by: "all"})
    return (survey.groupby([by, "community_id"], sort=False).size()
            .rename("respondents").reset_index())


# Respondent characteristics the shipped questionnaire asks for; a user's survey may carry
# none, some, or others (its extra columns, see ``load_survey``).
DEMOGRAPHICS = ("gender", "age", "years_resident", "tenure")

_CHARACTERISTICS_COLUMNS = ["group", "variable", "type", "level", "n", "share", "mean", "sd",
                            "n_missing"]


def _is_missing(s: pd.Series) -> pd.Series:
    """NaN/None, and empty or blank text (how ``load_survey`` keeps an unanswered question)."""
    blank = s.astype("string").str.strip().eq("").fillna(False).astype(bool)
    return s.isna().to_numpy() | blank.to_numpy()


def _label(v) -> object:
    """A category label as text: 2.0 (a numeric code read with missing values) reads "2"."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return pd.NA
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _as_numeric(s: pd.Series, valid: np.ndarray) -> pd.Series | None:
    """``s`` as floats if every answered value is a number, else None."""
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return None
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    num = pd.to_numeric(s.where(valid), errors="coerce")
    if valid.any() and num[valid].notna().all():
        return num.astype(float)
    return None


def sample_characteristics(survey: pd.DataFrame, by: str | None = "community_type",
                           columns: list[str] | None = None,
                           categorical: list[str] | tuple[str, ...] = (),
                           max_levels: int = 20,
                           codebook: pd.DataFrame | None = None) -> pd.DataFrame:
    """The sample-characteristics table of a survey: who the respondents are.

    For each categorical characteristic the count and share of every category; for each
    numeric one the mean and standard deviation; for both the number of respondents who did
    not answer. Overall (group ``"all"``) and, when the survey has the ``by`` column, for
    each of its values.

    Parameters
    ----------
    survey : pandas.DataFrame
        One row per respondent, e.g. from :func:`analysis.io.survey.load_survey`.
    by : str or None
        Grouping column (default ``"community_type"``). If it is None or not in ``survey``
        the table has the overall group only. Respondents with no value in it count in
        ``"all"`` only.
    columns : list of str, optional
        The characteristics to describe. By default whichever of :data:`DEMOGRAPHICS`
        (gender, age, years_resident, tenure) the survey has, followed (when ``codebook`` is
        given) by the columns the codebook does not describe
        (:func:`analysis.io.survey.extra_columns`); an extra column with more than
        ``max_levels`` distinct text values (free text, identifiers) is left out with a
        warning.
    categorical : list of str
        Columns to tabulate as categories even though their values are numbers (e.g. codes
        1/2/3). Any other column is numeric when every answered value is a number.
    max_levels : int
        Most distinct categories a categorical characteristic may have.
    codebook : pandas.DataFrame, optional
        The survey's codebook: by default its undescribed columns are described too.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per group, characteristic and category, with columns ``group``
        (``"all"`` first, then the ``by`` values in sorted order), ``variable``, ``type``
        (``"count"``, ``"categorical"`` or ``"numeric"``), ``level`` (the category; empty for
        numeric rows), ``n`` (respondents in the category, or answering a numeric question),
        ``share`` (``n`` over the respondents of the group who answered; for the ``count``
        row, the group's share of the sample), ``mean`` and ``sd`` (numeric rows; ``sd``
        with denominator n - 1) and ``n_missing`` (respondents of the group with no answer).
        The first row of every group (variable ``"respondents"``, type ``"count"``) gives its
        size. Categories appear in every group, with zero counts where absent, ordered as a
        pandas ``Categorical`` orders them or else by overall frequency (ties by label).

    Raises
    ------
    analysis.io.survey.SurveyDataError
        (a ValueError) If a requested column is absent, a requested categorical one has
        more than ``max_levels`` categories (naming the column and its first categories),
        or the ``by`` column has a group called ``"all"``.

    Warns
    -----
    analysis.io.survey.SurveyWarning
        When a column picked by default is left out for having too many categories.

    References
    ----------
    von Elm E, Altman DG, Egger M, et al. (2007). The Strengthening the Reporting of
    Observational Studies in Epidemiology (STROBE) statement. *The Lancet* 370:1453-1457,
    item 14a (characteristics of study participants). Eysenbach G (2004). Improving the
    quality of web surveys: the Checklist for Reporting Results of Internet E-Surveys
    (CHERRIES). *J Med Internet Res* 6(3):e34.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"community_type": ["old", "old", "new", "new"],
    ...                   "gender": ["female", "male", "female", ""],
    ...                   "age": [30, 50, 40, None]})
    >>> t = sample_characteristics(s)
    >>> t.loc[t["group"] == "all", ["variable", "level", "n", "share", "mean", "n_missing"]]
          variable   level  n     share  mean  n_missing
    0  respondents    <NA>  4  1.000000   NaN       <NA>
    1       gender  female  2  0.666667   NaN          1
    2       gender    male  1  0.333333   NaN          1
    3          age    <NA>  3       NaN  40.0          1
    """
    if by is not None and by not in survey.columns:
        by = None
    if columns is None:
        auto = True
        columns = [c for c in DEMOGRAPHICS if c in survey.columns]
        if codebook is not None:
            columns += [c for c in extra_columns(survey, codebook) if c not in columns]
    else:
        auto = False
        columns = list(columns)
        absent = [c for c in columns if c not in survey.columns]
        if absent:
            raise SurveyDataError(f"sample_characteristics: column(s) not in the survey: "
                             f"{', '.join(absent)}")
    columns = [c for c in columns if c != by]

    n_all = len(survey)
    if by is not None:
        keys = survey[by]
        keys = keys.where(~_is_missing(keys)).astype("string")
        if (keys == "all").any():
            raise SurveyDataError(
                f"sample_characteristics: column '{by}' has the value 'all' (rows "
                f"{', '.join(str(i) for i in np.flatnonzero(keys == 'all')[:5])}), which "
                "would be confused with the overall group; rename it")
        groups = [("all", np.ones(n_all, dtype=bool))]
        groups += [(str(g), (keys == g).fillna(False).to_numpy(dtype=bool))
                   for g in sorted(keys.dropna().unique())]
    else:
        groups = [("all", np.ones(n_all, dtype=bool))]

    # Describe each characteristic once: its kind, and its categories in overall order.
    specs = []
    for col in columns:
        s = survey[col]
        valid = ~_is_missing(s)
        num = None if col in categorical else _as_numeric(s, valid)
        if num is not None:
            specs.append((col, "numeric", num.to_numpy(dtype=float), valid, None))
            continue
        labels = s.where(valid)
        labels = labels.astype(object).map(_label)
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels = [_label(c) for c in s.cat.categories]
        else:
            counts = labels.value_counts()
            levels = sorted(counts.index, key=lambda lv: (-counts[lv], lv))
        if len(levels) > max_levels:
            msg = (f"sample_characteristics: column '{col}' has {len(levels)} distinct values "
                   f"(more than max_levels={max_levels}; first: "
                   f"{', '.join(map(repr, levels[:5]))})")
            if auto:
                warnings.warn(msg + "; left out of the table", SurveyWarning, stacklevel=2)
                continue
            raise SurveyDataError(msg + "; pass it in `categorical` only if it really is "
                             "categorical, and raise max_levels")
        specs.append((col, "categorical", labels.to_numpy(dtype=object), valid, levels))

    rows = []
    for gname, mask in groups:
        size = int(mask.sum())
        rows.append({"group": gname, "variable": "respondents", "type": "count",
                     "n": size, "share": size / n_all if n_all else np.nan})
        for col, kind, values, valid, levels in specs:
            answered = mask & valid
            n_ans, n_miss = int(answered.sum()), int((mask & ~valid).sum())
            if kind == "numeric":
                x = values[answered]
                rows.append({"group": gname, "variable": col, "type": kind, "n": n_ans,
                             "mean": x.mean() if n_ans else np.nan,
                             "sd": x.std(ddof=1) if n_ans > 1 else np.nan,
                             "n_missing": n_miss})
                continue
            vals = values[answered]
            for lv in levels or [pd.NA]:
                k = int((vals == lv).sum()) if levels else 0
                rows.append({"group": gname, "variable": col, "type": kind, "level": lv,
                             "n": k, "share": k / n_ans if n_ans else np.nan,
                             "n_missing": n_miss})
    out = pd.DataFrame(rows).reindex(columns=_CHARACTERISTICS_COLUMNS)
    out["level"] = out["level"].astype("string")
    for c in ("n", "n_missing"):
        out[c] = out[c].astype("Int64")
    for c in ("share", "mean", "sd"):
        out[c] = out[c].astype(float)
    return out


def sample_sentence(table: pd.DataFrame, by_label: str = "community type",
                    digits: int = 1) -> str:
    """One paragraph (Markdown) that reads a :func:`sample_characteristics` table aloud.

    Every number comes from ``table``: the sample size; for each categorical characteristic
    the share of each category (and the spread of the largest category's share across the
    groups); for each numeric one its mean and SD (and the spread of the group means); the
    number who did not answer.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sample_characteristics`.
    by_label : str
        How to name the grouping in the text.
    digits : int
        Decimals for means, SDs and percentages.

    Returns
    -------
    str

    References
    ----------
    von Elm E, et al. (2007). The STROBE statement. *The Lancet* 370:1453-1457, item 14a.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"community_type": ["old", "old", "new", "new"],
    ...                   "gender": ["female", "male", "female", "female"],
    ...                   "age": [30, 50, 40, 44]})
    >>> print(sample_sentence(sample_characteristics(s)))
    The sample has 4 respondents in 2 groups by community type. **gender**: female 75.0%, male 25.0%; female from 50.0% (old) to 100.0% (new) by community type. **age**: mean 41.0 (SD 8.4); mean from 40.0 (old) to 42.0 (new) by community type.
    """
    f = f".{digits}f"
    alls = table[table["group"] == "all"]
    n = int(alls.loc[alls["variable"] == "respondents", "n"].iloc[0])
    by_groups = table[(table["group"] != "all") & (table["variable"] == "respondents")]
    head = f"The sample has {n:,} respondents"
    if len(by_groups):
        head += f" in {len(by_groups)} groups by {by_label}"
    parts = [head + "."]
    chars = alls[alls["type"] != "count"]
    if chars.empty:
        parts.append("The survey records no respondent characteristics to describe.")
    others = table[(table["group"] != "all") & (table["type"] != "count")]

    def spread(sub: pd.DataFrame, col: str, pct: bool) -> str:
        sub = sub.dropna(subset=[col])
        if len(sub) < 2:
            return ""
        order = sub.sort_values([col, "group"], kind="mergesort")
        lo, hi = order.iloc[0], order.iloc[-1]
        fmt = (lambda v: f"{100 * v:{f}}%") if pct else (lambda v: f"{v:{f}}")
        return f"from {fmt(lo[col])} ({lo['group']}) to {fmt(hi[col])} ({hi['group']}) by {by_label}"

    for var in dict.fromkeys(chars["variable"]):
        rows = chars[chars["variable"] == var]
        miss = int(rows["n_missing"].iloc[0])
        if rows["type"].iloc[0] == "numeric":
            r = rows.iloc[0]
            text = f"**{var}**: " + ("no answers" if pd.isna(r["mean"]) else
                                     f"mean {r['mean']:{f}}" + ("" if pd.isna(r["sd"])
                                                               else f" (SD {r['sd']:{f}})"))
            extra = spread(others[others["variable"] == var], "mean", pct=False)
            extra = f"mean {extra}" if extra else ""
        else:
            text = f"**{var}**: " + (", ".join(
                f"{lv} {100 * sh:{f}}%" for lv, sh in zip(rows["level"], rows["share"])
                if pd.notna(lv) and pd.notna(sh)) or "no answers")
            top = rows["level"].iloc[0]
            sub = others[(others["variable"] == var) & (others["level"] == top)]
            extra = spread(sub, "share", pct=True)
            extra = f"{top} {extra}" if extra else ""
        if miss:
            text += f", {miss:,} not answered"
        parts.append(text + (f"; {extra}." if extra else "."))
    return " ".join(parts)


def characteristics_display(table: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """A :func:`sample_characteristics` table laid out for reading, as in a paper's Table 1.

    One row per characteristic and category, one column per group; cells read ``n (x.x%)``
    for categories, ``mean (SD)`` for numeric characteristics, and ``n`` for the group sizes.
    Non-response appears as a ``(not answered)`` row where any group has some.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sample_characteristics`.
    digits : int
        Decimals for percentages, means and SDs.

    Returns
    -------
    pandas.DataFrame
        Text cells, index ``(variable, level)``, columns the groups in table order.

    References
    ----------
    von Elm E, et al. (2007). The STROBE statement. *The Lancet* 370:1453-1457, item 14a.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"gender": ["female", "male", "female", ""], "age": [30, 50, 40, 44]})
    >>> print(characteristics_display(sample_characteristics(s)).to_string())
    ... # doctest: +NORMALIZE_WHITESPACE
                                       all
    variable    level
    respondents n                        4
    gender      female           2 (66.7%)
                male             1 (33.3%)
                (not answered)           1
    age         mean (SD)       41.0 (8.4)
    """
    f = f".{digits}f"
    cells: dict[tuple[str, str], dict[str, str]] = {}
    groups = list(dict.fromkeys(table["group"]))
    variables = list(dict.fromkeys(table["variable"]))
    unanswered = set(table.loc[table["n_missing"].fillna(0) > 0, "variable"])
    for r in table.itertuples(index=False):
        if r.type == "count":
            key, text = (r.variable, "n"), f"{r.n:,}"
        elif r.type == "numeric":
            key = (r.variable, "mean (SD)")
            text = "" if pd.isna(r.mean) else (
                f"{r.mean:{f}}" + ("" if pd.isna(r.sd) else f" ({r.sd:{f}})"))
        else:
            key = (r.variable, "" if pd.isna(r.level) else str(r.level))
            text = f"{r.n:,}" + ("" if pd.isna(r.share) else f" ({100 * r.share:{f}}%)")
        cells.setdefault(key, {})[r.group] = text
        if r.variable in unanswered:
            cells.setdefault((r.variable, "(not answered)"), {})[r.group] = f"{r.n_missing:,}"
    # keep "(not answered)" as the last row of its characteristic
    keys = sorted(cells, key=lambda k: (variables.index(k[0]), k[1] == "(not answered)"))
    out = pd.DataFrame([cells[k] for k in keys], index=pd.MultiIndex.from_tuples(
        keys, names=["variable", "level"]), columns=groups)
    return out.fillna("")
