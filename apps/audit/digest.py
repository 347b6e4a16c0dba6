"""The synthesizer's digest of an audit: one ranked list across repositories, not N reports.

Run in code over the accepted ``RepoAudit`` outputs (``synthesizer.digest``): duplicate
findings are merged, one package pinned to different versions is reported once as a
conflict (explaining when one repository already has the fix another lacks), one secret
found in several repositories is cross-referenced, and everything is ranked by severity,
then kind, repository, file and line. The model, if any, explains; it does not recount.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel

from orchestra_audit.findings import (
    SEVERITIES,
    AuditDigest,
    Dependency,
    Ecosystem,
    Finding,
    PinnedVersion,
    RepoAudit,
    RepoLine,
    VersionConflict,
)
from orchestra_audit.merge import cross_reference_secrets, merge, merge_across, rank_key
from orchestra_audit.unchecked import not_checked_sentence

TOP = 5
"""Findings named in the summary."""


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


_PLACES = 4
"""Up to this many pins, a conflict names each file and line; beyond, repositories only."""


def _listing(versions: list[PinnedVersion], detailed: bool) -> str:
    """``2.19.0 in a (requirements.txt:3); 2.32.3 in b, c``: grouped by version, oldest first."""
    by_version: dict[str, list[PinnedVersion]] = defaultdict(list)
    for v in versions:
        by_version[v.version].append(v)
    parts = []
    for version in sorted(by_version, key=_version):
        where = [
            f"{v.repo} ({v.file}:{v.line})" if detailed else v.repo for v in by_version[version]
        ]
        parts.append(f"{version} in {', '.join(where)}")
    return "; ".join(parts)


def _explain(package: str, versions: list[PinnedVersion], recommended: str) -> str:
    detailed = len(versions) <= _PLACES
    behind = [v for v in versions if v.below_minimum]
    fixed = [v for v in versions if not v.below_minimum and v.version == recommended]
    if behind and fixed:
        return (
            f"{package} is below the policy's minimum at {_listing(behind, detailed)}, but "
            f"already fixed at {_listing(fixed, detailed)}: move the others to {recommended}, "
            "a version already in use."
        )
    count = len({_version(v.version) for v in versions})
    return (
        f"{package} is pinned to {count} different versions: {_listing(versions, detailed)}. "
        f"The repositories test and ship different code for it; align them on {recommended}."
    )


def conflicts_of(audits: list[RepoAudit]) -> list[VersionConflict]:
    """Packages pinned to more than one version across (or within) the audited repositories."""
    pins: dict[tuple[Ecosystem, str], list[tuple[str, Dependency]]] = defaultdict(list)
    for audit in audits:
        for dep in audit.dependencies:
            if dep.pinned:
                pins[(dep.ecosystem, dep.name)].append((audit.repo, dep))
    found = []
    for (ecosystem, name), entries in sorted(pins.items()):
        if len({_version(d.pinned) for _, d in entries}) < 2:
            continue
        versions = [
            PinnedVersion(
                repo=repo,
                file=d.file,
                line=d.line,
                version=d.pinned,
                below_minimum=bool(d.minimum) and _version(d.pinned) < _version(d.minimum),
            )
            for repo, d in entries
        ]
        good = [v for v in versions if not v.below_minimum]
        best = max(good or versions, key=lambda v: _version(v.version))
        minimum = next((d.minimum for _, d in entries if d.minimum), "")
        # With no pinned version meeting the policy, the policy's minimum is the target.
        recommended = best.version if good or not minimum else minimum
        found.append(
            VersionConflict(
                ecosystem=ecosystem,
                package=name,
                versions=versions,
                recommended=recommended,
                explanation=_explain(name, versions, recommended),
            )
        )
    return found


def _point_at_fixes(findings: list[Finding], conflicts: list[VersionConflict]) -> list[Finding]:
    """A version below the minimum in one repository, already fixed in another: say where."""
    fixes: dict[str, tuple[str, list[str]]] = {}
    for conflict in conflicts:
        users = sorted({v.repo for v in conflict.versions if v.version == conflict.recommended})
        fine = [v for v in conflict.versions if not v.below_minimum]
        if fine and users:
            fixes[f"{conflict.ecosystem}:{conflict.package}"] = (conflict.recommended, users)
    out = []
    for finding in findings:
        fix = fixes.get(finding.subject)
        if finding.rule == "dependency.below-minimum" and fix is not None:
            version, users = fix
            elsewhere = [u for u in users if u != finding.repo]
            if elsewhere:
                note = f" {version} is already in use in {', '.join(elsewhere)}."
                finding = finding.model_copy(update={"message": finding.message + note})
        out.append(finding)
    return out


def conflict_finding(conflict: VersionConflict) -> Finding:
    """The one finding that reports a conflict (instead of one per repository)."""
    repos = sorted({v.repo for v in conflict.versions})
    urgent = any(v.below_minimum for v in conflict.versions)
    return Finding(
        repo=", ".join(repos),
        kind="dependency",
        severity="high" if urgent else "medium",
        file="",
        line=0,
        message=conflict.explanation,
        evidence="; ".join(f"{v.repo} {v.file}:{v.line} {v.version}" for v in conflict.versions)[
            :300
        ],
        rule="dependency.version-conflict",
        subject=f"{conflict.ecosystem}:{conflict.package}",
    )


def _summary(
    audits: list[RepoAudit], ranked: list[Finding], conflicts: list[VersionConflict], merged: int
) -> str:
    counts = Counter(f.severity for f in ranked)
    by_severity = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "none"
    parts = [
        f"Audited {len(audits)} repositor{'y' if len(audits) == 1 else 'ies'}: "
        f"{len(ranked)} finding(s) ({by_severity})"
        + (f", {merged} duplicate(s) merged." if merged else ".")
    ]
    if ranked:
        top = [
            f"{i}) {f.severity}: {f.repo} {place(f)}: {headline(f)}"
            for i, f in enumerate(ranked[:TOP], 1)
        ]
        parts.append("Most urgent: " + "; ".join(top) + ".")
    for conflict in conflicts:
        parts.append(f"Cross-repository: {conflict.explanation}")
    bare = [a.repo for a in audits if any(f.rule == "tests.none" for f in a.findings)]
    if bare:
        parts.append(f"No tests at all: {', '.join(bare)}.")
    unchecked = not_checked_sentence([g for a in audits for g in a.stats.not_checked]).strip()
    if unchecked:  # a check that could not run is said, never left to read as clean
        parts.append(unchecked)
    return "\n".join(parts)


def headline(finding: Finding) -> str:
    """The finding's message up to its advice: what is wrong, in a few words."""
    if finding.rule == "dependency.version-conflict":  # the conflict itself is explained apart
        package = finding.subject.split(":", 1)[-1]
        behind = ", some below the policy's minimum" if finding.severity == "high" else ""
        return f"{package} pinned to different versions{behind}"
    return finding.message.split(": ", 1)[0].rstrip(".")


def place(finding: Finding) -> str:
    """``file:line``, the file alone, or where a repository-wide finding applies."""
    if not finding.file:
        return "(across repositories)" if ", " in finding.repo else "(repository)"
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


def digest_audits(outputs: dict[str, BaseModel]) -> AuditDigest:
    """The audit's digest from the accepted outputs, by subtask id (``synthesizer.digest``)."""
    latest: dict[str, tuple[str, RepoAudit]] = {}
    for sid, output in outputs.items():
        audit = output if isinstance(output, RepoAudit) else RepoAudit.model_validate(output)
        latest[audit.root] = (sid, audit)  # a root audited twice: the later result stands
    audits = [a for _, a in latest.values()]
    conflicts = conflicts_of(audits)
    found = [f for a in audits for f in a.findings] + [conflict_finding(c) for c in conflicts]
    merged, folded = merge(_point_at_fixes(found, conflicts))
    merged, across = merge_across(merged)
    ranked = sorted(cross_reference_secrets(merged), key=rank_key)
    repositories = [
        RepoLine(
            repo=audit.repo,
            root=audit.root,
            subtask=sid,
            findings=sum(1 for f in ranked if f.repo == audit.repo),
            worst=min(
                (f.severity for f in ranked if f.repo == audit.repo),
                key=SEVERITIES.index,
                default=None,
            ),
            stats=audit.stats,
        )
        for sid, audit in sorted(latest.values(), key=lambda pair: pair[1].repo)
    ]
    counts = Counter(f.severity for f in ranked)
    return AuditDigest(
        summary=_summary(audits, ranked, conflicts, folded + across),
        findings=ranked,
        conflicts=conflicts,
        repositories=repositories,
        counts={s: counts[s] for s in SEVERITIES},
        merged=folded + across,
    )
