"""``python -m analysis.reports``: write the reports of one run (``make reports`` calls it).

Usage::

    python -m analysis.reports [--results DIR] [--out DIR] [--labels en|zh]
                               [--survey FILE] [--codebook FILE] [--model FILE] [--k 5]
                               [--community ID ...]

Without ``--results`` the tables are those ``make reproduce`` wrote with the same ``--survey``,
``--codebook`` and ``--model`` (:func:`analysis.reports.data.run_folder`); without ``--out``
the reports go to ``_build/reports/`` for the shipped survey and to ``results/<name>/reports/``
for a user's (:func:`analysis.reports.data.reports_folder`), in ``zh/`` for the Chinese
edition. When the run's tables are missing it stops and says which ``make reproduce`` to run.
``--community`` writes only the overview and those communities' pages (a quick look at one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.io.terms import LANGUAGES
from analysis.reports.build import write_reports
from analysis.reports.data import RunTablesError, load_run, reports_folder, run_folder


def _reproduce_command(args) -> str:
    parts = ["make reproduce"]
    for name in ("survey", "codebook", "model"):
        value = getattr(args, name)
        if value:
            parts.append(f"{name.upper()}={value}")
    return " ".join(parts)


def main(argv=None) -> int:
    """Parse the arguments, build the reports, print where they are; 2 on missing tables.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        The exit status.
    """
    ap = argparse.ArgumentParser(prog="python -m analysis.reports",
                                 description="Write a report for every community of a run.")
    ap.add_argument("--results", type=Path, help="the run's tables (default: from --survey ...)")
    ap.add_argument("--out", type=Path, help="the reports folder (default: _build/reports or "
                    "results/<name>/reports; zh/ inside it for LABELS=zh)")
    ap.add_argument("--labels", default="en", choices=LANGUAGES)
    ap.add_argument("--survey", default="")
    ap.add_argument("--codebook", default="")
    ap.add_argument("--model", default="")
    ap.add_argument("--k", type=int, default=5, help="the run's disclosure threshold (default 5)")
    ap.add_argument("--community", action="append", default=None,
                    help="write only this community's page and the overview (repeatable)")
    args = ap.parse_args(argv)
    results = args.results or run_folder(args.survey, args.codebook, args.model, args.labels)
    out = args.out or reports_folder(args.survey, args.codebook, args.model, args.labels)
    if not (Path(results) / "community-ranks.csv").exists() and \
            not (Path(results) / "tables" / "community-ranks.csv").exists():
        print(f"no results of this run in {results}: run `{_reproduce_command(args)}` first "
              "(with the same SURVEY, CODEBOOK and MODEL), then `make reports` again",
              file=sys.stderr)
        return 2
    try:
        run = load_run(results, args.codebook or None, k=args.k)
        written = write_reports(run, out, args.labels, args.community)
    except (RunTablesError, KeyError) as exc:
        print(f"reports not written: {exc}", file=sys.stderr)
        return 2
    n = len(args.community or run.communities)
    print(f"reports written to {written}/ (index.html and {n} community pages"
          + (f"; {len(run.suppressed)} below k = {run.k} have none" if len(run.suppressed) else "")
          + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
