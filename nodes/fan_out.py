"""Nodes of the parallel fan-out: the fixed branches, per-branch failure, the join.

Branches are dispatched together (one super-step, bounded by ``max_concurrency``). A
branch that fails for good is recorded as failed instead of failing the super-step, so
its siblings' results stay — except under ``fail_fast``, where the error ends the run
and the checkpoint keeps the finished branches.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from orchestra.nodes.outcome import decide, failure, out_of_budget, split_results
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.state import (
    SubtaskRecord,
    TeamContext,
    TeamState,
    totals,
)

JoinRoute = Command[Literal["synthesizer", "__end__"]]


def make_branch_plan(team: ResolvedTeam) -> Node[TeamState, dict[str, Any]]:
    """The fixed plan: every branch on the task, or the mapped specialist once per line."""
    settings = team.spec.fan_out

    def plan(state: TeamState, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        if settings.map is not None:
            items = [line.strip() for line in state["task"].splitlines() if line.strip()]
            records = [
                SubtaskRecord(
                    id=f"{settings.map}_{i}",
                    specialist=settings.map,
                    instruction=item,
                    depends_on=[],
                    round=1,
                )
                for i, item in enumerate(items, start=1)
            ]
        else:
            names = settings.branches or list(team.spec.specialist_names)
            records = [
                SubtaskRecord(
                    id=name, specialist=name, instruction=state["task"], depends_on=[], round=1
                )
                for name in names
            ]
        return {
            "plan": records,
            "round": 1,
            "rationale": f"fan-out, join {settings.join}",
            "started_at": state.get("started_at", time.time()),
        }

    return Node("scatter", plan)


def make_gather(team: ResolvedTeam) -> Node[TeamState, JoinRoute]:
    """The join: apply the team's join policy to the settled branches."""
    settings = team.spec.fan_out

    def gather(state: TeamState, runtime: Runtime[TeamContext]) -> JoinRoute:
        accepted, missing = split_results(state)
        total = len(state["plan"])
        listed = "; ".join(
            f"{r['subtask_id']} {r['status']}: {r.get('reason', '')}".rstrip(": ") for r in missing
        )
        if settings.join == "settled" or not missing:
            return Command(goto="synthesizer")
        if settings.join == "quorum" and len(accepted) >= (settings.quorum or total):
            return Command(goto="synthesizer")
        if settings.join == "quorum":
            reason = f"quorum of {settings.quorum} not met: {len(accepted)} of {total} succeeded"
            failed = failure("quorum_not_met", reason)
        else:
            reason = f"join {settings.join}: {len(missing)} of {total} branches failed"
            failed = failure("join_failed", reason)
        spent = [r["subtask_id"] for r in missing if out_of_budget(r)]
        if spent:
            failed["detail"] += f"; out of budget: {', '.join(spent)}"
        decided = decide({**state, "failure": failed})
        ended = "failed" if decided["status"] == "failed" else "stopped"
        update = {
            **decided,
            "failure": failed,
            "answer": f"The run {ended} ({decided['reason']}). Failed branches: {listed}",
            "citations": accepted,
            "usage": totals(state.get("ledger", {})),
        }
        return Command(update=update, goto="__end__")

    return Node("gather", gather)
