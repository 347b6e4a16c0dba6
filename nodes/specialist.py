"""A specialist node: runs one subtask's attempt (``orchestra.nodes.worker_loop``).

The attempt is one generator that yields its model and tool steps;
``orchestra.nodes.steps`` drives it in sync or async code. A specialist listed in
``approval.tool_calls`` asks a human before running each reply's tool calls
(``orchestra.nodes.tool_approval``), and its steps are made as durable tasks
(``orchestra.nodes.durable``) so that resuming after the pause repeats none of them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.errors import GraphInterrupt
from langgraph.runtime import Runtime

from orchestra.nodes.bindings import Bindings
from orchestra.nodes.chat_models import resolve_model
from orchestra.nodes.durable import DurableSteps
from orchestra.nodes.events import emit, emit_result
from orchestra.nodes.resolve import ResolvedSpecialist, ResolvedTeam
from orchestra.nodes.retry import retry_policy_for
from orchestra.nodes.run_data import of_runtime, run_context
from orchestra.nodes.runnable import Node
from orchestra.nodes.steps import (
    Attempt,
    adrive,
    amodel_directly,
    atool_directly,
    drive,
    model_directly,
    tool_directly,
)
from orchestra.nodes.tool_approval import ask, tool_question
from orchestra.nodes.turns import taking_turns
from orchestra.nodes.usage import Spend
from orchestra.nodes.worker_loop import Approved, Calls, WorkerLoop
from orchestra.state import TeamContext, WorkerInput


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
    if approving:
        durable = DurableSteps(retry_policy_for(team.spec))
        made, amade = (durable.model, durable.tool), (durable.amodel, durable.atool)
    else:
        made, amade = (model_directly, tool_directly), (amodel_directly, atool_directly)

    def attempt(task: WorkerInput, runtime: Runtime[TeamContext]) -> Attempt[dict[str, Any]]:
        spend = Spend.for_team(team.spec)
        run = run_context(of_runtime(runtime), task["subtask"], task["dependencies"])
        loop = WorkerLoop(worker, task, bindings, team=team.spec.name, spend=spend, run=run)
        approve = partial(ask_human, team=team.spec.name, runtime=runtime)
        return loop.attempt(chat(runtime), approve if approving else run_all)

    def run(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return announce(runtime, drive(attempt(task, runtime), *made))

    async def arun(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return announce(runtime, await adrive(attempt(task, runtime), *amade))

    turns = team.spec.name, team.spec.limits.max_concurrency
    return taking_turns(Node(worker.name, run, arun), *turns)


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
