"""Model and tool steps, and the drivers that make them, in sync or async code.

A role's work — a specialist's attempt, the orchestrator's planning, the synthesis — is
a generator: it yields the step it needs next and is sent the outcome. One body thus
serves sync and async runs, with the steps made directly or as durable tasks
(``orchestra.nodes.durable``); the drivers here hold the only ``invoke``/``ainvoke`` difference.

Every model call of every role passes through ``model_directly``/``amodel_directly``,
which bound it in time and retry its transient errors (``orchestra.nodes.model_call``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, NotRequired, TypeVar

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from pydantic import BaseModel
from typing_extensions import TypedDict

from orchestra.nodes.model_call import acall_model, call_model
from orchestra.nodes.run_data import injected
from orchestra.state import RunContext, RunStopped

R = TypeVar("R")


class ModelStep(TypedDict):
    """A model reply with how long the call took."""

    reply: Any
    """A message, or ``{"raw": message, "parsed": ...}`` from a structured-output model."""
    latency_s: float
    """Seconds from the first request to the reply, waits between retries included."""
    requests: NotRequired[int]
    """Requests the call took (1, plus its retries); only the last one was answered."""


class ToolStep(TypedDict):
    """A tool's answer to the model: its result, or the error it raised."""

    ok: bool
    text: str


@dataclass(frozen=True)
class AskModel:
    """Step: the reply of ``bound`` to ``messages``."""

    bound: Runnable[Any, Any]
    messages: list[BaseMessage]
    trace: RunnableConfig
    """The call's config: tracing metadata and the role's ``CallInfo``
    (``orchestra.nodes.call_info``), which the local models read instead of the prompt."""


@dataclass(frozen=True)
class RunTool:
    """Step: ``tool`` called with ``args``."""

    tool: BaseTool
    args: dict[str, Any]
    trace: RunnableConfig
    run: RunContext[Any] | None = None
    """Handed to the tool's ``RunData`` parameter, if it has one (never digested)."""


Step = AskModel | RunTool
Outcome = ModelStep | ToolStep
Attempt = Generator[Step, Outcome, R]
"""An attempt's body: yields steps, is sent their outcomes, returns its result."""


def raised(tool: str, exc: Exception) -> str:
    """The answer the model gets when a tool raises."""
    return f"Tool {tool!r} raised {type(exc).__name__}: {exc}"


def rendered(result: object) -> str:
    """A tool's result as the text the model reads (and the worker may take as its output).

    A pydantic object is its JSON, and so are a dict and a list (as LangChain's
    ``ToolNode`` sends them); anything else is its ``str``.
    """
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    if isinstance(result, dict | list):
        try:
            return json.dumps(result, ensure_ascii=False)
        except (TypeError, ValueError):
            return str(result)
    return str(result)


def model_directly(step: AskModel) -> ModelStep:
    """Make a model step from this thread (bounded in time, transient errors retried)."""
    reply, latency, requests = call_model(step.bound, step.messages, step.trace)
    return ModelStep(reply=reply, latency_s=latency, requests=requests)


async def amodel_directly(step: AskModel) -> ModelStep:
    """Make a model step without blocking a thread."""
    reply, latency, requests = await acall_model(step.bound, step.messages, step.trace)
    return ModelStep(reply=reply, latency_s=latency, requests=requests)


def tool_directly(step: RunTool) -> ToolStep:
    """Make a tool step in this thread; an error it raises becomes its answer."""
    try:
        args = step.args | injected(step.tool, step.run)
        return ToolStep(ok=True, text=rendered(step.tool.invoke(args, step.trace)))
    except (GraphBubbleUp, RunStopped):
        raise  # interrupts and other control flow belong to LangGraph; a stop ends the task
    except Exception as exc:
        return ToolStep(ok=False, text=raised(step.tool.name, exc))


async def atool_directly(step: RunTool) -> ToolStep:
    """``tool_directly`` without blocking a thread."""
    try:
        args = step.args | injected(step.tool, step.run)
        return ToolStep(ok=True, text=rendered(await step.tool.ainvoke(args, step.trace)))
    except (GraphBubbleUp, RunStopped):
        raise
    except Exception as exc:
        return ToolStep(ok=False, text=raised(step.tool.name, exc))


_ANSWERED = "_orchestra_answered"


def answered_before(exc: BaseException) -> list[ModelStep]:
    """The model steps answered before ``exc`` ended a driven attempt (their usage was billed)."""
    found = getattr(exc, _ANSWERED, None)
    return list(found) if isinstance(found, list) else []


def drive(
    attempt: Attempt[R],
    model: Callable[[AskModel], ModelStep],
    tool: Callable[[RunTool], ToolStep],
) -> R:
    """Run ``attempt`` to its end, making each step it yields with ``model`` or ``tool``.

    An error that ends it carries the model steps answered so far (``answered_before``),
    so that the node that records the failure can record their spend too.
    """
    answered: list[ModelStep] = []
    try:
        step = next(attempt)
        while True:
            if isinstance(step, AskModel):
                reply = model(step)
                answered.append(reply)
                step = attempt.send(reply)
            else:
                step = attempt.send(tool(step))
    except StopIteration as done:
        result: R = done.value
        return result
    except Exception as exc:
        setattr(exc, _ANSWERED, answered_before(exc) or answered)
        raise


async def adrive(
    attempt: Attempt[R],
    model: Callable[[AskModel], Awaitable[ModelStep]],
    tool: Callable[[RunTool], Awaitable[ToolStep]],
) -> R:
    """``drive`` for async code."""
    answered: list[ModelStep] = []
    try:
        step = next(attempt)
        while True:
            if isinstance(step, AskModel):
                reply = await model(step)
                answered.append(reply)
                step = attempt.send(reply)
            else:
                step = attempt.send(await tool(step))
    except StopIteration as done:
        result: R = done.value
        return result
    except Exception as exc:
        setattr(exc, _ANSWERED, answered_before(exc) or answered)
        raise
