"""An OpenAI-compatible chat-completions server on 127.0.0.1, answering with the offline policy.

It lets tests drive the real wire path (``ChatOpenAI`` → HTTP → JSON) without a provider:
tool calls, ``json_schema`` structured output and plain text, whole or streamed as
server-sent events (``"stream": true``: ``data: {chunk}`` lines, then ``data: [DONE]``).
It records every request and the most requests it had in flight at once; ``delay``
holds each answer back so that concurrent requests overlap measurably.
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


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    messages = convert_to_messages(request["messages"])
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
        with self.server.counting():
            if self.server.delay:
                time.sleep(self.server.delay)
            answer = _answer(body)
        if body.get("stream"):
            self._stream(answer, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        payload = json.dumps(answer).encode()
        self.send_response(200)
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

    @property
    def base_url(self) -> str:
        """The value for ``OPENAI_BASE_URL``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


def openai_server() -> AbstractContextManager[_Server]:
    """Serve on a free loopback port; ``server.server_address`` tells where."""
    return serving(_Server())
