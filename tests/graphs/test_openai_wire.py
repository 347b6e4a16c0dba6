"""The real-model path: ChatOpenAI over HTTP to an OpenAI-compatible server on loopback.

Tool calls, strict ``json_schema`` structured output, server-sent-event streaming and
100 requests in flight at once, all through langchain-openai's ``ChatOpenAI``.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from openai_server import openai_server
from pydantic import SecretStr

from orchestra.graphs import compile_team
from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.graphs.team_files import example_teams
from orchestra.nodes.toolkit import search_notes
from orchestra.state import SpecialistOutput, SpecialistSpec, TeamContext, TeamSpec, load_team


def test_a_team_runs_through_chatopenai_with_strict_structured_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    team = load_team(example_teams()["research"])
    with openai_server() as server:
        host, port = server.server_address[:2]
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://{host}:{port}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(tmp_path / "db.sqlite") as saver:
            result = run_team(
                team,
                "Compare SQLite and PostgreSQL checkpointers",
                saver=saver,
                model="openai:gpt-test",
            )
    assert result.status == "completed", result.reason
    assert "SQLite" in result.values["answer"]

    requests = server.requests
    assert {r["model"] for r in requests} == {"gpt-test"}
    plan = requests[0]["response_format"]["json_schema"]
    assert plan["name"] == "Plan" and plan["strict"] is True
    enum = plan["schema"]["$defs"]["Subtask"]["properties"]["specialist"]["enum"]
    assert enum == ["researcher", "analyst", "writer"]

    worker = [r for r in requests if "tools" in r]
    assert worker, "specialists call tools"
    for request in worker:
        names = {t["function"]["name"] for t in request["tools"]}
        assert names in ({"search_notes", "SpecialistOutput"}, {"SpecialistOutput"})
    synthesis = requests[-1]["response_format"]["json_schema"]
    assert synthesis["name"] == "Synthesis"
    assert len(requests) == result.values["model_calls"]


TOPICS = ("SQLite checkpoints", "PostgreSQL checkpoints", "Send API", "LangGraph interrupts")


def test_a_hundred_branches_reach_the_server_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    team = TeamSpec(
        name="wide",
        pattern="fan_out",
        fan_out={"map": "scout", "join": "all"},
        specialists=[
            SpecialistSpec(
                name="scout",
                description="Looks one topic up in the notes.",
                tools=["orchestra.nodes.toolkit:search_notes"],
                max_steps=3,
            )
        ],
        limits={"max_workers_per_round": 100, "max_concurrency": 100, "max_revisions": 0},
    )
    task = "\n".join(f"{TOPICS[i % len(TOPICS)]} ({i})" for i in range(100))
    with openai_server() as server:
        server.delay = 1.0  # every branch's first call is held until all 100 have arrived
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        graph = compile_team(team, checkpointer=InMemorySaver())
        state = asyncio.run(
            graph.ainvoke(
                {"task": task},
                {"configurable": {"thread_id": "wide"}},
                context=TeamContext(model="openai:gpt-test"),
            )
        )
    assert state["status"] == "completed", state["reason"]
    assert len(state["results"]) == 100
    assert all(r["status"] == "accepted" for r in state["results"].values())
    assert all(r["tool_calls"] == ["search_notes"] for r in state["results"].values())
    assert server.max_in_flight == 100
    assert len(server.requests) == state["model_calls"] == 201  # 2 per branch + synthesis
    tool_calls = [r for r in server.requests if "tools" in r]
    assert len(tool_calls) == 200
    assert server.requests[-1]["response_format"]["json_schema"]["strict"] is True


def test_a_team_streams_tokens_and_tool_calls_over_server_sent_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    team = load_team(example_teams()["research"])
    tokens: Counter[str] = Counter()
    tool_chunks: Counter[str] = Counter()
    synthesis = ""
    final: dict[str, Any] = {}
    with openai_server() as server:
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
                continue
            chunk, metadata = item
            assert isinstance(chunk, AIMessageChunk)
            node = metadata["langgraph_node"]
            tokens[node] += 1
            tool_chunks[node] += bool(chunk.tool_call_chunks)
            if node == "synthesizer" and isinstance(chunk.content, str):
                synthesis += chunk.content
    assert final["status"] == "completed", final["reason"]
    requests = server.requests
    assert requests and all(r["stream"] is True for r in requests)
    assert len(requests) == final["model_calls"]
    # Every role's reply arrived in many pieces, a specialist's tool calls included.
    assert set(tokens) == {"orchestrator", "researcher", "synthesizer"}
    assert min(tokens.values()) > 5
    assert tool_chunks["researcher"] > 5
    # The synthesizer's strict json_schema answer, reassembled from its chunks, is the answer.
    assert json.loads(synthesis)["answer"] == final["answer"]


def test_chatopenai_streams_a_tool_call_and_structured_output() -> None:
    with openai_server() as server:
        model = ChatOpenAI(model="gpt-test", base_url=server.base_url, api_key=SecretStr("k"))
        question = [HumanMessage("Look up SQLite checkpoints in the notes")]
        chunks = list(model.bind_tools([search_notes]).stream(question))
        whole = model.bind_tools([search_notes]).invoke(question)
        structured = list(model.with_structured_output(SpecialistOutput).stream(question))
    assert len(chunks) > 3
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(merged, AIMessageChunk) and isinstance(whole, AIMessage)
    assert [c["name"] for c in merged.tool_calls] == ["search_notes"]
    assert merged.tool_calls[0]["args"] == whole.tool_calls[0]["args"]
    assert isinstance(structured[-1], SpecialistOutput) and structured[-1].summary
    streamed = [r for r in server.requests if r.get("stream")]
    assert len(streamed) == 2
    assert streamed[1]["response_format"]["json_schema"]["strict"] is True


def test_the_server_refuses_an_unanswered_tool_call_as_openai_does() -> None:
    import urllib.error
    import urllib.request

    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    broken = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "user", "content": "and?"},
        ],
    }
    with openai_server() as server:
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions",
            data=json.dumps(broken).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    error = json.loads(refused.value.read())["error"]
    assert error["type"] == "invalid_request_error"
    assert "did not have response messages: call_1" in error["message"]


def test_a_tool_call_with_unreadable_arguments_is_answered_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    team = load_team(example_teams()["research"])
    with openai_server() as server:
        server.garble_tool_calls = 1  # the first tool call's JSON arguments are cut off
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(tmp_path / "db.sqlite") as saver:
            result = run_team(
                team, "What does SQLite offer as a checkpointer?", saver=saver,
                model="openai:gpt-test",
            )  # fmt: skip
    assert server.refused == []  # no request broke the tool-message rule
    assert result.status == "completed", result.reason
    (garbled,) = server.garbled
    answers = [
        m
        for r in server.requests
        for m in r["messages"]
        if m["role"] == "tool" and m["tool_call_id"] == garbled
    ]
    assert answers and "not valid JSON" in answers[0]["content"]
    used = [c for r in result.values["results"].values() for c in r["tool_calls"]]
    assert any(c.startswith("invalid:") for c in used)
