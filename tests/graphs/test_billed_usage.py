"""The ledger equals what the server billed: over the wire, whole and streamed, under 429s,
5xx and bad replies (every answered request is billed, whether or not its reply was usable).

The server's ``billed_usage`` is the usage of every request it answered; a refused or
failed request (429, 5xx) is not billed. orchestra's ledger must sum to exactly that.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from openai_server import openai_server, total

from orchestra.graphs import compile_team
from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.graphs.team_files import example_teams
from orchestra.state import TeamContext, load_team, totals

ROUGH = {
    "rate_limit": 0.08, "server_error": 0.08, "truncate": 0.05, "prose_json": 0.05,
    "invalid_tool_json": 0.05,
}  # fmt: skip
"""Failures that are retried (not billed) and bad replies that are repaired (billed)."""


def research() -> Any:
    team = load_team(example_teams()["research"])
    limits = team.limits.model_copy(update={"retry_initial_s": 0.01})
    return team.model_copy(update={"limits": limits})


def billed_tokens(server: Any) -> tuple[int, int]:
    summed = total(server.billed_usage)
    return summed["prompt_tokens"], summed["completion_tokens"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ledger_equals_the_billed_usage_of_a_run(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with openai_server("openai", misbehave=ROUGH, seed=seed, retry_after_s=0.05) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(":memory:") as saver:
            result = run_team(
                research(), "Compare SQLite and PostgreSQL checkpointers", saver=saver,
                model="openai:gpt-test",
            )  # fmt: skip
    assert result.status in ("completed", "partial"), result.reason
    assert {"rate_limit", "server_error"} & set(server.injected), "nothing was retried"
    spent = totals(result.values["ledger"])
    assert (spent["input_tokens"], spent["output_tokens"]) == billed_tokens(server)
    assert spent["model_calls"] == len(server.billed_usage)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_streamed_run_asks_for_usage_and_counts_all_of_it(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    final: dict[str, Any] = {}
    with openai_server("openai", misbehave=ROUGH, seed=seed, retry_after_s=0.05) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        graph = compile_team(research(), checkpointer=InMemorySaver())
        for mode, item in graph.stream(
            {"task": "Compare SQLite and PostgreSQL checkpointers"},
            {"configurable": {"thread_id": "s"}, "recursion_limit": 200, "max_concurrency": 4},
            context=TeamContext(model="openai:gpt-test"),
            stream_mode=["messages", "values"],
        ):
            if mode == "values":
                final = item
    answered = [r for r in server.requests if r.get("stream")]
    assert answered and all(r["stream_options"] == {"include_usage": True} for r in answered)
    assert final.get("status") in ("completed", "partial"), final.get("reason")
    spent = totals(final["ledger"])
    assert (spent["input_tokens"], spent["output_tokens"]) == billed_tokens(server)
    assert server.reported_usage == server.billed_usage  # every stream said what it cost
