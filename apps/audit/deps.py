"""Dependency findings: unpinned and unbounded specs, versions below the policy's minimums.

An open spec that a lockfile pins (``Declared.locked``) is reported at info with the lock
named; a lockfile that pins a version its manifest no longer admits is out of date.

Cross-repository conflicts (one package pinned to different versions in different
repositories) need every repository at once, so they are found by the digest from the
``Dependency`` records made here.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from orchestra_audit.findings import Dependency, Finding, Severity
from orchestra_audit.manifests import Declared, ManifestError
from orchestra_audit.policy import AuditPolicy, package_key


def _finding(repo: str, item: Declared, severity: Severity, rule: str, message: str) -> Finding:
    return Finding(
        repo=repo,
        kind="dependency",
        severity=severity,
        file=item.file,
        line=item.line,
        message=message,
        evidence=item.evidence[:160],
        rule=f"dependency.{rule}",
        subject=f"{item.ecosystem}:{package_key(item.ecosystem, item.name)}",
    )


def _admits(item: Declared) -> bool:
    """Whether the spec admits the locked version, judged by its pin or lower bound.

    A lock below the spec (``>=4.3.1`` locked at 4.3.0) is out of date: the next install
    re-resolves it, so it pins nothing. Upper bounds are not checked (npm's are not parsed).
    """
    locked = _version(item.locked)
    pinned, floor = item.constraint.pinned, item.constraint.floor
    if locked is None:
        return True
    return locked == pinned if pinned is not None else floor is None or locked >= floor


def _stale_finding(repo: str, item: Declared) -> Finding | None:
    if not item.locked or _admits(item):
        return None
    return _finding(
        repo,
        item,
        "low",
        "stale-lock",
        f"{item.lockfile} pins {item.name} to {item.locked}, which {item.spec} does not "
        "admit: the lockfile is out of date with this manifest. Lock again.",
    )


def _locked_finding(repo: str, item: Declared) -> Finding:
    """An open spec that a lockfile pins: installs from the lock are reproducible."""
    lockfile = item.lockfile.rsplit("/", 1)[-1]
    # A workspace root's lock is named by its path: it is not next to the manifest.
    where = f" ({item.lockfile})" if lockfile != item.lockfile else ""
    if item.constraint.shape == "unpinned":
        what = f"{item.name} has no version constraint"
    else:
        what = f"{item.name} {item.spec} has no upper bound"
    return _finding(
        repo,
        item,
        "info",
        item.constraint.shape,
        f"{what} here, but it is pinned by {lockfile} to {item.locked}{where}: "
        "installs from the lockfile are reproducible; only those that bypass it are open.",
    )


def _shape_finding(repo: str, item: Declared, minimum: str) -> Finding | None:
    shape = item.constraint.shape
    name = item.name
    wanted = f" (the policy asks for at least {minimum})" if minimum else ""
    if item.locked and shape in ("unpinned", "unbounded") and _admits(item):
        return _locked_finding(repo, item)
    if shape == "unpinned":
        return _finding(
            repo,
            item,
            "medium",
            "unpinned",
            f"{name} has no version constraint: any release, including a breaking or "
            f"vulnerable one, can be installed{wanted}. Pin it or give it a range.",
        )
    if shape == "unbounded" and item.library:
        # A library's metadata should not cap its users; the application that deploys it should.
        return _finding(
            repo,
            item,
            "info",
            "unbounded",
            f"{name} {item.spec} has no upper bound: usual for a library's metadata, but pin it "
            "(a lock or constraints file) wherever this project is deployed.",
        )
    if shape == "unbounded":
        return _finding(
            repo,
            item,
            "low",
            "unbounded",
            f"{name} {item.spec} has no upper bound: the next major release will be installed "
            "without review. Add an upper bound or pin it.",
        )
    if shape == "invalid":
        return _finding(
            repo,
            item,
            "low",
            "invalid",
            f"the version spec of {name} ({item.spec or 'empty'}) cannot be read, so it cannot "
            "be checked.",
        )
    return None


def _version(text: str) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _policy_finding(repo: str, item: Declared, policy: AuditPolicy) -> Finding | None:
    minimum = policy.minimum_for(item.ecosystem, item.name)
    constraint = item.constraint
    if minimum is None:
        return None
    if constraint.pinned is not None and constraint.pinned < minimum:
        return _finding(
            repo,
            item,
            "high",
            "below-minimum",
            f"{item.name} is pinned to {constraint.pinned}, below the policy's minimum "
            f"{minimum}: upgrade it to {minimum} or later.",
        )
    locked = _version(item.locked)
    if constraint.pinned is None and locked is not None and locked < minimum:
        return _finding(
            repo,
            item,
            "high",
            "below-minimum",
            f"{item.name} is pinned by {item.lockfile} to {locked}, below the policy's minimum "
            f"{minimum}: update the lockfile to {minimum} or later.",
        )
    if constraint.pinned is None and constraint.floor is not None and constraint.floor < minimum:
        return _finding(
            repo,
            item,
            "medium",
            "below-minimum",
            f"{item.name} {item.spec} admits versions from {constraint.floor}, below the "
            f"policy's minimum {minimum}: raise the lower bound to {minimum}.",
        )
    return None


def dependency_findings(
    repo: str, items: list[Declared], errors: list[ManifestError], policy: AuditPolicy
) -> tuple[list[Finding], list[Dependency]]:
    """Findings for each declaration, and the repository's dependency records."""
    findings: list[Finding] = []
    records: list[Dependency] = []
    for item in items:
        if item.constraint.shape == "external":
            continue
        minimum = policy.minimum_for(item.ecosystem, item.name)
        for found in (
            _policy_finding(repo, item, policy),
            _shape_finding(repo, item, str(minimum) if minimum else ""),
            _stale_finding(repo, item),
        ):
            if found is not None:
                findings.append(found)
        pinned = item.constraint.pinned
        records.append(
            Dependency(
                ecosystem=item.ecosystem,
                name=package_key(item.ecosystem, item.name),
                spec=item.spec,
                pinned=str(pinned) if pinned is not None else "",
                locked=item.locked,
                minimum=str(minimum) if minimum else "",
                file=item.file,
                line=item.line,
            )
        )
    for error in errors:
        findings.append(
            Finding(
                repo=repo,
                kind="dependency",
                severity="medium",
                file=error.file,
                line=0,
                message=f"the manifest cannot be read ({error.reason}), so its dependencies "
                "were not checked.",
                evidence="",
                rule="dependency.unreadable-manifest",
                subject=error.file,
            )
        )
    return findings, records
