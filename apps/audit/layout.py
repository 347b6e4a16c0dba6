"""What a repository file is: a test, a source module, a dependency manifest, or none of these.

Conventions only (pytest, unittest, Jest, Mocha, Vitest, ``go test``, Cargo, npm, pip): paths
decide, contents do not, so the same file is classified the same way by every analyser.
Folders of test data (``test-data/``, Go's ``testdata/``, ``fixtures/``, ``__snapshots__/``)
are test material, and vendored code (``vendor/``, ``third_party/``) is not source.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

Language = Literal["python", "javascript", "go", "rust"]
"""The languages whose tests the audit judges."""

SUFFIXES: dict[str, Language] = {
    ".py": "python",
    **dict.fromkeys((".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx"), "javascript"),
    ".go": "go",
    ".rs": "rust",
}
# Languages the audit has no test layout for: counted and named, never silently skipped.
OTHER_SUFFIXES = {
    ".java": "java",
    ".kt": "kotlin",
    ".scala": "scala",
    ".c": "c",
    ".h": "c",
    ".cc": "c++",
    ".cpp": "c++",
    ".cxx": "c++",
    ".hpp": "c++",
    ".cs": "c#",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".m": "objective-c",
    ".ex": "elixir",
    ".dart": "dart",
    ".lua": "lua",
}
TEST_DIRS = frozenset({"tests", "test", "testing", "__tests__", "spec"})
# Inputs and expected outputs of tests: test material, never product code.
TEST_DATA_DIRS = frozenset(
    {"test-data", "test_data", "testdata", "fixtures", "__fixtures__", "__snapshots__"}
)
# Other people's code kept in the repository: not this repository's to test.
VENDORED_DIRS = frozenset({"vendor", "_vendor", "vendored", "third_party", "third-party"})
# Code that is not the product: nobody expects a unit test of these.
NOT_SOURCE_DIRS = frozenset(
    {
        "docs",
        "doc",
        "examples",
        "example",
        "scripts",
        "benchmarks",
        "benches",
        "migrations",
        "notebooks",
        "misc",
    }
)
# Task runners' and test runners' own files (gulpfile.js, karma.conf.cjs, build.rs).
TOOL_FILES = frozenset({"gulpfile", "gruntfile", "jakefile", "build.rs"})
NOT_SOURCE_FILES = frozenset(
    {
        "setup.py",
        "conftest.py",
        "__init__.py",
        "__main__.py",
        "manage.py",
        "noxfile.py",
        "fabfile.py",
        "wsgi.py",
        "asgi.py",
    }
)


def language(path: str) -> Language | None:
    """The language of a source path, from its suffix."""
    return SUFFIXES.get(PurePosixPath(path).suffix)


def unjudged_language(path: str) -> str | None:
    """The language of a product file whose tests the audit cannot judge, if it is one.

    Example:
        >>> unjudged_language("src/main/java/App.java"), unjudged_language("docs/x.c")
        ('java', None)
    """
    pure = PurePosixPath(path)
    found = OTHER_SUFFIXES.get(pure.suffix)
    if found is None or folder_kind(path) is not None:
        return None
    return None if any(part in NOT_SOURCE_DIRS for part in pure.parts[:-1]) else found


def folder_kind(path: str) -> Literal["test-data", "vendored"] | None:
    """Whether a path lies in a folder of test data or of vendored code (test data wins).

    Example:
        >>> folder_kind("test-data/unit/lib-stub/enum.pyi"), folder_kind("vendor/x/y.go")
        ('test-data', 'vendored')
    """
    folders = PurePosixPath(path).parts[:-1]
    if not TEST_DATA_DIRS.isdisjoint(folders):
        return "test-data"
    if not VENDORED_DIRS.isdisjoint(folders):
        return "vendored"
    return None


def is_test_path(path: str) -> bool:
    """True for test modules and test material: anything under a test or test-data folder.

    Example:
        >>> [is_test_path(p) for p in ("flag_test.go", "src/cart.spec.ts", "testdata/a.go")]
        [True, True, True]
    """
    pure = PurePosixPath(path)
    if folder_kind(path) == "test-data":
        return True
    if any(part in TEST_DIRS for part in pure.parts[:-1]):
        return True
    name = pure.name
    if name.startswith("test_") and name.endswith(".py"):
        return True
    # Go's tests sit beside the package's files; Rust's ``mod tests;`` is a ``tests.rs``.
    if name.endswith(("_test.py", "_test.go")) or name in ("conftest.py", "tests.rs"):
        return True
    stem_parts = name.split(".")
    return len(stem_parts) >= 3 and stem_parts[-2] in ("test", "spec")


def is_source_path(path: str) -> bool:
    """True for product source modules (tests, tooling, docs and config excluded)."""
    pure = PurePosixPath(path)
    if language(path) is None or is_test_path(path) or folder_kind(path) is not None:
        return False
    if any(part in NOT_SOURCE_DIRS for part in pure.parts[:-1]):
        return False
    name = pure.name
    if name in NOT_SOURCE_FILES or name.endswith((".d.ts", ".min.js", ".min.mjs")):
        return False
    if name in TOOL_FILES or name.split(".")[0].lower() in TOOL_FILES:
        return False
    # Tool configuration such as jest.config.js, vite.config.ts or karma.conf.cjs.
    return ".config." not in name and ".conf." not in name and not name.startswith(".")


def module_stem(path: str) -> str:
    """The module's own name: ``pkg/refunds.py`` -> ``refunds``."""
    return PurePosixPath(path).name.split(".")[0]


def is_requirements(path: str) -> bool:
    """Whether a path is a pip requirement file (``requirements*.txt``, ``requirements/*.txt``)."""
    pure = PurePosixPath(path)
    if pure.suffix != ".txt":
        return False
    return pure.name.startswith("requirements") or "requirements" in pure.parts[:-1]
