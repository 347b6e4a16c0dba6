"""An OpenAI-compatible chat-completions server on 127.0.0.1, answering with the offline policy.

It lets tests drive the real wire path (``ChatOpenAI`` → HTTP → JSON) without a provider:
tool calls, ``json_schema`` structured output and plain text, whole or streamed as
server-sent events (``"stream": true``: ``data: {chunk}`` lines, then ``data: [DONE]``).
It records every request and the most requests it had in flight at once; ``delay``
holds each answer back so that concurrent requests overlap measurably.

Like OpenAI's API, it refuses (HTTP 400, OpenAI's error body and wording) a request
whose assistant ``tool_calls`` are not each answered by a following ``tool`` message, or
whose ``tool`` message answers no preceding call; refused requests are kept in
``refused``. ``garble_tool_calls`` cuts off the arguments of the next N replies' tool
calls, as a weak model or a truncated reply does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from langchain_core.messages import convert_to_messages
from loopback import LoopbackServer, serving

from orchestra.nodes import OfflineChatModel
from orchestra.nodes.function_model import BoundTool


def _readable_call(call: dict[str, Any]) -> dict[str, Any]:
    try:
        json.loads(call["function"]["arguments"])
    except ValueError:
        return call | {"function": call["function"] | {"arguments": "{}"}}
    return call


def _readable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with unreadable tool-call arguments as ``{}``: OpenAI takes any string
    there, but LangChain's converter (which the offline policy reads through) parses it."""
    readable = []
    for message in messages:
        if message.get("tool_calls"):
            message = message | {"tool_calls": [_readable_call(c) for c in message["tool_calls"]]}
        readable.append(message)
    return readable


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    messages = convert_to_messages(_readable(request["messages"]))
    tools = [
        BoundTool(
            t["function"]["name"],
            t["function"].get("description", ""),
            t["function"].get("parameters", {}),
        )
        for t in request.get("tools", [])
    ]
    choice = request.get("tool_choice")
    forced = choice["function"]["name"] if isinstance(choice, dict) else None
    schema = (request.get("response_format") or {}).get("json_schema")
    if schema:
        # Structured output: answer as the policy would call a tool of that name, but in content.
        tools = [BoundTool(schema["name"], "", schema["schema"])]
        forced = schema["name"]
    reply = OfflineChatModel().reply(messages, tools, forced)
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if schema:
        message["content"] = json.dumps(reply.tool_calls[0]["args"])
    elif reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}_{time.monotonic_ns()}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["args"])},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "local"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def ordering_problem(messages: list[dict[str, Any]]) -> str | None:
    """OpenAI's 400 message for a broken tool-call/tool-message sequence, if it is broken."""
    open_ids: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in open_ids:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceeding message with 'tool_calls'. (messages.[{index}])"
                )
            open_ids.remove(message["tool_call_id"])
            continue
        if open_ids:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(open_ids)}"
            )
        if role == "assistant":
            open_ids = [call["id"] for call in message.get("tool_calls") or []]
    return None


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _chunks(answer: dict[str, Any], include_usage: bool) -> Iterator[dict[str, Any]]:
    """The streamed form of ``answer``: role, content pieces, tool-call pieces, finish."""
    message = answer["choices"][0]["message"]
    base = {k: answer[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(message["content"] or ""):
        yield chunk({"content": piece})
    for index, call in enumerate(message.get("tool_calls", [])):
        head = {"id": call["id"], "type": "function"}
        function = {"name": call["function"]["name"], "arguments": ""}
        yield chunk({"tool_calls": [{"index": index, **head, "function": function}]})
        for piece in _pieces(call["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, answer["choices"][0]["finish_reason"])
    if include_usage:
        yield base | {"choices": [], "usage": answer["usage"]}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if (problem := ordering_problem(body["messages"])) is not None:
            self.server.refused.append(body)
            error = {"message": problem, "type": "invalid_request_error", "param": "messages"}
            self._send(400, {"error": error | {"code": None}})
            return
        with self.server.counting():
            if self.server.delay:
                time.sleep(self.server.delay)
            answer = _answer(body)
        self.server.garble(answer)
        if body.get("stream"):
            self._stream(answer, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        self._send(200, answer)

    def _send(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, answer: dict[str, Any], include_usage: bool) -> None:
        # HTTP/1.0 without Content-Length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for event in _chunks(answer, include_usage):
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        """Seconds each request is held before it is answered."""
        self.max_in_flight = 0
        """The most requests that were being answered at the same moment."""
        self.refused: list[dict[str, Any]] = []
        """Requests answered with HTTP 400 for breaking the tool-message rule."""
        self.garble_tool_calls = 0
        """How many more replies with tool calls get their arguments cut off."""
        self.garbled: list[str] = []
        """The ids of the tool calls whose arguments were cut off."""
        self._in_flight = 0
        self._lock = threading.Lock()

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

    def garble(self, answer: dict[str, Any]) -> None:
        """Cut off the arguments of ``answer``'s tool calls, while ``garble_tool_calls`` lasts."""
        calls = answer["choices"][0]["message"].get("tool_calls")
        with self._lock:
            if not calls or self.garble_tool_calls <= 0:
                return
            self.garble_tool_calls -= 1
        for call in calls:
            call["function"]["arguments"] = call["function"]["arguments"][:-2]
            self.garbled.append(call["id"])

    @property
    def base_url(self) -> str:
        """The value for ``OPENAI_BASE_URL``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


def openai_server() -> AbstractContextManager[_Server]:
    """Serve on a free loopback port; ``server.server_address`` tells where."""
    return serving(_Server())
