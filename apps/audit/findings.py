"""Data of ``orchestra audit``: typed findings, one repository's audit, and the ranked digest.

The auditor specialist returns a ``RepoAudit`` per repository; the synthesizer's digest
reduces all of them to one ``AuditDigest`` (ranked, merged, cross-repository conflicts
explained). Every field is required, as in ``orchestra.state.outputs``, so the schemas stay valid
for strict structured-output modes. Secret values never appear in any of these models:
evidence is redacted before a ``Finding`` is built.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from orchestra_audit.judged import ScopeNote

FindingKind = Literal["secret", "dependency", "tests"]
"""What a finding is about: a secret in code, a dependency spec, or missing tests."""

Severity = Literal["critical", "high", "medium", "low", "info"]
"""How urgent a finding is, most urgent first."""

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
"""Severities in ranking order (index 0 is the most urgent)."""

KINDS: tuple[FindingKind, ...] = ("secret", "dependency", "tests")
"""Kinds in ranking order for findings of equal severity."""

Ecosystem = Literal["pypi", "npm"]
"""Package registries whose manifests the audit reads."""


class Finding(BaseModel):
    """One problem, pointing at a file and line of one repository (or at the whole of it)."""

    repo: str = Field(description="The repository's name in this audit.")
    kind: FindingKind = Field(description="secret, dependency or tests.")
    severity: Severity = Field(description="critical, high, medium, low or info.")
    file: str = Field(
        description="Path relative to the repository root, '/'-separated; '' for the repository."
    )
    line: int = Field(ge=0, description="1-based line in the file; 0 for the whole file.")
    message: str = Field(description="What is wrong and what to do, in one or two sentences.")
    evidence: str = Field(description="The offending text, with any secret value redacted.")
    rule: str = Field(description="Machine category, e.g. 'dependency.unpinned'.")
    subject: str = Field(
        description="What the finding is about: a package, a module, or a secret's fingerprint."
    )


class Dependency(BaseModel):
    """One declared dependency, as the cross-repository reconciliation needs it."""

    ecosystem: Ecosystem = Field(description="pypi or npm.")
    name: str = Field(description="Normalized package name.")
    spec: str = Field(description="The version constraint as written ('' for none).")
    pinned: str = Field(description="The exact version when the spec pins one, else ''.")
    locked: str = Field(
        description="The version a lockfile resolved for it, else '' (check `locked or pinned`)."
    )
    minimum: str = Field(description="The policy's minimum version for it, '' when none.")
    file: str = Field(description="Manifest path relative to the repository root.")
    line: int = Field(ge=0, description="1-based line of the declaration (0 if unknown).")


CheckName = Literal["registry", "vulnerabilities"]
"""A check that needs the network: the registries' latest releases, or OSV's advisories."""

GapReason = Literal["offline", "unreachable", "timeout", "not-found", "server-error", "refused"]
"""Why a check could not run: ``offline`` (and not cached), the service ``unreachable`` or
too slow (``timeout``), the package ``not-found`` on the registry (404), the service failing
(``server-error``: 5xx or an answer that is not what its API publishes) or ``refused`` (another
4xx, e.g. a private index asking for credentials)."""


class NotChecked(BaseModel):
    """Packages a check could not be run for, and why: never reported as clean."""

    check: CheckName = Field(description="registry or vulnerabilities.")
    ecosystem: Ecosystem = Field(description="pypi or npm.")
    reason: GapReason = Field(description="Why: offline, unreachable, timeout, not-found, ...")
    detail: str = Field(description="The reason for people, e.g. 'HTTP 503 from pypi.org'.")
    packages: list[str] = Field(description="'name==version' of each package not checked.")


class RepoStats(BaseModel):
    """What was read of a repository, and what was left out and why."""

    files_scanned: int = Field(description="Text files read and checked.")
    files_skipped: int = Field(description="Binary files and files over the size limit.")
    symlinks_refused: int = Field(description="Symlinks pointing outside the repository.")
    unreadable: list[str] = Field(description="'path: reason' for files that could not be read.")
    source_files: int = Field(description="Source modules (tests excluded).")
    test_files: int = Field(description="Test modules.")
    source_lines: int = Field(description="Non-blank lines of source modules.")
    test_lines: int = Field(description="Non-blank lines of test modules.")
    not_checked: list[NotChecked] = Field(
        description="Checks that could not run (registries, vulnerabilities), by reason."
    )
    tests_scope: list[ScopeNote] = Field(
        description="Code not judged for tests module by module, and why (none: all judged)."
    )

    @model_validator(mode="before")
    @classmethod
    def _before_new_fields(cls, data: Any) -> Any:
        # Audits checkpointed before these fields existed lack them, and the schema still
        # requires them (strict structured-output modes need every field).
        if isinstance(data, dict):
            missing: dict[str, list[Any]] = {
                k: [] for k in ("not_checked", "tests_scope") if k not in data
            }
            return {**data, **missing} if missing else data
        return data


class RepoAudit(BaseModel):
    """The auditor's result for one repository."""

    repo: str = Field(description="The repository's name in this audit.")
    root: str = Field(description="The repository's absolute path.")
    summary: str = Field(description="The audit of this repository in a few sentences.")
    findings: list[Finding] = Field(description="Every problem found, secrets redacted.")
    dependencies: list[Dependency] = Field(description="Declared dependencies, for reconciling.")
    stats: RepoStats = Field(description="Files read, skipped and unreadable.")


class PinnedVersion(BaseModel):
    """Where one version of a package is pinned."""

    repo: str
    file: str
    line: int
    version: str
    below_minimum: bool
    """True when the version is below the policy's minimum."""


class VersionConflict(BaseModel):
    """One package pinned to different versions across (or within) the audited repositories."""

    ecosystem: Ecosystem
    package: str
    versions: list[PinnedVersion]
    recommended: str
    """The version to align on: the newest pinned one that meets the policy."""
    explanation: str


class RepoLine(BaseModel):
    """One repository's line in the digest."""

    repo: str
    root: str
    subtask: str
    """The subtask id whose accepted result this is."""
    findings: int
    worst: Severity | None
    stats: RepoStats


class AuditDigest(BaseModel):
    """The synthesizer's digest: findings ranked across repositories, duplicates merged."""

    summary: str = Field(description="Totals, the most urgent findings and every conflict.")
    findings: list[Finding] = Field(description="Ranked: severity, then kind, repo, file, line.")
    conflicts: list[VersionConflict] = Field(description="Cross-repository version conflicts.")
    repositories: list[RepoLine] = Field(description="Each audited repository, by name.")
    counts: dict[str, int] = Field(description="Findings per severity.")
    merged: int = Field(description="Duplicate findings folded into others.")
