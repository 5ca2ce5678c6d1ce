"""Every public function and class of ``analysis/`` is documented in numpydoc form.

The package is read with :mod:`ast` (nothing is imported or executed), so the test is fast
and sees exactly what a reader of the source sees. Rules, for names defined at module level
without a leading underscore:

* every module has a module docstring;
* every public class and function has a docstring;
* a public function that takes parameters has a ``Parameters`` section, which names every
  parameter (``name : type`` entries; several names may share one entry, ``a, b : int``);
* a public function has a ``Returns`` section (a generator may have ``Yields`` instead).

A section is a numpydoc header: its name on one line, a line of dashes under it. Methods,
``__init__`` and properties are exempt (the class docstring documents them), as are names
with a leading underscore.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analysis"
MODULES = sorted(PACKAGE.rglob("*.py"))


def has_section(doc: str, name: str) -> bool:
    """Whether ``doc`` has the numpydoc section ``name`` (header line, dashes under it)."""
    return re.search(rf"^[ \t]*{name}[ \t]*\n[ \t]*-{{3,}}[ \t]*$", doc, re.MULTILINE) is not None


def documented_names(doc: str) -> set[str] | None:
    """Parameter names of the entries of the ``Parameters`` section (None without one).

    An entry is a line at the section's own indentation: ``name : type``, ``a, b : type``,
    ``*args`` or a bare name; the indented lines under it are its description.
    """
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Parameters" and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
            body = []
            for j in range(i + 2, len(lines)):
                nxt = lines[j + 1] if j + 1 < len(lines) else ""
                if lines[j].strip() and re.fullmatch(r"\s*-{3,}\s*", nxt):
                    break  # the next section's header
                if lines[j].strip():
                    body.append(lines[j])
            if not body:
                return set()
            base = min(len(ln) - len(ln.lstrip()) for ln in body)
            heads = [ln.strip().split(" : ")[0] for ln in body if len(ln) - len(ln.lstrip()) == base]
            return {part.strip().lstrip("*") for head in heads for part in head.split(",")}
    return None


def parameter_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """All parameter names of ``fn``, in order."""
    a = fn.args
    return ([x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
            + ([a.vararg.arg] if a.vararg else []) + ([a.kwarg.arg] if a.kwarg else []))


def is_generator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``fn`` itself yields (yields inside nested functions or classes do not count)."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def takes_parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``fn`` has any parameter (positional, keyword-only, ``*args`` or ``**kwargs``)."""
    a = fn.args
    return bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg)


def gaps(path: Path, root: Path = PACKAGE.parent) -> dict[tuple[str, str], tuple[int, frozenset[str], list[str]]]:
    """Rules broken by the public names of one module: (file, name) -> (line, rules, missing).

    ``file`` is the module's path relative to ``root`` (the repository); ``missing`` lists the
    parameters absent from the ``Parameters`` section.
    """
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    out = {}
    if not ast.get_docstring(tree):
        out[(rel, "<module>")] = (1, frozenset({"docstring"}), [])
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node) or ""
        broken, missing = set(), []
        if not doc.strip():
            broken.add("docstring")
        if not isinstance(node, ast.ClassDef):
            if takes_parameters(node) and not has_section(doc, "Parameters"):
                broken.add("parameters")
            named = documented_names(doc)
            missing = [] if named is None else [a for a in parameter_names(node) if a not in named]
            if missing:
                broken.add("undocumented")
            if not (has_section(doc, "Returns")
                    or (is_generator(node) and has_section(doc, "Yields"))):
                broken.add("returns")
        if broken:
            out[(rel, node.name)] = (node.lineno, frozenset(broken), missing)
    return out


MESSAGES = {"docstring": "no docstring", "parameters": "no 'Parameters' section",
            "undocumented": "parameter(s) {missing} missing from the 'Parameters' section",
            "returns": "no 'Returns' (or, for a generator, 'Yields') section"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
def test_public_names_are_documented(path):
    problems = []
    for (rel, name), (line, broken, missing) in gaps(path).items():
        if broken:
            problems.append(f"{rel}:{line} {name}: " + "; ".join(
                MESSAGES[b].format(missing=", ".join(missing)) for b in sorted(broken)))
    assert not problems, "undocumented public names:\n" + "\n".join(problems)


def test_the_checker_sees_each_kind_of_gap(tmp_path):
    """The rules themselves: each kind of gap is detected, and a complete docstring passes."""
    pkg = tmp_path / "analysis"
    pkg.mkdir()
    src = pkg / "demo.py"
    src.write_text('''"""Demo module."""

def bare(x):
    return x


def no_params(x):
    """Summary.

    Returns
    -------
    int
    """


def no_returns(x):
    """Summary.

    Parameters
    ----------
    x : int
    """


def gen(x):
    """Summary.

    Parameters
    ----------
    x : int

    Yields
    ------
    int
    """
    yield x


def not_gen(x):
    """Summary.

    Parameters
    ----------
    x : int

    Yields
    ------
    int
    """
    def inner():
        yield x
    return inner


def half(x, y):
    """Summary.

    Parameters
    ----------
    x : int
        Not y.

    Returns
    -------
    int
    """


def complete(x, *, y=1, **kwargs):
    """Summary.

    Parameters
    ----------
    x, y : int
    **kwargs
        Passed on.

    Returns
    -------
    int
    """
    return x + y


def no_args():
    """Summary.

    Returns
    -------
    None
    """


class Undocumented:
    def method(self, x):
        return x


def _private(x):
    return x
''', encoding="utf-8")
    found = {name: broken for (_, name), (_, broken, _) in gaps(src, tmp_path).items()}
    assert gaps(src, tmp_path)[("analysis/demo.py", "half")][2] == ["y"]
    assert found == {
        "bare": {"docstring", "parameters", "returns"},
        "no_params": {"parameters"},
        "no_returns": {"returns"},
        "not_gen": {"returns"},
        "half": {"undocumented"},
        "Undocumented": {"docstring"},
    }
    (pkg / "nodoc.py").write_text("x = 1\n", encoding="utf-8")
    assert gaps(pkg / "nodoc.py", tmp_path) == {
        ("analysis/nodoc.py", "<module>"): (1, frozenset({"docstring"}), [])}
