"""Read-only, confined access to one repository's files.

Every path is resolved (symlinks included) and refused unless it stays inside the
repository root: ``..``, absolute paths elsewhere and symlinks pointing out all fail with
``PermissionError``. The walk never follows a symlink: one pointing outside is counted as
refused, one pointing inside is skipped because its target is read under its own path.
Binary and very large files are skipped and counted; unreadable files are reported.
Nothing here writes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_BYTES = 1_000_000
"""Files larger than this are skipped (generated code, data, bundles): counted, not read."""

_SNIFF = 8192
"""Bytes looked at to decide whether a file is binary (a NUL byte means binary, as git does)."""

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        ".eggs",
        ".orchestra",
        ".next",
        ".idea",
        "site-packages",
        "dist",
        "build",
        "htmlcov",
        "coverage",
    }
)
"""Folders of tools, caches, installed packages and build output: not the repository's code."""


def is_skipped_dir(folder: Path, name: str) -> bool:
    """True for folders the audit leaves out (tools, caches, installed packages, builds)."""
    # A virtualenv may have any name; its marker file says what it is.
    return (
        name in SKIP_DIRS or name.endswith(".egg-info") or (folder / name / "pyvenv.cfg").is_file()
    )


class Confined:
    """One repository root and the only way the audit reads below it."""

    def __init__(self, root: str | Path) -> None:
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise NotADirectoryError(f"{str(root)!r} is not a directory")
        self.root = resolved

    def resolve(self, path: str | Path) -> Path:
        """The real path of ``path`` (relative to the root), refused if it leaves the root."""
        target = (self.root / path).resolve()
        if target != self.root and not target.is_relative_to(self.root):
            raise PermissionError(f"{str(path)!r} is outside the repository")
        return target

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, '/'-separated."""
        return PurePosixPath(path.relative_to(self.root)).as_posix()


@dataclass
class FileText:
    """A text file of the repository, read once and decoded."""

    path: str
    """Relative to the root, '/'-separated."""
    real: Path
    text: str

    @property
    def lines(self) -> list[str]:
        """The file's lines without line endings (numbered as editors and detect-secrets do)."""
        return split_lines(self.text)


def split_lines(text: str) -> list[str]:
    r"""``text``'s lines without endings: ``\n``, ``\r\n`` and ``\r`` end a line, nothing else.

    ``str.splitlines`` also ends lines at form feeds and other separators, which would
    number lines differently from editors, git and detect-secrets.

    Example:
        >>> split_lines("a\fb\r\nc\n")
        ['a\x0cb', 'c']
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class Walk:
    """The text files of a repository and what the walk left out."""

    files: list[FileText] = field(default_factory=list)
    skipped: int = 0
    symlinks_refused: int = 0
    unreadable: list[str] = field(default_factory=list)


def read_text(real: Path, limit: int = MAX_BYTES) -> str | None:
    """The decoded text of a regular file, or ``None`` when it is binary or over ``limit`` bytes.

    Raises:
        OSError: when the file cannot be read (reported by the caller, not fatal).
    """
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        return None
    if info.st_size > limit:
        return None
    with open(real, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit or b"\0" in data[:_SNIFF]:
        return None
    # Source is UTF-8 nearly always; a stray byte must not hide the rest of the file.
    return data.decode("utf-8", errors="replace")


def line_count(real: Path) -> int:
    """How many lines a file has (a last line without a newline counts)."""
    with open(real, "rb") as handle:
        data = handle.read()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _entries(repo: Confined) -> Iterator[Path]:
    for folder, dirs, names in os.walk(repo.root, followlinks=False):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not is_skipped_dir(base, d))
        for name in sorted(names):
            yield base / name
        # os.walk lists symlinked folders among ``dirs`` but never enters them.
        for name in dirs:
            if (base / name).is_symlink():
                yield base / name


def printable(rel: str) -> str:
    r"""A path as it can be written anywhere: bytes that are not UTF-8 shown as ``\xNN``.

    Example:
        >>> printable("caf\udce9.py")
        'caf\\xe9.py'
    """
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def walk(repo: Confined) -> Walk:
    """Every text file of the repository, in path order, with what was left out.

    One bad entry never ends the walk: a symlink loop or a name that is not UTF-8 (it
    could not be written to a checkpoint or a report) is reported as unreadable.
    """
    found = Walk()
    for path in _entries(repo):
        rel = repo.relative(path)
        if printable(rel) != rel:
            found.unreadable.append(f"{printable(rel)}: the name is not UTF-8")
            continue
        if path.is_symlink():
            try:
                repo.resolve(path)
            except PermissionError:
                found.symlinks_refused += 1
            except (RuntimeError, OSError) as exc:  # a loop, or too many levels of links
                found.unreadable.append(f"{rel}: {type(exc).__name__}: a symlink that loops")
            continue
        try:
            text = read_text(path)
        except OSError as exc:
            found.unreadable.append(f"{rel}: {exc.strerror or type(exc).__name__}")
            continue
        if text is None:
            found.skipped += 1
        else:
            found.files.append(FileText(rel, path, text))
    return found
