"""A stand-in for the loopback OpenAI server that misbehaves on cue, for the bad-reply tests.

It answers like ``openai_server`` (the offline policy, OpenAI's tool-message rule) and
then hands each answer to ``misbehave(request, answer)``, which may rewrite it: cut it
off (``finish_reason: length``), refuse, answer in prose, ignore ``response_format`` or
``tool_choice``. (These misbehaviours belong in the server's profiles; until they are
there, the tests of ``orchestra.nodes.structured`` bring their own.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LoopbackServer, serving
from provider_profiles import PROFILES, ordering_problem
from wire_replies import answer as _reply
from wire_replies import chunks, usage_of

Misbehave = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]
"""Rewrites an answer in place; returning an error body answers HTTP 400 with it instead."""


OPENAI = PROFILES["openai"]


def kind(request: dict[str, Any]) -> str:
    """``Plan``, ``Synthesis`` or ``tools``: what a request asks for."""
    schema = (request.get("response_format") or {}).get("json_schema")
    if schema:
        return str(schema["name"])
    names = {t["function"]["name"] for t in request.get("tools", [])}
    return next((n for n in ("Plan", "Synthesis") if n in names), "tools")


def message(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's assistant message (to rewrite in place)."""
    found: dict[str, Any] = answer["choices"][0]["message"]
    return found


def truncate(answer: dict[str, Any]) -> None:
    """Cut the answer off half-way, as ``max_tokens`` does."""
    said = message(answer)
    if said.get("content"):
        said["content"] = said["content"][: len(said["content"]) // 2]
    for call in said.get("tool_calls") or []:
        arguments = call["function"]["arguments"]
        call["function"]["arguments"] = arguments[: len(arguments) // 2]
    answer["choices"][0]["finish_reason"] = "length"


def prose(answer: dict[str, Any], text: str = "Sure! I would split the work sensibly.") -> None:
    """Replace the answer with prose, as a server that ignored ``response_format`` does."""
    answer["choices"][0]["message"] = {"role": "assistant", "content": text}
    answer["choices"][0]["finish_reason"] = "stop"


def refuse(answer: dict[str, Any]) -> None:
    """Refuse, as OpenAI's structured outputs do (``message.refusal``)."""
    answer["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "refusal": "I'm sorry, I cannot help with that.",
    }
    answer["choices"][0]["finish_reason"] = "stop"


def tool_call_as_text(answer: dict[str, Any]) -> None:
    """Answer a tool call as its JSON in text, as a server ignoring ``tool_choice`` may."""
    said = message(answer)
    calls = said.pop("tool_calls", None) or []
    if calls:
        said["content"] = calls[0]["function"]["arguments"]
        answer["choices"][0]["finish_reason"] = "stop"


class _Handler(BaseHTTPRequestHandler):
    server: MisbehavingServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if (problem := ordering_problem(body["messages"])) is not None:
            self.server.refused.append(body)
            error = {"message": problem, "type": "invalid_request_error", "code": None}
            self._send(400, {"error": error})
            return
        answer = _reply(body, OPENAI)
        answer["usage"] = usage_of(body, answer, OPENAI)
        self.server.usages.append(answer["usage"])
        if (error := self.server.misbehave(body, answer)) is not None:
            self._send(400, {"error": error})
            return
        if body.get("stream"):
            self._stream(answer, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        self._send(200, answer)

    def _stream(self, answer: dict[str, Any], include_usage: bool) -> None:
        # HTTP/1.0 without Content-Length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for event in chunks(answer, OPENAI, answer["usage"] if include_usage else None):
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


class MisbehavingServer(LoopbackServer):
    """The offline policy over HTTP, each answer rewritten by ``misbehave``."""

    def __init__(self, misbehave: Misbehave) -> None:
        self.usages: list[dict[str, Any]] = []  # what each answer billed
        super().__init__(_Handler)
        self.misbehave = misbehave
        self.requests: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        """The value for ``OPENAI_BASE_URL``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


def misbehaving_server(misbehave: Misbehave) -> AbstractContextManager[MisbehavingServer]:
    """Serve on a free loopback port until the block ends."""
    return serving(MisbehavingServer(misbehave))
