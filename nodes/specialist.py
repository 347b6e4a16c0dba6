"""A specialist node: runs one subtask's attempt (``orchestra.nodes.worker_loop``).

The attempt is one generator that yields its model and tool steps;
``orchestra.nodes.steps`` drives it in sync or async code. A specialist listed in
``approval.tool_calls`` asks a human before running each reply's tool calls
(``orchestra.nodes.tool_approval``). Every worker's steps are made as durable tasks
(``orchestra.nodes.durable``): resuming after a pause, a kill or a failed step repeats
none of the steps that finished, and the node has no retry policy (each model step
retries its own transient errors, within the worker's deadline).

A model call out of time ends the attempt as a budget does (a partial result,
``budget_exhausted``); a permanent model error (401, 400, 404) fails the subtask with
the provider's message. Either way the spend of the calls answered before is recorded.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.errors import GraphInterrupt
from langgraph.runtime import Runtime

from orchestra.nodes.bindings import Bindings
from orchestra.nodes.call_bounds import CallBounds, calls_within
from orchestra.nodes.charges import BudgetSpent, Charge
from orchestra.nodes.chat_models import resolve_model
from orchestra.nodes.durable import DurableSteps
from orchestra.nodes.events import emit, emit_result
from orchestra.nodes.model_call import OutOfTime, billed_before, from_model
from orchestra.nodes.resolve import ResolvedSpecialist, ResolvedTeam
from orchestra.nodes.retry import backoff_for
from orchestra.nodes.run_data import of_runtime, run_context
from orchestra.nodes.runnable import Node
from orchestra.nodes.steps import Attempt, adrive, drive
from orchestra.nodes.tool_approval import ask, tool_question
from orchestra.nodes.turns import taking_turns
from orchestra.nodes.usage import Spend
from orchestra.nodes.worker_loop import Approved, Calls, WorkerLoop
from orchestra.state import TeamContext, WorkerInput, WorkerResult


def make_specialist(
    worker: ResolvedSpecialist, team: ResolvedTeam
) -> Node[WorkerInput, dict[str, Any]]:
    """The node for one specialist; its input is a ``WorkerInput`` sent by dispatch."""

    def chat(runtime: Runtime[TeamContext]) -> BaseChatModel:
        return resolve_model(
            runtime.context.model,
            worker.spec.model,
            team.spec.model,
            folders=team.spec.import_folders,
        )

    def announce(runtime: Runtime[TeamContext], update: dict[str, Any]) -> dict[str, Any]:
        for result in update["results"].values():
            emit_result(runtime, team.spec.name, result)
        return update

    bindings = Bindings(worker)
    approving = worker.name in team.spec.approval.tool_calls
    steps = DurableSteps()

    def start(
        task: WorkerInput, runtime: Runtime[TeamContext]
    ) -> tuple[WorkerLoop, Attempt[dict[str, Any]], CallBounds]:
        spend = Spend.for_team(team.spec)
        run = run_context(of_runtime(runtime), task["subtask"], task["dependencies"])
        loop = WorkerLoop(worker, task, bindings, team=team.spec.name, spend=spend, run=run)
        approve = partial(ask_human, team=team.spec.name, runtime=runtime)
        bounds = CallBounds(
            deadline=deadline_of(loop),
            limit=deadline_name(loop),
            backoff=backoff_for(team.spec),
            stop=runtime.context.stop,
            charge=worker_charge(task, runtime, team),
        )
        return loop, loop.attempt(chat(runtime), approve if approving else run_all), bounds

    def run(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        loop, attempt, bounds = start(task, runtime)
        with calls_within(bounds):
            try:
                update = drive(attempt, steps.model, steps.tool)
            except Exception as exc:
                update = ended(loop, attempt, exc)
        return announce(runtime, counted(update, bounds))

    async def arun(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        loop, attempt, bounds = start(task, runtime)
        with calls_within(bounds):
            try:
                update = await adrive(attempt, steps.amodel, steps.atool)
            except Exception as exc:
                update = ended(loop, attempt, exc)
        return announce(runtime, counted(update, bounds))

    turns = team.spec.name, team.spec.limits.max_concurrency
    return taking_turns(Node(worker.name, run, arun), *turns)


def worker_charge(
    task: WorkerInput, runtime: Runtime[TeamContext], team: ResolvedTeam
) -> Charge | None:
    """Where a worker's calls are charged: the accounts its dispatch sent (none: a bare node).

    A worker keeps one of each account's ``max_model_calls`` for its team's synthesis.
    """
    chain = (task.get("envelope") or {}).get("chain")
    if not chain:
        return None
    return Charge(runtime.context.purse, chain, team.spec.price_table(), keep=1)


def ended(loop: WorkerLoop, attempt: Attempt[Any], exc: Exception) -> dict[str, Any]:
    """The attempt's update when ``exc`` ended it: a spent budget or cap, a model's refusal."""
    attempt.close()
    if isinstance(exc, OutOfTime):
        loop.exhausted = f"{exc.limit} (time is up)"
        return loop.result()
    if isinstance(exc, BudgetSpent):
        loop.exhausted = exc.limit
        return capped(loop.result()) if exc.cap else loop.result()
    if from_model(exc):
        return failed(loop, exc)
    raise exc


def deadline_of(loop: WorkerLoop) -> float | None:
    """When the worker's time is up: its envelope's deadline, else its own ``timeout_s``."""
    envelope = loop.task.get("envelope")
    if envelope is not None:
        return envelope.get("deadline")
    timeout = loop.worker.spec.budget.timeout_s
    return None if timeout is None else loop.started_at + timeout


def capped(update: dict[str, Any]) -> dict[str, Any]:
    """A partial result stopped by ``max_model_calls``: a cap reached, not a budget spent."""
    update.pop("exhausted", None)
    for result in update["results"].values():
        result["reason"] = result["reason"].replace("budget_exhausted: ", "cap_reached: ", 1)
        result["reason_code"] = "max_model_calls"
    return update | {"caps": ["max_model_calls"]}


def deadline_name(loop: WorkerLoop) -> str:
    """How the worker's deadline is named: its own ``timeout_s``, or the team's when sooner."""
    own = loop.worker.spec.budget.timeout_s
    deadline = deadline_of(loop)
    if deadline is None or (own is not None and deadline >= loop.started_at + own - 0.5):
        return "timeout_s"  # (the envelope's own deadline was set at dispatch, a bit earlier)
    return "team timeout_s"


def counted(update: dict[str, Any], bounds: CallBounds) -> dict[str, Any]:
    """``update`` with its model calls' retried requests and largest prompt in its ledger."""
    for entry in update.get("ledger", {}).values():
        bounds.tally.into(entry)
    return update


def failed(loop: WorkerLoop, exc: Exception) -> dict[str, Any]:
    """The attempt's update when a model call failed for good.

    The subtask fails with the provider's message; the calls answered before are spent,
    and so is a reply that came back before the call failed (one that failed parsing).
    """
    for reply in billed_before(exc):
        loop.spend.record(reply, latency_s=0.0)
    record = loop.task["subtask"]
    result = WorkerResult(
        subtask_id=record["id"],
        specialist=loop.worker.name,
        status="failed",
        revision=loop.task["revision"],
        output=None,
        summary="",
        steps=loop.steps,
        tool_calls=loop.tools_used,
        reason=f"{type(exc).__name__}: {exc}",
        reason_code="error",
    )
    entry = loop.spend.entry(
        "specialist",
        revision=loop.task["revision"],
        specialist=loop.worker.name,
        subtask_id=record["id"],
        status="failed",
    )
    return {
        "model_calls": loop.spend.calls,
        "results": {record["id"]: result},
        "ledger": {record["id"]: entry},
    }


def run_all(loop: WorkerLoop, calls: Calls) -> Approved:
    """Every call runs as the model made it."""
    return [(tool, args, call_id, False) for tool, args, call_id in calls]


def ask_human(
    loop: WorkerLoop, calls: Calls, *, team: str, runtime: Runtime[TeamContext]
) -> Approved:
    """The calls a human lets run (the run pauses until they decide)."""
    pending, sid = loop.pending(calls), loop.task["subtask"]["id"]
    asked = tool_question(
        team=team,
        specialist=loop.worker.name,
        subtask_id=sid,
        revision=loop.task["revision"],
        pending=pending,
    )
    try:
        decision = ask(asked, pending)
    except GraphInterrupt:
        # Only a question still unanswered raises: a replay of answered ones stays quiet.
        emit(runtime, team, "waiting", subtask_id=sid, specialist=loop.worker.name)
        raise
    return loop.decided(calls, *decision)
