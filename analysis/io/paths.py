"""Where the compendium's files live, and the one way outputs are written (atomically).

Outputs (``figures/`` and ``data/processed/``) go under the repository, or under the folder
named by the environment variable ``COMPENDIUM_OUTPUT_DIR`` when it is set (read once, at
import): ``make verify`` regenerates every output there and compares it with the committed
one, without touching the repository.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_RAW = ROOT / "data" / "raw"
#: Where figures and tables are written: the repository, or ``$COMPENDIUM_OUTPUT_DIR``.
OUTPUT_ROOT = Path(os.environ["COMPENDIUM_OUTPUT_DIR"]).resolve() \
    if os.environ.get("COMPENDIUM_OUTPUT_DIR") else ROOT
DATA_PROCESSED = OUTPUT_ROOT / "data" / "processed"
FIGURES = OUTPUT_ROOT / "figures"

CODEBOOK = DATA_RAW / "codebook.csv"
SURVEY = DATA_RAW / "survey.csv"
COMMUNITIES = DATA_RAW / "communities.csv"
EXPERT_AHP = DATA_RAW / "expert_ahp.csv"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    An interrupted run therefore never leaves a half-written output: either the old file
    or the complete new one is in place.
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
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)
