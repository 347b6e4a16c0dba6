"""Budgets, prices and the usage ledger's entries: what a team may spend, and what it did.

A budget envelope bounds tokens (input + output, from the models' usage metadata), cost
in USD (from a price table per model name) and wall-clock time. Steps are bounded by the
existing caps: a specialist's ``max_steps`` per subtask, the team's ``max_model_calls``.
Each envelope stops its holder before the next model call once it is spent, so a
worker's spend exceeds its own cap by at most one call; a team's caps are checked before
every call of any of its workers (``orchestra.state.purse``), so its total exceeds them
by at most the calls in flight.
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict


class Budget(BaseModel):
    """An envelope; ``None`` fields are unbounded."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: Annotated[int, Field(ge=1)] | None = None
    """Input plus output tokens."""
    max_cost_usd: Annotated[float, Field(gt=0)] | None = None
    """Dollars, priced with the team's price table."""
    timeout_s: Annotated[float, Field(gt=0)] | None = None
    """Wall-clock seconds (a team's count from the start of its run)."""


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]


PRICES: dict[str, Price] = {
    # Providers' public list prices per million tokens (standard tier, uncached input, no
    # batch discount), as published in 2025; prices change, so teams override or extend
    # them in ``prices:`` or a model's ``price:``. A name is priced by its longest entry
    # prefix (``gpt-5-mini-2025-08-07`` as ``gpt-5-mini``), so a variant priced apart from
    # its family (``-pro``) needs an entry of its own.
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "gpt-5": Price(input=1.25, output=10.00),
    "gpt-5-mini": Price(input=0.25, output=2.00),
    "gpt-5-nano": Price(input=0.05, output=0.40),
    "gpt-5-pro": Price(input=15.00, output=120.00),
    "o3": Price(input=2.00, output=8.00),
    "o3-mini": Price(input=1.10, output=4.40),
    "o3-pro": Price(input=20.00, output=80.00),
    "o4-mini": Price(input=1.10, output=4.40),
    "claude-sonnet-4": Price(input=3.00, output=15.00),  # 4 and 4.5
    "claude-3-7-sonnet": Price(input=3.00, output=15.00),
    "claude-haiku-4-5": Price(input=1.00, output=5.00),
    "claude-3-5-haiku": Price(input=0.80, output=4.00),
    "claude-opus-4": Price(input=15.00, output=75.00),  # 4 and 4.1
    "claude-opus-4-5": Price(input=5.00, output=25.00),
    "orchestra-offline": Price(input=0.0, output=0.0),
    "orchestra-scripted": Price(input=0.0, output=0.0),
}


def price_of(model_name: str, table: dict[str, Price]) -> Price | None:
    """The price of ``model_name``: an exact entry, else the longest entry it starts with.

    So ``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``.
    """
    if model_name in table:
        return table[model_name]
    matches = [key for key in table if model_name.startswith(key)]
    return table[max(matches, key=len)] if matches else None


Role = Literal["orchestrator", "specialist", "synthesizer"]


class LedgerEntry(TypedDict):
    """What one role, or one worker on one subtask, spent (summed over its runs)."""

    role: Role
    specialist: NotRequired[str]
    subtask_id: NotRequired[str]
    model_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    """Seconds spent waiting for models."""
    attempts: int
    """Times this role or worker ran (a revision is another attempt)."""
    revisions: int
    status: NotRequired[str]
    retries: NotRequired[int]
    """Requests that failed (a transient error, or no reply in time) and were made again;
    nothing was billed for them. ``model_calls`` counts the answered ones."""
    prompt_tokens: NotRequired[int]
    """The largest prompt of its calls, as estimated before sending (``orchestra.nodes.tokens``)."""
    context_window: NotRequired[int]
    """The window of the model that prompt was measured against."""
    largest_input_tokens: NotRequired[int]
    """The largest input tokens a reply of its calls reported (what the provider counted)."""
    reserved_calls: NotRequired[int]
    """Calls reserved from the team's accounts before sending (answered, failed or cut off:
    ``model_calls`` counts the answered ones)."""
    reserved_tokens: NotRequired[int]
    """Tokens those reservations held while in flight (the expected spend; the real one is
    ``input_tokens + output_tokens``)."""


_SUMMED = ("model_calls", "input_tokens", "output_tokens", "cost_usd", "latency_s", "attempts")


def merge_ledger(
    left: dict[str, LedgerEntry], right: dict[str, LedgerEntry]
) -> dict[str, LedgerEntry]:
    """Add spend entry by entry; the latest revision and status win."""
    merged = dict(left)
    for key, entry in right.items():
        if key not in merged:
            merged[key] = entry
            continue
        combined = LedgerEntry(**merged[key])
        for name in _SUMMED:
            combined[name] = combined[name] + entry[name]  # type: ignore[literal-required]
        combined["revisions"] = max(combined["revisions"], entry["revisions"])
        for extra in ("retries", "reserved_calls", "reserved_tokens"):
            if extra in entry:
                combined[extra] = combined.get(extra, 0) + entry[extra]
        if entry.get("prompt_tokens", -1) > combined.get("prompt_tokens", -1):
            combined["prompt_tokens"] = entry["prompt_tokens"]
            if "context_window" in entry:
                combined["context_window"] = entry["context_window"]
        if entry.get("largest_input_tokens", 0) > combined.get("largest_input_tokens", 0):
            combined["largest_input_tokens"] = entry["largest_input_tokens"]
        if "status" in entry:
            combined["status"] = entry["status"]
        merged[key] = combined
    return merged


def status_entry(subtask_id: str, specialist: str, status: str, revision: int = 0) -> LedgerEntry:
    """A spend-free entry that records where a worker's subtask stands."""
    return LedgerEntry(
        role="specialist",
        specialist=specialist,
        subtask_id=subtask_id,
        model_calls=0,
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
        latency_s=0.0,
        attempts=0,
        revisions=revision,
        status=status,
    )


class Totals(TypedDict):
    """The whole run's spend."""

    model_calls: int
    input_tokens: int
    output_tokens: int
    tokens: int
    cost_usd: float
    latency_s: float
    reserved_calls: NotRequired[int]
    """Calls reserved before sending (when the run's calls were charged to accounts)."""
    reserved_tokens: NotRequired[int]


def totals(ledger: dict[str, LedgerEntry]) -> Totals:
    """Sum the ledger."""
    entries = list(ledger.values())
    inputs = sum(e["input_tokens"] for e in entries)
    outputs = sum(e["output_tokens"] for e in entries)
    found = Totals(
        model_calls=sum(e["model_calls"] for e in entries),
        input_tokens=inputs,
        output_tokens=outputs,
        tokens=inputs + outputs,
        cost_usd=round(sum(e["cost_usd"] for e in entries), 6),
        latency_s=round(sum(e["latency_s"] for e in entries), 3),
    )
    if any("reserved_calls" in e for e in entries):
        found["reserved_calls"] = sum(e.get("reserved_calls", 0) for e in entries)
        found["reserved_tokens"] = sum(e.get("reserved_tokens", 0) for e in entries)
    return found


class LargestPrompt(TypedDict):
    """The largest prompt of a run: whose it was, its size and its model's window."""

    who: str
    """The ledger key: ``orchestrator``, ``synthesizer`` or a subtask id."""
    prompt_tokens: int
    """Estimated before sending."""
    context_window: NotRequired[int]
    input_tokens: NotRequired[int]
    """The largest input tokens any reply of the run reported (the provider's count)."""


def largest_prompt(ledger: dict[str, LedgerEntry]) -> LargestPrompt | None:
    """The run's largest measured prompt (``None``: no call was measured, e.g. offline)."""
    measured = [(key, e) for key, e in ledger.items() if "prompt_tokens" in e]
    if not measured:
        return None
    key, entry = max(measured, key=lambda item: item[1]["prompt_tokens"])
    found = LargestPrompt(who=key, prompt_tokens=entry["prompt_tokens"])
    if "context_window" in entry:
        found["context_window"] = entry["context_window"]
    inputs = max((e.get("largest_input_tokens", 0) for e in ledger.values()), default=0)
    if inputs:
        found["input_tokens"] = inputs
    return found


Exhausted = Annotated[list[str], operator.add]
"""Budget limits that stopped some work, e.g. ``max_tokens`` or ``team.max_cost_usd``."""


class AccountLimits(TypedDict):
    """A team run's account as a worker carries it: its caps and its spend when sent.

    ``key`` names the team run (``orchestra.state.purse``); the spend fields are what the
    team's ledger held at dispatch, so an account opened by the worker starts from them.
    """

    key: str
    max_tokens: NotRequired[int]
    max_cost_usd: NotRequired[float]
    max_calls: NotRequired[int]
    tokens: NotRequired[int]
    cost_usd: NotRequired[float]
    calls: NotRequired[int]
    carved: NotRequired[list[str]]
    """The caps a parent team's share set (tighter than the team's own), for reasons."""


class Envelope(TypedDict):
    """What one worker may spend on one subtask.

    Its own budget, narrowed to its share of what the team had left at dispatch; and the
    accounts every one of its model calls reserves from (``chain``: its team's run, then
    each ancestor team's), so the team's total is checked before each call, not only at
    dispatch. A child team's envelope also names the child run's own account
    (``account``).
    """

    max_tokens: NotRequired[int]
    max_cost_usd: NotRequired[float]
    deadline: NotRequired[float]
    """Epoch seconds after which it must stop."""
    chain: NotRequired[list[AccountLimits]]
    account: NotRequired[str]
