"""The audit's outputs: the ranked report (terminal and Markdown) and the ``--json`` document.

Everything is rendered from the digest in state (``state["digest"]``); a run that stopped
before the synthesizer gets an interim digest computed from the repositories finished so
far, so an interrupted audit still shows what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from orchestra import RunResult, totals
from orchestra_audit.digest import digest_audits, headline, place
from orchestra_audit.findings import SEVERITIES, AuditDigest, NotChecked, RepoAudit
from orchestra_audit.unchecked import not_checked_json

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
TERMINAL_ROWS = 40
"""Findings shown on a terminal; the Markdown report and --json have all of them."""


@dataclass(frozen=True)
class RepoState:
    """Where one repository of the audit stands."""

    name: str
    root: str
    subtask: str | None
    status: str
    """pending, auditing, submitted, revise, accepted, rejected, failed or skipped."""
    reason: str = ""


def _root_of(instruction: str, roots: list[str]) -> str | None:
    """The root an instruction names; the longest wins, so ``/x/app`` is not ``/x/app2``."""
    named = [root for root in roots if root in instruction]
    return max(named, key=len) if named else None


def repo_states(values: dict[str, Any], names: dict[str, str]) -> list[RepoState]:
    """Each repository's subtask and status, matched by its root in the subtask's instruction."""
    results = values.get("results", {})
    latest: dict[str, dict[str, Any]] = {}
    for record in values.get("plan", []):  # a later round's subtask supersedes an earlier one
        root = _root_of(record["instruction"], list(names))
        if root is not None:
            latest[root] = record
    states = []
    for root, name in names.items():
        record = latest.get(root)
        if record is None:
            states.append(RepoState(name, root, None, "pending"))
            continue
        result = results.get(record["id"])
        status = result["status"] if result else "auditing"
        reason = (result or {}).get("reason", "")
        states.append(RepoState(name, root, record["id"], status, reason))
    return states


def run_digest(values: dict[str, Any]) -> AuditDigest | None:
    """The run's digest, or an interim one from the accepted results when it stopped early."""
    if isinstance(values.get("digest"), dict):
        return AuditDigest.model_validate(values["digest"])
    accepted = {
        sid: RepoAudit.model_validate(r["output"])
        for sid, r in values.get("results", {}).items()
        if r["status"] == "accepted" and r["output"] is not None
    }
    return digest_audits(dict(accepted)) if accepted else None


def _not_checked(digest: AuditDigest | None) -> list[tuple[str, NotChecked]]:
    lines = digest.repositories if digest else []
    return [(line.repo, gap) for line in lines for gap in line.stats.not_checked]


def audit_json(
    result: RunResult, digest: AuditDigest | None, states: list[RepoState] | None = None
) -> dict[str, Any]:
    """The ``--json`` document: status, thread id, repositories, ranked findings, and usage.

    Usage is the run's spend (model calls, tokens, cost, as ``orchestra run --json``
    reports it) and what the audit read; each repository has its status (and the reason
    when it was not audited). ``not_checked`` counts the packages the registry and
    vulnerability checks could not run for, with each group's reason. Each finding carries
    its ``rule`` (``secret.aws-access-key``, ``dependency.unpinned``...) and its
    ``evidence``, secrets masked, to triage with.
    """
    findings = digest.findings if digest else []
    stats = [line.stats for line in digest.repositories] if digest else []
    return {
        "status": result.status,
        "thread_id": result.thread_id,
        "reason": result.reason,
        "repositories": [
            {"name": s.name, "root": s.root, "status": s.status}
            | ({"reason": s.reason} if s.reason else {})
            for s in states or []
        ],
        "findings": [
            f.model_dump(
                include={"repo", "kind", "severity", "file", "line", "rule", "message", "evidence"}
            )
            for f in findings
        ],
        "not_checked": not_checked_json(_not_checked(digest)),
        "usage": {
            **(result.values.get("usage") or totals(result.values.get("ledger", {}))),
            "repositories": len(digest.repositories) if digest else 0,
            "files_scanned": sum(s.files_scanned for s in stats),
            "files_skipped": sum(s.files_skipped for s in stats),
            "files_unreadable": sum(len(s.unreadable) for s in stats),
        },
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _counts(digest: AuditDigest) -> str:
    return ", ".join(f"{digest.counts.get(s, 0)} {s}" for s in SEVERITIES)


def markdown(
    result: RunResult, digest: AuditDigest | None, states: list[RepoState], explanation: str = ""
) -> str:
    """The full report as Markdown: summary, every finding ranked, conflicts, repositories."""
    out = [
        "# Audit report",
        "",
        f"Thread `{result.thread_id}` · status **{result.status}** ({result.reason}) · "
        f"{len(states)} repositories",
        "",
    ]
    if digest is None:
        out.append("No repository has been audited yet.")
        return "\n".join(out) + "\n"
    out += ["## Summary", "", digest.summary, ""]
    if explanation:
        out += ["## Explanation", "", explanation, ""]
    out += [f"## Findings ({len(digest.findings)}: {_counts(digest)})", ""]
    out += ["| # | severity | kind | repository | location | finding | evidence |"]
    out += ["|---|---|---|---|---|---|---|"]
    for i, f in enumerate(digest.findings, 1):
        evidence = f"`{_cell(f.evidence)}`" if f.evidence else ""
        out.append(
            f"| {i} | {f.severity} | {f.kind} | {_cell(f.repo)} | {_cell(place(f))} | "
            f"{_cell(f.message)} | {evidence} |"
        )
    if digest.conflicts:
        out += ["", "## Cross-repository conflicts", ""]
        for c in digest.conflicts:
            out.append(f"- **{c.package}** ({c.ecosystem}): {c.explanation}")
    out += ["", "## Repositories", ""]
    out += ["| repository | status | findings | files scanned | skipped | unreadable | tests |"]
    out += ["|---|---|---|---|---|---|---|"]
    lines = {line.repo: line for line in digest.repositories}
    for state in states:
        line = lines.get(state.name)
        if line is None:
            out.append(f"| {_cell(state.name)} | {state.status} | - | - | - | - | - |")
            continue
        s = line.stats
        out.append(
            f"| {_cell(state.name)} | {state.status} | {line.findings} | {s.files_scanned} | "
            f"{s.files_skipped} | {len(s.unreadable)} | {s.test_files} for {s.source_files} |"
        )
    gaps = _not_checked(digest)
    if gaps:
        out += ["", "## Not checked", ""]
        out += [
            f"- {_cell(repo)} ({g.check}, {g.ecosystem}): not checked: {len(g.packages)} "
            f"package(s) ({_cell(g.detail)}): {_cell(', '.join(g.packages))}"
            for repo, g in gaps
        ]
    unreadable = [(line.repo, u) for line in digest.repositories for u in line.stats.unreadable]
    if unreadable:
        out += ["", "## Unreadable files", ""]
        out += [f"- {_cell(repo)}: {_cell(u)}" for repo, u in unreadable]
    return "\n".join(out) + "\n"


def _findings_table(digest: AuditDigest) -> Table:
    table = Table(title=f"findings, ranked ({_counts(digest)})", title_justify="left")
    for column in ("#", "severity", "kind", "repository", "location", "finding"):
        table.add_column(column, overflow="fold")
    for i, f in enumerate(digest.findings[:TERMINAL_ROWS], 1):
        style = _STYLE[f.severity]
        table.add_row(
            str(i),
            f"[{style}]{f.severity}[/]",
            f.kind,
            escape(f.repo),
            escape(place(f)),
            escape(headline(f)),
        )
    return table


def _repositories_table(digest: AuditDigest, states: list[RepoState]) -> Table:
    table = Table(title="repositories", title_justify="left")
    for column in ("repository", "status", "findings", "worst", "files", "skipped", "tests"):
        table.add_column(column, overflow="fold")
    lines = {line.repo: line for line in digest.repositories}
    for state in states:
        line = lines.get(state.name)
        if line is None:
            table.add_row(escape(state.name), f"[red]{state.status}[/]", "-", "-", "-", "-", "-")
            continue
        s = line.stats
        worst = f"[{_STYLE[line.worst]}]{line.worst}[/]" if line.worst else "-"
        skipped = s.files_skipped + s.symlinks_refused + len(s.unreadable)
        table.add_row(
            escape(state.name),
            state.status,
            str(line.findings),
            worst,
            str(s.files_scanned),
            str(skipped),
            f"{s.test_files} for {s.source_files} modules",
        )
    return table


def render(
    result: RunResult,
    digest: AuditDigest | None,
    states: list[RepoState],
    console: Console,
    *,
    explanation: str = "",
    report: Path | None = None,
) -> None:
    """The report on a terminal: summary, ranked findings, conflicts, repositories."""
    if digest is not None:
        console.print(Panel(escape(digest.summary), title="audit", title_align="left"))
        if explanation:
            console.print(Panel(escape(explanation), title="explanation", title_align="left"))
        console.print(_findings_table(digest))
        hidden = len(digest.findings) - TERMINAL_ROWS
        if hidden > 0:
            console.print(f"... and {hidden} more: see --report FILE.md or --json")
        for conflict in digest.conflicts:
            console.print(
                f"[bold]conflict[/] {escape(conflict.package)}: {escape(conflict.explanation)}"
            )
        console.print(_repositories_table(digest, states))
    for repo, gap in _not_checked(digest):
        console.print(
            f"[yellow]not checked ({gap.check}):[/] {escape(repo)}: {len(gap.packages)} "
            f"{gap.ecosystem} package(s) ({escape(gap.detail)})"
        )
    for state in states:
        if state.status not in ("accepted", "auditing", "pending"):
            why = escape(f"{state.status}: {state.reason}")
            console.print(f"[red]not audited:[/] {escape(state.name)} ({why})")
    style = "green" if result.status == "completed" else "yellow"
    console.print(
        f"[bold {style}]{result.status}[/]: {escape(result.reason)} · thread: {result.thread_id}"
    )
    if report is not None:
        console.print(f"report: {escape(str(report))}")
