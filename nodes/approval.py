"""Human approval of a plan: the run pauses until someone approves, edits or rejects it.

The pause is LangGraph's ``interrupt()`` in a node of its own, so resuming re-runs only
this node, never the orchestrator's model call (which could plan differently). The
decision is the resume value, from Python (``Command(resume=...)``), Studio, or the CLI:

- ``{"action": "approve"}``: dispatch the plan as it is;
- ``{"action": "edit", "plan": [{"id", "specialist", "instruction", "depends_on"}, ...]}``:
  dispatch the edited plan, after the same checks as a model's;
- ``{"action": "reject", "reason": "..."}``: the orchestrator re-plans from the reason;
  past ``max_plan_revisions`` rejections the run ends.

An answer that is not a valid decision is asked again, with the error.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ValidationError, model_validator

from orchestra.nodes.events import emit
from orchestra.nodes.outcome import failure
from orchestra.nodes.plan_sanitize import CheckedPlan, check_plan
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.state import PendingPlan, Subtask, TeamContext, TeamState, Verdict

ApprovalRoute = Command[Literal["dispatch", "orchestrator", "synthesizer"]]


class PlanDecision(BaseModel):
    """A human's decision on a pending plan."""

    action: Literal["approve", "edit", "reject"]
    plan: list[Subtask] | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> PlanDecision:
        if self.action == "edit" and not self.plan:
            raise ValueError("an edit needs the edited plan: a list of subtasks")
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason for the orchestrator")
        return self


def question(pending: PendingPlan, error: str | None) -> dict[str, Any]:
    """What the paused run shows: the plan, and how to answer."""
    asked: dict[str, Any] = {
        "kind": "plan_approval",
        "round": pending["round"],
        "rationale": pending["rationale"],
        "plan": pending["subtasks"],
        "answer": "approve | edit with a plan | reject with a reason",
    }
    if error:
        asked["error"] = error
    return asked


def make_plan_approval(team: ResolvedTeam) -> Node[TeamState, ApprovalRoute]:
    """The node that waits for a human's decision on the orchestrator's plan."""
    spec = team.spec

    def decide(
        state: TeamState, runtime: Runtime[TeamContext]
    ) -> tuple[PlanDecision, CheckedPlan | None]:
        pending = state.get("pending_plan")
        assert pending is not None  # the orchestrator routes here only with a pending plan
        error: str | None = None
        while True:
            emit(
                runtime,
                spec.name,
                "waiting",
                round=pending["round"],
                subtasks=[r["id"] for r in pending["subtasks"]],
            )
            answer = interrupt(question(pending, error))
            try:
                decision = PlanDecision.model_validate(answer)
            except ValidationError as exc:
                error = f"not a valid decision: {exc.errors()[0]['msg']}"
                continue
            if decision.action != "edit" or decision.plan is None:
                return decision, None
            edited = check_plan(
                decision.plan,
                specialists=spec.specialist_names,
                existing=[r["id"] for r in state["plan"]],
                round_no=pending["round"],
                max_subtasks=spec.limits.max_workers_per_round,
            )
            if edited.subtasks:
                return decision, edited
            error = f"the edited plan has no valid subtask: {'; '.join(edited.notes)}"

    def approve(state: TeamState, runtime: Runtime[TeamContext]) -> ApprovalRoute:
        pending = state.get("pending_plan")
        if pending is None:
            return Command(goto="dispatch")
        decision, edited = decide(state, runtime)
        sid = f"plan:r{pending['round']}"
        earlier = [v for v in state["verdicts"] if v["subtask_id"] == sid]
        verdict = Verdict(
            subtask_id=sid,
            revision=len(earlier),
            accepted=decision.action != "reject",
            feedback=f"human: {decision.action}"
            + (f": {decision.reason}" if decision.reason else ""),
            by="human",
        )
        update: dict[str, Any] = {"pending_plan": None, "verdicts": [verdict]}
        if decision.action == "reject":
            rejected = sum(1 for v in earlier if v.get("by") == "human" and not v["accepted"])
            note = f"round {pending['round']}: plan rejected by a human: {decision.reason}"
            update["notes"] = [note]
            if rejected >= spec.limits.max_plan_revisions:
                if pending["round"] == 1:
                    why = f"plan rejected: {decision.reason}"
                    update["failure"] = failure("plan_rejected", why)
                return Command(update=update, goto="synthesizer")
            return Command(update=update | {"plan_feedback": decision.reason}, goto="orchestrator")
        subtasks = edited.subtasks if edited else pending["subtasks"]
        if edited:
            update["notes"] = [f"round {pending['round']}: plan edited by a human", *edited.notes]
        return Command(
            update=update | {"plan": subtasks, "round": pending["round"]}, goto="dispatch"
        )

    return Node("approve_plan", approve)
