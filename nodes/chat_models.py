"""Model resolution, done lazily inside nodes so importing or building a graph needs no key."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from orchestra.nodes.offline import OfflineChatModel
from orchestra.nodes.resolve import import_ref
from orchestra.state import ModelConfigError, parse_model_ref

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class CallSettings:
    """What the code around a model call needs to know of its model (its role's settings).

    The steps read it (``call_settings``) instead of each provider's client fields:
    the timeout of one call, how to ask for structured output, and the model's limits.
    """

    timeout_s: float | None = None
    """Longest wait for one call's reply; ``None``: bounded only by the budgets."""
    structured_output: str = "auto"
    """``auto``, ``json_schema``, ``function_calling`` or ``json_mode``."""
    context_window: int | None = None
    max_output_tokens: int | None = None


def call_settings(chat: BaseChatModel) -> CallSettings:
    """The settings ``chat`` was built with (defaults for a model made in code).

    Example:
        >>> call_settings(OfflineChatModel()).structured_output
        'auto'
    """
    timeout = getattr(chat, "request_timeout", None)
    return CallSettings(timeout_s=float(timeout) if isinstance(timeout, int | float) else None)


def default_model_ref() -> str:
    """``ORCHESTRA_MODEL`` if set, else OpenAI when ``OPENAI_API_KEY`` is set, else offline."""
    if chosen := os.environ.get("ORCHESTRA_MODEL", "").strip():
        return chosen
    if os.environ.get("OPENAI_API_KEY"):
        return f"openai:{DEFAULT_OPENAI_MODEL}"
    return "offline"


def _imported(path: str, folders: Sequence[Path]) -> BaseChatModel:
    try:
        found = import_ref(path, folders)
    except ImportError as exc:
        raise ModelConfigError(f"model 'import:{path}': {exc}") from None
    model = found() if callable(found) and not isinstance(found, BaseChatModel) else found
    if not isinstance(model, BaseChatModel):
        raise ModelConfigError(f"model 'import:{path}' is not a LangChain chat model")
    return model


@functools.lru_cache(maxsize=64)
def _build(
    ref: str, api_key: str | None, base_url: str | None, latency: str, folders: tuple[Path, ...]
) -> BaseChatModel:
    try:
        provider, name = parse_model_ref(ref)
    except ValueError as exc:
        raise ModelConfigError(str(exc)) from None
    if provider == "offline":
        return OfflineChatModel(latency_ms=float(latency or 0))
    if provider == "import":
        return _imported(name, folders)
    if not api_key and not base_url:
        raise ModelConfigError(
            f"model {ref!r} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server "
            "such as Ollama or vLLM); use --model offline to run without one"
        )
    from langchain_openai import ChatOpenAI  # imported here: it is slow and often unused

    # Local OpenAI-compatible servers ignore the key, but the client insists on one.
    return ChatOpenAI(model=name, api_key=api_key or "unused", base_url=base_url)


def resolve_model(
    *candidates: str | BaseChatModel | None, folders: Sequence[Path] = ()
) -> BaseChatModel:
    """The first model given among ``candidates`` (most specific first), else the default.

    An ``import:module:attr`` model is looked up in ``folders`` first (the team file's:
    ``TeamSpec.import_folders``), like the team's tools, then as ``import_ref`` does.

    Example:
        >>> type(resolve_model(None, "offline")).__name__
        'OfflineChatModel'
    """
    chosen = next((c for c in candidates if c is not None), None)
    if isinstance(chosen, BaseChatModel):
        return chosen
    return _build(
        chosen or default_model_ref(),
        os.environ.get("OPENAI_API_KEY") or None,
        os.environ.get("OPENAI_BASE_URL") or None,
        os.environ.get("ORCHESTRA_OFFLINE_LATENCY_MS", "0"),
        tuple(folders),
    )


class PerModel:
    """A runnable derived from a chat model (tools bound, structured output), made once per model.

    Deriving converts schemas to JSON, which costs more than the rest of a call's
    bookkeeping; a node makes it for the model it resolves and reuses it while the model
    stays the same (models resolved from one string are the same object).

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> structured = PerModel(lambda chat: chat.bind_tools([]))
        >>> chat = OfflineChatModel()
        >>> structured(chat) is structured(chat)
        True
    """

    def __init__(self, derive: Callable[[BaseChatModel], Any]) -> None:
        self._derive = derive
        self._last: tuple[BaseChatModel, Any] | None = None

    def __call__(self, chat: BaseChatModel) -> Any:
        """The runnable derived from ``chat``."""
        last = self._last
        if last is not None and last[0] is chat:
            return last[1]
        derived = self._derive(chat)
        self._last = (chat, derived)  # one assignment: threads see the old pair or the new
        return derived
