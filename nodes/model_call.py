"""One model call: its requests, each bounded in time, its transient errors retried.

This is the only retry layer of a model call (provider SDK retries are off, no graph
node retries a model call): at most ``1 + retries`` requests, waiting between them as
``Backoff`` says (a provider's ``Retry-After`` honoured), never past the node's deadline.
Each request waits at most the role's ``timeout_s`` and what is left until the deadline;
one that takes longer is abandoned and counted as a transient error. Out of time, the
call raises ``OutOfTime`` and the node ends with what it has (a budget ran out). A
permanent error (401, 400, 404, ...) is raised at once, marked ``from_model``.

Before anything is sent, the prompt is measured against its model's context window
(``orchestra.nodes.context_check``): one that cannot fit raises ``ContextTooLongError``,
a permanent error, with nothing sent and nothing reserved.

A reply that came back and then failed inside the call (the SDK's parse of a truncated
structured reply raises with the completion, usage included) is billed: ``billed_before``
reads it off the error, so the node that records the failure counts it. (Not a callback
on every model run: that costs a third of the orchestration time at 100 workers.)

A sync request runs in a daemon thread (``orchestra.nodes.daemon_pool``) with the
caller's context variables, so a hung request neither holds the node past its timeout
nor keeps the interpreter from exiting; the wait also ends once the run's
``StopSignal`` is requested (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.runnables.config import RunnableConfig
from langgraph.errors import GraphBubbleUp

from orchestra.nodes.call_bounds import CallBounds, current_bounds
from orchestra.nodes.charges import BudgetSpent
from orchestra.nodes.chat_models import call_settings, chat_in
from orchestra.nodes.context_check import PromptSize, checked
from orchestra.nodes.daemon_pool import DaemonPool
from orchestra.nodes.retry import is_transient
from orchestra.state import ContextTooLongError, RunStopped
from orchestra.state.purse import Hold

T = TypeVar("T")

_POLL_S = 0.05
"""How often a waiting call looks whether the run was asked to stop."""

_REQUESTS = DaemonPool("orchestra-model-call")


class CallTimedOut(TimeoutError):
    """A request got no reply within its timeout; it was abandoned (a transient error)."""


class OutOfTime(BudgetSpent):
    """The node's deadline came before the model call could be answered.

    ``limit`` names the budget (``timeout_s``, ``team timeout_s``) for the node's reason.
    """


_MARK = "_orchestra_from_model"


def from_model(exc: BaseException) -> bool:
    """Whether ``exc`` is a permanent error of a model call.

    That is its provider's refusal, or a prompt too long for the model (never sent).
    """
    return isinstance(exc, ContextTooLongError) or bool(getattr(exc, _MARK, False))


def completion_message(completion: object) -> AIMessage | None:
    """The message of an OpenAI ``ChatCompletion``: its text, and its usage where it has one.

    Example:
        >>> completion_message(None) is None
        True
    """
    if completion is None:
        return None
    choices = getattr(completion, "choices", None)
    first = getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
    text = getattr(first, "content", None) or ""
    message = AIMessage(text)
    usage = getattr(completion, "usage", None)
    prompt = getattr(usage, "prompt_tokens", None)
    answer = getattr(usage, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(answer, int):
        message.usage_metadata = {
            "input_tokens": prompt,
            "output_tokens": answer,
            "total_tokens": prompt + answer,
        }
        message.response_metadata["model_name"] = str(getattr(completion, "model", "") or "")
    return message


def billed_before(exc: BaseException) -> list[AIMessage]:
    """The reply that came back (and was billed) before ``exc`` ended its model call.

    OpenAI's SDK raises ``LengthFinishReasonError`` and ``ContentFilterFinishReasonError``
    with the ``completion``; its usage is what the provider billed.

    Example:
        >>> billed_before(ValueError("no reply in it"))
        []
    """
    message = completion_message(getattr(exc, "completion", None))
    return [message] if message is not None and message.usage_metadata else []


def _limits(bound: Runnable[Any, Any], bounds: CallBounds) -> tuple[float | None, int]:
    """The per-request timeout and the retries of a call of ``bound``."""
    chat = chat_in(bound)
    if chat is None:
        return None, bounds.backoff.retries
    settings = call_settings(chat)
    own = settings.max_retries  # a role's own setting, where it has one
    return settings.timeout_s, own if own is not None else bounds.backoff.retries


def _timeout(role_s: float | None, left_s: float | None) -> float | None:
    given = [t for t in (role_s, left_s) if t is not None]
    return min(given) if given else None


def _wait_in_thread(call: Callable[[], T], timeout_s: float | None, bounds: CallBounds) -> T:
    """``call()`` in a daemon thread; abandoned after ``timeout_s`` or once the run stops."""
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome.append((True, context.run(call)))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append((False, exc))
        finally:
            done.set()

    _REQUESTS.submit(target)
    end = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        wait = _POLL_S if end is None else max(0.0, min(_POLL_S, end - time.monotonic()))
        if done.wait(wait):
            break
        if bounds.stop is not None and bounds.stop.requested:
            raise RunStopped(bounds.stop.reason)
        if end is not None and time.monotonic() >= end:
            raise CallTimedOut(f"no reply within {timeout_s:.1f}s: the request was abandoned")
    ok, value = outcome[0]
    if ok:
        result: T = value
        return result
    raise value


async def _wait_in_task(call: Awaitable[T], timeout_s: float | None, bounds: CallBounds) -> T:
    """``await call``; cancelled after ``timeout_s`` or once the run stops."""
    pending = asyncio.ensure_future(call)
    loop = asyncio.get_running_loop()
    end = None if timeout_s is None else loop.time() + timeout_s
    try:
        while True:
            wait = _POLL_S if end is None else max(0.0, min(_POLL_S, end - loop.time()))
            if (await asyncio.wait({pending}, timeout=wait))[0]:
                return pending.result()
            if bounds.stop is not None and bounds.stop.requested:
                raise RunStopped(bounds.stop.reason)
            if end is not None and loop.time() >= end:
                raise CallTimedOut(f"no reply within {timeout_s:.1f}s: the request was abandoned")
    finally:
        if not pending.done():
            pending.cancel()


class _Tries:
    """The bookkeeping of one model call's requests, shared by the sync and async loops."""

    def __init__(self, bound: Runnable[Any, Any]) -> None:
        self.bounds = current_bounds()
        self.timeout_s, self.retries = _limits(bound, self.bounds)
        self.requests = 0
        self.started = time.monotonic()

    def next_timeout(self) -> float | None:
        """The timeout of the next request; raises ``OutOfTime`` when no time is left."""
        left = self.bounds.left_s()
        if left is not None and left <= 0:
            raise OutOfTime(self.bounds.limit, "time is up before the model call")
        self.requests += 1
        return _timeout(self.timeout_s, left)

    def failed(self, exc: Exception, timeout_s: float | None) -> float:
        """After a failed request: the wait before the next, or raise what ends the call."""
        if isinstance(exc, GraphBubbleUp | RunStopped | BudgetSpent):
            raise exc
        left = self.bounds.left_s()
        if isinstance(exc, CallTimedOut) and left is not None and left <= 0.01:
            raise OutOfTime(self.bounds.limit, "time ran out waiting for a reply") from exc
        if not is_transient(exc):
            setattr(exc, _MARK, True)
            raise exc
        if self.requests > self.retries:
            exc.add_note(f"orchestra gave up after {self.requests} requests")
            raise exc
        wait = self.bounds.backoff.wait_s(self.requests - 1, exc)
        if left is not None and wait >= left:
            detail = f"no time left for a retry after {type(exc).__name__}: {exc}"
            raise OutOfTime(self.bounds.limit, detail) from exc
        self.bounds.tally.retries += 1
        return wait

    def pause(self, wait: float) -> None:
        """Sleep ``wait`` seconds, unless the run is stopped first."""
        stop = self.bounds.stop
        if stop is None:
            time.sleep(wait)
        elif stop.wait(wait):
            raise RunStopped(stop.reason)

    async def apause(self, wait: float) -> None:
        """``pause`` without blocking the event loop."""
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(_POLL_S, left) if self.bounds.stop is not None else left)
            if self.bounds.stop is not None and self.bounds.stop.requested:
                raise RunStopped(self.bounds.stop.reason)


def _measured(
    bound: Runnable[Any, Any], messages: Any, tries: _Tries, config: Any
) -> PromptSize | None:
    """The prompt measured against its model's window, and noted for the node's ledger.

    Raises ``ContextTooLongError`` (nothing sent, nothing reserved) when it cannot fit.
    """
    try:
        size = checked(bound, messages, config)
    except ContextTooLongError as exc:
        tries.bounds.tally.measured(exc.tokens, exc.window)
        raise
    if size is not None:
        tries.bounds.tally.measured(size.tokens, size.window)
    return size


def _answered(tries: _Tries, size: PromptSize | None, reply: Any) -> None:
    """A measured call's reply: the input tokens its provider counted, for the ledger."""
    if size is None:
        return
    found = reply.get("raw") if isinstance(reply, dict) else reply
    usage = found.usage_metadata if isinstance(found, AIMessage) else None
    if usage:
        tries.bounds.tally.replied(usage["input_tokens"])


def _reserved(bounds: CallBounds) -> Hold | None:
    """One call reserved from the node's accounts (``BudgetSpent`` when one is spent)."""
    return bounds.charge.reserve() if bounds.charge is not None else None


def _settled(bounds: CallBounds, hold: Hold | None, reply: Any, exc: BaseException | None) -> None:
    """The reservation released, with what the call spent: its reply, or a billed failure's."""
    if hold is None or bounds.charge is None:
        return
    bounds.tally.reserved_calls += 1
    bounds.tally.reserved_tokens += hold.tokens
    spent = [reply] if exc is None else billed_before(exc)
    bounds.charge.settle(hold, spent)


def call_model(
    bound: Runnable[Any, Any], messages: Any, config: RunnableConfig | None
) -> tuple[Any, float, int]:
    """The reply of ``bound``, its latency (waits included) and the requests it took.

    The prompt is first measured against its model's window: one that cannot fit raises
    ``ContextTooLongError`` and nothing is sent. Then the call is reserved from the node's
    accounts (``CallBounds.charge``): a spent one raises ``BudgetSpent``, nothing sent.
    """
    tries = _Tries(bound)
    size = _measured(bound, messages, tries, config)
    hold = _reserved(tries.bounds)
    try:
        while True:
            timeout = tries.next_timeout()
            try:
                invoke = lambda: bound.invoke(messages, config)  # noqa: E731
                reply = _wait_in_thread(invoke, timeout, tries.bounds)
            except Exception as exc:
                tries.pause(tries.failed(exc, timeout))
            else:
                _settled(tries.bounds, hold, reply, None)
                _answered(tries, size, reply)
                return reply, time.monotonic() - tries.started, tries.requests
    except BaseException as exc:
        _settled(tries.bounds, hold, None, exc)
        raise


async def acall_model(
    bound: Runnable[Any, Any], messages: Any, config: RunnableConfig | None
) -> tuple[Any, float, int]:
    """``call_model`` for async code."""
    tries = _Tries(bound)
    size = _measured(bound, messages, tries, config)
    hold = _reserved(tries.bounds)
    try:
        while True:
            timeout = tries.next_timeout()
            try:
                call = bound.ainvoke(messages, config)
                reply = await _wait_in_task(call, timeout, tries.bounds)
            except Exception as exc:
                await tries.apause(tries.failed(exc, timeout))
            else:
                _settled(tries.bounds, hold, reply, None)
                _answered(tries, size, reply)
                return reply, time.monotonic() - tries.started, tries.requests
    except BaseException as exc:
        _settled(tries.bounds, hold, None, exc)
        raise
