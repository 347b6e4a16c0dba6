"""The loopback server's provider profiles and misbehaviours, driven by the raw ``openai`` SDK.

Each rule refuses what its provider refuses, in the provider's words; each quirk happens;
each misbehaviour looks on the wire as it does from a real server (see
``tests/provider_profiles.py`` and ``tests/misbehaviours.py`` for the sources).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai_server import openai_server, total
from provider_profiles import Profile, strict_schema_problem

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a topic up.",
            "parameters": {
                "type": "object",
                "properties": {"topic": {"type": "string"}},
                "required": ["topic"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "Answer",
            "description": "The final answer.",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        },
    },
]
ASK: list[Any] = [{"role": "user", "content": "Look up SQLite checkpoints"}]
STRICT = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["text", "score"],
    "additionalProperties": False,
}


def client(base_url: str, retries: int = 0, timeout: float = 10) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="k", max_retries=retries, timeout=timeout)


def schema_format(schema: dict[str, Any], strict: bool = True) -> Any:
    return {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": schema, "strict": strict},
    }


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    body = raised.value.body
    assert isinstance(body, dict)
    found = body.get("error", body)
    assert isinstance(found, dict)
    return found


@pytest.fixture
def openai_api() -> Iterator[Any]:
    with openai_server("openai") as server:
        yield server


# --- openai: strict structured outputs -------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "wording"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            "In context=(), 'additionalProperties' is required to be supplied and to be false.",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "inner": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                        "required": ["a"],
                        "additionalProperties": False,
                    }
                },
                "required": ["inner"],
                "additionalProperties": False,
            },
            "In context=('properties', 'inner'), 'required' is required to be supplied and to be "
            "an array including every key in properties. Missing 'b'.",
        ),
        (
            STRICT | {"oneOf": [{"required": ["text"]}]},
            "In context=(), 'oneOf' is not permitted.",
        ),
    ],
)
def test_openai_refuses_a_strict_schema_outside_the_subset(
    openai_api: Any, schema: dict[str, Any], wording: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client(openai_api.base_url).chat.completions.create(
            model="gpt-test", messages=ASK, response_format=schema_format(schema)
        )
    assert raised.value.status_code == 400
    found = error_of(raised)
    assert found["message"] == f"Invalid schema for response_format 'Answer': {wording}"
    assert (found["type"], found["param"], found["code"]) == (
        "invalid_request_error", "response_format", None,
    )  # fmt: skip
    assert openai_api.refused and openai_api.billed_usage == []


def test_openai_takes_the_same_schema_when_not_strict_and_a_valid_one_when_strict(
    openai_api: Any,
) -> None:
    loose = {"type": "object", "properties": {"text": {"type": "string"}}}
    api = client(openai_api.base_url).chat.completions
    for schema, strict in ((loose, False), (STRICT, True)):
        reply = api.create(
            model="gpt-test", messages=ASK, response_format=schema_format(schema, strict)
        )
        assert set(json.loads(reply.choices[0].message.content or "")) <= {"text", "score"}
        assert reply.choices[0].message.refusal is None
    assert openai_api.refused == []


def test_openai_refuses_a_strict_function_with_its_own_param_and_code(openai_api: Any) -> None:
    strict_tools = [TOOLS[0] | {"function": TOOLS[0]["function"] | {"strict": True}}]
    with pytest.raises(openai.BadRequestError) as raised:
        client(openai_api.base_url).chat.completions.create(
            model="gpt-test", messages=ASK, tools=strict_tools
        )
    found = error_of(raised)
    assert found["message"].startswith("Invalid schema for function 'lookup': In context=()")
    assert (found["param"], found["code"]) == (
        "tools[0].function.parameters", "invalid_function_parameters",
    )  # fmt: skip


def test_the_strict_checker_walks_defs_items_and_any_of() -> None:
    sub = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    schema = STRICT | {"$defs": {"Sub": sub}}
    assert strict_schema_problem(schema) == (
        "In context=('$defs', 'Sub'), 'additionalProperties' is required to be supplied and "
        "to be false."
    )
    listed = STRICT | {"properties": {"xs": {"type": "array", "items": {"anyOf": [sub]}}}}
    listed["required"] = ["xs"]
    assert "('properties', 'xs', 'items', 'anyOf', '0')" in (strict_schema_problem(listed) or "")
    assert strict_schema_problem({"anyOf": [STRICT]}) is not None


# --- openai: other request rules -------------------------------------------------------


def test_openai_refuses_an_unanswered_tool_call_and_stream_options_without_a_stream(
    openai_api: Any,
) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    broken: list[Any] = [*ASK, {"role": "assistant", "content": None, "tool_calls": [call]}]
    api = client(openai_api.base_url).chat.completions
    with pytest.raises(openai.BadRequestError) as unanswered:
        api.create(model="gpt-test", messages=[*broken, {"role": "user", "content": "and?"}])
    assert "did not have response messages: call_1" in error_of(unanswered)["message"]
    with pytest.raises(openai.BadRequestError) as options:
        api.create(model="gpt-test", messages=ASK, stream_options={"include_usage": True})
    assert error_of(options)["message"] == (
        "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    )
    with pytest.raises(openai.BadRequestError) as json_mode:
        api.create(model="gpt-test", messages=ASK, response_format={"type": "json_object"})
    assert "must contain the word 'json'" in error_of(json_mode)["message"]
    said = [{"role": "user", "content": "Answer in JSON: SQLite checkpoints"}]
    reply = api.create(model="gpt-test", messages=said, response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)
    assert len(openai_api.refused) == 3


def test_openai_reasoning_models_refuse_max_tokens_and_a_temperature(openai_api: Any) -> None:
    api = client(openai_api.base_url).chat.completions
    with pytest.raises(openai.BadRequestError) as raised:
        api.create(model="gpt-5-mini", messages=ASK, max_tokens=50)
    assert error_of(raised)["code"] == "unsupported_parameter"
    assert "Use 'max_completion_tokens' instead." in error_of(raised)["message"]
    with pytest.raises(openai.BadRequestError) as hot:
        api.create(model="o3-mini", messages=ASK, temperature=0.2)
    assert error_of(hot)["code"] == "unsupported_value"
    assert api.create(model="gpt-5-mini", messages=ASK, max_completion_tokens=500).choices
    assert api.create(model="gpt-4o-mini", messages=ASK, max_tokens=500, temperature=0).choices


def test_a_token_cap_cuts_the_reply_with_finish_reason_length(openai_api: Any) -> None:
    api = client(openai_api.base_url).chat.completions
    reply = api.create(
        model="gpt-test",
        messages=ASK,
        response_format=schema_format(STRICT),
        max_completion_tokens=2,
    )
    assert reply.choices[0].finish_reason == "length"
    assert len(reply.choices[0].message.content or "") <= 8
    assert reply.usage is not None and reply.usage.completion_tokens <= 2


# --- openai: usage ---------------------------------------------------------------------


def test_usage_is_streamed_only_when_asked_and_billed_either_way(openai_api: Any) -> None:
    api = client(openai_api.base_url).chat.completions
    silent = list(api.create(model="gpt-test", messages=ASK, tools=TOOLS, stream=True))
    assert all(c.usage is None and c.choices for c in silent)
    asked = list(
        api.create(
            model="gpt-test", messages=ASK, tools=TOOLS, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    last = asked[-1]
    assert last.choices == [] and last.usage is not None and last.usage.total_tokens > 0
    assert all(c.usage is None for c in asked[:-1])
    whole = api.create(model="gpt-test", messages=ASK, tools=TOOLS)
    assert whole.usage is not None
    assert whole.usage.completion_tokens_details is not None
    billed, reported = openai_api.billed_usage, openai_api.reported_usage
    assert len(billed) == 3 and len(reported) == 2  # the silent stream is billed, not told
    assert total(reported)["total_tokens"] == last.usage.total_tokens + whole.usage.total_tokens
    assert total(billed)["total_tokens"] > total(reported)["total_tokens"]


# --- misbehaviours ---------------------------------------------------------------------


def test_a_rate_limit_says_when_to_retry_and_the_sdk_waits_for_it() -> None:
    with openai_server("openai", retry_after_s=0.2) as server:
        server.inject("rate_limit")
        raw = client(server.base_url).chat.completions.with_raw_response
        with pytest.raises(openai.RateLimitError) as limited:
            raw.create(model="gpt-test", messages=ASK)
        headers = limited.value.response.headers
        assert headers["retry-after-ms"] == "200" and headers["retry-after"] == "1"
        assert error_of(limited)["code"] == "rate_limit_exceeded"
        server.inject("rate_limit")
        started = time.monotonic()
        reply = client(server.base_url, retries=1).chat.completions.create(
            model="gpt-test", messages=ASK
        )
        assert time.monotonic() - started >= 0.2
    assert reply.choices and [e.status for e in server.log] == [429, 429, 200]
    assert len(server.billed_usage) == 1 and server.refused == []


def test_server_errors_rotate_with_each_servers_bodies() -> None:
    with openai_server("openai") as server:
        server.inject("server_error", 3)
        api = client(server.base_url).chat.completions
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                api.create(model="gpt-test", messages=ASK)
    assert sorted(e.status for e in server.log) == [500, 502, 503]
    with openai_server("anthropic") as anthropic:
        anthropic.inject("server_error", 2)
        for _ in range(2):
            with pytest.raises(openai.APIStatusError) as failed:
                client(anthropic.base_url).chat.completions.create(model="claude", messages=ASK)
        assert error_of(failed)["type"] in ("api_error", "overloaded_error")
    assert sorted(e.status for e in anthropic.log) == [500, 529]


def test_a_structured_refusal_is_openais_refusal_field() -> None:
    with openai_server("openai") as server:
        server.inject("refusal")
        reply = client(server.base_url).chat.completions.create(
            model="gpt-test", messages=ASK, response_format=schema_format(STRICT)
        )
    message = reply.choices[0].message
    assert message.content is None and message.refusal and "can't help" in message.refusal
    assert server.injected == ["refusal"]


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("prose_json", lambda c: c.startswith("Here is the result:\n{")),
        ("fenced_json", lambda c: c.startswith("```json\n{") and c.endswith("\n```")),
        ("truncate", lambda c: not c.endswith("}")),
    ],
)
def test_structured_content_misbehaves_as_weak_models_do(kind: str, check: Any) -> None:
    with openai_server("openai") as server:
        server.inject(kind)  # type: ignore[arg-type]
        reply = client(server.base_url).chat.completions.create(
            model="gpt-test", messages=ASK, response_format=schema_format(STRICT)
        )
    assert check(reply.choices[0].message.content or "")
    assert reply.choices[0].finish_reason == ("length" if kind == "truncate" else "stop")


def test_tool_calls_misbehave_text_before_twins_and_broken_json() -> None:
    with openai_server("openai") as server:
        api = client(server.base_url).chat.completions
        server.inject("text_before_tools")
        chatty = api.create(model="gpt-test", messages=ASK, tools=TOOLS[:1])
        server.inject("parallel_tools")
        held = api.create(
            model="gpt-test", messages=ASK, tools=TOOLS[:1], parallel_tool_calls=False
        )
        twins = api.create(model="gpt-test", messages=ASK, tools=TOOLS[:1])
        server.garble_tool_calls = 1
        broken = api.create(model="gpt-test", messages=ASK, tools=TOOLS[:1])
        assert server.garble_tool_calls == 0
        server.inject("content_filter")
        filtered = api.create(model="gpt-test", messages=ASK, tools=TOOLS[:1])
    assert chatty.choices[0].message.content and chatty.choices[0].message.tool_calls
    assert len(held.choices[0].message.tool_calls or []) == 1  # OpenAI obeys the flag
    assert len(twins.choices[0].message.tool_calls or []) == 2
    (call,) = broken.choices[0].message.tool_calls or []
    with pytest.raises(ValueError):
        json.loads(call.function.arguments)  # type: ignore[union-attr]
    assert server.garbled == [call.id]
    assert filtered.choices[0].finish_reason == "content_filter"
    assert server.injected == [
        "text_before_tools",
        "parallel_tools",
        "invalid_tool_json",
        "content_filter",
    ]


def test_a_hang_outlasts_the_clients_timeout_and_not_the_server() -> None:
    started = time.monotonic()
    with openai_server("openai", hang_s=30) as server:
        server.inject("hang")
        with pytest.raises(openai.APITimeoutError):
            client(server.base_url, timeout=0.3).chat.completions.create(
                model="gpt-test", messages=ASK
            )
    assert time.monotonic() - started < 5  # shutdown cut the hang short
    assert server.billed_usage == []


def test_rates_are_seeded_so_a_run_misbehaves_the_same_way_twice() -> None:
    seen = []
    for _ in range(2):
        with openai_server("openai", misbehave={"truncate": 0.3, "refusal": 0.2}, seed=5) as server:
            api = client(server.base_url).chat.completions
            for _ in range(12):
                api.create(model="gpt-test", messages=ASK, response_format=schema_format(STRICT))
        seen.append([e.kind for e in server.log])
    assert seen[0] == seen[1]
    assert {"truncate", "refusal"} <= set(seen[0]) and None in seen[0]
    with pytest.raises(ValueError, match="unknown misbehaviours"):
        openai_server(misbehave={"explode": 1.0})


# --- ollama ----------------------------------------------------------------------------


def test_ollama_ignores_tool_choice_and_strictness_and_counts_three_fields() -> None:
    forced = {"type": "function", "function": {"name": "Answer"}}
    with openai_server("openai") as strict, openai_server("ollama") as ollama:
        obeyed = client(strict.base_url).chat.completions.create(
            model="m", messages=ASK, tools=TOOLS, tool_choice=forced
        )
        api = client(ollama.base_url).chat.completions
        ignored = api.create(model="llama3.1", messages=ASK, tools=TOOLS, tool_choice=forced)
        loose = {"type": "object", "properties": {"text": {"type": "string"}}}
        shaped = api.create(model="llama3.1", messages=ASK, response_format=schema_format(loose))
    assert [c.function.name for c in obeyed.choices[0].message.tool_calls or []] == ["Answer"]  # type: ignore[union-attr]
    calls = ignored.choices[0].message.tool_calls or []
    assert "Answer" not in [c.function.name for c in calls]  # type: ignore[union-attr]
    assert isinstance(json.loads(shaped.choices[0].message.content or ""), dict)
    assert ollama.refused == [] and ignored.system_fingerprint == "fp_ollama"
    assert set(ollama.billed_usage[0]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_ollama_refuses_unreadable_history_arguments_but_not_an_unanswered_call() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{"}}
    history: list[Any] = [*ASK, {"role": "assistant", "content": None, "tool_calls": [call]}]
    with openai_server("ollama") as ollama:
        api = client(ollama.base_url).chat.completions
        with pytest.raises(openai.BadRequestError) as raised:
            api.create(
                model="llama3.1",
                messages=[*history, {"role": "tool", "tool_call_id": "call_1", "content": "x"}],
            )
        fixed = call | {"function": call["function"] | {"arguments": "{}"}}
        readable = [*ASK, {"role": "assistant", "content": None, "tool_calls": [fixed]}]
        assert api.create(
            model="llama3.1", messages=[*readable, {"role": "user", "content": "and?"}]
        )
    assert error_of(raised)["message"] == "invalid tool call arguments"


def test_ollama_streams_tool_calls_whole_and_reads_only_max_tokens() -> None:
    with openai_server("ollama") as ollama:
        api = client(ollama.base_url).chat.completions
        chunks = list(api.create(model="llama3.1", messages=ASK, tools=TOOLS[:1], stream=True))
        capped = api.create(model="llama3.1", messages=ASK, tools=TOOLS[:1], max_tokens=1)
        uncapped = api.create(
            model="llama3.1", messages=ASK, tools=TOOLS[:1], max_completion_tokens=1
        )
    pieces = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    assert len(pieces) == 1 and pieces[0][0].function and pieces[0][0].function.arguments
    json.loads(pieces[0][0].function.arguments)
    assert capped.choices[0].finish_reason == "length"
    assert uncapped.choices[0].finish_reason == "tool_calls"


# --- vllm ------------------------------------------------------------------------------


def test_vllm_refuses_auto_tool_choice_unless_started_with_the_flags() -> None:
    named = {"type": "function", "function": {"name": "lookup"}}
    with openai_server("vllm") as vllm:
        api = client(vllm.base_url).chat.completions
        for choice in ({}, {"tool_choice": "auto"}):
            with pytest.raises(openai.BadRequestError) as raised:
                api.create(model="qwen", messages=ASK, tools=TOOLS, **choice)
            assert error_of(raised) == {
                "message": '"auto" tool choice requires --enable-auto-tool-choice and '
                "--tool-call-parser to be set",
                "type": "BadRequestError", "param": None, "code": 400,
            }  # fmt: skip
        guided = api.create(model="qwen", messages=ASK, tools=TOOLS, tool_choice=named)
        plain = api.create(model="qwen", messages=ASK)
        with pytest.raises(openai.BadRequestError, match="Stream options can only"):
            api.create(model="qwen", messages=ASK, stream_options={"include_usage": True})
    (call,) = guided.choices[0].message.tool_calls or []
    assert call.function.name == "lookup" and call.id.startswith("chatcmpl-tool-")  # type: ignore[union-attr]
    assert guided.choices[0].finish_reason == "stop"  # vLLM's named (guided) calls end so
    assert plain.choices[0].message.content and len(vllm.refused) == 3
    with openai_server(Profile("vllm", auto_tool_choice=True)) as flagged:
        auto = client(flagged.base_url).chat.completions.create(
            model="qwen", messages=ASK, tools=TOOLS[:1]
        )
    assert auto.choices[0].finish_reason == "tool_calls" and flagged.refused == []


# --- anthropic -------------------------------------------------------------------------


def test_anthropic_ignores_response_format_and_strict_and_wants_one_choice() -> None:
    loose = {"type": "object", "properties": {"text": {"type": "string"}}}
    with openai_server("anthropic") as anthropic:
        api = client(anthropic.base_url).chat.completions
        prose = api.create(
            model="claude-sonnet-4-5", messages=ASK, response_format=schema_format(loose)
        )
        with pytest.raises(openai.BadRequestError) as many:
            api.create(model="claude-sonnet-4-5", messages=ASK, n=2)
    content = prose.choices[0].message.content or ""
    with pytest.raises(ValueError):
        json.loads(content)
    assert content and prose.id.startswith("msg_")
    assert anthropic.refused and error_of(many)["type"] == "invalid_request_error"


def test_anthropic_words_the_tool_result_rule_its_own_way() -> None:
    call = {"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    broken: list[Any] = [
        {"role": "system", "content": "Be brief."}, *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "user", "content": "and?"},
    ]  # fmt: skip
    with openai_server("anthropic") as anthropic:
        with pytest.raises(openai.BadRequestError) as raised:
            client(anthropic.base_url).chat.completions.create(model="claude", messages=broken)
    assert raised.value.response.json()["type"] == "error"  # Anthropic's envelope
    assert (
        "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"
        in (error_of(raised)["message"])
    )


def test_an_answer_the_client_gave_up_on_is_billed_all_the_same() -> None:
    with openai_server("openai", hang_s=0.6) as server:
        server.inject("hang")
        with pytest.raises(openai.APITimeoutError):
            client(server.base_url, timeout=0.2).chat.completions.create(
                model="gpt-test", messages=ASK
            )
        deadline = time.monotonic() + 5
        while not server.log and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [e.kind for e in server.log] == ["hang"] and len(server.billed_usage) == 1


def test_draws_follow_what_a_request_asks_not_when_it_arrives() -> None:
    asks = [[{"role": "user", "content": f"Look up topic {i}"}] for i in range(8)]
    kinds = []
    for order in (asks, asks[::-1]):
        with openai_server("openai", misbehave={"refusal": 0.5}, seed=11) as server:
            api = client(server.base_url).chat.completions
            for messages in order:
                api.create(model="gpt-test", messages=messages)
        by_ask = {json.dumps(server.requests[e.index]["messages"]): e.kind for e in server.log}
        kinds.append(by_ask)
    assert kinds[0] == kinds[1] and set(kinds[0].values()) == {None, "refusal"}
