"""The audit's code planner: one subtask per repository, with no model call.

The task names one repository per line (``audit_task``); the plan gives each line to
the ``auditor``, in the task's order, with the ids and instructions the offline model
would give (``s1``, ``s2``, ...), so a run planned either way audits alike. Listing 600
repositories this way costs nothing, where a model's plan would exceed its output limit.
"""

from __future__ import annotations

from orchestra import Plan, Subtask

AUDITOR = "auditor"


def plan_audit(task: str) -> Plan:
    """One ``auditor`` subtask per repository line of ``task``."""
    lines = [line.strip() for line in task.splitlines() if line.strip()]
    subtasks = [
        Subtask(id=f"s{n}", specialist=AUDITOR, instruction=line, depends_on=[])
        for n, line in enumerate(lines, start=1)
    ]
    kind = "one repository" if len(subtasks) == 1 else f"{len(subtasks)} repositories"
    return Plan(rationale=f"One audit per repository: {kind}.", subtasks=subtasks)
