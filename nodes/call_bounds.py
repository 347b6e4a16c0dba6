"""What bounds the model calls of the node running now: its deadline, retries and stop.

A node sets them around its work (``calls_within``) and every model step it makes reads
them (``current_bounds``), down to the steps it runs as durable tasks: LangGraph runs a
task with a copy of the node's context variables. The orchestrator and the synthesizer
are bounded by the team's deadline (``team_bounds``), a worker by its envelope's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from langgraph.runtime import Runtime

from orchestra.nodes.retry import Backoff, backoff_for
from orchestra.nodes.usage import team_caps
from orchestra.state import StopSignal, TeamContext, TeamSpec, TeamState


@dataclass
class Tally:
    """What a node's model calls did besides their answered requests (for its ledger)."""

    retries: int = 0
    """Requests that failed (an error, or no reply in time) and were made again."""


@dataclass(frozen=True)
class CallBounds:
    """The limits of one node's model calls."""

    deadline: float | None = None
    """Epoch seconds past which no request is made or awaited (``None``: none)."""
    backoff: Backoff = field(default_factory=Backoff)
    stop: StopSignal | None = None
    """The run's stop signal: a call waiting for its reply gives up once it is requested."""
    limit: str = "timeout_s"
    """How the deadline's budget is named in reasons (e.g. ``team timeout_s``)."""
    tally: Tally = field(default_factory=Tally)

    def left_s(self) -> float | None:
        """Seconds until the deadline (``None``: unbounded)."""
        return None if self.deadline is None else self.deadline - time.time()


_CURRENT: ContextVar[CallBounds | None] = ContextVar("orchestra_call_bounds", default=None)


def current_bounds() -> CallBounds:
    """The bounds the running node set, or defaults (a node called on its own).

    Example:
        >>> current_bounds().deadline is None
        True
    """
    return _CURRENT.get() or CallBounds()


@contextmanager
def calls_within(bounds: CallBounds) -> Iterator[CallBounds]:
    """Bound every model call made while the block runs (in this context) by ``bounds``."""
    token = _CURRENT.set(bounds)
    try:
        yield bounds
    finally:
        _CURRENT.reset(token)


def team_bounds(state: TeamState, team: TeamSpec, runtime: Runtime[TeamContext]) -> CallBounds:
    """The bounds of a team-wide role's calls: the team's deadline, retries and stop."""
    caps = team_caps(state, team)
    return CallBounds(
        deadline=caps.deadline,
        backoff=backoff_for(team),
        stop=runtime.context.stop if runtime.context is not None else None,
        limit=caps.label("timeout_s"),
    )
