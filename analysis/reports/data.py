"""The tables of one run, loaded and checked once, for the reports.

A run of the notebooks (``make reproduce``) writes its tables to ``data/processed/`` (the shipped
survey) or ``results/<name>/tables/`` (a user's survey). The reports read those tables and
nothing else: no model is refitted and no respondent-level file is opened. :func:`load_run`
gathers them into one :class:`Run`; a required table that is missing, or a column it lacks,
stops with a message naming the file, the column and the first offending rows, and an optional
table that is missing is recorded (:attr:`Run.absent`) so that the pages can say what they
leave out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths
from analysis.io.checks import first_labels, masked_labels
from analysis.io.codebook import constructs, elements, load_codebook
from analysis.study.scoring import GRADES

__all__ = ["REQUIRED", "OPTIONAL", "RunTablesError", "Run", "tables_folder", "run_folder",
           "reports_folder", "load_run", "is_synthetic", "NO_TYPE"]

#: Tables every report needs, with the columns it reads (notebook 04 writes them).
REQUIRED = {
    "community-ranks": ("community_id", "community_type", "rank_lower", "rank_upper",
                        "score_eb", "score_eb_lower", "score_eb_upper", "likely_grade"),
    "community-scores": ("community_id", "community_type", "n_respondents"),
    "suppressed-communities": ("community_id", "n_respondents"),
}

#: Tables the reports use when the run wrote them, with the columns read and what is lost
#: without them (the pages say so).
OPTIONAL = {
    "community-paths": ("community_id", "focus", "problem_id"),
    "dea-efficiency": ("unit", "peers"),
    "sample-characteristics": ("group", "variable", "n"),
    # sampling error (resident bootstrap) of each element score: community_id and one column
    # per element; no notebook writes it yet, and the pages then show the element scores
    # without intervals
    "community-element-se": ("community_id",),
}

#: The ``community_type`` value the notebooks write when a survey has no community types.
NO_TYPE = "all"


class RunTablesError(ValueError):
    """The tables of a run are missing or cannot be read as the notebooks write them."""


@dataclass(frozen=True)
class Run:
    """One run's tables, checked, as the reports read them.

    Attributes
    ----------
    folder : pathlib.Path
        The folder the tables were read from.
    ranks, scores, suppressed : pandas.DataFrame
        ``community-ranks``, ``community-scores`` and ``suppressed-communities``, indexed by
        community id (``suppressed`` keeps a plain index: it may be empty).
    paths, peers, element_se : pandas.DataFrame or None
        ``community-paths`` (indexed by community), the peers of each community (``peers``
        column, from ``community-paths`` or else ``dea-efficiency``), and the sampling error of
        each element score; ``None`` when the run did not write them.
    elements : list of str
        The element codes (codebook order).
    element_names : dict
        ``{"en": {code: name}, "zh": {code: name}}`` from the codebook's ``construct_en`` and
        ``construct_zh`` (the code where a name is blank).
    wording : dict
        ``{"en": {item: statement}, "zh": {item: statement}}`` from the codebook's
        ``wording_en`` and ``wording_zh`` (items without wording are left out).
    n_respondents : int
        Respondents of the survey (``sample-characteristics``, else the sum over communities).
    k : int
        The disclosure threshold: communities with fewer respondents have no scores.
    synthetic : bool
        Whether the run analysed the shipped synthetic survey (:func:`is_synthetic`).
    absent : tuple of str
        Optional tables the run did not write.
    """

    folder: Path
    ranks: pd.DataFrame
    scores: pd.DataFrame
    suppressed: pd.DataFrame
    paths: pd.DataFrame | None
    peers: pd.Series | None
    element_se: pd.DataFrame | None
    elements: list
    element_names: dict
    wording: dict
    n_respondents: int
    k: int
    synthetic: bool
    absent: tuple = field(default=())

    @property
    def communities(self) -> list:
        """Community ids with a report (sorted)."""
        return sorted(self.ranks.index)

    @property
    def has_types(self) -> bool:
        """Whether the survey had community types (the notebooks write ``all`` otherwise)."""
        return not (self.ranks["community_type"].astype(str) == NO_TYPE).all()

    @property
    def grades(self) -> list:
        """The grade names whose probabilities ``ranks`` holds (``p_<grade>`` columns)."""
        return [g for g in GRADES["grade"] if f"p_{g}" in self.ranks.columns]


def tables_folder(folder: str | os.PathLike) -> Path:
    """The folder holding a run's CSV tables: ``folder/tables`` for a user's run, else ``folder``.

    Parameters
    ----------
    folder : path
        ``data/processed``, a results folder ``results/<name>`` or its ``tables`` sub-folder.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> tables_folder(paths.ROOT / "data" / "processed").name
    'processed'
    """
    folder = Path(folder)
    sub = folder / "tables"
    return sub if sub.is_dir() and not (folder / "community-ranks.csv").exists() else folder


def run_folder(survey=None, codebook=None, model=None, labels: str = "en") -> Path:
    """The tables of the run ``make reproduce`` made with the same arguments.

    For a user's survey the run's own folder (:func:`analysis.io.paths.results_folder`):
    the ``labels`` edition's if it has tables, else the English one's (the numbers of both are
    the same). For the shipped survey the committed tables (``data/processed``), whatever the
    edition: a Chinese report needs no Chinese run.

    Parameters
    ----------
    survey, codebook, model : path, optional
        As given to ``make reproduce``.
    labels : {"en", "zh"}

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> run_folder(labels="zh").relative_to(paths.ROOT).as_posix()
    'data/processed'
    >>> run_folder("data/raw/private/my-survey.csv").relative_to(paths.ROOT).as_posix()
    'results/my-survey/tables'
    """
    if not (survey or codebook or model):
        return paths.ROOT / "data" / "processed"
    edition = paths.results_folder(survey, codebook, model, labels=labels)
    if labels != "en" and (edition / "tables").is_dir():
        return edition / "tables"
    return paths.results_folder(survey, codebook, model) / "tables"


def reports_folder(survey=None, codebook=None, model=None, labels: str = "en") -> Path:
    """Where ``make reports`` writes: ``_build/reports`` (shipped) or ``<run>/reports``.

    Another edition than English goes to a sub-folder named after it (``.../reports/zh``).

    Parameters
    ----------
    survey, codebook, model : path, optional
    labels : {"en", "zh"}

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> reports_folder(labels="zh").relative_to(paths.ROOT).as_posix()
    '_build/reports/zh'
    >>> reports_folder("my-survey.xlsx").relative_to(paths.ROOT).as_posix()
    'results/my-survey/reports'
    """
    if survey or codebook or model:
        base = run_folder(survey, codebook, model, labels).parent / "reports"
    else:
        base = paths.ROOT / "_build" / "reports"
    return base if labels == "en" else base / labels


def is_synthetic(folder: str | os.PathLike) -> bool:
    """Whether a run analysed the shipped synthetic survey, as the run itself recorded it.

    The notebooks caption their tables "(synthetic data)" and drop that label when the
    runner analyses a user's survey (:func:`analysis.io.outputs.data_label`), so the label in
    the caption of ``community-ranks.tex`` tells which survey a run read. Where that file is
    absent the environment decides as it does for the notebooks: synthetic unless
    ``COMPENDIUM_USER_SURVEY`` is set.

    Parameters
    ----------
    folder : path
        The run's tables.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_synthetic(paths.ROOT / "data" / "processed")
    True
    """
    if os.environ.get(paths.USER_SURVEY_ENV):
        return False
    tex = Path(folder) / "community-ranks.tex"
    if tex.exists():
        text = tex.read_text(encoding="utf-8")
        return "synthetic data" in text or "合成数据" in text
    return True


def _read(folder: Path, name: str, columns, required: bool) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.exists():
        if required:
            raise RunTablesError(f"{path}: table not found (the reports read the tables a run "
                                 "of the notebooks writes; run `make reproduce` with the same "
                                 "arguments first)")
        return None
    df = pd.read_csv(path, encoding="utf-8", dtype={"community_id": str, "unit": str},
                     keep_default_na=True)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RunTablesError(f"{path}: column(s) {', '.join(missing)} missing (written by an "
                             "older version of the notebooks? run `make reproduce` again)")
    return df


def _indexed(df: pd.DataFrame, path: Path, key: str = "community_id") -> pd.DataFrame:
    blank = df[key].isna() | (df[key].astype(str).str.strip() == "")
    if blank.any():
        raise RunTablesError(f"{path}: column {key!r} is blank in row(s) "
                             f"{masked_labels(blank, [i + 2 for i in range(len(df))])}")
    dup = df[key].duplicated(keep=False)
    if dup.any():
        raise RunTablesError(f"{path}: column {key!r} lists a community twice, row(s) "
                             f"{masked_labels(dup, [i + 2 for i in range(len(df))])}")
    return df.set_index(key, drop=False).rename_axis(None)


def _names(codebook: pd.DataFrame, els) -> dict:
    table = constructs(codebook).set_index("construct")
    out = {}
    for lang in ("en", "zh"):
        col = f"construct_{lang}"
        names = {}
        for e in els:
            v = table.loc[e, col] if col in table.columns else ""
            names[e] = v.strip() if isinstance(v, str) and v.strip() else e
        out[lang] = names
    return out


def _wording(codebook: pd.DataFrame) -> dict:
    out = {}
    for lang in ("en", "zh"):
        col = f"wording_{lang}"
        out[lang] = ({i: w.strip() for i, w in zip(codebook["item"], codebook[col])
                      if isinstance(w, str) and w.strip()} if col in codebook.columns else {})
    return out


def _total_respondents(sample: pd.DataFrame | None, scores, suppressed) -> int:
    if sample is not None:
        row = sample[(sample["group"].astype(str) == NO_TYPE) & (sample["variable"] == "respondents")]
        if len(row) == 1 and np.isfinite(row["n"].iloc[0]):
            return int(row["n"].iloc[0])
    return int(scores["n_respondents"].sum() + suppressed["n_respondents"].sum())


def load_run(folder: str | os.PathLike, codebook: pd.DataFrame | str | os.PathLike | None = None,
             k: int = 5) -> Run:
    """Read and check the tables of one run.

    Parameters
    ----------
    folder : path
        The run's tables (``data/processed``, ``results/<name>/tables`` or ``results/<name>``).
    codebook : DataFrame or path, optional
        The questionnaire codebook the run used (default: the shipped one); it names the
        elements in both languages.
    k : int
        The disclosure threshold the run used (the notebooks' default is 5).

    Returns
    -------
    Run

    Raises
    ------
    RunTablesError
        Naming the file, the column and the first offending rows: a required table or column
        missing; a community listed twice; the communities of ``community-ranks`` and
        ``community-scores`` differing; a scored community with fewer than ``k`` respondents,
        or a suppressed one with ``k`` or more (the run used another threshold); an element of
        the codebook with no column in ``community-scores``.

    Examples
    --------
    >>> run = load_run(paths.ROOT / "data" / "processed")
    >>> len(run.communities), run.k, run.elements, run.synthetic
    (47, 5, ['MS', 'CS', 'OM', 'RA', 'CC'], True)
    """
    folder = tables_folder(folder)
    if not (folder / "community-ranks.csv").exists() and not folder.is_dir():
        raise RunTablesError(f"{folder}: no such folder (run `make reproduce` with the same "
                             "arguments first)")
    if not isinstance(codebook, pd.DataFrame):
        codebook = load_codebook(codebook)
    raw = {name: _read(folder, name, cols, True) for name, cols in REQUIRED.items()}
    opt = {name: _read(folder, name, cols, False) for name, cols in OPTIONAL.items()}
    ranks = _indexed(raw["community-ranks"], folder / "community-ranks.csv")
    scores = _indexed(raw["community-scores"], folder / "community-scores.csv")
    suppressed = raw["suppressed-communities"].astype({"community_id": str})

    only_r = sorted(set(ranks.index) - set(scores.index))
    only_s = sorted(set(scores.index) - set(ranks.index))
    if only_r or only_s:
        raise RunTablesError(f"{folder}: community-ranks.csv and community-scores.csv list "
                             f"different communities (only in ranks: {first_labels(only_r) or '-'}; "
                             f"only in scores: {first_labels(only_s) or '-'}); were they written "
                             "by the same run?")
    small = scores["n_respondents"] < k
    if small.any():
        raise RunTablesError(f"{folder / 'community-scores.csv'}: column 'n_respondents' is below "
                             f"k = {k} for {masked_labels(small, scores.index)}: the run used "
                             "another disclosure threshold (pass it as --k)")
    large = suppressed["n_respondents"] >= k
    if large.any():
        raise RunTablesError(f"{folder / 'suppressed-communities.csv'}: column 'n_respondents' is "
                             f"k = {k} or more for {masked_labels(large, suppressed['community_id'])}: "
                             "the run used another disclosure threshold (pass it as --k)")
    els = elements(codebook)
    lacking = [e for e in els if e not in scores.columns]
    if lacking:
        raise RunTablesError(f"{folder / 'community-scores.csv'}: no column for element(s) "
                             f"{', '.join(lacking)} of the codebook: give the CODEBOOK the run used")

    paths_t = opt["community-paths"]
    if paths_t is not None:
        paths_t = _indexed(paths_t.astype({"community_id": str}), folder / "community-paths.csv")
        for col in paths_t.columns:
            if not (pd.api.types.is_numeric_dtype(paths_t[col])
                    or pd.api.types.is_bool_dtype(paths_t[col])):
                paths_t[col] = paths_t[col].fillna("").astype(str)
    peers = None
    if paths_t is not None and "peers" in paths_t.columns:
        peers = paths_t["peers"].fillna("").astype(str)
    elif opt["dea-efficiency"] is not None:
        peers = _indexed(opt["dea-efficiency"], folder / "dea-efficiency.csv", "unit")["peers"]
        peers = peers.fillna("").astype(str)
    se = opt["community-element-se"]
    if se is not None:
        se = _indexed(se, folder / "community-element-se.csv")
        if [e for e in els if e not in se.columns] or set(ranks.index) - set(se.index):
            raise RunTablesError(f"{folder / 'community-element-se.csv'}: it needs a column per "
                                 f"element ({', '.join(els)}) and a row per scored community")
    absent = [n for n in ("community-paths", "dea-efficiency", "community-element-se")
              if opt[n] is None]
    if "dea-efficiency" in absent and peers is not None:
        absent.remove("dea-efficiency")
    return Run(folder=folder, ranks=ranks, scores=scores, suppressed=suppressed, paths=paths_t,
               peers=peers, element_se=se, elements=els, element_names=_names(codebook, els),
               wording=_wording(codebook),
               n_respondents=_total_respondents(opt["sample-characteristics"], scores, suppressed),
               k=int(k), synthetic=is_synthetic(folder), absent=tuple(absent))
