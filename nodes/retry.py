"""Which model errors are worth retrying, and how long to wait before the next request.

orchestra owns the only retry layer: each model step retries its own transient errors
(``orchestra.nodes.model_call``) and no graph node retries a model call again, so one
model call makes at most ``1 + retries`` requests. LangGraph's default ``retry_on`` skips
``OSError``, ``ValueError`` and friends, which is where many provider SDKs put timeouts
and resets; ``is_transient`` names them instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from orchestra.state import TeamSpec, TransientModelError

__all__ = [
    "Backoff",
    "TransientModelError",  # re-exported: it lives in orchestra.state.errors
    "backoff_for",
    "is_transient",
    "retry_after_s",
    "status_of",
]

_TRANSIENT_NAMES = frozenset(
    {
        "RateLimitError",
        "APITimeoutError",
        "APIConnectionError",
        "InternalServerError",
        "ServiceUnavailableError",
        "TimeoutException",
        "ConnectError",
        "ReadError",
        "RemoteProtocolError",
        "ReadTimeout",
        "ConnectTimeout",
    }
)

MAX_WAIT_S = 60.0
"""The longest wait between two requests: long enough to outlast a rate-limit window."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status a provider SDK's error carries, on itself or on its response."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(exc: BaseException) -> bool:
    """True for rate limits, 5xx, timeouts and connection errors from any provider SDK."""
    if isinstance(exc, TransientModelError | TimeoutError | ConnectionError):
        return True
    status = status_of(exc)
    if status is not None and (status in (408, 409, 429) or 500 <= status < 600):
        return True
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    found = headers.get(name)  # httpx.Headers is case-insensitive; a plain dict may not be
    if found is None:
        found = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return None if found is None else str(found)


def retry_after_s(exc: BaseException) -> float | None:
    """The wait a provider asked for in its error's ``retry-after-ms`` / ``retry-after`` header.

    Example:
        >>> class Response:
        ...     headers = {"retry-after": "2"}
        >>> class RateLimited(Exception):
        ...     response = Response()
        >>> retry_after_s(RateLimited())
        2.0
    """
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if (ms := _header(headers, "retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    if (value := _header(headers, "retry-after")) is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Backoff:
    """How a model step retries: how often, and how long it waits before each retry."""

    retries: int = 4
    """Requests after the first one (so at most ``1 + retries`` per model call)."""
    initial_s: float = 0.5
    """The first wait's upper bound; each later one doubles it (full jitter below it)."""
    cap_s: float = MAX_WAIT_S
    """The longest single wait, a provider's ``Retry-After`` included."""

    def wait_s(self, retry: int, exc: BaseException) -> float:
        """Seconds to wait before retry number ``retry`` (0 first) after ``exc``.

        A ``Retry-After`` the provider sent is honoured; otherwise exponential backoff with
        full jitter, so that many workers hit by one rate limit do not return together.

        Example:
            >>> 0 <= Backoff(initial_s=1).wait_s(2, TimeoutError()) <= 4
            True
        """
        hinted = retry_after_s(exc)
        if hinted is not None:
            return min(hinted, self.cap_s)
        return random.uniform(0, min(self.cap_s, self.initial_s * 2**retry))


def backoff_for(team: TeamSpec) -> Backoff:
    """The backoff of ``team``'s model calls, from its limits."""
    return Backoff(team.limits.retry_attempts, team.limits.retry_initial_s)
