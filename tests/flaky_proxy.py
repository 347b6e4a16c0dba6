"""A loopback proxy in front of an OpenAI-compatible test server that fails or holds requests.

Scripted per request (``fail``, ``hang``), it answers with an error status, OpenAI's error
body and any headers (``Retry-After``...), or holds the request back before forwarding it.
It records when each request arrived, so tests count requests and measure waits on the wire.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LoopbackServer, serving
from openai_server import openai_server

Match = Callable[[dict[str, Any]], bool]


@dataclass
class Rule:
    """What the next ``times`` matching requests get instead of an answer."""

    times: int
    status: int = 0
    """An error status to answer with (0: forward, after ``hold_s``)."""
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "scripted failure"
    hold_s: float = 0.0
    when: Match | None = None


def is_worker(body: dict[str, Any]) -> bool:
    """A specialist's request (it binds tools)."""
    return bool(body.get("tools"))


def is_planner(body: dict[str, Any]) -> bool:
    """The orchestrator's request (structured output named ``Plan``)."""
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("name") == "Plan"


class _Handler(BaseHTTPRequestHandler):
    server: FlakyProxy

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        rule = self.server.arrived(body)
        if rule is not None and rule.status:
            error = {"message": rule.message, "type": "invalid_request_error", "code": None}
            self._send(rule.status, json.dumps({"error": error}).encode(), rule.headers)
            return
        if rule is not None and rule.hold_s:
            self.server.released.wait(rule.hold_s)
        request = urllib.request.Request(
            self.server.backend + self.path.removeprefix("/v1"),
            data=raw,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self._send(
                    answer.status, answer.read(), {"Content-Type": answer.headers["Content-Type"]}
                )
        except urllib.error.HTTPError as refused:
            self._send(refused.code, refused.read(), {"Content-Type": "application/json"})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on this request (a timeout): nothing to answer

    def log_message(self, format: str, *args: Any) -> None:
        return


class FlakyProxy(LoopbackServer):
    """Forwards to ``backend`` (a base URL ending in ``/v1``) except where a rule says."""

    def __init__(self, backend: str) -> None:
        super().__init__(_Handler)
        self.backend = backend
        self.rules: list[Rule] = []
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        """Each request's arrival (``time.monotonic``) and body, in order."""
        self.released = threading.Event()
        """Set at shutdown: held requests stop waiting."""
        self._lock = threading.Lock()

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "scripted failure",
        when: Match | None = None,
    ) -> None:
        """Answer the next ``times`` requests (that ``when`` matches) with ``status``."""
        self.rules.append(Rule(times, status, headers or {}, message, when=when))

    def hang(self, seconds: float, *, times: int = 1, when: Match | None = None) -> None:
        """Hold the next ``times`` matching requests ``seconds`` before forwarding them."""
        self.rules.append(Rule(times, hold_s=seconds, when=when))

    def arrived(self, body: dict[str, Any]) -> Rule | None:
        """Record a request; the rule it falls under, if any (used up by it)."""
        with self._lock:
            self.arrivals.append((time.monotonic(), body))
            for rule in self.rules:
                if rule.times > 0 and (rule.when is None or rule.when(body)):
                    rule.times -= 1
                    return rule
        return None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request's body, in arrival order."""
        return [body for _, body in self.arrivals]

    @property
    def base_url(self) -> str:
        """The value for ``base_url`` / ``OPENAI_BASE_URL``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


@contextmanager
def flaky_proxy() -> Iterator[FlakyProxy]:
    """An OpenAI-compatible loopback server behind a ``FlakyProxy``."""
    with openai_server() as backend, serving(FlakyProxy(backend.base_url)) as proxy:
        try:
            yield proxy
        finally:
            proxy.released.set()
