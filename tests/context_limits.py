"""A model's token limits as OpenAI enforces them, for the loopback server (``openai_server``).

``openai_server(limits=PUBLISHED)`` serves each model named here with its published
window and output limit (platform.openai.com/docs/models): a request whose prompt (plus
its ``max_tokens``, when given) exceeds the window is refused with HTTP 400 and OpenAI's
body, ``code: "context_length_exceeded"``, ``type: "invalid_request_error"``,
``param: "messages"``, in OpenAI's wording:

- without ``max_tokens``: "This model's maximum context length is 128000 tokens. However,
  your messages resulted in 204308 tokens. Please reduce the length of the messages."
- with it: "This model's maximum context length is 4097 tokens. However, you requested
  4268 tokens (4012 in the messages, 256 in the completion). Please reduce the length of
  the messages or completion."

(both quoted from replies users posted: webtimemachine/wtm2#579, conghaonet/hao_chatgpt#4,
chathub-dev/chathub#126 for the body's fields). A ``max_tokens`` above the output limit is
refused ("max_tokens is too large"), and a reply is cut at the output limit with
``finish_reason: "length"``, as at ``max_tokens``.

The server counts a prompt more simply than a tokenizer: a quarter of the characters of
the messages' text (contents, tool calls' names and arguments) and of the tools' JSON,
plus 3 tokens per message and 3 per prompt (OpenAI's framing). That is about what
OpenAI's tokenizers give English and code, and never more than orchestra's conservative
estimate (a third of the bytes, 4 per message), so a prompt orchestra lets through is
never refused here for length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provider_profiles import Profile, Refusal, error


@dataclass(frozen=True)
class Limits:
    """One model's limits as its server enforces them."""

    context_window: int
    max_output_tokens: int


PUBLISHED: dict[str, Limits] = {
    "gpt-4o-mini": Limits(128_000, 16_384),
    "gpt-4o": Limits(128_000, 16_384),
    "gpt-4.1": Limits(1_047_576, 32_768),
}
"""OpenAI's published limits of the models tests name (their model pages)."""


def limits_for(model: str, table: dict[str, Limits]) -> Limits | None:
    """The limits of ``model``: its entry, else the longest entry it starts with."""
    if model in table:
        return table[model]
    matches = [key for key in table if model.startswith(key)]
    return table[max(matches, key=len)] if matches else None


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    text = content if isinstance(content, str) else ""
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        text += str(function.get("name", "")) + str(function.get("arguments", ""))
    return text


def prompt_tokens(request: dict[str, Any]) -> int:
    """The server's count of a request's prompt (see the module docstring)."""
    messages = request.get("messages") or []
    chars = sum(len(_text(m)) for m in messages)
    for key in ("tools", "response_format"):
        if request.get(key):
            chars += len(json.dumps(request[key]))
    return chars // 4 + 3 * len(messages) + 3


def requested_output(request: dict[str, Any]) -> int | None:
    """The request's ``max_completion_tokens`` or ``max_tokens``, if it sets one."""
    for key in ("max_completion_tokens", "max_tokens"):
        if request.get(key) is not None:
            return int(request[key])
    return None


def length_refusal(profile: Profile, request: dict[str, Any], limits: Limits) -> Refusal | None:
    """OpenAI's 400 for a request beyond ``limits``, or ``None``."""
    window, asked = limits.context_window, requested_output(request)
    if asked is not None and asked > limits.max_output_tokens:
        text = (
            f"max_tokens is too large: {asked}. This model supports at most "
            f"{limits.max_output_tokens} completion tokens, whereas you provided {asked}."
        )
        return error(profile, 400, text, param="max_tokens")
    prompt = prompt_tokens(request)
    head = f"This model's maximum context length is {window} tokens. However, "
    if asked is not None and prompt + asked > window:
        text = (
            f"{head}you requested {prompt + asked} tokens ({prompt} in the messages, {asked} "
            "in the completion). Please reduce the length of the messages or completion."
        )
    elif prompt > window:
        text = (
            f"{head}your messages resulted in {prompt} tokens. Please reduce the length of "
            "the messages."
        )
    else:
        return None
    return error(profile, 400, text, param="messages", code="context_length_exceeded")
