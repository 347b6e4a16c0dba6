"""Run-time context: what one invocation carries besides the graph state.

``TeamContext`` is LangGraph's ``context=``: the model override, the application's own
data (``deps``), the workers' turns and the run's stop signal. Of these only ``deps``
must outlive the process, so the runner also stores it in the run's state (JSON, in the
checkpoint) and puts it back on resume. Tools and checks receive it by declaring a
parameter of type ``RunData[Deps]`` (a ``RunContext`` the framework injects; the model
never sees it in a tool's schema).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Annotated, Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import InjectedToolArg
from pydantic_core import PydanticSerializationError, to_jsonable_python

from orchestra.state.errors import DepsError, RunStopped
from orchestra.state.model_settings import ModelSettings
from orchestra.state.purse import Purse
from orchestra.state.team_state import DependencyResult

D = TypeVar("D")

_POLL_S = 0.05
"""How often a worker waiting for its turn looks whether the run was asked to stop."""


TERMINATED = "terminated (SIGTERM)"
"""The reason a stop asked by SIGTERM gives (``orchestra`` then exits 143)."""


class StopSignal:
    """Asks a run to stop soon.

    Workers waiting for a turn give up, running ones stop before their next model or tool
    step, and long tools may look at ``requested`` or call ``raise_if_requested``.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str = "the run was asked to stop") -> None:
        """Ask the run to stop (safe from a signal handler or any thread)."""
        self.reason = self.reason or reason
        self._event.set()

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a stop; whether one was requested."""
        return self._event.wait(timeout)

    def raise_if_requested(self) -> None:
        """Raise ``RunStopped`` once a stop was asked for (call it between units of work)."""
        if self._event.is_set():
            raise RunStopped(self.reason)

    @contextmanager
    def on_ctrl_c(self) -> Iterator[StopSignal]:
        """While the block runs, the first Ctrl-C (or a SIGTERM) asks the run to stop.

        A second Ctrl-C interrupts as usual. Outside the main thread (which alone gets
        signals) it does nothing.
        """
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.request("interrupted (Ctrl-C)")

        def terminated(signum: int, frame: FrameType | None) -> None:
            # A service manager's stop (systemd, Kubernetes, docker stop): the same clean
            # stop as a Ctrl-C, so the state is kept; there is no second press to wait for.
            self.request(TERMINATED)

        previous = signal.signal(signal.SIGINT, handler)
        before = signal.signal(signal.SIGTERM, terminated)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, before)


class Gate:
    """How many workers of each team run at once in one run, in sync and async code.

    LangGraph's ``max_concurrency`` sizes the one pool that runs a super-step's tasks *and*
    saves each finished task's writes to the checkpointer, first come first served. With
    more workers than slots, a finished worker's writes wait until the queued workers have
    started, and a crash in that window runs it again on resume. So the runner gives
    LangGraph a pool with room for every worker plus the writes, and the workers take
    turns here instead. A worker waiting for its turn gives up when the run is stopped.
    """

    def __init__(self, stop: StopSignal | None = None) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, threading.BoundedSemaphore] = {}
        # By event loop, weakly: a loop's semaphores go with it (``asyncio.run`` per run
        # would otherwise leave one behind per run in a context that outlives them).
        self._tasks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()
        self._stop = stop or StopSignal()

    @contextmanager
    def hold(self, team: str, limit: int) -> Iterator[None]:
        """Hold one of ``limit`` turns of ``team``'s workers while the block runs.

        Raises:
            RunStopped: the run was stopped while waiting.
        """
        with self._lock:
            turns = self._threads.setdefault(team, threading.BoundedSemaphore(limit))
        while not turns.acquire(timeout=_POLL_S):
            self._stop.raise_if_requested()
        try:
            self._stop.raise_if_requested()
            yield
        finally:
            turns.release()

    @asynccontextmanager
    async def ahold(self, team: str, limit: int) -> AsyncIterator[None]:
        """``hold`` for coroutines (one semaphore per event loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            turns = self._tasks.setdefault(loop, {}).setdefault(team, asyncio.Semaphore(limit))
        if turns.locked():
            await self._await_turn(turns)
        else:
            await turns.acquire()  # a free turn is taken without suspending
        try:
            self._stop.raise_if_requested()
            yield
        finally:
            turns.release()

    async def _await_turn(self, turns: asyncio.Semaphore) -> None:
        """Wait for a turn, looking now and then whether the run was stopped.

        Not ``asyncio.wait_for``: before Python 3.12 it can drop an acquisition that
        completes as the timeout fires, and a turn lost that way is lost for the run.
        """
        waiter = asyncio.ensure_future(turns.acquire())
        try:
            while not (await asyncio.wait({waiter}, timeout=_POLL_S))[0]:
                self._stop.raise_if_requested()
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                turns.release()  # granted just as the wait ended: give it back
            else:
                waiter.cancel()
            raise


@dataclass(frozen=True)
class SubtaskView:
    """The subtask a tool call or a check belongs to, as the specialist was given it."""

    id: str
    specialist: str
    instruction: str
    inputs: dict[str, DependencyResult]
    """The outputs of the subtasks it depends on, by subtask id."""


class RunContext(Generic[D]):
    """What the framework hands a tool or check that declares a ``RunData[...]`` parameter."""

    def __init__(
        self,
        deps: D,
        *,
        stop: StopSignal,
        thread_id: str | None = None,
        subtask: SubtaskView | None = None,
    ) -> None:
        self.deps = deps
        """The run's data, as the declared type (restored from JSON after a resume)."""
        self.stop = stop
        """The run's stop signal: a long tool calls ``stop.raise_if_requested()`` now and then."""
        self.thread_id = thread_id
        self.subtask = subtask

    def __repr__(self) -> str:
        return f"RunContext(deps={self.deps!r}, thread_id={self.thread_id!r})"


RunData = Annotated[RunContext[D], InjectedToolArg()]
"""Annotate a tool's or check's parameter with ``RunData[MyDeps]`` to receive the run
context with ``deps`` as ``MyDeps``; LangChain leaves it out of the model's tool schema."""


def deps_data(deps: object) -> Any:
    """``deps`` as JSON data for the checkpoint (a pydantic model, dataclass or JSON value).

    Raises:
        DepsError: ``deps`` holds something that has no JSON form.
    """
    try:
        return to_jsonable_python(deps)
    except PydanticSerializationError as exc:
        raise DepsError(
            f"the run's deps must be JSON data or a pydantic model, to be stored with the "
            f"run and restored on resume: {exc}"
        ) from None


@dataclass(frozen=True)
class TeamContext:
    """Passed as ``context=`` to ``invoke``; read by nodes through ``Runtime[TeamContext]``."""

    model: str | ModelSettings | BaseChatModel | None = None
    """Overrides every role's model for this run (the CLI's ``--model``)."""
    deps: Any = None
    """The application's own data for this run (see ``RunData``); the runner stores it
    with the run and restores it on resume."""

    def __post_init__(self) -> None:
        # Not fields: Studio draws the context's fields as a form, and these are no data.
        object.__setattr__(self, "_stop", StopSignal())
        object.__setattr__(self, "_gate", Gate(self.stop))
        object.__setattr__(self, "_purse", Purse())

    @classmethod
    def stoppable(
        cls,
        stop: StopSignal | None,
        model: str | ModelSettings | BaseChatModel | None = None,
        deps: Any = None,
    ) -> TeamContext:
        """A context whose run stops when ``stop`` is requested (a fresh signal if ``None``)."""
        context = cls(model=model, deps=deps)
        if stop is not None:
            object.__setattr__(context, "_stop", stop)
            object.__setattr__(context, "_gate", Gate(stop))
        return context

    @property
    def gate(self) -> Gate:
        """Turns of the workers of this run: runs sharing a context share their turns."""
        gate: Gate = self.__dict__["_gate"]
        return gate

    @property
    def purse(self) -> Purse:
        """The accounts of this run's teams, which every model call reserves from."""
        purse: Purse = self.__dict__["_purse"]
        return purse

    @property
    def stop(self) -> StopSignal:
        """The run's stop signal, honoured by the workers between their steps."""
        stop: StopSignal = self.__dict__["_stop"]
        return stop


NO_CONTEXT = TeamContext()
"""What nodes see when a graph is invoked without ``context=`` (Studio's runs, say): its
one gate makes such runs of a team in this process share the team's turns."""
