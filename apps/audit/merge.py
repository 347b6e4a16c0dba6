"""Folding findings together: duplicates, one problem in many repositories, one shared secret.

The digest ranks what is left, so a 50-repository audit reads as a list of problems,
not 50 reports: a package left unpinned in 30 repositories is one finding naming them.
"""

from __future__ import annotations

from collections import defaultdict

from orchestra_audit.findings import KINDS, SEVERITIES, Finding

ACROSS_RULES = {
    "dependency.unpinned": "has no version constraint in {n} repositories: any release, "
    "including a breaking or vulnerable one, can be installed. Pin it or give it a range.",
    "dependency.unbounded": "has no upper bound in {n} repositories: the next major release "
    "will be installed without review. Add an upper bound or pin it.",
    "dependency.invalid": "has a version spec that cannot be read in {n} repositories, so it "
    "cannot be checked.",
}
"""Problems that are the same wherever they occur, merged across repositories."""


def rank_key(finding: Finding) -> tuple[int, int, str, str, int, str]:
    """Most urgent first: severity, kind, then repository, file, line and rule."""
    return (
        SEVERITIES.index(finding.severity),
        KINDS.index(finding.kind),
        finding.repo,
        finding.file,
        finding.line,
        finding.rule,
    )


def merge(findings: list[Finding]) -> tuple[list[Finding], int]:
    """Fold duplicates (same repository, kind, place, subject and rule) into one; count them.

    Secrets are one per line whatever matched them; other kinds keep distinct rules apart
    (an unbounded spec below the policy's minimum is two problems on one line).
    """
    kept: dict[tuple[str, ...], Finding] = {}
    for finding in findings:
        secret = finding.kind == "secret"
        subject, rule = ("", "") if secret else (finding.subject, finding.rule)
        key = (finding.repo, finding.kind, finding.file, str(finding.line), subject, rule)
        earlier = kept.get(key)
        if earlier is None or rank_key(finding) < rank_key(earlier):
            kept[key] = finding
    return list(kept.values()), len(findings) - len(kept)


def cross_reference_secrets(findings: list[Finding]) -> list[Finding]:
    """Note, on each secret, the other repositories holding the same value (by fingerprint)."""
    places: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.kind == "secret":
            places[finding.subject].append(finding)
    out = []
    for finding in findings:
        others = [
            f"{f.repo} ({f.file}:{f.line})"
            for f in places.get(finding.subject, [])
            if f.kind == "secret" and f.repo != finding.repo
        ]
        if finding.kind == "secret" and others:
            note = f" The same value is also in {', '.join(sorted(set(others)))}: rotate it once."
            finding = finding.model_copy(update={"message": finding.message + note})
        out.append(finding)
    return out


def merge_across(findings: list[Finding]) -> tuple[list[Finding], int]:
    """One finding for a problem repeated in several repositories; count the folded ones.

    Only problems that are the same wherever they occur (an unpinned or unbounded package)
    are merged; secrets, versions below the minimum and missing tests stay per repository.
    """
    groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    kept: list[Finding] = []
    for finding in findings:
        if finding.rule in ACROSS_RULES:
            groups[(finding.rule, finding.subject, finding.severity)].append(finding)
        else:
            kept.append(finding)
    folded = 0
    for (rule, subject, _), group in groups.items():
        repos = sorted({f.repo for f in group})
        if len(repos) < 2:
            kept += group
            continue
        group.sort(key=lambda f: (f.repo, f.file, f.line))
        files = {f.file for f in group}
        lines = {f.line for f in group}
        same_place = len(files) == 1 and len(lines) == 1
        package = subject.split(":", 1)[-1]
        places = [f"{f.repo} {f.file}:{f.line} {f.evidence}" for f in group]
        kept.append(
            group[0].model_copy(
                update={
                    "repo": ", ".join(repos),
                    "file": group[0].file if same_place else "",
                    "line": group[0].line if same_place else 0,
                    "message": f"{package} {ACROSS_RULES[rule].format(n=len(repos))}",
                    "evidence": "; ".join(places)[:300],
                }
            )
        )
        folded += len(group) - 1
    return kept, folded
