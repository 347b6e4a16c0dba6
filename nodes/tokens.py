"""How many tokens a prompt is: a real tokenizer where one loads, else a safe over-estimate.

For an OpenAI model, tiktoken counts the text when its encoding loads. Its encoding files
come from the network the first time (then from its cache), so the load runs once per
process in a daemon thread given ``LOAD_TIMEOUT_S``: without a network it fails, and that
failure is remembered, so no call ever waits on it again.

Otherwise (other providers, or tiktoken not loading) the estimate is a third of the
text's UTF-8 bytes, plus ``PER_MESSAGE`` tokens per message and ``PER_PROMPT`` per prompt.
It is meant to over-count: BPE tokenizers average about four characters of English or
code per token (OpenAI's own rule of thumb) and rarely fewer than three; text outside
ASCII takes two to four bytes a character and seldom more than one token per character;
and OpenAI frames each chat message with 3 tokens and each reply with 3 (its cookbook's
counting recipe). Tool schemas are counted as their JSON text, which is longer than the
form the provider renders them in. An over-estimate trims a prompt a little early; an
under-estimate would send a prompt the server refuses after the work before it was paid.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableSequence,
    RunnableWithFallbacks,
)
from pydantic import BaseModel

PER_MESSAGE = 4
"""Tokens counted for each message's framing (OpenAI's is 3; one more to be safe)."""
PER_PROMPT = 3
"""Tokens counted once per prompt (the reply's priming, in OpenAI's recipe)."""
BYTES_PER_TOKEN = 3
"""The estimate's ratio: fewer bytes per token than tokenizers reach on real text."""
LOAD_TIMEOUT_S = 2.0
"""Longest wait for tiktoken's encoding to load (it may try the network)."""

Counter = Callable[[str], int]
"""A text's token count."""


def estimate_text(text: str) -> int:
    """The conservative estimate of ``text``'s tokens: a third of its UTF-8 bytes, rounded up.

    Example:
        >>> estimate_text("abcdef"), estimate_text("")
        (2, 0)
    """
    return math.ceil(len(text.encode("utf-8", "replace")) / BYTES_PER_TOKEN)


_LOCK = threading.Lock()
_ENCODERS: dict[str, Counter | None] = {}


def _load(name: str) -> Counter | None:
    """Tiktoken's counter for the model ``name``, or ``None`` (no tiktoken, no encoding)."""
    found: list[Counter] = []

    def load() -> None:
        try:
            import tiktoken

            try:
                encoding = tiktoken.encoding_for_model(name)
            except KeyError:
                return  # not an OpenAI model tiktoken knows: the estimate is safer
            encoding.encode("warm up")
            found.append(lambda text: len(encoding.encode(text, disallowed_special=())))
        except Exception:  # no network, no cache, no package: the estimate serves
            return

    thread = threading.Thread(target=load, name="orchestra-tiktoken", daemon=True)
    thread.start()
    thread.join(LOAD_TIMEOUT_S)
    return found[0] if found else None


def counter_for(provider: str, model_name: str) -> Counter:
    """How ``model_name``'s text is counted: tiktoken for OpenAI's models, else the estimate.

    Each model's tokenizer is loaded (or found missing) once per process.

    Example:
        >>> counter_for("ollama", "llama3.1")("abcdef")
        2
    """
    if provider != "openai":
        return estimate_text
    with _LOCK:  # one load per model; calls wait for it rather than each trying
        if model_name not in _ENCODERS:
            _ENCODERS[model_name] = _load(model_name)
        found = _ENCODERS[model_name]
    return found or estimate_text


def _content_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        text = content
    else:
        text = "".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            text += call["name"] + json.dumps(call["args"], ensure_ascii=False)
    return text


def message_tokens(messages: Sequence[BaseMessage] | str, count: Counter = estimate_text) -> int:
    """The tokens of a prompt's messages, their framing included.

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> message_tokens([HumanMessage("abcdef")])
        9
    """
    if isinstance(messages, str):
        return count(messages) + PER_MESSAGE + PER_PROMPT
    body = sum(count(_content_text(m)) + PER_MESSAGE for m in messages)
    return body + PER_PROMPT


def _schemas(runnable: object) -> Iterable[object]:
    """What a bound runnable sends besides the messages: tools, response formats, schemas."""
    if isinstance(runnable, RunnableBinding):
        for key in ("tools", "functions", "response_format"):
            if key in runnable.kwargs:
                yield runnable.kwargs[key]
        yield from _schemas(runnable.bound)
    elif isinstance(runnable, RunnableSequence):
        for step in runnable.steps:
            yield from _schemas(step)
    elif isinstance(runnable, RunnableWithFallbacks):
        yield from _schemas(runnable.runnable)
    elif isinstance(schema := getattr(runnable, "schema", None), type) and issubclass(
        schema, BaseModel
    ):
        yield schema.model_json_schema()  # a wrapper that binds it per call (StructuredModel)
    else:
        # orchestra's wrappers: the tools bound for a step (``ToolSteps.auto``), the
        # structured model asked for an output (``OutputAsked.structured``).
        for name in ("auto", "structured"):
            if isinstance(inner := getattr(runnable, name, None), Runnable):
                yield from _schemas(inner)


def _as_json(value: object) -> object:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value.model_json_schema()
    return str(value)


def schema_tokens(bound: Runnable[Any, Any] | object, count: Counter = estimate_text) -> int:
    """The tokens of the tool and output schemas ``bound`` sends with every prompt.

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> schema_tokens(OfflineChatModel())
        0
    """
    texts = [json.dumps(s, default=_as_json, ensure_ascii=False) for s in _schemas(bound)]
    return sum(count(text) for text in texts)
