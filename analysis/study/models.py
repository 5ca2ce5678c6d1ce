"""The study's models, written as lavaan syntax generated from a codebook.

H1, the public-value chain: multiple subjects (MS) is the basis of consensus shaping (CS); both
shape organisation management (OM); CS and OM drive resource allocation (RA) and community
coordination (CC); all five elements act directly on performance (PV). H0, the parallel model:
five correlated elements, each with a direct path to performance only.

The theory is a list of construct-to-construct paths (:data:`CHAIN_PATHS`); a user with
another questionnaire keeps these codes in their codebook, or passes their own ``paths``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    """The parameter label of the path ``predictor -> target`` (``b_<predictor>_<target>``).

    Parameters
    ----------
    predictor, target : str
        Construct codes.

    Returns
    -------
    str

    Examples
    --------
    >>> label("MS", "CS")
    'b_MS_CS'
    """
    return f"b_{predictor}_{target}"


def measurement_model(codebook: pd.DataFrame) -> str:
    """CFA of every construct in the codebook, factors correlated (lavaan's default).

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.

    Returns
    -------
    str
        lavaan syntax, one ``=~`` line per construct.

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
    """All (predictor, outcome) edges of the chain model: ``paths`` plus element -> outcome.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.
    paths : iterable of (predictor, outcome), optional
        Paths among the elements; defaults to :data:`CHAIN_PATHS` (``None`` or ``()``: none).

    Returns
    -------
    list of (str, str)

    Raises
    ------
    CodebookError
        If the paths name constructs that the codebook lacks.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> edges = structural_paths(load_codebook())
    >>> edges[0], edges[-1], len(edges)
    (('MS', 'CS'), ('CC', 'PV'), 12)
    """
    els, out = elements(codebook), outcome(codebook)
    edges = [tuple(p) for p in (paths or ())]
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

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.
    paths : iterable of (predictor, outcome), optional
        As in :func:`structural_paths`.

    Returns
    -------
    dict of str to list of str
        Name -> the constructs along the path, element first, outcome last.

    Raises
    ------
    ValueError
        If the paths contain a cycle.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> ind = indirect_paths(load_codebook())
    >>> list(ind)[:3], ind["ind_MS_CS"]
    (['ind_MS_CS', 'ind_MS_OM', 'ind_MS_CS_CC'], ['MS', 'CS', 'PV'])
    """
    edges, out = structural_paths(codebook, paths), outcome(codebook)
    found = {}
    for e in elements(codebook):
        for p in _all_paths(edges, e, out):
            if len(p) > 2:
                found["ind_" + "_".join(p[:-1])] = p
    return found


def chain_model(codebook: pd.DataFrame,
                paths: Iterable[tuple[str, str]] | None = CHAIN_PATHS,
                defined: Sequence[str] = ()) -> str:
    """H1, the public-value chain, with labelled paths and defined effects.

    Defined parameters (``:=``): each specific indirect effect ``ind_...`` (a product of path
    labels), and for each element with at least one indirect path its total indirect effect
    ``indirect_<X>`` and total effect ``total_<X>`` on the outcome.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.
    paths : iterable of (predictor, outcome), optional
        Structural paths among the elements; defaults to :data:`CHAIN_PATHS` (a user's MODEL
        file gives others: :func:`study_model`).
    defined : sequence of str
        Further ``:=`` lines (a MODEL file's, in :func:`label` names), appended.

    Returns
    -------
    str
        lavaan syntax: the measurement model, the labelled regressions, the ``:=`` lines.

    References
    ----------
    Alwin, D. F. & Hauser, R. M. (1975). The decomposition of effects in path analysis.
    *American Sociological Review*, 40, 37-47 (indirect effects as products of paths).

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
    if defined:
        lines += ["", *defined]
    return "\n".join(lines) + "\n"


def parallel_model(codebook: pd.DataFrame) -> str:
    """H0, the parallel model: correlated elements, each with a direct path to the outcome only.

    Parameters
    ----------
    codebook : pandas.DataFrame
        From :func:`analysis.io.codebook.load_codebook`.

    Returns
    -------
    str
        lavaan syntax (:func:`chain_model` without paths among the elements).

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> parallel_model(load_codebook()).strip().splitlines()[-1]
    'PV ~ b_MS_PV*MS + b_CS_PV*CS + b_OM_PV*OM + b_RA_PV*RA + b_CC_PV*CC'
    """
    return chain_model(codebook, paths=())


# --------------------------------------------------------------------------- a user's MODEL
class ModelFileError(CodebookError):
    """A MODEL file that cannot define the structural model; the message names file and line."""


_REGRESSION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*~(?![~*])\s*(.+)$")
_TERM = re.compile(r"^\s*(?:([A-Za-z_][A-Za-z0-9_.]*)\s*\*\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*$")
_DEFINED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:=\s*(.+)$")


@dataclass(frozen=True)
class StudyModel:
    """The structural model a run uses, where it came from, and the sentence that says so.

    Attributes
    ----------
    paths : tuple of (predictor, outcome)
        Paths among the elements (each element -> outcome is always added by
        :func:`chain_model`); empty for the parallel model.
    source : str
        ``"study"`` (the public-value chain), ``"model file"`` or ``"parallel"``.
    defined : tuple of str
        ``:=`` lines of a MODEL file, rewritten in :func:`label` names.
    message : str
        One sentence for the notebook: which model is used and why.
    """

    paths: tuple
    source: str
    defined: tuple = ()
    message: str = ""

    def syntax(self, codebook: pd.DataFrame) -> str:
        """The full model (measurement part from the codebook) in lavaan syntax: :func:`chain_model`."""
        return chain_model(codebook, self.paths, self.defined)

    @property
    def has_alternative(self) -> bool:
        """Whether the model differs from the parallel model (so H1 vs H0 can be tested)."""
        return bool(self.paths)


def read_model_file(path: str | os.PathLike, codebook: pd.DataFrame) -> StudyModel:
    """Read a MODEL file: structural lines in lavaan syntax, optional ``:=`` lines.

    Regression lines (``TSIG ~ LEAD + a*PART``) give the paths among the codebook's
    constructs; labels are optional and may be used in ``:=`` lines (``ind := a*b``), which
    are rewritten in the compendium's labels (:func:`label`). The measurement part comes from
    the codebook, so ``=~`` lines are refused, as are constructs the codebook lacks, paths into
    an element from the outcome, and cycles. Each element's direct path to the outcome is part
    of every model here (the elements are the producers of the outcome); one the file leaves
    out is added, and the message says so.

    Parameters
    ----------
    path : path
        The MODEL file (UTF-8 text; ``#`` starts a comment).
    codebook : DataFrame
        From :func:`analysis.io.codebook.load_codebook`.

    Returns
    -------
    StudyModel

    Raises
    ------
    ModelFileError
        Naming the file, the line number and what is wrong.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software* 48(2), 1-36 (the model syntax: ``~`` regressions, ``*`` labels,
    ``:=`` defined parameters).

    Examples
    --------
    >>> import tempfile
    >>> from analysis.io.codebook import load_codebook
    >>> f = Path(tempfile.mkdtemp()) / "model.lav"
    >>> _ = f.write_text(chr(10).join(["CS ~ a*MS", "PV ~ b*CS", "ind := a*b"]))
    >>> m = read_model_file(f, load_codebook())
    >>> m.paths, m.defined
    ((('MS', 'CS'),), ('ind := b_MS_CS*b_CS_PV',))
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found")
    els, out = elements(codebook), outcome(codebook)
    known = set(els) | {out}
    edges, labels, defined, direct = [], {}, [], set()
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}, line {no}"
        if "=~" in line:
            raise ModelFileError(f"{where}: '=~' lines are not read: the measurement part comes "
                                 "from the codebook; give only structural lines (Y ~ X) and ':='")
        m = _DEFINED.match(line)
        if m:
            defined.append((no, m.group(1), m.group(2)))
            continue
        m = _REGRESSION.match(line)
        if not m:
            raise ModelFileError(f"{where}: cannot read {raw.strip()!r}; expected 'Y ~ X + Z' or "
                                 "'name := expression'")
        target = m.group(1)
        for term in m.group(2).split("+"):
            t = _TERM.match(term)
            if not t:
                raise ModelFileError(f"{where}: cannot read the term {term.strip()!r}")
            lab, pred = t.group(1), t.group(2)
            bad = [c for c in (target, pred) if c not in known]
            if bad:
                raise ModelFileError(
                    f"{where}: {', '.join(bad)} is not a construct of the codebook "
                    f"(constructs: {', '.join(els + [out])})")
            if pred == out:
                raise ModelFileError(f"{where}: the outcome {out} cannot predict {target}; "
                                     "paths run from the elements to the outcome")
            if target == out:
                direct.add(pred)
            else:
                edges.append((pred, target))
            if lab:
                labels[lab] = label(pred, target)
    try:
        structural_paths(codebook, edges)
        for e in els:
            _all_paths(structural_paths(codebook, edges), e, out)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    rewritten = []
    for no, name, expr in defined:
        unknown = [w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", expr) if w not in labels]
        if unknown:
            raise ModelFileError(f"{path}, line {no}: ':=' uses {', '.join(unknown)}, which no "
                                 "path of the file is labelled with")
        rewritten.append(f"{name} := " + re.sub(r"[A-Za-z_][A-Za-z0-9_.]*",
                                                lambda w: labels[w.group()], expr))
    added = [e for e in els if e not in direct]
    msg = (f"structural model from {path.name}: {len(edges)} path(s) among the elements, "
           f"every element -> {out}")
    if added:
        msg += f" (the file omits {', '.join(f'{e} -> {out}' for e in added)}; added)"
    return StudyModel(tuple(edges), "model file", tuple(rewritten), msg)


def study_model(codebook: pd.DataFrame, model_path: str | os.PathLike | None = None) -> StudyModel:
    """Which structural model a run uses, and the sentence that says why.

    With a MODEL file its paths (:func:`read_model_file`); without one, the study's chain
    (:data:`CHAIN_PATHS`) when the codebook has the study's constructs, otherwise the parallel
    model (every element -> the outcome). ``StudyModel.syntax(codebook)`` writes the model;
    ``StudyModel.paths`` goes to the functions that take ``paths=``.

    Parameters
    ----------
    codebook : DataFrame
        From :func:`analysis.io.codebook.load_codebook`.
    model_path : path, optional

    Returns
    -------
    StudyModel

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software* 48(2), 1-36.

    Examples
    --------
    >>> from analysis.io.codebook import load_codebook
    >>> study_model(load_codebook()).message
    "the study's public-value chain (7 paths among the elements, every element -> PV)"
    """
    if model_path is not None:
        m = read_model_file(model_path, codebook)
    else:
        needed = {c for p in CHAIN_PATHS for c in p}
        present = set(elements(codebook))
        if needed <= present:
            m = StudyModel(CHAIN_PATHS, "study",
                           message=f"the study's public-value chain ({len(CHAIN_PATHS)} paths "
                                   f"among the elements, every element -> {outcome(codebook)})")
        else:
            m = StudyModel((), "parallel", message=(
                "the parallel model (every element -> " + outcome(codebook) + "): the codebook "
                "lacks the study's constructs " + ", ".join(sorted(needed - present)) +
                " and no MODEL file was given (make reproduce MODEL=path/to/model.lav)"))
    return m
