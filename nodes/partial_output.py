"""The partial result of a specialist stopped by its budget, filled from its tool results.

When a specialist runs out of steps, tokens, cost or time before it reports, the
framework hands on what its work so far supports, marked ``exhausted``. That is not
the model's guess: it is built here, from the tool results of the attempt only.

- A tool result that already is a valid output (a deterministic analyser's JSON) is the
  partial output, the latest one winning.
- Otherwise the output's text fields are filled with the sentences the tools returned
  (a string gets the first few, a list of strings up to five), nested objects likewise;
  every other field keeps its default. A required field that text cannot fill — a
  number, an enum, a bool without a default — means there is no partial output: the
  result carries its reason and raw text instead of an invented value.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from pydantic import BaseModel, ValidationError


class _Unfillable(Exception):
    """A required field the tool results cannot fill honestly."""


def evidence(texts: list[str]) -> list[str]:
    """The distinct sentences of ``texts``, list markers and code fences left out."""
    seen: list[str] = []
    for text in texts:
        for line in text.splitlines():
            clean = re.sub(r"^\s*(?:[-*#]+|\d+[.)])\s*", "", line).strip()
            if not clean or clean.startswith("```"):
                continue
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", clean):
                if sentence not in seen:
                    seen.append(sentence)
    return seen


def sentences_text(facts: list[str]) -> str:
    """The first three facts as one text (at most 700 characters)."""
    return " ".join(f if f[-1] in ".!?" else f + ";" for f in facts[:3]).rstrip(";")[:700]


def concrete(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$ref`` followed and an optional (``anyOf`` null) unwrapped."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
    return schema


def _text_fill(schema: dict[str, Any], defs: dict[str, Any], facts: list[str]) -> Any:
    schema = concrete(schema, defs)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        filled = {}
        for key, sub in schema.get("properties", {}).items():
            try:
                filled[key] = _text_fill(sub, defs, facts)
            except _Unfillable:
                if key in required:
                    raise
        return filled
    if kind == "string" and "enum" not in schema:
        return sentences_text(facts)
    if kind == "array":
        item = schema.get("items", {"type": "string"})
        if item.get("type", "string") == "string" and "$ref" not in item and "enum" not in item:
            return facts[:5]
    raise _Unfillable


def _tool_results(messages: list[BaseMessage]) -> list[str]:
    return [m.text for m in messages if isinstance(m, ToolMessage) and m.status != "error"]


def partial_output(messages: list[BaseMessage], output: type[BaseModel]) -> BaseModel | None:
    """The output type filled from the attempt's tool results, if they can fill it."""
    results = _tool_results(messages)
    for text in reversed(results):
        try:
            return output.model_validate(json.loads(text))
        except (ValueError, ValidationError):
            continue
    facts = evidence(results)
    if not facts:
        return None
    schema = output.model_json_schema()
    try:
        return output.model_validate(_text_fill(schema, schema.get("$defs", {}), facts))
    except (_Unfillable, ValidationError):
        return None
