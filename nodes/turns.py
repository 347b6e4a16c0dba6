"""Workers take turns: at most ``limits.max_concurrency`` of a team's workers run at once.

The turns are the run's ``TeamContext.gate`` rather than LangGraph's ``max_concurrency``,
whose pool also saves finished tasks' writes and runs the durable steps of pausing
workers (``Limits.task_pool`` says why that pool is larger).
"""

from __future__ import annotations

from typing import TypeVar

from langgraph.runtime import Runtime

from orchestra.nodes.runnable import Node
from orchestra.state import TeamContext

In = TypeVar("In")
Out = TypeVar("Out")


def taking_turns(node: Node[In, Out], team: str, limit: int) -> Node[In, Out]:
    """``node``, run only while it holds one of ``team``'s ``limit`` turns."""

    def run(payload: In, runtime: Runtime[TeamContext]) -> Out:
        with runtime.context.gate.hold(team, limit):
            return node(payload, runtime)

    async def arun(payload: In, runtime: Runtime[TeamContext]) -> Out:
        async with runtime.context.gate.ahold(team, limit):
            return await node.acall(payload, runtime)

    return Node(node.name or team, run, arun)
