"""An OpenAI-compatible chat-completions server on 127.0.0.1, answering with the offline policy.

It lets tests drive the real wire path (``ChatOpenAI`` → HTTP → JSON) without a provider:
tool calls, ``json_schema`` structured output and plain text, whole or streamed as
server-sent events (``"stream": true``: ``data: {chunk}`` lines, then ``data: [DONE]``).
It records every request and the most requests it had in flight at once; ``delay``
holds each answer back so that concurrent requests overlap measurably.

``openai_server(profile)`` serves as one kind of server does (``provider_profiles``):
``openai`` (the default) refuses what OpenAI refuses (strict-schema rules, the
tool-message rule, ...) with OpenAI's 400 bodies; ``ollama`` ignores ``tool_choice``;
``vllm`` refuses tool requests without ``--enable-auto-tool-choice``; ``anthropic``
ignores ``response_format``. Requests a profile refuses are kept in ``refused``.

Misbehaviours (``misbehaviours``) are injected at a seeded rate (``misbehave={"truncate":
0.2}, seed=3``) or for the next N requests (``server.inject("rate_limit", 2)``;
``garble_tool_calls = N`` is ``invalid_tool_json`` N times). ``log`` has one ``Exchange``
per request: its status, the misbehaviour, the usage the server billed and the usage it
reported (a streamed answer is billed even when its usage was not asked for).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from langchain_core.messages import convert_to_messages
from loopback import LoopbackServer, serving
from misbehaviours import BEFORE_ANSWER, Injector, Kind, failure, fits, misbehave
from provider_profiles import PROFILES, Profile, ProfileName, Refusal, ordering_problem, refusal

from orchestra.nodes import OfflineChatModel
from orchestra.nodes.function_model import BoundTool

__all__ = ["Exchange", "openai_server", "ordering_problem", "total"]

Usage = dict[str, Any]


@dataclass
class Exchange:
    """One request and what the server did with it."""

    index: int
    status: int
    kind: str | None = None
    """The misbehaviour injected, or ``"refused"`` for a request the profile's rules refuse."""
    billed: Usage | None = None
    """The usage of a request the server answered (what a user is billed for)."""
    reported: Usage | None = None
    """The usage the client was told (a stream tells it only when it asks)."""
    stream: bool = False


def total(usages: list[Usage]) -> dict[str, int]:
    """The summed token counts of ``usages``."""
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {k: sum(int(u[k]) for u in usages) for k in keys}


def _readable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with unreadable tool-call arguments as ``{}``: OpenAI takes any string
    there, but LangChain's converter (which the offline policy reads through) parses it."""
    readable = []
    for message in messages:
        if message.get("tool_calls"):
            calls = [
                c if _is_json(c["function"]["arguments"])
                else c | {"function": c["function"] | {"arguments": "{}"}}
                for c in message["tool_calls"]
            ]  # fmt: skip
            message = message | {"tool_calls": calls}
        readable.append(message)
    return readable


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# Tool-call ids and hex run ids, which the framework may quote in prompts and tool messages.
_IDS = re.compile(r"(call_|toolu_01|chatcmpl-tool-)\w+|\b[0-9a-f]{8,}\b")


def _fingerprint(request: dict[str, Any], volatile: tuple[str, ...] = ()) -> str:
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
    return _IDS.sub("<id>", text)


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


def _answer(request: dict[str, Any], profile: Profile) -> dict[str, Any]:
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


def _limit(request: dict[str, Any], profile: Profile) -> int | None:
    """The request's output-token cap (Ollama reads only ``max_tokens``)."""
    if profile.name != "ollama" and request.get("max_completion_tokens") is not None:
        return int(request["max_completion_tokens"])
    return int(request["max_tokens"]) if request.get("max_tokens") is not None else None


def _cap(answer: dict[str, Any], limit: int | None) -> None:
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


def _usage(request: dict[str, Any], answer: dict[str, Any], profile: Profile) -> Usage:
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


def _wants_usage(request: dict[str, Any], profile: Profile) -> bool:
    options = request.get("stream_options")
    if not isinstance(options, dict):
        return False
    # vLLM's StreamOptions defaults include_usage to true once stream_options is sent.
    return bool(options.get("include_usage", profile.name == "vllm"))


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _chunks(
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


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        index = server.record(body)
        profile = server.profile
        if (refused := refusal(profile, body)) is not None:
            server.refused.append(body)
            server.note(Exchange(index, refused.status, "refused", stream=bool(body.get("stream"))))
            self._send_error(refused)
            return
        drawn = server.injector.draw(_fingerprint(body, server.volatile))
        with server.counting():
            if server.delay:
                time.sleep(server.delay)
            answer = _answer(body, profile)
            _cap(answer, _limit(body, profile))
            kind = server.injector.take(drawn, fits(answer["choices"][0]["message"], body, profile))
            if kind in ("server_error", "rate_limit"):
                failed = failure(profile, kind, index, server.retry_after_s)
                server.note(Exchange(index, failed.status, kind, stream=bool(body.get("stream"))))
                self._send_error(failed)
                return
            if kind == "hang" and server.closing.wait(server.hang_s):
                return  # the server is shutting down: the connection just closes
        if kind is not None and kind not in BEFORE_ANSWER:
            server.garbled.extend(misbehave(kind, answer, profile, body))
        usage = _usage(body, answer, profile)
        stream = bool(body.get("stream"))
        reported = usage if not stream or _wants_usage(body, profile) else None
        server.note(Exchange(index, 200, kind, usage, reported, stream))
        try:
            if stream:
                self._stream(answer, profile, reported)
            else:
                self._send(200, answer | {"usage": usage})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout); the answer is billed all the same

    def _send_error(self, refused: Refusal) -> None:
        if isinstance(refused.body, str):
            self._send(refused.status, refused.body, "text/html", refused.headers)
        else:
            self._send(refused.status, refused.body, headers=refused.headers)

    def _send(
        self,
        status: int,
        document: dict[str, Any] | str,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        text = document if isinstance(document, str) else json.dumps(document)
        payload = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, answer: dict[str, Any], profile: Profile, usage: Usage | None) -> None:
        # HTTP/1.0 without Content-Length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for event in _chunks(answer, profile, usage):
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(LoopbackServer):
    def __init__(
        self,
        profile: Profile,
        injector: Injector,
        hang_s: float,
        retry_after_s: float,
        volatile: tuple[str, ...],
    ) -> None:
        super().__init__(_Handler)
        self.volatile = volatile
        """Text left out of the misbehaviour draws (a temporary folder's path)."""
        self.profile = profile
        self.injector = injector
        self.hang_s = hang_s
        """Seconds an injected hang holds its answer back."""
        self.retry_after_s = retry_after_s
        """The wait an injected 429 asks for (``Retry-After`` rounded up to 1 s)."""
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        """Seconds each request is held before it is answered."""
        self.max_in_flight = 0
        """The most requests that were being answered at the same moment."""
        self.refused: list[dict[str, Any]] = []
        """Requests the profile's rules refuse (HTTP 400), e.g. a broken tool-message order."""
        self.garbled: list[str] = []
        """The ids of the tool calls whose arguments were cut off."""
        self.log: list[Exchange] = []
        """One entry per request, in the order they were answered."""
        self.closing = threading.Event()
        self._in_flight = 0
        self._lock = threading.Lock()

    def record(self, body: dict[str, Any]) -> int:
        with self._lock:
            self.requests.append(body)
            return len(self.requests) - 1

    def note(self, exchange: Exchange) -> None:
        with self._lock:
            self.log.append(exchange)

    def inject(self, kind: Kind, times: int = 1) -> None:
        """Misbehave this way on the next ``times`` requests it fits."""
        self.injector.inject(kind, times)

    @property
    def garble_tool_calls(self) -> int:
        """How many more replies with tool calls get their arguments cut off."""
        return self.injector.pending("invalid_tool_json")

    @garble_tool_calls.setter
    def garble_tool_calls(self, times: int) -> None:
        self.injector.set_pending("invalid_tool_json", times)

    @property
    def injected(self) -> list[str]:
        """The misbehaviours injected, one per request that got one."""
        return [e.kind for e in self.log if e.kind not in (None, "refused")]

    @property
    def billed_usage(self) -> list[Usage]:
        """The usage of every answered request: what a user would be billed for."""
        return [e.billed for e in self.log if e.billed is not None]

    @property
    def reported_usage(self) -> list[Usage]:
        """The usage the clients were told of (streams only when they asked)."""
        return [e.reported for e in self.log if e.reported is not None]

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count one request in flight while the block runs."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        self.closing.set()  # wake hung answers first, so stopping does not wait for them
        super().shutdown()

    @property
    def base_url(self) -> str:
        """The value for ``OPENAI_BASE_URL``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


def openai_server(
    profile: ProfileName | Profile = "openai",
    *,
    misbehave: dict[str, float] | None = None,
    seed: int = 0,
    hang_s: float = 2.0,
    retry_after_s: float = 0.05,
    volatile: Sequence[str] = (),
) -> AbstractContextManager[_Server]:
    """Serve on a free loopback port as ``profile``'s server; ``server.base_url`` tells where.

    ``misbehave`` maps misbehaviours to the share of requests that get them, drawn from
    ``seed`` and what each request asks, less the ``volatile`` text (temporary paths), so
    a run misbehaves the same way each time.
    """
    chosen = PROFILES[profile] if isinstance(profile, str) else profile
    injector = Injector(misbehave, seed)
    return serving(_Server(chosen, injector, hang_s, retry_after_s, tuple(volatile)))
