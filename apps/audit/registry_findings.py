"""Findings from the registries' and OSV's answers about one pinned version.

Severities (the README's audit section says the same):

- ``dependency.outdated-major`` (medium): the latest release has a higher major version, or
  a higher minor one for a ``0.x`` package (semver's breaking place before 1.0).
- ``dependency.outdated-minor`` (low): the latest release has a higher minor version.
  Patch releases behind are not reported: pins are expected to lag that much.
- ``dependency.yanked`` (medium): PyPI yanked the pinned release; an exact pin still
  installs it. The maintainers' reason is quoted.
- ``dependency.deprecated`` (medium): npm marks the pinned version (or the whole package,
  when its latest version is deprecated too) as deprecated; the message is quoted.
- ``dependency.vulnerable`` (high; critical when an advisory's own severity is CRITICAL):
  OSV knows advisories affecting the pinned version; named with the release fixing them.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from orchestra_audit.checkable import Pin
from orchestra_audit.findings import Dependency, Finding, Severity
from orchestra_audit.osv import Advisory
from orchestra_audit.registries import Release

_QUOTE = 200
"""Characters of a registry's message quoted in a finding."""


def _finding(
    dep: Dependency, severity: Severity, rule: str, message: str, evidence: str
) -> Finding:
    return Finding(
        repo="",  # set by the caller, which knows the repository
        kind="dependency",
        severity=severity,
        file=dep.file,
        line=dep.line,
        message=message,
        evidence=evidence[:300],
        rule=f"dependency.{rule}",
        subject=f"{dep.ecosystem}:{dep.name}",
    )


def behind(pinned: str, latest: str) -> tuple[str, int] | None:
    """How far ``pinned`` is behind ``latest``: ``("major", n)``, ``("minor", n)`` or ``None``.

    >>> behind("2.19.0", "2.32.3"), behind("1.4.0", "3.0.0"), behind("0.3.1", "0.5.0")
    (('minor', 13), ('major', 2), ('major', 2))
    >>> behind("2.32.1", "2.32.3") is None and behind("3.0.0rc1", "2.32.3") is None
    True
    """
    try:
        have, newest = Version(pinned), Version(latest)
    except InvalidVersion:
        return None
    if newest <= have:
        return None
    if newest.major > have.major:
        return "major", newest.major - have.major
    if newest.minor > have.minor:
        # Before 1.0 semver breaks on minor releases: distance counts as a major one.
        return ("major" if have.major == 0 else "minor"), newest.minor - have.minor
    return None


def outdated(dep: Dependency, pin: Pin, release: Release) -> Finding | None:
    """The pin is major or minor versions behind the registry's latest release."""
    distance = behind(pin.version, release.latest)
    if distance is None:
        return None
    kind, count = distance
    evidence = f"{pin} (latest {release.latest})"
    if kind == "major":
        zero = " (before 1.0 a minor release may break)" if pin.version.startswith("0.") else ""
        return _finding(
            dep,
            "medium",
            "outdated-major",
            f"{pin} is {count} major version(s) behind the latest release {release.latest}"
            f"{zero}: read its changes and upgrade; old majors stop getting fixes.",
            evidence,
        )
    return _finding(
        dep,
        "low",
        "outdated-minor",
        f"{pin} is {count} minor version(s) behind the latest release {release.latest}: "
        "upgrade (minor releases should not break).",
        evidence,
    )


def yanked(dep: Dependency, pin: Pin, release: Release) -> Finding | None:
    """PyPI yanked the pinned release."""
    if release.yanked is None:
        return None
    said = release.yanked[:_QUOTE]
    why = f' (its maintainers say "{said}")' if said else " (no reason given)"
    return _finding(
        dep,
        "medium",
        "yanked",
        f"{pin} is a yanked release{why}: it was withdrawn, and only an exact pin "
        f"still installs it; pin another release (the latest is {release.latest}).",
        f"{pin} yanked",
    )


def deprecated(dep: Dependency, pin: Pin, release: Release) -> Finding | None:
    """The pinned version, or the whole package, is deprecated on npm."""
    if release.deprecated is None:
        return None
    said = release.deprecated[:_QUOTE]
    if release.package_deprecated:
        message = (
            f"{dep.name} is deprecated as a whole (its latest release {release.latest} too: "
            f'"{said}"): replace it with a maintained package.'
        )
    else:
        message = f'{pin} is deprecated ("{said}"): upgrade to {release.latest}, which is not.'
    return _finding(dep, "medium", "deprecated", message, f"{pin} deprecated")


def _distinct(advisories: list[Advisory]) -> list[Advisory]:
    """One advisory per problem: OSV lists PYSEC and GHSA records of one issue apart."""
    kept: list[Advisory] = []
    for advisory in advisories:
        names = {advisory.id, *advisory.aliases}
        if not any(names & {k.id, *k.aliases} for k in kept):
            kept.append(advisory)
    return kept


def _named(advisory: Advisory) -> str:
    cve = next((a for a in advisory.aliases if a.startswith("CVE-")), "")
    return f"{advisory.id} ({cve})" if cve and not advisory.id.startswith("CVE-") else advisory.id


def vulnerable(
    dep: Dependency, pin: Pin, advisories: list[Advisory], unknown: list[str], why: str = ""
) -> Finding | None:
    """OSV knows advisories affecting the pinned version.

    ``unknown`` are advisory ids whose details could not be fetched (``why``): still named.
    """
    distinct = _distinct(advisories)
    if not distinct and not unknown:
        return None
    names = [_named(a) for a in distinct] + unknown
    fixes = [Version(a.fixed) for a in distinct if a.fixed]
    unfixed = [a.id for a in distinct if not a.fixed] + unknown
    if fixes and not unfixed:
        advice = f"upgrade to {max(fixes)} or later, which fixes all of them"
    elif fixes:
        advice = f"upgrade to {max(fixes)} or later; no release fixes {', '.join(unfixed)} yet"
    else:
        advice = "no fixed release is known: replace it or mitigate"
    details = f" (details of {', '.join(unknown)} unavailable, {why})" if unknown and why else ""
    severity: Severity = "critical" if any(a.critical for a in distinct) else "high"
    return _finding(
        dep,
        severity,
        "vulnerable",
        f"{pin} has {len(names)} known vulnerabilit{'y' if len(names) == 1 else 'ies'} "
        f"({', '.join(names)}){details}: {advice}.",
        "; ".join(f"{a.id}: {a.summary}" for a in distinct) or ", ".join(unknown),
    )
