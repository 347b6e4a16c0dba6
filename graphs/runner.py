"""Running teams durably: thread ids, run / resume / inspect.

Every run has a thread id and is checkpointed after each super-step (``checkpoints``
says where). A run that stops on an error keeps its state and the exception
(``RunResult.exception``); ``resume_run`` continues it, and LangGraph re-runs only the
tasks that had not finished. Each call resolves the team's spec once. A run or resume
holds its thread's lease while it runs (``leases``): one writer per thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from orchestra.graphs.checkpoints import (
    open_checkpointer,
    stored_input,
    stored_origin,
    stored_shape,
)
from orchestra.graphs.leases import holding
from orchestra.graphs.orchestrator_workers import CompiledTeam
from orchestra.graphs.patterns import compile_team, output_types, resolved_in
from orchestra.graphs.resume_team import file_sha256, started_model, team_for_resume
from orchestra.graphs.run_result import RunResult, result_of
from orchestra.nodes.durable import is_step
from orchestra.nodes.model_check import check_models
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import (
    ModelSettings,
    NotWaitingError,
    OrchestraError,
    PatternName,
    ProgressEvent,
    RunNotFoundError,
    RunOrigin,
    StopSignal,
    TeamContext,
    TeamInput,
    TeamSpec,
    TeamSpecError,
    ThreadExistsError,
    TransientModelError,
    deps_data,
    search_folders,
)

__all__ = [
    "ModelChoice",
    "OnEvent",
    "OnUpdate",
    "RunNotFoundError",
    "RunResult",
    "answers",
    "new_thread_id",
    "open_checkpointer",
    "resume_run",
    "run_config",
    "run_team",
    "snapshot",
    "stored_origin",
]

OnUpdate = Callable[[str, Any], None]
"""Called with (node name, its state update) after each node finishes, e.g. for progress."""

OnEvent = Callable[[ProgressEvent], None]
"""Called with each progress event (plan made, worker started/finished, verdict, ...)."""

ModelChoice = str | ModelSettings | BaseChatModel | None
"""A model for every role of one run: a model string, settings or an instance (``None``:
the spec's)."""


def run_config(team: TeamSpec, thread_id: str) -> RunnableConfig:
    """The config of every invocation: thread id plus explicit recursion and concurrency limits."""
    return {
        "configurable": {"thread_id": thread_id},
        "recursion_limit": team.limits.recursion_limit,
        "max_concurrency": team.limits.task_pool,
        "run_name": team.name,
        "metadata": {"orchestra_team": team.name, "orchestra_pattern": team.pattern},
    }


def _invoke(
    team: ResolvedTeam,
    graph: CompiledTeam,
    thread_id: str,
    payload: TeamInput | Command[Any] | None,
    model: ModelChoice,
    on_update: OnUpdate | None = None,
    on_event: OnEvent | None = None,
    deps: Any = None,
    stop: StopSignal | None = None,
) -> RunResult:
    config = run_config(team.spec, thread_id)
    error: str | None = None
    stopped_by: str | None = None
    caught: BaseException | None = None
    try:
        context = TeamContext.stoppable(stop, model=model, deps=deps)
        if on_update is None and on_event is None:
            graph.invoke(payload, config, context=context)
        else:
            modes: list[Literal["updates", "custom"]] = ["updates", "custom"]
            for mode, chunk in graph.stream(
                payload, config, context=context, stream_mode=modes, subgraphs=False
            ):
                if mode == "custom" and on_event is not None:
                    on_event(cast(ProgressEvent, chunk))
                elif mode == "updates" and on_update is not None:
                    for node, update in cast(dict[str, Any], chunk).items():
                        if not is_step(node):  # a worker's durable step, not a node
                            on_update(node, update)
    except GraphRecursionError as exc:
        stopped_by, caught = "recursion_limit", exc
        limit = team.spec.limits.recursion_limit
        error = f"the run used all {limit} super-steps of recursion_limit"
    except TransientModelError as exc:  # outlasted the retries: a resume tries again
        caught, error = exc, _told(exc)
    except (KeyboardInterrupt, OrchestraError):
        raise
    except Exception as exc:
        caught, error = exc, _told(exc)
    return result_of(
        graph,
        thread_id,
        output_types(team),
        config=config,
        error=error,
        stopped_by=stopped_by,
        exception=caught,
    )


def new_thread_id(team: TeamSpec) -> str:
    """A fresh thread id such as ``research-1a2b3c4d``."""
    return f"{team.name}-{uuid.uuid4().hex[:8]}"


def run_team(
    team: TeamSpec | ResolvedTeam,
    task: str,
    *,
    saver: BaseCheckpointSaver[str],
    thread_id: str | None = None,
    model: ModelChoice = None,
    team_file: str | Path | None = None,
    on_update: OnUpdate | None = None,
    pattern: PatternName | None = None,
    on_event: OnEvent | None = None,
    deps: Any = None,
    stop: StopSignal | None = None,
) -> RunResult:
    """Start a run of ``team`` on ``task`` (errors are caught and reported in the result).

    ``pattern`` runs the team in another shape than its spec says; the choice is stored
    with the run, so a resume continues in the same shape. ``deps`` is the application's
    data for tools and checks (``RunData``): stored as JSON with the run, restored by
    ``resume_run``. ``stop`` stops the run between worker steps once requested. Errors
    of the spec, the model configuration or the thread id are raised
    (``OrchestraError``; ``ThreadBusyError`` while another call runs the thread); an
    error a node raised stops the run with its state kept, in
    ``RunResult.exception``. Every role's model is built before the run starts
    (``check_models``): a bad one is a ``ModelConfigError`` before any call is made.
    """
    resolved = resolved_in(team, pattern)
    spec = resolved.spec
    check_models(resolved, model)
    thread = thread_id or new_thread_id(spec)
    with holding(saver, thread, stop):  # the check and the start under the lease
        if saver.get_tuple({"configurable": {"thread_id": thread}}) is not None:
            raise ThreadExistsError(
                f"thread {thread!r} already exists; use 'orchestra resume {thread}' "
                "or a new --thread"
            )
        payload = TeamInput(task=task)
        if deps is not None:
            payload["deps"] = deps_data(deps)
        try:
            origin = RunOrigin(team=spec.to_data())
        except TeamSpecError:
            origin = None  # a spec holding Python objects can be resumed from Python only
        if origin is not None:
            if team_file is not None:
                origin["team_file"] = str(Path(team_file).resolve())
                origin["team_sha256"] = file_sha256(team_file)  # what a resume may import from
            origin["import_folders"] = search_folders(spec)  # a resume imports from them too
            if isinstance(model, str):
                origin["model"] = model
            elif isinstance(model, ModelSettings):  # stored as its text form (see model_choice)
                origin["model"] = model.cache_key()
            payload["origin"] = origin
        graph = compile_team(resolved, checkpointer=saver)
        return _invoke(resolved, graph, thread, payload, model, on_update, on_event, deps, stop)


def resume_run(
    thread_id: str,
    *,
    saver: BaseCheckpointSaver[str],
    model: ModelChoice = None,
    on_update: OnUpdate | None = None,
    decision: dict[str, Any] | None = None,
    on_event: OnEvent | None = None,
    only: str | None = None,
    team: TeamSpec | ResolvedTeam | None = None,
    stop: StopSignal | None = None,
) -> RunResult:
    """Continue an unfinished run; a finished one is returned as it is.

    A run waiting for a human continues only with a ``decision`` (the resume value, e.g.
    ``{"action": "approve"}``); without one it is returned as it is, still waiting. The
    decision answers everything that waits (a plan, or the tool calls of several
    workers), or only the item ``only`` names (see ``answers``).

    The team is ``team`` when given, else the team file the run was started from while
    it is unchanged (its SHA-256 is stored with the run), else the spec stored in the
    checkpoint if it names only orchestra's own code: a checkpoint database is never
    trusted to say what code to import (``resume_team``). A team whose specialists,
    pattern or stages differ from the stored run's is a ``TeamMismatchError`` before
    anything runs. The run's ``deps`` come back from the checkpoint (as JSON data);
    ``stop`` as in ``run_team``.
    """
    resolved, started_with = team_for_resume(saver, thread_id, team)
    with holding(saver, thread_id, stop):  # read what waits, and run, under the lease
        graph = compile_team(resolved, checkpointer=saver)
        current = result_of(graph, thread_id, output_types(resolved))
        if current.finished or (current.waiting and decision is None):
            return current
        if decision is not None and not current.waiting:
            raise NotWaitingError(f"thread {thread_id!r} is not waiting for a decision")
        payload: Command[Any] | None = None
        if decision is not None:
            payload = Command(resume=answers(current, decision, only))
        chosen = model or (started_model(started_with, thread_id) if started_with else None)
        check_models(resolved, chosen)
        deps = stored_input(saver, thread_id, "deps")
        return _invoke(resolved, graph, thread_id, payload, chosen, on_update, on_event, deps, stop)


def snapshot(
    thread_id: str,
    *,
    saver: BaseCheckpointSaver[str],
    team: TeamSpec | ResolvedTeam | None = None,
) -> RunResult:
    """The current state of a thread, without running or importing anything.

    Without ``team`` the graph is rebuilt from the stored spec's structure alone
    (``shape_of``: its tools, output types and checks are not imported), so
    ``RunResult.outputs`` is empty and ``values`` holds the outputs as JSON data. With
    ``team`` (as in ``resume_run``), the outputs are its typed models.
    """
    if team is None:
        graph = compile_team(stored_shape(saver, thread_id), checkpointer=saver)
        return result_of(graph, thread_id, {})
    resolved, _ = team_for_resume(saver, thread_id, team)
    graph = compile_team(resolved, checkpointer=saver)
    return result_of(graph, thread_id, output_types(resolved))


def answers(
    current: RunResult, decision: dict[str, Any], only: str | None = None
) -> dict[str, Any]:
    """``decision`` for each waiting interrupt (by id), or for the one ``only`` names.

    ``only`` is an interrupt id or the subtask id a tool approval waits for; the others
    keep waiting (their workers ask again, repeating no model or tool call).
    """
    chosen = [
        iid
        for iid, value in zip(current.waiting_ids, current.waiting, strict=True)
        if only is None
        or only == iid
        or (isinstance(value, dict) and only == value.get("subtask_id"))
    ]
    if not chosen:
        names = [
            str(v.get("subtask_id") or v.get("kind")) if isinstance(v, dict) else str(v)
            for v in current.waiting
        ]
        raise NotWaitingError(
            f"nothing waits for {only!r} in thread {current.thread_id!r}; waiting: {names}"
        )
    return dict.fromkeys(chosen, decision)


_UNREACHABLE = ("APIConnectionError", "ConnectError", "ConnectTimeout")


def _told(exc: BaseException) -> str:
    """An error that stopped a run, for people; an unreachable server says so."""
    text = f"{type(exc).__name__}: {exc}"
    if any(cls.__name__ in _UNREACHABLE for cls in type(exc).__mro__):
        text += (
            " (the model's server could not be reached after the retries: check that it is"
            " running and its base_url; the run resumes where it stopped)"
        )
    return text
