"""Each node called alone, with a state dict and a Runtime, as the style guide asks."""

from __future__ import annotations

from typing import Any

from conftest import base_state, make_team
from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from orchestra.nodes import (
    ScriptedChatModel,
    make_dispatch,
    make_orchestrator,
    make_specialist,
    make_synthesizer,
    make_validator,
    plan_of,
    resolve_team,
    team_script,
)
from orchestra.state import SpecialistOutput, TeamContext, WorkerResult


def runtime(model: Any = "offline") -> Runtime[TeamContext]:
    return Runtime(context=TeamContext(model=model))


def record(sid: str, specialist: str = "alpha", deps: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": sid,
        "specialist": specialist,
        "instruction": f"do {sid}",
        "depends_on": deps or [],
        "round": 1,
    }


def result(
    sid: str,
    status: str,
    *,
    output: dict[str, Any] | None = None,
    revision: int = 0,
    specialist: str = "alpha",
    **extra: Any,
) -> WorkerResult:
    return WorkerResult(
        subtask_id=sid,
        specialist=specialist,
        status=status,  # type: ignore[typeddict-item]
        revision=revision,
        output=output,
        summary=f"sum {sid}",
        steps=1,
        tool_calls=[],
        **extra,
    )


GOOD = {"summary": "fine", "key_points": []}
TEAM = resolve_team(make_team("alpha", "beta", limits={"max_revisions": 1, "max_model_calls": 10}))


def test_orchestrator_alone_plans_and_routes_to_dispatch() -> None:
    model = ScriptedChatModel(respond=team_script(plan=plan_of(("s1", "alpha", "x"))))
    command = make_orchestrator(TEAM)(base_state(), runtime(model))
    assert isinstance(command, Command)
    assert command.goto == "dispatch"
    assert command.update["plan"] == [record("s1") | {"instruction": "x"}]
    assert command.update["round"] == 1


def test_orchestrator_alone_routes_an_empty_plan_to_the_synthesizer() -> None:
    model = ScriptedChatModel(respond=team_script(plan=plan_of()))
    command = make_orchestrator(TEAM)(base_state(), runtime(model))
    assert command.goto == "synthesizer"
    assert "plan" not in command.update


def test_dispatch_alone_sends_ready_subtasks_with_only_their_dependencies() -> None:
    state = base_state(
        plan=[
            record("s1"),
            record("s2", "beta"),
            record("s3", "beta", ["s1"]),
            record("s4", deps=["s2"]),
        ],
        results={
            "s1": result("s1", "accepted", output=GOOD),
            "s2": result("s2", "revise", output=GOOD, feedback="more"),
        },
    )
    command = make_dispatch(TEAM)(state, runtime())
    sends = command.goto
    assert isinstance(sends, list) and all(isinstance(s, Send) for s in sends)
    by_id = {s.arg["subtask"]["id"]: s for s in sends}
    assert set(by_id) == {"s2", "s3"}
    assert by_id["s2"].node == "beta" and by_id["s2"].arg["revision"] == 1
    assert by_id["s2"].arg["feedback"] == "more"
    assert list(by_id["s3"].arg["dependencies"]) == ["s1"]
    assert by_id["s3"].arg["dependencies"]["s1"]["output"] == GOOD


def test_dispatch_alone_goes_to_review_when_everything_is_settled() -> None:
    state = base_state(
        plan=[record("s1"), record("s2", deps=["s1"])], results={"s1": result("s1", "failed")}
    )
    command = make_dispatch(TEAM)(state, runtime())
    assert command.goto == "orchestrator"
    assert command.update["results"]["s2"]["status"] == "skipped"


def test_dispatch_alone_holds_work_past_the_model_call_cap() -> None:
    state = base_state(plan=[record("s1")], model_calls=10)
    command = make_dispatch(TEAM)(state, runtime())
    assert command.goto == "synthesizer"
    assert command.update["caps"] == ["max_model_calls"]
    assert command.update["results"]["s1"]["status"] == "skipped"


def test_specialist_alone_returns_a_submitted_result() -> None:
    node = make_specialist(TEAM.specialists["alpha"], TEAM)
    model = ScriptedChatModel(
        respond=team_script(workers={"alpha": SpecialistOutput(summary="done", key_points=["k"])})
    )
    update = node({"subtask": record("s1"), "dependencies": {}, "revision": 0}, runtime(model))
    assert update["model_calls"] == 1
    assert update["results"]["s1"]["status"] == "submitted"
    assert update["results"]["s1"]["output"] == {"summary": "done", "key_points": ["k"]}


def test_validator_alone_accepts_revises_and_caps() -> None:
    state = base_state(
        results={
            "ok": result("ok", "submitted", output=GOOD),
            "bad": result("bad", "submitted", output={"summary": 3}),
            "late": result("late", "submitted", output=None, revision=1, reason="no output"),
            "old": result("old", "accepted", output=GOOD),
        }
    )
    update = make_validator(TEAM)(state, runtime())
    judged = update["results"]
    assert set(judged) == {"ok", "bad", "late"}
    assert judged["ok"]["status"] == "accepted"
    assert judged["bad"]["status"] == "revise"
    assert "does not match SpecialistOutput" in judged["bad"]["feedback"]
    assert judged["late"]["status"] == "failed"
    assert update["caps"] == ["max_revisions"]
    assert [v["accepted"] for v in update["verdicts"]] == [True, False, False]


def test_synthesizer_alone_names_what_failed_and_sets_the_status() -> None:
    def synthesis(text: str) -> Any:
        from orchestra.state import Synthesis

        return Synthesis(answer="alpha says fine", citations=["s1", "s2", "zzz"])

    state = base_state(
        plan=[record("s1"), record("s2")],
        results={
            "s1": result("s1", "accepted", output=GOOD),
            "s2": result("s2", "failed", reason="tool broke"),
        },
    )
    model = ScriptedChatModel(respond=team_script(synthesis=synthesis))
    update = make_synthesizer(TEAM)(state, runtime(model))
    assert update["citations"] == ["s1"]
    assert "s2 (alpha) failed: tool broke" in update["answer"]
    assert update["status"] == "partial"
    assert "s2 failed" in update["reason"]
    assert any("not accepted: ['s2', 'zzz']" in n for n in update["notes"])
