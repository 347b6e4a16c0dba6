"""Run-time context: what varies per invocation but is not state (never checkpointed)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel


class Gate:
    """How many workers of each team run at once in one run, in sync and async code.

    LangGraph's ``max_concurrency`` sizes the one pool that runs a super-step's tasks *and*
    saves each finished task's writes to the checkpointer, first come first served. With
    more workers than slots, a finished worker's writes wait until the queued workers have
    started, and a crash in that window runs it again on resume. So the runner gives
    LangGraph a pool with room for every worker plus the writes, and the workers take
    turns here instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, threading.BoundedSemaphore] = {}
        self._tasks: dict[tuple[str, int], asyncio.Semaphore] = {}

    @contextmanager
    def hold(self, team: str, limit: int) -> Iterator[None]:
        """Hold one of ``limit`` turns of ``team``'s workers while the block runs."""
        with self._lock:
            turns = self._threads.setdefault(team, threading.BoundedSemaphore(limit))
        with turns:
            yield

    @asynccontextmanager
    async def ahold(self, team: str, limit: int) -> AsyncIterator[None]:
        """``hold`` for coroutines (one semaphore per event loop)."""
        key = (team, id(asyncio.get_running_loop()))
        with self._lock:
            turns = self._tasks.setdefault(key, asyncio.Semaphore(limit))
        async with turns:
            yield


@dataclass(frozen=True)
class TeamContext:
    """Passed as ``context=`` to ``invoke``; read by nodes through ``Runtime[TeamContext]``."""

    model: str | BaseChatModel | None = None
    """Overrides every role's model for this run (the CLI's ``--model``)."""

    def __post_init__(self) -> None:
        # Not a field: Studio draws the context's fields as a form, and a gate is no data.
        object.__setattr__(self, "_gate", Gate())

    @property
    def gate(self) -> Gate:
        """Turns of the workers of this run: runs sharing a context share their turns."""
        gate: Gate = self.__dict__["_gate"]
        return gate


NO_CONTEXT = TeamContext()
"""What nodes see when a graph is invoked without ``context=`` (Studio's runs, say): its
one gate makes such runs of a team in this process share the team's turns."""
