"""A finished run gives each subtask's output as its pydantic object, by subtask id, in every
pattern; the checkpoint keeps the JSON, and the objects are rebuilt from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import make_team
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from orchestra.graphs.runner import run_team, snapshot
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import PatternName, SpecialistOutput, SpecialistSpec, TeamSpec


class Finding(BaseModel):
    """A typed output with a field ``SpecialistOutput`` lacks."""

    summary: str
    key_points: list[str]
    score: int


def finding(call: WorkerCall) -> Finding:
    return Finding(summary=f"{call.specialist} on {call.subtask_id}", key_points=[], score=7)


def typed(*names: str, **spec: Any) -> TeamSpec:
    return make_team(*names, **{f"{n}_spec": {"output": Finding} for n in names}, **spec)


def run(team: TeamSpec, task: str, **script: Any) -> tuple[Any, InMemorySaver]:
    saver = InMemorySaver()
    model = ScriptedChatModel(respond=team_script(**script))
    result = run_team(team, task, saver=saver, thread_id="t", model=model)
    assert result.finished, result.reason
    return result, saver


CASES: dict[str, Callable[[], tuple[TeamSpec, str, dict[str, Any], list[str]]]] = {
    "orchestrator_workers": lambda: (
        typed("alpha", "beta"),
        "t",
        {"plan": plan_of(("s1", "alpha", "a"), ("s2", "beta", "b", ["s1"]))},
        ["s1", "s2"],
    ),
    "pipeline": lambda: (typed("alpha", "beta", pattern="pipeline"), "t", {}, ["alpha", "beta"]),
    "fan_out": lambda: (typed("alpha", "beta", pattern="fan_out"), "t", {}, ["alpha", "beta"]),
    "fan_out_map": lambda: (
        typed("alpha", pattern="fan_out", fan_out={"map": "alpha"}),
        "one\ntwo",
        {},
        ["alpha_1", "alpha_2"],
    ),
    "single_agent": lambda: (typed("alpha", "beta", pattern="single_agent"), "t", {}, ["agent"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_subtask_output_is_its_typed_object_keyed_by_subtask_id(case: str) -> None:
    team, task, script, ids = CASES[case]()
    workers = {n: finding for n in [*team.specialist_names, "agent"]}
    result, saver = run(team, task, workers=workers, **script)

    assert list(result.outputs) == ids == [r["id"] for r in result.values["plan"]]
    assert all(type(o) is Finding and o.score == 7 for o in result.outputs.values())
    stored = result.values["results"]
    assert all(stored[sid]["output"] == result.outputs[sid].model_dump() for sid in ids)  # JSON
    again = snapshot("t", saver=saver, team=team)  # rebuilt from the checkpoint
    assert again.outputs == result.outputs


def test_a_nested_team_answers_with_a_specialist_output_by_its_subtask_id() -> None:
    inner = make_team("digger", name="inner")
    team = TeamSpec(
        name="outer",
        pattern="hierarchical",
        specialists=[
            SpecialistSpec(name="unit", description="the inner team", team=inner),
            SpecialistSpec(name="writer", description="writes", output=Finding),
        ],
    )
    outer = plan_of(("s1", "unit", "dig"), ("s2", "writer", "write", ["s1"]))
    inner_plan = plan_of(("d1", "digger", "dig deeper"))

    def plans(text: str, round_no: int) -> Any:
        if round_no > 1:
            return plan_of()  # done
        return inner_plan if "digger" in text else outer

    result, _ = run(
        team,
        "t",
        plan=plans,
        workers={"digger": finding, "writer": finding},
    )
    assert list(result.outputs) == ["s1", "s2"]
    assert type(result.outputs["s1"]) is SpecialistOutput
    assert type(result.outputs["s2"]) is Finding


def test_subtasks_without_an_output_are_absent() -> None:
    def broken(call: WorkerCall) -> Finding:
        raise ValueError("no finding today")

    pattern: PatternName = "orchestrator_workers"
    result, _ = run(
        typed("alpha", "beta", pattern=pattern),
        "t",
        plan=plan_of(("s1", "alpha", "a"), ("s2", "beta", "b")),
        workers={"alpha": broken, "beta": finding},
    )
    assert result.values["results"]["s1"]["status"] == "failed"
    assert list(result.outputs) == ["s2"]
