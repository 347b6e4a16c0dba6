"""An OpenAI-compatible chat-completions server on 127.0.0.1, answering with the offline policy.

It lets tests drive the real wire path (``ChatOpenAI`` → HTTP → JSON) without a provider:
tool calls, ``json_schema`` structured output and plain text, and it records every request.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.messages import convert_to_messages

from nodes import OfflineChatModel
from nodes.local_model import BoundTool


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


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        payload = json.dumps(_answer(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default (5) refuses connections under concurrent load

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []

    def server_bind(self) -> None:
        # Without TCP_NODELAY each small response waits ~40 ms on delayed ACKs.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


@contextmanager
def openai_server() -> Iterator[_Server]:
    """Serve on a free loopback port; ``server.server_address`` tells where."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
