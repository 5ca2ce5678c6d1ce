"""Writing the compendium's outputs: figures (PNG and PDF) and tables (CSV and LaTeX).

Every file is written atomically (:func:`analysis.io.paths.atomic_path`) and is
byte-identical across runs and across machines. :func:`savefig` writes figures to
``figures/``, :func:`write_table` tables to ``data/processed/`` (both directories can be
overridden).

Matplotlib otherwise stamps files with its version and a creation date; both are removed so
that ``make reproduce`` twice leaves ``git status`` clean.

Across machines, iterative fits and sums whose order depends on the BLAS kernel a processor
selects differ in their last digits (about 1e-12 relative once the fits converge to the
floating-point limit). Every float a table writes, and every coordinate a figure draws, is
therefore rounded to a stated number of significant digits, :data:`DIGITS` (6) unless the
caller states fewer: a machine difference can then only show where a value sits within
~1e-12 relative of a rounding boundary (a chance of about 1e-6 per value, see
:func:`round_significant`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import paths

#: Significant digits of every float that :func:`write_table` writes and of every coordinate
#: that :func:`savefig` draws, unless the caller states fewer.
DIGITS = 6

#: Floats smaller in magnitude than this fraction of their column's largest are written as 0:
#: below it a double carries only rounding noise of the larger values it was computed from.
ZERO_BELOW = 1e-12


def round_significant(values, digits: int = DIGITS):
    """Round to ``digits`` significant decimal digits; ``-0.0`` becomes ``0.0``.

    Each value is rounded correctly from its exact binary value (Python's decimal formatting,
    half to even) and read back, so ``round_significant(x)`` printed with ``%.{digits}g`` is
    exactly the rounded decimal, and rounding twice changes nothing. NaN and infinities are
    kept.

    Two machines whose results differ by a relative ``delta`` write different digits only when
    the value lies within ``delta`` of a rounding boundary: with ``digits`` significant digits
    the boundaries of a value with leading digit ``d`` are ``10**-(digits-1) / d`` apart in
    relative terms, so the chance is at most ``2 * delta * 10**(digits-1) * d``, about
    ``delta * 10**digits`` (1e-6 per value for ``delta`` = 1e-12 and 6 digits).

    Parameters
    ----------
    values : float or array_like
    digits : int
        Significant digits, at least 1.

    Returns
    -------
    float or numpy.ndarray
        The rounded values (a float for a scalar input).

    References
    ----------
    IEEE Computer Society (2019). *IEEE Standard for Floating-Point Arithmetic* (IEEE 754-2019),
    section 5.12 (conversion between binary and decimal character sequences).

    Examples
    --------
    >>> round_significant(0.14425338771)
    0.144253
    >>> round_significant([1234.5678, -0.0, 2.5e-9], digits=3).tolist()
    [1230.0, 0.0, 2.5e-09]
    """
    if int(digits) < 1:
        raise ValueError(f"digits must be at least 1, got {digits!r}")
    fmt = f".{int(digits) - 1}e"
    a = np.asarray(values, dtype=float)
    out = np.array([float(format(v, fmt)) for v in a.ravel().tolist()], dtype=float)
    out = out.reshape(a.shape) + 0.0  # -0.0 + 0.0 == +0.0
    return float(out) if out.ndim == 0 else out


def _round_column(values, digits: int, zero_below: float) -> np.ndarray:
    """Round a float column to ``digits`` and zero what is below ``zero_below`` of its largest."""
    r = round_significant(np.asarray(values, dtype=float), digits)
    finite = np.isfinite(r)
    if zero_below and finite.any():
        big = np.abs(r[finite]).max()
        r = np.where(finite & (np.abs(r) < zero_below * big), 0.0, r)
    return r


def _digits_for(digits, column) -> int:
    if isinstance(digits, Mapping):
        return int(digits.get(column, DIGITS))
    return int(digits)


def rounded_table(df: pd.DataFrame, digits: int | Mapping[str, int] = DIGITS, *,
                  zero_below: float = ZERO_BELOW) -> pd.DataFrame:
    """The values :func:`write_table` writes: every float rounded to significant digits.

    Float columns (and floats inside object columns) are rounded with
    :func:`round_significant`; magnitudes below ``zero_below`` times the column's largest
    become 0; other columns are returned unchanged.

    Parameters
    ----------
    df : pandas.DataFrame
    digits : int or mapping of column name to int
        Significant digits; columns missing from a mapping get :data:`DIGITS`.
    zero_below : float
        Relative floor below which a float is written as 0 (0 disables it).

    Returns
    -------
    pandas.DataFrame
        A copy with the same columns, index and dtypes.

    References
    ----------
    Higham, N. J. (2002). *Accuracy and Stability of Numerical Algorithms* (2nd ed.). SIAM,
    chapter 2 (rounding error of floating-point sums and products).

    Examples
    --------
    >>> df = pd.DataFrame({"x": ["a", "b"], "est": [0.14425338771, 3e-17]})
    >>> rounded_table(df)["est"].tolist()
    [0.144253, 0.0]
    >>> rounded_table(df, digits={"est": 2})["est"].tolist()
    [0.14, 0.0]
    """
    out = df.copy()
    for j, col in enumerate(out.columns):
        s = out.iloc[:, j]
        d = _digits_for(digits, col)
        if pd.api.types.is_float_dtype(s.dtype):
            out.iloc[:, j] = _round_column(s.to_numpy(dtype=float), d, zero_below)
        elif s.dtype == object:
            is_float = s.map(lambda v: isinstance(v, (float, np.floating)))
            if is_float.any():
                vals = _round_column(s[is_float].to_numpy(dtype=float), d, zero_below)
                s = s.copy()
                s[is_float] = list(vals)
                out.iloc[:, j] = s
    return out


def _csv_strings(df: pd.DataFrame, digits) -> pd.DataFrame:
    """Floats (already rounded) as their shortest ``%g`` text; NaN stays missing."""
    out = df.copy()
    for j, col in enumerate(out.columns):
        s = out.iloc[:, j]
        fmt = f".{_digits_for(digits, col)}g"
        if pd.api.types.is_float_dtype(s.dtype) or s.dtype == object:
            out[out.columns[j]] = s.map(
                lambda v: format(v, fmt) if isinstance(v, (float, np.floating)) and not
                math.isnan(v) else v).astype(object)
    return out


def _float_data(a):
    """``a`` as a float array if it holds plain numbers (not dates, units or text), else None."""
    if a is None or np.ma.isMaskedArray(a):
        return None
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        return None
    return arr.astype(float) if arr.dtype.kind in "fiu" and arr.size else None


def quantize_figure(fig, digits: int = DIGITS):
    """Round the data every artist of ``fig`` draws to ``digits`` significant digits, in place.

    Figures drawn from numbers that differ in their last digits between machines would embed
    different coordinates (matplotlib writes PDF paths with 6 decimals of a point) and, rarely,
    shade a different pixel. Rounding what is drawn -- line and marker positions, polygon and
    segment vertices, bar and patch geometry, text and annotation positions, image values and
    extents, colour-mapped arrays, and autoscaled axis limits -- makes the files a function of
    the rounded numbers only, like the tables of :func:`write_table`. At 6 digits the change is
    a millionth of an axis, far below what a viewer can see. Axes whose limits were
    autoscaled get their rounded limits set explicitly (polar angles are left alone), and
    colour scales (hence colour bars) their rounded ``vmin`` and ``vmax``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    digits : int
        Significant digits.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` itself.

    References
    ----------
    Hunter, J. D. (2007). Matplotlib: A 2D graphics environment. *Computing in Science &
    Engineering*, 9(3), 90-95 (artists, transforms and renderers).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> line, = ax.plot([0.0, 1.0], [0.123456789, 2.0])
    >>> _ = quantize_figure(fig)
    >>> line.get_ydata().tolist()
    [0.123457, 2.0]
    >>> plt.close(fig)
    """
    from matplotlib import collections as mcoll
    from matplotlib import image as mimage
    from matplotlib import lines as mlines
    from matplotlib import patches as mpatches
    from matplotlib import text as mtext

    def q(a):
        v = _float_data(a)
        return None if v is None else round_significant(v, digits)

    def q_masked(a):  # colour-mapped arrays may be masked (e.g. a heatmap's empty cells)
        if np.ma.isMaskedArray(a) and a.dtype.kind in "fiu" and a.size:
            return np.ma.array(round_significant(np.ma.getdata(a).astype(float), digits),
                               mask=np.ma.getmaskarray(a))
        return q(a)

    for ax in fig.get_axes():  # limits first: reading them applies any pending autoscaling
        for axis_name in ("x", "y"):
            if ax.name == "polar" and axis_name == "x":
                continue
            if getattr(ax, f"get_autoscale{axis_name}_on")():
                lim = q(getattr(ax, f"get_{axis_name}lim")())
                if lim is not None and np.all(np.isfinite(lim)):
                    getattr(ax, f"set_{axis_name}lim")(*lim.tolist(), auto=None)
    for art in fig.findobj():
        norm = getattr(art, "norm", None)  # colour scales (and so colour bars) autoscaled
        if norm is not None and getattr(norm, "vmin", None) is not None:  # from the data
            for attr in ("vmin", "vmax"):
                v = getattr(norm, attr, None)
                if isinstance(v, (float, np.floating)) and np.isfinite(v):
                    try:
                        setattr(norm, attr, round_significant(float(v), digits))
                    except (AttributeError, ValueError):
                        pass
        if isinstance(art, mlines.Line2D):
            x, y = (q(v) for v in art.get_data(orig=True))
            if x is not None:
                art.set_xdata(x)
            if y is not None:
                art.set_ydata(y)
        elif isinstance(art, mcoll.Collection):
            off = q_masked(art.get_offsets())
            if off is not None:
                art.set_offsets(off)
            for path in art.get_paths():
                if not path.readonly and path.vertices.dtype.kind == "f":
                    path.vertices = round_significant(path.vertices, digits)
            arr = q_masked(art.get_array())
            if arr is not None:
                art.set_array(arr)
        elif isinstance(art, mpatches.Rectangle):
            x, y = q(art.get_xy())
            art.set_xy((x, y))
            art.set_width(round_significant(art.get_width(), digits))
            art.set_height(round_significant(art.get_height(), digits))
        elif isinstance(art, mpatches.Polygon):
            xy = q(art.get_xy())
            if xy is not None:
                art.set_xy(xy)
        elif isinstance(art, mpatches.FancyArrowPatch):
            pos = getattr(art, "_posA_posB", None)
            if pos is not None and all(p is not None for p in pos):
                art.set_positions(*(tuple(q(p).tolist()) for p in pos))
        elif isinstance(art, mpatches.FancyBboxPatch):
            art.set_bounds(*q([art.get_x(), art.get_y(), art.get_width(),
                               art.get_height()]).tolist())
        elif isinstance(art, mpatches.Wedge):
            art.set_center(tuple(q(art.center).tolist()))
            art.set_radius(round_significant(art.r, digits))
        elif isinstance(art, mpatches.Ellipse):
            art.set_center(tuple(q(art.get_center()).tolist()))
            art.set_width(round_significant(art.get_width(), digits))
            art.set_height(round_significant(art.get_height(), digits))
        elif isinstance(art, mpatches.PathPatch):
            path = art.get_path()
            if not path.readonly and path.vertices.dtype.kind == "f":
                path.vertices = round_significant(path.vertices, digits)
        elif isinstance(art, mtext.Text):
            pos = q(art.get_position())
            if pos is not None:
                art.set_position(tuple(pos.tolist()))
            if isinstance(art, mtext.Annotation):
                xy = q(art.xy)
                if xy is not None:
                    art.xy = tuple(xy.tolist())
        elif isinstance(art, mimage.AxesImage):
            arr = art.get_array()
            v = q_masked(arr)
            if v is not None and np.ndim(arr) == 2:  # values; RGB(A) images are colours
                art.set_data(v)
            ext = q(art.get_extent())
            if ext is not None:
                art.set_extent(tuple(ext.tolist()))
    return fig


def savefig(fig, name: str, directory: str | os.PathLike | None = None, *,
            digits: int = DIGITS) -> list[Path]:
    """Save ``fig`` as ``<directory>/<name>.png`` and ``.pdf``, atomically and reproducibly.

    The data drawn are first rounded to ``digits`` significant digits in place
    (:func:`quantize_figure`), so that numbers differing in their last digits between
    machines draw byte-identical files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        Content-based file stem, e.g. ``"ipma-map"`` (no extension, no number).
    directory : path, optional
        Defaults to the compendium's ``figures/`` (or under ``$COMPENDIUM_OUTPUT_DIR``, see
        :mod:`analysis.io.paths`).
    digits : int
        Significant digits of the coordinates drawn.

    Returns
    -------
    list of pathlib.Path
        The two files written.

    Raises
    ------
    ValueError
        If ``name`` is not a bare stem (contains ``/`` or ends in ``.png``/``.pdf``).

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in savefig(fig, "example", directory=d)]
    ['example.png', 'example.pdf']
    >>> plt.close(fig)
    """
    if not name or "/" in name or name.endswith((".png", ".pdf")):
        raise ValueError(f"figure name must be a bare stem like 'ipma-map', got {name!r}")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    directory = Path(directory) if directory is not None else paths.FIGURES
    quantize_figure(fig, digits)
    if os.environ.get(paths.USER_SURVEY_ENV):
        _relabel_figure(fig)
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
_NEGATIVE_ZERO = re.compile(r"-[0.]*(%|e[+-]?\d+)?")  # "-0.000", "-0.0%": printed without "-"
_ESCAPE = re.compile("|".join(re.escape(k) for k in _SPECIAL))


def _latex(df: pd.DataFrame, caption: str | None, float_format: str) -> str:
    cols = list(df.columns)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)

    def cell(v) -> str:
        if isinstance(v, float):
            if pd.isna(v):
                return ""
            text = format(v, float_format)
            return text[1:] if _NEGATIVE_ZERO.fullmatch(text) else text
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


_SYNTHETIC = (re.compile(r"\s*\(synthetic data\)"), re.compile(r"[,;]\s*synthetic data(?=\))"),
              re.compile(r"(?<=\()synthetic data[,;]\s*"))


def data_label(text: str) -> str:
    """``text`` without its "synthetic data" label when a user's survey is being analysed.

    Figure titles and table captions of the notebooks say "(synthetic data)", which is true of
    the shipped survey and false of a user's: while the notebook runner analyses a user's
    survey (it sets ``COMPENDIUM_USER_SURVEY``), :func:`savefig` and :func:`write_table` pass
    every title and caption through this function. Other labels ("synthetic costs", the cost
    table a user has not replaced) are kept.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> import os
    >>> os.environ[paths.USER_SURVEY_ENV] = "1"
    >>> data_label("Latent means (ML, synthetic data)"), data_label("Scores (synthetic data)")
    ('Latent means (ML)', 'Scores')
    >>> del os.environ[paths.USER_SURVEY_ENV]
    >>> data_label("Scores (synthetic data)")
    'Scores (synthetic data)'
    """
    if not os.environ.get(paths.USER_SURVEY_ENV):
        return text
    for pattern in _SYNTHETIC:
        text = pattern.sub("", text)
    return text


def _relabel_figure(fig) -> None:
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        label = t.get_text()
        if "synthetic data" in label:
            t.set_text(data_label(label))


def write_table(df: pd.DataFrame, name: str, *, caption: str | None = None,
                float_format: str = ".3f", directory: str | os.PathLike | None = None,
                index: bool = False, digits: int | Mapping[str, int] = DIGITS,
                zero_below: float = ZERO_BELOW) -> list[Path]:
    """Write ``df`` to ``<directory>/<name>.csv`` and ``<name>.tex`` atomically.

    Every float is written at a stated precision, ``digits`` significant digits (6 unless
    the caller states fewer, e.g. for Monte Carlo summaries whose Monte Carlo error supports
    fewer), so that the last digits that differ between machines never reach the file (see
    :func:`round_significant` for the residual chance); magnitudes below ``zero_below`` of
    their column's largest are written as 0 and ``-0`` as ``0``. The LaTeX table (booktabs:
    ``\\toprule``, ``\\midrule``, ``\\bottomrule``) is printed from the same rounded values
    with ``float_format``.

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
        Defaults to ``data/processed/`` (or under ``$COMPENDIUM_OUTPUT_DIR``, see
        :mod:`analysis.io.paths`).
    index : bool
        Whether to keep the index as leading column(s).
    digits : int or mapping of column name to int
        Significant digits of the floats in the CSV; columns missing from a mapping get
        :data:`DIGITS`.
    zero_below : float
        Relative floor below which a float is written as 0 (0 disables it).

    Returns
    -------
    list of pathlib.Path
        The CSV and the LaTeX file written.

    Raises
    ------
    ValueError
        If ``name`` is not a bare stem (contains ``/`` or ``.``).

    References
    ----------
    Higham, N. J. (2002). *Accuracy and Stability of Numerical Algorithms* (2nd ed.). SIAM,
    chapter 2 (why the last digits of a floating-point result depend on summation order).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     csv, tex = write_table(pd.DataFrame({"a": [0.14425338771, -1e-20]}), "example",
    ...                            directory=d)
    ...     print(csv.read_text(), end="")
    a
    0.144253
    0
    """
    if not name or "/" in name or "." in name:
        raise ValueError(f"table name must be a bare stem like 'community-scores', got {name!r}")
    directory = Path(directory) if directory is not None else paths.DATA_PROCESSED
    out = rounded_table(df.reset_index() if index else df, digits, zero_below=zero_below)
    csv_target = directory / f"{name}.csv"
    tex_target = directory / f"{name}.tex"
    with paths.atomic_path(csv_target) as tmp:
        _csv_strings(out, digits).to_csv(tmp, index=False, lineterminator="\n")
    paths.write_text(tex_target, _latex(out, data_label(caption) if caption else caption,
                                        float_format))
    return [csv_target, tex_target]
