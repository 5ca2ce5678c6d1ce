"""The package's layering rules, checked on the source (no module is imported).

Layers, lowest first: ``io`` <- ``sem`` <- ``methods`` <- ``study`` <- ``plots`` <- ``reports``.
A module may import its own layer and the layers below; the engine (``analysis.sem``) imports nothing
else of ``analysis``; nothing outside the engine reaches into its submodules or private
names; no private name is imported across modules; there are no import cycles.
Notebooks sit above every layer and use the public names of each.
"""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "analysis"
RANK = {"io": 0, "sem": 1, "methods": 2, "study": 3, "plots": 4, "reports": 5}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def public_api(init: Path) -> set:
    """The names in a package's ``__all__``."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


ENGINE_API = public_api(PKG / "sem" / "__init__.py")


def imports_of(path: Path, modname: str):
    """(imported module, imported names, line) for every import, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = modname if path.name == "__init__.py" else modname.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [a.name for a in node.names]
            out.append((target, names, node.lineno))
    return out


def resolve(target: str, names):
    """The analysis modules an import statement loads (``from pkg import mod`` included)."""
    mods = []
    if target in MODULES:
        mods.append(target)
    for n in names:
        if f"{target}.{n}" in MODULES:
            mods.append(f"{target}.{n}")
    return mods


def layer(mod: str):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def edges():
    for mod, path in MODULES.items():
        for target, names, line in imports_of(path, mod):
            if target and (target == "analysis" or target.startswith("analysis.")):
                yield mod, target, names, line, path


def test_every_module_is_in_a_layer():
    stray = [m for m in MODULES if m != "analysis" and layer(m) is None]
    assert not stray, f"modules outside the layers {sorted(RANK)}: {stray}"


def test_imports_run_only_downward():
    bad = []
    for mod, target, names, line, path in edges():
        for dep in resolve(target, names) or [target]:
            a, b = layer(mod), layer(dep)
            if b is None or a is None:
                continue
            if a == "sem" and b != "sem":
                bad.append(f"{path.relative_to(ROOT)}:{line}: the engine imports {dep}")
            elif RANK[b] > RANK[a]:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {a} imports {b} ({dep})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = {m: set() for m in MODULES}
    for mod, target, names, _, _ in edges():
        for dep in resolve(target, names):
            if dep != mod and not MODULES[dep].name == "__init__.py":
                graph[mod].add(dep)
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def engine_violations(source: str, where: str):
    """Imports of engine submodules or private names from outside ``analysis/sem``."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("analysis.sem."):
                bad.append(f"{where}:{node.lineno}: imports engine submodule {node.module}")
            elif node.module == "analysis.sem":
                for a in node.names:
                    if a.name not in ENGINE_API:
                        bad.append(f"{where}:{node.lineno}: imports analysis.sem.{a.name}")
        elif isinstance(node, ast.Import):
            bad += [f"{where}:{node.lineno}: imports {a.name}" for a in node.names
                    if a.name.startswith("analysis.sem.")]
    return bad


def notebook_sources():
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        src = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        yield nb.relative_to(ROOT), src


def test_only_the_engine_uses_its_internals():
    bad = []
    for mod, path in MODULES.items():
        if layer(mod) != "sem":
            bad += engine_violations(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    for where, src in notebook_sources():
        bad += engine_violations(src, where)
    for path in sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "bench").glob("*.py")):
        bad += engine_violations(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not bad, "\n".join(bad)


def private_imports(source: str, where: str):
    return [f"{where}:{node.lineno}: from {node.module} import {a.name}"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("analysis"))
            for a in node.names if a.name.startswith("_") and a.name != "__version__"]


def test_no_private_name_crosses_a_module():
    bad = []
    for mod, path in MODULES.items():
        bad += private_imports(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    for where, src in notebook_sources():
        bad += private_imports(src, where)
    for path in sorted((ROOT / "tests").rglob("*.py")):
        bad += private_imports(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    assert not bad, "\n".join(bad)


def test_no_test_imports_another_test_module():
    bad = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{path.name}:{node.lineno}: imports {m}" for m in mods
                    if m.split(".")[0].startswith("test_") or m == "conftest"]
    assert not bad, "\n".join(bad)


def test_importorskip_only_for_third_party_packages():
    bad = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).split(".")[0] == "analysis"):
                bad.append(f"{path.name}:{node.lineno}: importorskip({node.args[0].value!r})")
    assert not bad, "a broken import of our own package must fail, not skip:\n" + "\n".join(bad)


@pytest.mark.parametrize("rule, source, expected", [
    ("engine", "from analysis.sem.fit import build_estimates", 1),
    ("engine", "from analysis.sem import fit_sem", 0),
    ("private", "from analysis.study.recovery import _targets", 1),
    ("private", "from .fiml import _state", 1),
])
def test_the_rules_catch_what_they_forbid(rule, source, expected):
    found = engine_violations(source, "x") if rule == "engine" else private_imports(source, "x")
    assert len(found) == expected


def attrs_uses(source: str, where: str):
    """Every read or write of ``DataFrame.attrs``: ``x.attrs`` or ``getattr(x, "attrs")``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "attrs":
            out.append(f"{where}:{node.lineno}: .attrs")
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") in
              ("getattr", "setattr", "hasattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and node.args[1].value == "attrs"):
            out.append(f"{where}:{node.lineno}: {node.func.id}(..., 'attrs')")
    return out


def test_no_dataframe_attrs():
    """Results travel in result classes (or as columns), never in ``DataFrame.attrs``: pandas
    calls ``attrs`` experimental and copies it into every filtered or derived frame, so an
    extra attached to one table silently follows its subsets. Checked in every module of the
    package and in the notebooks' code cells."""
    for src, n in (("df.attrs['n'] = 1", 1), ("x = df.attrs.get('theta')", 1),
                   ("getattr(df, 'attrs')", 1), ("attrs = {}; df.table", 0)):
        assert len(attrs_uses(src, "x")) == n, src
    bad = []
    for mod, path in MODULES.items():
        bad += attrs_uses(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    for where, src in notebook_sources():
        bad += attrs_uses(src, where)
    assert not bad, "\n".join(bad)
