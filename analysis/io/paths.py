"""Where the compendium's files live, and the one way outputs are written (atomically)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_RAW = ROOT / "data" / "raw"
DATA_PROCESSED = ROOT / "data" / "processed"
FIGURES = ROOT / "figures"

CODEBOOK = DATA_RAW / "codebook.csv"
SURVEY = DATA_RAW / "survey.csv"
COMMUNITIES = DATA_RAW / "communities.csv"
EXPERT_AHP = DATA_RAW / "expert_ahp.csv"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    An interrupted run therefore never leaves a half-written output: either the old file
    or the complete new one is in place. The parent directory is created if needed, and the
    temporary file is removed whatever happens.

    Parameters
    ----------
    target : str or os.PathLike
        The file to (re)write.

    Yields
    ------
    pathlib.Path
        A temporary file in ``target``'s directory to write to.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_path(Path(d) / "out.txt") as tmp:
    ...         _ = tmp.write_text("done")
    ...     print((Path(d) / "out.txt").read_text())
    done
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: str | os.PathLike, text: str) -> Path:
    r"""Write ``text`` (UTF-8, ``\n`` line ends) to ``target`` atomically.

    Parameters
    ----------
    target : str or os.PathLike
        The file to write (its directory is created if needed).
    text : str
        The content.

    Returns
    -------
    pathlib.Path
        ``target``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_text(Path(d) / "note.md", "# title\n").read_text()
    '# title\n'
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)
