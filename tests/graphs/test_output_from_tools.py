"""A tool whose result already is the output ends the step (``output_from_tools``).

The specialist's model asks for the tool once; its result, when it validates as the
output type, is the subtask's output, and the model is not called again to copy it.
A result that does not validate goes back to the model with the error, as any result.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from orchestra.graphs.team_files import team_schema
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, resolve_team, team_script
from orchestra.nodes import tool_call as make_call
from orchestra.state import SpecialistOutput, TeamSpec, TeamSpecError

RAN: list[str] = []
CRASH: list[bool] = []


class Crash(BaseException):
    """A process dying mid-node (not an error any framework code catches)."""


@tool
def report_object(topic: str) -> SpecialistOutput:
    """Report on a topic as a typed object."""
    RAN.append("report_object")
    return SpecialistOutput(summary=f"All about {topic}.", key_points=[f"{topic} is real"])


@tool
def report_dict(topic: str) -> dict[str, Any]:
    """Report on a topic as a plain dict."""
    RAN.append("report_dict")
    return {"summary": f"Dict about {topic}.", "key_points": []}


@tool
def report_broken(topic: str) -> dict[str, Any]:
    """Report on a topic, but without its key points."""
    RAN.append("report_broken")
    return {"summary": f"Half about {topic}."}


@tool
def note_down(topic: str) -> str:
    """Note a topic down (crashes the process once when asked to)."""
    RAN.append("note_down")
    if CRASH:
        CRASH.pop()
        raise Crash
    return f"noted {topic}"


@pytest.fixture(autouse=True)
def _clean() -> None:
    RAN.clear()
    CRASH.clear()


def team(tools: list[Any], stop_at: list[str], **spec: Any) -> TeamSpec:
    return make_team(
        "reporter",
        tools={"reporter": tools},
        reporter_spec={"output_from_tools": stop_at, "max_steps": 4},
        limits={"max_rounds": 1},
        **spec,
    )


def calling(*names: str) -> Any:
    """A worker that calls ``names`` in its first reply, then reports from what it read."""

    def work(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.step == 0:
            calls = [
                make_call(n, {"topic": "LangGraph"}, call_id=f"c{i}") for i, n in enumerate(names)
            ]
            return AIMessage(content="", tool_calls=calls)
        return SpecialistOutput(summary="From the model.", key_points=list(call.tool_results))

    return work


def run(spec: TeamSpec, worker: Any) -> tuple[dict[str, Any], ScriptedChatModel]:
    model = ScriptedChatModel(
        respond=team_script(
            plan=plan_of(("s1", "reporter", "report")), workers={"reporter": worker}
        )
    )
    state = compiled(spec).invoke({"task": "t"}, run_config(), context=context(model))
    return state, model


def test_a_tool_returning_the_output_object_ends_the_worker_after_one_model_call() -> None:
    state, model = run(team([report_object], ["report_object"]), calling("report_object"))
    result = state["results"]["s1"]
    assert state["status"] == "completed"
    assert result["status"] == "accepted"  # through the validator as any output
    assert result["output"] == {
        "summary": "All about LangGraph.",
        "key_points": ["LangGraph is real"],
    }
    assert result["summary"] == "All about LangGraph."
    assert result["steps"] == 1 and result["tool_calls"] == ["report_object"]
    assert len(model.calls_for("reporter")) == 1
    assert any("report_object's result (output_from_tools)" in n for n in state["notes"])
    assert state["ledger"]["s1"]["model_calls"] == 1


def test_async_runs_end_the_same_way() -> None:
    model = ScriptedChatModel(
        respond=team_script(
            plan=plan_of(("s1", "reporter", "report")),
            workers={"reporter": calling("report_object")},
        )
    )
    graph = compiled(team([report_object], ["report_object"]))
    state = asyncio.run(graph.ainvoke({"task": "t"}, run_config(), context=context(model)))
    assert state["results"]["s1"]["output"]["summary"] == "All about LangGraph."
    assert len(model.calls_for("reporter")) == 1


def test_a_dict_that_validates_is_the_output_too_and_the_replys_other_calls_still_run() -> None:
    spec = team([note_down, report_dict], ["report_dict"])
    state, model = run(spec, calling("report_dict", "note_down"))
    assert state["results"]["s1"]["output"] == {
        "summary": "Dict about LangGraph.",
        "key_points": [],
    }
    assert RAN == ["report_dict", "note_down"]  # as the Agents SDK: the reply's calls all run
    assert len(model.calls_for("reporter")) == 1


def test_an_invalid_result_goes_back_to_the_model_with_the_error_and_the_loop_goes_on() -> None:
    state, model = run(team([report_broken], ["report_broken"]), calling("report_broken"))
    result = state["results"]["s1"]
    assert len(model.calls_for("reporter")) == 2  # the model was asked again
    assert result["output"]["summary"] == "From the model."
    (seen,) = result["output"]["key_points"]  # the tool's answer as the model read it
    assert json.loads(seen.split("\n\n")[0]) == {"summary": "Half about LangGraph."}
    assert (
        "not a valid SpecialistOutput (1 validation error(s); key_points: Field required)" in seen
    )
    assert any(
        "report_broken's result is not a valid SpecialistOutput" in n for n in state["notes"]
    )


def test_a_tool_not_named_in_output_from_tools_is_only_read_by_the_model() -> None:
    state, model = run(team([report_object], []), calling("report_object"))
    assert len(model.calls_for("reporter")) == 2
    assert state["results"]["s1"]["output"]["summary"] == "From the model."


def test_a_crash_after_the_tool_resumes_without_calling_the_model_or_the_tool_again() -> None:
    saver = InMemorySaver()
    graph = compiled(team([report_object, note_down], ["report_object"]), saver)
    worker = calling("report_object", "note_down")
    model = ScriptedChatModel(
        respond=team_script(
            plan=plan_of(("s1", "reporter", "report")), workers={"reporter": worker}
        )
    )
    CRASH.append(True)
    with pytest.raises(Crash):
        graph.invoke({"task": "t"}, run_config(), context=context(model))
    assert RAN == ["report_object", "note_down"]
    final = graph.invoke(None, run_config(), context=context(model))
    assert final["status"] == "completed"
    assert final["results"]["s1"]["output"]["summary"] == "All about LangGraph."
    assert RAN == ["report_object", "note_down", "note_down"]  # the finished tool was read back
    assert len(model.calls_for("reporter")) == 1  # and so was the model's reply
    # the result is checkpointed as any worker's: a later read needs no model
    stored = graph.get_state(run_config()).values["results"]["s1"]
    assert stored["output"] == final["results"]["s1"]["output"]


def test_output_from_tools_names_one_of_the_specialists_tools() -> None:
    with pytest.raises(TeamSpecError, match=r"output_from_tools: no tool named 'nope'"):
        resolve_team(team([report_object], ["nope"]))
    described = team_schema()["$defs"]["SpecialistSpec"]["properties"]["output_from_tools"]
    assert described["type"] == "array" and "StopAtTools" in described["description"]
