"""The orchestrator's and synthesizer's model calls: bounded by the team, ended by name.

These nodes make their calls within the team's deadline (``orchestra.nodes.call_bounds``).
Their model calls retry transient errors themselves, so the nodes have no retry policy;
what is left to decide here is how a call that could not be answered ends the run:

- out of time (``OutOfTime``) or out of budget (``BudgetSpent``: the team's tokens or
  cost, counting the calls in flight): planning ends and the answer is composed from the
  accepted results without a model call (``budget_exhausted``); out of ``max_model_calls``
  the same, ending ``cap_reached``;
- a permanent model error (a 401, 400 or 404; ``from_model``): the run fails with the
  provider's message (``failed`` / ``model_error``), never ``interrupted``.

Either way the spend of the calls answered before is recorded in the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from langgraph.types import Command

from orchestra.nodes.call_bounds import CallBounds, calls_within, team_bounds
from orchestra.nodes.charges import BudgetSpent
from orchestra.nodes.events import emit
from orchestra.nodes.model_call import billed_before, from_model
from orchestra.nodes.outcome import decide, failure
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.nodes.steps import answered_before
from orchestra.nodes.synthesizer import synthesis_update
from orchestra.nodes.usage import Spend
from orchestra.state import LedgerEntry, TeamContext, TeamState, merge_ledger, totals
from orchestra.state.budget import Role


def _entry(team: ResolvedTeam, role: Role, exc: Exception, bounds: CallBounds) -> LedgerEntry:
    """The spend of the calls answered before ``exc`` ended the node."""
    spend = Spend.for_team(team.spec)
    for step in answered_before(exc):
        spend.record(step["reply"], latency_s=step["latency_s"])
    for reply in billed_before(exc):  # came back, then failed (parsing) inside the call
        spend.record(reply, latency_s=0.0)
    return bounds.tally.into(spend.entry(role))


def _counted(state: TeamState, update: dict[str, Any], role: str, bounds: CallBounds) -> None:
    entry = update.get("ledger", {}).get(role)
    if entry is None:
        return
    bounds.tally.into(entry)
    if "usage" in update:  # the totals were summed before the tally was added
        update["usage"] = totals(merge_ledger(state.get("ledger", {}), {role: entry}))


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def planning_ended(
    team: ResolvedTeam, state: TeamState, exc: Exception, bounds: CallBounds
) -> Command[Any]:
    """The orchestrator's route when its model call could not be answered."""
    update: dict[str, Any] = {"ledger": {"orchestrator": _entry(team, "orchestrator", exc, bounds)}}
    update["model_calls"] = update["ledger"]["orchestrator"]["model_calls"]
    if "started_at" not in state:
        update["started_at"] = bounds.started_at or time.time()
    if isinstance(exc, BudgetSpent) and exc.cap is not None:
        update |= {"caps": [exc.cap], "notes": [f"{exc.limit} is reached: {exc}"]}
    elif isinstance(exc, BudgetSpent):
        update |= {"exhausted": [exc.limit], "notes": [f"{exc.limit} is spent: {exc}"]}
    else:
        why = f"the orchestrator's model failed: {_why(exc)}"
        update |= {"failure": failure("model_error", why), "notes": [why]}
    return Command(update=update, goto="synthesizer")


def synthesis_ended(
    team: ResolvedTeam, state: TeamState, exc: Exception, bounds: CallBounds
) -> dict[str, Any]:
    """The synthesizer's update when its model call could not be answered.

    The answer is the accepted results, composed without a model.
    """
    entry = _entry(team, "synthesizer", exc, bounds)
    if isinstance(exc, BudgetSpent) and exc.cap is not None:
        update = synthesis_update(state, {}, spent=exc.limit)
        update |= decide({**state, "caps": [*state["caps"], exc.cap]})
        update["caps"] = [exc.cap]
    elif isinstance(exc, BudgetSpent):
        update = synthesis_update(state, {}, spent=exc.limit)
        update["exhausted"] = [exc.limit]
    else:
        why = f"the synthesizer's model failed: {_why(exc)}"
        found = state.get("failure") or failure("model_error", why)
        update = synthesis_update({**state, "failure": found}, {"parsing_error": why})
        update |= {"failure": found, "notes": [why]}
    ledger = {"synthesizer": entry}
    usage = totals(merge_ledger(state.get("ledger", {}), ledger))
    return update | {"model_calls": entry["model_calls"], "ledger": ledger, "usage": usage}


def _ends(exc: Exception) -> bool:
    return isinstance(exc, BudgetSpent) or from_model(exc)


U = TypeVar("U")


def _bounded(
    node: Node[TeamState, U],
    team: ResolvedTeam,
    role: Role,
    ended: Callable[[TeamState, Runtime[TeamContext], Exception, CallBounds], U],
    update_of: Callable[[U], Any],
) -> Node[TeamState, U]:
    """``node``, its calls bounded by the team, a call that ends it answered by ``ended``.

    A plan keeps one of the team's ``max_model_calls`` for the synthesis; it keeps none.
    """
    keep = 0 if role == "synthesizer" else 1

    def run(state: TeamState, runtime: Runtime[TeamContext]) -> U:
        with calls_within(team_bounds(state, team.spec, runtime, keep=keep)) as bounds:
            try:
                out = node(state, runtime)
            except Exception as exc:
                if not _ends(exc):
                    raise
                return ended(state, runtime, exc, bounds)
        if isinstance(update := update_of(out), dict):
            _counted(state, update, role, bounds)
        return out

    async def arun(state: TeamState, runtime: Runtime[TeamContext]) -> U:
        with calls_within(team_bounds(state, team.spec, runtime, keep=keep)) as bounds:
            try:
                out = await node.acall(state, runtime)
            except Exception as exc:
                if not _ends(exc):
                    raise
                return ended(state, runtime, exc, bounds)
        if isinstance(update := update_of(out), dict):
            _counted(state, update, role, bounds)
        return out

    return Node(node.name or role, run, arun)


def bounded_orchestrator(
    node: Node[TeamState, Command[Any]], team: ResolvedTeam
) -> Node[TeamState, Command[Any]]:
    """``node`` (the orchestrator), its calls bounded by the team, their failures routed."""

    def ended(
        state: TeamState, runtime: Runtime[TeamContext], exc: Exception, bounds: CallBounds
    ) -> Command[Any]:
        return planning_ended(team, state, exc, bounds)

    return _bounded(node, team, "orchestrator", ended, lambda route: route.update)


def bounded_synthesizer(
    node: Node[TeamState, dict[str, Any]], team: ResolvedTeam
) -> Node[TeamState, dict[str, Any]]:
    """``node`` (the synthesizer), its call bounded by the team, its failure answered."""

    def ended(
        state: TeamState, runtime: Runtime[TeamContext], exc: Exception, bounds: CallBounds
    ) -> dict[str, Any]:
        update = synthesis_ended(team, state, exc, bounds)
        emit(runtime, team.spec.name, "synthesis", status=update["status"], reason=update["reason"])
        return update

    return _bounded(node, team, "synthesizer", ended, lambda update: update)
