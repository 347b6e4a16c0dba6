"""npm lockfiles: package-lock.json (v1-v3), yarn.lock (classic and berry), pnpm-lock.yaml (v5-v9).

package-lock.json is JSON and pnpm-lock.yaml is YAML (read by PyYAML's C loader when it is
built, as it is in the pinned wheel, because a monorepo's lock is several MB). yarn.lock is
not YAML in its classic format and berry's is a fixed subset of it, so both are read line by
line: an entry is an unindented header listing the ranges it resolves
(``"pkg@^1.0.0", pkg@~1.2:``), followed by an indented ``version "1.2.3"`` (classic) or
``version: 1.2.3`` (berry).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from orchestra_audit.locks import Lock, is_version, json_object, npm_name
from orchestra_audit.manifests import ManifestError

_NODE_MODULES = "node_modules/"
_PNPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _package_lock_v2(path: str, packages: dict[str, Any]) -> Lock:
    """``packages``: '' is the root, member folders are keys without node_modules/."""
    versions: dict[str, str] = {}
    members: dict[str, dict[str, str]] = {"": {}}
    for key in packages:
        if _NODE_MODULES not in key and not key.startswith("node_modules"):
            members.setdefault(key, {})
    for key, entry in packages.items():
        owner, sep, name = key.rpartition(_NODE_MODULES)
        version = entry.get("version", "") if isinstance(entry, dict) else ""
        if not sep or not isinstance(version, str) or not is_version(version):
            continue  # the root, a member, or a link to a member (no version of its own)
        if owner == "":
            versions[name.lower()] = version
        elif owner.rstrip("/") in members:  # resolved for that member alone, not hoisted
            members[owner.rstrip("/")][name.lower()] = version
    return Lock(path, "npm", "members", versions, members=members)


def package_lock(path: str, text: str) -> Lock | ManifestError:
    """The versions a ``package-lock.json`` (or ``npm-shrinkwrap.json``) resolved.

    v2 and v3 list ``packages`` by install path (``node_modules/x``, and
    ``packages/a/node_modules/x`` where a workspace member needs its own version); v1 has
    only the ``dependencies`` tree, whose top level is what the project gets.

    Example:
        >>> text = '{"lockfileVersion": 1, "dependencies": {"ms": {"version": "2.1.3"}}}'
        >>> package_lock("package-lock.json", text).versions
        {'ms': '2.1.3'}
    """
    data = json_object(path, text)
    if isinstance(data, ManifestError):
        return data
    packages = data.get("packages")
    if isinstance(packages, dict):
        return _package_lock_v2(path, packages)
    tree = data.get("dependencies", {})
    if not isinstance(tree, dict):
        return ManifestError(path, "neither 'packages' nor 'dependencies' is an object")
    versions = {
        name.lower(): entry["version"]
        for name, entry in tree.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("version"), str)
        and is_version(entry["version"])
    }
    return Lock(path, "npm", "folder", versions)


def _yarn_entries(text: str) -> Iterator[tuple[int, list[str], str]]:
    """(line, the header's specs, the entry's version) of each yarn.lock entry."""
    header: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":"):
                raise ValueError(f"line {number}: an entry header should end with ':'")
            header = [s.strip().strip('"') for s in line.rstrip()[:-1].split(",")]
            start = number
        elif line.startswith(("  version ", "  version:")) and header:
            version = line.split("version", 1)[1].lstrip(":").strip().strip('"')
            yield start, header, version
            header = []


def yarn_lock(path: str, text: str) -> Lock | ManifestError:
    r"""The versions a ``yarn.lock`` resolved, by the exact range each was resolved for.

    Berry prefixes ranges with a protocol (``npm:^1.0.0``), which is dropped so the range
    matches package.json; its ``workspace:`` entries name the members' folders.

    Example:
        >>> text = '"@babel/core@^7.1.0", "@babel/core@^7.2.0":\n  version "7.2.2"\n'
        >>> yarn_lock("yarn.lock", text).ranges[("@babel/core", "^7.2.0")]
        '7.2.2'
    """
    ranges: dict[tuple[str, str], str] = {}
    found: dict[str, set[str]] = {}
    members: dict[str, dict[str, str]] = {}
    try:
        for _, specs, version in _yarn_entries(text):
            for spec in specs:
                name, wanted = npm_name(spec)
                protocol, colon, rest = wanted.partition(":")
                if colon and protocol == "workspace":
                    members.setdefault("" if rest == "." else rest.strip("/"), {})
                    continue
                if not wanted or colon and protocol != "npm" or not is_version(version):
                    continue  # __metadata, patch:, git, file: and link: pin no registry version
                ranges[(name.lower(), rest if colon else wanted)] = version
                found.setdefault(name.lower(), set()).add(version)
    except ValueError as exc:
        return ManifestError(path, f"not a yarn lockfile: {exc}")
    # A package at one version needs no range to match; at several, only a range tells.
    versions = {name: next(iter(v)) for name, v in found.items() if len(v) == 1}
    if "__metadata:" in text and members:  # berry: members are recorded
        return Lock(path, "npm", "members", versions, ranges, members)
    return Lock(path, "npm", "tree", versions, ranges)


def _pnpm_version(value: object) -> str:
    """``1.2.3(react@18.2.0)`` (v6+) or ``1.2.3_react@18.2.0`` (v5): the version alone."""
    if isinstance(value, dict):  # v6+ importers: {specifier, version}
        value = value.get("version", "")
    text = str(value).split("(", 1)[0].split("_", 1)[0]
    return text if is_version(text) else ""


def _pnpm_key(key: str) -> tuple[str, str]:
    """A ``packages`` key: ``/pkg/1.2.3`` (v5), ``/pkg@1.2.3`` (v6), ``pkg@1.2.3`` (v9)."""
    parts = key.lstrip("/").split("(", 1)[0].split("/")
    width = 2 if parts[0].startswith("@") else 1
    if len(parts) > width:  # v5: the version is the segment after the name
        name, version = "/".join(parts[:width]), parts[width]
    else:
        name, version = npm_name("/".join(parts))
    return name.lower(), _pnpm_version(version)


def _pnpm_importer(entry: dict[str, Any]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for section in _PNPM_SECTIONS:
        table = entry.get(section) or {}
        for name, value in table.items() if isinstance(table, dict) else ():
            version = _pnpm_version(value)
            if version:  # link:../other-member and aliases are not registry versions
                pins[str(name).lower()] = version
    return pins


def pnpm_lock(path: str, text: str) -> Lock | ManifestError:
    r"""The versions a ``pnpm-lock.yaml`` resolved, for the root and each workspace member.

    ``importers`` (workspaces, and every v9 lock) or the top-level sections (a v5/v6 lock
    of one project) say what each project got; ``packages`` keys list every resolved
    version, used for packages listed at one version only.

    Example:
        >>> text = "lockfileVersion: 5.4\ndependencies:\n  ms: 2.1.3\npackages:\n  /ms/2.1.3: {}"
        >>> pnpm_lock("pnpm-lock.yaml", text).members
        {'': {'ms': '2.1.3'}}
    """
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        return ManifestError(path, f"not valid YAML: {exc}")
    # pnpm 11 writes the package manager's own lock as a first document: the project's is last.
    data = documents[-1] if documents else None
    if not isinstance(data, dict):
        return ManifestError(path, "not a YAML mapping")
    importers = data.get("importers")
    if not isinstance(importers, dict):
        importers = {".": data}
    members = {
        ("" if str(folder) == "." else str(folder).strip("/")): _pnpm_importer(entry)
        for folder, entry in importers.items()
        if isinstance(entry, dict)
    }
    found: dict[str, set[str]] = {}
    packages = data.get("packages") or {}
    for key in packages if isinstance(packages, dict) else ():
        name, version = _pnpm_key(str(key))
        if version:
            found.setdefault(name, set()).add(version)
    versions = {name: next(iter(v)) for name, v in found.items() if len(v) == 1}
    return Lock(path, "npm", "members", versions, members=members)
