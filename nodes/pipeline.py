"""Nodes of the sequential pipeline: the fixed plan, stages, per-stage validators, finish.

Stage ``k`` gets the task as its instruction and the typed outputs of stages ``< k`` as its
inputs. Its validator sends it back with feedback (up to ``max_revisions``), passes the
work on to the next stage, or, when the stage ended without success, stops the pipeline:
later stages are skipped with the reason. Once the team's budget is spent, no stage starts.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from orchestra.nodes.charges import team_chain
from orchestra.nodes.dispatch import payload_for, skipped
from orchestra.nodes.events import emit
from orchestra.nodes.outcome import decide, split_results
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.nodes.usage import carve, team_exhausted
from orchestra.nodes.validator import check_context, judge, verdict_update
from orchestra.state import (
    SubtaskReason,
    SubtaskRecord,
    TeamContext,
    TeamState,
    WorkerInput,
    WorkerResult,
    totals,
)
from orchestra.state.events import EventKind


def stage_names(team: ResolvedTeam) -> tuple[str, ...]:
    """The pipeline's stages in running order."""
    return tuple(team.spec.pipeline.stages) or team.spec.specialist_names


def make_pipeline_plan(team: ResolvedTeam) -> Node[TeamState, dict[str, Any]]:
    """The fixed plan: one subtask per stage, each depending on every earlier stage."""
    stages = stage_names(team)

    def plan(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        records = [
            SubtaskRecord(
                id=name,
                specialist=name,
                instruction=state["task"],
                depends_on=list(stages[:k]),
                round=1,
            )
            for k, name in enumerate(stages)
        ]
        return {
            "plan": records,
            "round": 1,
            "rationale": f"pipeline: {' -> '.join(stages)}",
            "started_at": state.get("started_at", time.time()),
        }

    return Node("pipeline", plan)


def _stage_input(state: TeamState, name: str, team: ResolvedTeam) -> WorkerInput:
    record = next(r for r in state["plan"] if r["id"] == name)
    current = state["results"].get(name)
    if current is not None and current["status"] == "revise":
        payload = payload_for(
            record, state["results"], current["revision"] + 1, current.get("feedback")
        )
    else:
        payload = payload_for(record, state["results"], 0, None)
    envelope = carve(state, team.spec, team.specialists[name].spec.budget, 1)
    chain = team_chain(state, team.spec)
    payload["envelope"] = envelope | {"chain": chain}
    return payload


def make_stage(
    name: str, worker: Node[WorkerInput, dict[str, Any]], team: ResolvedTeam
) -> Node[TeamState, dict[str, Any]]:
    """A pipeline stage: the specialist's node, fed from state instead of a ``Send``."""

    def run(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return worker(started(state, runtime), runtime)

    async def arun(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return await worker.acall(started(state, runtime), runtime)

    def started(state: TeamState, runtime: Runtime[TeamContext]) -> WorkerInput:
        payload = _stage_input(state, name, team)
        kind: EventKind = "worker_retried" if payload["revision"] else "worker_started"
        emit(
            runtime,
            team.spec.name,
            kind,
            subtask_id=name,
            specialist=name,
            revision=payload["revision"],
        )
        return payload

    return Node(name, run, arun)


def _skipped_after(
    state: TeamState,
    stage: str,
    stages: tuple[str, ...],
    reason: str | None = None,
    code: SubtaskReason = "stage_ended",
) -> dict[str, WorkerResult]:
    later = set(stages[stages.index(stage) + 1 :])
    return {
        r["id"]: skipped(r, reason or f"stage {stage} did not succeed", code)
        for r in state["plan"]
        if r["id"] in later
    }


def make_stage_validator(team: ResolvedTeam, stage: str, end: str) -> Node[TeamState, Command[Any]]:
    """Judge one stage's result: back to the stage, on to the next, or to ``end``."""
    stages = stage_names(team)
    following = stages[stages.index(stage) + 1] if stage != stages[-1] else end

    def validate(state: TeamState, runtime: Runtime[TeamContext]) -> Command[Any]:
        ended = state["results"][stage]
        if ended["status"] != "submitted":
            # Out of budget or failed for good: final as in orchestrator-workers (an
            # exhausted stage's partial output is kept, not judged into "accepted").
            why = f"stage {stage} {ended['status']}"
            return Command(update={"results": _skipped_after(state, stage, stages, why)}, goto=end)
        result, verdict = judge(ended, team, check_context(state, runtime, stage))
        update = verdict_update([(result, verdict)])
        goes_on = result["status"] == "revise" or (
            result["status"] == "accepted" and following != end
        )
        if goes_on and (spent := team_exhausted(state, team.spec)):
            # Like dispatch: no stage starts once the team's budget is spent.
            why = f"budget_exhausted: {spent} before it could run"
            held = _skipped_after(state, stage, stages, why, "budget_exhausted")
            if result["status"] == "revise":
                record = next(r for r in state["plan"] if r["id"] == stage)
                held[stage] = skipped(record, why, "budget_exhausted")
            update["results"] |= held
            update |= {"exhausted": [spent], "notes": [f"{why}: {sorted(held)} not run"]}
            return Command(update=update, goto=end)
        if result["status"] == "revise":
            return Command(update=update, goto=stage)
        if result["status"] == "accepted":
            return Command(update=update, goto=following)
        update["results"] |= _skipped_after(state, stage, stages)
        return Command(update=update, goto=end)

    return Node(f"validate_{stage}", validate)


def make_finish(team: ResolvedTeam) -> Node[TeamState, dict[str, Any]]:
    """End without a model call: the answer is the last accepted result of the plan."""

    def finish(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        accepted, missing = split_results(state)
        results = state["results"]
        answer = results[accepted[-1]]["summary"] if accepted else "No stage succeeded."
        if missing:
            gaps = "; ".join(
                f"{r['subtask_id']} {r['status']}: {r.get('reason', '')}" for r in missing
            )
            answer += f"\n\nNot completed: {gaps}"
        decided = decide(state)
        emit(
            runtime,
            team.spec.name,
            "synthesis",
            status=decided["status"],
            reason=decided["reason"],
        )
        return {
            **decided,
            "answer": answer,
            "citations": accepted[-1:],
            "usage": totals(state.get("ledger", {})),
        }

    return Node("finish", finish)
