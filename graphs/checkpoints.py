"""Where runs are kept: the checkpointer for a ``--db``, and a stored run's team.

SQLite is the default (``.orchestra/checkpoints.sqlite`` under the working directory),
``:memory:`` keeps runs in the process, a ``postgresql://`` URL uses PostgreSQL. The team
spec travels in the state (``origin``) so a thread can be shown from its id (and resumed,
within what ``resume_team`` allows).

A checkpoint is data, but LangGraph's serializer rebuilds objects by importing the module
a stored value names; every saver opened here reads only the types orchestra's state holds
(``STORED_TYPES``), so a rewritten database cannot make reading it import anything else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import START

from orchestra.graphs.paths import DEFAULT_DB, MEMORY
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.team_shape import shape_of
from orchestra.state import (
    CheckpointerError,
    NotResumableError,
    RunNotFoundError,
    RunOrigin,
    team_from_data,
)

STORED_TYPES: tuple[tuple[str, str], ...] = ()
"""Types beyond LangGraph's safe set (messages, ``Send``, ``Interrupt``, datetimes, ...)
that orchestra's state stores: none, its state is JSON data."""


def checkpoint_serde() -> JsonPlusSerializer:
    """LangGraph's serializer, reading back only the types orchestra stores."""
    return JsonPlusSerializer(allowed_msgpack_modules=STORED_TYPES or None)


@contextmanager
def open_checkpointer(
    db: str | Path | None = None, *, existing: bool = False
) -> Iterator[BaseCheckpointSaver[str]]:
    """A checkpointer for ``db``: a SQLite path, ``:memory:`` or a ``postgresql://`` URL.

    SQLite is the default, at ``.orchestra/checkpoints.sqlite``; PostgreSQL's tables are
    created on first use. ``existing``: a SQLite file that is not there is an error
    (``CheckpointerError``) instead of a new, empty database — what reading or
    resuming a run wants, since a mistyped path would otherwise look like a lost run.
    """
    if str(db) == MEMORY:
        yield InMemorySaver(serde=checkpoint_serde())
        return
    if str(db or "").startswith(("postgres://", "postgresql://")):
        from orchestra.graphs.postgres import open_postgres  # psycopg loads only when used

        with open_postgres(str(db)) as postgres:
            postgres.serde = checkpoint_serde()
            yield postgres
        return
    path = Path(db) if db else DEFAULT_DB
    if existing and not path.is_file():
        raise CheckpointerError(
            f"no checkpoint database at {path}"
            + ("" if db else " (the default; pass --db where the run was started with one)")
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # SqliteSaver.from_conn_string's connection, with the serializer it cannot be given.
    with closing(sqlite3.connect(str(path), check_same_thread=False)) as conn:
        yield SqliteSaver(conn, serde=checkpoint_serde())


def _not_found(thread_id: str) -> RunNotFoundError:
    return RunNotFoundError(f"no run with thread id {thread_id!r} in this checkpoint database")


def stored_input(saver: BaseCheckpointSaver[str], thread_id: str, key: str) -> Any:
    """What a thread was started with under ``key`` (``origin``, ``deps``), or ``None``.

    Read from the state, or, for a run stopped before its first step, from the input that
    step has not consumed yet.
    """
    found = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if found is None:
        raise _not_found(thread_id)
    values = found.checkpoint["channel_values"]
    if values.get(key) is None and isinstance(values.get(START), dict):
        return values[START].get(key)
    return values.get(key)


def stored_origin(saver: BaseCheckpointSaver[str], thread_id: str) -> RunOrigin:
    """The team and model a thread was started with, read from its latest checkpoint."""
    origin = stored_input(saver, thread_id, "origin")
    if not origin:
        raise NotResumableError(
            f"thread {thread_id!r} was started from Python with objects in its spec; "
            "resume it from Python with the same team: resume_run(..., team=team)"
        )
    return cast(RunOrigin, origin)


def stored_shape(saver: BaseCheckpointSaver[str], thread_id: str) -> ResolvedTeam:
    """The stored run's team as structure only (``shape_of``): nothing is imported."""
    origin = stored_origin(saver, thread_id)
    return shape_of(team_from_data(origin["team"], source=thread_id), source=thread_id)
