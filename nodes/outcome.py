"""A run's status and reason: decided here, and only here.

Nodes report facts to the state and never set a run's status themselves: a failure
(``failure``: the first plan was invalid or empty, a human rejected the plan for good, a
fan-out's join policy was not met), budgets spent (``exhausted``), domain caps hit
(``caps``), a stall (``no_progress``), and each subtask's result. The node that ends a run
(the synthesizer, the pipeline's finish, the fan-out's join) takes its status from
``decide``; ``standing`` gives the status of a run that has not ended (``RunResult``).

Each status comes with a machine code (``reason_code``, which code branches on) and a
text for people (``reason``). Precedence, first match wins::

    spent before the synthesis    budget_exhausted / budget_exhausted
    failure (a join's branch out of budget: budget_exhausted)   failed / <failure code>
    exhausted                     budget_exhausted / budget_exhausted
    caps                          cap_reached      / cap_reached
    no_progress                   no_progress      / no_progress
    the synthesis fell back       partial          / synthesis_fallback
    a subtask did not succeed     partial          / subtasks_missing
    nothing planned               completed        / nothing_planned
    otherwise                     completed        / all_accepted
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from typing_extensions import TypedDict

from orchestra.state import (
    FailureCode,
    RunFailure,
    RunReason,
    RunStatus,
    TeamState,
    WorkerResult,
)

StandingStatus = RunStatus | Literal["waiting", "interrupted"]
"""A run's status at any time: its final one, or where it stands before it ends."""

StandingReason = (
    RunReason | Literal["recursion_limit", "waiting_for_human", "error", "unfinished", "unrecorded"]
)
"""``StandingStatus``'s reason as a code (``unrecorded``: ended before codes were kept)."""

JOIN_FAILURES: frozenset[FailureCode] = frozenset({"join_failed", "quorum_not_met"})


class Outcome(TypedDict):
    """A run's final status, its reason code and the reason for people (a state update)."""

    status: RunStatus
    reason_code: RunReason
    reason: str


def failure(code: FailureCode, detail: str | None = None) -> RunFailure:
    """The fact that fails the run, for the node that found it to put in the state."""
    return RunFailure(code=code, detail=detail or code)


def split_results(state: TeamState) -> tuple[list[str], list[WorkerResult]]:
    """Accepted subtask ids, and the results that did not succeed, in plan order."""
    results = state["results"]
    accepted, missing = [], []
    for record in state["plan"]:
        result = results.get(record["id"])
        if result and result["status"] == "accepted":
            accepted.append(record["id"])
        elif result:
            missing.append(result)
    return accepted, missing


def out_of_budget(result: WorkerResult) -> bool:
    """Whether a subtask ended because a budget ran out (its own, or the team's first)."""
    return result["status"] == "exhausted" or result.get("reason_code") == "budget_exhausted"


def decide(state: TeamState, *, spent: str | None = None, fallback: str | None = None) -> Outcome:
    """The run's final status from the facts in ``state``.

    ``spent`` names a budget that ran out before the synthesis could call its model;
    ``fallback`` says why the synthesizer's model gave no readable answer (the answer is
    then the framework's list of the accepted results, not a synthesis).
    """
    _, missing = split_results(state)
    exhausted = list(dict.fromkeys([*state.get("exhausted", []), *([spent] if spent else [])]))
    found = state.get("failure")
    if spent:
        return Outcome(
            status="budget_exhausted", reason_code="budget_exhausted", reason=", ".join(exhausted)
        )
    if found is not None:
        if found["code"] in JOIN_FAILURES and any(map(out_of_budget, missing)):
            # A branch stopped by a budget is not broken: the run says a limit stopped it.
            return Outcome(
                status="budget_exhausted", reason_code="budget_exhausted", reason=found["detail"]
            )
        return Outcome(status="failed", reason_code=found["code"], reason=found["detail"])
    if exhausted:
        return Outcome(
            status="budget_exhausted", reason_code="budget_exhausted", reason=", ".join(exhausted)
        )
    if caps := list(dict.fromkeys(state["caps"])):
        return Outcome(status="cap_reached", reason_code="cap_reached", reason=", ".join(caps))
    if stalled := state.get("no_progress"):
        return Outcome(status="no_progress", reason_code="no_progress", reason=stalled)
    total = len(state["plan"])
    if fallback:
        why = f"fallback synthesis: {fallback}"
        if missing:
            why += f"; {len(missing)} of {total} subtasks did not succeed"
        return Outcome(status="partial", reason_code="synthesis_fallback", reason=why)
    if missing:
        listed = ", ".join(f"{r['subtask_id']} {r['status']}" for r in missing)
        why = f"{len(missing)} of {total} subtasks did not succeed: {listed}"
        return Outcome(status="partial", reason_code="subtasks_missing", reason=why)
    if not total:
        why = "the orchestrator planned no subtasks"
        return Outcome(status="completed", reason_code="nothing_planned", reason=why)
    why = f"all {total} subtasks accepted"
    return Outcome(status="completed", reason_code="all_accepted", reason=why)


def standing(
    values: Mapping[str, Any],
    *,
    finished: bool,
    waiting_kinds: list[str],
    stopped_by: str | None,
    error: str | None,
) -> tuple[StandingStatus, StandingReason, str]:
    """Where a run stands: its final outcome once it ended, else why it has not.

    Args:
        values: the run's state.
        finished: whether the run ended (nothing left to run, a status decided).
        waiting_kinds: what each of its interrupts waits for (empty: none waits).
        stopped_by: ``"recursion_limit"`` when LangGraph's step limit stopped it.
        error: the text of the error that stopped the invocation, if one did.
    """
    if stopped_by:
        return "cap_reached", "recursion_limit", f"{stopped_by}: {error}"
    if finished:
        code = cast(RunReason | None, values.get("reason_code"))
        return (
            cast(RunStatus, values["status"]),
            code or "unrecorded",
            str(values.get("reason", "")),
        )
    if waiting_kinds:
        return "waiting", "waiting_for_human", f"waiting for a human: {', '.join(waiting_kinds)}"
    if error:
        return "interrupted", "error", error
    return "interrupted", "unfinished", "the run has not finished"
