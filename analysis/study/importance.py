"""Importance and performance: the 0-100 performance scale and the total effects of a fitted SEM.

* Performance: items are rescaled with the theoretical scale limits from the codebook,
  ``100 (x - min) / (max - min)`` (:func:`rescale`, Ringle & Sarstedt 2016), so 0 is the
  worst and 100 the best possible answer whatever the number of scale points;
  :func:`item_means` and :func:`weighted_construct_scores` average them by group.
* Importance: total effects among the latent constructs of a fitted SEM
  (:func:`structural_matrix`, :func:`total_effects`; Bollen 1987) and the item weights within
  constructs (:func:`outer_weights`).
* Their uncertainty: bootstrap replicates of the parameter table
  (:func:`bootstrap_replicates`, :func:`replicates_from_draws`, :func:`replicate_tables`),
  used by :mod:`analysis.study.ipma` and :mod:`analysis.study.whatif`.

References
----------
Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The
importance-performance map analysis. *Industrial Management & Data Systems*, 116(9),
1865-1886.
Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
*Sociological Methodology*, 17, 37-69.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.io.codebook import construct_items
from analysis.sem import bootstrap_draws, total_effects_matrix
from analysis.sem import structural_matrix as sem_structural_matrix

__all__ = [
    "rescale", "item_means", "weighted_construct_scores", "latent_constructs",
    "structural_matrix", "total_effects", "outer_weights", "BootstrapReplicates",
    "replicate_tables", "replicates_from_draws", "bootstrap_replicates"
]


def rescale(data: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """Item answers rescaled to 0-100 with the codebook's ``scale_min`` / ``scale_max``.

    Parameters
    ----------
    data : pandas.DataFrame
        Answers (reverse-coded); columns not in the codebook are ignored.
    codebook : pandas.DataFrame
        With ``item``, ``scale_min`` and ``scale_max``.

    Returns
    -------
    pandas.DataFrame
        One column per codebook item found in ``data`` (NaN stays NaN).

    Raises
    ------
    ValueError
        No codebook item in ``data``, or answers outside the scale (naming the column and rows).

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). *Industrial Management & Data Systems*, 116(9),
    1865-1886 (rescaling for the IPMA).

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
    """Mean 0-100 item scores, overall (one row, index ``"all"``) or per level of ``by``.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondent-level answers with the codebook's items (and ``by``).
    codebook : pandas.DataFrame
        With ``item``, ``scale_min`` and ``scale_max``.
    by : str, optional
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        Rows ``"all"`` or the levels of ``by`` (sorted), one column per item.

    Raises
    ------
    ValueError
        If ``by`` is not a column of ``data``.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1"], "scale_min": [1], "scale_max": [5]})
    >>> d = pd.DataFrame({"A1": [1, 3, 5, 5], "g": ["a", "a", "b", "b"]})
    >>> item_means(d, cb, by="g")["A1"].tolist()
    [25.0, 100.0]
    """
    scaled = rescale(data, codebook)
    if by is None:
        return scaled.mean().to_frame("all").T
    if by not in data.columns:
        raise ValueError(f"grouping column {by!r} is not in the data")
    return scaled.groupby(data[by], sort=True).mean()


def weighted_construct_scores(item_scores: pd.DataFrame, weights: Mapping[str, Mapping[str, float]]
                     | pd.Series | None, codebook: pd.DataFrame) -> pd.DataFrame:
    """Weighted 0-100 construct scores from 0-100 item scores (one row per unit).

    ``weights`` maps item -> weight (a Series indexed by item) and is renormalised within each
    construct over the items present (a missing item does not drag the score to 0); ``None``
    means equal weights.

    Parameters
    ----------
    item_scores : pandas.DataFrame
        0-100 item scores, one row per unit (respondent, group or community).
    weights : mapping or pandas.Series or None
        Item -> weight, e.g. :func:`outer_weights`.
    codebook : pandas.DataFrame
        With ``item`` and ``construct``.

    Returns
    -------
    pandas.DataFrame
        One column per construct with at least one item in ``item_scores``.

    Raises
    ------
    ValueError
        If an item of ``item_scores`` has no weight.

    Examples
    --------
    >>> cb = pd.DataFrame({"item": ["A1", "A2"], "construct": ["A", "A"]})
    >>> scores = pd.DataFrame({"A1": [40.0], "A2": [80.0]})
    >>> weighted_construct_scores(scores, None, cb)["A"].tolist()
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


def _estimates(result) -> pd.DataFrame:
    est = getattr(result, "estimates", result)
    if not isinstance(est, pd.DataFrame):
        raise TypeError("expected an SEMResult or its estimates DataFrame")
    missing = {"lhs", "op", "rhs", "est"} - set(est.columns)
    if missing:
        raise ValueError(f"estimates lack column(s) {sorted(missing)}")
    if "group" in est.columns and est["group"].nunique() > 1:
        raise ValueError("estimates hold several groups; pass one group's estimates")
    return est


def latent_constructs(result) -> list[str]:
    """Latent variables of the model (left of ``=~``), in order of appearance.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A single-group fit, or its estimates table.

    Returns
    -------
    list of str

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> latent_constructs(est)
    ['X', 'Y']
    """
    est = _estimates(result)
    return list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))


def structural_matrix(result) -> pd.DataFrame:
    """``B`` among latent constructs: ``B.loc[outcome, predictor]`` = unstandardised path.

    Regressions on observed covariates are ignored (they do not carry effects between
    constructs).

    Parameters
    ----------
    result : SEMResult or DataFrame
        A fit, or its estimates table.

    Returns
    -------
    DataFrame
        Square, rows and columns the latent constructs.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> structural_matrix(est).loc["Y", "X"]
    np.float64(0.5)
    """
    est = _estimates(result)
    return sem_structural_matrix(est, "est", latent_constructs(est))


def total_effects(result) -> pd.DataFrame:
    """Total effects among the latent constructs; ``T.loc[target, source]``.

    ``T = (I - B)^-1 - I`` (Bollen 1987), from :func:`structural_matrix`.

    Parameters
    ----------
    result : SEMResult or DataFrame

    Returns
    -------
    DataFrame

    References
    ----------
    Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
    *Sociological Methodology*, 17, 37-69.

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "M", "Y", "Y", "M", "Y"], "op": ["=~"] * 3 + ["~"] * 3,
    ...                     "rhs": ["x1", "m1", "y1", "M", "X", "X"], "est": [1, 1, 1, .5, .4, .2]})
    >>> round(float(total_effects(est).loc["Y", "X"]), 3)  # 0.2 + 0.4 * 0.5
    0.4
    """
    return total_effects_matrix(structural_matrix(result))


def outer_weights(result, codebook: pd.DataFrame | None = None) -> pd.Series:
    """Item weights within each construct: standardised loadings rescaled to sum to one.

    Uses ``std_all`` when present, otherwise ``est``. Negative loadings (an item not
    reverse-coded) are an error: the weight of a performance indicator must be positive.

    Parameters
    ----------
    result : SEMResult or pandas.DataFrame
        A single-group fit, or its estimates table.
    codebook : pandas.DataFrame, optional
        Not used (kept for call compatibility).

    Returns
    -------
    pandas.Series
        Item -> weight (name ``"weight"``), summing to 1 within each construct.

    Raises
    ------
    ValueError
        Naming the items with non-positive loadings.

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). *Industrial Management & Data Systems*, 116(9),
    1865-1886 (outer weights of the IPMA).

    Examples
    --------
    >>> est = pd.DataFrame({"lhs": ["X", "X", "Y", "Y", "Y"], "op": ["=~"] * 4 + ["~"],
    ...                     "rhs": ["x1", "x2", "y1", "y2", "X"], "est": [1, .8, 1, 1.2, .5],
    ...                     "std_all": [.6, .9, .8, .8, .5]})
    >>> outer_weights(est).round(3).to_dict()
    {'x1': 0.4, 'x2': 0.6, 'y1': 0.5, 'y2': 0.5}
    """
    est = _estimates(result)
    load = est[est["op"] == "=~"]
    col = "std_all" if "std_all" in load.columns and load["std_all"].notna().all() else "est"
    if (load[col] <= 0).any():
        bad = load.loc[load[col] <= 0, "rhs"].tolist()
        raise ValueError(f"item(s) {bad} load negatively; reverse-code them before IPMA")
    w = load[col].astype(float) / load.groupby("lhs")[col].transform("sum").astype(float)
    return pd.Series(w.to_numpy(), index=load["rhs"].to_numpy(), name="weight")


@dataclass(frozen=True, eq=False)
class BootstrapReplicates:
    """Bootstrap replicate estimates, as returned by :func:`replicates_from_draws`.

    Attributes
    ----------
    table : DataFrame
        Long: ``replicate lhs op rhs est`` for the loadings and regressions of every
        converged resample (pass the whole object, or this table, to :func:`whatif`).
    n_failed : int
        Resamples whose refit did not converge (dropped).

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> pt = pd.DataFrame({"lhs": ["F", "F"], "op": ["=~", "=~"], "rhs": ["x1", "x2"],
    ...                    "free": [-1, 0], "value": [1.0, np.nan]})
    >>> reps = replicates_from_draws(pt, np.array([[0.8], [np.nan], [1.2]]))
    >>> reps.n_failed, reps.table["replicate"].nunique()
    (1, 2)
    """

    table: pd.DataFrame
    n_failed: int


def replicate_tables(boot) -> list[pd.DataFrame]:
    """Bootstrap replicates as a list of estimates frames (accepts the common layouts).

    Parameters
    ----------
    boot : BootstrapReplicates, BootstrapResult, DataFrame, list of DataFrame or None
        A :class:`BootstrapReplicates`, an object with ``estimates`` (one frame per
        replicate or a long frame with a ``replicate`` column), or such a frame or list.

    Returns
    -------
    list of DataFrame
        One parameter table per replicate (empty for ``None``).
    """
    if boot is None:
        return []
    if isinstance(boot, BootstrapReplicates):
        boot = boot.table
    est = getattr(boot, "estimates", None)
    if isinstance(boot, pd.DataFrame) or isinstance(est, pd.DataFrame):
        frame = boot if isinstance(boot, pd.DataFrame) else est
        for key in ("replicate", "boot", "rep", "b"):
            if key in frame.columns:
                return [g for _, g in frame.groupby(key, sort=True)]
        raise ValueError("bootstrap frame needs a replicate column ('replicate' or 'boot')")
    return [getattr(r, "estimates", r) for r in boot]


def replicates_from_draws(partable: pd.DataFrame, draws: np.ndarray) -> BootstrapReplicates:
    """Bootstrap draws of the free parameters as one long estimates frame.

    Parameters
    ----------
    partable : DataFrame
        The engine's parameter table (``lhs op rhs free value``; ``free`` is the column of a
        free parameter in ``draws``, -1 for a fixed one whose value is ``value``).
    draws : ndarray, shape (n_boot, >= n_free)
        One row per resample (extra columns, e.g. defined parameters, are ignored); rows with
        NaN (resamples that failed) are dropped.

    Returns
    -------
    BootstrapReplicates
        ``table``: ``replicate lhs op rhs est`` for the loadings and regressions, ready for
        :func:`whatif`; ``n_failed``: the rows dropped.
    """
    pt = partable[partable["op"].isin(["=~", "~"])]
    free = pt["free"].to_numpy().astype(int)
    n_free = int(partable["free"].max()) + 1
    draws = np.asarray(draws, dtype=float)
    ok = np.all(np.isfinite(draws[:, :n_free]), axis=1)
    parts = []
    for b, row in enumerate(draws[ok]):
        est = np.where(free >= 0, row[np.clip(free, 0, None)], pt["value"].to_numpy(dtype=float))
        parts.append(pd.DataFrame({"replicate": b, "lhs": pt["lhs"].to_numpy(),
                                   "op": pt["op"].to_numpy(), "rhs": pt["rhs"].to_numpy(),
                                   "est": est}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["replicate", "lhs", "op", "rhs", "est"])
    return BootstrapReplicates(out, n_failed=int((~ok).sum()))


def bootstrap_replicates(result, n_boot: int, seed) -> BootstrapReplicates:
    r"""Nonparametric bootstrap of a fitted model, as replicate estimates for :func:`whatif`.

    Calls :func:`analysis.sem.bootstrap_draws` (case resampling, each resample
    refitted by ML; needs a ``missing="listwise"`` fit) and converts the draws with
    :func:`replicates_from_draws`.

    Parameters
    ----------
    result : SEMResult
        A listwise ML fit.
    n_boot : int
        Number of resamples.
    seed : int or numpy.random.SeedSequence
        Seed of the resampling (same seed, same replicates).

    Returns
    -------
    BootstrapReplicates
        ``.table``: ``replicate lhs op rhs est`` (see :func:`replicates_from_draws`);
        ``.n_failed``: resamples that did not converge.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> from semopy.examples import holzinger39
    >>> from analysis.sem import fit_sem
    >>> res = fit_sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
    ...               holzinger39.get_data())
    >>> reps = bootstrap_replicates(res, n_boot=3, seed=1).table
    >>> int(reps["replicate"].nunique()), reps.columns.tolist()
    (3, ['replicate', 'lhs', 'op', 'rhs', 'est'])
    """
    draws = bootstrap_draws(result, n_boot=n_boot, seed=seed, progress=False)
    return replicates_from_draws(result.model.partable, draws)
