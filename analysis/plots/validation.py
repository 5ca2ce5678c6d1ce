"""Figures of the simulation studies: parameter recovery by sample size, methods compared
under each departure, and power curves.

They draw the tables of :mod:`analysis.study.recovery`
(:func:`~analysis.study.recovery.summarise`) and :mod:`analysis.study.power`
(:func:`~analysis.study.power.power_table`) and return a new figure; saving is left to
:func:`analysis.io.outputs.savefig`. Shaded bands mark the acceptance criteria of the
recovery study (|relative bias| < 5 %, coverage within 93-97 %).
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
        From :func:`analysis.study.recovery.summarise` (the grid designs).
    n_of_design : dict
        Design name -> number of residents.
    max_rel_bias : float
        Half-width of the shaded relative-bias band.
    coverage_range : (float, float)
        The shaded coverage band.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No rows of the given designs in the summary.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> summary = pd.DataFrame({"design": ["N200", "N200", "N800", "N800"], "method": "ML",
    ...                         "label": ["b1", "b2", "b1", "b2"], "kind": "path",
    ...                         "rel_bias": [0.02, -0.03, 0.01, 0.0],
    ...                         "coverage": [0.94, 0.95, 0.95, 0.96], "mcse_coverage": 0.01,
    ...                         "rmse": [0.10, 0.12, 0.05, 0.06]})
    >>> fig = plot_recovery_by_n(summary, {"N200": 200, "N800": 800})
    >>> len(fig.axes)
    3
    >>> plt.close(fig)
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


#: Plain-language titles of the simulation designs.
DESIGN_TITLES = {"mar10": "10% of answers missing at random",
                 "mar20": "20% of answers missing at random",
                 "likert": "5-point Likert items", "clustered": "residents clustered in communities",
                 "zero_paths": "two paths zero in the population"}


#: Plain-language names of the estimation methods (legend entries).
METHOD_TITLES = {"ML-cluster": "ML, cluster-robust SEs", "listwise": "ML, listwise deletion"}


def effect_label(name: str, outcome: str = "PV") -> str:
    """A parameter label of the chain model in words: ``b_MS_CS`` -> ``MS → CS``.

    ``ind_X_M1_M2`` (specific indirect effect of X through M1, M2) reads
    ``X → M1 → M2 → <outcome>``; ``indirect_X`` reads ``X → <outcome> (total indirect)`` and
    ``total_X`` ``X → <outcome> (total)``. Other names are returned unchanged.

    Parameters
    ----------
    name : str
    outcome : str
        The outcome the indirect and total effects lead to.

    Returns
    -------
    str

    Examples
    --------
    >>> effect_label("b_MS_CS"), effect_label("ind_MS_OM_RA"), effect_label("total_MS")
    ('MS → CS', 'MS → OM → RA → PV', 'MS → PV (total)')
    """
    parts = str(name).split("_")
    if parts[0] == "b" and len(parts) == 3:
        return " → ".join(parts[1:])
    if parts[0] == "ind" and len(parts) >= 3:
        return " → ".join(parts[1:] + [outcome])
    if parts[0] == "indirect" and len(parts) == 2:
        return f"{parts[1]} → {outcome} (total indirect)"
    if parts[0] == "total" and len(parts) == 2:
        return f"{parts[1]} → {outcome} (total)"
    return str(name)


def plot_method_comparison(summary: pd.DataFrame, designs: Sequence[str], *,
                           kinds: Sequence[str] = ("path", "total indirect"),
                           max_rel_bias: float = 0.05, coverage_range=(0.93, 0.97)):
    """Relative bias (top) and coverage (bottom) per parameter, methods side by side.

    Parameters are named in words (:func:`effect_label`), designs by :data:`DESIGN_TITLES`;
    every panel of a row shares its x-range, and one legend of the methods sits below the
    panels (off the data).

    Parameters
    ----------
    summary : DataFrame
        From :func:`analysis.study.recovery.summarise`.
    designs : sequence of str
        Designs to draw, one column of panels each.
    kinds : sequence of str
        Kinds of parameter to show.
    max_rel_bias : float
        Half-width of the shaded relative-bias band.
    coverage_range : (float, float)
        The shaded coverage band.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No rows of the given designs and kinds in the summary.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> summary = pd.DataFrame({"design": ["N200", "N200", "N800", "N800"], "method": "ML",
    ...                         "label": ["b1", "b2", "b1", "b2"], "kind": "path",
    ...                         "rel_bias": [0.02, -0.03, 0.01, 0.0],
    ...                         "coverage": [0.94, 0.95, 0.95, 0.96], "mcse_coverage": 0.01,
    ...                         "rmse": [0.10, 0.12, 0.05, 0.06]})
    >>> fig = plot_method_comparison(summary, ["N200", "N800"], kinds=("path",))
    >>> len(fig.axes)
    4
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    df = summary[summary["design"].isin(list(designs)) & summary["kind"].isin(list(kinds))]
    if df.empty:
        raise ValueError("no rows of the given designs in the summary")
    labels = list(dict.fromkeys(df["label"]))
    y = np.arange(len(labels))
    fig, axes = plt.subplots(2, len(designs), figsize=(3.4 * len(designs), 8.0), sharey=True,
                             sharex="row", squeeze=False)
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
        axes[0][j].set_title(DESIGN_TITLES.get(d, d), fontsize=9)
        axes[0][j].set_xlabel("relative bias (%)")
        axes[1][j].set_xlabel("coverage of 95% intervals (%)")
    for row in axes:
        row[0].set_yticks(y)
        row[0].set_yticklabels([effect_label(lab) for lab in labels], fontsize=8)
        row[0].invert_yaxis()
    handles = [Line2D([], [], marker="o", ls="", color=PALETTE[i], label=METHOD_TITLES.get(m, m))
               for i, m in enumerate(methods)]
    band = [Line2D([], [], lw=6, color="grey", alpha=0.3,
                   label=f"target: |bias| < {100 * max_rel_bias:.0f}%, "
                         f"coverage {100 * coverage_range[0]:.0f}-{100 * coverage_range[1]:.0f}%")]
    fig.legend(handles=handles + band, loc="lower center", ncol=len(handles) + 1, fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_required_residents(need: pd.DataFrame, *, target: float = 0.80,
                            max_residents: float | None = None):
    """Residents needed for ``target`` power, one row per effect, one marker per number of
    communities.

    Parameters
    ----------
    need : DataFrame
        ``label kind n_communities n_required``: :func:`analysis.study.power.required_residents`
        for each number of communities, concatenated. ``inf`` (unreachable by adding
        residents) is drawn as an open triangle at the right edge.
    target : float
        The power the requirement refers to (for the title).
    max_residents : float, optional
        Right edge of the axis (default: twice the largest finite requirement).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if need.empty:
        raise ValueError("the table of required residents is empty")
    kinds = list(dict.fromkeys(need["kind"]))
    labels = list(dict.fromkeys(need["label"]))
    ks = sorted(need["n_communities"].unique())
    finite = need.loc[np.isfinite(need["n_required"].astype(float)), "n_required"]
    right = max_residents or (2.0 * float(finite.max()) if len(finite) else 1e4)
    fig, ax = plt.subplots(figsize=(7.5, 0.24 * len(labels) + 1.6))
    y = {lab: i for i, lab in enumerate(labels)}
    markers = ["o", "s", "D", "^", "v"]
    for i, k in enumerate(ks):
        s = need[need["n_communities"] == k]
        n = s["n_required"].astype(float).to_numpy()
        yy = np.array([y[lab] for lab in s["label"]]) + (i - (len(ks) - 1) / 2) * 0.22
        ok = np.isfinite(n)
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(n[ok], yy[ok], markers[i % len(markers)], color=colour, ms=5,
                label=f"{k} communities")
        if (~ok).any():
            ax.plot(np.full((~ok).sum(), right), yy[~ok], ">", mfc="white", color=colour, ms=5)
    start = 0
    for kind in kinds:
        members = [lab for lab in labels if need.loc[need["label"] == lab, "kind"].iloc[0] == kind]
        if start:
            ax.axhline(start - 0.5, color="0.6", lw=0.6)
        start += len(members)
    ax.set_xscale("log")
    ax.set_xlim(right=right * 1.15)
    ax.set_yticks(range(len(labels)), [effect_label(lab) for lab in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("residents needed (log scale); open triangle: not reachable by adding residents")
    ax.set_title(f"Residents needed for {target:.0%} power, by effect", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
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

    Raises
    ------
    ValueError
        An empty table, or no parameters of the requested kinds.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> table = pd.DataFrame({"label": "b1", "kind": "path", "n_residents": [200, 400, 800],
    ...                       "n_communities": 16, "power": [0.4, 0.7, 0.95]})
    >>> fig = plot_power(table, kinds=("path",))
    >>> fig.axes[0].get_title()
    'structural paths'
    >>> plt.close(fig)
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
                            color=cmap(i % 20), label=effect_label(lab) if k == ks[0] else None)
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
