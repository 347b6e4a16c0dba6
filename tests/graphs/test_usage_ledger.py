"""The ledger counts every answered (billed) model call exactly once: across a stop and a
resume, and when a worker or the orchestrator fails for good after calls were answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from orchestra.graphs.runner import open_checkpointer, resume_run, run_team, snapshot
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.state import (
    Plan,
    RunData,
    RunStopped,
    SpecialistOutput,
    StopSignal,
    Subtask,
    totals,
)

stops: list[str] = []


@tool
def dig(query: str, run: RunData[Any]) -> str:
    """Dig one fact up; the first dig ever asks the run to stop."""
    stops.append(query)
    if len(stops) == 1:
        run.stop.request("stopped mid-worker")
    return f"dug {query}"


def digger(call: WorkerCall) -> AIMessage | SpecialistOutput:
    if not call.tool_results:
        return AIMessage(content="", tool_calls=[tool_call("dig", {"query": call.subtask_id})])
    return SpecialistOutput(summary=call.tool_results[-1], key_points=[])


def billed(model: ScriptedChatModel) -> tuple[int, int]:
    """Calls the model answered and the tokens they reported (what a provider bills)."""
    answered = model.tokens_per_call  # one entry per call that returned a reply
    return len(answered), sum(answered)


def test_a_worker_stopped_mid_way_is_counted_once_after_the_resume(tmp_path: Path) -> None:
    stops.clear()
    team = make_team("alpha", tools={"alpha": [dig]})
    plan = plan_of(("s1", "alpha", "dig"))
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": digger}))
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        with pytest.raises(RunStopped):
            run_team(team, "t", saver=saver, thread_id="u1", model=model, stop=StopSignal())
        stopped = snapshot("u1", saver=saver, team=team)
        assert "s1" not in stopped.values.get("ledger", {})  # stopped before its result was saved
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        resumed = resume_run("u1", saver=saver, model=model, team=team)
    assert resumed.status == "completed"
    spent = totals(resumed.values["ledger"])
    assert (spent["model_calls"], spent["tokens"]) == billed(model)
    assert resumed.values["ledger"]["s1"]["model_calls"] == 2
    assert len(model.calls_for("alpha")) == 2  # its first call was read back, not made again


def _refused() -> openai.AuthenticationError:
    response = httpx.Response(401, request=httpx.Request("POST", "http://x"))
    return openai.AuthenticationError("Incorrect API key", response=response, body=None)


def test_a_worker_failing_for_good_keeps_the_spend_of_its_answered_calls() -> None:
    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.tool_results:
            raise _refused()  # e.g. the key was revoked mid-run
        return digger(call)

    stops.extend(["not the first"])  # the tool does not stop this run
    team = make_team("alpha", tools={"alpha": [dig]})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "dig")), workers={"alpha": alpha})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["results"]["s1"]["status"] == "failed"
    assert "Incorrect API key" in state["results"]["s1"]["reason"]
    entry = state["ledger"]["s1"]
    assert entry["model_calls"] == 1 and entry["input_tokens"] > 0
    spent = totals(state["ledger"])
    assert (spent["model_calls"], spent["tokens"]) == billed(model)


def test_an_orchestrator_failing_on_its_correction_call_keeps_the_first_calls_spend() -> None:
    asked: list[int] = []

    def plan(text: str, round_no: int) -> Plan:
        asked.append(round_no)
        if len(asked) > 1:
            raise _refused()
        bad = Subtask(id="s1", specialist="nobody", instruction="x", depends_on=[])
        return Plan(rationale="a plan with a problem", subtasks=[bad])

    team = make_team("alpha")
    model = ScriptedChatModel(respond=team_script(plan=plan))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["status"] == "failed" and state["reason_code"] == "model_error"
    assert state["ledger"]["orchestrator"]["model_calls"] == 1
    spent = totals(state["ledger"])
    assert (spent["model_calls"], spent["tokens"]) == billed(model)
