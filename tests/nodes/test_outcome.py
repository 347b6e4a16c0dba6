"""A run's status is decided in one place from reported facts, with a code beside its text.

The framework branches on reason codes, never on the text beside them.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from conftest import base_state, make_team
from langgraph.runtime import Runtime

from orchestra.graphs.patterns import compile_team
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, resolve_team, team_script
from orchestra.nodes.fan_out import make_gather
from orchestra.nodes.outcome import decide, failure
from orchestra.state import SpecialistOutput, TeamContext, TeamState, WorkerResult


def state(**values: Any) -> TeamState:
    return cast(TeamState, base_state(ledger={}, exhausted=[]) | values)  # a partial state


def result(sid: str, status: str, **extra: Any) -> WorkerResult:
    return WorkerResult(  # type: ignore[typeddict-item]  # status is a test parameter
        subtask_id=sid,
        specialist="alpha",
        status=status,
        revision=0,
        output=None,
        summary="",
        steps=0,
        tool_calls=[],
        **extra,
    )


def record(sid: str) -> dict[str, Any]:
    return {"id": sid, "specialist": "alpha", "instruction": "x", "depends_on": [], "round": 1}


PLAN = [record("s1"), record("s2")]
DONE = {"s1": result("s1", "accepted"), "s2": result("s2", "accepted")}
HALF = {"s1": result("s1", "accepted"), "s2": result("s2", "failed")}


@pytest.mark.parametrize(
    ("values", "spent", "expected"),
    [
        ({}, None, ("completed", "nothing_planned")),
        ({"plan": PLAN, "results": DONE}, None, ("completed", "all_accepted")),
        ({"plan": PLAN, "results": HALF}, None, ("partial", "subtasks_missing")),
        ({"plan": PLAN, "results": HALF, "no_progress": "x"}, None, ("no_progress",) * 2),
        ({"plan": PLAN, "results": HALF, "caps": ["max_rounds"]}, None, ("cap_reached",) * 2),
        ({"caps": ["max_rounds"], "exhausted": ["tokens"]}, None, ("budget_exhausted",) * 2),
        (
            {"exhausted": ["tokens"], "failure": failure("empty_plan")},
            None,
            ("failed", "empty_plan"),
        ),
        ({"failure": failure("invalid_plan")}, "cost", ("budget_exhausted",) * 2),
    ],
)
def test_decide_follows_its_precedence(
    values: dict[str, Any], spent: str | None, expected: tuple[str, str]
) -> None:
    decided = decide(state(**values), spent=spent)
    assert (decided["status"], decided["reason_code"]) == expected
    assert decided["reason"]  # always a text for people beside the code


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"plan": PLAN, "results": DONE}, ("partial", "synthesis_fallback")),
        ({"plan": PLAN, "results": HALF}, ("partial", "synthesis_fallback")),
        ({"plan": PLAN, "results": HALF, "caps": ["max_revisions"]}, ("cap_reached",) * 2),
    ],
)
def test_a_fallback_synthesis_makes_a_run_partial_unless_a_limit_stopped_it(
    values: dict[str, Any], expected: tuple[str, str]
) -> None:
    decided = decide(state(**values), fallback="the reply was cut off")
    assert (decided["status"], decided["reason_code"]) == expected
    if expected[1] == "synthesis_fallback":
        assert decided["reason"].startswith("fallback synthesis: the reply was cut off")


def gather_status(missing: WorkerResult) -> str:
    team = resolve_team(make_team("alpha", "beta", pattern="fan_out", fan_out={"join": "all"}))
    values = state(plan=PLAN, results={"s1": result("s1", "accepted"), "s2": missing})
    runtime = Runtime(context=TeamContext(model="offline"), store=None)
    command = make_gather(team)(values, runtime)
    assert command.update is not None
    return str(command.update["status"])


def test_the_join_branches_on_the_reason_code_not_on_the_reason_text() -> None:
    coded = result("s2", "skipped", reason="the team ran dry", reason_code="budget_exhausted")
    worded = result("s2", "skipped", reason="budget_exhausted: said in words only")
    assert gather_status(coded) == "budget_exhausted"
    assert gather_status(worded) == "failed"


def test_finished_runs_carry_a_reason_code_beside_the_reason() -> None:
    def alpha(call: WorkerCall) -> SpecialistOutput:
        raise ValueError("alpha is broken")  # a permanent error: the subtask fails

    team = make_team("alpha", "beta")
    plan = [("s1", "alpha", "a"), ("s2", "beta", "b", ["s1"])]
    model = ScriptedChatModel(respond=team_script(plan=plan_of(*plan), workers={"alpha": alpha}))
    final = compile_team(team).invoke(
        {"task": "t"}, {"recursion_limit": 60}, context=TeamContext(model=model)
    )
    assert (final["status"], final["reason_code"]) == ("partial", "subtasks_missing")
    assert final["results"]["s1"]["reason_code"] == "error"
    assert final["results"]["s2"]["reason_code"] == "dependency_failed"
