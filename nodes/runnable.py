"""A graph node with a real sync *and* async body.

LangGraph runs a plain sync function under ``ainvoke`` on a thread, so a model call
with simulated (or real) latency would hold a thread; ``RunnableLambda(func, afunc)``
has both paths but adds a duplicate nested run to every trace. This runnable does
neither: it is invisible to tracing (the node's own run is the one LangGraph makes) and
hands each body the node's ``Runtime``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.runtime import Runtime, get_runtime

from orchestra.state import NO_CONTEXT, TeamContext

In = TypeVar("In")
Out = TypeVar("Out")

SyncBody = Callable[[In, Runtime[TeamContext]], Out]
AsyncBody = Callable[[In, Runtime[TeamContext]], Awaitable[Out]]


class Node(Runnable[In, Out], Generic[In, Out]):
    """A node body ``(state, runtime) -> update`` with an optional native async twin."""

    def __init__(
        self, name: str, func: SyncBody[In, Out], afunc: AsyncBody[In, Out] | None = None
    ) -> None:
        self.name = name
        self.func = func
        self.afunc = afunc

    def __call__(self, state: In, runtime: Runtime[TeamContext]) -> Out:
        """Run the node alone, outside a graph: ``node(state_dict, Runtime(context=...))``."""
        return self.func(state, with_context(runtime))

    async def acall(self, state: In, runtime: Runtime[TeamContext]) -> Out:
        """The async twin of calling the node alone."""
        runtime = with_context(runtime)
        if self.afunc is None:
            return self.func(state, runtime)
        return await self.afunc(state, runtime)

    def invoke(self, input: In, config: RunnableConfig | None = None, **kwargs: Any) -> Out:
        """Run the sync body with the current runtime (none once the run was stopped)."""
        return self.func(input, started(current_runtime()))

    async def ainvoke(self, input: In, config: RunnableConfig | None = None, **kwargs: Any) -> Out:
        """Run the async body (or the sync one, when the node does no I/O)."""
        return await self.acall(input, started(current_runtime()))


def started(runtime: Runtime[TeamContext]) -> Runtime[TeamContext]:
    """``runtime``, unless its run was asked to stop: then no node starts (``RunStopped``).

    The nodes already running finish their current step and the super-step's finished
    work is saved, so a resume starts from here.
    """
    runtime.context.stop.raise_if_requested()
    return runtime


def with_context(runtime: Runtime[TeamContext]) -> Runtime[TeamContext]:
    """``runtime``, with the defaults as its context when the caller gave none."""
    return runtime if runtime.context is not None else runtime.override(context=NO_CONTEXT)


def current_runtime() -> Runtime[TeamContext]:
    """The running node's runtime (its context filled in, as ``with_context``)."""
    return with_context(get_runtime(TeamContext))
