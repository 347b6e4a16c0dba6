"""The loopback server's replies: the offline policy's answer as each kind of server words it.

``answer`` builds a chat completion for a request (tool calls, structured content, prose
where a server ignores what was asked), ``cap`` cuts it at the request's token limit,
``usage_of`` counts it in the server's own usage fields and ``chunks`` streams it.
``fingerprint`` is what a request asks, without what differs between runs, for the
misbehaviour draws.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import convert_to_messages
from provider_profiles import Profile

from orchestra.nodes import OfflineChatModel
from orchestra.nodes.function_model import BoundTool

Usage = dict[str, Any]


def _readable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with unreadable tool-call arguments as ``{}``: OpenAI takes any string
    there, but LangChain's converter (which the offline policy reads through) parses it."""
    kept = []
    for message in messages:
        if message.get("tool_calls"):
            calls = [
                c if _is_json(c["function"]["arguments"])
                else c | {"function": c["function"] | {"arguments": "{}"}}
                for c in message["tool_calls"]
            ]  # fmt: skip
            message = message | {"tool_calls": calls}
        kept.append(message)
    return kept


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# Tool-call ids and hex run ids, which the framework may quote in prompts and tool messages.
_IDS = re.compile(r"(call_|toolu_01|chatcmpl-tool-)\w+|\b[0-9a-f]{8,}\b")


# The time a run has used, which prompts report (orchestra.nodes.usage.budget_lines).
_CLOCK = re.compile(r"time: \d+s")


def fingerprint(request: dict[str, Any], volatile: tuple[str, ...] = ()) -> str:
    """What a request asks, without what differs between runs (tool-call ids, ``volatile``)."""
    turns = [
        (m.get("role"), m.get("content"),
         [(c["function"]["name"], c["function"]["arguments"]) for c in m.get("tool_calls") or []])
        for m in request["messages"]
    ]  # fmt: skip
    tools = [t["function"]["name"] for t in request.get("tools", [])]
    text = json.dumps([request.get("model"), turns, tools, request.get("response_format")])
    for part in volatile:
        text = text.replace(part, "<volatile>")
    return _CLOCK.sub("time: <clock>", _IDS.sub("<id>", text))


def _prose(value: Any) -> str:
    """A structured answer told in sentences, as a model ignoring ``response_format`` does."""
    if isinstance(value, dict):
        return " ".join(_prose(v) for v in value.values() if v not in ("", [], None))
    if isinstance(value, list):
        return " ".join(_prose(v) for v in value)
    return str(value).rstrip(".") + "."


def _ids(profile: Profile) -> tuple[str, str]:
    """A completion id and a tool-call id prefix, shaped like ``profile``'s server's."""
    hexed = uuid.uuid4().hex
    return {
        "openai": (f"chatcmpl-{hexed[:29]}", "call_"),
        "ollama": (f"chatcmpl-{int(hexed[:4], 16) % 999}", "call_"),
        "vllm": (f"chatcmpl-{hexed}", "chatcmpl-tool-"),
        "anthropic": (f"msg_01{hexed[:22]}", "toolu_01"),
    }[profile.name]


def answer(request: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """The offline policy's reply to ``request``, as ``profile``'s server words it."""
    messages = convert_to_messages(_readable(request["messages"]))
    tools = [
        BoundTool(t["function"]["name"], t["function"].get("description", ""),
                  t["function"].get("parameters", {}))
        for t in request.get("tools", [])
    ]  # fmt: skip
    choice = request.get("tool_choice")
    named = choice["function"]["name"] if isinstance(choice, dict) else None
    forced = named if profile.honours_tool_choice else None
    response_format = request.get("response_format") or {}
    schema = (
        response_format.get("json_schema") if response_format.get("type") == "json_schema" else None
    )
    if schema:
        # Structured output: answer as the policy would call a tool of that name, but in content.
        tools, forced = [BoundTool(schema["name"], "", schema.get("schema", {}))], schema["name"]
    policy = OfflineChatModel()
    reply = policy.reply(messages, tools, forced)
    if choice == "required" and profile.honours_tool_choice and not reply.tool_calls and tools:
        reply = policy.reply(messages, tools, tools[0].name)
    completion_id, call_prefix = _ids(profile)
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if profile.name == "openai":
        message |= {"refusal": None, "annotations": []}
    calls = [(c["name"], c["args"]) for c in reply.tool_calls]
    if schema:
        arguments = calls[0][1]
        message["content"] = (
            json.dumps(arguments) if profile.honours_response_format else _prose(arguments)
        )
        calls = []
    elif response_format.get("type") == "json_object" and profile.honours_response_format:
        message["content"] = json.dumps(calls[0][1] if calls else {"answer": reply.text})
        calls = []
    elif named and not profile.honours_tool_choice and [n for n, _ in calls] == [named]:
        # The forced tool was not forced: the model says its answer instead of calling it.
        message["content"], calls = _prose(calls[0][1]), []
    if calls:
        message["tool_calls"] = [
            {"id": f"{call_prefix}{uuid.uuid4().hex[:24]}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for name, args in calls
        ]  # fmt: skip
    finish = "tool_calls" if calls else "stop"
    if calls and profile.name == "vllm" and named:
        finish = "stop"  # vLLM: guided decoding of a named tool ends as an ordinary stop
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "local"),
        "system_fingerprint": "fp_ollama" if profile.name == "ollama" else "fp_loopback",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
    }


def token_limit(request: dict[str, Any], profile: Profile) -> int | None:
    """The request's output-token cap (Ollama reads only ``max_tokens``)."""
    if profile.name != "ollama" and request.get("max_completion_tokens") is not None:
        return int(request["max_completion_tokens"])
    return int(request["max_tokens"]) if request.get("max_tokens") is not None else None


def cap(answer: dict[str, Any], limit: int | None) -> None:
    """Cut the reply at ``limit`` tokens (about four characters each), as servers do."""
    if limit is None:
        return
    choice = answer["choices"][0]
    message = choice["message"]
    if _completion_tokens(message) <= limit:
        return
    room = max(1, limit * 4)
    if message.get("content"):
        message["content"] = message["content"][:room]
    for call in message.get("tool_calls") or []:
        call["function"]["arguments"] = call["function"]["arguments"][:room]
    choice["finish_reason"] = "length"


def _completion_tokens(message: dict[str, Any]) -> int:
    text = (message.get("content") or "") + (message.get("refusal") or "")
    for call in message.get("tool_calls") or []:
        text += call["function"]["name"] + call["function"]["arguments"]
    return max(1, len(text) // 4)


def usage_of(request: dict[str, Any], answer: dict[str, Any], profile: Profile) -> Usage:
    """Token counts of the exchange, in the fields ``profile``'s server sends."""
    prompt = max(
        1, len(json.dumps(request["messages"]) + json.dumps(request.get("tools", []))) // 4
    )
    completion = _completion_tokens(answer["choices"][0]["message"])
    usage: Usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                    "total_tokens": prompt + completion}  # fmt: skip
    if profile.name == "openai":
        usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        }  # fmt: skip
    elif profile.name == "vllm":
        usage["prompt_tokens_details"] = None
    return usage


def wants_usage(request: dict[str, Any], profile: Profile) -> bool:
    options = request.get("stream_options")
    if not isinstance(options, dict):
        return False
    # vLLM's StreamOptions defaults include_usage to true once stream_options is sent.
    return bool(options.get("include_usage", profile.name == "vllm"))


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def chunks(
    answer: dict[str, Any], profile: Profile, usage: Usage | None
) -> Iterator[dict[str, Any]]:
    """The streamed form of ``answer``: role, content pieces, tool-call pieces, finish, usage."""
    message = answer["choices"][0]["message"]
    keys = ("id", "created", "model", "system_fingerprint")
    base = {k: answer[k] for k in keys} | {"object": "chat.completion.chunk"}
    if usage is not None and profile.name == "openai":
        base["usage"] = None  # OpenAI: every chunk carries a null usage once it was asked for

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for field in ("content", "refusal"):
        for piece in _pieces(message.get(field) or ""):
            yield chunk({field: piece})
    for index, call in enumerate(message.get("tool_calls", [])):
        if profile.name == "ollama":  # Ollama sends each tool call whole, in one chunk
            yield chunk({"tool_calls": [{"index": index, **call}]})
            continue
        head = {"id": call["id"], "type": "function"}
        function = {"name": call["function"]["name"], "arguments": ""}
        yield chunk({"tool_calls": [{"index": index, **head, "function": function}]})
        for piece in _pieces(call["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, answer["choices"][0]["finish_reason"])
    if usage is not None:
        yield base | {"choices": [], "usage": usage}
