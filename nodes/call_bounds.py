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

from orchestra.nodes.charges import Charge, team_chain
from orchestra.nodes.retry import Backoff, backoff_for
from orchestra.nodes.usage import team_caps
from orchestra.state import LedgerEntry, StopSignal, TeamContext, TeamSpec, TeamState


@dataclass
class Tally:
    """What a node's model calls did besides their answered requests (for its ledger).

    Counted as the calls are made: a step replayed from a checkpoint on resume (a durable
    task's stored reply) is not made again, so it adds no retries and no prompt here.
    """

    retries: int = 0
    """Requests that failed (an error, or no reply in time) and were made again."""
    prompt_tokens: int = 0
    """The largest prompt measured before a call (0: none measured)."""
    context_window: int = 0
    """The window of the model that prompt was measured against."""
    largest_input_tokens: int = 0
    """The largest input tokens a measured call's reply reported (the provider's count)."""
    reserved_calls: int = 0
    """Calls reserved from the team's accounts before they were sent (``Charge``)."""
    reserved_tokens: int = 0
    """Tokens those reservations held: each the account's mean call so far."""

    def measured(self, tokens: int, window: int) -> None:
        """Note one call's prompt measured against ``window``."""
        if tokens >= self.prompt_tokens:
            self.prompt_tokens, self.context_window = tokens, window

    def replied(self, input_tokens: int) -> None:
        """Note the input tokens a measured call's provider counted."""
        self.largest_input_tokens = max(self.largest_input_tokens, input_tokens)

    def into(self, entry: LedgerEntry) -> LedgerEntry:
        """``entry`` with these calls' retries and largest prompt added."""
        if self.retries:
            entry["retries"] = entry.get("retries", 0) + self.retries
        if self.prompt_tokens and self.prompt_tokens >= entry.get("prompt_tokens", 0):
            entry["prompt_tokens"] = self.prompt_tokens
            entry["context_window"] = self.context_window
        if self.largest_input_tokens > entry.get("largest_input_tokens", 0):
            entry["largest_input_tokens"] = self.largest_input_tokens
        if self.reserved_calls:
            entry["reserved_calls"] = entry.get("reserved_calls", 0) + self.reserved_calls
            entry["reserved_tokens"] = entry.get("reserved_tokens", 0) + self.reserved_tokens
        return entry


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
    charge: Charge | None = None
    """The accounts each call reserves from first (``None``: no team's, e.g. a bare node)."""
    started_at: float | None = None
    """When the team run started (the first node's clock, before ``started_at`` is saved)."""

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


def team_bounds(
    state: TeamState, team: TeamSpec, runtime: Runtime[TeamContext], *, keep: int = 1
) -> CallBounds:
    """The bounds of a team-wide role's calls: the team's deadline, accounts, retries, stop.

    ``keep``: calls left in the team's ``max_model_calls`` for later roles (the plan keeps
    one for the synthesis; the synthesis keeps none).
    """
    caps = team_caps(state, team)
    context = runtime.context
    charge = None
    if context is not None:
        chain = team_chain(state, team, caps.started_at)
        charge = Charge(context.purse, chain, team.price_table(), keep)
    return CallBounds(
        deadline=caps.deadline,
        backoff=backoff_for(team),
        stop=context.stop if context is not None else None,
        limit=caps.label("timeout_s"),
        charge=charge,
        started_at=caps.started_at,
    )
