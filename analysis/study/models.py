"""The study's models, written as lavaan syntax generated from a codebook.

H1, the public-value chain: multiple subjects (MS) is the basis of consensus shaping (CS); both
shape organisation management (OM); CS and OM drive resource allocation (RA) and community
coordination (CC); all five elements act directly on performance (PV). H0, the parallel model:
five correlated elements, each with a direct path to performance only.

The theory is a list of construct-to-construct paths (:data:`CHAIN_PATHS`); a user with
another questionnaire keeps these codes in their codebook, or passes their own ``paths``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from analysis.io.codebook import CodebookError, construct_items, elements, outcome

#: H1 structural paths (predictor, outcome) among the five elements; each element -> outcome
#: paths are added by :func:`chain_model`.
CHAIN_PATHS: tuple[tuple[str, str], ...] = (
    ("MS", "CS"),
    ("MS", "OM"), ("CS", "OM"),
    ("CS", "RA"), ("OM", "RA"),
    ("CS", "CC"), ("OM", "CC"),
)


def label(predictor: str, target: str) -> str:
    """The parameter label of the path ``predictor -> target`` (``b_<predictor>_<target>``)."""
    return f"b_{predictor}_{target}"


def measurement_model(codebook: pd.DataFrame) -> str:
    """CFA of every construct in the codebook, factors correlated (lavaan's default).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> measurement_model(load_codebook()).splitlines()[0]
    'MS =~ MS1 + MS2 + MS3 + MS4'
    """
    return "\n".join(f"{c} =~ {' + '.join(items)}" for c, items in construct_items(codebook).items())


def _all_paths(edges: Sequence[tuple[str, str]], source: str, target: str) -> list[list[str]]:
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    found, stack = [], [[source]]
    while stack:
        path = stack.pop()
        for nxt in succ.get(path[-1], []):
            if nxt in path:
                raise ValueError(f"the structural paths contain a cycle through {nxt}")
            (found if nxt == target else stack).append(path + [nxt])
    return sorted(found, key=lambda p: (len(p), p))


def structural_paths(codebook: pd.DataFrame,
                     paths: Iterable[tuple[str, str]] | None = CHAIN_PATHS) -> list[tuple[str, str]]:
    """All (predictor, outcome) edges of the chain model: ``paths`` plus element -> outcome."""
    els, out = elements(codebook), outcome(codebook)
    edges = list(paths or ())
    unknown = sorted({c for e in edges for c in e} - set(els) - {out})
    if unknown:
        raise CodebookError(
            f"the structural paths name construct(s) {unknown} that the codebook lacks; "
            "pass your own paths=[(predictor, outcome), ...] or use parallel_model()")
    return edges + [(e, out) for e in els]


def indirect_paths(codebook: pd.DataFrame,
                   paths: Iterable[tuple[str, str]] | None = CHAIN_PATHS) -> dict[str, list[str]]:
    """Every specific indirect path from each element to the outcome, by its ``:=`` name.

    Names read ``ind_<X>_<M1>[_<M2>...]`` (through mediators M1, M2, ...). Ordered by element,
    then path length.
    """
    edges, out = structural_paths(codebook, paths), outcome(codebook)
    found = {}
    for e in elements(codebook):
        for p in _all_paths(edges, e, out):
            if len(p) > 2:
                found["ind_" + "_".join(p[:-1])] = p
    return found


def chain_model(codebook: pd.DataFrame,
                paths: Iterable[tuple[str, str]] | None = CHAIN_PATHS) -> str:
    """H1, the public-value chain, with labelled paths and defined effects.

    Defined parameters (``:=``): each specific indirect effect ``ind_...`` (a product of path
    labels), and for each element with at least one indirect path its total indirect effect
    ``indirect_<X>`` and total effect ``total_<X>`` on the outcome.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.
    paths : iterable of (predictor, outcome), optional
        Structural paths among the elements; defaults to :data:`CHAIN_PATHS`.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> m = chain_model(load_codebook())
    >>> "CS ~ b_MS_CS*MS" in m
    True
    """
    edges = structural_paths(codebook, paths)
    out = outcome(codebook)
    lines = [measurement_model(codebook), ""]
    targets = list(dict.fromkeys(t for _, t in edges))
    for t in targets:
        preds = [p for p, tt in edges if tt == t]
        lines.append(f"{t} ~ " + " + ".join(f"{label(p, t)}*{p}" for p in preds))
    lines.append("")
    ind = {name: "*".join(label(a, b) for a, b in zip(p[:-1], p[1:]))
           for name, p in indirect_paths(codebook, paths).items()}
    lines += [f"{name} := {product}" for name, product in ind.items()]
    # Sums are written out in labels (not in other := names) so any lavaan-syntax engine reads them.
    for e in elements(codebook):
        mine = [prod for name, prod in ind.items() if name.split("_")[1] == e]
        if mine:
            lines.append(f"indirect_{e} := " + " + ".join(mine))
            lines.append(f"total_{e} := {label(e, out)} + " + " + ".join(mine))
    return "\n".join(lines) + "\n"


def parallel_model(codebook: pd.DataFrame) -> str:
    """H0, the parallel model: correlated elements, each with a direct path to the outcome only.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> parallel_model(load_codebook()).strip().splitlines()[-1]
    'PV ~ b_MS_PV*MS + b_CS_PV*CS + b_OM_PV*OM + b_RA_PV*RA + b_CC_PV*CC'
    """
    return chain_model(codebook, paths=())
