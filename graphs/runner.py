"""Running teams durably: checkpointers, thread ids, run / resume / inspect.

Every run has a thread id and is checkpointed after each super-step (SQLite by default,
at ``.orchestra/checkpoints.sqlite`` under the working directory). A run that stops on
an error keeps its state; ``resume_run`` continues it, and LangGraph re-runs only the
tasks that had not finished. The team spec travels in the state (``origin``) so a
thread can be resumed or shown from its id alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from orchestra.graphs.paths import DEFAULT_DB, MEMORY
from orchestra.graphs.patterns import compile_team, with_pattern
from orchestra.state import (
    OrchestraError,
    PatternName,
    ProgressEvent,
    RunOrigin,
    StopSignal,
    TeamContext,
    TeamInput,
    TeamSpec,
    TeamSpecError,
    deps_data,
    team_from_data,
)

OnUpdate = Callable[[str, Any], None]
"""Called with (node name, its state update) after each node finishes, e.g. for progress."""

OnEvent = Callable[[ProgressEvent], None]
"""Called with each progress event (plan made, worker started/finished, verdict, ...)."""

ModelChoice = str | BaseChatModel | None
"""A model for every role of one run: a model string or an instance (``None``: the spec's)."""


class RunNotFoundError(OrchestraError, LookupError):
    """No checkpoint exists for the thread id."""


@contextmanager
def open_checkpointer(db: str | Path | None = None) -> Iterator[BaseCheckpointSaver[str]]:
    """A checkpointer for ``db``: a SQLite path, ``:memory:`` or a ``postgresql://`` URL.

    SQLite is the default, at ``.orchestra/checkpoints.sqlite``; PostgreSQL's tables are
    created on first use.
    """
    if str(db) == MEMORY:
        yield InMemorySaver()
        return
    if str(db or "").startswith(("postgres://", "postgresql://")):
        from orchestra.graphs.postgres import open_postgres  # psycopg loads only when used

        with open_postgres(str(db)) as postgres:
            yield postgres
        return
    path = Path(db) if db else DEFAULT_DB
    path.parent.mkdir(parents=True, exist_ok=True)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        yield saver


def run_config(team: TeamSpec, thread_id: str) -> RunnableConfig:
    """The config of every invocation: thread id plus explicit recursion and concurrency limits."""
    return {
        "configurable": {"thread_id": thread_id},
        "recursion_limit": team.limits.recursion_limit,
        "max_concurrency": team.limits.task_pool,
        "run_name": team.name,
        "metadata": {"orchestra_team": team.name, "orchestra_pattern": team.pattern},
    }


@dataclass
class RunResult:
    """Where a run stands after an invocation."""

    thread_id: str
    values: dict[str, Any]
    pending: tuple[str, ...]
    """Nodes still to run; empty when the run finished."""
    error: str | None = None
    """Why the invocation stopped early (the state is kept; resume continues it)."""
    stopped_by: str | None = field(default=None)
    """``"recursion_limit"`` when LangGraph's step limit stopped the run."""
    waiting: list[Any] = field(default_factory=list)
    """What a paused run waits for (its interrupts' values), e.g. a plan to approve."""
    waiting_ids: list[str] = field(default_factory=list)
    """The interrupt id of each ``waiting`` item, for answering one of several."""

    @property
    def finished(self) -> bool:
        """True once the synthesizer has run."""
        return not self.pending and "status" in self.values

    @property
    def status(self) -> str:
        """The run's status, or ``waiting``/``interrupted``/``cap_reached`` before it ends."""
        if self.stopped_by:
            return "cap_reached"
        if self.finished:
            return str(self.values["status"])
        return "waiting" if self.waiting else "interrupted"

    @property
    def reason(self) -> str:
        """Why the run has its status."""
        if self.stopped_by:
            return f"{self.stopped_by}: {self.error}"
        if self.finished:
            return str(self.values.get("reason", ""))
        if self.waiting:
            kinds = ", ".join(
                str(w.get("kind", "input")) for w in self.waiting if isinstance(w, dict)
            )
            return f"waiting for a human: {kinds or 'input'}"
        return self.error or "the run has not finished"


def _invoke(
    team: TeamSpec,
    saver: BaseCheckpointSaver[str],
    thread_id: str,
    payload: TeamInput | Command[Any] | None,
    model: ModelChoice,
    on_update: OnUpdate | None = None,
    on_event: OnEvent | None = None,
    deps: Any = None,
    stop: StopSignal | None = None,
) -> RunResult:
    graph = compile_team(team, checkpointer=saver)
    config = run_config(team, thread_id)
    error: str | None = None
    stopped_by: str | None = None
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
                        on_update(node, update)
    except GraphRecursionError:
        stopped_by = "recursion_limit"
        error = f"the run used all {team.limits.recursion_limit} super-steps of recursion_limit"
    except (KeyboardInterrupt, OrchestraError):
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    state = graph.get_state(config)
    return RunResult(
        thread_id,
        dict(state.values),
        tuple(state.next),
        error,
        stopped_by,
        [i.value for i in state.interrupts],
        [i.id for i in state.interrupts],
    )


def new_thread_id(team: TeamSpec) -> str:
    """A fresh thread id such as ``research-1a2b3c4d``."""
    return f"{team.name}-{uuid.uuid4().hex[:8]}"


def run_team(
    team: TeamSpec,
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
    ``resume_run``. ``stop`` stops the run between worker steps once requested.
    """
    team = with_pattern(team, pattern)
    thread = thread_id or new_thread_id(team)
    if saver.get_tuple({"configurable": {"thread_id": thread}}) is not None:
        raise OrchestraError(
            f"thread {thread!r} already exists; use 'orchestra resume {thread}' or a new --thread"
        )
    payload = TeamInput(task=task)
    if deps is not None:
        payload["deps"] = deps_data(deps)
    try:
        origin = RunOrigin(team=team.to_data())
    except TeamSpecError:
        origin = None  # a spec holding Python objects can be resumed from Python only
    if origin is not None:
        if team_file is not None:
            origin["team_file"] = str(team_file)
        if isinstance(model, str):
            origin["model"] = model
        payload["origin"] = origin
    return _invoke(team, saver, thread, payload, model, on_update, on_event, deps, stop)


def stored_origin(saver: BaseCheckpointSaver[str], thread_id: str) -> RunOrigin:
    """The team and model a thread was started with, read from its latest checkpoint."""
    found = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if found is None:
        raise RunNotFoundError(f"no run with thread id {thread_id!r} in this checkpoint database")
    origin = found.checkpoint["channel_values"].get("origin")
    if not origin:
        raise OrchestraError(
            f"thread {thread_id!r} was started from Python with objects in its spec; "
            "resume it from Python with the same team: resume_run(..., team=team)"
        )
    return cast(RunOrigin, origin)


def _team_of(
    saver: BaseCheckpointSaver[str], thread_id: str, team: TeamSpec | None
) -> tuple[TeamSpec, str | None]:
    """The team a thread runs (``team`` when given) and the model it was started with."""
    if team is not None:
        if saver.get_tuple({"configurable": {"thread_id": thread_id}}) is None:
            raise RunNotFoundError(
                f"no run with thread id {thread_id!r} in this checkpoint database"
            )
        return team, None
    origin = stored_origin(saver, thread_id)
    stored = team_from_data(origin["team"], source=origin.get("team_file", thread_id))
    return stored, origin.get("model")


def resume_run(
    thread_id: str,
    *,
    saver: BaseCheckpointSaver[str],
    model: ModelChoice = None,
    on_update: OnUpdate | None = None,
    decision: dict[str, Any] | None = None,
    on_event: OnEvent | None = None,
    only: str | None = None,
    team: TeamSpec | None = None,
    stop: StopSignal | None = None,
) -> RunResult:
    """Continue an unfinished run; a finished one is returned as it is.

    A run waiting for a human continues only with a ``decision`` (the resume value, e.g.
    ``{"action": "approve"}``); without one it is returned as it is, still waiting. The
    decision answers everything that waits (a plan, or the tool calls of several
    workers), or only the item ``only`` names (see ``answers``).

    The team is read from the checkpoint; a run started from Python with objects in its
    spec (tools, models) is resumed with ``team=`` the same team, as it ran. The run's
    ``deps`` come back from the checkpoint (as JSON data); ``stop`` as in ``run_team``.
    """
    team, started_with = _team_of(saver, thread_id, team)
    chosen = model or started_with
    current = snapshot(thread_id, saver=saver, team=team)
    if current.finished or (current.waiting and decision is None):
        return current
    if decision is not None and not current.waiting:
        raise OrchestraError(f"thread {thread_id!r} is not waiting for a decision")
    payload: Command[Any] | None = None
    if decision is not None:
        payload = Command(resume=answers(current, decision, only))
    deps = current.values.get("deps")
    return _invoke(team, saver, thread_id, payload, chosen, on_update, on_event, deps, stop)


def snapshot(
    thread_id: str, *, saver: BaseCheckpointSaver[str], team: TeamSpec | None = None
) -> RunResult:
    """The current state of a thread, without running anything (``team`` as in resume_run)."""
    team, _ = _team_of(saver, thread_id, team)
    graph = compile_team(team, checkpointer=saver)
    state = graph.get_state({"configurable": {"thread_id": thread_id}})
    return RunResult(
        thread_id,
        dict(state.values),
        tuple(state.next),
        waiting=[i.value for i in state.interrupts],
        waiting_ids=[i.id for i in state.interrupts],
    )


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
        raise OrchestraError(
            f"nothing waits for {only!r} in thread {current.thread_id!r}; waiting: {names}"
        )
    return dict.fromkeys(chosen, decision)
