"""The seam before dispatch: bad plans go back to the orchestrator; loops and stalls stop."""

from __future__ import annotations

from typing import Any

from conftest import compiled, context, make_team, run_config

from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import Plan, SpecialistOutput


def plans_in_turn(*plans: Plan | str) -> Any:
    """A plan script answering each orchestrator call with the next plan (or raw text)."""
    queue = list(plans)
    seen: list[str] = []

    def plan(text: str, round_no: int) -> Any:
        seen.append(text)
        return queue.pop(0) if queue else plan_of()

    return plan, seen


def run(
    plan: Any, workers: dict[str, Any] | None = None, **spec: Any
) -> tuple[dict[str, Any], Any]:
    model = ScriptedChatModel(respond=team_script(plan=plan, workers=workers))
    state = compiled(make_team("alpha", "beta", **spec)).invoke(
        {"task": "t"}, run_config(), context=context(model)
    )
    return state, model


def plan_verdicts(state: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return [
        (v["subtask_id"], v["revision"], v["accepted"])
        for v in state["verdicts"]
        if v["subtask_id"].startswith("plan:")
    ]


def test_a_plan_naming_an_unknown_specialist_goes_back_with_the_problem() -> None:
    plan, seen = plans_in_turn(plan_of(("s1", "ghost", "x")), plan_of(("s1", "alpha", "x")))
    state, _ = run(plan)
    assert plan_verdicts(state)[:2] == [("plan:r1", 0, False), ("plan:r1", 1, True)]
    assert "Your plan has problems" in seen[1] and "ghost" in seen[1]
    assert [r["specialist"] for r in state["plan"]] == ["alpha"]
    assert state["status"] == "completed"


def test_a_cyclic_plan_goes_back_and_is_corrected() -> None:
    cyclic = plan_of(("a", "alpha", "x", ["b"]), ("b", "beta", "y", ["a"]))
    fixed = plan_of(("a", "alpha", "x"), ("b", "beta", "y", ["a"]))
    plan, seen = plans_in_turn(cyclic, fixed)
    state, _ = run(plan)
    assert "form a cycle" in seen[1]
    assert [r["id"] for r in state["plan"]] == ["a", "b"]
    assert state["status"] == "completed"


def test_a_plan_that_stays_bad_fails_the_run_after_the_plan_revision_cap() -> None:
    plan, seen = plans_in_turn("no plan", "still no plan", "nope")
    state, model = run(plan, limits={"max_plan_revisions": 2})
    assert [c.role for c in model.calls] == ["orchestrator"] * 3 + ["synthesizer"]
    assert state["status"] == "failed" and state["reason_code"] == "invalid_plan"
    assert state["reason"].startswith("no valid plan after 3 attempt(s)")
    assert plan_verdicts(state) == [
        ("plan:r1", 0, False),
        ("plan:r1", 1, False),
        ("plan:r1", 2, False),
    ]


def test_an_empty_first_plan_is_a_problem_not_a_success() -> None:
    plan, seen = plans_in_turn(plan_of(), plan_of(), plan_of())
    state, _ = run(plan)
    assert "the first plan has no subtasks" in seen[1]
    assert state["status"] == "failed" and state["reason"] == "empty_plan"


def test_a_plan_of_ten_thousand_subtasks_is_capped_with_a_note() -> None:
    huge = plan_of(*[(f"s{i}", "alpha", f"part {i}") for i in range(10_000)])
    plan, _ = plans_in_turn(huge)
    state, model = run(plan, limits={"max_workers_per_round": 8})
    assert len(state["plan"]) == 8
    assert len(model.calls_for("alpha")) == 8
    assert any("max_workers_per_round (8) reached" in n for n in state["notes"])
    assert state["status"] == "cap_reached"


def test_repeating_an_answered_subtask_is_refused_and_stops_with_no_progress() -> None:
    first = plan_of(("s1", "alpha", "Find the facts."))
    again = plan_of(("s9", "alpha", "find   the FACTS"))
    plan, seen = plans_in_turn(first, again, again, again)
    state, model = run(plan, workers={"alpha": SpecialistOutput(summary="f", key_points=[])})

    assert len(model.calls_for("alpha")) == 1  # never dispatched again
    assert "refused s9: alpha already answered this instruction as s1 (accepted)" in seen[2]
    assert state["status"] == "no_progress"
    assert state["reason"] == "every proposed subtask repeated an answered one"


def test_rounds_that_change_no_result_stop_with_no_progress() -> None:
    def round_plan(text: str, round_no: int) -> Plan:
        return plan_of((f"r{round_no}", "alpha", f"attempt {round_no}"))

    def never(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary="same", key_points=[])

    state, model = run(round_plan, workers={"alpha": never}, limits={"max_rounds": 5})
    assert [r["id"] for r in state["plan"]] == ["r1", "r2"]  # round 2 added nothing new
    assert state["status"] == "no_progress"
    assert state["reason"] == "round 2 produced no new accepted result"
