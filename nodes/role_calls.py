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
from orchestra.nodes.reducer import as_state, fallback_partial, ledger_key
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.nodes.steps import answered_before
from orchestra.nodes.synthesizer import SynthesizerOut, synthesis_update
from orchestra.nodes.usage import Spend
from orchestra.state import (
    LedgerEntry,
    ReduceInput,
    TeamContext,
    TeamState,
    merge_ledger,
    totals,
)
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
In = TypeVar("In")


def _bounded(
    node: Node[In, U],
    team: ResolvedTeam,
    key: Callable[[In], str],
    ended: Callable[[In, Runtime[TeamContext], Exception, CallBounds], U],
    update_of: Callable[[U], Any],
    *,
    keep: int,
    state_of: Callable[[In], TeamState],
) -> Node[In, U]:
    """``node``, its calls bounded by the team, a call that ends it answered by ``ended``.

    ``keep``: calls of the team's ``max_model_calls`` kept for later roles; ``state_of``:
    the state the team's budget is read from (a reduction batch carries its own view);
    ``key``: the node's ledger entry.
    """

    def run(given: In, runtime: Runtime[TeamContext]) -> U:
        state = state_of(given)
        with calls_within(team_bounds(state, team.spec, runtime, keep=keep)) as bounds:
            try:
                out = node(given, runtime)
            except Exception as exc:
                if not _ends(exc):
                    raise
                return ended(given, runtime, exc, bounds)
        if isinstance(update := update_of(out), dict):
            _counted(state, update, key(given), bounds)
        return out

    async def arun(given: In, runtime: Runtime[TeamContext]) -> U:
        state = state_of(given)
        with calls_within(team_bounds(state, team.spec, runtime, keep=keep)) as bounds:
            try:
                out = await node.acall(given, runtime)
            except Exception as exc:
                if not _ends(exc):
                    raise
                return ended(given, runtime, exc, bounds)
        if isinstance(update := update_of(out), dict):
            _counted(state, update, key(given), bounds)
        return out

    return Node(node.name or "role", run, arun)


def _team_state(state: TeamState) -> TeamState:
    return state


def bounded_orchestrator(
    node: Node[TeamState, Command[Any]], team: ResolvedTeam
) -> Node[TeamState, Command[Any]]:
    """``node`` (the orchestrator), its calls bounded by the team, their failures routed."""

    def ended(
        state: TeamState, runtime: Runtime[TeamContext], exc: Exception, bounds: CallBounds
    ) -> Command[Any]:
        return planning_ended(team, state, exc, bounds)

    return _bounded(
        node,
        team,
        lambda _: "orchestrator",
        ended,
        lambda route: route.update,
        keep=1,  # a plan keeps one of the team's max_model_calls for the synthesis
        state_of=_team_state,
    )


def bounded_synthesizer(
    node: Node[TeamState, SynthesizerOut], team: ResolvedTeam
) -> Node[TeamState, SynthesizerOut]:
    """``node`` (the synthesizer), its call bounded by the team, its failure answered."""

    def ended(
        state: TeamState, runtime: Runtime[TeamContext], exc: Exception, bounds: CallBounds
    ) -> SynthesizerOut:
        update = synthesis_ended(team, state, exc, bounds)
        emit(runtime, team.spec.name, "synthesis", status=update["status"], reason=update["reason"])
        return update

    def update_of(out: SynthesizerOut) -> Any:
        return out.update if isinstance(out, Command) else out

    return _bounded(
        node, team, lambda _: "synthesizer", ended, update_of, keep=0, state_of=_team_state
    )


def reduction_ended(
    team: ResolvedTeam, batch: ReduceInput, exc: Exception, bounds: CallBounds
) -> dict[str, Any]:
    """A batch's update when its model call could not be made or answered: a fallback.

    The batch's results are listed by summary, so the final synthesis still cites them;
    a budget or cap that is spent is recorded as the synthesizer's would be.
    """
    key = ledger_key(batch)
    entry = _entry(team, "synthesizer", exc, bounds)
    why = _why(exc)
    update: dict[str, Any] = {
        "partials": {batch["part"]: fallback_partial(batch, why)},
        "ledger": {key: entry},
        "model_calls": entry["model_calls"],
        "notes": [f"synthesizer {batch['part']}: fallback partial ({why})"],
    }
    if isinstance(exc, BudgetSpent) and exc.cap is not None:
        update["caps"] = [exc.cap]
    elif isinstance(exc, BudgetSpent):
        update["exhausted"] = [exc.limit]
    return update


def bounded_reducer(
    node: Node[ReduceInput, dict[str, Any]], team: ResolvedTeam
) -> Node[ReduceInput, dict[str, Any]]:
    """``node`` (a reduction batch), its call bounded by the team: one call kept for the end.

    The batch's payload carries the team's spend when the reduction started; the calls in
    flight of the other batches are counted by the run's purse (``orchestra.nodes.charges``).
    """

    def ended(
        batch: ReduceInput, runtime: Runtime[TeamContext], exc: Exception, bounds: CallBounds
    ) -> dict[str, Any]:
        return reduction_ended(team, batch, exc, bounds)

    return _bounded(
        node,
        team,
        ledger_key,
        ended,
        lambda update: update,
        keep=1,  # the final synthesis keeps its call
        state_of=as_state,
    )
