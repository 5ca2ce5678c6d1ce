"""One way to save figures: PNG and PDF, byte-identical across runs, in one style.

Matplotlib otherwise stamps files with its version and a creation date; both are removed so
that ``make reproduce`` twice leaves ``git status`` clean.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from analysis.io import paths


def savefig(fig, name: str, directory: str | os.PathLike | None = None) -> list[Path]:
    """Save ``fig`` as ``<directory>/<name>.png`` and ``.pdf``, atomically and reproducibly.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        Content-based file stem, e.g. ``"ipma-map"`` (no extension, no number).
    directory : path, optional
        Defaults to the compendium's ``figures/``.

    Returns
    -------
    list of pathlib.Path
        The two files written.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> savefig(fig, "example", directory=tmp_path)  # doctest: +SKIP
    """
    if not name or "/" in name or name.endswith((".png", ".pdf")):
        raise ValueError(f"figure name must be a bare stem like 'ipma-map', got {name!r}")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    directory = Path(directory) if directory is not None else paths.FIGURES
    written = []
    meta = {
        "png": {"Software": None},
        "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
    }
    for ext in ("png", "pdf"):
        target = directory / f"{name}.{ext}"
        with paths.atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, metadata=meta[ext], bbox_inches="tight")
        written.append(target)
    return written


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
            "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_ESCAPE = re.compile("|".join(re.escape(k) for k in _SPECIAL))


def _latex(df: pd.DataFrame, caption: str | None, float_format: str) -> str:
    cols = list(df.columns)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)

    def cell(v) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else format(v, float_format)
        text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
        return _ESCAPE.sub(lambda m: _SPECIAL[m.group()], text)

    lines = []
    if caption:
        lines += ["\\begin{table}[htbp]", "\\centering", f"\\caption{{{cell(caption)}}}"]
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
              " & ".join(cell(c) for c in cols) + " \\\\", "\\midrule"]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(cell(v) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    if caption:
        lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, name: str, *, caption: str | None = None,
                float_format: str = ".3f", directory: str | os.PathLike | None = None,
                index: bool = False) -> list[Path]:
    """Write ``df`` to ``<directory>/<name>.csv`` and ``<name>.tex`` atomically.

    The CSV keeps full precision (``%.10g``) so downstream steps can reuse it; the LaTeX
    table (booktabs: ``\\toprule``, ``\\midrule``, ``\\bottomrule``) rounds with
    ``float_format`` for print.

    Parameters
    ----------
    df : pandas.DataFrame
    name : str
        Content-based stem, e.g. ``"community-scores"``.
    caption : str, optional
        Wraps the tabular in a ``table`` float with this caption.
    float_format : str
        Format spec for floats in the LaTeX table.
    directory : path, optional
        Defaults to ``data/processed/``.
    index : bool
        Whether to keep the index as leading column(s).

    Examples
    --------
    >>> write_table(pd.DataFrame({"a": [1.0]}), "example", directory=tmp_path)  # doctest: +SKIP
    """
    if not name or "/" in name or "." in name:
        raise ValueError(f"table name must be a bare stem like 'community-scores', got {name!r}")
    directory = Path(directory) if directory is not None else paths.DATA_PROCESSED
    out = df.reset_index() if index else df
    csv_target = directory / f"{name}.csv"
    tex_target = directory / f"{name}.tex"
    with paths.atomic_path(csv_target) as tmp:
        out.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    paths.write_text(tex_target, _latex(out, caption, float_format))
    return [csv_target, tex_target]
