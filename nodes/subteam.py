"""A specialist that is a whole team: the child graph runs as a subgraph of this node.

The child is compiled without a checkpointer, so LangGraph gives it the parent's under
this task's namespace: the child's own steps are checkpointed, streamed and traced
through the nesting, and a parent resumed after a crash or an interrupt resumes the
child where it stopped instead of starting it over. The child's answer becomes this
specialist's typed output; its model calls count towards the parent's. The child runs
within the envelope dispatch carved for this specialist: when that runs out, the child
ends ``budget_exhausted`` and its partial answer is this subtask's ``exhausted`` result.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.runtime import Runtime

from orchestra.nodes.charges import child_account
from orchestra.nodes.runnable import Node
from orchestra.state import (
    LedgerEntry,
    SpecialistOutput,
    TeamContext,
    TeamInput,
    TeamSpec,
    WorkerInput,
    WorkerResult,
)


def child_task(payload: WorkerInput) -> str:
    """The child team's task: the instruction plus what the subtask depends on."""
    parts = [payload["subtask"]["instruction"]]
    for dep_id, dep in payload["dependencies"].items():
        parts.append(f"Input from {dep_id} ({dep['specialist']}): {dep['summary']}")
    if feedback := payload.get("feedback"):
        parts.append(f"A previous attempt was rejected: {feedback}")
    return "\n".join(parts)


def child_input(payload: WorkerInput) -> TeamInput:
    """The child run's input: its task, and the envelope the parent carved for it.

    The envelope names the child run's own account and carries the parent's chain, so
    every call in the child reserves from the child's account and each ancestor's.
    """
    start = TeamInput(task=child_task(payload))
    if "envelope" in payload:
        start["envelope"] = payload["envelope"] | {"account": child_account(payload)}
    return start


def _output(final: dict[str, Any], *, partial: bool) -> SpecialistOutput | None:
    """The child's answer as a typed output; with ``partial``, its partial results too."""
    if not final.get("answer"):
        return None
    points = []
    for r in final.get("results", {}).values():
        if r["status"] == "accepted":
            points.append(r["summary"])
        elif partial and r["status"] == "exhausted" and r["summary"]:
            points.append(f"(partial) {r['summary']}")
    return SpecialistOutput(summary=final["answer"], key_points=points)


def _result(payload: WorkerInput, name: str, final: dict[str, Any]) -> dict[str, Any]:
    record, status = payload["subtask"], final.get("status", "unfinished")
    result = WorkerResult(
        subtask_id=record["id"],
        specialist=name,
        status="submitted",
        revision=payload["revision"],
        output=None,
        summary="",
        steps=final.get("model_calls", 0),
        tool_calls=[],
    )
    update: dict[str, Any] = {"model_calls": final.get("model_calls", 0)}
    output = _output(final, partial=status == "budget_exhausted")
    if status == "budget_exhausted":
        # Out of its budget (its own, or its share of ours): its partial answer, kept.
        why = str(final.get("reason", ""))
        result |= {
            "status": "exhausted",
            "reason": f"budget_exhausted: {why}",
            "reason_code": "budget_exhausted",
        }
        update["exhausted"] = [f"{name} {why}"]
    elif status not in ("completed", "partial", "cap_reached") or output is None:
        result["reason"] = f"team {name} ended {status}: {final.get('reason', '')}"
        result["reason_code"] = "team_ended"
        output = None
    if output is not None:
        result["output"] = output.model_dump(mode="json")
        result["summary"] = output.summary
    spent = final.get("usage") or {}
    entry = LedgerEntry(
        role="specialist",
        specialist=name,
        subtask_id=record["id"],
        model_calls=spent.get("model_calls", 0),
        input_tokens=spent.get("input_tokens", 0),
        output_tokens=spent.get("output_tokens", 0),
        cost_usd=spent.get("cost_usd", 0.0),
        latency_s=spent.get("latency_s", 0.0),
        attempts=1,
        revisions=payload["revision"],
        status=result["status"],
    )
    return update | {"results": {record["id"]: result}, "ledger": {record["id"]: entry}}


def make_subteam(
    name: str, child: Runnable[Any, dict[str, Any]], spec: TeamSpec
) -> Node[WorkerInput, dict[str, Any]]:
    """The node of specialist ``name``, run by the compiled ``child`` team."""
    limits: RunnableConfig = {
        "recursion_limit": spec.limits.recursion_limit,
        "max_concurrency": spec.limits.task_pool,
        # The child's runs are its own team's, not the parent specialist's.
        "metadata": {
            "orchestra_team": spec.name,
            "orchestra_pattern": spec.pattern,
            "parent_specialist": name,
        },
    }

    def run(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        final = child.invoke(child_input(payload), limits, context=runtime.context)
        return _result(payload, name, final)

    async def arun(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        final = await child.ainvoke(child_input(payload), limits, context=runtime.context)
        return _result(payload, name, final)

    return Node(name, run, arun)
