"""Context windows over the wire: the stand-in server with gpt-4o-mini's published limits.

The loopback server enforces OpenAI's limits (``context_limits``): 128k tokens of window,
16,384 of output, ``context_length_exceeded`` over it. Orchestra measures every prompt
first, so a prompt too big is refused before it is sent (the server sees no request),
and a normal run is never refused for length.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from context_limits import PUBLISHED, Limits
from openai_server import openai_server

from orchestra.graphs.cli import main
from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.graphs.team_files import example_teams
from orchestra.state import ModelSettings, load_team

MINI = "openai:gpt-4o-mini"


def _serve_env(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")


def test_a_normal_run_fits_and_show_prints_its_largest_prompt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team = load_team(example_teams()["research"])
    db = tmp_path / "db.sqlite"
    with openai_server(limits=PUBLISHED) as server:
        _serve_env(monkeypatch, server.base_url)
        with open_checkpointer(db) as saver:
            result = run_team(
                team, "Compare SQLite and PostgreSQL", saver=saver, model=MINI, thread_id="w1"
            )
    assert result.status == "completed", result.reason
    assert server.refused == [] and server.requests
    largest = result.largest_prompt
    assert largest is not None and largest["context_window"] == 128_000
    # The estimate is measured before each call and never under the server's own count.
    assert largest["prompt_tokens"] >= largest["input_tokens"] > 0
    for key, entry in result.values["ledger"].items():
        assert entry["context_window"] == 128_000, key
        assert entry["prompt_tokens"] >= entry["largest_input_tokens"], key

    assert main(["show", "w1", "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert f"largest prompt: ~{largest['prompt_tokens']} tokens of a 128000-token window" in shown
    assert main(["show", "w1", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["largest_prompt"] == largest


def test_a_prompt_too_big_for_the_window_is_refused_by_orchestra_before_sending(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    team = load_team(example_teams()["research"])
    task = "Summarize these notes: " + "checkpoint " * 40_000  # ~440k chars, ~147k tokens
    with openai_server(limits=PUBLISHED) as server:
        _serve_env(monkeypatch, server.base_url)
        with open_checkpointer(tmp_path / "db.sqlite") as saver:
            result = run_team(team, task, saver=saver, model=MINI)
    assert server.requests == [] and server.log == []  # nothing was sent
    assert (result.status, result.reason_code) == ("failed", "model_error")
    assert "ContextTooLongError" in result.reason and "128000-token" in result.reason
    largest = result.largest_prompt
    assert largest is not None and largest["who"] == "orchestrator"
    assert largest["prompt_tokens"] > 128_000 - 16_384


def test_the_server_refuses_what_orchestra_was_told_fits_as_openai_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A role claiming a bigger window than the model has: OpenAI's 400, not retried."""
    team = load_team(example_teams()["research"])
    task = "Summarize these notes: " + "checkpoint " * 60_000
    claimed = ModelSettings(model=MINI, context_window=1_000_000)
    with openai_server(limits=PUBLISHED) as server:
        _serve_env(monkeypatch, server.base_url)
        with open_checkpointer(tmp_path / "db.sqlite") as saver:
            result = run_team(team, task, saver=saver, model=claimed)
    # The plan and the synthesis each asked once, each refused, neither retried.
    assert [e.status for e in server.log] == [400, 400] and len(server.requests) == 2
    assert (result.status, result.reason_code) == ("failed", "model_error")
    assert len(server.refused) == 2
    assert "This model's maximum context length is 128000 tokens" in result.reason


def _post(base_url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer k"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_the_stand_in_answers_length_errors_in_openais_words_and_cuts_long_replies() -> None:
    long_prompt = [{"role": "user", "content": "word " * 120_000}]  # 600k chars: 150k tokens
    with openai_server(limits=PUBLISHED | {"gpt-tiny": Limits(1_000, 5)}) as server:
        status, body = _post(server.base_url, {"model": "gpt-4o-mini", "messages": long_prompt})
        assert status == 400
        assert body["error"]["code"] == "context_length_exceeded"
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["param"] == "messages"
        message = body["error"]["message"]
        assert message.startswith(
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in "
        ) and message.endswith(" tokens. Please reduce the length of the messages.")

        fits = [{"role": "user", "content": "word " * 100_000}]  # 125k tokens
        status, body = _post(
            server.base_url, {"model": "gpt-4o-mini", "messages": fits, "max_tokens": 16_000}
        )
        assert status == 400 and "in the messages, 16000 in the completion" in str(body)

        status, body = _post(
            server.base_url, {"model": "gpt-4o-mini", "messages": fits[:0] + [
                {"role": "user", "content": "hi"}], "max_tokens": 20_000},
        )  # fmt: skip
        assert status == 400 and "max_tokens is too large: 20000" in body["error"]["message"]

        short = [{"role": "user", "content": "Summarize: SQLite stores a file per database."}]
        status, body = _post(server.base_url, {"model": "gpt-tiny", "messages": short})
        assert status == 200 and body["choices"][0]["finish_reason"] == "length"
        status, body = _post(server.base_url, {"model": "gpt-4o-mini", "messages": short})
        assert status == 200 and body["choices"][0]["finish_reason"] == "stop"
