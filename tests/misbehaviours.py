"""What real models and servers do wrong, injected into the loopback server's answers.

A misbehaviour is chosen per request, either for the next N requests it fits
(``Injector.inject(kind, times)``: a pending kind waits for a reply it fits, such as one
with tool calls for ``invalid_tool_json``) or at a rate with a seeded random generator
(``Injector(rates={"invalid_tool_json": 0.1, "truncate": 0.15}, seed=7)``): the rates'
sum is the share of requests that misbehave, and each such request gets one of the kinds
that fit it, in proportion to their rates.

Kinds, each after a behaviour seen in the wild:
  ``invalid_tool_json``  tool-call arguments cut off (weak models; cut-off replies)
  ``truncate``           the reply cut at half, ``finish_reason: "length"``
  ``prose_json``         JSON content wrapped in sentences ("Here is the result: {...}")
  ``fenced_json``        JSON content in a Markdown code fence
  ``refusal``            a refusal: OpenAI's ``message.refusal`` on structured output,
                         plain refusal text elsewhere and on other servers
  ``content_filter``     no content, ``finish_reason: "content_filter"`` (OpenAI only: the
                         others have no content filter that answers this way)
  ``text_before_tools``  prose content alongside the tool calls
  ``parallel_tools``     the first tool call made twice in one reply (unless the request
                         sets ``parallel_tool_calls: false`` and the server obeys it)
  ``hang``               the answer held back ``hang_s`` seconds (cut short at shutdown)
  ``server_error``       500/502/503 (Anthropic: 500/529) with the server's error body
  ``rate_limit``         429 with ``Retry-After`` and ``retry-after-ms`` headers
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any, Literal, get_args

from provider_profiles import Profile, Refusal, error

Kind = Literal[
    "invalid_tool_json", "truncate", "prose_json", "fenced_json", "refusal", "content_filter",
    "text_before_tools", "parallel_tools", "hang", "server_error", "rate_limit",
]  # fmt: skip
KINDS: tuple[Kind, ...] = get_args(Kind)
BEFORE_ANSWER: tuple[Kind, ...] = ("hang", "server_error", "rate_limit")
"""Kinds decided before the reply exists: they fit every request."""

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


class Injector:
    """Decides which misbehaviour, if any, each request gets (thread-safe, seeded)."""

    def __init__(self, rates: dict[str, float] | None = None, seed: int = 0) -> None:
        unknown = set(rates or {}) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown misbehaviours: {sorted(unknown)} (known: {KINDS})")
        self.rates = dict(rates or {})
        self._seed = seed
        self._seen: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    def inject(self, kind: Kind, times: int = 1) -> None:
        """Misbehave this way on the next ``times`` requests it fits."""
        with self._lock:
            self._pending[kind] = self._pending.get(kind, 0) + times

    def pending(self, kind: Kind) -> int:
        """How many more times ``kind`` waits to be injected."""
        with self._lock:
            return self._pending.get(kind, 0)

    def set_pending(self, kind: Kind, times: int) -> None:
        """Set how many more times ``kind`` is injected."""
        with self._lock:
            self._pending[kind] = times

    def draw(self, fingerprint: str) -> tuple[float, float]:
        """One request's two random numbers: whether it misbehaves, and how.

        They follow from the seed, the request's ``fingerprint`` and how often that
        fingerprint was seen, not from the order requests arrive in: parallel branches
        misbehave the same way on every run, and a retried request draws anew.
        """
        with self._lock:
            seen = self._seen[fingerprint] = self._seen.get(fingerprint, 0) + 1
        drawn = random.Random(f"{self._seed}/{fingerprint}/{seen}")
        return drawn.random(), drawn.random()

    def take(self, drawn: tuple[float, float], fits: set[str]) -> str | None:
        """The kind this request gets: a pending one it fits first, else a drawn one."""
        with self._lock:
            for kind in KINDS:
                if kind in fits and self._pending.get(kind, 0) > 0:
                    self._pending[kind] -= 1
                    return kind
        roll, pick = drawn
        if roll >= sum(self.rates.values()):
            return None
        fitting = [(k, self.rates[k]) for k in KINDS if k in fits and self.rates.get(k, 0) > 0]
        weight = sum(rate for _, rate in fitting)
        edge = 0.0
        for kind, rate in fitting:
            edge += rate / weight
            if pick < edge:
                return kind
        return fitting[-1][0] if fitting else None


def failure(profile: Profile, kind: str, index: int, retry_after_s: float) -> Refusal:
    """The error answer of an injected ``server_error`` or ``rate_limit``."""
    if kind == "rate_limit":
        text = (
            "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. "
            f"Please try again in {retry_after_s:g}s."
        )
        refused = error(profile, 429, text, kind="rate_limit_error" if profile.name == "anthropic"
                        else "requests", code="rate_limit_exceeded")  # fmt: skip
        headers = {
            "Retry-After": str(max(1, round(retry_after_s))),
            "retry-after-ms": str(int(retry_after_s * 1000)),
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
        }
        return Refusal(429, refused.body, headers)
    status = profile.server_errors[index % len(profile.server_errors)]
    if status == 502:  # a gateway answers, not the API: HTML, as Cloudflare sends it
        return Refusal(502, "<html><head><title>502 Bad Gateway</title></head></html>")
    if status == 529:
        return error(profile, 529, "Overloaded", kind="overloaded_error")
    if status == 503:
        return error(profile, 503, "The engine is currently overloaded, please try again later.")
    text = "The server had an error while processing your request. Sorry about that!"
    return error(profile, status, text)


def fits(message: dict[str, Any], request: dict[str, Any], profile: Profile) -> set[str]:
    """The kinds that can change this reply (the before-answer kinds fit everything)."""
    kinds = set(BEFORE_ANSWER) | {"truncate", "refusal"}
    if profile.name == "openai":
        kinds.add("content_filter")
    if message.get("tool_calls"):
        kinds |= {"invalid_tool_json", "text_before_tools"}
        if (
            request.get("parallel_tool_calls") is not False
            or not profile.honours_parallel_tool_calls
        ):
            kinds.add("parallel_tools")
    if _structured(request) and message.get("content"):
        kinds |= {"prose_json", "fenced_json"}
    return kinds


def _structured(request: dict[str, Any]) -> bool:
    return (request.get("response_format") or {}).get("type", "text") != "text"


def misbehave(
    kind: str, answer: dict[str, Any], profile: Profile, request: dict[str, Any]
) -> list[str]:
    """Change ``answer`` in place as ``kind`` says; the ids of tool calls garbled."""
    choice = answer["choices"][0]
    message = choice["message"]
    calls = message.get("tool_calls") or []
    if kind in ("invalid_tool_json", "truncate"):
        for call in calls:
            arguments = call["function"]["arguments"]
            keep = len(arguments) - 2 if kind == "invalid_tool_json" else len(arguments) // 2
            call["function"]["arguments"] = arguments[: max(1, keep)]
        if kind == "truncate":
            if message.get("content"):
                message["content"] = message["content"][: max(1, len(message["content"]) // 2)]
            choice["finish_reason"] = "length"
        return [c["id"] for c in calls]
    if kind in ("refusal", "content_filter"):
        message.pop("tool_calls", None)
        choice["finish_reason"] = "stop" if kind == "refusal" else "content_filter"
        message["content"] = REFUSAL_TEXT if kind == "refusal" else None
        if kind == "refusal" and _structured(request) and profile.name == "openai":
            message["content"], message["refusal"] = None, REFUSAL_TEXT
        return []
    if kind == "prose_json":
        message["content"] = f"Here is the result:\n{message['content']}\nI hope this helps!"
    elif kind == "fenced_json":
        message["content"] = f"```json\n{message['content']}\n```"
    elif kind == "text_before_tools":
        message["content"] = "Let me look that up before I answer."
    elif kind == "parallel_tools":
        twin = json.loads(json.dumps(calls[0]))
        twin["id"] = f"{twin['id']}_twin"
        calls.append(twin)
    return []
