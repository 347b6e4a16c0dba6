"""The offline model as orchestrator: a plan from the task's parts and the roster.

It splits the task into parts (lines, sentences, ``then`` steps, ``compare A, B and C``),
gives each part to the specialist whose name and description share the most words with
it, makes ``then`` steps depend on what came before, plans at most ``max_subtasks`` parts
a round (the rest in later rounds, when it is shown results) and stops (empty plan) once
every part has been planned. What it reads — task, roster, limits, results — comes from the call's
``CallInfo``, never from the prompt's layout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage

from orchestra.nodes.call_info import CallInfo
from orchestra.nodes.function_model import tool_call
from orchestra.nodes.offline_specialist import PATH

_STOP = frozenset(
    "a an the and or of for to in on at by with from into about is are be this that these "
    "those it its as than then also each all any me my our your their please need needs "
    "should would could can will make give get do does using use which what who how".split()
)
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


def _best(part: str, roster: Sequence[tuple[str, str]]) -> tuple[str, int]:
    target = words(part)
    scored = [
        (len(target & words(f"{n.replace('_', ' ')} {d}")), -i, n)
        for i, (n, d) in enumerate(roster)
    ]
    score, _, name = max(scored)
    return name, score


def offline_plan(call: CallInfo, plan_tool: str) -> AIMessage:
    """The orchestrator's move: the task's parts not planned yet, at most a page of them.

    The parts are numbered alike every round, so a part planned before keeps its id; once
    every part has been planned (or the earlier plans were not its own) the plan is empty.
    """
    roster = call.roster
    planned = {r.subtask_id for r in call.results}
    if not roster:
        rationale = "The results cover the task." if roster else "No specialists to plan for."
        return AIMessage(
            content="", tool_calls=[tool_call(plan_tool, {"rationale": rationale, "subtasks": []})]
        )
    task = call.task
    limit = call.max_subtasks or 8
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
            where = PATH.search(task)
            if where and not PATH.search(instruction):
                instruction += f" (in {where.group(0)})"
            subtasks.append(
                {
                    "id": f"s{len(subtasks) + 1}",
                    "specialist": owner,
                    "instruction": instruction,
                    "depends_on": earlier,
                }
            )
    # Continue only a plan of its own making: an edited or scripted earlier plan is answered.
    ours = planned <= {s["id"] for s in subtasks}
    subtasks = [s for s in subtasks if s["id"] not in planned][:limit] if ours else []
    if call.results and not subtasks:
        return AIMessage(
            content="",
            tool_calls=[
                tool_call(plan_tool, {"rationale": "The results cover the task.", "subtasks": []})
            ],
        )
    kind = "one step" if len(subtasks) == 1 else f"{len(subtasks)} subtasks"
    rationale = f"Matched the task's parts to the specialists' descriptions: {kind}."
    return AIMessage(
        content="",
        tool_calls=[tool_call(plan_tool, {"rationale": rationale, "subtasks": subtasks})],
    )
