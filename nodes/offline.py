"""The offline model: a deterministic local policy, orchestra's default when no key is set.

It answers each role like a careful, literal model would, reading what it is asked from
the call's ``CallInfo`` (``orchestra.nodes.call_info``), not from the prompt's wording:

- **orchestrator**: a plan from the task's parts and the roster
  (``orchestra.nodes.offline_plan``), an empty plan once it is shown results;
- **specialist**: each of its tools once with arguments drawn from the instruction, then
  its output type filled from the tool results and inputs
  (``orchestra.nodes.offline_specialist``);
- **synthesizer**: the answer from the accepted results with their ids, their key
  points, and what did not complete.

Behind a wire (an OpenAI-compatible server on loopback) only the prompt arrives; then,
and only then, the call is read back from the prompt (``orchestra.nodes.prompt_reading``).
"""

from __future__ import annotations

import os

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from orchestra.nodes.call_info import CallInfo
from orchestra.nodes.function_model import BoundTool, LocalChatModel, current_call, tool_call
from orchestra.nodes.offline_plan import offline_plan, words
from orchestra.nodes.offline_specialist import (
    _fill,
    arithmetic,
    focus,
    offline_output,
    tool_arguments,
)
from orchestra.nodes.partial_output import evidence
from orchestra.nodes.prompt_reading import call_from_prompt
from orchestra.nodes.prompts import CITATION

__all__ = [
    "OfflineChatModel",
    "_fill",
    "arithmetic",
    "focus",
    "offline_output",
    "offline_plan",
    "offline_batch",
    "offline_partials",
    "offline_synthesis",
    "tool_arguments",
    "words",
]


_BRIEF_WORDS = 10


def _brief(line: str) -> str:
    """A finding's line in at most ``_BRIEF_WORDS`` words, its citations kept.

    Example:
        >>> _brief("- " + "word " * 20 + "[s1]")
        '- word word word word word word word word word word ... [s1]'
    """
    cites = [f"[{sid}]" for sid in CITATION.findall(line)]
    words = CITATION.sub("", line.removeprefix("- ")).split()
    more = " ..." if len(words) > _BRIEF_WORDS else ""
    return f"- {' '.join(words[:_BRIEF_WORDS])}{more} {' '.join(cites)}".rstrip()


def offline_partials(call: CallInfo, tool: str) -> AIMessage:
    """The final synthesis of a map-reduce: each partial's findings, briefly, citing them.

    Each finding keeps its first words and its ``[id]``: hundreds of them must still fit
    one reply (a provider cuts it at its output limit).
    """
    lines = [
        _brief(line)
        for p in call.partials
        for line in p.answer.splitlines()
        if line.startswith("- ")
    ]
    cited = list(dict.fromkeys(c for p in call.partials for c in p.citations))
    parts = [f'For the task "{_task(call)}", the team found:', *lines]
    parts += _closing(call, len(cited), f" synthesized in {len(call.partials)} parts")
    args = {"answer": "\n".join(parts), "citations": cited}
    return AIMessage(content="", tool_calls=[tool_call(tool, args)])


def _task(call: CallInfo) -> str:
    return " ".join((call.task or "the task").split())


def _closing(call: CallInfo, accepted: int, how: str = "") -> list[str]:
    """An answer's last lines: what did not complete, the team's digest, and the verdict.

    The verdict is said when results were accepted, or when the answer is over partials.
    """
    parts = []
    if call.missing:
        gaps = ", ".join(
            f"{r.subtask_id} ({r.specialist}) {r.status}" + (f": {r.reason}" if r.reason else "")
            for r in call.missing
        )
        parts.append(f"Not completed, so the answer lacks their part: {gaps}.")
    digest = call.digest or {}
    if isinstance(digest.get("summary"), str):
        parts.append(digest["summary"])
    if accepted or call.partials:
        verdict = "complete" if not call.missing else "partial"
        parts.append(f"This answer is {verdict}, based on {accepted} accepted result(s){how}.")
    return parts


def offline_batch(call: CallInfo, tool: str) -> AIMessage:
    """One batch of a map-reduce: each result's summary, cited, within the words asked for."""
    share = max(8, call.words // max(len(call.results), 1)) if call.words else None
    lines = []
    for result in call.results:
        words = result.summary.split()
        said = " ".join(words[:share]) + (" ..." if share and len(words) > share else "")
        lines.append(f"- {said} [{result.subtask_id}]")
    answer = "\n".join([f'Part {call.part} of the findings for "{_task(call)}":', *lines])
    args = {"answer": answer, "citations": [r.subtask_id for r in call.results]}
    return AIMessage(content="", tool_calls=[tool_call(tool, args)])


def offline_synthesis(call: CallInfo, tool: str) -> AIMessage:
    """Answer from the accepted results, citing them, and name what did not complete."""
    if call.partials:
        return offline_partials(call, tool)
    if call.part:
        return offline_batch(call, tool)
    accepted = call.results
    lines: list[str] = []
    said: dict[str, str] = {}
    for result in accepted:
        sid, name = result.subtask_id, result.specialist
        data = result.output or {}
        points = [p for p in data.get("key_points", []) if isinstance(p, str)]
        sentences = evidence([result.summary, *points])
        new = [x.rstrip(";") for x in sentences if x.rstrip(";") not in said][:2]
        if new:
            lines.append(f"- {' '.join(new)} [{sid}]")
            said |= dict.fromkeys((x.rstrip(";") for x in sentences), sid)
        else:
            earlier = sorted({said[x.rstrip(";")] for x in sentences if x.rstrip(";") in said})
            lines.append(
                f"- {sid} ({name}) agrees with {', '.join(earlier) or 'the above'} [{sid}]"
            )
    task = _task(call)
    parts = [
        f'For the task "{task}", the team found:' if lines else f'No subtask of "{task}" succeeded.'
    ]
    parts += lines
    parts += _closing(call, len(accepted))
    args = {"answer": "\n".join(parts), "citations": [r.subtask_id for r in accepted]}
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
        """Plan, call tools, fill an output or synthesize, depending on the call's role."""
        names = {t.name: t for t in tools}
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        text = human.text if human else ""
        call = current_call() or call_from_prompt(messages, tools)
        if call is not None and call.role == "orchestrator" and call.output_tool in names:
            return offline_plan(call, call.output_tool)
        if call is not None and call.role == "synthesizer" and call.output_tool in names:
            return offline_synthesis(call, call.output_tool)
        finish = call.output_tool if call is not None and call.output_tool in names else None
        if tool_choice in names:
            finish = tool_choice
        if finish is None and len(tools) == 1:
            finish = tools[0].name
        if finish is None or finish not in names:
            return AIMessage(
                content=f"offline model: no tools were bound, so there is nothing to do for: {text}"
            )
        instruction = call.instruction if call is not None and call.instruction else text
        own = [t for t in tools if t.name != finish]
        since_human = messages[messages.index(human) + 1 :] if human else messages
        used = any(isinstance(m, ToolMessage) for m in since_human)
        if own and not used and tool_choice not in names:
            calls = [tool_call(t.name, tool_arguments(t, instruction)) for t in own]
            return AIMessage(content="", tool_calls=calls)
        inputs = [i.summary for i in call.inputs] if call is not None else []
        filled = offline_output(messages, names[finish], instruction or "the subtask", inputs)
        return AIMessage(content="", tool_calls=[tool_call(finish, filled)])
