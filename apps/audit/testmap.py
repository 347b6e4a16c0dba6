"""Test findings: source modules no test imports or names, the test-to-source ratio, no tests.

A module counts as tested when some test imports it (``import pkg.mod``, ``from pkg import
mod``, ``require('./mod')``, ``import x from '../src/mod'``), names it as an identifier, or
is named by a test file (``test_mod.py``, ``mod.test.js``, ``mod_test.go``), when it tests
itself (Rust's ``#[cfg(test)]``, ``#[test]``, doc tests), or when a data-driven suite tests
its package as a whole (``orchestra_audit.datadriven``). Python imports are read with
``ast``; JavaScript import specifiers with a small pattern; Go and Rust tests name what they
test. Modules with nothing to test (no function, class or type) are left out, and so are
repositories' tooling and docs folders, test data, vendored, minified and generated code
(``orchestra_audit.material``), each counted in the repository's stats.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from orchestra_audit.datadriven import Suite, case_files, data_driven, in_package
from orchestra_audit.definitions import Definitions, definitions, own_tests_start, tests_itself
from orchestra_audit.files import FileText
from orchestra_audit.findings import Finding, Severity
from orchestra_audit.judged import ScopeNote
from orchestra_audit.layout import (
    is_source_path,
    is_test_path,
    language,
    module_stem,
    unjudged_language,
)
from orchestra_audit.material import maintainer_scripts, split_left_out
from orchestra_audit.policy import AuditPolicy

MAX_MODULE_FINDINGS = 50
"""Untested modules reported one by one; beyond this, one finding counts the rest."""

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_JS_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\(\s*|import\s+)["']([^"']+)["']""")


@dataclass
class SuiteIndex:
    """What the repository's tests import and name."""

    imports: set[str] = field(default_factory=set)
    """Dotted Python modules and JavaScript module basenames the tests import."""
    names: set[str] = field(default_factory=set)
    """Identifiers used in tests, and the module names test files are named after."""


def _python_imports(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _tested_name(path: str) -> str:
    stem = module_stem(path)
    for affix in ("test_", "_test"):
        stem = stem.removeprefix(affix) if affix.endswith("_") else stem.removesuffix(affix)
    return stem


def index_tests(tests: list[FileText]) -> SuiteIndex:
    """Imports and names across the test files."""
    index = SuiteIndex()
    for file in tests:
        index.names.update(_IDENTIFIER.findall(file.text))
        index.names.add(_tested_name(file.path))
        lang = language(file.path)
        if lang == "python":
            index.imports |= _python_imports(file.text)
        elif lang == "javascript":  # Go and Rust tests name what they test (same package)
            index.imports |= {
                module_stem(spec) for spec in _JS_IMPORT.findall(file.text) if spec.startswith(".")
            }
    return index


def _dotted(path: str) -> list[str]:
    """Every import name a module could go by: ``src/pkg/mod.py`` -> src.pkg.mod, pkg.mod, mod."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    return [".".join(parts[i:]) for i in range(len(parts))]


def is_tested(path: str, names: frozenset[str], index: SuiteIndex) -> bool:
    """Whether any test imports or names the module at ``path`` (or one of its ``names``)."""
    stem = module_stem(path)
    # A private module (``_multipart.py``) is tested by ``test_multipart.py``.
    if {stem, stem.lstrip("_")} & index.names or not names.isdisjoint(index.names):
        return True
    if language(path) == "python":
        return any(name in index.imports for name in _dotted(path))
    return stem in index.imports


def _non_blank(lines: list[str]) -> int:
    return sum(1 for line in lines if line.strip())


def _line_counts(sources: list[FileText], material: list[FileText]) -> tuple[int, int]:
    """Non-blank source and test lines; a Rust file's own test module counts as tests."""
    source = test = 0
    for file in sources:
        lines, start = file.lines, own_tests_start(file)
        source, test = source + _non_blank(lines[:start]), test + _non_blank(lines[start:])
    return source, test + sum(_non_blank(f.lines) for f in material)


def _finding(
    repo: str,
    file: str,
    line: int,
    severity: Severity,
    rule: str,
    message: str,
    evidence: str = "",
) -> Finding:
    return Finding(
        repo=repo,
        kind="tests",
        severity=severity,
        file=file,
        line=line,
        message=message,
        evidence=evidence,
        rule=f"tests.{rule}",
        subject=file or repo,
    )


@dataclass
class SuiteCounts:
    """Sizes the ratio and the repository's stats are made of."""

    source_files: int = 0
    test_files: int = 0
    source_lines: int = 0
    test_lines: int = 0
    scope: list[ScopeNote] = field(default_factory=list)
    """What was not judged module by module, and why."""


def _package_level(
    testable: list[tuple[FileText, Definitions]], suites: list[Suite]
) -> list[ScopeNote]:
    credited = Counter(s for f, _ in testable if (s := in_package(f.path, suites)) is not None)
    return [
        ScopeNote(
            reason="tested-as-package",
            files=credited[s],
            example=s.package,
            detail=f"{s.suite} runs the cases in {s.data}/",
        )
        for s in suites
        if credited[s]
    ]


def _no_tests(repo: str, testable: list[tuple[FileText, Definitions]]) -> Finding:
    langs = ", ".join(sorted({str(language(f.path)) for f, _ in testable}))
    message = (
        f"the repository has no tests at all: none of its {len(testable)} source modules "
        f"({langs}) with functions, classes or types is tested. Add a test suite, starting "
        "with the modules that handle money, credentials or user input."
    )
    return _finding(repo, "", 0, "medium", "none", message)


def coverage_findings(
    repo: str, files: list[FileText], policy: AuditPolicy
) -> tuple[list[Finding], SuiteCounts]:
    """Findings about missing tests, and the counts behind them (what was judged, too)."""
    paths = [f.path for f in files]
    code, left_out = split_left_out([f for f in files if language(f.path) is not None], paths)
    tests = [f for f in code if is_test_path(f.path)]
    tooling = maintainer_scripts(files)
    sources = [f for f in code if is_source_path(f.path) and f.path not in tooling]
    suites = data_driven(tests, paths)
    material = tests + case_files(files, suites)
    testable = [(f, found) for f in sources if (found := definitions(f)).first_line]
    counts = SuiteCounts(len(sources), len(material), *_line_counts(sources, material))
    others = Counter(lang for f in files if (lang := unjudged_language(f.path)) is not None)
    others_at = {unjudged_language(f.path): f.path for f in reversed(files)}
    counts.scope = left_out + [
        ScopeNote(reason="no-test-layout", files=n, example=others_at[k], detail=k)
        for k, n in sorted(others.items())
    ]
    counts.scope += _package_level(testable, suites)
    if not testable:
        return [], counts
    selfish = {f.path for f, _ in testable if tests_itself(f)}
    if not tests and not selfish:
        return [_no_tests(repo, testable)], counts
    index = index_tests(tests)
    untested = [
        (f, d)
        for f, d in testable
        if not (
            is_tested(f.path, d.names, index) or f.path in selfish or in_package(f.path, suites)
        )
    ]
    findings = [
        _finding(
            repo,
            f.path,
            d.first_line,
            "low",
            "untested-module",
            f"no test imports {module_stem(f.path)} or names what it defines: add a test for it.",
            evidence=f.lines[d.first_line - 1].strip()[:160],
        )
        for f, d in untested[:MAX_MODULE_FINDINGS]
    ]
    if len(untested) > MAX_MODULE_FINDINGS:
        rest = len(untested) - MAX_MODULE_FINDINGS
        findings.append(
            _finding(repo, "", 0, "low", "untested-modules", f"{rest} more untested modules.")
        )
    ratio = counts.test_lines / counts.source_lines if counts.source_lines else 1.0
    wanted = policy.tests
    if counts.source_lines >= wanted.min_source_lines and ratio < wanted.min_ratio:
        findings.append(
            _finding(
                repo,
                "",
                0,
                "low",
                "low-ratio",
                f"{counts.test_lines} test lines for {counts.source_lines} source lines "
                f"(ratio {ratio:.2f}, policy {wanted.min_ratio:.2f}): the tests are thin.",
            )
        )
    return findings, counts
