"""Which errors are worth retrying, and the retry policy of every model-calling node.

LangGraph's default ``retry_on`` skips ``OSError``, ``ValueError`` and friends, which
is where many provider SDKs put timeouts and resets; this predicate names them instead.
"""

from __future__ import annotations

from langgraph.types import RetryPolicy

from orchestra.state import TeamSpec, TransientModelError

__all__ = [
    "TransientModelError",  # re-exported: it lives in orchestra.state.errors
    "is_transient",
    "model_retry_policy",
    "retry_policy_for",
    "worker_retry_policy",
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


def is_transient(exc: BaseException) -> bool:
    """True for rate limits, 5xx, timeouts and connection errors from any provider SDK."""
    if isinstance(exc, TransientModelError | TimeoutError | ConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and (status == 429 or 500 <= status < 600):
        return True
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


def retry_policy_for(team: TeamSpec) -> RetryPolicy:
    """The retry policy of ``team``'s model-calling nodes, from its limits."""
    return model_retry_policy(team.limits.retry_attempts, team.limits.retry_initial_s)


def worker_retry_policy(team: TeamSpec, name: str) -> RetryPolicy | None:
    """The node retry policy of specialist ``name``: none for one that pauses for approvals.

    Such a worker's model calls are durable steps that retry themselves (``orchestra.nodes.durable``
    says why the node must not).
    """
    return None if name in team.approval.tool_calls else retry_policy_for(team)


def model_retry_policy(max_attempts: int = 4, initial_s: float = 0.5) -> RetryPolicy:
    """Exponential backoff with jitter for nodes that call models."""
    return RetryPolicy(
        initial_interval=initial_s,
        backoff_factor=2.0,
        max_interval=20.0,
        max_attempts=max_attempts,
        jitter=True,
        retry_on=is_transient,
    )
