"""Metering: what each model call cost, what a team has left, and each worker's envelope.

Tokens come from the models' usage metadata, cost from the team's price table, latency
from the clock around the call. A worker's envelope is checked *before* each of its
calls, so its spend exceeds its cap by at most the call that crossed it; the team's caps
are checked before every call too, against the run's accounts (``orchestra.nodes.charges``),
counting the calls in flight. A team run as a parent's specialist gets an envelope too
(``TeamState.envelope``): its budget is the tighter of its own and that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage

from orchestra.state import (
    Budget,
    Envelope,
    LedgerEntry,
    Price,
    TeamSpec,
    TeamState,
    price_of,
    totals,
)
from orchestra.state.budget import Role


def _raw(reply: Any) -> BaseMessage | None:
    """The model message in a reply (``with_structured_output(include_raw=True)`` nests it)."""
    if isinstance(reply, BaseMessage):
        return reply
    raw = reply.get("raw") if isinstance(reply, dict) else None
    return raw if isinstance(raw, BaseMessage) else None


@dataclass
class Spend:
    """Running spend of one role or one worker within one node run."""

    prices: dict[str, Price]
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0

    @classmethod
    def for_team(cls, team: TeamSpec) -> Spend:
        """A fresh meter priced with ``team``'s table (``TeamSpec.price_table``)."""
        return cls(prices=team.price_table())

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def record(
        self, reply: Any, started: float | None = None, *, latency_s: float | None = None
    ) -> None:
        """Count one call that started at ``started`` (``time.monotonic``) or took ``latency_s``."""
        self.calls += 1
        if latency_s is None:
            latency_s = time.monotonic() - started if started is not None else 0.0
        self.latency_s += latency_s
        message = _raw(reply)
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        if not usage:
            return
        self.input_tokens += usage["input_tokens"]
        self.output_tokens += usage["output_tokens"]
        name = str(message.response_metadata.get("model_name", "")) if message else ""
        price = price_of(name, self.prices)
        if price is not None:
            self.cost_usd += (
                usage["input_tokens"] * price.input + usage["output_tokens"] * price.output
            ) / 1_000_000

    def entry(self, role: Role, *, revision: int = 0, **extra: str) -> LedgerEntry:
        """This spend as a ledger entry (one attempt)."""
        entry = LedgerEntry(
            role=role,
            model_calls=self.calls,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=round(self.cost_usd, 8),
            latency_s=round(self.latency_s, 4),
            attempts=1,
            revisions=revision,
        )
        entry.update(extra)  # type: ignore[typeddict-item]
        return entry

    def over(self, envelope: Envelope | Budget | None, started_at: float) -> str | None:
        """Which limit of ``envelope`` this spend has reached, if any."""
        if envelope is None:
            return None
        limits = envelope if isinstance(envelope, dict) else _as_envelope(envelope, started_at)
        if "max_tokens" in limits and self.tokens >= limits["max_tokens"]:
            return f"max_tokens ({self.tokens} of {limits['max_tokens']})"
        if "max_cost_usd" in limits and self.cost_usd >= limits["max_cost_usd"]:
            return f"max_cost_usd ({self.cost_usd:.4f} of {limits['max_cost_usd']:g})"
        if "deadline" in limits and time.time() >= limits["deadline"]:
            return "timeout_s (time is up)"
        return None


def _as_envelope(budget: Budget, started_at: float) -> Envelope:
    envelope = Envelope()
    if budget.max_tokens is not None:
        envelope["max_tokens"] = budget.max_tokens
    if budget.max_cost_usd is not None:
        envelope["max_cost_usd"] = budget.max_cost_usd
    if budget.timeout_s is not None:
        envelope["deadline"] = started_at + budget.timeout_s
    return envelope


_N = TypeVar("_N", int, float)


def _tighter(own: _N | None, handed: _N | None) -> tuple[_N | None, bool]:
    """The tighter limit, and whether it is the one handed down."""
    if handed is not None and (own is None or handed < own):
        return handed, True
    return own, False


@dataclass(frozen=True)
class TeamCaps:
    """A team's limits for the whole run: its own budget, tightened by its parent's envelope."""

    max_tokens: int | None
    max_cost_usd: float | None
    deadline: float | None
    """Epoch seconds."""
    started_at: float
    carved: frozenset[str]
    """The limits the parent's envelope set (those tighter than the team's own)."""

    def mark(self, name: str) -> str:
        """`` (the parent's share)`` after a limit the parent's envelope set, else nothing."""
        return " (the parent's share)" if name in self.carved else ""

    def label(self, name: str) -> str:
        """How a limit is named in reasons: ``team max_tokens``, marked when carved."""
        return f"team {name}{self.mark(name)}"


def team_caps(state: TeamState, team: TeamSpec) -> TeamCaps:
    """The team's budget, or the envelope a parent team handed down where that is tighter."""
    started = state.get("started_at", time.time())
    budget, handed = team.budget, state.get("envelope") or Envelope()
    own_deadline = started + budget.timeout_s if budget.timeout_s is not None else None
    tokens, by_tokens = _tighter(budget.max_tokens, handed.get("max_tokens"))
    cost, by_cost = _tighter(budget.max_cost_usd, handed.get("max_cost_usd"))
    deadline, by_deadline = _tighter(own_deadline, handed.get("deadline"))
    carved = {"max_tokens": by_tokens, "max_cost_usd": by_cost, "timeout_s": by_deadline}
    return TeamCaps(tokens, cost, deadline, started, frozenset(k for k, v in carved.items() if v))


def team_left(state: TeamState, team: TeamSpec) -> Envelope:
    """What the team's budget has left, by its ledger and clock (empty: unbounded)."""
    spent, caps, left = totals(state.get("ledger", {})), team_caps(state, team), Envelope()
    if caps.max_tokens is not None:
        left["max_tokens"] = caps.max_tokens - spent["tokens"]
    if caps.max_cost_usd is not None:
        left["max_cost_usd"] = caps.max_cost_usd - spent["cost_usd"]
    if caps.deadline is not None:
        left["deadline"] = caps.deadline
    return left


def team_exhausted(state: TeamState, team: TeamSpec) -> str | None:
    """Which of the team's budgets is spent, if any."""
    spent, caps = totals(state.get("ledger", {})), team_caps(state, team)
    if caps.max_tokens is not None and spent["tokens"] >= caps.max_tokens:
        return caps.label("max_tokens")
    if caps.max_cost_usd is not None and spent["cost_usd"] >= caps.max_cost_usd:
        return caps.label("max_cost_usd")
    if caps.deadline is not None and time.time() >= caps.deadline:
        return caps.label("timeout_s")
    return None


def carve(state: TeamState, team: TeamSpec, own: Budget, shares: int) -> Envelope:
    """A worker's envelope: its own budget narrowed to an equal share of the team's rest."""
    left = team_left(state, team)
    now = time.time()
    envelope = _as_envelope(own, now)
    if "max_tokens" in left:
        share = max(1, left["max_tokens"] // max(shares, 1))
        envelope["max_tokens"] = min(envelope.get("max_tokens", share), share)
    if "max_cost_usd" in left:
        share_cost = left["max_cost_usd"] / max(shares, 1)
        envelope["max_cost_usd"] = min(envelope.get("max_cost_usd", share_cost), share_cost)
    if "deadline" in left:
        envelope["deadline"] = min(envelope.get("deadline", left["deadline"]), left["deadline"])
    return envelope


def budget_lines(state: TeamState, team: TeamSpec) -> str:
    """The budget used, as the orchestrator's prompt shows it (a parent's share is marked)."""
    spent, caps = totals(state.get("ledger", {})), team_caps(state, team)
    lines = [f"model calls: {spent['model_calls']} of {team.limits.max_model_calls}"]
    mark = caps.mark
    if caps.max_tokens is not None:
        lines.append(f"tokens: {spent['tokens']} of {caps.max_tokens}{mark('max_tokens')}")
    if caps.max_cost_usd is not None:
        lines.append(
            f"cost: ${spent['cost_usd']:.4f} of ${caps.max_cost_usd:g}{mark('max_cost_usd')}"
        )
    if caps.deadline is not None:
        used = time.time() - caps.started_at
        timeout = team.budget.timeout_s
        limit = f"{caps.deadline - caps.started_at:.0f}" if mark("timeout_s") else f"{timeout:g}"
        lines.append(f"time: {used:.0f}s of {limit}s{mark('timeout_s')}")
    return "\n".join(lines)
