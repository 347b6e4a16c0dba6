"""Plans that scale: a team's code planner, and model plans sized to the output limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from context_limits import PUBLISHED
from langchain_core.messages import BaseMessage
from openai_server import openai_server

from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.nodes import ScriptedChatModel, team_script
from orchestra.nodes.chat_models import CallSettings
from orchestra.nodes.plan_pages import plan_page
from orchestra.nodes.team_shape import shape_of
from orchestra.state import (
    Limits,
    OrchestratorSpec,
    Plan,
    RunData,
    SpecialistSpec,
    Subtask,
    TeamSpec,
    import_refs,
)

CALLS: list[Any] = []


def two_items(task: str, run: RunData[dict[str, int]]) -> list[dict[str, Any]]:
    """A planner of ``run.deps['n']`` subtasks, recording what it was given."""
    CALLS.append((task, run.deps))
    return [
        {"id": f"i{n}", "specialist": "writer", "instruction": f"Write item {n} of {task}"}
        for n in range(1, run.deps["n"] + 1)
    ]


def ghost_plan(task: str) -> Plan:
    """A plan with a dependency cycle and an unknown dependency."""
    return Plan(
        rationale="bad",
        subtasks=[
            Subtask(id="s1", specialist="writer", instruction="Write A", depends_on=["s2"]),
            Subtask(id="s2", specialist="writer", instruction="Write B", depends_on=["s1"]),
            Subtask(id="s3", specialist="writer", instruction="Write C", depends_on=["nope"]),
        ],
    )


def broken(task: str) -> object:
    """Not a plan at all."""
    return 42


def team(planner: object = None, **limits: Any) -> TeamSpec:
    return TeamSpec(
        name="t",
        specialists=[SpecialistSpec(name="writer", description="Writes things.")],
        orchestrator=OrchestratorSpec(planner=planner),
        limits=Limits(**limits),
    )


def _run(spec: TeamSpec, model: Any = "offline", deps: Any = None) -> Any:
    with open_checkpointer(":memory:") as saver:
        return run_team(spec, "the list", saver=saver, model=model, deps=deps)


def test_import_refs_lists_the_planner_and_show_strips_it() -> None:
    spec = team("my_plans:per_repo")
    assert ("orchestrator.planner", "my_plans:per_repo") in import_refs(spec)
    nested = TeamSpec(
        name="outer",
        pattern="hierarchical",
        specialists=[SpecialistSpec(name="inner", description="a team", team=spec)],
    )
    assert ("specialists.inner.team.orchestrator.planner", "my_plans:per_repo") in (
        import_refs(nested)
    )
    assert shape_of(nested).teams["inner"].spec.orchestrator.planner is None
    assert team(two_items).objects() == ["orchestrator.planner"]


def test_a_code_planner_plans_every_round_in_batches_with_no_model_call() -> None:
    CALLS.clear()
    model = ScriptedChatModel(respond=team_script())
    result = _run(
        team(f"{__name__}:two_items", max_workers_per_round=4, max_rounds=3),
        model=model,
        deps={"n": 10},
    )
    assert result.status == "completed", result.reason
    assert CALLS[0] == ("the list", {"n": 10})  # the task and the run's deps
    rounds = [r["round"] for r in result.values["plan"]]
    assert rounds == [1] * 4 + [2] * 4 + [3] * 2
    assert [c.role for c in model.calls if c.role == "orchestrator"] == []
    assert any("wait for later rounds" in n for n in result.values["notes"])


def test_a_bad_code_plan_gets_the_model_plans_checks() -> None:
    by_code = _run(team(ghost_plan))
    by_model = _run(team(), model=ScriptedChatModel(respond=team_script(plan=ghost_plan(""))))
    problems = (
        "dropped subtasks ['s1', 's2']: their dependencies form a cycle",
        "subtask s3: ignored unknown dependencies ['nope']",
    )
    code_verdict = by_code.values["verdicts"][0]
    model_verdict = by_model.values["verdicts"][0]
    assert code_verdict["accepted"] is model_verdict["accepted"] is False
    for problem in problems:
        assert problem in code_verdict["feedback"] and problem in model_verdict["feedback"]
        assert problem in by_code.values["notes"]
    assert [r["id"] for r in by_code.values["plan"]] == ["s3"]


def test_a_planner_that_returns_no_plan_fails_the_run_as_invalid_plan() -> None:
    result = _run(team(broken))
    assert (result.status, result.reason_code) == ("failed", "invalid_plan")
    assert "the code planner failed: TypeError" in result.reason


class CappedModel(ScriptedChatModel):
    """A scripted model whose replies are capped, as a provider's ``max_tokens`` is."""

    max_tokens: int = 512 + 120 * 10  # a page of 10 subtasks


def test_plan_page_fits_the_output_limit() -> None:
    assert plan_page(CallSettings(output_limit=16_384), 1000) == 132
    assert plan_page(CallSettings(output_limit=16_384, max_output_tokens=2_000), 5) == 5
    assert plan_page(CallSettings(), 8) == 8


def test_a_model_plans_25_subtasks_in_pages_of_what_its_reply_fits() -> None:
    asked: list[int] = []

    def planner(text: str, round_no: int) -> Plan:
        page = int(re.search(r"max_subtasks: (\d+)", text).group(1))  # type: ignore[union-attr]
        asked.append(page)
        start = (round_no - 1) * page
        items = [
            Subtask(id=f"w{n}", specialist="writer", instruction=f"Write {n}", depends_on=[])
            for n in range(start + 1, min(start + page, 25) + 1)
        ]
        return Plan(rationale="next page", subtasks=items)

    def respond(messages: list[BaseMessage], tools: list[Any]) -> Any:
        return team_script(plan=planner)(messages, tools)

    model = CappedModel(respond=respond)
    spec = team(max_workers_per_round=50, max_rounds=5).model_copy(
        update={"orchestrator": OrchestratorSpec(model=model)}
    )
    result = _run(spec, model=None)
    assert result.status == "completed", result.reason
    assert asked[0] == 10
    rounds = [r["round"] for r in result.values["plan"]]
    assert rounds == [1] * 10 + [2] * 10 + [3] * 5


def test_over_the_wire_a_plan_beyond_one_reply_is_made_in_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gpt-4o-mini's 16,384 output tokens hold 132 subtasks: 140 take two plan pages."""
    parts = 140
    task = "\n".join(f"Write note number {n} about the writer's topic" for n in range(parts))
    spec = team(max_workers_per_round=200, max_rounds=3, max_model_calls=1000)
    with openai_server(limits=PUBLISHED) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(":memory:") as saver:
            result = run_team(spec, task, saver=saver, model="openai:gpt-4o-mini")
    assert result.status == "completed", result.reason
    assert server.refused == []
    rounds = [r["round"] for r in result.values["plan"]]
    assert rounds == [1] * 132 + [2] * 8
    assert len({r["instruction"] for r in result.values["plan"]}) == parts
    accepted = [r for r in result.values["results"].values() if r["status"] == "accepted"]
    assert len(accepted) == parts
