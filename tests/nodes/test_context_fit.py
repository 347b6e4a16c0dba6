"""Context windows: models' limits, prompt sizes, calls that cannot fit, inputs cut to fit."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from conftest import make_team
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from langgraph.runtime import Runtime
from pydantic import SecretStr

from orchestra.nodes import ScriptedChatModel, make_specialist, resolve_team, team_script
from orchestra.nodes import tokens as tokens_module
from orchestra.nodes.call_bounds import CallBounds, calls_within
from orchestra.nodes.call_info import CallInfo, with_call
from orchestra.nodes.chat_models import call_settings, resolve_model
from orchestra.nodes.context_check import measure, reserved_output
from orchestra.nodes.fitting import cut, shorten_largest, water_level
from orchestra.nodes.model_call import call_model, from_model
from orchestra.nodes.tokens import counter_for, estimate_text, message_tokens
from orchestra.state import (
    ContextTooLongError,
    SpecialistOutput,
    TeamContext,
    largest_prompt,
    limits_of,
    merge_ledger,
)

# -- 1. each model's window ---------------------------------------------------------------


def test_well_known_models_have_their_published_limits() -> None:
    assert limits_of("gpt-4o-mini-2024-07-18") == (128_000, 16_384)
    assert limits_of("gpt-4.1-nano") == (1_047_576, 32_768)
    assert limits_of("o1-mini") == (128_000, 65_536)  # its own entry, not o1's
    assert limits_of("claude-sonnet-4-5-20250929") == (200_000, 64_000)
    assert limits_of("llama3.1:8b") == (131_072, None)
    assert limits_of("qwen2.5:7b") == (32_768, 8_192)
    assert limits_of("orchestra-offline") is None


def test_a_roles_settings_override_the_table_and_offline_has_no_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    known = call_settings(resolve_model("openai:gpt-4o-mini"))
    assert (known.context_window, known.output_limit, known.max_output_tokens) == (
        128_000,
        16_384,
        None,  # the table's limit is checked against, not sent
    )
    own = {"model": "openai:gpt-4o-mini", "context_window": 50_000, "max_output_tokens": 900}
    chosen = resolve_model(own)
    assert (call_settings(chosen).context_window, call_settings(chosen).max_output_tokens) == (
        50_000,
        900,
    )
    assert chosen.max_tokens == 900  # type: ignore[attr-defined]  # sent as max_tokens
    assert call_settings(resolve_model("offline")).context_window is None
    made = ChatOpenAI(model="gpt-4.1-mini", api_key=SecretStr("k"))  # made in code
    assert call_settings(made).context_window == 1_047_576


def test_the_reply_keeps_its_output_limit_but_never_more_than_half_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    assert reserved_output(call_settings(resolve_model("openai:gpt-4o-mini"))) == 16_384
    assert reserved_output(call_settings(resolve_model("openai:o3"))) == 100_000
    small = resolve_model({"model": "openai:o3", "context_window": 20_000})
    assert reserved_output(call_settings(small)) == 10_000
    own = resolve_model({"model": "openai:gpt-4o-mini", "max_output_tokens": 100_000})
    assert reserved_output(call_settings(own)) == 100_000  # sent: the provider counts it


# -- the estimate ---------------------------------------------------------------------------


def test_the_estimate_over_counts_text_and_frames_messages() -> None:
    english = "The checkpointer stores each super-step of the graph. " * 50
    assert estimate_text(english) >= len(english) / 4  # tokenizers: ~4 chars a token
    assert estimate_text("é" * 300) >= 200  # counted by bytes: 2 a character here
    one = message_tokens([HumanMessage("abc")])
    two = message_tokens([SystemMessage("abc"), HumanMessage("abc")])
    assert two - one == estimate_text("abc") + tokens_module.PER_MESSAGE


def test_a_tokenizer_that_does_not_load_is_given_up_once_and_never_waited_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tiktoken

    tries: list[str] = []
    release = threading.Event()

    def hangs(name: str) -> Any:  # a network that never answers
        tries.append(name)
        release.wait(10)
        raise ConnectionError("no network")

    monkeypatch.setattr(tiktoken, "encoding_for_model", hangs)
    monkeypatch.setattr(tokens_module, "LOAD_TIMEOUT_S", 0.2)
    monkeypatch.setattr(tokens_module, "_ENCODERS", {})
    started = time.monotonic()
    count = counter_for("openai", "gpt-4o-mini")
    assert time.monotonic() - started < 2
    assert count("abcdef") == estimate_text("abcdef")
    started = time.monotonic()
    assert counter_for("openai", "gpt-4o-mini") is estimate_text
    assert time.monotonic() - started < 0.1 and tries == ["gpt-4o-mini"]
    release.set()


# -- a call that cannot fit is never sent ---------------------------------------------------


def test_a_prompt_too_long_for_the_window_is_refused_before_sending() -> None:
    chat = resolve_model({"model": "offline", "context_window": 1_000, "max_output_tokens": 200})
    config = with_call(CallInfo(role="specialist", team="t", specialist="analyst", subtask_id="s2"))
    bounds = CallBounds()
    with calls_within(bounds), pytest.raises(ContextTooLongError) as raised:
        call_model(chat, [HumanMessage("x" * 3_000)], config)
    error = raised.value
    assert (error.window, error.reserved) == (1_000, 200) and error.tokens > 1_000
    assert "specialist 'analyst' on s2" in str(error) and "1000-token" in str(error)
    assert from_model(error)  # permanent: ends the worker or the run, never retried
    assert bounds.tally.prompt_tokens == error.tokens and bounds.tally.context_window == 1_000
    reply, _, requests = call_model(chat, [HumanMessage("short")], config)
    assert requests == 1 and reply.content is not None


def test_the_ledger_keeps_each_entrys_largest_prompt_and_the_run_its_largest() -> None:
    base: dict[str, Any] = {"model_calls": 1, "input_tokens": 1, "output_tokens": 1}
    base |= {"cost_usd": 0.0, "latency_s": 0.0, "attempts": 1, "revisions": 0}
    first = {"s1": base | {"role": "specialist", "prompt_tokens": 900, "context_window": 9_000}}
    again = {"s1": base | {"role": "specialist", "prompt_tokens": 400, "largest_input_tokens": 350}}
    ledger = merge_ledger(first, again)  # type: ignore[arg-type]
    assert ledger["s1"]["prompt_tokens"] == 900 and ledger["s1"]["largest_input_tokens"] == 350
    ledger["orchestrator"] = base | {"role": "orchestrator", "prompt_tokens": 2_000}  # type: ignore[assignment]
    assert largest_prompt(ledger) == {
        "who": "orchestrator",
        "prompt_tokens": 2_000,
        "input_tokens": 350,
    }
    assert largest_prompt({}) is None


# -- 5. dependencies' results cut to fit ----------------------------------------------------


def test_water_level_and_cut_shorten_the_largest_texts_first() -> None:
    assert water_level([10, 100, 1000], 210) == 100
    assert water_level([50, 50], 40) == 20
    assert cut("short", 100) == "short"
    shortened = cut("a" * 1_000, 100)
    assert len(shortened) <= 100 and shortened.endswith("[shortened: 68 of 1000 chars]")


def test_shorten_largest_keeps_small_texts_whole_and_fits_the_budget() -> None:
    texts = {"s1": "small result", "s2": "m" * 3_000, "s3": "L" * 30_000}
    out = shorten_largest(texts, 4_000)
    assert out["s1"] == "small result" and out["s2"] == texts["s2"]
    assert out["s3"].endswith("of 30000 chars]") and "[shortened: " in out["s3"]
    assert sum(estimate_text(t) for t in out.values()) <= 4_000
    even = shorten_largest({"a": "a" * 9_000, "b": "b" * 9_000}, 1_000)
    assert abs(len(even["a"]) - len(even["b"])) <= 1  # cut evenly, not one first
    assert shorten_largest(texts, 10**6) == texts


class _Windowed(ScriptedChatModel):
    """The scripted model under a name with a window (gpt-4o-mini's: 128k, 16k out)."""

    model_name: str = "gpt-4o-mini"


def test_a_specialists_inputs_are_cut_to_fit_its_models_window() -> None:
    team = resolve_team(make_team("alpha"))
    node = make_specialist(team.specialists["alpha"], team)
    seen: list[list[BaseMessage]] = []
    script = team_script(workers={"alpha": SpecialistOutput(summary="done", key_points=["k"])})

    def respond(messages: list[BaseMessage], tools: Any) -> Any:
        seen.append(list(messages))
        return script(messages, tools)

    model = _Windowed(respond=respond)
    assert measure(model, "x") is not None
    huge = {"findings": ["f" * 400 for _ in range(1_000)]}  # ~400k chars of output
    deps = {
        "s1": {"specialist": "alpha", "summary": "the big one", "output": huge},
        "s0": {"specialist": "alpha", "summary": "a small one", "output": {"n": 1}},
    }
    task = {
        "subtask": {"id": "s2", "specialist": "alpha", "instruction": "use them",
                    "depends_on": ["s0", "s1"], "round": 1},
        "dependencies": deps,
        "revision": 0,
    }  # fmt: skip
    update = node(task, Runtime(context=TeamContext(model=model)))
    assert update["results"]["s2"]["status"] == "submitted"
    prompt = seen[0][1].text
    assert "a small one" in prompt and 'output: {"n": 1}' in prompt  # kept whole
    assert "the big one" in prompt and "[shortened: " in prompt  # its head kept, cut
    assert any("inputs shortened to fit" in n and "s1 (" in n for n in update["notes"])
    entry = update["ledger"]["s2"]
    assert entry["context_window"] == 128_000
    assert entry["prompt_tokens"] <= 128_000 - 16_384  # no tools: no share kept for steps


def test_a_specialist_whose_own_prompt_cannot_fit_fails_its_subtask_without_a_call() -> None:
    team = resolve_team(make_team("alpha"))
    node = make_specialist(team.specialists["alpha"], team)
    seen: list[Any] = []
    script = team_script(workers={"alpha": SpecialistOutput(summary="done", key_points=[])})

    def respond(messages: list[BaseMessage], tools: Any) -> Any:
        seen.append(messages)
        return script(messages, tools)

    task = {
        "subtask": {"id": "s1", "specialist": "alpha", "instruction": "read: " + "w " * 200_000,
                    "depends_on": [], "round": 1},
        "dependencies": {},
        "revision": 0,
    }  # fmt: skip
    update = node(task, Runtime(context=TeamContext(model=_Windowed(respond=respond))))
    result = update["results"]["s1"]
    assert result["status"] == "failed" and seen == []
    assert result["reason"].startswith("ContextTooLongError: specialist 'alpha' on s1: ")
    assert update["ledger"]["s1"]["prompt_tokens"] > 128_000 - 16_384
