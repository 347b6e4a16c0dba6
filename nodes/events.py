"""Emitting progress events through the node's runtime (a no-op when nothing listens)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from orchestra.state import TeamContext, WorkerResult
from orchestra.state.events import EventKind, ProgressEvent


def emit(runtime: Runtime[TeamContext], team: str, kind: EventKind, **fields: Any) -> None:
    """Send one event on the custom stream."""
    event: dict[str, Any] = {"kind": kind, "team": team, **fields}
    runtime.stream_writer(ProgressEvent(**event))  # type: ignore[typeddict-item]


def emit_result(runtime: Runtime[TeamContext], team: str, result: WorkerResult) -> None:
    """``worker_finished`` or ``worker_failed`` for a worker's result."""
    failed = result["status"] in ("failed", "exhausted") and not result.get("output")
    fields: dict[str, Any] = {
        "subtask_id": result["subtask_id"],
        "specialist": result["specialist"],
        "status": result["status"],
        "steps": result["steps"],
        "revision": result["revision"],
    }
    if result.get("reason"):
        fields["reason"] = result.get("reason")
    emit(runtime, team, "worker_failed" if failed else "worker_finished", **fields)
