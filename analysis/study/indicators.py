"""Measurement: item analysis, reliability, exploratory and confirmatory factor analysis.

Conventions follow R's ``psych`` (Revelle) so that results can be checked against it:
pairwise-complete covariances and correlations, sample SDs (ddof 1), psych's default
skew/kurtosis (type 3), minres factoring and oblimin rotation by gradient projection
(GPArotation, no Kaiser normalisation). Items are expected already reverse-coded (as
:func:`analysis.io.survey.load_survey` returns them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items
from analysis.methods.factor import minres
from analysis.methods.items import MIN_ITEMS, check_items, correlation
from analysis.methods.reliability import (
    composite_reliability,
    cronbach_alpha,
    htmt,
    item_statistics,
)
from analysis.sem import total_effects as sem_total_effects


def _construct_frames(data: pd.DataFrame, codebook: pd.DataFrame) -> dict[str, pd.DataFrame]:
    groups = construct_items(codebook)
    missing = [i for items in groups.values() for i in items if i not in data.columns]
    if missing:
        raise ValueError(f"data lack the codebook's items {missing[:5]}")
    out = {}
    for c, items in groups.items():
        if len(items) < MIN_ITEMS:
            raise ValueError(f"construct {c!r} has {len(items)} items ({items}); at least "
                             f"{MIN_ITEMS} are needed")
        out[c] = check_items(data[items], min_items=MIN_ITEMS, name=f"construct {c}")
    return out


def item_analysis(data: pd.DataFrame, codebook: pd.DataFrame, *, extreme: float = 0.27,
                  r_drop_min: float = 0.30) -> pd.DataFrame:
    """Item analysis of every construct in the codebook (see :func:`item_statistics`).

    Adds ``construct`` and two flags a methodologist would look at: ``weak_r_drop``
    (corrected item-total correlation below ``r_drop_min``, 0.30 by the usual rule of
    thumb, Nunnally & Bernstein 1994) and ``raises_alpha`` (deleting the item would raise
    the construct's alpha).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook           # doctest: +SKIP
    >>> from analysis.io.survey import load_survey                # doctest: +SKIP
    >>> cb = load_codebook(); item_analysis(load_survey(), cb).head()  # doctest: +SKIP
    """
    frames = _construct_frames(data, codebook)
    lim = codebook.set_index("item")[["scale_min", "scale_max"]]
    out = []
    for c, x in frames.items():
        st = item_statistics(x, scale_min=lim.loc[x.columns, "scale_min"].min(),
                             scale_max=lim.loc[x.columns, "scale_max"].max(), extreme=extreme)
        alpha = cronbach_alpha(x)
        st.insert(0, "construct", c)
        st["weak_r_drop"] = st["r_drop"] < r_drop_min
        st["raises_alpha"] = st["alpha_if_deleted"] > alpha
        out.append(st)
    return pd.concat(out, ignore_index=True)


def reliability(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Reliability of every construct in the codebook.

    Columns: ``construct n_items n alpha alpha_std omega_total cr ave mean_r``:
    Cronbach's alpha (pairwise covariances, as psych), standardised alpha (from the
    correlations rescaled from those covariances, as psych), omega total (:func:`omega_total`), composite reliability and AVE from
    the one-factor minres loadings, and the mean inter-item correlation. ``n`` counts
    respondents who answered every item of the construct.

    Raises
    ------
    ValueError
        For a construct with fewer than 3 items or a constant item.

    Examples
    --------
    >>> reliability(load_survey(), load_codebook()).round(3)   # doctest: +SKIP
    """
    rows = []
    for c, x in _construct_frames(data, codebook).items():
        R = correlation(x)
        k = R.shape[0]
        # psych's standardised alpha and average r use cov2cor of the pairwise covariances
        C = x.cov(min_periods=2).to_numpy()
        Rc = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
        mean_r = (Rc.sum() - k) / (k * (k - 1))
        L, u2 = minres(R, 1)
        lam = L[:, 0]
        rows.append({"construct": c, "n_items": k, "n": int(x.dropna().shape[0]),
                     "alpha": cronbach_alpha(x), "alpha_std": k * mean_r / (1 + (k - 1) * mean_r),
                     "omega_total": float(1.0 - u2.sum() / R.sum()),
                     "cr": composite_reliability(lam), "ave": float(np.mean(lam ** 2)),
                     "mean_r": mean_r})
    return pd.DataFrame(rows)


def validity_from_estimates(estimates: pd.DataFrame, column: str = "std_all") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convergent and discriminant validity from a standardised CFA solution.

    Returns
    -------
    validity : DataFrame
        ``construct n_items ave cr sqrt_ave max_corr fornell_larcker`` - AVE = mean of
        squared standardised loadings, CR from loadings and standardised residual variances,
        and whether sqrt(AVE) exceeds every correlation with another construct.
    fornell_larcker : DataFrame
        Latent correlations with sqrt(AVE) on the diagonal.
    """
    est = estimates
    lo = est[est["op"] == "=~"]
    factors = list(dict.fromkeys(lo["lhs"]))
    resid = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")[column]
    rows = []
    for f in factors:
        sub = lo[lo["lhs"] == f]
        lam = sub[column].to_numpy(float)
        th = [resid.get(i, np.nan) for i in sub["rhs"]]
        th = None if np.isnan(th).any() else th
        rows.append({"construct": f, "n_items": len(lam), "ave": float(np.mean(lam ** 2)),
                     "cr": composite_reliability(lam, th)})
    val = pd.DataFrame(rows)
    val["sqrt_ave"] = np.sqrt(val["ave"])
    phi = pd.DataFrame(np.eye(len(factors)), index=factors, columns=factors)
    cov = est[(est["op"] == "~~") & est["lhs"].isin(factors) & est["rhs"].isin(factors)
              & (est["lhs"] != est["rhs"])]
    for a, b, v in cov[["lhs", "rhs", column]].itertuples(index=False):
        phi.loc[a, b] = phi.loc[b, a] = float(v)
    off = phi.abs().to_numpy() - np.eye(len(factors))
    val["max_corr"] = off.max(axis=1)
    val["fornell_larcker"] = val["sqrt_ave"] > val["max_corr"]
    fl = phi.copy()
    for k, f in enumerate(factors):
        fl.loc[f, f] = val["sqrt_ave"].iloc[k]
    return val, fl


@dataclass
class CFAResult:
    """Result of :func:`cfa`."""

    sem: object                     #: the :class:`analysis.sem.SEMResult`
    loadings: pd.DataFrame          #: construct item est se std_all
    fit: pd.Series                  #: fit indices
    validity: pd.DataFrame          #: AVE, CR, Fornell-Larcker, max HTMT per construct
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    syntax: str = field(default="")


def cfa(data: pd.DataFrame, codebook: pd.DataFrame, *, estimator: str = "ML",
        missing: str = "listwise") -> CFAResult:
    """Confirmatory factor analysis of the codebook's constructs with :mod:`analysis.sem`.

    The model has one factor per construct (first loading fixed to 1, factors correlated,
    lavaan's defaults); validity follows Fornell & Larcker (1981) and Henseler et al. (2015).
    """
    from analysis.sem import fit_sem

    frames = _construct_frames(data, codebook)
    groups = {c: list(x.columns) for c, x in frames.items()}
    syntax = "\n".join(f"{c} =~ {' + '.join(items)}" for c, items in groups.items())
    cols = [i for items in groups.values() for i in items]
    res = fit_sem(syntax, data[cols], estimator=estimator, missing=missing)
    est = res.estimates
    lo = est[est["op"] == "=~"][["lhs", "rhs", "est", "se", "std_all"]]
    lo = lo.rename(columns={"lhs": "construct", "rhs": "item"}).reset_index(drop=True)
    val, fl = validity_from_estimates(est)
    h = htmt(data, groups, missing="listwise" if missing == "listwise" else "pairwise")
    val["max_htmt"] = (h - np.eye(len(h))).max(axis=1).to_numpy()
    return CFAResult(sem=res, loadings=lo, fit=res.fit_indices, validity=val,
                     fornell_larcker=fl, htmt=h, syntax=syntax)


def item_decisions(items: pd.DataFrame, efa_table: pd.DataFrame | None = None,
                   cfa_loadings: pd.DataFrame | None = None, *, r_drop_min: float = 0.30,
                   efa_min: float = 0.40, cross_max: float = 0.40,
                   cfa_min: float = 0.50) -> pd.DataFrame:
    """Keep or drop each item by stated rules, with the reasons.

    An item is flagged when its corrected item-total correlation is below ``r_drop_min``
    (Nunnally & Bernstein 1994), deleting it would raise its construct's alpha, its
    critical ratio is not significant (p >= .05), its primary EFA loading is below
    ``efa_min`` or a cross-loading reaches ``cross_max``, its primary EFA factor differs
    from the one most of its construct's items load on, or its standardised CFA loading is
    below ``cfa_min`` (Hair et al. 2019). ``keep`` is False when any rule fails.

    Parameters
    ----------
    items : DataFrame from :func:`item_analysis`.
    efa_table : DataFrame from :func:`loadings_table` (with ``construct``), optional.
    cfa_loadings : DataFrame ``item std_all`` (e.g. ``CFAResult.loadings``), optional.
    """
    out = items[["construct", "item", "r_drop", "alpha_if_deleted", "cr_p"]].copy()
    reasons = [[] for _ in range(len(out))]

    def flag(mask, text):
        for k in np.flatnonzero(np.asarray(mask)):
            reasons[k].append(text)

    flag(out["r_drop"] < r_drop_min, f"item-total r < {r_drop_min:.2f}")
    flag(items["raises_alpha"], "alpha rises if deleted")
    flag(out["cr_p"] >= 0.05, "critical ratio not significant")
    if efa_table is not None:
        e = efa_table.set_index("item").loc[out["item"]]
        out["efa_loading"] = e["loading"].to_numpy()
        out["cross_loading"] = e["cross_loading"].to_numpy()
        modal = e.groupby("construct")["factor"].agg(lambda f: f.value_counts().index[0])
        wrong = e["factor"].to_numpy() != modal.loc[e["construct"]].to_numpy()
        flag(out["efa_loading"].abs() < efa_min, f"EFA loading < {efa_min:.2f}")
        flag(out["cross_loading"] >= cross_max, f"cross-loading >= {cross_max:.2f}")
        flag(wrong, "loads on another construct's factor")
    if cfa_loadings is not None:
        c = cfa_loadings.set_index("item")["std_all"]
        out["cfa_loading"] = c.reindex(out["item"]).to_numpy()
        flag(out["cfa_loading"] < cfa_min, f"CFA loading < {cfa_min:.2f}")
    out["keep"] = [not r for r in reasons]
    out["reason"] = ["; ".join(r) if r else "meets every rule" for r in reasons]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------- SEM-based weights
def _check_estimates(estimates: pd.DataFrame, column: str) -> pd.DataFrame:
    need = {"lhs", "op", "rhs", column}
    if not need <= set(estimates.columns):
        raise ValueError(f"estimates need columns {sorted(need)} (lavaan vocabulary), "
                         f"got {list(estimates.columns)}")
    return estimates


def loading_weights(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Within-construct item weights from standardised loadings, normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame
        Parameter table in lavaan vocabulary (``lhs op rhs`` and ``column``), e.g.
        ``SEMResult.estimates`` or ``lavaan::standardizedSolution``.
    column : str
        Which estimate column holds the standardised loadings.

    Returns
    -------
    DataFrame with ``construct, item, loading, weight``; weights sum to 1 per construct.

    References
    ----------
    The loading-proportional rule used for SEM-derived indicator weights, e.g.
    Fornell, C., et al. (1996). The American Customer Satisfaction Index. *J. Marketing*, 60(4).
    """
    est = _check_estimates(estimates, column)
    lo = est.loc[est["op"] == "=~", ["lhs", "rhs", column]].copy()
    if lo.empty:
        raise ValueError("no loadings ('=~' rows) in the estimates")
    lo.columns = ["construct", "item", "loading"]
    lo["loading"] = lo["loading"].astype(float)
    if lo["loading"].isna().any():
        bad = lo.loc[lo["loading"].isna(), "item"].tolist()[:3]
        raise ValueError(f"missing standardised loadings for items {bad}")
    if (lo["loading"] <= 0).any():
        bad = lo.loc[lo["loading"] <= 0, "item"].tolist()[:3]
        raise ValueError(f"non-positive loadings for items {bad}: reverse-code them first")
    lo["weight"] = lo["loading"] / lo.groupby("construct")["loading"].transform("sum")
    return lo.reset_index(drop=True)


def total_effects(estimates: pd.DataFrame, column: str = "std_all") -> pd.DataFrame:
    """Direct, indirect and total effects of a recursive structural model (``~`` rows).

    With ``column="est"`` the effects are unstandardised; with ``"std_all"`` fully
    standardised. A checked wrapper of :func:`analysis.sem.total_effects`.

    Parameters
    ----------
    estimates : DataFrame
        ``SEMResult.estimates``.
    column : str

    Returns
    -------
    DataFrame with ``source, target, direct, indirect, total`` for every pair with a
    non-zero total effect.
    """
    return sem_total_effects(_check_estimates(estimates, column), column)


def path_weights(estimates: pd.DataFrame, target: str, sources=None,
                 column: str = "std_all") -> pd.Series:
    """Between-construct weights: total effects on ``target`` normalised to sum 1.

    Parameters
    ----------
    estimates : DataFrame in lavaan vocabulary.
    target : str
        The outcome construct (e.g. ``"PV"``).
    sources : list of str, optional
        Constructs to weight (default: every construct with an effect on ``target``).
    column : {"std_all", "est"}
        Standardised (default) or unstandardised total effects.

    Raises
    ------
    ValueError
        If a source has a negative total effect (a weight must not be negative) or no path.
    """
    te = total_effects(estimates, column)
    te = te[te["target"] == target].set_index("source")["total"]
    if sources is None:
        sources = list(te.index)
    missing = [s for s in sources if s not in te.index]
    if missing:
        raise ValueError(f"no path from {missing} to {target!r}")
    te = te.loc[list(sources)]
    if (te < 0).any():
        raise ValueError(f"negative total effects on {target!r} for {list(te[te < 0].index)}: "
                         "path-based weights need non-negative importance")
    return (te / te.sum()).rename("weight")


# ------------------------------------------------------------------------- combining
def combine_weights(subjective, objective, rule: str = "multiplicative",
                    alpha: float = 0.5) -> pd.Series:
    """Combine subjective and objective weights over the same indicators.

    * ``"multiplicative"``: ``w_j = s_j o_j / sum_k s_k o_k`` (multiplicative synthesis);
    * ``"linear"``: ``w_j = alpha s_j + (1 - alpha) o_j`` (both normalised first).

    Examples
    --------
    >>> s = pd.Series([0.5, 0.3, 0.2], index=list("abc"))
    >>> o = pd.Series([0.2, 0.3, 0.5], index=list("abc"))
    >>> combine_weights(s, o).round(4).tolist()
    [0.3448, 0.3103, 0.3448]
    """
    s, o = pd.Series(subjective, dtype=float), pd.Series(objective, dtype=float)
    if set(s.index) != set(o.index):
        raise ValueError(f"subjective and objective weights cover different indicators: "
                         f"{sorted(set(s.index) ^ set(o.index))}")
    o = o.loc[s.index]
    for name, w in (("subjective", s), ("objective", o)):
        if w.isna().any() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"{name} weights must be non-negative numbers, got {w.tolist()}")
    s, o = s / s.sum(), o / o.sum()
    if rule == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise ValueError("subjective and objective weights have disjoint support")
        w = w / w.sum()
    elif rule == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        w = alpha * s + (1.0 - alpha) * o
    else:
        raise ValueError(f"rule must be 'multiplicative' or 'linear', got {rule!r}")
    return w.rename("weight")


def compare_weights(**schemes) -> pd.DataFrame:
    """Side-by-side table of weighting schemes (one column each) with their ranks.

    Examples
    --------
    >>> t = compare_weights(ahp=pd.Series([.6, .4], index=["a", "b"]),
    ...                     entropy=pd.Series([.3, .7], index=["a", "b"]))
    >>> list(t.columns)
    ['ahp', 'entropy', 'rank_ahp', 'rank_entropy']
    """
    if not schemes:
        raise ValueError("give at least one weighting scheme")
    t = pd.DataFrame({k: pd.Series(v, dtype=float) for k, v in schemes.items()})
    if t.isna().any().any():
        raise ValueError(f"schemes cover different indicators: {t[t.isna().any(axis=1)].index.tolist()}")
    for k in schemes:
        t[f"rank_{k}"] = t[k].rank(ascending=False, method="min").astype(int)
    return t


def indicator_system(codebook: pd.DataFrame, loadings: pd.DataFrame,
                     schemes: dict[str, pd.Series]) -> pd.DataFrame:
    """The indicator system as one table: construct, item, wording (en/zh), loading and
    the item's weight under each scheme.

    Parameters
    ----------
    codebook : DataFrame with ``item construct construct_en construct_zh wording_en
        wording_zh`` (:func:`analysis.io.codebook.load_codebook`).
    loadings : DataFrame ``item std_all`` (standardised CFA loadings); items without a
        loading get NaN.
    schemes : dict name -> item weights (Series indexed by item). Items a scheme does not
        weight (the outcome construct's) are left empty, not zero.

    Returns
    -------
    DataFrame with ``construct construct_en construct_zh item wording_en wording_zh loading``
    and ``w_<scheme>`` columns; each scheme's weights sum to 1 over the items it covers.
    """
    cols = ["construct", "construct_en", "construct_zh", "item", "wording_en", "wording_zh"]
    missing = [c for c in cols if c not in codebook.columns]
    if missing:
        raise ValueError(f"codebook lacks columns {missing}")
    out = codebook[cols].copy().reset_index(drop=True)
    out["loading"] = out["item"].map(loadings.set_index("item")["std_all"])
    for name, w in schemes.items():
        w = pd.Series(w, dtype=float)
        unknown = sorted(set(w.index) - set(out["item"]))
        if unknown:
            raise ValueError(f"scheme {name!r} weights unknown items {unknown[:5]}")
        if w.isna().any() or (w < 0).any():
            raise ValueError(f"scheme {name!r} has missing or negative weights: "
                             f"{w[w.isna() | (w < 0)].index.tolist()[:5]}")
        if abs(w.sum() - 1.0) > 1e-8:
            raise ValueError(f"scheme {name!r} weights sum to {w.sum():.6f}, not 1")
        out[f"w_{name}"] = out["item"].map(w)
    return out
