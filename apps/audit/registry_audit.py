"""A repository's pins checked against the registries and OSV, after the offline analysers.

``with_registry_checks`` takes a finished ``RepoAudit`` (whose dependency records are
already redacted) and adds what needs the network: pins behind the latest release, yanked
and deprecated releases, known vulnerabilities. Whatever could not be checked (offline and
not cached, unreachable, 404, 5xx) is listed in ``stats.not_checked`` by reason, and the
summary says so: an unchecked package is never reported as clean.
"""

from __future__ import annotations

from orchestra_audit.analyse import summarize
from orchestra_audit.checkable import Pin, pins_to_check
from orchestra_audit.fetch import Fetcher, Problem
from orchestra_audit.findings import (
    CheckName,
    Dependency,
    Ecosystem,
    Finding,
    GapReason,
    NotChecked,
    RepoAudit,
)
from orchestra_audit.netsettings import RegistrySettings
from orchestra_audit.osv import Advisory, VulnRef, advisory, vulnerabilities
from orchestra_audit.registries import Release, lookup
from orchestra_audit.registry_findings import deprecated, outdated, vulnerable, yanked

Gap = tuple[CheckName, Pin, Problem]
Details = dict[tuple[Pin, VulnRef], Advisory | Problem]


def _gaps(gaps: list[Gap]) -> list[NotChecked]:
    """Packages not checked, grouped by check, ecosystem and reason."""
    grouped: dict[tuple[CheckName, Ecosystem, GapReason], tuple[Problem, list[str]]] = {}
    for check, pin, problem in gaps:
        key = (check, pin.ecosystem, problem.reason)
        grouped.setdefault(key, (problem, []))[1].append(str(pin))
    return [
        NotChecked(
            check=check,
            ecosystem=ecosystem,
            reason=reason,
            detail=problem.detail,
            packages=sorted(set(packages)),
        )
        for (check, ecosystem, reason), (problem, packages) in sorted(grouped.items())
    ]


def _advisories(fetcher: Fetcher, found: dict[Pin, list[VulnRef] | Problem]) -> Details:
    """Every advisory's details, fetched at once (bounded), by pin and advisory."""
    wanted = [(pin, ref) for pin, refs in found.items() if isinstance(refs, list) for ref in refs]
    details = fetcher.map(lambda pair: advisory(fetcher, pair[1], pair[0]), wanted)
    return dict(zip(wanted, details, strict=True))


def _vulnerable(dep: Dependency, pin: Pin, refs: list[VulnRef], details: Details) -> Finding | None:
    known = [d for ref in refs if isinstance(d := details[(pin, ref)], Advisory)]
    failed = [(ref[0], d) for ref in refs if isinstance(d := details[(pin, ref)], Problem)]
    why = failed[0][1].detail if failed else ""
    return vulnerable(dep, pin, known, [vuln_id for vuln_id, _ in failed], why)


def check_pins(
    dependencies: list[Dependency], settings: RegistrySettings
) -> tuple[list[Finding], list[NotChecked], int]:
    """Findings for the pins among ``dependencies``, what was not checked, requests sent.

    The findings' ``repo`` is left empty for the caller to fill.
    """
    by_pin = pins_to_check(dependencies)
    pins = list(by_pin)
    if not pins:
        return [], [], 0
    gaps: list[Gap] = []
    findings: list[Finding] = []
    with Fetcher(settings) as fetcher:
        releases: list[Release | Problem] = fetcher.map(lambda pin: lookup(fetcher, pin), pins)
        found = vulnerabilities(fetcher, pins)
        details = _advisories(fetcher, found)
        for pin, release in zip(pins, releases, strict=True):
            refs = found[pin]
            if isinstance(release, Problem):
                gaps.append(("registry", pin, release))
            if isinstance(refs, Problem):
                gaps.append(("vulnerabilities", pin, refs))
            for dep in by_pin[pin]:
                made = [_vulnerable(dep, pin, refs, details)] if isinstance(refs, list) else []
                if isinstance(release, Release):
                    made += [f(dep, pin, release) for f in (outdated, yanked, deprecated)]
                findings += [f for f in made if f is not None]
        sent = fetcher.requests
    return findings, _gaps(gaps), sent


def with_registry_checks(audit: RepoAudit, settings: RegistrySettings) -> RepoAudit:
    """``audit`` with the registry and vulnerability findings added, and what was not checked."""
    found, gaps, _ = check_pins(audit.dependencies, settings)
    if not found and not gaps:
        return audit
    findings = audit.findings + [f.model_copy(update={"repo": audit.repo}) for f in found]
    stats = audit.stats.model_copy(update={"not_checked": audit.stats.not_checked + gaps})
    return audit.model_copy(
        update={
            "findings": findings,
            "stats": stats,
            "summary": summarize(audit.repo, findings, stats),
        }
    )
