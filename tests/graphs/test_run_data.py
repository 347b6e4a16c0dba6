"""Typed run data: an application's deps reach tools and checks, and survive a resume."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import make_team
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from orchestra import (
    OrchestraError,
    RunData,
    RunStopped,
    SpecialistOutput,
    StopSignal,
    TeamContext,
    TransientModelError,
    compile_team,
    open_checkpointer,
    resume_run,
    run_team,
    snapshot,
)
from orchestra.testing import ScriptedChatModel, WorkerCall, plan_of, team_script


class Deps(BaseModel):
    """An application's own data for one run."""

    greeting: str
    banned: str = "nothing"


seen: list[tuple[str, Any]] = []


@tool
def greet(name: str, run: RunData[Deps]) -> str:
    """Greet someone as this run's deps say."""
    assert isinstance(run.deps, Deps)  # typed, even after a resume restored it from JSON
    seen.append(("tool", run.deps))
    subtask = run.subtask.id if run.subtask else "?"
    return f"{run.deps.greeting}, {name} (for {subtask}, thread {run.thread_id})"


@pytest.fixture(autouse=True)
def _forget() -> None:
    seen.clear()


def calling_greet(fail: dict[str, bool] | None = None) -> Any:
    """A worker that calls ``greet`` once, then reports what it answered."""

    def worker(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if fail and fail.get("now"):
            raise TransientModelError("the provider is down")
        if not call.tool_results:
            args = {"name": call.subtask_id}
            return AIMessage(content="", tool_calls=[{"name": "greet", "args": args, "id": "c1"}])
        return SpecialistOutput(summary=call.tool_results[-1], key_points=[])

    return worker


def greeting_model(fail: dict[str, bool] | None = None, **plan: Any) -> ScriptedChatModel:
    chosen = plan_of(*plan.get("subtasks", [("s1", "alpha", "greet s1")]))
    workers = {"alpha": calling_greet(fail)}
    model = ScriptedChatModel(respond=team_script(plan=chosen, workers=workers))
    return model


def test_a_tool_gets_the_runs_deps_and_the_model_never_sees_the_parameter() -> None:
    schemas: list[dict[str, Any]] = []
    model = greeting_model()
    team = make_team("alpha", tools={"alpha": [greet]})
    original = model.respond

    def recording(messages: Any, tools: Any) -> Any:
        schemas.extend(t.parameters for t in tools if t.name == "greet")
        return original(messages, tools)

    model.respond = recording
    with open_checkpointer(":memory:") as saver:
        result = run_team(
            team, "greet", saver=saver, thread_id="t1", model=model, deps=Deps(greeting="Ahoy")
        )
    assert result.status == "completed"
    assert result.values["results"]["s1"]["summary"] == "Ahoy, s1 (for s1, thread t1)"
    assert schemas and all(set(s["properties"]) == {"name"} for s in schemas)


def test_an_async_run_hands_the_deps_to_tools_too() -> None:
    team = make_team("alpha", tools={"alpha": [greet]})
    graph = compile_team(team)
    invoked = graph.ainvoke(
        {"task": "greet"},
        {"configurable": {"thread_id": "a1"}, "recursion_limit": 50},
        context=TeamContext(model=greeting_model(), deps=Deps(greeting="Moin")),
    )
    state = asyncio.run(asyncio.wait_for(invoked, timeout=60))
    assert state["results"]["s1"]["summary"] == "Moin, s1 (for s1, thread a1)"


def test_deps_are_stored_with_the_run_and_a_resume_elsewhere_gets_them_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "runs.sqlite"
    fail = {"now": True}
    model = greeting_model(fail)
    team = make_team(
        "alpha", tools={"alpha": [greet]}, limits={"retry_attempts": 1, "retry_initial_s": 0.01}
    )
    with open_checkpointer(db) as saver:
        first = run_team(
            team, "greet", saver=saver, thread_id="t1", model=model, deps=Deps(greeting="Hej")
        )
    assert first.status == "interrupted"
    assert first.values["deps"] == {
        "greeting": "Hej",
        "banned": "nothing",
    }  # JSON, in the checkpoint

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    fail["now"] = False
    with open_checkpointer(db) as saver:  # a new connection: the deps come from disk
        resumed = resume_run("t1", saver=saver, model=model, team=team)
    assert resumed.status == "completed"
    assert resumed.values["results"]["s1"]["summary"].startswith("Hej, s1")
    assert seen == [("tool", Deps(greeting="Hej"))]


def check_inputs(output: BaseModel, run: RunData[Deps]) -> str | None:
    """A team check that reads the deps, the subtask's instruction and its inputs."""
    assert run.subtask is not None
    seen.append((run.subtask.id, (run.subtask.instruction, dict(run.subtask.inputs))))
    if run.deps.banned in str(output.model_dump()):
        return f"{run.deps.banned!r} is banned in this run"
    return None


def test_a_check_sees_the_deps_and_the_subtasks_instruction_and_inputs() -> None:
    plan = plan_of(("s1", "alpha", "write one"), ("s2", "alpha", "write two", ["s1"]))

    def alpha(call: WorkerCall) -> SpecialistOutput:
        text = "ok" if call.feedback else f"{call.subtask_id} says boo"
        return SpecialistOutput(summary=text, key_points=[])

    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha}))
    team = make_team(
        "alpha", validator={"checks": ["test_run_data:check_inputs"]}, limits={"max_revisions": 1}
    )
    with open_checkpointer(":memory:") as saver:
        result = run_team(
            team, "go", saver=saver, model=model, deps=Deps(greeting="-", banned="boo")
        )
    assert result.status == "completed"
    by_subtask = {sid: seen_by for sid, seen_by in seen}
    instruction, inputs = by_subtask["s2"]
    assert instruction == "write two"
    assert set(inputs) == {"s1"} and inputs["s1"]["summary"] == "ok"
    assert by_subtask["s1"] == ("write one", {})
    feedback = [v["feedback"] for v in result.values["verdicts"] if not v["accepted"]]
    assert feedback == ["'boo' is banned in this run"] * 2  # s1 and s2, each once


def test_deps_without_a_json_form_are_a_clear_error() -> None:
    team = make_team("alpha")
    with open_checkpointer(":memory:") as saver, pytest.raises(OrchestraError, match="JSON data"):
        run_team(team, "go", saver=saver, model="offline", deps={"lock": object()})


log: list[str] = []


@tool
def work(item: str, run: RunData[Any]) -> str:
    """Do one unit of work; the first one ever asks the run to stop."""
    log.append(item)
    if len(log) == 1:
        run.stop.request("enough for now")
    return f"did {item}"


def test_a_stop_ends_the_run_between_steps_and_a_resume_finishes_it(tmp_path: Path) -> None:
    log.clear()
    plan = plan_of(("s1", "alpha", "one"), ("s2", "alpha", "two"))

    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if not call.tool_results:
            args = {"item": call.subtask_id}
            return AIMessage(content="", tool_calls=[{"name": "work", "args": args, "id": "c1"}])
        return SpecialistOutput(summary=call.tool_results[-1], key_points=[])

    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha}))
    team = make_team("alpha", tools={"alpha": [work]}, limits={"max_concurrency": 1})
    db = tmp_path / "runs.sqlite"
    with open_checkpointer(db) as saver:
        with pytest.raises(RunStopped, match="enough for now"):
            run_team(team, "go", saver=saver, thread_id="t1", model=model, stop=StopSignal())
        stopped = snapshot("t1", saver=saver, team=team)
        assert not stopped.finished and stopped.values.get("results", {}) == {}
        assert len(log) == 1  # the other worker gave up its turn instead of starting
        resumed = resume_run("t1", saver=saver, model=model, team=team, stop=StopSignal())
    assert resumed.status == "completed"
    # The stopped worker ran again, its finished tool call read back (a durable step), not redone.
    assert log[1:] == ["s2"]


def test_ctrl_c_asks_for_a_stop_and_a_second_one_interrupts() -> None:
    stop = StopSignal()
    with stop.on_ctrl_c():
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and "Ctrl-C" in stop.reason
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
