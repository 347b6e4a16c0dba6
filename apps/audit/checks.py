"""The validator's check on an auditor's result: every finding points at something real.

A finding (or dependency record) naming a file that does not exist in the repository, a
path outside it, or a line beyond the file's end is rejected with feedback naming each
one; so is a root that is not one of the audit's repositories (the scope comes with the
run, see ``orchestra_audit.scope``). A model that invents a location is sent back; the
deterministic analysers never are.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from orchestra import RunContext, RunData, StopSignal
from orchestra_audit.files import Confined, line_count
from orchestra_audit.findings import RepoAudit
from orchestra_audit.scope import AuditScope

_LISTED = 10

_OUTSIDE_A_RUN: RunContext[AuditScope | None] = RunContext(None, stop=StopSignal())
"""What the check sees when called directly (a unit test, a user's script): no scope."""


def _scope_problem(root: Path, scope: AuditScope | None) -> str | None:
    if scope is not None and str(root) not in scope.roots:
        return f"root {str(root)!r} is not one of the repositories of this audit"
    return None


def _location_problem(repo: Confined, file: str, line: int, lines: dict[Path, int]) -> str | None:
    if not file:
        return f"line {line} given without a file" if line else None
    try:
        real = repo.resolve(file)
    except PermissionError:
        return f"{file} (outside the repository)"
    if not real.is_file():
        return f"{file} (no such file)"
    if line:
        if real not in lines:
            lines[real] = line_count(real)
        if line > lines[real]:
            return f"{file}:{line} (the file has {lines[real]} lines)"
    return None


def findings_exist(
    output: BaseModel, run: RunData[AuditScope | None] = _OUTSIDE_A_RUN
) -> str | None:
    """Feedback when a ``RepoAudit`` points at files or lines that do not exist, else None.

    ``run`` is injected by orchestra; its deps are the audit's scope (``None`` in a run
    without one, where only the locations are checked).
    """
    if not isinstance(output, RepoAudit):
        return f"expected a RepoAudit, got a {type(output).__name__}"
    try:
        repo = Confined(output.root)
    except OSError:
        return f"root {output.root!r} is not a directory"
    if problem := _scope_problem(repo.root, run.deps):
        return problem
    lines: dict[Path, int] = {}
    problems = [
        f"a finding names repository {f.repo!r}, not {output.repo!r}"
        for f in output.findings
        if f.repo != output.repo
    ]
    places = [(f.file, f.line) for f in output.findings]
    places += [(d.file, d.line) for d in output.dependencies]
    for file, line in dict.fromkeys(places):
        if problem := _location_problem(repo, file, line, lines):
            problems.append(problem)
    if not problems:
        return None
    more = len(problems) - _LISTED
    listed = "; ".join(problems[:_LISTED]) + (f"; and {more} more" if more > 0 else "")
    return (
        f"findings point at files or lines that do not exist: {listed}. "
        "Report only what audit_repository found or what you read with browse_repository."
    )
