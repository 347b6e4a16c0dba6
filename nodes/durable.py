"""Durable steps: a worker's model and tool calls as LangGraph tasks, for workers that pause.

LangGraph resumes an interrupted node by running it again from its start. A specialist
that waits for a human in the middle of its tool loop would then repeat every model and
tool call before the pause. Run as tasks (``langgraph.func.task``) inside the node, each
call's result is checkpointed when it finishes, and the re-run reads it back instead of
calling again; it also survives a crash of the process.

Each task retries its own transient errors. The node that runs them must not have a
retry policy: LangGraph numbers a node's tasks by call order across attempts, so a node
retried after one of its tasks failed reads a cached result into the wrong call.
(A task's parameter must not be named ``config``: LangGraph passes its own by that name.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Generator
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.func import task
from langgraph.types import RetryPolicy

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


def _task(func: Callable[P, T], name: str, retry: RetryPolicy | None) -> Callable[P, Future[T]]:
    """``func`` as a task; calling it returns a future of its result."""
    return cast("Callable[P, Future[T]]", task(name=name, retry_policy=retry)(func))


def _atask(
    func: Callable[P, Awaitable[T]], name: str, retry: RetryPolicy | None
) -> Callable[P, Future[T]]:
    """The async ``func`` as a task; calling it returns a future to await."""
    return cast("Callable[P, Future[T]]", task(name=name, retry_policy=retry)(func))


def digest(*parts: object) -> str:
    """A short stable fingerprint of what a step is given (message ids left out)."""
    text = json.dumps(parts, default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, BaseMessage):
        calls = value.tool_calls if isinstance(value, AIMessage) else None
        return [value.type, value.content, calls, getattr(value, "tool_call_id", None)]
    return str(value)


class DurableSteps:
    """The steps of one team's pausing workers, retrying transient model errors by ``retry``.

    A step's task is named after what it is given (``model_call:<digest of the
    messages>``, ``tool_call:<tool>:<digest of the arguments>``). LangGraph finds a
    finished task by its name and position in the node, so a replay that went another
    way — say a crash lost a human's answer and the new answer differs — runs its calls
    afresh instead of reading another conversation's results. A tool's error is caught
    inside its task (``tool_directly``), so it is checkpointed as the call's answer.
    """

    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry

    def model(self, step: AskModel) -> ModelStep:
        """The model's reply, as a durable step."""
        name = f"model_call:{digest(step.messages)}"
        return _task(model_directly, name, self.retry)(step).result()

    async def amodel(self, step: AskModel) -> ModelStep:
        """``model`` for async code."""
        name = f"model_call:{digest(step.messages)}"
        return await _atask(amodel_directly, name, self.retry)(step)

    def tool(self, step: RunTool) -> ToolStep:
        """The tool's answer, as a durable step."""
        name = f"tool_call:{step.tool.name}:{digest(step.args)}"
        return _task(tool_directly, name, None)(step).result()

    async def atool(self, step: RunTool) -> ToolStep:
        """``tool`` for async code."""
        name = f"tool_call:{step.tool.name}:{digest(step.args)}"
        return await _atask(atool_directly, name, None)(step)
