"""The offline model as specialist: tool arguments from the instruction, output from results.

It calls each of its tools once with arguments drawn from the instruction (paths,
numbers, expressions, or the instruction itself), then fills its output type's JSON
schema from the tool results and the summaries of its inputs. Reading the instruction's
words to pick arguments is the policy; the instruction itself comes from the call's
``CallInfo``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

from orchestra.nodes.function_model import BoundTool
from orchestra.nodes.partial_output import concrete, evidence, sentences_text

PATH = re.compile(
    r"(?:\.{1,2}/|/)[\w.-]+(?:/[\w.-]+)*/?|\b[\w.-]+(?:/[\w.-]+)+/?"
    r"|\b[\w-]+\.(?:py|md|txt|json|ya?ml|toml|csv|js|ts)\b"
)
_PATHLIKE = ("path", "file", "dir", "folder", "repo", "root")
_EXPR = re.compile(r"\(?\d[\d.]*\)?(?:\s*[-+*/%^]\s*\(?\d[\d.]*\)?)+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _value(name: str, schema: dict[str, Any], source: str) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        lowered = name.lower()
        if any(k in lowered for k in _PATHLIKE):
            match = PATH.search(source)
            return match.group(0).rstrip(".,;:") or "." if match else "."
        if any(k in lowered for k in ("expression", "expr", "formula")):
            return arithmetic(source)
        quoted = re.search(r"[\"'`]([^\"'`]+)[\"'`]", source)
        if any(k in lowered for k in ("pattern", "regex", "term", "keyword")):
            marker = re.search(r"\b[A-Z]{3,}\b", source)
            return quoted.group(1) if quoted else (marker.group(0) if marker else source)
        return quoted.group(1) if quoted else focus(source)
    if kind in ("integer", "number"):
        match = _NUMBER.search(source)
        if match:
            number = float(match.group(0))
            return int(number) if kind == "integer" else number
        return schema.get("default", 1)
    if kind == "boolean":
        return bool(schema.get("default", False))
    if kind == "array":
        return [_value(name, schema.get("items", {"type": "string"}), source)]
    return source


_WORD_OPS = {
    "times": "*",
    "multiplied by": "*",
    "plus": "+",
    "minus": "-",
    "divided by": "/",
    "per": "*",
    "each": "*",
    "x": "*",
}


def arithmetic(text: str) -> str:
    """An arithmetic expression from ``text``.

    A written expression is taken as it is; otherwise its numbers and worded operators in
    order (numbers with no operator between them are multiplied).
    """
    match = _EXPR.search(text)
    if match:
        return match.group(0).strip()
    words = "|".join(sorted((re.escape(w) for w in _WORD_OPS), key=len, reverse=True))
    tokens = re.findall(rf"\d+(?:\.\d+)?|[-+*/]|\b(?:{words})\b", text.lower())
    expr: list[str] = []
    for token in tokens:
        op = _WORD_OPS.get(token, token if token in "+-*/" else None)
        if op is None:
            if expr and expr[-1] not in "+-*/":
                expr.append("*")
            expr.append(token)
        elif expr and expr[-1] not in "+-*/":
            expr.append(op)
    while expr and expr[-1] in "+-*/":
        expr.pop()
    return " ".join(expr) or text


def focus(instruction: str) -> str:
    """The instruction's first sentence: what to look for, without the context after it."""
    return re.split(r"(?<=[.!?])\s+", instruction.strip(), maxsplit=1)[0].rstrip(".")


def tool_arguments(tool: BoundTool, instruction: str) -> dict[str, Any]:
    """Arguments for ``tool`` drawn from the instruction (defaults kept where they exist)."""
    params = tool.parameters
    required = set(params.get("required", []))
    args = {}
    for name, schema in params.get("properties", {}).items():
        pathlike = any(k in name.lower() for k in _PATHLIKE)
        if name in required or "default" not in schema or (pathlike and PATH.search(instruction)):
            args[name] = _value(name, schema, instruction)
    return args


def _fill(
    schema: dict[str, Any], defs: dict[str, Any], name: str, facts: list[str], lead: str
) -> Any:
    schema = concrete(schema, defs)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _fill(v, defs, k, facts, lead) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        item = schema.get("items", {"type": "string"})
        if item.get("type", "string") == "string" and "$ref" not in item and "enum" not in item:
            values = facts[:5] or [lead]
        else:
            values = [
                _fill(item, defs, name, facts[i:], lead) for i in range(min(len(facts), 3) or 1)
            ]
        while len(values) < int(schema.get("minItems", 0)):
            values.append(values[-1])
        return values
    if kind == "string" and "enum" not in schema:
        if not facts:
            return f"Nothing was found for: {lead}."
        return sentences_text(facts)
    numbers = [n for f in facts for n in _NUMBER.findall(f)]
    return _value(name, schema, numbers[0] if numbers else lead)


def _as_output(text: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """A tool result that already is the output's JSON (a deterministic analyser's)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    required = set(params.get("required", []))
    if isinstance(data, dict) and required and required <= set(data):
        return data
    return None


def offline_output(
    messages: list[BaseMessage],
    output: BoundTool,
    instruction: str = "the subtask",
    inputs: Sequence[str] = (),
) -> dict[str, Any]:
    """Fill the output tool's schema from the instruction, inputs and tool results.

    ``inputs`` are the summaries of the results the subtask depends on. A tool result that
    is already a JSON object with the output's required fields is taken as the output
    itself: the tool did the work, the model only hands it on.
    """
    lead = instruction.strip().rstrip(".")
    results = [m.text for m in messages if isinstance(m, ToolMessage) and m.status != "error"]
    for text in reversed(results):
        if (ready := _as_output(text, output.parameters)) is not None:
            return ready
    facts = evidence(results + [line for text in inputs for line in text.splitlines()])
    params = output.parameters
    return dict(_fill(params, params.get("$defs", {}), output.name, facts, lead))
