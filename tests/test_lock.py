"""requirements-lock.txt and pyproject.toml agree: every range in pyproject admits the locked version.

`make test`, `make demo` and .ci/run install from the lock, so a stale lock would test versions that
pyproject no longer allows (or miss a dependency that was added). `make lock` rewrites it.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_PIN_RE = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", re.M)


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements-lock.txt").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in _PIN_RE.findall(text)}


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return [Requirement(spec) for spec in specs]


def test_every_dependency_is_locked_within_its_range():
    locked = _locked()
    problems = []
    for req in _declared():
        version = locked.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name}: not in requirements-lock.txt")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: locked {version}, pyproject asks {req.specifier}")
    assert not problems, "run `make lock`: " + "; ".join(problems)


def test_every_locked_package_has_hashes():
    text = (ROOT / "requirements-lock.txt").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert len(blocks) >= 20
    assert all("--hash=sha256:" in block for block in blocks if "==" in block.split("\n")[0])


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return {canonicalize_name(n): v for n, v in _PIN_RE.findall(text)}


def test_production_lock_is_the_dev_lock_without_the_test_tools():
    """`make install` (production) installs requirements.txt: the same versions the suite ran with,
    every runtime dependency, and none of the test extra's own packages."""
    dev, prod = _pins("requirements-lock.txt"), _pins("requirements.txt")
    assert {n: dev.get(n) for n in prod} == prod, "run `make lock`: the two locks disagree"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {canonicalize_name(Requirement(s).name) for s in project["dependencies"]}
    assert runtime <= set(prod), runtime - set(prod)
    test_tools = {canonicalize_name(Requirement(s).name) for s in project["optional-dependencies"]["test"]}
    assert not (test_tools & set(prod)), test_tools & set(prod)
