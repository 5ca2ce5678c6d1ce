"""Where the compendium's files live, and the one way outputs are written (atomically).

Outputs (``figures/`` and ``data/processed/``) go under the repository, or under the folder
named by the environment variable ``COMPENDIUM_OUTPUT_DIR`` when it is set (read once, at
import): ``make verify`` regenerates every output there and compares it with the committed
one, without touching the repository. A user's run (``make reproduce SURVEY=...``) writes to
its own folder instead, ``results/<name>/figures`` and ``results/<name>/tables``
(:func:`results_folder`, named by ``COMPENDIUM_RESULTS``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_RAW = ROOT / "data" / "raw"
#: Where figures and tables are written: the repository, or ``$COMPENDIUM_OUTPUT_DIR``.
OUTPUT_ROOT = Path(os.environ["COMPENDIUM_OUTPUT_DIR"]).resolve() \
    if os.environ.get("COMPENDIUM_OUTPUT_DIR") else ROOT
DATA_PROCESSED = OUTPUT_ROOT / "data" / "processed"
FIGURES = OUTPUT_ROOT / "figures"

# A user's run (make reproduce SURVEY=...) writes under its own folder: the runner sets
# RESULTS_ENV for the notebook's kernel, and figures and tables go to <folder>/figures and
# <folder>/tables instead of the committed compendium (see results_folder below).
RESULTS_ENV = "COMPENDIUM_RESULTS"
if os.environ.get(RESULTS_ENV):
    FIGURES = Path(os.environ[RESULTS_ENV]).resolve() / "figures"
    DATA_PROCESSED = Path(os.environ[RESULTS_ENV]).resolve() / "tables"

#: Set by the notebook runner while a user's survey is analysed: figure titles and table
#: captions then drop their "synthetic data" label (see :func:`analysis.io.outputs.data_label`).
USER_SURVEY_ENV = "COMPENDIUM_USER_SURVEY"

CODEBOOK = DATA_RAW / "codebook.csv"
SURVEY = DATA_RAW / "survey.csv"
COMMUNITIES = DATA_RAW / "communities.csv"
EXPERT_AHP = DATA_RAW / "expert_ahp.csv"


_PROC_STATUS = "/proc/self/status"


def current_umask() -> int:
    """The process's file-mode creation mask (umask), read without changing it.

    On Linux (kernel 4.7 or later) the mask is read from the ``Umask:`` line of
    ``/proc/self/status``, which leaves it untouched. Elsewhere it falls back to setting and
    immediately restoring it with :func:`os.umask`; that pair is not atomic, so another thread
    creating a file at that very moment could get the wrong mode.

    Returns
    -------
    int
        The mask, e.g. ``0o022``.

    References
    ----------
    POSIX.1-2017, ``umask()``; Linux ``proc(5)``, ``/proc/[pid]/status`` field ``Umask``.

    Examples
    --------
    >>> import os
    >>> old = os.umask(0o027)
    >>> oct(current_umask())
    '0o27'
    >>> _ = os.umask(old)
    """
    try:
        with open(_PROC_STATUS, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(target: str | os.PathLike) -> int:
    """The permission bits an atomically written ``target`` should get.

    An existing file keeps its mode; a new one gets what an ordinary ``open(target, "w")``
    would give it, ``0o666 & ~umask`` (``0o644`` under the usual umask 022).

    Parameters
    ----------
    target : path
        The file about to be written or replaced.

    Returns
    -------
    int
        Permission bits for :func:`os.chmod`.

    References
    ----------
    POSIX.1-2017, ``open()`` (``O_CREAT``: mode modified by the umask) and ``umask()``.

    Examples
    --------
    >>> import os, tempfile
    >>> old = os.umask(0o022)
    >>> oct(output_mode(os.path.join(tempfile.gettempdir(), "no-such-file.csv")))
    '0o644'
    >>> _ = os.umask(old)
    """
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    An interrupted run therefore never leaves a half-written output: either the old file
    or the complete new one is in place. The temporary file is private (mode 0600) while it
    is written; before the rename it gets the mode of the file it replaces, or for a new file
    the mode an ordinary write would give (:func:`output_mode`).

    Parameters
    ----------
    target : path
        The output; its folder is created if needed.

    Yields
    ------
    pathlib.Path
        A temporary file in the same folder (so the rename is atomic) to write to.

    References
    ----------
    POSIX.1-2017, ``rename()``: the replacement of an existing file is atomic.

    Examples
    --------
    >>> import os, stat, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> target = Path(folder.name) / "out.txt"
    >>> old = os.umask(0o022)
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text(), oct(stat.S_IMODE(target.stat().st_mode))
    ('done', '0o644')
    >>> _ = os.umask(old); folder.cleanup()
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, output_mode(target))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``target`` atomically.

    Parameters
    ----------
    target : path
    text : str

    Returns
    -------
    pathlib.Path
        ``target``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> out = write_text(Path(folder.name) / "note.md", "# title\\n")
    >>> out.read_bytes()
    b'# title\\n'
    >>> folder.cleanup()
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def survey_name(path: str | os.PathLike) -> str:
    """The results-folder name for a user's survey: the file stem, made safe.

    Letters (any script, so ``社区调查`` stays readable), digits, ``-`` and ``_`` are kept;
    full-width forms become ASCII (``２０２６`` -> ``2026``); every other run of characters
    (spaces, dots, brackets, slashes) becomes one ``-``; leading dots and dashes are removed,
    so the name can never climb out of its parent folder. An empty result is ``"survey"``.

    Parameters
    ----------
    path : path
        The survey file, e.g. ``data/raw/private/My survey (2026).xlsx``.

    Returns
    -------
    str

    Examples
    --------
    >>> survey_name("data/raw/private/My survey (2026).xlsx")
    'My-survey-2026'
    >>> survey_name("问卷星导出 第１批.csv"), survey_name("../..csv")
    ('问卷星导出-第1批', 'survey')
    """
    import re
    import unicodedata

    stem = Path(path).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in stem)
    stem = unicodedata.normalize("NFC", stem)
    safe = re.sub(r"[^\w-]+", "-", stem, flags=re.UNICODE).strip("-.")
    safe = re.sub(r"-{2,}", "-", safe)
    return safe or "survey"


RESULTS = ROOT / "results"


def results_folder(survey: str | os.PathLike | None = None,
                   codebook: str | os.PathLike | None = None,
                   model: str | os.PathLike | None = None,
                   labels: str = "en") -> Path | None:
    """The folder a user's run writes to, ``results/<name>/``; ``None`` for the shipped run.

    ``<name>`` is :func:`survey_name` of the survey file (``results/my-survey/`` for
    ``my-survey.xlsx``), else of the codebook (power planning for a questionnaire not yet
    fielded), else of the model file; an edition other than English adds ``-<labels>``
    (``make reproduce LABELS=zh`` alone writes ``results/zh/``). The folder is git-ignored, so
    a user's run leaves the committed compendium untouched; inside it the runner writes
    ``notebooks/``, ``figures/`` and ``tables/``.

    Parameters
    ----------
    survey, codebook, model : path, optional
        The user's survey, codebook and model file, as given to ``make reproduce``.
    labels : str
        The edition's language (``"en"``: the committed one).

    Returns
    -------
    pathlib.Path or None

    References
    ----------
    Marwick, B., Boettiger, C. & Mullen, L. (2018). Packaging data analytical work
    reproducibly using R (and friends). *The American Statistician* 72(1), 80-88 (inputs
    read-only, outputs regenerated in their own place).

    Examples
    --------
    >>> results_folder("data/raw/private/my-survey.xlsx").relative_to(ROOT).as_posix()
    'results/my-survey'
    >>> results_folder(labels="zh").name, results_folder("问卷 (1).csv", labels="zh").name
    ('zh', '问卷-1-zh')
    >>> results_folder() is None
    True
    """
    source = next((s for s in (survey, codebook, model) if s), None)
    edition = labels if labels and labels != "en" else ""
    if source is None and not edition:
        return None
    if source is None:
        return RESULTS / survey_name(edition)
    name = survey_name(source)
    return RESULTS / (f"{name}-{edition}" if edition else name)
