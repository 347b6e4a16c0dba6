"""A role's ``CallInfo`` read back from its prompt, for a local model behind a wire.

In process, every role passes its ``CallInfo`` with the call (``orchestra.nodes.call_info``)
and the local models read that. A local model served over HTTP (an OpenAI-compatible
stand-in on loopback) receives only the messages; this module reads them back from the
layout ``orchestra.nodes.prompts`` writes. It is the one place that knows that layout
from the reading side: reword a prompt and only this reader (and the wire tests) notice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from orchestra.nodes.call_info import CallInfo, InputInfo, PartialInfo, ResultInfo
from orchestra.nodes.function_model import BoundTool
from orchestra.nodes.prompts import REJECTED_PREFIX
from orchestra.state import Plan, Synthesis


def sections(text: str) -> dict[str, str]:
    """The ``## Title`` blocks of a message, by title."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S):
        found[match.group(1).strip()] = match.group(2).strip()
    return found


def output_tool_name(system_text: str) -> str | None:
    """The output tool a specialist's system prompt tells it to finish with."""
    match = re.search(r"call `(\w+)` with it\. That ends your turn\.", system_text)
    return match.group(1) if match else None


def _roster(text: str) -> tuple[tuple[str, str], ...]:
    found = []
    for line in text.splitlines():
        name, sep, description = line.removeprefix("- ").partition(":")
        if sep:
            found.append((name.strip(), description.strip()))
    return tuple(found)


def _results(text: str) -> tuple[ResultInfo, ...]:
    """Each ``### id (specialist): status`` block with its summary, output and reason."""
    found = []
    for block in re.split(r"^(?=### )", text, flags=re.M):
        head = re.match(r"### (\S+) \((\w+)\): (\w+)", block)
        if not head:
            continue
        sid, name, status = head.groups()
        summary = re.search(r"^summary: (.*)$", block, re.M)
        output = re.search(r"^output: (.*)$", block, re.M)
        reason = re.search(r"^reason: (.*)$", block, re.M)
        found.append(
            ResultInfo(
                subtask_id=sid,
                specialist=name,
                status=status,
                instruction="",
                summary=summary.group(1) if summary else "",
                output=_output(output.group(1)) if output else None,
                reason=reason.group(1) if reason else "",
            )
        )
    return tuple(found)


def _output(text: str) -> dict[str, object] | None:
    """A block's ``output:`` JSON; ``None`` when it was shortened (cut mid-JSON) to fit."""
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None


def _partials(text: str) -> tuple[PartialInfo, ...]:
    """Each ``### part-k (k of n; cites: s1, s2)`` block of a map-reduce's final prompt."""
    found = []
    for block in re.split(r"^(?=### )", text, flags=re.M):
        head = re.match(r"### (\S+) \(\d+ of \d+; cites: (.*)\)\n?", block)
        if head:
            cites = tuple(c.strip() for c in head.group(2).split(",") if c.strip() != "none")
            found.append(PartialInfo(head.group(1), cites, block[head.end() :].strip()))
    return tuple(found)


def part_of(text: str) -> str:
    """``2 of 5`` from a batch's ``## Part`` block."""
    return text.splitlines()[0].strip() if text else ""


def words_of(text: str) -> int | None:
    """The length a batch's ``## Part`` block asks for, in words."""
    found = re.search(r"length: at most about (\d+) words", text)
    return int(found.group(1)) if found else None


def _inputs(text: str) -> tuple[InputInfo, ...]:
    found = []
    for block in re.split(r"^(?=### )", text, flags=re.M):
        head = re.match(r"### (\S+) \((\w+)\)\n?", block)
        if head:
            body = [ln for ln in block[head.end() :].splitlines() if not ln.startswith("output:")]
            found.append(InputInfo(head.group(1), head.group(2), "\n".join(body).strip(), {}))
    return tuple(found)


def call_from_prompt(messages: list[BaseMessage], tools: Sequence[BoundTool]) -> CallInfo | None:
    """The call a role's messages describe, or ``None`` when they are not a role's."""
    names = {t.name for t in tools}
    humans = [m for m in reversed(messages) if isinstance(m, HumanMessage)]
    # A correction turn ends with its request; the role's data is in the message before.
    human = next((m for m in humans if "Task" in sections(m.text)), humans[0] if humans else None)
    blocks = sections(human.text if human else "")
    if Plan.__name__ in names:
        limit = re.search(r"max_subtasks:\s*(\d+)", blocks.get("Limits", ""))
        return CallInfo(
            role="orchestrator",
            team="",
            task=blocks.get("Task", ""),
            output_tool=Plan.__name__,
            max_subtasks=int(limit.group(1)) if limit else 0,
            roster=_roster(blocks.get("Specialists", "")),
            results=_results(blocks.get("Results", "")),
        )
    if Synthesis.__name__ in names:
        digest = json.loads(blocks["Digest"]) if "Digest" in blocks else None
        results = _results(blocks.get("Results", ""))
        return CallInfo(
            role="synthesizer",
            team="",
            task=blocks.get("Task", ""),
            output_tool=Synthesis.__name__,
            results=tuple(r for r in results if r.status == "accepted"),
            missing=_results(blocks.get("Not completed", "")),
            digest=digest,
            part=part_of(blocks.get("Part", "")),
            words=words_of(blocks.get("Part", "")),
            partials=_partials(blocks.get("Partial syntheses", "")),
        )
    system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
    first = next((m for m in messages if isinstance(m, HumanMessage)), None)
    blocks = sections(first.text if first else "")
    if "Instruction" not in blocks:
        return None
    name = re.search(r"You are the `(\w+)` specialist", system)
    sid = re.search(r"id: (\S+)", blocks.get("Subtask", ""))
    feedback = blocks.get("Feedback")
    return CallInfo(
        role="specialist",
        team="",
        specialist=name.group(1) if name else "",
        subtask_id=sid.group(1) if sid else "",
        instruction=blocks["Instruction"],
        inputs=_inputs(blocks.get("Inputs", "")),
        feedback=feedback.removeprefix(REJECTED_PREFIX).strip() if feedback else None,
        output_tool=output_tool_name(system) or "",
    )
