"""Data-driven suites: tests that run case files kept in a data folder, judged by package.

mypy's ``mypy/test/testcheck.py`` imports few modules by name, yet runs every module of
``mypy`` on the cases in ``test-data/unit/check-*.test``; Go tests read golden files in
``testdata/``. The rule: a test module naming a case folder (``test-data``, ``test_data``
or ``testdata``, in a string or path) that exists in the repository is a data-driven
suite, and the package it belongs to is tested as a whole: the top folder of the suite's
own path (``mypy`` for ``mypy/test/config.py``; Go's package folder for a ``_test.go``)
or, for a suite in a top-level test folder, the top-level packages it imports. The case
files count as test files and lines. ``fixtures/`` and ``__snapshots__/`` do not make a
suite data-driven: they hold inputs and expected outputs of ordinary tests, which still
import what they test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from orchestra_audit.files import FileText
from orchestra_audit.layout import TEST_DIRS, language

CASE_DIRS = frozenset({"test-data", "test_data", "testdata"})
"""Folders of cases a data-driven suite runs."""

_NAMED = re.compile(r"""["'/\\](test-data|test_data|testdata)(?=["'/\\])""")


@dataclass(frozen=True)
class Suite:
    """A data-driven suite and the package folder it tests as a whole."""

    package: str
    """The package's folder, '/'-separated, e.g. ``mypy`` or ``internal/config``."""
    suite: str
    data: str


def _imported_tops(file: FileText) -> set[str]:
    if language(file.path) != "python":
        return set()
    try:
        tree = ast.parse(file.text)
    except (SyntaxError, ValueError):
        return set()
    tops: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.split(".")[0])
    return tops


def _packages(file: FileText, folders: set[str]) -> set[str]:
    """The package folders a suite at ``file`` tests as a whole."""
    parts = PurePosixPath(file.path).parts[:-1]
    if language(file.path) == "go":
        return {"/".join(parts) or "."}  # a Go package is its folder
    own = [p for p in parts if p != "src"][:1]
    if own and own[0] not in TEST_DIRS:
        return {"/".join(parts[: parts.index(own[0]) + 1])}
    return {top for top in _imported_tops(file) if top in folders}


def data_driven(tests: list[FileText], paths: list[str]) -> list[Suite]:
    r"""The data-driven suites among ``tests``; ``paths`` are all the repository's files.

    Example:
        >>> from pathlib import Path
        >>> suite = FileText("pkg/test/config.py", Path("c.py"), 'DATA = "test-data/unit"\n')
        >>> data_driven([suite], ["pkg/test/config.py", "pkg/check.py", "test-data/unit/a.test"])
        [Suite(package='pkg', suite='pkg/test/config.py', data='test-data')]
    """
    present = {part for path in paths for part in PurePosixPath(path).parts[:-1]}
    folders = {PurePosixPath(path).parts[0] for path in paths if "/" in path}
    found: dict[str, Suite] = {}
    for file in tests:
        named = [name for name in _NAMED.findall(file.text) if name in present]
        if not named:
            continue
        for package in sorted(_packages(file, folders)):
            found.setdefault(package, Suite(package, file.path, named[0]))
    return sorted(found.values(), key=lambda s: s.package)


def case_files(files: list[FileText], suites: list[Suite]) -> list[FileText]:
    """The files in the case folders the suites read (any text: ``.test``, ``.json``, ...)."""
    read = {suite.data for suite in suites}
    return [f for f in files if not read.isdisjoint(PurePosixPath(f.path).parts[:-1])]


def in_package(path: str, suites: list[Suite]) -> Suite | None:
    """The suite testing the package ``path`` is in, if any.

    Go's packages are folders, not trees: ``a/b.go`` is not in the package ``a/c``, nor
    ``a/c/d.go`` in ``a``; other languages' packages include their subfolders.
    """
    folder = str(PurePosixPath(path).parent)
    for suite in suites:
        if language(path) == "go":
            if folder == suite.package:
                return suite
        elif folder == suite.package or folder.startswith(suite.package + "/"):
            return suite
    return None
