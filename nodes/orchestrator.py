"""The orchestrator: plans a round of subtasks, or decides the task is done.

Round 1 plans from the task and the roster. Later calls see every result so far and
plan only what is missing; an empty plan ends the work. A plan with problems (unknown
specialists, cycles, repeats of answered subtasks, no plan at all) goes back with them
for a corrected one, up to ``max_plan_revisions``; so does a reply that could not be
read as a plan (cut off, refused, prose: ``orchestra.nodes.structured``), shown the
reply it corrects. Every verdict is recorded; no valid first plan fails the run
(``invalid_plan``). A plan
proposed past ``max_rounds`` is not run. Planning stops without a model call when the
team's budget is spent or the last round produced no new accepted result. With
``orchestrator.review: false`` there is no review: the first plan is the only one.
A team's code planner (``orchestrator.planner``) plans in place of the model.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command

from orchestra.nodes.call_bounds import current_bounds
from orchestra.nodes.call_info import CallInfo, result_info, roster_of, with_call
from orchestra.nodes.chat_models import PerModel, call_settings, resolve_model
from orchestra.nodes.code_plan import code_plan
from orchestra.nodes.events import emit
from orchestra.nodes.outcome import failure
from orchestra.nodes.plan_pages import plan_page
from orchestra.nodes.plan_seam import PlanReview, made_progress, review_plan
from orchestra.nodes.prompts import (
    ORCHESTRATOR_PROMPT,
    orchestrator_message,
    plan_problems,
    plan_rejected,
    result_block,
)
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.run_data import of_runtime
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
from orchestra.nodes.structured import StructuredModel, asking, correction
from orchestra.nodes.synthesis_view import fit_blocks, no_floor
from orchestra.nodes.usage import Spend, budget_lines, team_exhausted, team_left
from orchestra.state import PendingPlan, Plan, TeamContext, TeamState, Verdict, plan_model

OrchestratorRoute = Command[Literal["dispatch", "synthesizer", "approve_plan"]]


class Orchestrator:
    """The orchestrator's steps; ``node`` wires them into a graph node."""

    def __init__(self, team: ResolvedTeam) -> None:
        self.spec = team.spec
        self.planner = team.planner
        self.schema = plan_model(team.spec.specialist_names)
        self.structured = PerModel(lambda chat: StructuredModel(chat, self.schema))

    def stop_early(self, state: TeamState) -> OrchestratorRoute | None:
        """End planning without a model call: budget spent, or no progress."""
        if why := team_exhausted(state, self.spec):
            note = f"{why} is spent: no further planning"
            return Command(update={"exhausted": [why], "notes": [note]}, goto="synthesizer")
        last = state.get("round", 0)
        if last >= 2 and not made_progress(state["plan"], state["results"], last):
            reason = f"round {last} produced no new accepted result"
            return Command(update={"no_progress": reason, "notes": [reason]}, goto="synthesizer")
        return None

    def sized_messages(
        self, state: TeamState, page: int, chat: Any
    ) -> tuple[list[BaseMessage], list[str]]:
        """``messages``, the results shortened largest first to fit ``chat``'s window.

        Returns the messages and the note of what was shortened (none: all whole).
        """
        results = state["results"]
        blocks = {r["id"]: result_block(r, results.get(r["id"])) for r in state["plan"]}
        if not blocks or not isinstance(chat, StructuredModel):
            return self.messages(state, page), []
        fitted = fit_blocks(
            chat, lambda b: self.messages(state, page, b), blocks, "orchestrator", no_floor
        )
        return self.messages(state, page, fitted.blocks), [fitted.note] if fitted.note else []

    def messages(
        self, state: TeamState, page: int, blocks: dict[str, str] | None = None
    ) -> list[BaseMessage]:
        """System prompt, then task, roster, limits, budget used and results so far.

        ``blocks``: the results' blocks by subtask id, when shortened to fit.
        """
        spec, results = self.spec, state["results"]
        if blocks is None:
            blocks = {r["id"]: result_block(r, results.get(r["id"])) for r in state["plan"]}
        text = orchestrator_message(
            state["task"],
            spec.specialists,
            round_no=state.get("round", 0) + 1,
            max_rounds=spec.limits.max_rounds if spec.orchestrator.review else 1,
            max_subtasks=page,
            outcomes=list(blocks.values()),
            budget=budget_lines(state, spec),
        )
        if rejected := state.get("plan_feedback"):
            text += "\n" + plan_rejected(rejected)
        return [SystemMessage(spec.orchestrator.prompt or ORCHESTRATOR_PROMPT), HumanMessage(text)]

    def call_info(self, state: TeamState, page: int) -> CallInfo:
        """What ``messages`` say, as data for the model call's metadata."""
        spec, results = self.spec, state["results"]
        return CallInfo(
            role="orchestrator",
            team=spec.name,
            task=state["task"],
            round=state.get("round", 0) + 1,
            feedback=state.get("plan_feedback") or None,
            output_tool=Plan.__name__,
            max_rounds=spec.limits.max_rounds if spec.orchestrator.review else 1,
            max_subtasks=page,
            roster=roster_of(spec.specialists),
            results=tuple(result_info(r, results.get(r["id"])) for r in state["plan"]),
        )

    def model(self, runtime: Runtime[TeamContext]) -> tuple[Any, int]:
        """The orchestrator's model, answering with a typed ``Plan``, and its plan page.

        The page is how many subtasks one reply may hold (``orchestra.nodes.plan_pages``).
        """
        spec = self.spec
        chat = resolve_model(
            runtime.context.model,
            spec.orchestrator.model,
            spec.model,
            folders=spec.import_folders,
        )
        page = plan_page(call_settings(chat), spec.limits.max_workers_per_round)
        return self.structured(chat), page

    def judge(
        self, state: TeamState, reply: dict[str, Any], attempt: int, page: int
    ) -> tuple[PlanReview, Verdict]:
        """The plan seam's verdict on one reply."""
        plan = reply.get("parsed")
        round_no = state.get("round", 0) + 1
        review = review_plan(
            plan if isinstance(plan, Plan) else None,
            reply.get("parsing_error") or "no plan in the reply",
            team=self.spec,
            earlier=state["plan"],
            results=state["results"],
            round_no=round_no,
            max_subtasks=page,
        )
        if isinstance(plan, Plan) and review.rationale is None:
            review.rationale = plan.rationale
        verdict = Verdict(
            subtask_id=f"plan:r{round_no}",
            revision=attempt,
            accepted=not review.problems,
            feedback="; ".join(review.problems),
        )
        return review, verdict

    def retry_with(self, state: TeamState, verdict: Verdict, spend: Spend, attempt: int) -> bool:
        """Whether to send the plan back for correction."""
        if verdict["accepted"] or attempt >= self.spec.limits.max_plan_revisions:
            return False
        return spend.over(team_left(state, self.spec), time.time()) is None

    def decide(
        self, state: TeamState, review: PlanReview, spend: Spend, verdicts: list[Verdict]
    ) -> OrchestratorRoute:
        """Dispatch the reviewed plan, or end planning."""
        round_no, checked, limits = state.get("round", 0) + 1, review.checked, self.spec.limits
        update: dict[str, Any] = {
            "model_calls": spend.calls,
            "verdicts": verdicts,
            "notes": list(checked.notes),
            "ledger": {"orchestrator": spend.entry("orchestrator", revision=len(verdicts) - 1)},
        }
        if "started_at" not in state:
            # The clock the plan's calls were charged under (the run's account is named by it).
            update["started_at"] = current_bounds().started_at or time.time()
        if state.get("plan_feedback"):
            update["plan_feedback"] = None  # heard
        if review.rationale is None:
            update["notes"] += [f"round {round_no}: {p}" for p in review.problems]
            if round_no == 1:
                tries = len(verdicts)
                last = review.problems[-1] if review.problems else "no plan"
                why = f"no valid plan after {tries} attempt(s): {last}"
                update["failure"] = failure("invalid_plan", why)
            elif len(verdicts) > limits.max_plan_revisions:
                update["caps"] = ["max_plan_revisions"]  # the work so far is answered
            return Command(update=update, goto="synthesizer")
        update["rationale"] = review.rationale
        update["notes"] += review.refusals
        if checked.capped:
            update["caps"] = ["max_workers_per_round"]
        if not checked.subtasks:
            if review.repeats:
                update["no_progress"] = "every proposed subtask repeated an answered one"
            elif round_no == 1:
                update["failure"] = failure("empty_plan")
            return Command(update=update, goto="synthesizer")
        if round_no > limits.max_rounds:
            ids = [s["id"] for s in checked.subtasks]
            update["notes"].append(
                f"max_rounds ({limits.max_rounds}) reached: proposed subtasks {ids} not run"
            )
            update["caps"] = [*update.get("caps", []), "max_rounds"]
            return Command(update=update, goto="synthesizer")
        if self.spec.approval.plan:
            update["pending_plan"] = PendingPlan(
                round=round_no, rationale=review.rationale, subtasks=checked.subtasks
            )
            return Command(update=update, goto="approve_plan")
        update |= {"plan": checked.subtasks, "round": round_no}
        return Command(update=update, goto="dispatch")

    def announce(
        self, route: OrchestratorRoute, runtime: Runtime[TeamContext]
    ) -> OrchestratorRoute:
        """Report a plan made on the progress stream."""
        update = route.update if isinstance(route.update, dict) else {}
        planned = update.get("plan") or (update.get("pending_plan") or {}).get("subtasks")
        if planned:
            emit(
                runtime,
                self.spec.name,
                "plan",
                round=planned[0]["round"],
                subtasks=[r["id"] for r in planned],
            )
        return route

    def planning(self, state: TeamState, chat: Any, page: int) -> Attempt[OrchestratorRoute]:
        """Plan, with corrections: each model call asked of a driver (``orchestra.nodes.steps``)."""
        conversation, notes = self.sized_messages(state, page, chat)
        spend = Spend.for_team(self.spec)
        config = with_call(self.call_info(state, page))
        verdicts: list[Verdict] = []
        for attempt in range(self.spec.limits.max_plan_revisions + 1):
            steps = yield from asking(chat, conversation, config)
            for step in steps:
                spend.record(step["reply"], latency_s=step["latency_s"])
            if len(steps) > 1:
                notes.append(asked_again(steps[0]["reply"]))
            reply = steps[-1]["reply"]
            review, verdict = self.judge(state, reply, attempt, page)
            verdicts.append(verdict)
            if not self.retry_with(state, verdict, spend, attempt):
                break
            conversation = [*conversation, *correction(reply, plan_problems(review.problems))]
        route = self.decide(state, review, spend, verdicts)
        if notes and isinstance(route.update, dict):
            route.update["notes"] = notes + route.update["notes"]
        return route

    def code_planning(self, state: TeamState, runtime: Runtime[TeamContext]) -> OrchestratorRoute:
        """Plan with the team's code planner: no model call (``orchestra.nodes.code_plan``)."""
        assert self.planner is not None
        review, note = code_plan(self.planner, state, self.spec, of_runtime(runtime))
        round_no = state.get("round", 0) + 1
        verdict = Verdict(
            subtask_id=f"plan:r{round_no}",
            revision=0,
            accepted=not review.problems,
            feedback="; ".join(review.problems),
        )
        route = self.decide(state, review, Spend.for_team(self.spec), [verdict])
        if isinstance(route.update, dict):
            route.update.pop("ledger", None)  # no model call to account for
            if note:
                route.update["notes"] = [note, *route.update["notes"]]
        return self.announce(route, runtime)

    def run(self, state: TeamState, runtime: Runtime[TeamContext]) -> OrchestratorRoute:
        """Plan, synchronously."""
        if (early := self.stop_early(state)) is not None:
            return early
        if self.planner is not None:
            return self.code_planning(state, runtime)
        chat, page = self.model(runtime)
        planned = drive(self.planning(state, chat, page), model_directly, tool_directly)
        return self.announce(planned, runtime)

    async def arun(self, state: TeamState, runtime: Runtime[TeamContext]) -> OrchestratorRoute:
        """Plan without blocking a thread."""
        if (early := self.stop_early(state)) is not None:
            return early
        if self.planner is not None:
            return self.code_planning(state, runtime)
        planning = self.planning(state, *self.model(runtime))
        return self.announce(await adrive(planning, amodel_directly, atool_directly), runtime)


def asked_again(reply: dict[str, Any]) -> str:
    """The note of a reply asked again through tool calling."""
    return (
        f"orchestrator: {reply.get('parsing_error')}; asked again through tool calling, "
        "which this model uses from now on"
    )


def make_orchestrator(team: ResolvedTeam) -> Node[TeamState, OrchestratorRoute]:
    """The orchestrator node for ``team``."""
    orchestrator = Orchestrator(team)
    return Node("orchestrator", orchestrator.run, orchestrator.arun)
