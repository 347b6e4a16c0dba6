"""What a lockfile resolved, and which manifests' declarations it pins.

A ``Lock`` is data only: the parsers (``pylocks``, ``npmlocks``) fill it, ``lockfiles``
finds lockfiles in a repository and hands each declaration the version its lock resolved.

Which manifests a lockfile covers depends on what the format records (``LockScope``):

- ``folder``: poetry.lock, Pipfile.lock and npm's v1 package-lock.json belong to the one
  project in their own folder (none of these tools has workspaces in that format).
- ``members``: uv.lock, package-lock.json v2/v3, pnpm-lock.yaml and yarn berry's yarn.lock
  name their workspace members' folders; they cover exactly those folders.
- ``tree``: yarn classic's yarn.lock records no members, yet one lock at a workspace root
  serves every package below it; it covers a folder below it only through the exact range
  a declaration is written with (``lodash@^4.17.21``), which that lock lists when it was
  resolved for it, so an unrelated fixture's ``lodash@*`` is not claimed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from orchestra_audit.findings import Ecosystem
from orchestra_audit.manifests import ManifestError

LockScope = Literal["folder", "members", "tree"]
"""Which manifests a lockfile covers (see the module docstring)."""


@dataclass(frozen=True)
class Lock:
    """The versions one lockfile resolved, by normalized package name."""

    file: str
    """Path relative to the repository root."""
    ecosystem: Ecosystem
    scope: LockScope
    versions: dict[str, str] = field(default_factory=dict)
    """Package -> the version the lock's root project gets (hoisted, or the first listed)."""
    ranges: dict[tuple[str, str], str] = field(default_factory=dict)
    """(package, range as declared) -> version: yarn's entry headers say which range resolved
    to which version, so a package locked at two versions is still told apart."""
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    """Member folder relative to the lock's folder ('' for its own) -> package -> version
    resolved for that member alone (pnpm importers, package-lock's nested node_modules)."""

    @property
    def folder(self) -> str:
        """The folder the lockfile is in, relative to the repository root ('' for the root)."""
        parent = PurePosixPath(self.file).parent.as_posix()
        return "" if parent == "." else parent

    def version_for(self, folder: str, package: str, spec: str) -> str | None:
        """The version this lock resolved for ``package`` declared in ``folder``.

        ``None`` when the lock does not cover ``folder`` at all (the caller then looks
        further up); ``""`` when it covers the folder but does not list the package.

        Example:
            >>> ranges = {("lodash", "^4.17.0"): "4.17.21"}
            >>> lock = Lock("web/yarn.lock", "npm", "tree", ranges=ranges)
            >>> lock.version_for("web/packages/ui", "lodash", "^4.17.0")
            '4.17.21'
            >>> lock.version_for("web/packages/ui", "lodash", "*") is None
            True
            >>> lock.version_for("elsewhere", "lodash", "^4.17.0") is None
            True
        """
        here = self.folder
        if here and folder != here and not folder.startswith(here + "/"):
            return None
        member = folder[len(here) :].lstrip("/") if here else folder
        ranged = self.ranges.get((package, spec.strip()))
        if self.scope == "folder" and member:
            return None
        if self.scope == "members" and member not in self.members:
            return None
        if self.scope == "tree" and member:
            return ranged  # only an exact range ties a lock to a folder below it
        own = self.members.get(member, {}).get(package)
        return own or ranged or self.versions.get(package, "")


def npm_name(spec: str) -> tuple[str, str]:
    """Split ``name@range`` where the name may be scoped (``@types/node@^20``).

    Example:
        >>> npm_name("@babel/core@^7.0.0")
        ('@babel/core', '^7.0.0')
        >>> npm_name("lodash")
        ('lodash', '')
    """
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1 :])


def is_version(text: str) -> bool:
    """Whether a lock's version field is a registry version rather than a URL, path or link.

    Example:
        >>> [is_version(t) for t in ("1.2.3", "link:../ui", "github:a/b", "")]
        [True, False, False, False]
    """
    return text[:1].isdigit() and ":" not in text and "/" not in text


def json_object(path: str, text: str) -> dict[str, Any] | ManifestError:
    """A JSON lockfile's top-level object, or why it is not one.

    Example:
        >>> json_object("Pipfile.lock", "[]")
        ManifestError(file='Pipfile.lock', reason='not a JSON object')
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return ManifestError(path, f"not valid JSON: {exc}")
    return data if isinstance(data, dict) else ManifestError(path, "not a JSON object")
