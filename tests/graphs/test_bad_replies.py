"""Bad replies are repaired, never fatal: whole runs against models and servers that misbehave.

The orchestrator's and synthesizer's unreadable replies go back for correction with the
reply itself in the messages; a synthesis that stays unreadable becomes a labelled
fallback; a specialist whose forced output call is ignored still ends within
``max_steps``. No run here ends ``interrupted``, and no request breaks OpenAI's rules.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from misbehaving_server import (
    kind,
    misbehaving_server,
    prose,
    refuse,
    tool_call_as_text,
    truncate,
)

from orchestra.graphs import compile_team
from orchestra.graphs.team_files import example_teams
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.nodes.function_model import BoundTool, current_call
from orchestra.state import SpecialistOutput, TeamContext, load_team

PLAN_JSON = (
    '{"rationale": "one part", "subtasks": [{"id": "s1", "specialist": "alpha", '
    '"instruction": "look it up", "depends_on": []}]}'
)


def scripted(plans: list[Any], synthesis: list[Any] | None = None) -> ScriptedChatModel:
    """Orchestrator and synthesizer answers in turn (each call pops one); workers offline."""
    seen: list[list[BaseMessage]] = []

    def respond(messages: list[BaseMessage], tools: list[BoundTool]) -> Any:
        call = current_call()
        assert call is not None
        queue = plans if call.role == "orchestrator" else synthesis
        if queue is not None and call.role != "specialist":
            seen.append(list(messages))
            if queue:
                return queue.pop(0)
        return team_script()(messages, tools)

    model = ScriptedChatModel(respond=respond)
    model.__dict__["seen"] = seen  # the messages of each orchestrator/synthesizer call
    return model


def run(model: ScriptedChatModel, **spec: Any) -> dict[str, Any]:
    team = make_team("alpha", "beta", **spec)
    state: dict[str, Any] = compiled(team).invoke(
        {"task": "t"}, run_config(), context=context(model)
    )
    return state


def test_a_plan_in_fenced_json_is_accepted_without_a_correction() -> None:
    model = scripted([f"Here is the plan:\n```json\n{PLAN_JSON}\n```", plan_of()])
    state = run(model)
    assert state["status"] == "completed", state["reason"]
    assert [r["id"] for r in state["plan"]] == ["s1"]
    assert [v["accepted"] for v in state["verdicts"] if v["subtask_id"] == "plan:r1"] == [True]


def test_a_prose_plan_is_corrected_and_the_correction_shows_the_reply() -> None:
    model = scripted(["I would look it up first.", plan_of(("s1", "alpha", "look it up"))])
    state = run(model)
    assert state["status"] == "completed", state["reason"]
    second = model.__dict__["seen"][1]
    before, request = second[-2], second[-1]
    assert isinstance(before, AIMessage) and before.text == "I would look it up first."
    assert isinstance(request, HumanMessage) and "no JSON object" in request.text


def test_a_wrong_schema_plan_call_is_repeated_with_its_call_answered() -> None:
    wrong = AIMessage("", tool_calls=[tool_call("Plan", {"steps": ["a"]}, call_id="p1")])
    model = scripted([wrong, plan_of(("s1", "alpha", "look it up"))])
    state = run(model)
    assert state["status"] == "completed", state["reason"]
    turn = model.__dict__["seen"][1][-3:]
    assert [type(m).__name__ for m in turn] == ["AIMessage", "ToolMessage", "HumanMessage"]
    assert isinstance(turn[1], ToolMessage) and turn[1].tool_call_id == "p1"
    assert "rationale" in turn[2].text  # what was missing, by field


def test_no_readable_plan_in_a_later_round_ends_at_the_cap_with_the_work_so_far() -> None:
    model = scripted([plan_of(("s1", "alpha", "look it up")), "hmm", "well", "so"])
    state = run(model, limits={"max_plan_revisions": 2})
    assert state["status"] == "cap_reached" and state["reason"] == "max_plan_revisions"
    assert state["results"]["s1"]["status"] == "accepted"
    assert "[s1]" in state["answer"]
    assert [v["accepted"] for v in state["verdicts"] if v["subtask_id"] == "plan:r2"] == [False] * 3


def unreadable_synthesis(text: str) -> Any:
    return "The answer is clear."  # prose: no Synthesis to read


def test_a_synthesis_that_stays_unreadable_falls_back_labelled_and_the_run_is_partial() -> None:
    plan = plan_of(("s1", "alpha", "look it up"), ("s2", "beta", "check it"))
    model = ScriptedChatModel(respond=team_script(plan=plan, synthesis=unreadable_synthesis))
    state = run(model)
    assert state["status"] == "partial" and state["reason_code"] == "synthesis_fallback"
    assert state["reason"].startswith("fallback synthesis: the reply has no JSON object")
    answer = state["answer"]
    assert answer.startswith("Fallback synthesis (the model's reply could not be read: ")
    for sid in ("s1", "s2"):
        assert f"- [{sid}] {state['results'][sid]['summary']}" in answer
    assert state["citations"] == ["s1", "s2"]
    assert any(n.startswith("fallback synthesis: ") for n in state["notes"])
    synthesizer_calls = [c for c in model.calls if c.role == "synthesizer"]
    assert len(synthesizer_calls) == 2  # one correction turn, then the fallback
    assert state["ledger"]["synthesizer"]["model_calls"] == 2


def test_a_fallback_synthesis_names_the_subtasks_that_failed() -> None:
    plan = plan_of(("s1", "alpha", "look it up"), ("s2", "beta", "check it"))

    def beta_fails(call: WorkerCall) -> Any:
        return AIMessage("", tool_calls=[tool_call("SpecialistOutput", {"bad": 1})])

    model = ScriptedChatModel(
        respond=team_script(plan=plan, workers={"beta": beta_fails}, synthesis=unreadable_synthesis)
    )
    state = run(model, limits={"max_revisions": 0})
    assert state["status"] == "cap_reached"  # the revision cap outranks the fallback
    assert state["answer"].startswith("Fallback synthesis")
    assert "- [s1] " in state["answer"] and "- [s2]" not in state["answer"]
    assert "Not completed: s2 (beta) failed" in state["answer"]


def test_a_synthesis_corrected_once_completes_the_run() -> None:
    model = scripted(
        [plan_of(("s1", "alpha", "look it up")), plan_of()],
        ["Let me think about it.", '{"answer": "Found it [s1].", "citations": ["s1"]}'],
    )
    state = run(model)
    assert state["status"] == "completed", state["reason"]
    assert state["answer"] == "Found it [s1]."


@tool
def dig(query: str) -> str:
    """Dig up one fact."""
    return f"fact about {query}"


def test_a_specialist_answering_json_in_text_is_accepted() -> None:
    def in_text(call: WorkerCall) -> Any:
        return 'Done: {"summary": "SQLite is a file.", "key_points": ["one file"]}'

    team = make_team("alpha", alpha_spec={"max_steps": 2})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": in_text})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    result = state["results"]["s1"]
    assert result["status"] == "accepted" and result["summary"] == "SQLite is a file."
    assert any("read from the reply's text" in n for n in state["notes"])


def test_text_before_parallel_tool_calls_runs_each_call() -> None:
    def worker(call: WorkerCall) -> Any:
        if not call.tool_results:
            calls = [tool_call("dig", {"query": q}) for q in ("a", "b")]
            return AIMessage("Let me dig twice.", tool_calls=calls)
        return SpecialistOutput(summary=" / ".join(call.tool_results), key_points=[])

    team = make_team("alpha", tools={"alpha": [dig]}, alpha_spec={"max_steps": 3})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": worker})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    result = state["results"]["s1"]
    assert result["status"] == "accepted"
    assert result["summary"] == "fact about a / fact about b"
    assert result["tool_calls"] == ["dig", "dig"]


def wire_run(monkeypatch: pytest.MonkeyPatch, misbehave: Any, *, run_async: bool = False) -> Any:
    team = load_team(example_teams()["research"])
    with misbehaving_server(misbehave) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        graph = compile_team(team, checkpointer=InMemorySaver())
        given = (
            {"task": "Compare SQLite and PostgreSQL checkpointers"},
            {"configurable": {"thread_id": "bad"}},
        )
        ctx = TeamContext(model="openai:gpt-test")
        if run_async:
            state = asyncio.run(graph.ainvoke(*given, context=ctx))
        else:
            state = graph.invoke(*given, context=ctx)
    assert server.refused == [], "a request broke OpenAI's tool-message rule"
    return state, server


def first_only(rewrite: Any, wanted: str) -> Any:
    """Misbehave on the first request for ``wanted`` only."""
    done: list[bool] = []

    def misbehave(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if kind(request) == wanted and not done:
            done.append(True)
            rewrite(answer)

    return misbehave


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
def test_a_truncated_plan_over_the_wire_is_corrected(
    monkeypatch: pytest.MonkeyPatch, run_async: bool
) -> None:
    state, server = wire_run(monkeypatch, first_only(truncate, "Plan"), run_async=run_async)
    assert state["status"] == "completed", state["reason"]
    plans = [r for r in server.requests if kind(r) == "Plan"]
    assert len(plans) >= 2
    shown = plans[1]["messages"][-2:]
    assert shown[0]["role"] == "assistant" and shown[0]["content"]  # the cut-off plan
    assert "cut off at the output-token limit" in shown[1]["content"]
    assert state["ledger"]["orchestrator"]["model_calls"] >= 2


def test_a_truncated_plan_streamed_over_the_wire_is_corrected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    team = load_team(example_teams()["research"])
    final: dict[str, Any] = {}
    with misbehaving_server(first_only(truncate, "Plan")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        graph = compile_team(team, checkpointer=InMemorySaver())
        for mode, item in graph.stream(
            {"task": "Compare SQLite and PostgreSQL checkpointers"},
            {"configurable": {"thread_id": "streamed"}},
            context=TeamContext(model="openai:gpt-test"),
            stream_mode=["messages", "values"],
        ):
            if mode == "values":
                final = item
    assert final["status"] == "completed", final["reason"]
    assert all(r["stream"] is True for r in server.requests)
    plans = [r for r in server.requests if kind(r) == "Plan"]
    assert "cut off at the output-token limit" in plans[1]["messages"][-1]["content"]


def test_a_refused_plan_over_the_wire_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    state, server = wire_run(monkeypatch, first_only(refuse, "Plan"))
    assert state["status"] == "completed", state["reason"]
    plans = [r for r in server.requests if kind(r) == "Plan"]
    assert "the model refused" in plans[1]["messages"][-1]["content"]


def test_a_server_ignoring_response_format_is_used_through_tools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def anthropic_like(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if request.get("response_format"):
            prose(answer, "Happy to help! First I would research both checkpointers.")

    state, server = wire_run(monkeypatch, anthropic_like)
    assert state["status"] == "completed", state["reason"]
    structured = [r for r in server.requests if kind(r) in ("Plan", "Synthesis")]
    with_format = [kind(r) for r in structured if "response_format" in r]
    assert with_format == ["Plan", "Synthesis"]  # each role tries once, then uses tools
    assert len(state["notes"]) >= 2
    assert sum("asked again through tool calling" in n for n in state["notes"]) == 2
    assert len(server.requests) == state["model_calls"]


def test_a_synthesis_cut_off_every_time_falls_back_and_the_run_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def cut_synthesis(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if kind(request) == "Synthesis":
            truncate(answer)

    state, server = wire_run(monkeypatch, cut_synthesis)
    assert state["status"] == "partial" and state["reason_code"] == "synthesis_fallback"
    assert state["answer"].startswith("Fallback synthesis (the model's reply could not be read")
    assert len([r for r in server.requests if kind(r) == "Synthesis"]) == 2


def test_a_server_ignoring_tool_choice_still_finishes_each_specialist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def ollama_like(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if isinstance(request.get("tool_choice"), dict) and kind(request) == "tools":
            tool_call_as_text(answer)  # the forced output comes back as text

    state, server = wire_run(monkeypatch, ollama_like)
    assert state["status"] == "completed", state["reason"]
    assert all(r["status"] == "accepted" for r in state["results"].values())
