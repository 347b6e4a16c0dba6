"""Reading a model's structured reply ourselves: never raising, always saying why not.

A structured reply arrives as a tool call, as JSON in the text, as JSON in a fenced
block or amid prose, or not at all: cut off at the token limit, refused, or plain
prose. ``read_reply`` turns any of these into ``{"raw", "parsed", "parsing_error"}``,
the shape of LangChain's ``with_structured_output(include_raw=True)``: a JSON object
that validates against the schema is accepted wherever it stands in the reply; a
truncated or refused reply never is, whatever it contains.

Example:
    >>> from langchain_core.messages import AIMessage
    >>> from orchestra.state import Synthesis
    >>> text = 'Here it is: ```json {"answer": "42", "citations": ["s1"]} ```'
    >>> read_reply(AIMessage(text), Synthesis)["parsed"].answer
    '42'
    >>> read_reply(AIMessage("I think the answer is 42."), Synthesis)["parsing_error"]
    "the reply has no JSON object (it reads: 'I think the answer is 42.')"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

Problem = Literal["truncated", "refused", "no_json", "bad_json", "schema", "tool_args"]
"""Why a reply was not accepted (``no_json``: prose, the sign of an ignored method)."""

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_DECODER = json.JSONDecoder()


class StructuredReply(TypedDict):
    """A structured-output reply: the message, the object read from it, or why there is none."""

    raw: BaseMessage | None
    """The model's message (``None`` when the call ended in an error with no message)."""
    parsed: BaseModel | None
    parsing_error: str | None
    """Why ``parsed`` is ``None``, in words for the model's correction turn and the notes."""
    problem: Problem | None
    ask_again: bool
    """The model ignored the requested method; asking once more uses another one."""


def reply_of(
    raw: BaseMessage | None,
    parsed: BaseModel | None = None,
    error: str | None = None,
    problem: Problem | None = None,
) -> StructuredReply:
    """A ``StructuredReply`` (accepted when ``parsed`` is given)."""
    return StructuredReply(
        raw=raw, parsed=parsed, parsing_error=error, problem=problem, ask_again=False
    )


def _excerpt(text: str, size: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 3] + "..."


def _schema_errors(exc: ValidationError, name: str) -> str:
    listed = [
        f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']} "
        f"(got {_excerpt(repr(e['input']), 40)})"
        for e in exc.errors(include_url=False)[:5]
    ]
    more = exc.error_count() - len(listed)
    tail = f" (and {more} more)" if more > 0 else ""
    return f"the reply's JSON does not match the {name} schema: {'; '.join(listed)}{tail}"


def json_objects(text: str) -> Iterator[Any]:
    """Every JSON object in ``text``: the whole text, fenced blocks, then objects amid prose."""
    stripped = text.strip()
    try:
        yield json.loads(stripped)
    except ValueError:
        pass
    for block in _FENCE.findall(text):
        try:
            yield json.loads(block)
        except ValueError:
            pass
    for match in re.finditer(r"\{", text):
        try:
            found, _ = _DECODER.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(found, dict):
            yield found


def _candidates(found: Any, name: str) -> Iterator[Any]:
    """``found`` itself, and what it wraps when a model wrote its tool call as text."""
    yield found
    if isinstance(found, dict):
        if found.get("name") == name:  # {"name": "Plan", "arguments": {...}}
            for key in ("arguments", "parameters", "args"):
                inner = found.get(key)
                if isinstance(inner, str):
                    try:
                        inner = json.loads(inner)
                    except ValueError:
                        continue
                if inner is not None:
                    yield inner
        if len(found) == 1 and name in found:  # {"Plan": {...}}
            yield found[name]


def parse_text(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str, Problem]:
    """The first JSON object in ``text`` that validates, else why there is none."""
    name, first_error = schema.__name__, None
    seen = False
    for found in json_objects(text):
        seen = True
        for candidate in _candidates(found, name):
            try:
                return schema.model_validate(candidate), "", "schema"
            except (ValidationError, ValueError, TypeError) as exc:
                if first_error is None and isinstance(exc, ValidationError):
                    first_error = _schema_errors(exc, name)
    if first_error is not None:
        return None, first_error, "schema"
    if seen:
        return None, f"the reply's JSON is not a {name} object", "schema"
    if "{" in text:
        error = f"the reply's JSON could not be read (it reads: {_excerpt(text)!r})"
        return None, error, "bad_json"
    return None, f"the reply has no JSON object (it reads: {_excerpt(text)!r})", "no_json"


def finish_reason(message: BaseMessage) -> str | None:
    """Why the model stopped, under the names OpenAI, Anthropic and Ollama use."""
    meta = message.response_metadata
    for key in ("finish_reason", "stop_reason", "done_reason"):
        if isinstance(meta.get(key), str):
            return str(meta[key])
    return None


def refusal(message: BaseMessage) -> str | None:
    """The model's refusal, or the content filter that stopped it, if either did."""
    said = message.additional_kwargs.get("refusal")
    if isinstance(said, str) and said:
        return f"the model refused: {_excerpt(said, 200)}"
    for block in message.content if isinstance(message.content, list) else []:
        if isinstance(block, dict) and block.get("type") == "refusal":
            return f"the model refused: {_excerpt(str(block.get('refusal', '')), 200)}"
    if finish_reason(message) == "content_filter":
        return "the reply was stopped by the provider's content filter"
    return None


def read_reply(raw: BaseMessage, schema: type[BaseModel]) -> StructuredReply:
    """``raw`` read as a ``schema`` object: its tool call, or JSON in its text."""
    name = schema.__name__
    if (refused := refusal(raw)) is not None:
        return reply_of(raw, error=refused, problem="refused")
    if finish_reason(raw) in ("length", "max_tokens"):
        return reply_of(
            raw,
            error=(
                "the reply was cut off at the output-token limit (finish_reason "
                f"{finish_reason(raw)!r}) before the {name} was complete: answer more briefly"
            ),
            problem="truncated",
        )
    calls = raw.tool_calls if isinstance(raw, AIMessage) else []
    for call in calls:
        if call["name"] == name or len(calls) == 1:
            try:
                return reply_of(raw, schema.model_validate(call["args"]))
            except ValidationError as exc:
                return reply_of(raw, error=_schema_errors(exc, name), problem="schema")
    broken = raw.invalid_tool_calls if isinstance(raw, AIMessage) else []
    if broken:
        why = broken[0].get("error") or "not valid JSON"
        called = broken[0].get("name") or name
        error = f"the arguments of the {called} call could not be read: {why}"
        return reply_of(raw, error=error, problem="tool_args")
    parsed, error, problem = parse_text(str(raw.text), schema)
    return reply_of(raw, parsed) if parsed is not None else reply_of(raw, None, error, problem)
