"""The public-value chain at two levels: within communities and between communities.

Residents are nested in communities, and the study's theory is about communities. A two-level
SEM (Muthén 1994) splits every item into a within-community part (how a resident differs from
the others in the same community) and a between-community part (how the community differs
from other communities), and fits the chain to each:

* level 1 (within): the measurement model and the chain among the residents of a community;
* level 2 (between): the same constructs measured by the community means of the items, with
  loadings constrained equal across levels (so that the between factors are the community
  levels of the same constructs, Jak 2019; Stapleton, McNeish & Yang 2016) and the same chain.

:func:`twolevel_chain_model` writes the lavaan syntax, :func:`twolevel_paths` returns the paths
of both levels side by side, :func:`twolevel_verdict` reads which links hold between
communities and which only within.

References
----------
Muthén, B. O. (1994). Multilevel covariance structure analysis. *Sociological Methods &
Research*, 22, 376-398.
Jak, S. (2019). Cross-level invariance in multilevel factor models. *Structural Equation
Modeling*, 26, 607-622.
Stapleton, L. M., McNeish, D. M., & Yang, J. S. (2016). Multilevel and single-level models for
measured and latent variables when data are clustered. *Educational Psychologist*, 51, 317-330.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from analysis.io.codebook import construct_items
from analysis.sem import fit_sem
from analysis.study.models import label, structural_paths

__all__ = ["BETWEEN_SUFFIX", "cluster_robust_refit", "compare_latent_means", "contrast_df",
           "twolevel_chain_model", "twolevel_paths", "twolevel_verdict"]

#: Suffix of the between-community factors' names (lavaan needs distinct names per level).
BETWEEN_SUFFIX = "_b"


def cluster_robust_refit(result, data: pd.DataFrame, cluster: str = "community_id"):
    """The same model, data, groups and equality constraints, with cluster-robust inference.

    The point estimates are those of ``result`` (ML); the standard errors are the sandwich
    with scores summed within clusters (lavaan's ``cluster=``; clusters nested in groups),
    which counts a community's residents as one unit of information about its type.

    Parameters
    ----------
    result : SEMResult
        A single-level fit (e.g. ``invariance(...).fits["scalar"]``).
    data : DataFrame
        The data it was fitted to, with the cluster column.
    cluster : str

    Returns
    -------
    SEMResult

    References
    ----------
    Muthén, B. O., & Satorra, A. (1995). Complex sample data in structural equation modeling.
    *Sociological Methodology*, 25, 267-316.

    Examples
    --------
    >>> robust = cluster_robust_refit(inv.fits["scalar"], survey)   # doctest: +SKIP
    """
    return fit_sem(result.syntax, data, estimator=result.estimator, missing=result.missing,
                   group=result.group, group_equal=tuple(getattr(result.model, "group_equal", ())),
                   cluster=cluster, std_se=False)


def contrast_df(clusters_per_group: pd.Series, reference: str, groups) -> np.ndarray:
    """Degrees of freedom of a cluster-robust contrast with the reference group.

    With few clusters the sandwich SE is too small and normal critical values undercover;
    Cameron & Miller (2015, section VI) recommend Student's t with ``G - 1`` degrees of
    freedom. A contrast between two groups rests on the clusters of both; the smaller of
    the two groups' ``G - 1`` is used (conservative).

    Parameters
    ----------
    clusters_per_group : Series
        Number of clusters (communities) in each group.
    reference : str
    groups : iterable of str

    Returns
    -------
    ndarray of float

    References
    ----------
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust
    inference. *Journal of Human Resources*, 50, 317-372.

    Examples
    --------
    >>> contrast_df(pd.Series({"a": 12, "b": 10}), "a", ["b"])
    array([9.])
    """
    ref = int(clusters_per_group[reference])
    return np.array([min(ref, int(clusters_per_group[g])) - 1 for g in groups], dtype=float)


def compare_latent_means(naive: pd.DataFrame, clustered: pd.DataFrame,
                         truth: pd.DataFrame | None = None,
                         clusters_per_group: pd.Series | None = None,
                         level: float = 0.95) -> pd.DataFrame:
    """Latent means with resident-level and cluster-robust inference side by side.

    Parameters
    ----------
    naive, clustered : DataFrame
        :func:`analysis.study.heterogeneity.latent_means` of the fit and of its
        :func:`cluster_robust_refit` (same estimates).
    truth : DataFrame, optional
        ``construct group true_d``: adds ``covered`` and ``covered_cluster``, whether each
        interval holds the population value (converted from SD units to the estimate's
        metric by ``est / d``).
    clusters_per_group : Series, optional
        Clusters in each group: the cluster-robust intervals and p-values then use
        Student's t on :func:`contrast_df` degrees of freedom (``df_cluster``) instead of
        the normal distribution, the small-cluster correction that notebook 06 shows to
        give nominal coverage with 12 communities per type.
    level : float

    Returns
    -------
    DataFrame
        ``naive`` with ``se_cluster z_cluster pvalue_cluster ci_lower_cluster
        ci_upper_cluster`` (and ``true_d covered covered_cluster``).

    Examples
    --------
    >>> n = pd.DataFrame({"construct": ["A"], "group": ["g"], "est": [0.2], "se": [0.05],
    ...                   "z": [4.0], "pvalue": [0.0001], "ci_lower": [0.1], "ci_upper": [0.3],
    ...                   "d": [0.4]})
    >>> c = n.assign(se=0.1, z=2.0, pvalue=0.0455, ci_lower=0.004, ci_upper=0.396)
    >>> t = pd.DataFrame({"construct": ["A"], "group": ["g"], "true_d": [0.7]})
    >>> compare_latent_means(n, c, t)[["covered", "covered_cluster"]].values.tolist()
    [[False, True]]
    """
    keys = ["construct", "group"]
    cols = ["se", "z", "pvalue", "ci_lower", "ci_upper"]
    out = naive.merge(clustered[keys + cols].rename(columns={c: f"{c}_cluster" for c in cols}),
                      on=keys, how="left")
    if clusters_per_group is not None:
        reference = out.loc[out["se"] == 0, "group"].iloc[0]
        other = out["group"] != reference
        df = np.full(len(out), np.nan)
        df[other.to_numpy()] = contrast_df(clusters_per_group, reference, out.loc[other, "group"])
        out["df_cluster"] = df
        crit = stats.t.isf((1 - level) / 2, df)
        half = crit * out["se_cluster"].to_numpy()
        out.loc[other, "ci_lower_cluster"] = (out["est"] - half)[other]
        out.loc[other, "ci_upper_cluster"] = (out["est"] + half)[other]
        out.loc[other, "pvalue_cluster"] = (2 * stats.t.sf(out["z_cluster"].abs(), df))[other.to_numpy()]
    if truth is not None:
        out = out.merge(truth, on=keys, how="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            true_est = out["true_d"] * out["est"] / out["d"]
        for suffix in ("", "_cluster"):
            out[f"covered{suffix}"] = ((true_est >= out[f"ci_lower{suffix}"])
                                       & (true_est <= out[f"ci_upper{suffix}"]))
    return out


def twolevel_chain_model(codebook: pd.DataFrame, paths: Iterable[tuple[str, str]] | None = None,
                         equal_loadings: bool = True, between_residuals: bool = False) -> str:
    """lavaan syntax of the chain at level 1 (residents) and level 2 (communities).

    Parameters
    ----------
    codebook : DataFrame
    paths : iterable of (predictor, outcome), optional
        Paths among the elements (the run's model, e.g. ``Study.paths``); every element also
        has a path to the outcome (:func:`analysis.study.models.structural_paths`).
    equal_loadings : bool
        Constrain each item's loading equal across levels (labels ``l_<item>``).
    between_residuals : bool
        Free the items' between-level residual variances. By default they are fixed at 0:
        with equal loadings this is Jak's (2019) *cluster invariance* (the items measure the
        same constructs in every community, so the community means of an item differ only
        through the community levels of its construct), and it spares one parameter per
        item at the level with the fewest units (surveys have tens of communities, and free
        between residual variances are then often estimated negative).

    Returns
    -------
    str

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> syntax = twolevel_chain_model(load_codebook(), [("MS", "CS")])
    >>> lines = syntax.splitlines()
    >>> lines[1], lines.index("level: 2"), lines[10], lines[11]
    ('MS =~ l_MS1*MS1 + l_MS2*MS2 + l_MS3*MS3 + l_MS4*MS4', 9, 'MS_b =~ l_MS1*MS1 + l_MS2*MS2 + l_MS3*MS3 + l_MS4*MS4', 'MS1 ~~ 0*MS1')
    """
    edges = structural_paths(codebook, paths)
    constructs = construct_items(codebook)

    def block(suffix):
        out = []
        for c, items in constructs.items():
            terms = [(f"l_{i}*" if equal_loadings else "") + i for i in items]
            out.append(f"{c}{suffix} =~ " + " + ".join(terms))
            if suffix and not between_residuals:
                out += [f"{i} ~~ 0*{i}" for i in items]
        for t in dict.fromkeys(t for _, t in edges):
            preds = [p for p, tt in edges if tt == t]
            lab = "w_" if not suffix else "b_"
            out.append(f"{t}{suffix} ~ " + " + ".join(f"{lab}{label(p, t)[2:]}*{p}{suffix}"
                                                       for p in preds))
        return out

    return "\n".join(["level: 1", *block(""), "level: 2", *block(BETWEEN_SUFFIX)]) + "\n"


def twolevel_paths(result, level: float = 0.95) -> pd.DataFrame:
    """The structural paths of a two-level fit, within and between side by side.

    Parameters
    ----------
    result : SEMResult
        A fit of :func:`twolevel_chain_model` (``estimates`` with a ``level`` column).
    level : float
        Coverage of the Wald intervals.

    Returns
    -------
    DataFrame
        One row per path ``predictor outcome``, with ``est_within se_within std_within
        pvalue_within ci_lower_within ci_upper_within`` and the same ``_between``, and
        ``diff_z``, a Wald z for the difference of the unstandardised paths (the two
        levels' estimates are treated as independent, which the block structure of the
        information makes approximately true).

    Examples
    --------
    >>> twolevel_paths(fit)   # doctest: +SKIP
    """
    est = result.estimates
    reg = est[est["op"] == "~"].copy()
    reg["outcome"] = reg["lhs"].str.removesuffix(BETWEEN_SUFFIX)
    reg["predictor"] = reg["rhs"].str.removesuffix(BETWEEN_SUFFIX)
    zc = stats.norm.isf((1 - level) / 2)
    reg["ci_lower"] = reg["est"] - zc * reg["se"]
    reg["ci_upper"] = reg["est"] + zc * reg["se"]
    keep = ["predictor", "outcome", "est", "se", "std_all", "pvalue", "ci_lower", "ci_upper"]
    w = reg[reg["level"] == 1][keep].rename(columns={"std_all": "std"})
    b = reg[reg["level"] == 2][keep].rename(columns={"std_all": "std"})
    out = w.merge(b, on=["predictor", "outcome"], suffixes=("_within", "_between"))
    out["diff_z"] = (out["est_between"] - out["est_within"]) / np.sqrt(
        out["se_between"] ** 2 + out["se_within"] ** 2)
    return out.reset_index(drop=True)


def twolevel_verdict(paths: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Classify each path: holds at both levels, only within, only between, or at neither.

    Parameters
    ----------
    paths : DataFrame
        :func:`twolevel_paths`.
    alpha : float

    Returns
    -------
    DataFrame
        ``paths`` with ``reading`` ("both levels", "within only", "between only", "neither")
        and ``levels_differ`` (``|diff_z| > z_{1-alpha/2}``).

    Examples
    --------
    >>> p = pd.DataFrame({"pvalue_within": [0.01, 0.01, 0.3], "pvalue_between": [0.02, 0.4, 0.5],
    ...                   "diff_z": [0.1, -2.5, 0.0]})
    >>> twolevel_verdict(p)["reading"].tolist()
    ['both levels', 'within (between n.s.)', 'neither']
    """
    out = paths.copy()
    w = out["pvalue_within"] < alpha
    b = out["pvalue_between"] < alpha
    out["reading"] = np.select([w & b, w & ~b, ~w & b], ["both levels", "within (between n.s.)",
                                                         "between (within n.s.)"], "neither")
    out["levels_differ"] = out["diff_z"].abs() > stats.norm.isf(alpha / 2)
    return out
