"""Declared dependencies: requirement files, pyproject.toml, setup.py/.cfg, Pipfile, package.json.

Parsing uses kept parsers only: ``packaging.requirements`` for PEP 508 lines, ``tomllib``
for TOML, ``json`` for package.json, ``ast`` and ``configparser`` for setup.py and setup.cfg
(``setuppy``: setup.py is never run). Neither TOML, JSON nor INI parsers report positions,
so a declaration's line is found afterwards by looking for its text in the file. What a
lockfile resolved for a declaration is added later (``lockfiles``).
"""

from __future__ import annotations

import configparser
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from orchestra_audit.files import FileText
from orchestra_audit.findings import Ecosystem
from orchestra_audit.layout import is_requirements
from orchestra_audit.setuppy import (
    SetupRequirement,
    setup_cfg_requirements,
    setup_py_requirements,
)
from orchestra_audit.versions import EXTERNAL, INVALID, UNPINNED, Constraint, npm, pep440

NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
"""peerDependencies are ranges on purpose (the host app pins), so they are not judged."""


@dataclass(frozen=True)
class Declared:
    """One dependency declaration, where it is and what its constraint allows."""

    ecosystem: Ecosystem
    name: str
    spec: str
    file: str
    line: int
    evidence: str
    constraint: Constraint
    library: bool
    """Library metadata (pyproject [project], setup.py, setup.cfg): lower bounds are the norm."""
    locked: str = ""
    """The version a lockfile covering this manifest resolved, '' when none does."""
    lockfile: str = ""
    """That lockfile's path relative to the repository root."""


@dataclass(frozen=True)
class ManifestError:
    """A manifest that could not be parsed at all."""

    file: str
    reason: str


def _locate(lines: list[str], *needles: str, start: int = 0) -> int:
    """The 1-based line of the first needle found at or after ``start``, else 0."""
    for needle in needles:
        for number in range(start, len(lines)):
            if needle in lines[number]:
                return number + 1
    return 0


def _logical_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """A pip requirement file's logical lines: comments dropped, continuations joined."""
    buffer, first = "", 0
    for number, raw in enumerate(lines, 1):
        text = raw.split(" #", 1)[0].split("\t#", 1)[0]
        text = "" if text.lstrip().startswith("#") else text.strip()
        if not buffer:
            first = number
        if text.endswith("\\"):
            buffer += text[:-1] + " "
            continue
        buffer += text
        if buffer.strip():
            yield first, buffer.strip()
        buffer = ""
    if buffer.strip():
        yield first, buffer.strip()


def _pep508(text: str) -> tuple[str, Constraint, str]:
    """Name, constraint and spec text of one PEP 508 requirement string."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text.split()[0] if text.split() else text, INVALID, text
    if req.url:
        return req.name, EXTERNAL, req.url
    return req.name, pep440(req.specifier), str(req.specifier)


def requirements(file: FileText) -> list[Declared]:
    """The requirements of a pip requirement file (options, includes and paths are skipped)."""
    found = []
    for number, text in _logical_lines(file.lines):
        if text.startswith("-") or text.startswith((".", "/")) or "://" in text.split()[0]:
            continue  # -r/-c/-e/--index-url, local paths and direct URLs: no version to judge
        requirement = text.split(" --", 1)[0].split(" ;", 1)[0].strip()
        name, constraint, spec = _pep508(text.split(" --", 1)[0].strip())
        evidence = file.lines[number - 1].strip()
        found.append(
            Declared(
                "pypi", name, spec or requirement, file.path, number, evidence, constraint, False
            )
        )
    return found


def _poetry(value: object) -> tuple[str, Constraint]:
    """Poetry's constraint syntax: ``*``, ``^1.2``, ``~1.2``, a bare exact version, PEP 440."""
    if isinstance(value, dict):
        if any(k in value for k in ("git", "path", "url")):
            return "", EXTERNAL
        value = value.get("version", "*")
    if not isinstance(value, str):
        return str(value), INVALID
    text = value.strip()
    if text in ("", "*"):
        return text, UNPINNED
    if text[0] in "^~" and not text.startswith("~="):
        try:
            return text, Constraint("bounded", None, Version(text[1:].strip()))
        except InvalidVersion:
            return text, INVALID
    try:
        pinned = Version(text)
    except InvalidVersion:
        try:
            return text, pep440(SpecifierSet(text))
        except InvalidSpecifier:
            return text, INVALID
    return text, Constraint("pinned", pinned, pinned)


def _pyproject_strings(data: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    project = data.get("project", {})
    for item in project.get("dependencies", []) or []:
        yield item, True
    for group in (project.get("optional-dependencies", {}) or {}).values():
        yield from ((item, True) for item in group)
    for group in (data.get("dependency-groups", {}) or {}).values():
        # {include-group = "..."} entries reference other groups: nothing to judge.
        yield from ((item, True) for item in group if isinstance(item, str))


def _poetry_tables(data: dict[str, Any]) -> Iterator[tuple[str, object]]:
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        for name, value in table.items():
            if name.lower() != "python":
                yield name, value


def pyproject(file: FileText) -> list[Declared] | ManifestError:
    """The dependencies of a ``pyproject.toml`` (PEP 621, PEP 735 groups and Poetry)."""
    try:
        data = tomllib.loads(file.text)
    except tomllib.TOMLDecodeError as exc:
        return ManifestError(file.path, f"not valid TOML: {exc}")
    lines = file.lines
    found = []
    for text, library in _pyproject_strings(data):
        if not isinstance(text, str):
            continue
        name, constraint, spec = _pep508(text)
        line = _locate(lines, f'"{text}"', f"'{text}'", f'"{name}')
        evidence = lines[line - 1].strip() if line else text
        found.append(Declared("pypi", name, spec, file.path, line, evidence, constraint, library))
    found += _tables(file, _poetry_tables(data), "[tool.poetry")
    return found


def _tables(file: FileText, items: Iterable[tuple[str, object]], section: str) -> list[Declared]:
    """Declarations of TOML tables ``name = spec`` below ``section`` (Poetry, Pipfile)."""
    lines = file.lines
    start = max(_locate(lines, section) - 1, 0)
    found = []
    for name, value in items:
        spec, constraint = _poetry(value)
        line = _locate(lines, f"{name} =", f"{name}=", f'"{name}"', start=start)
        evidence = lines[line - 1].strip() if line else f"{name} = {spec}"
        found.append(Declared("pypi", name, spec, file.path, line, evidence, constraint, False))
    return found


def pipfile(file: FileText) -> list[Declared] | ManifestError:
    r"""The ``[packages]`` and ``[dev-packages]`` of a Pipenv ``Pipfile``.

    Its values are PEP 440 specs, ``"*"`` or tables (``{version = ...}``, ``{git = ...}``),
    which Poetry's reader already understands.

    Example:
        >>> from pathlib import Path
        >>> text = '[packages]\nrequests = ">=2.32"\n[dev-packages]\npytest = "*"\n'
        >>> file = FileText("Pipfile", Path("Pipfile"), text)
        >>> [(i.name, i.line, i.constraint.shape) for i in pipfile(file)]
        [('requests', 2, 'unbounded'), ('pytest', 4, 'unpinned')]
    """
    try:
        data = tomllib.loads(file.text)
    except tomllib.TOMLDecodeError as exc:
        return ManifestError(file.path, f"not valid TOML: {exc}")
    tables = [data.get("packages", {}), data.get("dev-packages", {})]
    items = [(n, v) for table in tables if isinstance(table, dict) for n, v in table.items()]
    return _tables(file, items, "[packages]")


def package_json(file: FileText) -> list[Declared] | ManifestError:
    """The dependencies of an npm ``package.json``."""
    try:
        data = json.loads(file.text)
    except json.JSONDecodeError as exc:
        return ManifestError(file.path, f"not valid JSON: {exc}")
    if not isinstance(data, dict):
        return ManifestError(file.path, "not a JSON object")
    lines = file.lines
    found = []
    for section in NPM_SECTIONS:
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        start = max(_locate(lines, f'"{section}"') - 1, 0)
        for name, value in table.items():
            spec = value if isinstance(value, str) else str(value)
            line = _locate(lines, f'"{name}"', start=start)
            evidence = lines[line - 1].strip() if line else f'"{name}": "{spec}"'
            constraint = npm(spec) if isinstance(value, str) else INVALID
            found.append(Declared("npm", name, spec, file.path, line, evidence, constraint, False))
    return found


def _setuptools(file: FileText, found: list[SetupRequirement]) -> list[Declared]:
    """Declarations of setuptools metadata: a library's, like pyproject's [project]."""
    lines = file.lines
    items = []
    for text, known, _ in found:
        name, constraint, spec = _pep508(text)
        line = known or _locate(lines, text)
        evidence = lines[line - 1].strip() if 0 < line <= len(lines) else text
        items.append(Declared("pypi", name, spec, file.path, line, evidence, constraint, True))
    return items


def setup_py(file: FileText) -> list[Declared] | ManifestError:
    r"""The ``install_requires`` and ``extras_require`` of a ``setup.py``, never running it.

    Example:
        >>> from pathlib import Path
        >>> text = "from setuptools import setup\nsetup(install_requires=['idna==3.7'])\n"
        >>> file = FileText("setup.py", Path("setup.py"), text)
        >>> [(i.name, i.line, i.spec) for i in setup_py(file)]
        [('idna', 2, '==3.7')]
    """
    try:
        return _setuptools(file, setup_py_requirements(file.text))
    except (SyntaxError, ValueError) as exc:
        return ManifestError(file.path, f"not valid Python: {exc}")
    except RecursionError:
        return ManifestError(file.path, "nested too deeply to be read")


def setup_cfg(file: FileText) -> list[Declared] | ManifestError:
    r"""The ``install_requires`` and ``extras_require`` of a ``setup.cfg``.

    Example:
        >>> from pathlib import Path
        >>> text = "[options]\ninstall_requires =\n    attrs\n"
        >>> file = FileText("setup.cfg", Path("setup.cfg"), text)
        >>> [(i.name, i.line, i.library) for i in setup_cfg(file)]
        [('attrs', 3, True)]
    """
    try:
        return _setuptools(file, setup_cfg_requirements(file.text))
    except configparser.Error as exc:
        return ManifestError(file.path, f"not a valid setup.cfg: {exc}".replace("\n", " "))


_READERS = {
    "pyproject.toml": pyproject,
    "package.json": package_json,
    "setup.py": setup_py,
    "setup.cfg": setup_cfg,
    "Pipfile": pipfile,
}


def declared(files: list[FileText]) -> tuple[list[Declared], list[ManifestError]]:
    """Every dependency declared in the repository's manifests, and the unreadable manifests."""
    found: list[Declared] = []
    errors: list[ManifestError] = []
    for file in files:
        name = file.path.rsplit("/", 1)[-1]
        result: list[Declared] | ManifestError
        if is_requirements(file.path):
            result = requirements(file)
        elif name in _READERS:
            result = _READERS[name](file)
        else:
            continue
        if isinstance(result, ManifestError):
            errors.append(result)
        else:
            found += result
    return found, errors
