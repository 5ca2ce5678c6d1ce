"""Writing a run's reports: the overview and every community's page, atomically.

All pages are written into a temporary folder beside the target, which then replaces the
target in two renames, so an interrupted build leaves the previous reports or the complete new
ones, never a mixture. Another edition's sub-folder of the target (``zh/`` inside the English
reports) is carried over into the new folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from analysis.io import paths
from analysis.io.terms import LANGUAGES
from analysis.reports.data import Run
from analysis.reports.html import community_page, embed_font, overview_page
from analysis.reports.text import Phrases

__all__ = ["page_names", "render", "write_reports"]


def page_names(communities) -> dict:
    """File name of each community's page: its id made safe for a file name, ``.html``.

    Letters of any script, digits, ``-`` and ``_`` are kept, every other run of characters
    becomes ``-``; ``index`` (the overview) and names that collide get a numeric suffix.

    Parameters
    ----------
    communities : iterable of str

    Returns
    -------
    dict
        Community id -> file name.

    Examples
    --------
    >>> page_names(["C03", "幸福 社区", "a/b", "a-b", "index"])
    {'C03': 'C03.html', '幸福 社区': '幸福-社区.html', 'a/b': 'a-b.html', 'a-b': 'a-b-2.html', 'index': 'index-2.html'}
    """
    names, taken = {}, {"index"}
    for c in communities:
        stem = re.sub(r"[^\w-]+", "-", str(c), flags=re.UNICODE).strip("-.") or "community"
        name, i = stem, 1
        while name.lower() in taken:
            i += 1
            name = f"{stem}-{i}"
        taken.add(name.lower())
        names[c] = f"{name}.html"
    return names


def render(run: Run, labels: str = "en", communities=None) -> dict:
    """Every page of a run's reports, as text.

    Parameters
    ----------
    run : Run
    labels : {"en", "zh"}
    communities : iterable of str, optional
        Only these communities' pages (and the overview), e.g. to look at one page quickly;
        default all.

    Returns
    -------
    dict
        File name -> HTML: ``index.html`` and one page per scored community (none for a
        community below the disclosure threshold: it has no scores).

    Examples
    --------
    >>> from analysis.reports.data import load_run
    >>> pages = render(load_run(paths.ROOT / "data" / "processed"), communities=["C03"])
    >>> sorted(pages)
    ['C03.html', 'index.html']
    """
    p = Phrases(labels)
    names = page_names(run.communities)
    wanted = run.communities if communities is None else list(communities)
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise KeyError(f"no scores for {', '.join(map(str, unknown))} in {run.folder} "
                       f"(below k = {run.k} or not in the survey)")
    pages = {"index.html": overview_page(run, p, names)}
    for c in wanted:
        pages[names[c]] = community_page(run, c, p)
    return embed_font(pages)


def write_reports(run: Run, out: str | os.PathLike, labels: str = "en", communities=None) -> Path:
    """Write the reports of ``run`` into the folder ``out`` (replacing it atomically).

    Parameters
    ----------
    run : Run
    out : path
        The reports folder, e.g. ``_build/reports``.
    labels : {"en", "zh"}
    communities : iterable of str, optional
        Only these communities' pages (see :func:`render`).

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.reports.data import load_run
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_reports(load_run(paths.ROOT / "data" / "processed"), Path(d) / "reports",
    ...                         communities=["C03"])
    ...     sorted(p.name for p in out.iterdir())
    ['C03.html', 'index.html']
    """
    out = Path(out).resolve()
    pages = render(run, labels, communities)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    old = None
    try:
        mode = paths.output_mode(staging / "index.html")
        for name, text in pages.items():
            target = staging / name
            target.write_text(text, encoding="utf-8", newline="\n")
            os.chmod(target, mode)
        os.chmod(staging, 0o777 & ~paths.current_umask())
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.rmdir(old)
            os.replace(out, old)
        os.replace(staging, out)
        if old is not None:
            for edition in LANGUAGES:  # the other editions' reports stay where they were
                if edition != labels and (old / edition).is_dir():
                    os.replace(old / edition, out / edition)
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
            if old is not None and old.exists() and not out.exists():
                os.replace(old, out)  # failed between the renames: the previous reports return
    return out
