"""One way to save figures: PNG and PDF, byte-identical across runs, in one style.

Matplotlib otherwise stamps files with its version and a creation date; both are removed so
that ``make reproduce`` twice leaves ``git status`` clean.
"""

from __future__ import annotations

import os

import matplotlib

#: The compendium's figure style, applied by :func:`use_style` (notebooks call it once).
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.figsize": (7.0, 4.5),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "svg.hashsalt": "compendium",
    "pdf.fonttype": 42,
    "path.simplify": True,
}

#: Colours for the four community types and the five elements, used in every figure.
PALETTE = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057"]


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib (idempotent)."""
    matplotlib.rcParams.update(STYLE)
    # PDF creation dates honour SOURCE_DATE_EPOCH; pin it so nothing depends on the clock.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
