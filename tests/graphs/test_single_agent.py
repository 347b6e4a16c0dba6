"""The single-agent baseline: every tool, one prompt, the same output type."""

from __future__ import annotations

from conftest import compiled, context, make_team, run_config
from pydantic import BaseModel

from orchestra.graphs.single_agent import agent_spec
from orchestra.nodes import ScriptedChatModel, WorkerCall, team_script
from orchestra.nodes.toolkit import calculate, search_notes


class Report(BaseModel):
    summary: str
    score: int


def test_the_single_agent_sees_every_tool_and_keeps_the_shared_output_type() -> None:
    seen: list[WorkerCall] = []

    def agent(call: WorkerCall) -> Report:
        seen.append(call)
        return Report(summary="alone", score=3)

    team = make_team(
        "researcher",
        "analyst",
        tools={"researcher": [search_notes], "analyst": [calculate, search_notes]},
        researcher_spec={"output": Report},
        analyst_spec={"output": Report},
    )
    model = ScriptedChatModel(respond=team_script(workers={"agent": agent}))
    state = compiled(
        team,
    ).invoke({"task": "t"}, run_config(), context=context(model))
    baseline = compiled(agent_spec(team)).invoke(
        {"task": "t"}, run_config(), context=context(model)
    )

    assert set(seen[0].tools) == {"search_notes", "calculate", "Report"}
    assert state["status"] == "completed"
    assert baseline["results"]["agent"]["output"] == {"summary": "alone", "score": 3}
    assert "as researcher" in agent_spec(team).specialists[0].prompt  # type: ignore[operator]


def test_mixed_output_types_fall_back_to_the_default_output() -> None:
    team = make_team("a", "b", a_spec={"output": Report})
    spec = agent_spec(team).specialists[0]
    assert spec.output is None and spec.checks == []


def test_the_pattern_is_one_word_away() -> None:
    team = make_team("researcher", "analyst", tools={"researcher": [search_notes]})
    from orchestra.graphs import compile_team

    state = compile_team(team, pattern="single_agent").invoke(
        {"task": "What is SQLite?"}, run_config(), context=context("offline")
    )
    assert [r["id"] for r in state["plan"]] == ["agent"]
    assert state["results"]["agent"]["tool_calls"] == ["search_notes"]
    assert state["status"] == "completed"
    assert "SQLite" in state["answer"]
