"""Servers that refuse or ignore ``tool_choice``, over the wire: what a specialist does.

vLLM started without ``--enable-auto-tool-choice`` refuses ``tool_choice: "auto"`` (and
tools sent without a choice) with 400; it takes ``"required"`` and a named tool. Ollama
ignores ``tool_choice``, so a forced output call comes back as prose; it honours a JSON
schema ``response_format``, and refuses a history tool call whose arguments are not JSON.
The profiles are ``tests/provider_profiles.py``'s; every run here talks to ``ChatOpenAI``
through the loopback server.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from openai_server import openai_server
from pydantic import BaseModel, SecretStr

from orchestra.graphs.runner import RunResult, open_checkpointer, run_team
from orchestra.nodes.bindings import ToolSteps
from orchestra.nodes.model_quirks import refuses_auto_tool_choice
from orchestra.nodes.structured import StructuredModel
from orchestra.nodes.toolkit import search_notes
from orchestra.state import SpecialistOutput, SpecialistSpec, TeamSpec, load_team

AUTO_REFUSED = '"auto" tool choice requires --enable-auto-tool-choice'


def pipeline(*stages: SpecialistSpec, model: Any = None) -> TeamSpec:
    """The stages in order: one specialist at a time, so each request follows the last."""
    return TeamSpec(
        name="stages",
        pattern="pipeline",
        pipeline={"stages": [s.name for s in stages], "answer": "last_stage"},
        specialists=list(stages),
        limits={"max_revisions": 0, "retry_attempts": 1},
        **({"model": model} if model is not None else {}),
    )


RESEARCH = SpecialistSpec(
    name="research",
    description="Finds facts in the notes on checkpoints and databases.",
    tools=["orchestra.nodes.toolkit:search_notes"],
    max_steps=3,
)
DRAFT = SpecialistSpec(name="draft", description="Drafts a short answer.", max_steps=1)
EDIT = SpecialistSpec(name="edit", description="Edits the draft for brevity.", max_steps=1)


def run(team: TeamSpec, server: Any, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> RunResult:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with open_checkpointer(":memory:") as saver:
        return run_team(team, "Explain how SQLite checkpoints work", saver=saver, **kw)


def tool_requests(server: Any) -> list[dict[str, Any]]:
    return [r for r in server.requests if r.get("tools")]


def test_a_vllm_server_without_auto_tool_choice_gets_required_after_one_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with openai_server("vllm") as server:
        result = run(pipeline(RESEARCH, DRAFT), server, monkeypatch, model="openai:gpt-test")
    assert result.status == "completed", result.reason

    # One request refused: the first tool step, sent with tools and no tool_choice.
    assert len(server.refused) == 1
    probe = server.refused[0]
    assert probe["tools"] and "tool_choice" not in probe
    assert [e.status for e in server.log].count(400) == 1
    # The same step sent again at once with "required", and every later step too.
    first, *later = tool_requests(server)[1:]
    assert first["messages"] == probe["messages"] and first["tool_choice"] == "required"
    choices = [r["tool_choice"] for r in later]
    assert choices == ["required", {"type": "function", "function": {"name": "SpecialistOutput"}}]
    assert result.values["results"]["research"]["tool_calls"] == ["search_notes"]


def test_tool_choice_required_in_the_team_file_sends_no_auto_at_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    team_file = tmp_path / "team.yaml"
    team_file.write_text(
        "name: stages\n"
        "pattern: pipeline\n"
        "pipeline: {stages: [research], answer: last_stage}\n"
        "model: {model: 'openai:gpt-test', tool_choice: required}  # a vLLM without the flag\n"
        "specialists:\n"
        "  - name: research\n"
        "    description: Finds facts in the notes on checkpoints and databases.\n"
        "    tools: ['orchestra.nodes.toolkit:search_notes']\n"
        "    max_steps: 3\n"
    )
    with openai_server("vllm") as server:
        result = run(load_team(team_file), server, monkeypatch)
    assert result.status == "completed", result.reason
    assert server.refused == []
    assert [r["tool_choice"] for r in tool_requests(server)] == ["required", "required"]


def test_an_ignored_forced_output_call_is_asked_for_once_through_structured_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with openai_server("ollama") as server:
        result = run(pipeline(DRAFT, EDIT), server, monkeypatch, model="openai:gpt-test")
    assert result.status == "completed", result.reason
    assert server.refused == []

    forced, asked, straight = server.requests
    # draft's only step forces its output tool; Ollama answers in prose.
    assert forced["tool_choice"] == {"type": "function", "function": {"name": "SpecialistOutput"}}
    # Asked once more, through response_format: beyond max_steps by that one call.
    schema = asked["response_format"]["json_schema"]
    assert schema["name"] == "SpecialistOutput" and "tools" not in asked
    assert "as one JSON object" in asked["messages"][-1]["content"]
    # The model is noted: edit's forced step goes to structured output at once.
    assert straight["response_format"]["type"] == "json_schema" and "tools" not in straight
    results = result.values["results"]
    assert [results[s]["status"] for s in ("draft", "edit")] == ["accepted", "accepted"]
    assert [results[s]["steps"] for s in ("draft", "edit")] == [1, 1]  # max_steps 1 each
    assert result.values["model_calls"] == len(server.requests) == 3
    assert any("asked for through structured output" in n for n in result.values["notes"])


def test_a_tool_call_with_unreadable_arguments_is_kept_as_valid_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with openai_server("ollama") as server:
        server.garble_tool_calls = 1
        result = run(pipeline(RESEARCH), server, monkeypatch, model="openai:gpt-test")
    assert result.status == "completed", result.reason
    assert server.refused == []  # Ollama refuses a history call whose arguments are not JSON
    garbled = server.garbled[0]
    later = server.requests[1]["messages"]
    call = next(c for m in later for c in m.get("tool_calls") or [] if c["id"] == garbled)
    assert call["function"]["arguments"] == "{}"
    answer = next(m for m in later if m.get("tool_call_id") == garbled)["content"]
    assert "not valid JSON" in answer and "They read: '{" in answer
    for request in server.requests:  # valid under OpenAI's rules too: each call answered
        for message in request["messages"]:
            for made in message.get("tool_calls") or []:
                json.loads(made["function"]["arguments"])


class Verdict(BaseModel):
    verdict: str
    reasons: list[str]


def test_structured_output_goes_back_to_json_schema_when_a_forced_tool_is_ignored_too() -> None:
    with openai_server("ollama") as server:
        chat = ChatOpenAI(
            model="gpt-test", base_url=server.base_url, api_key=SecretStr("k"), max_retries=0
        )
        model = StructuredModel(chat, Verdict)
        server.inject("refusal")  # one bad reply in prose, not a server ignoring the schema
        asked = [HumanMessage("Judge: SQLite is a file.")]
        first = model.invoke(asked)
        assert first["ask_again"] and model.method == "function_calling"
        second = model.invoke(asked)  # Ollama ignores the forced tool: prose again
        assert second["parsed"] is None and model.method == "json_schema"
        third = model.invoke(asked)
    assert isinstance(third["parsed"], Verdict)
    assert "tool_choice" in server.requests[1] and "response_format" in server.requests[2]


def test_async_tool_steps_fall_back_too_and_every_binding_of_the_model_knows() -> None:
    tools = [convert_to_openai_tool(search_notes), convert_to_openai_tool(SpecialistOutput)]
    asked = [HumanMessage("Find notes on SQLite checkpoints.")]
    with openai_server("vllm") as server:
        chat = ChatOpenAI(
            model="gpt-test", base_url=server.base_url, api_key=SecretStr("k"), max_retries=0
        )
        with pytest.raises(Exception) as refused:  # what the server says to tools alone
            chat.bind_tools(tools).invoke(asked)
        first = asyncio.run(ToolSteps(chat, tools).ainvoke(asked))
        other = ToolSteps(chat, tools[1:])  # another specialist on the same model object
        second = other.invoke(asked)
    assert first.tool_calls and second.tool_calls
    assert refuses_auto_tool_choice(refused.value) and AUTO_REFUSED in str(refused.value)
    assert len(server.refused) == 2  # tools alone, then ToolSteps' one probe
    assert [r.get("tool_choice") for r in server.requests] == [None, None, "required", "required"]
