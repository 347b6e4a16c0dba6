"""The offline model: a deterministic local policy, orchestra's default when no key is set.

It reads the ``## Section`` messages orchestra's roles send and answers like a careful,
literal model would:

- **orchestrator** (``Plan`` bound): splits the task into parts (lines, sentences,
  ``then`` steps, ``compare A, B and C``), gives each part to the specialist whose name and
  description share the most words with it, makes ``then`` steps depend on what came
  before, and stops (empty plan) once it is shown results;
- **specialist**: calls each of its tools once with arguments drawn from the instruction
  (paths, numbers, expressions, or the instruction itself), then fills its output type's
  JSON schema from the tool results and inputs;
- **synthesizer** (``Synthesis`` bound): states the answer from the accepted results with
  their ids, collects their key points, and names what did not complete.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from orchestra.nodes.function_model import BoundTool, LocalChatModel, tool_call
from orchestra.nodes.prompts import output_tool_name, sections
from orchestra.state import Plan, Synthesis

_STOP = frozenset(
    "a an the and or of for to in on at by with from into about is are be this that these "
    "those it its as than then also each all any me my our your their please need needs "
    "should would could can will make give get do does using use which what who how".split()
)
_PATH = re.compile(
    r"(?:\.{1,2}/|/)[\w.-]+(?:/[\w.-]+)*/?|\b[\w.-]+(?:/[\w.-]+)+/?"
    r"|\b[\w-]+\.(?:py|md|txt|json|ya?ml|toml|csv|js|ts)\b"
)
_PATHLIKE = ("path", "file", "dir", "folder", "repo", "root")
_EXPR = re.compile(r"\(?\d[\d.]*\)?(?:\s*[-+*/%^]\s*\(?\d[\d.]*\)?)+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_THEN = re.compile(
    r"^(?:and\s+)?(?:then|finally|afterwards|next|based on|using (?:the|these|those))\b", re.I
)
_COMPARE = re.compile(
    r"\b(?:compare|comparison of|contrast)\s+(.+?)(?:[.?!]\s|[.?!]?$)", re.I | re.S
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "er", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    # "compute", "computes" and "computed" all become "comput"
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def words(text: str) -> set[str]:
    """Content words of ``text``, lower-cased and roughly stemmed."""
    return {_stem(w) for w in re.findall(r"[a-z][a-z0-9+#-]*", text.lower()) if w not in _STOP}


def _parts(task: str) -> list[str]:
    lines = [re.sub(r"^\s*(?:[-*]|\d+[.)])\s*", "", ln).strip() for ln in task.splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) > 1:
        return lines
    pieces = re.split(r"(?<=[.!?])\s+|;\s*|,?\s+(?=(?:and\s+)?then\b)", task.strip())
    return [p.strip(" ,") for p in pieces if p and p.strip(" ,")]


def _compared_items(part: str) -> list[str]:
    match = _COMPARE.search(part)
    if not match:
        return []
    body = re.split(r"\s+(?:for|on|in terms of|regarding|by)\s+", match.group(1), maxsplit=1)[0]
    items = re.split(r",\s*(?:and\s+)?|\s+(?:and|vs\.?|versus|with|to)\s+", body)
    return [i.strip(" .") for i in items if i.strip(" .")]


def _roster(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        name, sep, description = line.removeprefix("- ").partition(":")
        if sep:
            found.append((name.strip(), description.strip()))
    return found


def _best(part: str, roster: list[tuple[str, str]]) -> tuple[str, int]:
    target = words(part)
    scored = [
        (len(target & words(f"{n.replace('_', ' ')} {d}")), -i, n)
        for i, (n, d) in enumerate(roster)
    ]
    score, _, name = max(scored)
    return name, score


def offline_plan(text: str, plan_tool: str) -> AIMessage:
    """The orchestrator's move: a plan for a fresh task, an empty plan once results exist."""
    blocks = sections(text)
    roster = _roster(blocks.get("Specialists", ""))
    if "Results" in blocks or not roster:
        rationale = "The results cover the task." if roster else "No specialists to plan for."
        return AIMessage(
            content="", tool_calls=[tool_call(plan_tool, {"rationale": rationale, "subtasks": []})]
        )
    task = blocks.get("Task", "")
    limit = (
        int(m.group(1))
        if (m := re.search(r"max_subtasks:\s*(\d+)", blocks.get("Limits", "")))
        else 8
    )
    default_name, _ = _best(task, roster)
    subtasks: list[dict[str, Any]] = []
    for part in _parts(task):
        earlier = [s["id"] for s in subtasks] if _THEN.match(part) else []
        items = _compared_items(part)
        name, score = _best(part, roster)
        owner = name if score else default_name
        if len(items) > 1:
            for item in items:
                instruction = f"Find the facts about {item}. Context: {part}"
                subtasks.append(
                    {
                        "id": f"s{len(subtasks) + 1}",
                        "specialist": owner,
                        "instruction": instruction,
                        "depends_on": earlier,
                    }
                )
        else:
            instruction = _THEN.sub("", part).strip(" ,") or part
            where = _PATH.search(task)
            if where and not _PATH.search(instruction):
                instruction += f" (in {where.group(0)})"
            subtasks.append(
                {
                    "id": f"s{len(subtasks) + 1}",
                    "specialist": owner,
                    "instruction": instruction,
                    "depends_on": earlier,
                }
            )
    subtasks = subtasks[:limit]
    kind = "one step" if len(subtasks) == 1 else f"{len(subtasks)} subtasks"
    rationale = f"Matched the task's parts to the specialists' descriptions: {kind}."
    return AIMessage(
        content="",
        tool_calls=[tool_call(plan_tool, {"rationale": rationale, "subtasks": subtasks})],
    )


def _value(name: str, schema: dict[str, Any], source: str) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        lowered = name.lower()
        if any(k in lowered for k in _PATHLIKE):
            match = _PATH.search(source)
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
        if name in required or "default" not in schema or (pathlike and _PATH.search(instruction)):
            args[name] = _value(name, schema, instruction)
    return args


def _evidence(texts: list[str]) -> list[str]:
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


def _fill(
    schema: dict[str, Any], defs: dict[str, Any], name: str, facts: list[str], lead: str
) -> Any:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
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
        return " ".join(f if f[-1] in ".!?" else f + ";" for f in facts[:3]).rstrip(";")[:700]
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


def offline_output(messages: list[BaseMessage], output: BoundTool) -> dict[str, Any]:
    """Fill the output tool's schema from the instruction, inputs and tool results.

    A tool result that is already a JSON object with the output's required fields is taken
    as the output itself: the tool did the work, the model only hands it on.
    """
    human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    blocks = sections(human.text if human else "")
    instruction = blocks.get("Instruction", "the subtask").strip().rstrip(".")
    results = [m.text for m in messages if isinstance(m, ToolMessage) and m.status != "error"]
    for text in reversed(results):
        if (ready := _as_output(text, output.parameters)) is not None:
            return ready
    inputs = [
        ln for ln in blocks.get("Inputs", "").splitlines() if not ln.startswith(("###", "output:"))
    ]
    facts = _evidence(results + inputs)
    params = output.parameters
    return dict(_fill(params, params.get("$defs", {}), output.name, facts, instruction))


def _missing_blocks(text: str) -> list[tuple[str, str, str, str]]:
    """``(id, specialist, status, reason)`` of each ``### id (specialist): status`` block."""
    found = []
    for block in re.split(r"^(?=### )", text, flags=re.M):
        head = re.match(r"### (\S+) \((\w+)\): (\w+)", block)
        if head:
            reason = re.search(r"^reason: (.*)$", block, re.M)
            sid, name, status = head.groups()
            found.append((sid, name, status, reason.group(1) if reason else ""))
    return found


def offline_synthesis(text: str, tool: str) -> AIMessage:
    """Answer from the accepted results, citing them, and name what did not complete."""
    blocks = sections(text)
    accepted = re.findall(
        r"^### (\S+) \((\w+)\): accepted\n(.*?)(?=^### |\Z)", blocks.get("Results", ""), re.M | re.S
    )
    lines: list[str] = []
    said: dict[str, str] = {}
    for sid, name, body in accepted:
        summary = re.search(r"^summary: (.*)$", body, re.M)
        out = re.search(r"^output: (.*)$", body, re.M)
        data = json.loads(out.group(1)) if out else {}
        points = [p for p in data.get("key_points", []) if isinstance(p, str)]
        sentences = _evidence([summary.group(1) if summary else "", *points])
        new = [x.rstrip(";") for x in sentences if x.rstrip(";") not in said][:2]
        if new:
            lines.append(f"- {' '.join(new)} [{sid}]")
            said |= dict.fromkeys((x.rstrip(";") for x in sentences), sid)
        else:
            earlier = sorted({said[x.rstrip(";")] for x in sentences if x.rstrip(";") in said})
            lines.append(
                f"- {sid} ({name}) agrees with {', '.join(earlier) or 'the above'} [{sid}]"
            )
    missing = _missing_blocks(blocks.get("Not completed", ""))
    task = " ".join(blocks.get("Task", "the task").split())
    parts = [
        f'For the task "{task}", the team found:' if lines else f'No subtask of "{task}" succeeded.'
    ]
    parts += lines
    if missing:
        gaps = ", ".join(
            f"{sid} ({name}) {status}" + (f": {why}" if why else "")
            for sid, name, status, why in missing
        )
        parts.append(f"Not completed, so the answer lacks their part: {gaps}.")
    digest = json.loads(blocks["Digest"]) if "Digest" in blocks else {}
    if isinstance(digest.get("summary"), str):
        parts.append(digest["summary"])
    if accepted:
        verdict = "complete" if not missing else "partial"
        parts.append(f"This answer is {verdict}, based on {len(accepted)} accepted result(s).")
    args = {"answer": "\n".join(parts), "citations": [sid for sid, _, _ in accepted]}
    return AIMessage(content="", tool_calls=[tool_call(tool, args)])


class OfflineChatModel(LocalChatModel):
    """orchestra's deterministic offline model (see the module docstring for its policy).

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> OfflineChatModel().invoke([HumanMessage("hello")]).content
        'offline model: no tools were bound, so there is nothing to do for: hello'
    """

    @property
    def _llm_type(self) -> str:
        return "orchestra-offline"

    @classmethod
    def from_env(cls) -> OfflineChatModel:
        """The offline model with ``ORCHESTRA_OFFLINE_LATENCY_MS`` applied."""
        return cls(latency_ms=float(os.environ.get("ORCHESTRA_OFFLINE_LATENCY_MS", "0") or 0))

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        """Plan, call tools, fill an output or synthesize, depending on what is bound."""
        names = {t.name: t for t in tools}
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        text = human.text if human else ""
        if Plan.__name__ in names:
            return offline_plan(text, Plan.__name__)
        if Synthesis.__name__ in names:
            return offline_synthesis(text, Synthesis.__name__)
        system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
        finish = output_tool_name(system)
        if tool_choice in names:
            finish = tool_choice
        if finish is None and len(tools) == 1:
            finish = tools[0].name
        if finish is None or finish not in names:
            return AIMessage(
                content=f"offline model: no tools were bound, so there is nothing to do for: {text}"
            )
        own = [t for t in tools if t.name != finish]
        since_human = messages[messages.index(human) + 1 :] if human else messages
        used = any(isinstance(m, ToolMessage) for m in since_human)
        if own and not used and tool_choice not in names:
            instruction = sections(text).get("Instruction", text)
            calls = [tool_call(t.name, tool_arguments(t, instruction)) for t in own]
            return AIMessage(content="", tool_calls=calls)
        return AIMessage(
            content="", tool_calls=[tool_call(finish, offline_output(messages, names[finish]))]
        )
