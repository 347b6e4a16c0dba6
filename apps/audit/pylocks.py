"""Python lockfiles: poetry.lock, uv.lock (TOML ``[[package]]`` tables) and Pipfile.lock (JSON).

Each parser keeps the resolved version of every package. Where a lock lists one package at
several versions (uv forks a resolution by platform or Python version), the first listed is
kept: the one the audit names, not a claim about every platform.
"""

from __future__ import annotations

import tomllib
from typing import Any

from orchestra_audit.locks import Lock, LockScope, is_version, json_object
from orchestra_audit.manifests import ManifestError
from orchestra_audit.policy import package_key

_MEMBER_SOURCES = ("editable", "virtual", "directory")
"""uv.lock ``source`` keys that point at a folder of the workspace rather than a registry."""


def _packages(path: str, text: str) -> list[dict[str, Any]] | ManifestError:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ManifestError(path, f"not valid TOML: {exc}")
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        return ManifestError(path, "[[package]] is not a list of tables")
    return packages


def _first_versions(packages: list[dict[str, Any]]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for package in packages:
        name, version = package.get("name"), package.get("version")
        if isinstance(name, str) and isinstance(version, str) and is_version(version):
            versions.setdefault(package_key("pypi", name), version)
    return versions


def _toml_lock(path: str, text: str, scope: LockScope) -> Lock | ManifestError:
    packages = _packages(path, text)
    if isinstance(packages, ManifestError):
        return packages
    members: dict[str, dict[str, str]] = {}
    if scope == "members":
        for package in packages:
            source = package.get("source", {})
            for key in _MEMBER_SOURCES if isinstance(source, dict) else ():
                if isinstance(source.get(key), str):
                    folder = source[key].strip("/")
                    members.setdefault("" if folder == "." else folder.removeprefix("./"), {})
    return Lock(path, "pypi", scope, _first_versions(packages), members=members)


def poetry_lock(path: str, text: str) -> Lock | ManifestError:
    r"""The versions a ``poetry.lock`` resolved (it serves the one project beside it).

    Example:
        >>> text = '[[package]]\nname = "Requests"\nversion = "2.32.3"\n'
        >>> poetry_lock("poetry.lock", text).versions
        {'requests': '2.32.3'}
    """
    return _toml_lock(path, text, "folder")


def uv_lock(path: str, text: str) -> Lock | ManifestError:
    """The versions a ``uv.lock`` resolved, and its workspace members' folders.

    Members are the packages whose ``source`` is a folder (``{ editable = "." }``,
    ``{ virtual = "packages/a" }``); a manifest in any other folder is not covered.

    Example:
        >>> text = '''
        ... [[package]]
        ... name = "app"
        ... version = "0.1.0"
        ... source = { virtual = "." }
        ... [[package]]
        ... name = "anyio"
        ... version = "4.4.0"
        ... source = { registry = "https://pypi.org/simple" }
        ... '''
        >>> lock = uv_lock("uv.lock", text)
        >>> lock.versions["anyio"], list(lock.members)
        ('4.4.0', [''])
    """
    return _toml_lock(path, text, "members")


def pipfile_lock(path: str, text: str) -> Lock | ManifestError:
    """The versions a ``Pipfile.lock`` pins in its ``default`` and ``develop`` sections.

    Example:
        >>> text = '{"default": {"flask": {"version": "==3.0.3"}}, "develop": {}}'
        >>> pipfile_lock("Pipfile.lock", text).versions
        {'flask': '3.0.3'}
    """
    data = json_object(path, text)
    if isinstance(data, ManifestError):
        return data
    versions: dict[str, str] = {}
    for section in ("default", "develop"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            return ManifestError(path, f"{section!r} is not an object")
        for name, entry in table.items():
            version = entry.get("version", "") if isinstance(entry, dict) else ""
            # Git and path entries have no "version", only a ref or a path.
            if isinstance(version, str) and is_version(version.removeprefix("==")):
                versions.setdefault(package_key("pypi", name), version.removeprefix("=="))
    return Lock(path, "pypi", "folder", versions)
