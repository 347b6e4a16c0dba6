"""A specialist that is a whole team: the child graph runs as a subgraph of this node.

The child is compiled without a checkpointer, so LangGraph gives it the parent's under
this task's namespace: the child's own steps are checkpointed, streamed and traced
through the nesting, and a parent resumed after a crash or an interrupt resumes the
child where it stopped instead of starting it over. The child's answer becomes this
specialist's typed output; its model calls count towards the parent's.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.runtime import Runtime

from nodes.runnable import Node
from state import (
    LedgerEntry,
    SpecialistOutput,
    TeamContext,
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


def _result(payload: WorkerInput, name: str, final: dict[str, Any]) -> dict[str, Any]:
    record = payload["subtask"]
    accepted = [
        r["summary"] for r in final.get("results", {}).values() if r["status"] == "accepted"
    ]
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
    if final.get("status") in ("completed", "partial", "cap_reached") and final.get("answer"):
        output = SpecialistOutput(summary=final["answer"], key_points=accepted)
        result["output"] = output.model_dump(mode="json")
        result["summary"] = output.summary
    else:
        result["reason"] = f"team {name} ended {final.get('status', 'unfinished')}: " + str(
            final.get("reason", "")
        )
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
    return {
        "results": {record["id"]: result},
        "model_calls": final.get("model_calls", 0),
        "ledger": {record["id"]: entry},
    }


def make_subteam(
    name: str, child: Runnable[Any, dict[str, Any]], spec: TeamSpec
) -> Node[WorkerInput, dict[str, Any]]:
    """The node of specialist ``name``, run by the compiled ``child`` team."""
    limits: RunnableConfig = {
        "recursion_limit": spec.limits.recursion_limit,
        "max_concurrency": spec.limits.max_concurrency,
        # The child's runs are its own team's, not the parent specialist's.
        "metadata": {
            "orchestra_team": spec.name,
            "orchestra_pattern": spec.pattern,
            "parent_specialist": name,
        },
    }

    def run(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        final = child.invoke({"task": child_task(payload)}, limits, context=runtime.context)
        return _result(payload, name, final)

    async def arun(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        final = await child.ainvoke({"task": child_task(payload)}, limits, context=runtime.context)
        return _result(payload, name, final)

    return Node(name, run, arun)
