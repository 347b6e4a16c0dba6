"""Charging model calls to the accounts of the team runs they belong to.

Before a model call is made, it reserves one call from every account of its ``chain``
(its team run's, then each ancestor team run's: ``orchestra.state.purse``); a spent
account refuses it with ``BudgetSpent``, which ends the node as a spent budget does.
Once answered, the call's real usage is counted in every one of them.

A team run's account is named after its thread and start (``thread@started_at``); a
child team's after its parent's and the subtask it runs (``parent/s2.0``), which is also
how the run's end closes the accounts of its children with its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from langgraph.config import get_config

from orchestra.nodes.usage import Spend, team_caps
from orchestra.state import (
    AccountLimits,
    CapName,
    Envelope,
    OrchestraError,
    Price,
    Purse,
    TeamSpec,
    TeamState,
    WorkerInput,
    totals,
)
from orchestra.state.purse import Hold, Refused


class BudgetSpent(OrchestraError):
    """A budget or cap ran out before a model call could be made or answered.

    ``limit`` names it for the node's reason (``team max_tokens (...)``, ``timeout_s``);
    ``cap`` is set when it is a domain cap (``max_model_calls``) rather than a budget.
    """

    def __init__(self, limit: str, detail: str, *, cap: CapName | None = None) -> None:
        super().__init__(f"{limit}: {detail}")
        self.limit = limit
        self.cap = cap


def _thread_id() -> str:
    try:
        configurable = get_config().get("configurable", {})
    except RuntimeError:  # a node called on its own
        return "run"
    return str(configurable.get("thread_id") or "run")


def run_key(state: TeamState, started_at: float) -> str:
    """The key of the account of the team run ``state`` belongs to."""
    envelope = state.get("envelope") or Envelope()
    if "account" in envelope:
        return envelope["account"]
    return f"{_thread_id()}@{state.get('started_at', started_at)!r}"


def team_account(state: TeamState, team: TeamSpec, started_at: float) -> AccountLimits:
    """The team run's account: its caps (a parent's share where tighter), its spend so far."""
    spent, caps = totals(state.get("ledger", {})), team_caps(state, team)
    account = AccountLimits(
        key=run_key(state, started_at),
        max_calls=team.limits.max_model_calls,
        tokens=spent["tokens"],
        cost_usd=spent["cost_usd"],
        calls=state.get("model_calls", 0),
    )
    if caps.carved:
        account["carved"] = sorted(caps.carved)
    if caps.max_tokens is not None:
        account["max_tokens"] = caps.max_tokens
    if caps.max_cost_usd is not None:
        account["max_cost_usd"] = caps.max_cost_usd
    return account


def team_chain(
    state: TeamState, team: TeamSpec, started_at: float | None = None
) -> list[AccountLimits]:
    """Every account a call of this team run is charged to: its own, then its ancestors'.

    ``started_at`` names the run before its start is saved (the first plan's clock); once
    the state has ``started_at``, it is read from there.
    """
    handed = (state.get("envelope") or Envelope()).get("chain", [])
    start = started_at if started_at is not None else state.get("started_at", time.time())
    return [team_account(state, team, start), *handed]


def child_account(payload: WorkerInput) -> str:
    """The account key of the child team run that works on ``payload``'s subtask."""
    chain = (payload.get("envelope") or Envelope()).get("chain", [])
    parent = chain[0]["key"] if chain else _thread_id()
    return f"{parent}/{payload['subtask']['id']}.{payload['revision']}"


@dataclass(frozen=True)
class Charge:
    """Where one node's model calls are charged, and how they are priced."""

    purse: Purse
    chain: list[AccountLimits]
    prices: dict[str, Price]
    keep: int = 0
    """Calls each account keeps for later roles (workers and plans keep one for synthesis)."""

    def reserve(self) -> Hold:
        """Reserve one call, or raise ``BudgetSpent`` naming the account that is spent."""
        held = self.purse.reserve(self.chain, self.keep)
        if isinstance(held, Refused):
            raise self._spent(held)
        return held

    def _spent(self, refused: Refused) -> BudgetSpent:
        own = bool(self.chain) and refused.key == self.chain[0]["key"]
        carved = self.chain[0].get("carved", []) if own else []
        mark = " (the parent's share)" if refused.limit in carved else ""
        where = "team" if own else "enclosing team"
        limit = f"{where} {refused.limit}{mark} ({refused.numbers})"
        detail = "no model call may start: it is spent, counting the calls in flight"
        cap: CapName | None = "max_model_calls" if refused.limit == "max_model_calls" else None
        return BudgetSpent(limit, detail, cap=cap)

    def settle(self, hold: Hold, replies: Iterable[Any]) -> None:
        """Count what the call's ``replies`` spent (none: it failed unbilled) and release it."""
        spend = Spend(prices=self.prices)
        for reply in replies:
            spend.record(reply, latency_s=0.0)
        self.purse.settle(hold, calls=spend.calls, tokens=spend.tokens, cost_usd=spend.cost_usd)
