"""What a repository file is: a test, a source module, a dependency manifest, or none of these.

Conventions only (pytest, unittest, Jest, Mocha, Vitest, npm, pip): paths decide, contents
do not, so the same file is classified the same way by every analyser.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

Language = Literal["python", "javascript"]

PY_SUFFIXES = frozenset({".py"})
JS_SUFFIXES = frozenset({".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx"})
TEST_DIRS = frozenset({"tests", "test", "testing", "__tests__", "spec"})
# Code that is not the product: nobody expects a unit test of these.
NOT_SOURCE_DIRS = frozenset(
    {"docs", "doc", "examples", "example", "scripts", "benchmarks", "migrations", "notebooks"}
)
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
    suffix = PurePosixPath(path).suffix
    if suffix in PY_SUFFIXES:
        return "python"
    if suffix in JS_SUFFIXES:
        return "javascript"
    return None


def is_test_path(path: str) -> bool:
    """True for test modules and anything under a test folder."""
    pure = PurePosixPath(path)
    if any(part in TEST_DIRS for part in pure.parts[:-1]):
        return True
    name = pure.name
    if name.startswith("test_") and name.endswith(".py"):
        return True
    if name.endswith("_test.py") or name == "conftest.py":
        return True
    stem_parts = name.split(".")
    return len(stem_parts) >= 3 and stem_parts[-2] in ("test", "spec")


def is_source_path(path: str) -> bool:
    """True for product source modules (tests, tooling, docs and config excluded)."""
    pure = PurePosixPath(path)
    if language(path) is None or is_test_path(path):
        return False
    if any(part in NOT_SOURCE_DIRS for part in pure.parts[:-1]):
        return False
    name = pure.name
    if name in NOT_SOURCE_FILES or name.endswith((".d.ts", ".min.js")):
        return False
    # Tool configuration such as jest.config.js or vite.config.ts.
    return ".config." not in name and not name.startswith(".")


def module_stem(path: str) -> str:
    """The module's own name: ``pkg/refunds.py`` -> ``refunds``."""
    return PurePosixPath(path).name.split(".")[0]


def is_requirements(path: str) -> bool:
    """Whether a path is a pip requirement file (``requirements*.txt``, ``requirements/*.txt``)."""
    pure = PurePosixPath(path)
    if pure.suffix != ".txt":
        return False
    return pure.name.startswith("requirements") or "requirements" in pure.parts[:-1]
