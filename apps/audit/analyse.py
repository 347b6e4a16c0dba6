"""One repository's audit: walk it once, run the three analysers, redact, summarize.

This is deterministic code, the same with or without a model: the auditor's
``audit_repository`` tool returns its result, which is the auditor's output as it is
(``output_from_tools``): no model copies it.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from orchestra_audit.baseline import load_baseline
from orchestra_audit.deps import dependency_findings
from orchestra_audit.files import Confined, walk
from orchestra_audit.findings import SEVERITIES, Finding, RepoAudit, RepoStats
from orchestra_audit.judged import scope_sentence
from orchestra_audit.lockfiles import lock_pins
from orchestra_audit.manifests import declared
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.secrets import Secret, detect_files, redact, secret_findings
from orchestra_audit.testmap import coverage_findings
from orchestra_audit.unchecked import not_checked_sentence

if TYPE_CHECKING:  # the run's signal; processes that audit import no framework
    from orchestra import StopSignal

_BATCH = 256
"""Files scanned for secrets together: few enough that a stop is seen soon."""

Place = tuple[str, int]
"""A file and a 1-based line in it."""


def _at(found: dict[str, list[Secret]]) -> dict[Place, list[str]]:
    """Each secret value by where it was found."""
    places: dict[Place, list[str]] = {}
    for path, secrets in found.items():
        for secret in secrets:
            places.setdefault((path, secret.line), []).append(secret.value)
    return places


def _masked(audit: RepoAudit, found: dict[str, list[Secret]]) -> RepoAudit:
    """``audit`` with each secret value masked where it was found, and only there.

    Evidence of any kind may quote a line holding a secret (a token in a requirement URL,
    say), so a finding's free text (``evidence``, ``message``) and a dependency's
    constraint are masked with the values found on that finding's own file and line. Typed
    fields (kind, severity, rule, subject, paths, names) are never rewritten, and text
    elsewhere is left alone: a secret whose value is also a word (``"secret"``, ``"low"``)
    cannot corrupt anything it is not in.
    """
    places = _at(found)
    if not places:
        return audit
    findings = []
    for finding in audit.findings:
        values = places.get((finding.file, finding.line), [])
        if values:
            finding = finding.model_copy(
                update={
                    "evidence": redact(finding.evidence, values),
                    "message": redact(finding.message, values),
                }
            )
        findings.append(finding)
    dependencies = []
    for dep in audit.dependencies:
        values = places.get((dep.file, dep.line), [])
        if values:
            dep = dep.model_copy(
                update={"spec": redact(dep.spec, values), "pinned": redact(dep.pinned, values)}
            )
        dependencies.append(dep)
    return audit.model_copy(update={"findings": findings, "dependencies": dependencies})


def summarize(name: str, findings: list[Finding], stats: RepoStats) -> str:
    """A few sentences on one repository's audit."""
    counts = Counter(f.severity for f in findings)
    by_severity = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    kinds = Counter(f.kind for f in findings)
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    head = (
        f"{name}: {len(findings)} finding(s) ({by_severity}; {by_kind})."
        if findings
        else f"{name}: no findings."
    )
    read = f" Scanned {stats.files_scanned} text file(s)"
    skipped = []
    if stats.files_skipped:
        skipped.append(f"{stats.files_skipped} binary or large file(s) skipped")
    if stats.symlinks_refused:
        skipped.append(f"{stats.symlinks_refused} symlink(s) out of the repository refused")
    if stats.unreadable:
        skipped.append(f"{len(stats.unreadable)} unreadable file(s)")
    read += f"; {', '.join(skipped)}." if skipped else "."
    tests = f" Tests: {stats.test_files} test module(s) for {stats.source_files} source module(s)."
    return (
        head
        + read
        + tests
        + scope_sentence(stats.tests_scope)
        + not_checked_sentence(stats.not_checked)
    )


def audit_repo(
    root: str | Path, name: str, policy: AuditPolicy, key: bytes, *, stop: StopSignal | None = None
) -> RepoAudit:
    """Audit the repository at ``root`` (read-only, confined to it).

    ``stop`` is the run's: once it is requested the audit ends between two batches of files.

    Raises:
        NotADirectoryError: ``root`` is not a directory.
    """
    repo = Confined(root)
    tree = walk(repo)
    found: dict[str, list[Secret]] = {}
    unreadable = list(tree.unreadable)
    for start in range(0, len(tree.files), _BATCH):
        if stop is not None:
            stop.raise_if_requested()  # between batches: a stopped audit ends here, not at the end
        batch = tree.files[start : start + _BATCH]
        for file, secrets in zip(batch, detect_files(batch, key), strict=True):
            found[file.path] = secrets
    baseline = load_baseline(repo.root)
    if baseline.problem:
        unreadable.append(baseline.problem)
    findings: list[Finding] = []
    for file in tree.files:
        findings += secret_findings(name, file, found.get(file.path, []), baseline)
    items, errors = declared(tree.files)
    items, lock_errors = lock_pins(repo, tree.files, items)
    errors += lock_errors
    dep_findings, dependencies = dependency_findings(name, items, errors, policy)
    test_found, counts = coverage_findings(name, tree.files, policy)
    findings += dep_findings + test_found
    stats = RepoStats(
        files_scanned=len(tree.files),
        files_skipped=tree.skipped,
        symlinks_refused=tree.symlinks_refused,
        unreadable=unreadable,
        source_files=counts.source_files,
        test_files=counts.test_files,
        source_lines=counts.source_lines,
        test_lines=counts.test_lines,
        not_checked=[],  # the network's checks come after (orchestra_audit.registry_audit)
        tests_scope=counts.scope,
    )
    audit = RepoAudit(
        repo=name,
        root=str(repo.root),
        summary=summarize(name, findings, stats),
        findings=findings,
        dependencies=dependencies,
        stats=stats,
    )
    return _masked(audit, found)


def default_name(root: str | Path) -> str:
    """A repository's name when the audit gave it none: its folder's name."""
    return os.path.basename(os.path.normpath(str(root))) or str(root)
