"""The validator: judges every submitted result and records a verdict for each.

A result passes when it parses as the specialist's output type and every declared check
(the specialist's own, then the team's) returns no feedback. A rejected result goes back
to the same specialist with the feedback until ``max_revisions``; after that it stays
``rejected`` (or ``failed`` when there never was an output) and the cap is recorded.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from orchestra.nodes.events import emit
from orchestra.nodes.resolve import Check, ResolvedTeam
from orchestra.nodes.run_data import call_check, of_runtime, run_context
from orchestra.nodes.runnable import Node
from orchestra.state import (
    DependencyResult,
    RunContext,
    TeamContext,
    TeamState,
    Verdict,
    WorkerResult,
    status_entry,
)


def _check_name(check: Check) -> str:
    return getattr(check, "__name__", type(check).__name__)


def check_context(
    state: TeamState, runtime: Runtime[TeamContext] | None, subtask_id: str
) -> RunContext[Any]:
    """The run context a check of ``subtask_id`` gets.

    It holds the run's deps, and the subtask's instruction and inputs (the outputs of the
    subtasks it depends on) when the subtask was planned.
    """
    record = next((r for r in state.get("plan", []) if r["id"] == subtask_id), None)
    results = state.get("results", {})
    inputs = {
        dep: DependencyResult(
            specialist=results[dep]["specialist"],
            summary=results[dep]["summary"],
            output=results[dep]["output"] or {},
        )
        for dep in (record["depends_on"] if record else [])
        if dep in results
    }
    return run_context(of_runtime(runtime), record, inputs)


def problems_of(
    result: WorkerResult, team: ResolvedTeam, run: RunContext[Any] | None = None
) -> list[str]:
    """Why ``result`` falls short (empty when it is acceptable).

    A check declaring a ``RunData`` parameter is handed ``run`` there.
    """
    worker = team.specialists[result["specialist"]]
    if result["output"] is None:
        return [result.get("reason") or "no output"]
    try:
        output = worker.output.model_validate(result["output"])
    except ValidationError as exc:
        return [f"output does not match {worker.output.__name__}: {exc}"]
    found = []
    for check in (*worker.checks, *team.checks):
        try:
            feedback = call_check(check, output, run)
        except Exception as exc:
            feedback = f"check {_check_name(check)} raised {type(exc).__name__}: {exc}"
        if feedback:
            found.append(str(feedback))
    return found


def judge(
    result: WorkerResult, team: ResolvedTeam, run: RunContext[Any] | None = None
) -> tuple[WorkerResult, Verdict]:
    """The verdict on one submitted result, and the result's new status.

    Accepted; ``revise`` with feedback while revisions remain; else ``rejected`` (or
    ``failed`` when there never was an output) with the cap named in the reason.
    """
    cap = team.spec.limits.max_revisions
    found = problems_of(result, team, run)
    feedback = "; ".join(found)
    updated = WorkerResult(**result)
    if not found:
        updated["status"] = "accepted"
    elif result["revision"] < cap:
        updated |= {"status": "revise", "feedback": feedback}
    else:
        updated |= {
            "status": "rejected" if result["output"] is not None else "failed",
            "feedback": feedback,
            "reason": f"max_revisions ({cap}) reached: {feedback}",
            "reason_code": "max_revisions",
        }
    verdict = Verdict(
        subtask_id=result["subtask_id"],
        revision=result["revision"],
        accepted=not found,
        feedback=feedback,
    )
    return updated, verdict


def verdict_update(judged: list[tuple[WorkerResult, Verdict]]) -> dict[str, Any]:
    """The state update recording ``judged`` results, naming the revision cap if it was hit."""
    update: dict[str, Any] = {
        "results": {r["subtask_id"]: r for r, _ in judged},
        "verdicts": [v for _, v in judged],
        "ledger": {
            r["subtask_id"]: status_entry(
                r["subtask_id"], r["specialist"], r["status"], r["revision"]
            )
            for r, _ in judged
        },
    }
    if any(r["status"] in ("rejected", "failed") for r, _ in judged):
        update["caps"] = ["max_revisions"]
    return update


def make_validator(team: ResolvedTeam) -> Node[TeamState, dict[str, Any]]:
    """The validator node for ``team``: judges every result waiting for it."""

    def validate(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        waiting = [r for r in state["results"].values() if r["status"] == "submitted"]
        judged = [judge(r, team, check_context(state, runtime, r["subtask_id"])) for r in waiting]
        for result, verdict in judged:
            emit(
                runtime,
                team.spec.name,
                "verdict",
                subtask_id=verdict["subtask_id"],
                specialist=result["specialist"],
                accepted=verdict["accepted"],
                feedback=verdict["feedback"],
                status=result["status"],
            )
        return verdict_update(judged)

    return Node("validator", validate)
