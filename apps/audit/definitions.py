"""What a source module defines at its top level, per language, and whether it tests itself.

A module with no function, class or type has nothing to test. The names are what a test
may use to name the module: Python's public functions and classes (read with ``ast``);
JavaScript's declared functions, classes and ``exports.x`` (ES modules and CommonJS);
Go's functions and types (not methods: ``String``, ``Set`` or ``Error`` would name every
file); Rust's functions, types, traits and macros. A Rust file with ``#[cfg(test)]``,
``#[test]`` or a doc test (a fenced example in a ``///`` or ``//!`` comment, which
``cargo test`` runs) tests itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from orchestra_audit.files import FileText
from orchestra_audit.layout import language


@dataclass(frozen=True)
class Definitions:
    """What a module defines at its top level."""

    first_line: int
    """The line of its first function or class; 0 when it defines none (nothing to test)."""
    names: frozenset[str]
    """Its public function and class names (a test using one names the module)."""


def _python(file: FileText) -> Definitions:
    try:
        tree = ast.parse(file.text)
    except (SyntaxError, ValueError):
        return Definitions(1 if file.text.strip() else 0, frozenset())
    nodes = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    first = nodes[0].lineno if nodes else 0
    return Definitions(first, frozenset(n.name for n in nodes if not n.name.startswith("_")))


# Any function or class: ``function f``, ``= function (``, ``class C``, an arrow function.
_JS_CODE = re.compile(r"\bfunction\b|\bclass\s+[A-Za-z_$]|=>")
# A top-level name: ``export function f``, ``class C``, ``exports.f =``, and ``const f =``
# only for a function or class (a constant such as ``keys`` would match any test's words).
_JS_NAME = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:(?:function\*?\s*|class\s+|(?:module\.)?exports\.)([A-Za-z_$][\w$]*)"
    r"|(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?"
    r"(?:function\b|class\b|\(|[A-Za-z_$][\w$]*\s*=>))"
)
_GO_CODE = re.compile(r"^(?:func|type)\b")
_GO_NAME = re.compile(r"^(?:func\s+|type\s+)([A-Za-z_]\w*)")
_RUST_CODE = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe|extern\s+\"C\")\s+)*"
    r"(?:fn|struct|enum|trait|union|impl|macro_rules!)\b"
)
_RUST_NAME = re.compile(
    r"^(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe)\s+)*"
    r"(?:fn|struct|enum|trait|union|type|macro_rules!)\s*([A-Za-z_]\w*)"
)


def _by_lines(code: re.Pattern[str], name: re.Pattern[str]) -> Callable[[FileText], Definitions]:
    """Definitions read line by line.

    The first line ``code`` matches is the first definition; ``name`` finds the names at
    the start of unindented lines (top-level declarations).
    """

    def read(file: FileText) -> Definitions:
        first, names = 0, set()
        for number, line in enumerate(file.lines, 1):
            if not first and code.search(line):
                first = number
            if not line.startswith((" ", "\t")) and (match := name.match(line)):
                names.add(next(group for group in match.groups() if group))
        return Definitions(first, frozenset(names))

    return read


_READERS = {
    "python": _python,
    "javascript": _by_lines(_JS_CODE, _JS_NAME),
    "go": _by_lines(_GO_CODE, _GO_NAME),
    "rust": _by_lines(_RUST_CODE, _RUST_NAME),
}


def definitions(file: FileText) -> Definitions:
    r"""The module's first definition line and top-level names.

    Example:
        >>> from pathlib import Path
        >>> legacy = "var x = 1;\nmodule.exports = function slugify(s) {\n  return s;\n};\n"
        >>> definitions(FileText("lib/slug.js", Path("slug.js"), legacy))
        Definitions(first_line=2, names=frozenset())
        >>> arrow = "const keys = ['a'];\nexport const slug = (s) => s;\n"
        >>> definitions(FileText("slug.ts", Path("slug.ts"), arrow)).names
        frozenset({'slug'})
        >>> go = "package flag\n\ntype intValue int\n\nfunc (i *intValue) String() string {"
        >>> sorted(definitions(FileText("int.go", Path("int.go"), go)).names)
        ['intValue']
    """
    lang = language(file.path)
    if lang is None:
        return Definitions(0, frozenset())
    return _READERS[lang](file)


_RUST_TEST = re.compile(r"^\s*#\[(?:cfg\(test\)|test)\]")
_RUST_TEST_MODULE = re.compile(r"^\s*#\[cfg\(test\)\]")


def own_tests_start(file: FileText) -> int:
    r"""The 0-based line where a Rust file's ``#[cfg(test)]`` module begins, else its length.

    By convention the module closes the file, so its lines are test lines, not source.

    Example:
        >>> from pathlib import Path
        >>> text = "fn a() {}\n#[cfg(test)]\nmod t {}\n"
        >>> own_tests_start(FileText("a.rs", Path("a.rs"), text))
        1
    """
    lines = file.lines
    if language(file.path) == "rust":
        for number, line in enumerate(lines):
            if _RUST_TEST_MODULE.match(line):
                return number
    return len(lines)


# A doc comment's fence opens a doc test unless it says the block is not Rust.
_DOC_FENCE = re.compile(r"^\s*//[/!]\s*```(?P<info>[\w,\-]*)\s*$")
_NOT_RUST = frozenset({"text", "ignore", "console", "sh", "bash", "toml", "json", "txt"})


def tests_itself(file: FileText) -> bool:
    r"""Whether the file holds its own tests (Rust unit tests or doc tests).

    Example:
        >>> from pathlib import Path
        >>> src = "pub fn one() -> u8 { 1 }\n#[cfg(test)]\nmod tests {}\n"
        >>> tests_itself(FileText("src/one.rs", Path("one.rs"), src))
        True
        >>> tests_itself(FileText("src/two.rs", Path("two.rs"), "/// ```text\n/// ```\n"))
        False
    """
    if language(file.path) != "rust":
        return False
    in_block = False
    for line in file.lines:
        if _RUST_TEST.match(line):
            return True
        fence = _DOC_FENCE.match(line)
        if fence is None:
            continue
        if not in_block and not _NOT_RUST & set(fence["info"].split(",")):
            return True
        in_block = not in_block  # a closing fence is not the start of an example
    return False
