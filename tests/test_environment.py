"""The pins in environment.yml agree with pyproject.toml, the single source of truth."""

import re
import tomllib

from analysis.io import paths


def _pyproject_pins() -> dict[str, str]:
    meta = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    pins = {}
    for r in reqs:
        name, _, version = r.partition("==")
        assert version, f"pyproject.toml: '{r}' is not pinned with =="
        pins[name.lower()] = version
    return pins


def _environment_pins() -> dict[str, str]:
    text = (paths.ROOT / "environment.yml").read_text()
    return {m.group(1).lower(): m.group(2)
            for m in re.finditer(r"^\s*-\s*([A-Za-z0-9_.\-]+)==([^\s]+)\s*$", text, re.M)}


def test_environment_yml_pins_match_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_environment_yml_installs_the_package_editable():
    assert re.search(r"^\s*-\s*-e \.\s*$", (paths.ROOT / "environment.yml").read_text(), re.M)
