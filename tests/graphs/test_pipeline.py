"""The sequential pipeline, driven by the scripted model."""

from __future__ import annotations

from collections.abc import Callable

from conftest import compiled, context, make_team, run_config
from pydantic import BaseModel

from orchestra.nodes import ScriptedChatModel, WorkerCall, team_script
from orchestra.state import SpecialistOutput

STAGES = ("research", "draft", "edit", "format")


def out(summary: str) -> SpecialistOutput:
    return SpecialistOutput(summary=summary, key_points=[])


def recorder(seen: dict[str, list[WorkerCall]]) -> Callable[[WorkerCall], SpecialistOutput]:
    def work(call: WorkerCall) -> SpecialistOutput:
        seen.setdefault(call.specialist, []).append(call)
        return out(f"{call.specialist} output")

    return work


def test_stage_k_sees_the_task_and_exactly_the_outputs_of_earlier_stages() -> None:
    seen: dict[str, list[WorkerCall]] = {}
    team = make_team(*STAGES, pattern="pipeline")
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(STAGES, recorder(seen))))
    state = compiled(team).invoke({"task": "write a report"}, run_config(), context=context(model))

    assert [r["id"] for r in state["plan"]] == list(STAGES)
    for k, stage in enumerate(STAGES):
        call = seen[stage][0]
        assert call.instruction == "write a report"
        shown = {s for s in STAGES if f"### {s} ({s})" in call.inputs}
        assert shown == set(STAGES[:k]), stage
    assert state["answer"] == "format output"
    assert state["citations"] == ["format"]
    assert state["status"] == "completed"
    assert [c.role for c in model.calls] == ["specialist"] * 4  # no planner, no synthesizer


def test_a_rejected_stage_is_redone_with_feedback_before_the_next_stage_runs() -> None:
    order: list[str] = []

    def draft(call: WorkerCall) -> SpecialistOutput:
        order.append(f"draft:{call.feedback}")
        return out("draft v2" if call.feedback else "draft v1")

    def needs_v2(output: BaseModel) -> str | None:
        assert isinstance(output, SpecialistOutput)
        return None if "v2" in output.summary else "make it v2"

    def edit(call: WorkerCall) -> SpecialistOutput:
        order.append("edit")
        assert "draft v2" in call.inputs and "draft v1" not in call.inputs
        return out("edited")

    team = make_team("draft", "edit", pattern="pipeline", draft_spec={"checks": [needs_v2]})
    model = ScriptedChatModel(respond=team_script(workers={"draft": draft, "edit": edit}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert order == ["draft:None", "draft:make it v2", "edit"]
    assert [(v["subtask_id"], v["accepted"]) for v in state["verdicts"]] == [
        ("draft", False),
        ("draft", True),
        ("edit", True),
    ]
    assert state["status"] == "completed"


def test_a_stage_that_hits_the_revision_cap_stops_the_pipeline_and_names_it() -> None:
    team = make_team(
        "draft",
        "edit",
        "format",
        pattern="pipeline",
        limits={"max_revisions": 1},
        draft_spec={"checks": [lambda o: "never good"]},
    )
    model = ScriptedChatModel(respond=team_script(workers={"draft": out("d")}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert len(model.calls_for("draft")) == 2
    assert model.calls_for("edit") == [] and model.calls_for("format") == []
    assert state["results"]["draft"]["status"] == "rejected"
    assert state["results"]["edit"]["reason"] == "stage draft did not succeed"
    assert state["status"] == "cap_reached"
    assert "draft rejected" in state["answer"] and "format skipped" in state["answer"]


def test_the_answer_can_be_a_synthesis_of_every_stage() -> None:
    team = make_team("research", "draft", pattern="pipeline", pipeline={"answer": "synthesis"})
    model = ScriptedChatModel(
        respond=team_script(workers={"research": out("r"), "draft": out("d")})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert [c.role for c in model.calls][-1] == "synthesizer"
    assert state["citations"] == ["research", "draft"]


def test_stages_default_to_spec_order_and_can_be_chosen() -> None:
    team = make_team("a", "b", "c", pattern="pipeline", pipeline={"stages": ["c", "a"]})
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context("offline"))
    assert [r["id"] for r in state["plan"]] == ["c", "a"]
    assert state["plan"][1]["depends_on"] == ["c"]
