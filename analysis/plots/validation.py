"""Monte Carlo parameter recovery of the public-value chain model (issue 9).

Datasets are drawn from the documented population model (:mod:`analysis.study.population`), the
study's model H1 (:func:`analysis.study.models.chain_model`) is fitted to each with
:func:`analysis.sem.fit_sem`, and every structural path and ``:=`` indirect effect is compared
with its true value: bias, relative bias, RMSE, coverage of 95% intervals and rejection rates,
each with its Monte Carlo standard error.

Truth in the metric of the fitted model
---------------------------------------
The fitted model identifies each factor by its first item (marker loading 1), so its
unstandardised paths are ``beta * lambda_Y1 / lambda_X1``, not the standardised ``beta`` of
:data:`analysis.study.population.POPULATION`. :func:`true_values` obtains the true values of *every*
parameter in the fitted metric by fitting the model to data whose sample moments equal the
population moments exactly (:func:`exact_moment_data`); the fit reproduces them with zero
discrepancy when the model is correct. For 5-point Likert items the population moments of the
discretised items are computed exactly (bivariate-normal integrals, :func:`population_moments`)
and the same fit gives the *pseudo-true* values (White 1982) that ML converges to; their
standardised values show the attenuation that the cut points cause.

Designs (:class:`Design`) switch one departure from the clean case on at a time: continuous
items without community effects (the case where theory promises unbiased estimates and nominal
coverage), missing answers at random (FIML vs listwise), Likert items with the documented,
skewed thresholds (ML vs MLR), community random effects (clustering the single-level fit
ignores), and two paths that are zero in the population (type I error).

Replication ``r`` of a design always gets the same data, whatever the number of workers or
replications: its seed is ``numpy.random.SeedSequence(seed, spawn_key=(design key, r))``.

References
----------
Paxton, P., Curran, P. J., Bollen, K. A., Kirby, J. & Chen, F. (2001). Monte Carlo experiments:
design and implementation. Structural Equation Modeling 8(2), 287-312.
Muthén, L. K. & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size
and determine power. Structural Equation Modeling 9(4), 599-620.
Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. Statistics in Medicine 38, 2074-2102 (performance measures, MC SEs).
Enders, C. K. (2010). Applied Missing Data Analysis. Guilford (FIML vs listwise under MAR).
White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50, 1-25.

Examples
--------
>>> from analysis.study.recovery import Design, monte_carlo, summarise, true_values
>>> d = Design("clean", n_residents=400)
>>> est = monte_carlo([d], n_reps=4, seed=1)                      # doctest: +SKIP
>>> summarise(est, {d.name: true_values(d)}).columns[:4].tolist()  # doctest: +SKIP
['design', 'method', 'label', 'kind']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.plots.style import PALETTE

# -- figures --------------------------------------------------------------------------------

_KIND_STYLE = {"path": ("o", 0), "indirect": ("^", 1), "total indirect": ("s", 2),
               "total": ("D", 3)}


def plot_recovery_by_n(summary: pd.DataFrame, n_of_design: dict, *,
                       max_rel_bias: float = 0.05, coverage_range=(0.93, 0.97)):
    """Relative bias, coverage and RMSE of every parameter against the sample size.

    Parameters
    ----------
    summary : DataFrame
        From :func:`summarise` (the grid designs).
    n_of_design : dict
        Design name -> number of residents.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    df = summary[summary["design"].isin(list(n_of_design))].copy()
    if df.empty:
        raise ValueError("no rows of the given designs in the summary")
    df["N"] = df["design"].map(n_of_design)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.0))
    ns = sorted(df["N"].unique())
    for kind, (marker, ci) in _KIND_STYLE.items():
        sub = df[df["kind"] == kind]
        if sub.empty:
            continue
        off = 1 + 0.04 * (ci - 1.5)
        colour = PALETTE[ci]
        axes[0].scatter(sub["N"] * off, 100 * sub["rel_bias"], s=12, marker=marker,
                        color=colour, alpha=0.6, label=kind)
        axes[1].scatter(sub["N"] * off, 100 * sub["coverage"], s=12, marker=marker,
                        color=colour, alpha=0.6, label=kind)
        mean = sub.groupby("N")["rmse"].mean()
        axes[2].plot(mean.index, mean.to_numpy(), marker=marker, color=colour, label=kind)
    axes[0].axhspan(-100 * max_rel_bias, 100 * max_rel_bias, color="grey", alpha=0.15, lw=0)
    axes[0].set_ylabel("relative bias (%)")
    axes[1].axhspan(100 * coverage_range[0], 100 * coverage_range[1], color="grey", alpha=0.15,
                    lw=0)
    axes[1].axhline(95, color="black", lw=0.8)
    axes[1].set_ylabel("coverage of 95% Wald intervals (%)")
    first = df[df["N"] == ns[0]]["rmse"].mean()
    ref = first * np.sqrt(ns[0] / np.asarray(ns, float))
    axes[2].plot(ns, ref, color="black", lw=0.8, ls="--", label=r"$\propto 1/\sqrt{N}$")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("mean RMSE")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(ns)
        ax.set_xticklabels([f"{n:,}" for n in ns])
        ax.minorticks_off()
        ax.set_xlabel("residents (N)")
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_method_comparison(summary: pd.DataFrame, designs: Sequence[str], *,
                           kinds: Sequence[str] = ("path", "total indirect"),
                           max_rel_bias: float = 0.05, coverage_range=(0.93, 0.97)):
    """Relative bias (top) and coverage (bottom) per parameter, methods side by side.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    df = summary[summary["design"].isin(list(designs)) & summary["kind"].isin(list(kinds))]
    if df.empty:
        raise ValueError("no rows of the given designs in the summary")
    labels = list(dict.fromkeys(df["label"]))
    y = np.arange(len(labels))
    fig, axes = plt.subplots(2, len(designs), figsize=(3.3 * len(designs), 7.5), sharey=True,
                             squeeze=False)
    methods = list(dict.fromkeys(df["method"]))
    for j, d in enumerate(designs):
        sub = df[df["design"] == d]
        ms = list(dict.fromkeys(sub["method"]))
        for mi, m in enumerate(ms):
            s = sub[sub["method"] == m].set_index("label").reindex(labels)
            off = (mi - (len(ms) - 1) / 2) * 0.25
            colour = PALETTE[methods.index(m)]
            axes[0][j].plot(100 * s["rel_bias"], y + off, "o", ms=4, color=colour, label=m)
            axes[1][j].errorbar(100 * s["coverage"], y + off, xerr=196 * s["mcse_coverage"],
                                fmt="o", ms=4, color=colour, label=m, elinewidth=0.8)
        axes[0][j].axvspan(-100 * max_rel_bias, 100 * max_rel_bias, color="grey", alpha=0.15,
                           lw=0)
        axes[0][j].axvline(0, color="black", lw=0.8)
        axes[1][j].axvspan(100 * coverage_range[0], 100 * coverage_range[1], color="grey",
                           alpha=0.15, lw=0)
        axes[1][j].axvline(95, color="black", lw=0.8)
        axes[0][j].set_title(d)
        axes[0][j].set_xlabel("relative bias (%)")
        axes[1][j].set_xlabel("coverage (%)")
        axes[0][j].legend(fontsize=7, loc="lower right")
    for row in axes:
        row[0].set_yticks(y)
        row[0].set_yticklabels(labels, fontsize=8)
        row[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_power(table: pd.DataFrame, *, labels: Sequence[str] | None = None,
               target: float = 0.80, kinds: Sequence[str] = ("path", "indirect")):
    """Power curves by number of residents, one panel per kind of effect.

    Parameters
    ----------
    table : DataFrame
        The ``table`` of :func:`power_table`.
    labels : sequence of str, optional
        Parameters to draw (default: every parameter of the chosen kinds).
    target : float
        Reference line (conventional 80% power).
    kinds : sequence of str
        Kinds of effect, one panel each (``path``, ``indirect``, ``total indirect``,
        ``total``).

    Returns
    -------
    matplotlib.figure.Figure
        Line style distinguishes up to three numbers of communities.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if table.empty:
        raise ValueError("the power table is empty")
    df = table[table["kind"].isin(list(kinds))]
    if labels is not None:
        df = df[df["label"].isin(list(labels))]
    kinds = [k for k in kinds if k in set(df["kind"])]
    if not kinds:
        raise ValueError("no parameters of the requested kinds in the table")
    ks = sorted(df["n_communities"].unique())[:3]
    styles = ["-", "--", ":"]
    ns = sorted(df["n_residents"].unique())
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.6 * len(kinds), 4.8), sharey=True,
                             squeeze=False)
    cmap = plt.get_cmap("tab20")
    for ax, kind in zip(axes[0], kinds):
        sub = df[df["kind"] == kind]
        labs = list(dict.fromkeys(sub["label"]))
        for i, lab in enumerate(labs):
            for k, ls in zip(ks, styles):
                s = sub[(sub["label"] == lab) & (sub["n_communities"] == k)]
                if not s.empty:
                    ax.plot(s["n_residents"], s["power"], ls, marker="o", ms=3,
                            color=cmap(i % 20), label=lab if k == ks[0] else None)
        ax.axhline(target, color="black", lw=0.8, ls="-.")
        ax.set_xscale("log")
        ax.set_xticks(ns)
        ax.set_xticklabels([f"{n:,}" for n in ns])
        ax.minorticks_off()
        ax.set_xlabel("residents surveyed")
        ax.set_title({"path": "structural paths", "indirect": "specific indirect effects"}
                     .get(kind, kind))
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    axes[0][0].set_ylabel("power (two-sided Wald test)")
    axes[0][0].set_ylim(0, 1.02)
    handles = [Line2D([], [], color="grey", ls=ls, label=f"{k} communities")
               for k, ls in zip(ks, styles)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
