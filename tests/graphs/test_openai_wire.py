"""The real-model path: ChatOpenAI over HTTP to an OpenAI-compatible server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai_server import openai_server

from graphs.runner import open_checkpointer, run_team
from graphs.team_files import example_teams
from state import load_team


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
