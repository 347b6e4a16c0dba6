"""Durable steps: every worker's model and tool calls as LangGraph tasks.

LangGraph resumes an interrupted node by running it again from its start. A specialist
that waits for a human in the middle of its tool loop, or was killed there, or whose
step failed, would then repeat every model and tool call before that point. Run as
tasks (``langgraph.func.task``) inside the node, each call's result is checkpointed when
it finishes, and the re-run reads it back instead of calling again; it also survives a
crash of the process. A step read back is counted in the worker's spend as it was the
first time, and the worker's ledger entry is written only when the node finishes: so a
killed worker's billed calls are counted once, on the run that finishes it.

The model step retries its own transient errors (``orchestra.nodes.model_call``), so a
task has no retry policy, and neither may the node that runs them: LangGraph numbers a
node's tasks by call order across attempts, so a node retried after one of its tasks
failed reads a cached result into the wrong call. Where nothing can be resumed (a node
called on its own, a graph without a checkpointer) the steps are made directly.
(A task's parameter must not be named ``config``: LangGraph passes its own by that name.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Generator
from dataclasses import replace
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.config import get_config
from langgraph.constants import CONF, CONFIG_KEY_CHECKPOINTER
from langgraph.func import task

from orchestra.nodes.steps import (
    AskModel,
    ModelStep,
    RunTool,
    ToolStep,
    amodel_directly,
    atool_directly,
    model_directly,
    tool_directly,
)

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Future(Protocol[T_co]):
    """What calling a task returns: ``.result()`` in sync code, ``await`` in async code."""

    def result(self) -> T_co:
        """Block until the task's result is there (or read back from the checkpoint)."""
        ...

    def __await__(self) -> Generator[Any, None, T_co]: ...


def _task(func: Callable[P, T], name: str) -> Callable[P, Future[T]]:
    """``func`` as a task; calling it returns a future of its result."""
    return cast("Callable[P, Future[T]]", task(name=name)(func))


def _atask(func: Callable[P, Awaitable[T]], name: str) -> Callable[P, Future[T]]:
    """The async ``func`` as a task; calling it returns a future to await."""
    return cast("Callable[P, Future[T]]", task(name=name)(func))


def in_graph() -> bool:
    """Whether a graph with a checkpointer runs the caller, so that steps can be durable.

    Without one (a node called on its own, a graph compiled without a checkpointer) a
    step's result has nowhere to be kept and no run to be resumed, so tasks would only
    cost time: about 2 ms per worker with a checkpointer (BENCHMARKS.md, section 5).
    """
    try:
        config = get_config()
    except RuntimeError:  # no runnable context: a test calling the node
        return False
    return config.get(CONF, {}).get(CONFIG_KEY_CHECKPOINTER) is not None


STEP_TASKS = ("model_call:", "tool_call:")
"""How the tasks of durable steps are named (the stream and the debug view show them)."""


def is_step(name: str) -> bool:
    """Whether ``name`` is a durable step's task rather than a graph node."""
    return name.startswith(STEP_TASKS)


def digest(*parts: object) -> str:
    """A short stable fingerprint of what a step is given (message ids left out)."""
    text = json.dumps(parts, default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, BaseMessage):
        calls = value.tool_calls if isinstance(value, AIMessage) else None
        return [value.type, value.content, calls, getattr(value, "tool_call_id", None)]
    return str(value)


def in_node(step: AskModel) -> AskModel:
    """``step``, its model run still labelled with the node that makes it.

    Inside a task LangGraph labels runs with the task's name; streamed tokens
    (``stream_mode="messages"``) and traces then belong to ``model_call:...``. The step's
    own metadata wins over the task's, so it names the worker's node again.
    """
    node = get_config().get("metadata", {}).get("langgraph_node")
    if node is None:
        return step
    metadata = {**step.trace.get("metadata", {}), "langgraph_node": node}
    return replace(step, trace={**step.trace, "metadata": metadata})


class DurableSteps:
    """The steps of a team's workers, each a task checkpointed when it finishes.

    A step's task is named after what it is given (``model_call:<digest of the
    messages>``, ``tool_call:<tool>:<digest of the arguments>``). LangGraph finds a
    finished task by its name and position in the node, so a replay that went another
    way — say a crash lost a human's answer and the new answer differs — runs its calls
    afresh instead of reading another conversation's results. A tool's error is caught
    inside its task (``tool_directly``), so it is checkpointed as the call's answer.
    """

    def model(self, step: AskModel) -> ModelStep:
        """The model's reply, as a durable step."""
        if not in_graph():
            return model_directly(step)
        name = f"model_call:{digest(step.messages)}"
        return _task(model_directly, name)(in_node(step)).result()

    async def amodel(self, step: AskModel) -> ModelStep:
        """``model`` for async code."""
        if not in_graph():
            return await amodel_directly(step)
        name = f"model_call:{digest(step.messages)}"
        return await _atask(amodel_directly, name)(in_node(step))

    def tool(self, step: RunTool) -> ToolStep:
        """The tool's answer, as a durable step."""
        if not in_graph():
            return tool_directly(step)
        name = f"tool_call:{step.tool.name}:{digest(step.args)}"
        return _task(tool_directly, name)(step).result()

    async def atool(self, step: RunTool) -> ToolStep:
        """``tool`` for async code."""
        if not in_graph():
            return await atool_directly(step)
        name = f"tool_call:{step.tool.name}:{digest(step.args)}"
        return await _atask(atool_directly, name)(step)
