"""Whether a model call's prompt fits its model's window, measured before it is sent.

A call's prompt is its messages plus the schemas its runnable sends (tools, response
format), counted as ``orchestra.nodes.tokens`` does. It fits when it leaves room for the
reply: the role's ``max_output_tokens`` (sent as ``max_tokens``, so the provider counts it
too), else the model's published output limit but never more than half the window (a
reasoning model's 100k-token limit would otherwise leave little for the prompt; its reply
is then bounded by what is left, as the provider does when no ``max_tokens`` is sent).
A model without a known window (offline, scripted, unknown names) is not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from orchestra.nodes.call_info import call_info_of
from orchestra.nodes.chat_models import CallSettings, call_settings, chat_in
from orchestra.nodes.tokens import Counter, counter_for, message_tokens, schema_tokens
from orchestra.state import ContextTooLongError


@dataclass(frozen=True)
class PromptSize:
    """One prompt measured against its model's window."""

    tokens: int
    """The prompt's tokens: messages, their framing and the schemas sent with them."""
    reserved: int
    """Tokens kept for the reply."""
    window: int

    @property
    def fits(self) -> bool:
        """Whether the prompt and the reply's reserve fit the window."""
        return self.tokens + self.reserved <= self.window

    @property
    def room(self) -> int:
        """Tokens the prompt could still grow by (negative: over)."""
        return self.window - self.reserved - self.tokens


def reserved_output(settings: CallSettings) -> int:
    """Tokens a prompt leaves for the reply (see the module docstring)."""
    if settings.max_output_tokens is not None:
        return settings.max_output_tokens
    return min(settings.output_limit or 0, (settings.context_window or 0) // 2)


def counter_of(settings: CallSettings) -> Counter:
    """How prompts of a model with ``settings`` are counted."""
    return counter_for(settings.provider, settings.model_name)


def windowed(bound: Any) -> bool:
    """Whether calls through ``bound`` are measured (its model has a known window).

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> windowed(OfflineChatModel())
        False
    """
    chat = chat_in(bound)
    return chat is not None and call_settings(chat).context_window is not None


def measure(bound: Any, messages: Sequence[BaseMessage] | str) -> PromptSize | None:
    """The size of ``messages`` sent through ``bound`` (``None``: its model has no window).

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> measure(OfflineChatModel(), "hello") is None
        True
    """
    chat = chat_in(bound)
    if chat is None:
        return None
    settings = call_settings(chat)
    if settings.context_window is None:
        return None
    count = counter_of(settings)
    tokens = message_tokens(messages, count) + schema_tokens(bound, count)
    return PromptSize(tokens, reserved_output(settings), settings.context_window)


def who_asks(config: RunnableConfig | None) -> str:
    """The role making a call, as errors name it: ``specialist 'analyst' on s2``."""
    info = call_info_of((config or {}).get("metadata"))
    if info is None:
        return "model call"
    if info.role == "specialist":
        return f"specialist {info.specialist!r} on {info.subtask_id}"
    return info.role


def checked(bound: Any, messages: Any, config: RunnableConfig | None) -> PromptSize | None:
    """Measure a call's prompt; raise ``ContextTooLongError`` when it cannot fit.

    Raises:
        ContextTooLongError: the prompt and the reply's reserve exceed the window.
    """
    if not isinstance(messages, str | list | tuple):
        return None  # a prompt value or a dict input: not a chat prompt orchestra built
    size = measure(bound, messages)
    if size is not None and not size.fits:
        raise ContextTooLongError(
            who_asks(config), tokens=size.tokens, reserved=size.reserved, window=size.window
        )
    return size
