"""Per-worker failure: a worker that fails for good fails its subtask, not the super-step.

LangGraph fails a whole super-step when one task raises. For a worker, that is right
only for transient errors — its model step retried them already (no node retries), and
if they outlasted that the run stops with its state kept, and a resume retries only
that worker's unfinished step. A
permanent error (a bug in a tool's caller, a provider's 4xx) is recorded as the
subtask's failure with the reason, and the siblings' results stand.
"""

from __future__ import annotations

from typing import Any

from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime

from orchestra.nodes.events import emit_result
from orchestra.nodes.retry import is_transient
from orchestra.nodes.runnable import Node
from orchestra.state import RunStopped, TeamContext, WorkerInput, WorkerResult


def _failed(payload: WorkerInput, exc: Exception) -> dict[str, Any]:
    record = payload["subtask"]
    failed = WorkerResult(
        subtask_id=record["id"],
        specialist=record["specialist"],
        status="failed",
        revision=payload["revision"],
        output=None,
        summary="",
        steps=0,
        tool_calls=[],
        reason=f"{type(exc).__name__}: {exc}",
        reason_code="error",
    )
    return {"results": {record["id"]: failed}}


def guard_branch(
    worker: Node[WorkerInput, dict[str, Any]], name: str
) -> Node[WorkerInput, dict[str, Any]]:
    """``worker`` with its permanent errors recorded as its subtask's failure.

    (LangGraph's node ``error_handler`` would do this too, but its generated node is
    drawn disconnected in Studio.)
    """

    def recorded(
        payload: WorkerInput, runtime: Runtime[TeamContext], exc: Exception
    ) -> dict[str, Any]:
        """``exc`` as the subtask's failure, or raised again for LangGraph to handle."""
        if isinstance(exc, GraphBubbleUp | RunStopped) or is_transient(exc):
            raise exc  # control flow (interrupts, a stop), or an outage a resume retries
        failed = _failed(payload, exc)
        for result in failed["results"].values():
            emit_result(runtime, name, result)
        return failed

    def run(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        try:
            return worker(payload, runtime)
        except Exception as exc:
            return recorded(payload, runtime, exc)

    async def arun(payload: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        try:
            return await worker.acall(payload, runtime)
        except Exception as exc:
            return recorded(payload, runtime, exc)

    return Node(name, run, arun)
