"""The orchestrator: plans a round of subtasks, or decides the task is done.

Round 1 plans from the task and the roster. Later calls see every result so far and
plan only what is missing; an empty plan ends the work. A plan proposed past
``max_rounds`` is not run: the run goes to synthesis with the cap named.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command

from nodes.models import resolve_model
from nodes.plan_check import check_plan
from nodes.prompts import ORCHESTRATOR_PROMPT, orchestrator_message, result_block
from nodes.resolve import ResolvedTeam
from nodes.runnable import Node
from state import Plan, TeamContext, TeamState, plan_model

OrchestratorRoute = Command[Literal["dispatch", "synthesizer"]]


def make_orchestrator(team: ResolvedTeam) -> Node[TeamState, OrchestratorRoute]:
    """The orchestrator node for ``team``."""
    spec = team.spec
    schema = plan_model(spec.specialist_names)

    def messages(state: TeamState) -> list[BaseMessage]:
        round_no = state.get("round", 0) + 1
        results = state["results"]
        outcomes = [result_block(r, results.get(r["id"])) for r in state["plan"]]
        text = orchestrator_message(
            state["task"],
            spec.specialists,
            round_no=round_no,
            max_rounds=spec.limits.max_rounds,
            max_subtasks=spec.limits.max_workers_per_round,
            outcomes=outcomes,
        )
        return [SystemMessage(spec.orchestrator.prompt or ORCHESTRATOR_PROMPT), HumanMessage(text)]

    def model(runtime: Runtime[TeamContext]) -> Any:
        chat = resolve_model(runtime.context.model, spec.orchestrator.model, spec.model)
        return chat.with_structured_output(schema, include_raw=True)

    def decide(state: TeamState, reply: dict[str, Any]) -> OrchestratorRoute:
        round_no = state.get("round", 0) + 1
        plan = reply.get("parsed")
        if not isinstance(plan, Plan):
            error = reply.get("parsing_error") or "no plan in the reply"
            note = f"round {round_no}: the orchestrator's reply was not a valid plan: {error}"
            update: dict[str, Any] = {"model_calls": 1, "notes": [note]}
            if round_no == 1:
                update |= {"status": "failed", "reason": "invalid_plan"}
            return Command(update=update, goto="synthesizer")
        checked = check_plan(
            plan.subtasks,
            specialists=spec.specialist_names,
            existing=[r["id"] for r in state["plan"]],
            round_no=round_no,
            max_subtasks=spec.limits.max_workers_per_round,
        )
        update = {"model_calls": 1, "notes": checked.notes, "rationale": plan.rationale}
        if checked.capped:
            update["caps"] = ["max_workers_per_round"]
        if not checked.subtasks:
            return Command(update=update, goto="synthesizer")
        if round_no > spec.limits.max_rounds:
            ids = [s["id"] for s in checked.subtasks]
            update["notes"] = [
                *checked.notes,
                f"max_rounds ({spec.limits.max_rounds}) reached: proposed subtasks {ids} not run",
            ]
            update["caps"] = [*update.get("caps", []), "max_rounds"]
            return Command(update=update, goto="synthesizer")
        update |= {"plan": checked.subtasks, "round": round_no}
        return Command(update=update, goto="dispatch")

    def run(state: TeamState, runtime: Runtime[TeamContext]) -> OrchestratorRoute:
        return decide(state, model(runtime).invoke(messages(state)))

    async def arun(state: TeamState, runtime: Runtime[TeamContext]) -> OrchestratorRoute:
        return decide(state, await model(runtime).ainvoke(messages(state)))

    return Node("orchestrator", run, arun)
