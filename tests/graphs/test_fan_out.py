"""Parallel fan-out with its join policies, driven by the scripted model."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from orchestra.graphs.runner import open_checkpointer, resume_run, run_team
from orchestra.nodes import (
    ScriptedChatModel,
    TransientModelError,
    WorkerCall,
    team_script,
    tool_call,
)
from orchestra.nodes.durable import is_step
from orchestra.state import SpecialistOutput

BRANCHES = ("north", "south", "east")


@tool
def dig(query: str) -> str:
    """Dig up one more fact."""
    return f"fact about {query}: " + "detail " * 20


def out(summary: str) -> SpecialistOutput:
    return SpecialistOutput(summary=summary, key_points=[])


def failing(names: set[str], error: type[Exception] = RuntimeError) -> Any:
    def work(call: WorkerCall) -> SpecialistOutput:
        if call.specialist in names:
            raise error(f"{call.specialist} is down")
        return out(f"{call.specialist} ok")

    return work


def test_branches_run_concurrently_in_one_superstep() -> None:
    barrier = threading.Barrier(3, timeout=20)

    def work(call: WorkerCall) -> SpecialistOutput:
        barrier.wait()  # all three must be in flight together
        return out(call.specialist)

    team = make_team(*BRANCHES, pattern="fan_out")
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, work)))
    graph = compiled(team)
    steps: dict[int, list[str]] = {}
    for chunk in graph.stream(
        {"task": "t"}, run_config(), context=context(model), stream_mode="debug"
    ):
        if chunk["type"] == "task" and not is_step(chunk["payload"]["name"]):
            steps.setdefault(chunk["step"], []).append(chunk["payload"]["name"])
    assert sorted(BRANCHES) in [sorted(names) for names in steps.values()]
    assert graph.get_state(run_config()).values["status"] == "completed"


# (join, quorum, branches that fail, expected status)
CASES = [
    ("all", None, set(), "completed"),
    ("all", None, {"north"}, "failed"),
    ("all", None, set(BRANCHES), "failed"),
    ("settled", None, set(), "completed"),
    ("settled", None, {"north"}, "partial"),
    ("settled", None, set(BRANCHES), "partial"),
    ("quorum", 2, set(), "completed"),
    ("quorum", 2, {"north"}, "partial"),
    ("quorum", 2, {"north", "south"}, "failed"),
    ("quorum", 2, set(BRANCHES), "failed"),
]


@pytest.mark.parametrize(("join", "quorum", "down", "status"), CASES)
def test_join_policies(join: str, quorum: int | None, down: set[str], status: str) -> None:
    team = make_team(*BRANCHES, pattern="fan_out", fan_out={"join": join, "quorum": quorum})
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, failing(down))))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["status"] == status
    for name in BRANCHES:
        result = state["results"][name]
        if name in down:
            assert result["status"] == "failed"
            assert result["reason"] == f"RuntimeError: {name} is down"
            assert name in state["answer"]  # failures are named, never hidden
        else:
            assert result["status"] == "accepted"  # a sibling's failure took nothing away
    synthesized = any(c.role == "synthesizer" for c in model.calls)
    assert synthesized == (status != "failed")


@pytest.mark.parametrize("join", ["all", "quorum"])
def test_a_branch_out_of_budget_ends_the_run_budget_exhausted_not_failed(join: str) -> None:
    def work(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.specialist == "north":  # never done: it wants one more fact until stopped
            return AIMessage(content="", tool_calls=[tool_call("dig", {"query": "more"})])
        return out(f"{call.specialist} ok")

    team = make_team(
        *BRANCHES,
        tools={"north": [dig]},
        north_spec={"max_steps": 30, "budget": {"max_tokens": 800}},
        pattern="fan_out",
        fan_out={"join": join, "quorum": 3 if join == "quorum" else None},
    )
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, work)))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["results"]["north"]["status"] == "exhausted"
    assert state["status"] == "budget_exhausted"
    assert "out of budget: north" in state["reason"]
    assert state["results"]["north"]["output"] is not None  # its partial work is kept


def test_fail_fast_ends_the_run_and_a_resume_redoes_only_the_unfinished_branch(
    tmp_path: Path,
) -> None:
    down = {"south"}
    work = failing(down, TransientModelError)
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, work)))
    team = make_team(
        *BRANCHES,
        pattern="fan_out",
        fan_out={"join": "fail_fast"},
        limits={"retry_attempts": 1, "retry_initial_s": 0.001},
    )
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        first = run_team(team, "t", saver=saver, thread_id="ff", model=model)
        assert first.status == "interrupted"  # a provider outage outlasted the retries
        assert first.error == "TransientModelError: south is down"
        assert first.pending == ("south",)
        down.clear()
        resumed = resume_run("ff", saver=saver, model=model)
    assert resumed.status == "completed"
    assert {n: len(model.calls_for(n)) for n in BRANCHES} == {"north": 1, "south": 3, "east": 1}


def test_fail_fast_fails_the_run_on_a_branchs_permanent_model_error() -> None:
    model = ScriptedChatModel(
        respond=team_script(workers=dict.fromkeys(BRANCHES, failing({"south"})))
    )
    team = make_team(*BRANCHES, pattern="fan_out", fan_out={"join": "fail_fast"})
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["results"]["south"]["status"] == "failed"
    assert state["results"]["south"]["reason"] == "RuntimeError: south is down"
    assert state["status"] == "failed"
    assert len(model.calls_for("south")) == 1  # a permanent error is not retried


def test_a_branch_rejected_at_the_cap_fails_a_fail_fast_run() -> None:
    team = make_team(
        *BRANCHES,
        pattern="fan_out",
        fan_out={"join": "fail_fast"},
        limits={"max_revisions": 0},
        north_spec={"checks": [lambda o: "no"]},
    )
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, failing(set()))))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["status"] == "failed"
    assert state["reason"] == "join fail_fast: 1 of 3 branches failed"


def test_map_runs_one_specialist_once_per_line() -> None:
    seen: list[str] = []

    def scout(call: WorkerCall) -> SpecialistOutput:
        seen.append(call.instruction)
        return out(call.instruction.upper())

    team = make_team("scout", pattern="fan_out", fan_out={"map": "scout"})
    model = ScriptedChatModel(respond=team_script(workers={"scout": scout}))
    state = compiled(team).invoke(
        {"task": "alpha\n\nbeta\ngamma\n"}, run_config(), context=context(model)
    )
    assert sorted(seen) == ["alpha", "beta", "gamma"]
    assert [r["id"] for r in state["plan"]] == ["scout_1", "scout_2", "scout_3"]
    assert state["citations"] == ["scout_1", "scout_2", "scout_3"]


def test_a_transient_error_in_a_branch_is_retried_not_recorded_as_a_failure() -> None:
    from orchestra.nodes import TransientModelError

    left = {"east": 1}

    def work(call: WorkerCall) -> SpecialistOutput:
        if left.get(call.specialist):
            left[call.specialist] -= 1
            raise TransientModelError("503 from the provider")
        return out(call.specialist)

    team = make_team(*BRANCHES, pattern="fan_out", fan_out={"join": "all"})
    model = ScriptedChatModel(respond=team_script(workers=dict.fromkeys(BRANCHES, work)))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["status"] == "completed"
    assert len(model.calls_for("east")) == 2
