"""A team's code planner: the plan made by a function, with no model call.

For mechanical splits ("one subtask per repository") a model's plan costs a call whose
reply grows with the work (600 repositories' subtasks exceed a 16k-token output limit)
and can drift from the list it was given. ``orchestrator.planner`` names a function
instead: it receives the task (and the run's deps, through a ``RunData[...]`` parameter,
as checks do) and returns a ``Plan`` or a list of subtasks. What it returns passes the
plan seam (``orchestra.nodes.plan_seam``) like a model's plan, so its problems are the
same plan-check problems, noted on the run.

The planner is asked each round. Subtasks already planned (same specialist and
instruction) are left out before the check, so a planner that returns the whole list
every time sees it run ``max_workers_per_round`` at a time, the rest in later rounds;
when nothing new is left, planning ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from orchestra.nodes.plan_seam import PlanReview, normalized, review_plan
from orchestra.nodes.resolve import Planner
from orchestra.nodes.run_data import injected, run_context
from orchestra.state import Plan, Subtask, SubtaskRecord, TeamContext, TeamSpec, TeamState

__all__ = ["code_plan", "plan_of"]


def plan_of(made: object) -> Plan:
    """A planner's return value as a ``Plan``: a ``Plan``, its data, or a list of subtasks.

    Raises:
        TypeError: the value is none of those.
        ValueError: a subtask or the plan does not validate.
    """
    if isinstance(made, Plan):
        return Plan.model_validate(made.model_dump())
    if isinstance(made, dict):
        return Plan.model_validate(made)
    if isinstance(made, list | tuple):
        subtasks = [
            s if isinstance(s, Subtask) else Subtask.model_validate(_with_deps(s)) for s in made
        ]
        kind = "one subtask" if len(subtasks) == 1 else f"{len(subtasks)} subtasks"
        return Plan(rationale=f"The team's code planner split the task: {kind}.", subtasks=subtasks)
    raise TypeError(f"a planner returns a Plan or a list of subtasks, not {type(made).__name__}")


def _with_deps(item: object) -> object:
    # depends_on is required of a model (its schema says so); a planner may leave it out.
    return {"depends_on": [], **item} if isinstance(item, dict) else item


def _unplanned(plan: Plan, earlier: Iterable[SubtaskRecord]) -> tuple[Plan, int]:
    """``plan`` without the subtasks an earlier round already planned, and how many went."""
    seen = {(r["specialist"], normalized(r["instruction"])) for r in earlier}
    fresh = [s for s in plan.subtasks if (s.specialist, normalized(s.instruction)) not in seen]
    return plan.model_copy(update={"subtasks": fresh}), len(plan.subtasks) - len(fresh)


def code_plan(
    planner: Planner, state: TeamState, team: TeamSpec, context: TeamContext
) -> tuple[PlanReview, str | None]:
    """The reviewed plan ``planner`` makes for this round, and the note of what it left out."""
    round_no = state.get("round", 0) + 1
    plan: Plan | None = None
    error: Any = None
    try:
        made = planner(state["task"], **injected(planner, run_context(context)))
        plan = plan_of(made)
    except (TypeError, ValueError, ValidationError) as exc:
        error = f"the code planner failed: {type(exc).__name__}: {exc}"
    note = None
    if plan is not None and round_no > 1:
        plan, skipped = _unplanned(plan, state["plan"])
        if skipped:
            note = f"round {round_no}: code planner: {skipped} subtask(s) already planned"
    review = review_plan(
        plan,
        error,
        team=team,
        earlier=state["plan"],
        results=state["results"],
        round_no=round_no,
    )
    if plan is not None and review.rationale is None:
        review.rationale = plan.rationale
    if review.checked.capped:
        # Not lost: the planner is asked again next round and these are still new then.
        checked, cap = review.checked, team.limits.max_workers_per_round
        held = len(plan.subtasks) - review.repeats - len(checked.subtasks) if plan else 0
        checked.capped = False
        checked.notes = [n for n in checked.notes if not n.startswith("max_workers_per_round")]
        checked.notes.append(
            f"max_workers_per_round ({cap}) reached: about {held} subtask(s) wait for later rounds"
        )
    return review, note
