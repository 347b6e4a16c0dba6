"""A LangSmith stand-in on 127.0.0.1 that records the runs a traced program sends.

The LangSmith client asks ``GET /info`` once, then batches run creations and updates to
``POST /runs/multipart`` as ``multipart/form-data``: a part ``post.<run id>`` (or
``patch.<run id>``) with the run's fields, and parts ``post.<run id>.inputs``,
``.outputs``, ``.extra``, ``.events``, ``.error``, ``.serialized`` with the large ones.
The recorder merges them into one dict per run, and keeps every raw body so a test can
search all that was sent (for a leaked secret, say).
"""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LoopbackServer, serving

INFO = {
    "version": "0.0.0-recorder",
    "license_expiration_time": None,
    # No "zstd_compression_enabled" flag: the client sends plain multipart bodies.
    "instance_flags": {},
    "batch_ingest_config": {
        "use_multipart_endpoint": True,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20_971_520,
    },
}


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The ``(name, payload)`` of each part of a ``multipart/form-data`` body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    parts: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes), part
        parts.append((name, payload))
    return parts


class _Handler(BaseHTTPRequestHandler):
    server: RecorderServer

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.paths.append(("GET", self.path))
        if self.path.rstrip("/").endswith("/info"):
            self._reply(200, INFO)
        else:
            self._reply(404, {"detail": "not recorded"})

    def do_POST(self) -> None:
        self.server.paths.append(("POST", self.path))
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding"):
            self._reply(415, {"detail": "the recorder reads uncompressed bodies only"})
            return
        if self.path.rstrip("/").endswith("/runs/multipart"):
            self.server.record(parse_multipart(self.headers["Content-Type"], body), body)
            self._reply(202, {})
        else:
            self._reply(404, {"detail": "not recorded"})

    def log_message(self, format: str, *args: Any) -> None:
        return


class RecorderServer(LoopbackServer):
    """The recording server: ``runs`` by id, ``bodies`` as sent, ``paths`` requested."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.runs: dict[str, dict[str, Any]] = {}
        self.bodies: list[bytes] = []
        self.paths: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The value for ``LANGSMITH_ENDPOINT``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, parts: list[tuple[str, bytes]], body: bytes) -> None:
        """Merge one batch: ``post.<id>`` creates a run, ``patch.<id>`` updates it."""
        with self._lock:
            self.bodies.append(body)
            for name, payload in parts:
                _, run_id, *field = name.split(".")
                run = self.runs.setdefault(run_id, {"id": run_id})
                value = json.loads(payload)
                if field:
                    run[field[0]] = value
                else:
                    run.update(value)


def langsmith_recorder() -> AbstractContextManager[RecorderServer]:
    """Serve on a free loopback port until the block ends."""
    return serving(RecorderServer())
