"""JSON over HTTP for the registry checks: cached, bounded, and every failure named.

A lookup gives either the document or a ``Problem`` (a ``GapReason`` code and a sentence),
never an exception: a check that could not run is reported as such, not as clean. Once a
host is unreachable or times out, later lookups to it fail at once with the same problem,
so an audit of 300 packages against a dead mirror takes one timeout, not 300.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from orchestra_audit.findings import GapReason
from orchestra_audit.netsettings import RegistrySettings, shown
from orchestra_audit.regcache import DiskCache

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = "orchestra-audit/0.1"
DOWN_SECONDS = 60.0
"""How long a host that did not answer is not asked again, by any repository of any audit:
the repositories audited at once would otherwise each wait for its timeout."""


@dataclass(frozen=True)
class Problem:
    """Why a lookup has no answer."""

    reason: GapReason
    detail: str


@dataclass(frozen=True)
class Answer:
    """A lookup's JSON document, or the problem that prevented it."""

    doc: Any = None
    problem: Problem | None = None


class Fetcher:
    """GET and POST of JSON documents with the settings' cache, timeout and offline switch.

    Thread-safe: one ``httpx.Client`` (a connection pool) serves all of ``map``'s threads.
    """

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        self.cache = DiskCache(settings.cache, settings.ttl)
        self.requests = 0
        """Requests sent (cache hits and offline lookups send none)."""
        self._down: dict[str, Problem] = {}
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        if self._client is not None:
            self._client.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                # trust_env: HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE as the user set them.
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.settings.timeout),
                    trust_env=True,
                    follow_redirects=True,
                    headers={"User-Agent": USER_AGENT},
                )
            return self._client

    def cached(self, key: str) -> Any | None:
        """A cached document: fresh online, of any age offline."""
        return self.cache.get(key, stale_ok=self.settings.offline)

    def get(self, url: str, *, key: str = "", headers: Mapping[str, str] | None = None) -> Answer:
        """``GET url`` as JSON, through the cache (under ``key``, the URL by default)."""
        return self._fetch("GET", url, key or url, None, headers)

    def post(self, url: str, body: Any) -> Answer:
        """``POST url`` with a JSON body, never cached (callers cache what they split out)."""
        return self._fetch("POST", url, "", body, None)

    def _fetch(
        self, method: str, url: str, key: str, body: Any, headers: Mapping[str, str] | None
    ) -> Answer:
        if key and (doc := self.cached(key)) is not None:
            return Answer(doc)
        if self.settings.offline:
            return Answer(problem=Problem("offline", "offline, and not in the cache"))
        host = shown(url)
        if (down := self._down_problem(host)) is not None:
            return Answer(problem=down)
        with self._lock:
            self.requests += 1
        answer = self._send(method, url, body, headers)
        if answer.problem is not None and answer.problem.reason in ("unreachable", "timeout"):
            with self._lock:
                self._down.setdefault(host, answer.problem)
            problem = answer.problem
            self.cache.put(f"down {host}", {"reason": problem.reason, "detail": problem.detail})
        elif key and answer.problem is None:
            self.cache.put(key, answer.doc)
        return answer

    def _down_problem(self, host: str) -> Problem | None:
        """Why ``host`` is not asked: it did not answer here, or lately in another audit."""
        with self._lock:
            if host in self._down:
                return self._down[host]
        mark = self.cache.get(f"down {host}", max_age=DOWN_SECONDS)
        if isinstance(mark, dict) and mark.get("reason") in ("unreachable", "timeout"):
            return Problem(mark["reason"], str(mark.get("detail", host)))
        return None

    def _send(self, method: str, url: str, body: Any, headers: Mapping[str, str] | None) -> Answer:
        host = shown(url)
        try:
            response = self._http().request(method, url, json=body, headers=headers)
        except httpx.TimeoutException:
            return Answer(problem=Problem("timeout", f"no answer from {host} in time"))
        except httpx.HTTPError as exc:  # connection refused, DNS, TLS, proxy errors...
            kind = type(exc).__name__
            return Answer(problem=Problem("unreachable", f"{host} unreachable ({kind})"))
        status = response.status_code
        if status == 404:
            return Answer(problem=Problem("not-found", f"not on {host} (HTTP 404)"))
        if status >= 500:
            return Answer(problem=Problem("server-error", f"HTTP {status} from {host}"))
        if status >= 400:
            return Answer(problem=Problem("refused", f"HTTP {status} from {host}"))
        try:
            return Answer(response.json())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Answer(problem=Problem("server-error", f"{host} answered something not JSON"))

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``function`` over ``items``, ``settings.concurrency`` at a time, in order."""
        work = list(items)
        if len(work) <= 1:
            return [function(item) for item in work]
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            return list(pool.map(function, work))
