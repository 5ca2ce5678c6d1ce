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

    Expressions are lavaan ``:=`` right-hand sides: ``+ - * / ^`` (``**``), numbers,
    parentheses, ``exp log sqrt abs`` and the names of labels or of earlier definitions.
    They are parsed with :mod:`ast` and checked against that whitelist before compilation.

    Parameters
    ----------
    defined : sequence of (str, str)
        ``(name, expression)`` pairs in the order of the syntax; a definition may use those
        before it.
    labels : iterable of str
        Parameter labels the expressions may refer to.

    Returns
    -------
    callable
        ``evaluate(values: dict) -> dict`` from label values to ``{name: value}`` of every
        definition (floats, in definition order).

    Raises
    ------
    SEMError
        When an expression cannot be parsed, uses an unknown name, or uses unsupported
        syntax or functions.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36 (the ``:=`` operator).

    Examples
    --------
    >>> f = compile_definitions([("ind", "a*b"), ("tot", "ind + c")], {"a", "b", "c"})
    >>> f({"a": 2.0, "b": 3.0, "c": 1.0})
    {'ind': 6.0, 'tot': 7.0}
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
    """Label -> value, from per-row values (first occurrence of each label).

    Parameters
    ----------
    partable : DataFrame
        Parameter table with a ``label`` column (empty string for unlabelled rows).
    values : array_like
        One value per row of ``partable`` (estimates, or standardised values).

    Returns
    -------
    dict
        ``{label: value}``; a label shared by several rows (an equality constraint) takes the
        value of its first row.

    Examples
    --------
    >>> import pandas as pd
    >>> pt = pd.DataFrame({"label": ["a", "", "b", "a"]})
    >>> label_values(pt, [1.0, 2.0, 3.0, 4.0])
    {'a': 1.0, 'b': 3.0}
    """
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
    The step for coordinate k is ``rel_step * max(1, |theta_k|)``.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> array_like`` of any fixed length.
    theta : array_like
        Point of evaluation.
    rel_step : float, default 1e-6
        Relative step (at least 1e-7 for forward differences).
    central : bool, default True
        Central rather than forward differences.

    Returns
    -------
    ndarray, shape (len(fun(theta)), len(theta))
        The Jacobian; the delta-method covariance of ``fun`` is ``J V J'``.

    References
    ----------
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural
    equation models. Sociological Methodology 13, 290-312 (delta method).

    Examples
    --------
    >>> J = numeric_jacobian(lambda t: [t[0] * t[1]], [2.0, 3.0])
    >>> np.round(J, 6)
    array([[3., 2.]])
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
