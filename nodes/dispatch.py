"""Dispatch: one ``Send`` per ready subtask, carrying only what that subtask needs.

A subtask is ready when every dependency is accepted; all ready subtasks go out in the
same super-step (so independent ones run in parallel) and dependents follow in later
waves. A subtask whose dependency ended without success is skipped, with the reason.
When nothing is left to run, the orchestrator reviews the results. A pool too small for
every ready worker and its steps gets them in several waves (``orchestra.nodes.pool_room``).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from orchestra.nodes.charges import team_chain
from orchestra.nodes.events import emit
from orchestra.nodes.pool_room import pool_size, wave_room
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.nodes.usage import carve, team_exhausted
from orchestra.state import (
    TERMINAL,
    DependencyResult,
    SubtaskReason,
    SubtaskRecord,
    TeamContext,
    TeamState,
    WorkerInput,
    WorkerResult,
    status_of,
)
from orchestra.state.events import EventKind


def skipped(record: SubtaskRecord, reason: str, code: SubtaskReason) -> WorkerResult:
    """The result of a subtask that will not run, with why (as text and as a code)."""
    return WorkerResult(
        subtask_id=record["id"],
        specialist=record["specialist"],
        status="skipped",
        revision=0,
        output=None,
        summary="",
        steps=0,
        tool_calls=[],
        reason=reason,
        reason_code=code,
    )


def _settle_skips(
    plan: list[SubtaskRecord], results: dict[str, WorkerResult]
) -> dict[str, WorkerResult]:
    """Skip, transitively, every unstarted subtask behind a dependency that did not succeed."""
    held_back: dict[str, WorkerResult] = {}
    changed = True
    while changed:
        changed = False
        for record in plan:
            if record["id"] in results or record["id"] in held_back:
                continue
            for dep in record["depends_on"]:
                outcome = held_back.get(dep) or results.get(dep)
                if outcome and outcome["status"] in TERMINAL and outcome["status"] != "accepted":
                    why = f"dependency {dep} {outcome['status']}"
                    held_back[record["id"]] = skipped(record, why, "dependency_failed")
                    changed = True
                    break
    return held_back


def payload_for(
    record: SubtaskRecord, results: dict[str, WorkerResult], revision: int, feedback: str | None
) -> WorkerInput:
    """A subtask's payload: itself and the outputs of only the subtasks it depends on."""
    deps = {
        dep: DependencyResult(
            specialist=results[dep]["specialist"],
            summary=results[dep]["summary"],
            output=results[dep]["output"] or {},
        )
        for dep in record["depends_on"]
    }
    payload = WorkerInput(subtask=record, dependencies=deps, revision=revision)
    if feedback:
        payload["feedback"] = feedback
    return payload


def ready_sends(plan: list[SubtaskRecord], results: dict[str, WorkerResult]) -> list[Send]:
    """The ``Send``s for every subtask that can run now (fresh or sent back for revision)."""
    sends = []
    for record in plan:
        current = results.get(record["id"])
        if current is None:
            if all(status_of(results, d) == "accepted" for d in record["depends_on"]):
                sends.append(Send(record["specialist"], payload_for(record, results, 0, None)))
        elif current["status"] == "revise":
            payload = payload_for(record, results, current["revision"] + 1, current.get("feedback"))
            sends.append(Send(record["specialist"], payload))
    return sends


def make_dispatch(
    team: ResolvedTeam, *, settled: str = "orchestrator"
) -> Node[TeamState, Command[Any]]:
    """The dispatch node: routes to specialists, ``synthesizer``, or ``settled``.

    ``settled`` is where the run goes once every subtask has ended: the orchestrator's
    review in orchestrator-workers, a pattern's join elsewhere.
    """
    limits = team.spec.limits

    def route(state: TeamState, runtime: Runtime[TeamContext], *, sync: bool) -> Command[Any]:
        plan = state["plan"]
        held_back = _settle_skips(plan, state["results"])
        results = {**state["results"], **held_back}
        sends = ready_sends(plan, results)
        update: dict[str, Any] = {"results": held_back} if held_back else {}
        pool = pool_size(sync=sync)
        if len(sends) > (room := wave_room(len(sends), limits.max_concurrency, pool)):
            sends = sends[:room]
            note = f"max_concurrency {pool} is too small for every ready worker and its steps"
            if not any(n.startswith(note) for n in state.get("notes", [])):
                update["notes"] = [
                    f"{note}: they run {room} at a time (compile_team's default is "
                    f"{limits.task_pool})"
                ]
        spent = team_exhausted(state, team.spec)
        # A worker's calls keep one of max_model_calls for the synthesis: so must dispatch.
        if sends and (spent or state["model_calls"] + 1 >= limits.max_model_calls):
            why = f"budget_exhausted: {spent}" if spent else "max_model_calls reached"
            code: SubtaskReason = "budget_exhausted" if spent else "max_model_calls"
            held = {
                r["id"]: skipped(r, f"{why} before it could run", code)
                for r in plan
                if status_of(results, r["id"]) not in TERMINAL
            }
            update = {"results": {**held_back, **held}, "notes": [f"{why}: {sorted(held)} not run"]}
            update |= {"exhausted": [spent]} if spent else {"caps": ["max_model_calls"]}
            return Command(update=update, goto="synthesizer")
        chain = team_chain(state, team.spec)
        for send in sends:
            own = team.specialists[send.arg["subtask"]["specialist"]].spec.budget
            send.arg["envelope"] = carve(state, team.spec, own, len(sends)) | {"chain": chain}
        if sends:
            for send in sends:
                kind: EventKind = "worker_retried" if send.arg["revision"] else "worker_started"
                emit(
                    runtime,
                    team.spec.name,
                    kind,
                    subtask_id=send.arg["subtask"]["id"],
                    specialist=send.node,
                    revision=send.arg["revision"],
                )
            return Command(update=update, goto=sends)
        waiting = [r["id"] for r in plan if status_of(results, r["id"]) not in TERMINAL]
        if waiting:
            # Unreachable with a checked plan; kept so a bad state ends instead of looping.
            stuck = {
                r["id"]: skipped(r, "could not be scheduled", "unschedulable")
                for r in plan
                if r["id"] in waiting
            }
            update["results"] = {**held_back, **stuck}
        return Command(update=update, goto=settled)

    def dispatch(state: TeamState, runtime: Runtime[TeamContext]) -> Command[Any]:
        return route(state, runtime, sync=True)

    async def adispatch(state: TeamState, runtime: Runtime[TeamContext]) -> Command[Any]:
        return route(state, runtime, sync=False)

    return Node("dispatch", dispatch, adispatch)
