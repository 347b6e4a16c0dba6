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
ignores ``response_format``. ``limits=PUBLISHED`` (``context_limits``) also enforces
models' token limits as OpenAI does (``context_length_exceeded``, replies cut with
``finish_reason: length``). Requests a profile refuses are kept in ``refused``. The
replies themselves (ids, usage fields, stream chunks per server) are built in
``wire_replies``.

Misbehaviours (``misbehaviours``) are injected at a seeded rate (``misbehave={"truncate":
0.2}, seed=3``) or for the next N requests (``server.inject("rate_limit", 2)``;
``garble_tool_calls = N`` is ``invalid_tool_json`` N times). ``log`` has one ``Exchange``
per request: its status, the misbehaviour, the usage the server billed and the usage it
reported (a streamed answer is billed even when its usage was not asked for).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import wire_replies as replies
from context_limits import PUBLISHED, Limits, length_refusal, limits_for, prompt_tokens
from loopback import LoopbackServer, serving
from misbehaviours import BEFORE_ANSWER, Injector, Kind, failure, fits, misbehave
from provider_profiles import PROFILES, Profile, ProfileName, Refusal, ordering_problem, refusal

__all__ = ["PUBLISHED", "Exchange", "Limits", "openai_server", "ordering_problem", "total"]

Usage = replies.Usage


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
    """The usage sent to the client (a stream sends it only when asked; a client that gave
    up at a timeout may never have read it)."""
    stream: bool = False


def total(usages: list[Usage]) -> dict[str, int]:
    """The summed token counts of ``usages``."""
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {k: sum(int(u[k]) for u in usages) for k in keys}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        index = server.record(body)
        profile = server.profile
        limits = limits_for(str(body.get("model", "")), server.limits)
        if (refused := refusal(profile, body)) is not None or (
            limits is not None and (refused := length_refusal(profile, body, limits)) is not None
        ):
            server.refused.append(body)
            server.note(Exchange(index, refused.status, "refused", stream=bool(body.get("stream"))))
            self._send_error(refused)
            return
        drawn = server.injector.draw(replies.fingerprint(body, server.volatile))
        with server.counting():
            if server.delay:
                time.sleep(server.delay)
            try:
                answer = replies.answer(body, profile)
            except Exception:  # a bug of this server, not the client's: say so loudly
                server.crashes.append(traceback.format_exc())
                server.note(Exchange(index, 500, "crash", stream=bool(body.get("stream"))))
                self._send_error(failure(profile, "server_error", 0, 0))
                return
            most = replies.token_limit(body, profile)
            if limits is not None:
                most = min(most or limits.max_output_tokens, limits.max_output_tokens)
            replies.cap(answer, most)
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
        usage = replies.usage_of(body, answer, profile)
        if limits is not None:  # the count its limits were enforced with
            usage["prompt_tokens"] = prompt_tokens(body)
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        stream = bool(body.get("stream"))
        reported = usage if not stream or replies.wants_usage(body, profile) else None
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
        for event in replies.chunks(answer, profile, usage):
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
        limits: dict[str, Limits],
    ) -> None:
        super().__init__(_Handler)
        self.limits = limits
        """Models served with token limits enforced (``context_limits``), by name prefix."""
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
        self.crashes: list[str] = []
        """Tracebacks of requests this server failed to answer (its own bugs: answered 500)."""
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
        return [e.kind for e in self.log if e.kind not in (None, "refused", "crash")]

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
    limits: dict[str, Limits] | None = None,
) -> AbstractContextManager[_Server]:
    """Serve on a free loopback port as ``profile``'s server; ``server.base_url`` tells where.

    ``misbehave`` maps misbehaviours to the share of requests that get them, drawn from
    ``seed`` and what each request asks, less the ``volatile`` text (temporary paths), so
    a run misbehaves the same way each time. ``limits`` serves those models with their
    token limits enforced as OpenAI does (``context_limits.PUBLISHED``: OpenAI's own).
    """
    chosen = PROFILES[profile] if isinstance(profile, str) else profile
    injector = Injector(misbehave, seed)
    server = _Server(chosen, injector, hang_s, retry_after_s, tuple(volatile), dict(limits or {}))
    return serving(server)
