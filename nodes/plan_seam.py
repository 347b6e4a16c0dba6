"""The seam before dispatch: is this plan fit to run?

Structural problems come from ``check_plan``; on top, a subtask that repeats one already
answered (same specialist, same instruction up to case, spacing and punctuation) is
refused — loop detection without asking a model. The problems go back to the
orchestrator as feedback for a corrected plan, up to ``max_plan_revisions``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orchestra.nodes.plan_sanitize import CheckedPlan, check_plan
from orchestra.state import (
    TERMINAL,
    Plan,
    Subtask,
    SubtaskRecord,
    TeamSpec,
    WorkerResult,
    status_of,
)


def normalized(instruction: str) -> str:
    """An instruction's identity for loop detection."""
    return " ".join(re.sub(r"[^\w\s]", " ", instruction.lower()).split())


@dataclass
class PlanReview:
    """A reviewed plan: what may run, and what was wrong with what was proposed."""

    checked: CheckedPlan
    problems: list[str] = field(default_factory=list)
    """Everything wrong, refusals included: the orchestrator's feedback."""
    refusals: list[str] = field(default_factory=list)
    """The subtasks refused as repeats of answered ones (kept in the run's notes)."""
    repeats: int = 0
    rationale: str | None = None
    """The plan's rationale; ``None`` when there was no valid plan."""


def review_plan(
    plan: Plan | None,
    error: object,
    *,
    team: TeamSpec,
    earlier: list[SubtaskRecord],
    results: dict[str, WorkerResult],
    round_no: int,
    max_subtasks: int | None = None,
) -> PlanReview:
    """Check ``plan`` (or report why there is none) against the team and earlier work.

    ``max_subtasks`` caps the round below the team's ``max_workers_per_round`` (a model's
    plan page: ``orchestra.nodes.plan_pages``).
    """
    if plan is None:
        return PlanReview(CheckedPlan(), [f"the reply was not a valid plan: {error}"])
    if round_no == 1 and not plan.subtasks:
        return PlanReview(
            CheckedPlan(),
            ["the first plan has no subtasks: plan the work"],
            rationale=plan.rationale,
        )
    answered = {
        (r["specialist"], normalized(r["instruction"])): r["id"]
        for r in earlier
        if status_of(results, r["id"]) in TERMINAL
    }
    fresh: list[Subtask] = []
    refusals: list[str] = []
    for sub in plan.subtasks:
        seen = answered.get((sub.specialist, normalized(sub.instruction)))
        if seen is None:
            fresh.append(sub)
        else:
            status = results[seen]["status"]
            refusals.append(
                f"refused {sub.id or '?'}: {sub.specialist} already answered this instruction "
                f"as {seen} ({status}); use that result or ask something new"
            )
    checked = check_plan(
        fresh,
        specialists=team.specialist_names,
        existing=[r["id"] for r in earlier],
        round_no=round_no,
        max_subtasks=max_subtasks or team.limits.max_workers_per_round,
    )
    return PlanReview(
        checked, [*refusals, *checked.to_fix], refusals, repeats=len(plan.subtasks) - len(fresh)
    )


def made_progress(
    plan: list[SubtaskRecord], results: dict[str, WorkerResult], round_no: int
) -> bool:
    """Whether round ``round_no`` produced an accepted result unlike any earlier one."""
    accepted = [r for r in plan if status_of(results, r["id"]) == "accepted"]
    earlier = {results[r["id"]]["summary"] for r in accepted if r["round"] < round_no}
    return any(
        results[r["id"]]["summary"] not in earlier for r in accepted if r["round"] == round_no
    )
