"""Hierarchical teams: nesting, limits, and resume through the nesting."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import compiled, context, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

from orchestra.graphs import compile_team
from orchestra.nodes import (
    ScriptedChatModel,
    TransientModelError,
    WorkerCall,
    plan_of,
    team_script,
    tool_call,
)
from orchestra.state import (
    Limits,
    Plan,
    SpecialistOutput,
    SpecialistSpec,
    TeamSpec,
    TeamSpecError,
    load_team,
)

executed: list[str] = []


@tool
def ask_approval(question: str) -> str:
    """Ask a human to approve; the run pauses until they answer."""
    executed.append("ask_approval")
    answer = interrupt(question)
    return f"human said {answer}"


def three_levels() -> TeamSpec:
    worker = SpecialistSpec(name="worker", description="does the inner work", tools=[ask_approval])
    unit = TeamSpec(name="unit", specialists=[worker])
    dept = TeamSpec(
        name="dept",
        pattern="hierarchical",
        specialists=[
            SpecialistSpec(name="unit", description="the inner team", team=unit),
            SpecialistSpec(name="helper", description="helps the department"),
        ],
    )
    return TeamSpec(
        name="top",
        pattern="hierarchical",
        specialists=[
            SpecialistSpec(name="dept", description="the department", team=dept),
            SpecialistSpec(name="solo", description="works alone"),
        ],
    )


def scripted(plans: list[str]) -> ScriptedChatModel:
    def plan(text: str, round_no: int) -> Plan:
        level = "top" if "- dept:" in text else "dept" if "- unit:" in text else "unit"
        plans.append(f"{level}:{round_no}")
        if round_no > 1:
            return plan_of()
        return {
            "top": plan_of(("t1", "dept", "department work"), ("t2", "solo", "solo work")),
            "dept": plan_of(("d1", "unit", "unit work"), ("d2", "helper", "help")),
            "unit": plan_of(("u1", "worker", "inner work")),
        }[level]

    def worker(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if not call.tool_results:
            return AIMessage(
                content="", tool_calls=[tool_call("ask_approval", {"question": "ok?"})]
            )
        return SpecialistOutput(summary=call.tool_results[0], key_points=[])

    def simple(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary=f"{call.specialist} done", key_points=[])

    return ScriptedChatModel(
        respond=team_script(plan=plan, workers={"worker": worker, "solo": simple, "helper": simple})
    )


def test_an_interrupt_in_the_innermost_team_resumes_without_restarting_anything() -> None:
    executed.clear()
    plans: list[str] = []
    model = scripted(plans)
    graph = compile_team(three_levels(), checkpointer=InMemorySaver())
    config = run_config("h")

    first = graph.invoke({"task": "do it"}, config, context=context(model))
    assert "__interrupt__" in first
    assert first["__interrupt__"][0].value == "ok?"
    assert sorted(plans) == ["dept:1", "top:1", "unit:1"]
    assert executed == ["ask_approval"]

    final = graph.invoke(Command(resume="yes"), config, context=context(model))
    assert final["status"] == "completed"
    # every team planned its first round exactly once: no subgraph started over
    assert sorted(p for p in plans if p.endswith(":1")) == ["dept:1", "top:1", "unit:1"]
    assert len(model.calls_for("solo")) == 1
    assert len(model.calls_for("helper")) == 1
    # the interrupted node itself re-runs (LangGraph semantics), and the tool gets the answer
    assert executed == ["ask_approval", "ask_approval"]
    assert "human said yes" in final["results"]["t1"]["summary"]
    assert final["citations"] == ["t1", "t2"]


def test_a_nested_team_answers_as_a_typed_output_and_counts_its_calls() -> None:
    team = three_levels().model_copy(deep=True)
    inner = team.specialists[0].team
    assert inner is not None
    inner.specialists[0].team.specialists[0].tools = []  # type: ignore[union-attr]
    model = ScriptedChatModel(respond=team_script())  # offline policy for every role
    state = compiled(team).invoke(
        {"task": "dept: department work"}, run_config(), context=context(model)
    )
    assert state["status"] == "completed"
    assert state["model_calls"] == model.call_count  # child calls count towards the parent


def test_depth_over_the_cap_is_a_build_time_error() -> None:
    team = three_levels().model_copy(update={"limits": Limits(max_depth=2)})
    with pytest.raises(TeamSpecError, match="nested 3 levels deep, more than 2"):
        compile_team(team)


def test_a_child_cannot_be_given_more_than_its_parent_allows() -> None:
    child = TeamSpec(
        name="c",
        limits={"max_rounds": 5, "max_concurrency": 64},
        specialists=[SpecialistSpec(name="x", description="x")],
    )
    parent = TeamSpec(
        name="p",
        pattern="hierarchical",
        limits={"max_rounds": 2},
        specialists=[SpecialistSpec(name="c", description="child", team=child)],
    )
    with pytest.raises(TeamSpecError) as caught:
        compile_team(parent)
    assert caught.value.problems == [
        "specialists.c.team.limits.max_rounds: 5 exceeds the parent's 2",
        "specialists.c.team.limits.max_concurrency: 64 exceeds the parent's 16",
    ]


def test_nested_team_files_are_inlined_relative_to_the_parent(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.yaml").write_text(
        textwrap.dedent("""
        name: inner
        specialists: [{name: x, description: does x, tools: ["orchestra.nodes.toolkit:nope"]}]
    """)
    )
    (tmp_path / "outer.yaml").write_text(
        textwrap.dedent("""
        name: outer
        pattern: hierarchical
        specialists: [{name: inner, description: a team, team: sub/inner.yaml}]
    """)
    )
    team = load_team(tmp_path / "outer.yaml")
    assert team.specialists[0].team is not None
    with pytest.raises(TeamSpecError, match=r"specialists.inner.team: specialists.x.tools"):
        compile_team(team)  # the child's import problems are the parent's build errors


def test_team_files_that_include_each_other_are_refused(tmp_path: Path) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\npattern: hierarchical\n"
            f"specialists: [{{name: s, description: d, team: {other}.yaml}}]\n"
        )
    with pytest.raises(TeamSpecError, match="include each other"):
        load_team(tmp_path / "a.yaml")


def test_nested_teams_need_the_hierarchical_pattern() -> None:
    with pytest.raises(TeamSpecError, match="are teams: they run only with pattern 'hierarchical'"):
        compile_team(three_levels(), pattern="pipeline")


def test_a_crash_in_the_innermost_team_resumes_without_restarting_anything() -> None:
    plans: list[str] = []
    crash = {"worker": True}
    base = scripted(plans)

    def respond(messages: Any, tools: Any) -> Any:
        from orchestra.nodes.scripted import role_of, worker_call

        if role_of(tools) == "specialist" and worker_call(messages, tools).specialist == "worker":
            if crash["worker"]:
                raise TransientModelError("worker host died")
            return SpecialistOutput(summary="inner done", key_points=[])
        return base.respond(messages, tools)

    model = ScriptedChatModel(respond=respond)
    fast = Limits(retry_attempts=2, retry_initial_s=0.01)
    team = three_levels().model_copy(update={"limits": fast})
    graph = compile_team(team, checkpointer=InMemorySaver())
    config = run_config("crash")
    with pytest.raises(TransientModelError, match="worker host died"):
        graph.invoke({"task": "do it"}, config, context=context(model))
    crash["worker"] = False
    final = graph.invoke(None, config, context=context(model))

    assert final["status"] == "completed"
    assert sorted(p for p in plans if p.endswith(":1")) == ["dept:1", "top:1", "unit:1"]
    assert len(model.calls_for("solo")) == 1 and len(model.calls_for("helper")) == 1


def test_streaming_reaches_into_nested_teams() -> None:
    executed.clear()
    graph = compile_team(three_levels(), checkpointer=InMemorySaver())
    namespaces = {
        len(ns)
        for ns, _ in graph.stream(
            {"task": "do it"},
            run_config("s"),
            context=context(scripted([])),
            stream_mode="updates",
            subgraphs=True,
        )
    }
    assert namespaces == {0, 1, 2}  # top level, the department, the innermost unit
