"""Lockfiles of a repository, and the version each one resolved for a manifest's declaration.

Where a lockfile is looked for: in the folder of every manifest that declared something and
in each folder above it, so a workspace root's lock is found even when the root's own
manifest declares nothing, plus wherever the walk met one. Lockfiles are read here rather
than taken from the walk because a monorepo's lock is often larger than the walk's size
limit (``files.MAX_BYTES``); they are parsed, not scanned for secrets (their integrity
hashes are not secrets, see ``secrets``).

Which lock pins a declaration: the nearest one of the same ecosystem, looking in the
manifest's own folder first and then upwards, that covers the manifest's folder (see
``locks`` for what each format covers). The first covering lock decides, even when it does
not list the package: a nested project with its own lock is not pinned by its parent's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import PurePosixPath

from orchestra_audit.files import Confined, FileText, read_text
from orchestra_audit.findings import Ecosystem
from orchestra_audit.locks import Lock
from orchestra_audit.manifests import Declared, ManifestError
from orchestra_audit.npmlocks import package_lock, pnpm_lock, yarn_lock
from orchestra_audit.policy import package_key
from orchestra_audit.pylocks import pipfile_lock, poetry_lock, uv_lock

Parser = Callable[[str, str], Lock | ManifestError]

LOCKFILES: dict[str, tuple[Ecosystem, Parser]] = {
    "poetry.lock": ("pypi", poetry_lock),
    "uv.lock": ("pypi", uv_lock),
    "Pipfile.lock": ("pypi", pipfile_lock),
    "package-lock.json": ("npm", package_lock),
    "npm-shrinkwrap.json": ("npm", package_lock),
    "yarn.lock": ("npm", yarn_lock),
    "pnpm-lock.yaml": ("npm", pnpm_lock),
}
"""Lockfile names, the registry whose packages they pin, and their parser."""

LOCK_MAX_BYTES = 64_000_000
"""Lockfiles up to this size are read (a large monorepo's package-lock.json is ~10 MB)."""


def _folder(path: str) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return "" if parent == "." else parent


def _upwards(folder: str) -> Iterable[str]:
    """``a/b`` -> ``a/b``, ``a``, ``''``."""
    while folder:
        yield folder
        folder = _folder(folder)
    yield ""


def parse_lock(path: str, text: str) -> Lock | ManifestError:
    r"""Parse a lockfile by its file name.

    Example:
        >>> parse_lock("app/poetry.lock", '[[package]]\nname = "idna"\nversion = "3.7"').versions
        {'idna': '3.7'}
    """
    _, parser = LOCKFILES[PurePosixPath(path).name]
    return parser(path, text)


def read_locks(repo: Confined, folders: Iterable[str]) -> tuple[list[Lock], list[ManifestError]]:
    """Every lockfile in ``folders`` of ``repo``, parsed, and those that could not be."""
    locks: list[Lock] = []
    errors: list[ManifestError] = []
    for folder in sorted(set(folders)):
        for name in LOCKFILES:
            rel = f"{folder}/{name}" if folder else name
            try:
                real = repo.resolve(rel)
                if not real.is_file():
                    continue
                text = read_text(real, LOCK_MAX_BYTES)
            except PermissionError:
                continue  # a symlink out of the repository: not the repository's lock
            except (OSError, RuntimeError) as exc:
                errors.append(ManifestError(rel, f"cannot be read: {exc}"))
                continue
            if text is None:
                errors.append(ManifestError(rel, f"binary or over {LOCK_MAX_BYTES:,} bytes"))
                continue
            result = parse_lock(rel, text)
            if isinstance(result, ManifestError):
                errors.append(result)
            else:
                locks.append(result)
    return locks, errors


def pin(items: list[Declared], locks: list[Lock]) -> list[Declared]:
    """``items``, each with the version and lockfile that pins it, where one does.

    Example:
        >>> from orchestra_audit.versions import UNPINNED
        >>> item = Declared("pypi", "Flask", "", "svc/requirements.txt", 1, "", UNPINNED, False)
        >>> lock = Lock("svc/poetry.lock", "pypi", "folder", {"flask": "3.0.3"})
        >>> [(i.locked, i.lockfile) for i in pin([item], [lock])]
        [('3.0.3', 'svc/poetry.lock')]
    """
    by_folder: dict[str, list[Lock]] = {}
    for lock in locks:
        by_folder.setdefault(lock.folder, []).append(lock)
    pinned = []
    for item in items:
        folder = _folder(item.file)
        key = package_key(item.ecosystem, item.name)
        for place in _upwards(folder):
            covering = [
                (lock, lock.version_for(folder, key, item.spec))
                for lock in by_folder.get(place, [])
                if lock.ecosystem == item.ecosystem
            ]
            answers = [(lock, version) for lock, version in covering if version is not None]
            if answers:
                lock, version = next(((lk, v) for lk, v in answers if v), answers[0])
                if version:
                    item = replace(item, locked=version, lockfile=lock.file)
                break
        pinned.append(item)
    return pinned


def lock_pins(
    repo: Confined, files: list[FileText], items: list[Declared]
) -> tuple[list[Declared], list[ManifestError]]:
    """``items`` pinned by the repository's lockfiles, and the lockfiles that cannot be read."""
    folders = {place for item in items for place in _upwards(_folder(item.file))}
    folders |= {_folder(f.path) for f in files if PurePosixPath(f.path).name in LOCKFILES}
    locks, errors = read_locks(repo, folders)
    return pin(items, locks), errors
