"""Model resolution, done lazily inside nodes so importing or building a graph needs no key.

A role's model is a string, ``ModelSettings`` (the string plus where and how to call
it) or a chat model. Strings and settings are built here once per distinct value (and
per key and server in the environment), and remembered with the ``CallSettings`` the
steps around a call read (``call_settings``).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import (
    RunnableBinding,
    RunnableParallel,
    RunnableSequence,
    RunnableWithFallbacks,
)
from pydantic import ValidationError

from orchestra.nodes.offline import OfflineChatModel
from orchestra.nodes.providers import DEFAULT_TIMEOUT_S, provider_key, provider_model
from orchestra.nodes.resolve import import_ref
from orchestra.state import ModelConfigError, ModelSettings, StructuredOutput, model_choice
from orchestra.state.model_limits import limits_of
from orchestra.state.model_settings import ToolChoice

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

ModelCandidate = str | ModelSettings | BaseChatModel | None
"""A role's model as a spec or a run gives it (``None``: not set here)."""


@dataclass(frozen=True)
class CallSettings:
    """What the code around a model call needs to know of its model (its role's settings).

    The steps read it (``call_settings``) instead of each provider's client fields:
    the timeout of one call, how to ask for structured output, retries and limits.
    """

    timeout_s: float | None = None
    """Longest wait for one call's reply; ``None``: bounded only by the budgets."""
    structured_output: StructuredOutput = "auto"
    """``auto``, ``json_schema``, ``function_calling`` or ``json_mode``."""
    context_window: int | None = None
    """Tokens the model reads at most (the role's, else the table's); ``None``: unchecked."""
    max_output_tokens: int | None = None
    """The role's cap on one reply (sent as ``max_tokens``); ``None``: not set."""
    output_limit: int | None = None
    """The model's published output limit (``MODEL_LIMITS``), when the role sets no cap."""
    provider: str = ""
    """The model's provider (``openai``...), which says how its prompts are counted."""
    model_name: str = ""
    """The model's name at its provider."""
    max_retries: int | None = None
    """Orchestra's retries of one failed call; ``None``: the team's ``retry_attempts``."""
    tool_choice: ToolChoice = "auto"
    """What a specialist's tool steps send: ``auto`` (no value) or ``required``."""

    @classmethod
    def of(cls, settings: ModelSettings) -> CallSettings:
        """The call settings of a model built from ``settings``."""
        timeout = settings.timeout_s
        if timeout is None and settings.provider not in ("offline", "import"):
            timeout = DEFAULT_TIMEOUT_S  # what its client was built with
        known = limits_of(settings.name) if settings.provider != "import" else None
        window = settings.context_window or (known.context_window if known else None)
        return cls(
            timeout_s=timeout,
            structured_output=settings.structured_output,
            context_window=window,
            max_output_tokens=settings.max_output_tokens,
            output_limit=known.max_output_tokens if known else None,
            provider=settings.provider,
            model_name=settings.name,
            max_retries=settings.max_retries,
            tool_choice=settings.tool_choice,
        )


# Models built from settings, by identity, with their call settings; bounded above the
# build cache's size, so a model still cached is always found here.
_BUILT: OrderedDict[int, tuple[BaseChatModel, CallSettings]] = OrderedDict()
_BUILT_LOCK = threading.Lock()


def _remember(chat: BaseChatModel, settings: CallSettings) -> None:
    with _BUILT_LOCK:
        _BUILT[id(chat)] = (chat, settings)
        while len(_BUILT) > 256:
            _BUILT.popitem(last=False)


def call_settings(chat: BaseChatModel) -> CallSettings:
    """The settings ``chat`` was built with (defaults for a model made in code).

    Example:
        >>> call_settings(OfflineChatModel()).structured_output
        'auto'
        >>> chat = resolve_model({"model": "offline", "timeout_s": 9, "max_retries": 1})
        >>> call_settings(chat).timeout_s, call_settings(chat).max_retries
        (9.0, 1)
    """
    found = _BUILT.get(id(chat))
    if found is not None and found[0] is chat:
        return found[1]
    timeout = getattr(chat, "request_timeout", None)
    # A model made in code: its window from the table, by the name its client holds.
    name = getattr(chat, "model_name", None) or getattr(chat, "model", None)
    known = limits_of(name) if isinstance(name, str) else None
    cap = getattr(chat, "max_tokens", None)  # sent with every request, where it is set
    return CallSettings(
        timeout_s=float(timeout) if isinstance(timeout, int | float) else None,
        context_window=known.context_window if known else None,
        max_output_tokens=cap if isinstance(cap, int) else None,
        output_limit=known.max_output_tokens if known else None,
        provider="openai" if type(chat).__name__ in ("ChatOpenAI", "AzureChatOpenAI") else "",
        model_name=name if isinstance(name, str) else "",
    )


def default_model_ref() -> str:
    """``ORCHESTRA_MODEL`` if set, else OpenAI when ``OPENAI_API_KEY`` is set, else offline.

    ``ORCHESTRA_MODEL`` is a model string or settings as JSON (see ``model_choice``).
    """
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
    settings_json: str,
    key: str | None,
    openai_base_url: str | None,
    latency: str,
    folders: tuple[Path, ...],
) -> BaseChatModel:
    # ``key`` and ``openai_base_url`` are read by the caller, so a changed environment
    # builds a new client; ``openai_base_url`` is read again by the builder itself.
    settings = ModelSettings.model_validate_json(settings_json)
    provider = settings.provider
    if provider == "offline":
        chat: BaseChatModel = OfflineChatModel(latency_ms=float(latency or 0))
    elif provider == "import":
        chat = _imported(settings.name, folders)
    else:
        chat = provider_model(settings, key)
    _remember(chat, CallSettings.of(settings))
    return chat


def as_settings(ref: str | ModelSettings | dict[str, Any]) -> ModelSettings:
    """``ref`` as ``ModelSettings`` (a string is settings with only ``model``).

    Raises:
        ModelConfigError: not a model string or valid settings.
    """
    if isinstance(ref, ModelSettings):
        return ref
    try:
        return ModelSettings.model_validate({"model": ref} if isinstance(ref, str) else ref)
    except ValidationError as exc:
        # Where and why, not pydantic's full text: that repeats the input, maybe a key.
        details = [
            (f"{e['loc'][0]}: " if e["loc"] and e["loc"] != ("model",) else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise ModelConfigError("; ".join(details)) from None


def resolve_model(
    *candidates: ModelCandidate | dict[str, Any], folders: Sequence[Path] = ()
) -> BaseChatModel:
    """The first model given among ``candidates`` (most specific first), else the default.

    A string or ``ModelSettings`` is built once and reused (see ``call_settings``); its
    key is read from the environment now (``api_key_env``, else the provider's own).
    An ``import:module:attr`` model is looked up in ``folders`` first (the team file's:
    ``TeamSpec.import_folders``), like the team's tools, then as ``import_ref`` does.

    Example:
        >>> type(resolve_model(None, "offline")).__name__
        'OfflineChatModel'

    Raises:
        ModelConfigError: the model cannot be built (bad string, missing package, no key).
    """
    chosen = next((c for c in candidates if c is not None), None)
    if isinstance(chosen, BaseChatModel):
        return chosen
    settings = as_settings(chosen or model_choice(default_model_ref()))
    key = provider_key(settings)
    return _build(
        settings.cache_key(),
        key,
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


def chat_in(runnable: object) -> BaseChatModel | None:
    """The chat model inside a bound runnable (tools bound, structured output), if any.

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> chat = OfflineChatModel()
        >>> chat_in(chat.bind_tools([])) is chat
        True
    """
    if isinstance(runnable, BaseChatModel):
        return runnable
    if isinstance(held := getattr(runnable, "chat", None), BaseChatModel):
        return held  # a wrapper keeping its model (``orchestra.nodes.structured.StructuredModel``)
    inner: list[object] = []
    if isinstance(runnable, RunnableBinding):
        inner = [runnable.bound]
    elif isinstance(runnable, RunnableSequence):
        inner = list(runnable.steps)
    elif isinstance(runnable, RunnableParallel):
        inner = list(runnable.steps__.values())
    elif isinstance(runnable, RunnableWithFallbacks):
        inner = [runnable.runnable]
    return next((found for r in inner if (found := chat_in(r)) is not None), None)
