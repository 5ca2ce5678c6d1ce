"""The questionnaire's single source of truth: constructs, items, labels, scales, reverse flags.

Every model, label and check in the compendium is derived from ``data/raw/codebook.csv``. A user
with a different questionnaire edits that file (or passes their own), not the code.

The shipped items are constructed for this compendium; they are not the original study's
questionnaire.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis.io import paths
from analysis.io.checks import spreadsheet_rows

REQUIRED_COLUMNS = (
    "item", "construct", "construct_en", "construct_zh", "role", "wording_en", "wording_zh",
    "scale_min", "scale_max", "reverse",
)
OPTIONAL_COLUMNS = ("dimension_en", "dimension_zh", "missing_codes", "policy_source", "origin")
ROLES = ("element", "outcome")


class CodebookError(ValueError):
    """A codebook that cannot define a questionnaire."""




def load_codebook(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and validate a codebook (one row per questionnaire item).

    Parameters
    ----------
    path : path, optional
        CSV file; defaults to ``data/raw/codebook.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per item in questionnaire order, with ``reverse`` as bool, ``scale_min`` and
        ``scale_max`` as int and ``missing_codes`` as a string of ``;``-separated codes.

    Raises
    ------
    CodebookError
        Naming the file, the column and the first offending rows: missing columns, duplicate or
        malformed item ids, unknown roles, a construct with fewer than three items, scale
        minimum not below maximum, no outcome construct, or a construct with two roles.

    Examples
    --------
    >>> cb = load_codebook()
    >>> construct_items(cb)["MS"]
    ['MS1', 'MS2', 'MS3', 'MS4']
    """
    path = Path(path) if path is not None else paths.CODEBOOK
    if not path.exists():
        raise CodebookError(f"{path}: codebook file not found")
    cb = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in REQUIRED_COLUMNS if c not in cb.columns]
    if missing:
        raise CodebookError(f"{path}: required column(s) missing: {', '.join(missing)}")
    for col in OPTIONAL_COLUMNS:
        if col not in cb.columns:
            cb[col] = ""
    for col in ("item", "construct", "role"):
        cb[col] = cb[col].str.strip()
        empty = cb[col] == ""
        if empty.any():
            raise CodebookError(f"{path}: column '{col}' is empty in rows {spreadsheet_rows(empty)}")
    dup = cb["item"].duplicated(keep=False)
    if dup.any():
        raise CodebookError(f"{path}: column 'item' has duplicate ids in rows {spreadsheet_rows(dup)}")
    bad_id = ~cb["item"].str.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*")
    if bad_id.any():
        raise CodebookError(
            f"{path}: column 'item' must hold identifiers (letters, digits, _), rows {spreadsheet_rows(bad_id)}")
    bad_role = ~cb["role"].isin(ROLES)
    if bad_role.any():
        raise CodebookError(
            f"{path}: column 'role' must be one of {ROLES}, rows {spreadsheet_rows(bad_role)}")
    for col in ("scale_min", "scale_max"):
        num = pd.to_numeric(cb[col], errors="coerce")
        bad = num.isna() | (num != num.round())
        if bad.any():
            raise CodebookError(f"{path}: column '{col}' must be a whole number, rows {spreadsheet_rows(bad)}")
        cb[col] = num.astype(int)
    bad = cb["scale_min"] >= cb["scale_max"]
    if bad.any():
        raise CodebookError(f"{path}: scale_min must be below scale_max, rows {spreadsheet_rows(bad)}")
    rev = cb["reverse"].str.strip().str.lower()
    bad = ~rev.isin(["true", "false", "1", "0", "yes", "no"])
    if bad.any():
        raise CodebookError(f"{path}: column 'reverse' must be true/false, rows {spreadsheet_rows(bad)}")
    cb["reverse"] = rev.isin(["true", "1", "yes"])
    roles = cb.groupby("construct", sort=False)["role"].nunique()
    if (roles > 1).any():
        raise CodebookError(
            f"{path}: construct(s) {', '.join(roles[roles > 1].index)} have more than one role")
    sizes = cb.groupby("construct", sort=False).size()
    small = sizes[sizes < 3]
    if len(small):
        raise CodebookError(
            f"{path}: construct(s) {', '.join(f'{c} ({n} items)' for c, n in small.items())} "
            "have fewer than 3 items; a reflective construct needs at least 3 to be identified")
    if not (cb["role"] == "outcome").any():
        raise CodebookError(f"{path}: no construct has role 'outcome' (the performance construct)")
    bad = cb["item"].isin(cb["construct"])
    if bad.any():
        raise CodebookError(f"{path}: item ids must differ from construct codes, rows {spreadsheet_rows(bad)}")
    return cb


def construct_items(codebook: pd.DataFrame) -> dict[str, list[str]]:
    """Items of each construct, constructs and items in codebook order.

    Examples
    --------
    >>> list(construct_items(load_codebook()))
    ['MS', 'CS', 'OM', 'RA', 'CC', 'PV']
    """
    return {c: list(g["item"]) for c, g in codebook.groupby("construct", sort=False)}


def constructs(codebook: pd.DataFrame) -> pd.DataFrame:
    """One row per construct: ``construct construct_en construct_zh role n_items``."""
    g = codebook.groupby("construct", sort=False)
    out = g[["construct_en", "construct_zh", "role"]].first()
    out["n_items"] = g.size()
    return out.reset_index()


def elements(codebook: pd.DataFrame) -> list[str]:
    """Construct codes with role ``element`` (the five public-value elements), in order."""
    return [c for c in construct_items(codebook)
            if (codebook.loc[codebook["construct"] == c, "role"] == "element").all()]


def outcome(codebook: pd.DataFrame) -> str:
    """The construct code with role ``outcome`` (governance performance)."""
    outs = list(dict.fromkeys(codebook.loc[codebook["role"] == "outcome", "construct"]))
    if len(outs) != 1:
        raise CodebookError(f"the codebook needs exactly one outcome construct, found {outs}")
    return outs[0]


def missing_codes(codebook: pd.DataFrame) -> dict[str, list[float]]:
    """Declared missing-value codes per item (e.g. ``9`` = "don't know")."""
    out = {}
    for item, codes in zip(codebook["item"], codebook["missing_codes"]):
        parts = [p.strip() for p in str(codes).replace(",", ";").split(";") if p.strip()]
        out[item] = [float(p) for p in parts]
    return out


def questionnaire_markdown(codebook: pd.DataFrame) -> str:
    """A printable bilingual questionnaire generated from the codebook.

    Examples
    --------
    >>> text = questionnaire_markdown(load_codebook())
    >>> text.splitlines()[0]
    '# Resident questionnaire: community governance and public value / 社区治理与公共价值居民问卷'
    """
    lo, hi = int(codebook["scale_min"].min()), int(codebook["scale_max"].max())
    lines = [
        "# Resident questionnaire: community governance and public value / 社区治理与公共价值居民问卷",
        "",
        "> Generated from `data/raw/codebook.csv` by `analysis.io.codebook.questionnaire_markdown`.",
        "> The items are **constructed for this research compendium**; they are not the original",
        "> study's questionnaire. / 本问卷条目为本研究资料库自行编制，并非原研究的问卷。",
        "",
        f"Answer each statement from {lo} = strongly disagree / 非常不同意 to {hi} = strongly agree /"
        " 非常同意.",
    ]
    codes = sorted({c for v in missing_codes(codebook).values() for c in v})
    if codes:
        lines.append(f"Code {', '.join(f'{c:g}' for c in codes)} = don't know / 不清楚.")
    lines.append("Items marked (R) are reverse-coded in the analysis. / 标 (R) 的条目在分析中反向计分。")
    for c, g in codebook.groupby("construct", sort=False):
        first = g.iloc[0]
        lines += ["", f"## {first['construct_en']} / {first['construct_zh']} ({c})", "",
                  f"| item | statement | 陈述 | {' | '.join(str(v) for v in range(lo, hi + 1))} |",
                  "|---|---|---|" + "---|" * (hi - lo + 1)]
        for _, r in g.iterrows():
            mark = " (R)" if r["reverse"] else ""
            boxes = " | ".join("☐" for _ in range(lo, hi + 1))
            lines.append(f"| {r['item']}{mark} | {r['wording_en']} | {r['wording_zh']} | {boxes} |")
    return "\n".join(lines) + "\n"
