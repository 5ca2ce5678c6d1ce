"""Parser for the lavaan model syntax (the subset used for SEM with continuous indicators).

Supported: ``=~`` (measured by), ``~`` (regressed on), ``~~`` (covariance), ``~ 1``
(intercept), ``:=`` (defined parameter); modifiers ``a*x`` (label), ``1*x`` (fixed value),
``NA*x`` (free), ``start(0.5)*x``, per-group ``c(a, b)*x``; several left-hand sides
(``y1 + y2 ~ x``); ``#`` and ``!`` comments; ``;`` or newlines between statements; a
statement may continue on the next line after a trailing operator or ``+``.
Two-level models: ``level: 1`` / ``level: 2`` (also ``level: within`` / ``level: between``)
open blocks; every statement then carries its ``level`` (1 or 2), else ``level`` is None.

Reference: Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
Journal of Statistical Software, 48(2). https://lavaan.ugent.be/tutorial/syntax1.html

Example
-------
>>> parse_model("f =~ x1 + a*x2 + x3\\nf ~ 1")[1].label
['a']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import SEMError

__all__ = ["Statement", "SyntaxError_", "parse_model"]


class SyntaxError_(SEMError):
    """The model text is not valid lavaan syntax (message says where); a ValueError."""


_OPS = (":=", "=~", "~~", "~", "==", "<", ">")  # order matters: longest first
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass
class Statement:
    """One ``lhs op rhs`` relation with its modifiers (per group where given as ``c(...)``)."""

    lhs: str
    op: str
    rhs: str
    label: list | None = None  # str or None per group; a single element applies to all groups
    fixed: list | None = None  # float or None (NA = free) per group
    start: list | None = None
    expr: str | None = None  # for ":=" the right-hand expression
    line: int = 0
    modifiers: dict = field(default_factory=dict)
    level: int | None = None  # 1 (within) or 2 (between) inside ``level:`` blocks


def _strip_comments(text: str) -> list[tuple[int, str]]:
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", line, maxsplit=1)[0]
        for part in line.split(";"):
            if part.strip():
                out.append((i, part.strip()))
    return out


_LEVEL = re.compile(r"^level\s*:\s*([A-Za-z0-9_]+)\s*$", re.IGNORECASE)
_LEVEL_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


def _split_levels(lines: list[tuple[int, str]]) -> list[tuple[int, str, int | None]]:
    """Attach the level of the enclosing ``level:`` block (None outside blocks)."""
    out, level, seen = [], None, False
    for ln, s in lines:
        m = _LEVEL.match(s)
        if m:
            key = m.group(1).lower()
            if key not in _LEVEL_NAMES:
                raise SyntaxError_(f"line {ln}: unknown level {m.group(1)!r}; use 1/within "
                                   f"or 2/between")
            level, seen = _LEVEL_NAMES[key], True
            continue
        out.append((ln, s, level))
    if seen and out and out[0][2] is None:
        raise SyntaxError_(f"line {out[0][0]}: statement before the first 'level:' line")
    return out


def _join_continuations(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join lines that end with an operator/'+'/'*' or whose successor starts with '+'/'*'."""
    out: list[tuple[int, str]] = []
    for ln, s in lines:
        if out:
            prev_ln, prev = out[-1]
            cont = prev.endswith(("+", "*", "~", "=~", ":=", ",", "(")) or s.startswith(("+", "*", ")"))
            if cont:
                out[-1] = (prev_ln, prev + " " + s)
                continue
        out.append((ln, s))
    return out


def _split_op(s: str, ln: int) -> tuple[str, str, str]:
    for op in _OPS:
        idx = s.find(op)
        if idx < 0:
            continue
        # "~" must not be part of "~~" or "=~" (handled by order), but "~" could match in "=~"
        if op == "~" and (s[idx - 1 : idx] == "=" or s[idx + 1 : idx + 2] == "~"):
            continue
        return s[:idx].strip(), op, s[idx + len(op) :].strip()
    raise SyntaxError_(f"line {ln}: no operator (=~, ~, ~~, :=) in {s!r}")


def _split_top(s: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses; pieces stripped."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def _split_plus(s: str) -> list[str]:
    """Split on '+' outside parentheses."""
    return _split_top(s, "+")


def _parse_value(tok: str, ln: int):
    """A single modifier token -> ('fixed', float|None) or ('label', str)."""
    tok = tok.strip()
    if tok in ("NA", "na"):
        return "fixed", None
    try:
        return "fixed", float(tok)
    except ValueError:
        pass
    tok = tok.strip("'\"")
    if not _NAME.match(tok):
        raise SyntaxError_(f"line {ln}: invalid modifier {tok!r}")
    return "label", tok


def _parse_term(term: str, ln: int) -> tuple[str, dict]:
    """'mod1*mod2*name' -> (name, modifiers)."""
    if not term:
        raise SyntaxError_(f"line {ln}: empty term (dangling '+'?)")
    pieces = _split_top(term, "*")
    name = pieces[-1]
    if name != "1" and not _NAME.match(name):
        raise SyntaxError_(f"line {ln}: invalid variable name {name!r}")
    mods: dict = {}
    for m in pieces[:-1]:
        key = None
        mm = re.match(r"^(start|label|equal)\s*\((.*)\)$", m)
        if mm:
            key, inner = mm.group(1), mm.group(2)
            vals = [v.strip() for v in inner.split(",")] if not inner.strip().startswith("c(") else None
            if vals is None:
                inner = inner.strip()[2:-1]
                vals = [v.strip() for v in inner.split(",")]
        else:
            mc = re.match(r"^c\s*\((.*)\)$", m)
            vals = [v.strip() for v in mc.group(1).split(",")] if mc else [m]
        parsed = [_parse_value(v, ln) for v in vals]
        if key == "start":
            mods["start"] = [p[1] for p in parsed]
        elif key in ("label", "equal"):
            mods["label"] = [p[1] for p in parsed]
        else:
            kinds = {p[0] for p in parsed}
            if kinds == {"label"}:
                mods["label"] = [p[1] for p in parsed]
            elif kinds == {"fixed"}:
                mods["fixed"] = [p[1] for p in parsed]
            else:
                raise SyntaxError_(f"line {ln}: mixed labels and values in {m!r}")
    return name, mods


def parse_model(text: str) -> list[Statement]:
    """Parse lavaan model syntax into a list of :class:`Statement`.

    Parameters
    ----------
    text : str
        Model in lavaan syntax.

    Returns
    -------
    list of Statement
        One per ``lhs op rhs`` pair, in the order written.

    Raises
    ------
    SyntaxError_
        (a ``ValueError``) naming the line of an invalid statement.
    """
    if not isinstance(text, str) or not text.strip():
        raise SyntaxError_("model syntax is empty")
    out: list[Statement] = []
    blocks: list[tuple[int | None, list]] = []
    for ln, s, lev in _split_levels(_strip_comments(text)):
        if not blocks or blocks[-1][0] != lev:
            blocks.append((lev, []))
        blocks[-1][1].append((ln, s))
    for lev, lines in blocks:
        start = len(out)
        _parse_lines(lines, out)
        for st in out[start:]:
            st.level = lev
    return out


def _parse_lines(lines, out: list) -> None:
    for ln, s in _join_continuations(lines):
        lhs, op, rhs = _split_op(s, ln)
        if op == ":=":
            if not _NAME.match(lhs):
                raise SyntaxError_(f"line {ln}: invalid name for defined parameter {lhs!r}")
            if not rhs:
                raise SyntaxError_(f"line {ln}: empty definition for {lhs!r}")
            out.append(Statement(lhs, op, "", expr=rhs, line=ln))
            continue
        if op in ("==", "<", ">"):
            raise SyntaxError_(f"line {ln}: constraints ({op}) are not supported; use shared labels")
        if not lhs or not rhs:
            raise SyntaxError_(f"line {ln}: missing left or right side in {s!r}")
        lhss = _split_plus(lhs)
        for lh in lhss:
            if not _NAME.match(lh):
                raise SyntaxError_(f"line {ln}: invalid variable name {lh!r}")
        for term in _split_plus(rhs):
            name, mods = _parse_term(term, ln)
            if name == "1" and op != "~":
                raise SyntaxError_(f"line {ln}: '1' is only allowed as '~ 1' (intercept)")
            if op == "=~" and name == "1":
                raise SyntaxError_(f"line {ln}: invalid indicator '1'")
            for lh in lhss:
                real_op = "~1" if (op == "~" and name == "1") else op
                out.append(
                    Statement(
                        lh,
                        real_op,
                        "" if real_op == "~1" else name,
                        label=mods.get("label"),
                        fixed=mods.get("fixed"),
                        start=mods.get("start"),
                        line=ln,
                    )
                )
