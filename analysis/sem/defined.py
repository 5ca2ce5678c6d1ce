"""Defined parameters (lavaan ``:=``): arithmetic of labelled parameters, delta-method SEs.

Reference: Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in
structural equation models. Sociological Methodology 13, 290-312 (delta method).

Example
-------
>>> f = compile_definitions([("ind", "a*b")], {"a", "b"})
>>> f({"a": 2.0, "b": 3.0})
{'ind': 6.0}
"""

from __future__ import annotations

import ast
import math

import numpy as np

from .errors import SEMError

__all__ = ["compile_definitions", "label_values", "numeric_jacobian"]

_FUNCS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Call)


def compile_definitions(defined, labels):
    """Compile ``[(name, expr), ...]`` into a function mapping label values to defined values.

    Raises :class:`SEMError` when an expression uses an unknown name or unsupported syntax.
    """
    known = set(labels)
    codes = []
    for name, expr in defined:
        src = expr.replace("^", "**")
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError as e:
            raise SEMError(f"defined parameter {name!r}: cannot parse {expr!r}") from e
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise SEMError(f"defined parameter {name!r}: unsupported syntax in {expr!r}")
            if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                                    and node.func.id in _FUNCS):
                raise SEMError(f"defined parameter {name!r}: unsupported function in {expr!r}")
            if isinstance(node, ast.Name) and node.id not in known and node.id not in _FUNCS:
                raise SEMError(
                    f"defined parameter {name!r} uses {node.id!r}, which is not a label in the model")
        codes.append((name, compile(tree, f"<{name}>", "eval")))
        known.add(name)

    def evaluate(values: dict) -> dict:
        ns = dict(_FUNCS)
        ns.update(values)
        out = {}
        for name, code in codes:
            v = float(eval(code, {"__builtins__": {}}, ns))  # noqa: S307 - AST checked above
            ns[name] = v
            out[name] = v
        return out

    return evaluate


def label_values(partable, values) -> dict:
    """Label -> value, from per-row values (first occurrence of each label)."""
    key = id(partable)
    cached = _LABEL_ROWS.get(key)
    if cached is None or cached[0] is not partable:
        first: dict = {}
        for k, lab in enumerate(partable["label"]):
            if lab and lab not in first:
                first[lab] = k
        cached = (partable, list(first), np.array(list(first.values()), dtype=int))
        _LABEL_ROWS.clear()  # keep one entry: the table being worked on
        _LABEL_ROWS[key] = cached
    _, names, rows = cached
    vals = np.asarray(values, dtype=float)[rows]
    return dict(zip(names, vals.tolist()))


_LABEL_ROWS: dict = {}


def numeric_jacobian(fun, theta, rel_step: float = 1e-6, central: bool = True) -> np.ndarray:
    """Finite-difference Jacobian of a vector function (rows: outputs, cols: theta).

    Central differences (error O(h^2), ~1e-10 here) by default; forward differences
    (error O(h), ~1e-6 relative: ample for standard errors) halve the evaluations.
    """
    theta = np.asarray(theta, float)
    f0 = np.asarray(fun(theta), float)
    J = np.zeros((f0.size, theta.size))
    if not central:
        rel_step = max(rel_step, 1e-7)
    for k in range(theta.size):
        h = rel_step * max(1.0, abs(theta[k]))
        tp = theta.copy()
        tp[k] += h
        if central:
            tm = theta.copy()
            tm[k] -= h
            J[:, k] = (np.asarray(fun(tp), float) - np.asarray(fun(tm), float)) / (2 * h)
        else:
            J[:, k] = (np.asarray(fun(tp), float) - f0) / h
    return J
