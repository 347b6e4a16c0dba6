"""Handing the run's data to the tools and checks that declare a ``RunData[...]`` parameter.

A tool or check asks for the run context by annotating one parameter with
``RunData[Deps]`` (``orchestra.state.context``). The framework finds such parameters
from the type hints, turns the run's ``deps`` into ``Deps`` (after a resume they come
back from the checkpoint as JSON data) and passes the context by keyword. LangChain
leaves the parameter out of the schema the model sees.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, cast, get_args, get_origin

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.config import get_config
from langgraph.runtime import Runtime
from pydantic import BaseModel, TypeAdapter, ValidationError

from orchestra.state import (
    NO_CONTEXT,
    DepsError,
    RunContext,
    SubtaskRecord,
    SubtaskView,
    TeamContext,
)
from orchestra.state.team_state import DependencyResult

Wanted = tuple[tuple[str, object], ...]
"""The parameters that receive the run context, each with the type its ``deps`` must have
(``Any`` when the annotation names none)."""


def _target(obj: object) -> object:
    if isinstance(obj, StructuredTool):
        return obj.func or obj.coroutine
    if isinstance(obj, BaseTool):
        return obj._run  # a BaseTool subclass declares its parameters on _run
    if callable(obj) and not isinstance(obj, type) and not hasattr(obj, "__code__"):
        return type(obj).__call__  # a callable object: its __call__ holds the hints
    return obj


@cache
def _wanted_by(target: object) -> Wanted:
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError):
        return ()  # annotations that do not resolve declare nothing of ours
    found = []
    for name, hint in hints.items():
        base = get_args(hint)[0] if get_origin(hint) is Annotated else hint
        if name != "return" and (get_origin(base) or base) is RunContext:
            args = get_args(base)
            found.append((name, args[0] if args else Any))
    return tuple(found)


def wanted(obj: object) -> Wanted:
    """The parameters of a tool, check or function that receive the run context."""
    target = _target(obj)
    try:
        return _wanted_by(target)
    except TypeError:  # unhashable callable: look every time
        return _wanted_by.__wrapped__(target)


@cache
def _adapter(kind: object) -> TypeAdapter[Any]:
    return TypeAdapter(cast(Any, kind))  # a type read from hints: TypeForm is not spelled yet


def typed(run: RunContext[Any], kind: object) -> RunContext[Any]:
    """``run`` with its deps as ``kind``.

    Raises:
        DepsError: the run's deps do not fit ``kind``.
    """
    if kind is Any:
        return run
    try:
        adapter = _adapter(kind)
    except TypeError:  # an unhashable type form: build its adapter every time
        adapter = TypeAdapter(cast(Any, kind))
    try:
        deps = adapter.validate_python(run.deps)
    except ValidationError as exc:
        name = getattr(kind, "__name__", str(kind))
        raise DepsError(f"the run's deps are not a valid {name}: {exc}") from None
    return RunContext(deps, stop=run.stop, thread_id=run.thread_id, subtask=run.subtask)


def injected(obj: object, run: RunContext[Any] | None) -> dict[str, RunContext[Any]]:
    """The keyword arguments that hand ``run`` to ``obj``'s declared parameters."""
    params = wanted(obj)
    if not params:
        return {}
    given = run or run_context(NO_CONTEXT)
    return {name: typed(given, kind) for name, kind in params}


def _thread_id() -> str | None:
    try:
        thread = (get_config().get("configurable") or {}).get("thread_id")
    except RuntimeError:  # outside a run
        return None
    return str(thread) if thread else None


def run_context(
    context: TeamContext,
    record: SubtaskRecord | None = None,
    inputs: dict[str, DependencyResult] | None = None,
) -> RunContext[Any]:
    """The run context a node hands on, for the subtask ``record`` when there is one."""
    view = None
    if record is not None:
        view = SubtaskView(
            id=record["id"],
            specialist=record["specialist"],
            instruction=record["instruction"],
            inputs=dict(inputs or {}),
        )
    return RunContext(context.deps, stop=context.stop, thread_id=_thread_id(), subtask=view)


def of_runtime(runtime: Runtime[TeamContext] | None) -> TeamContext:
    """The run's ``TeamContext`` (the shared default when the graph was given none)."""
    context = runtime.context if runtime is not None else None
    return context if isinstance(context, TeamContext) else NO_CONTEXT


def call_check(
    check: Callable[..., object], output: BaseModel, run: RunContext[Any] | None
) -> object:
    """Call a declared check with the output, and the run context if it asks for it."""
    return check(output, **injected(check, run))
