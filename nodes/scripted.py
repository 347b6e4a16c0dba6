"""The scripted model: test your own teams without a provider.

Its reply is a pure function of (messages, bound tools) and the call's ``CallInfo`` (what
the role node says the call is for: role, specialist, subtask id, round, output tool, ...;
see ``orchestra.nodes.call_info``), so parallel branches get the same answers in any order,
and it records every call. ``team_script`` builds such a function from per-role answers;
roles you leave out fall back to the offline policy. Nothing here reads the prompts'
wording: reword a prompt and every script sees the same calls.

Example:
    >>> from orchestra.state import SpecialistOutput
    >>> model = ScriptedChatModel(respond=team_script(workers={
    ...     "researcher": SpecialistOutput(summary="LangGraph is a graph runtime.", key_points=[]),
    ... }))
    >>> model.call_count
    0
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, PrivateAttr

from orchestra.nodes.call_info import CallInfo, InputInfo
from orchestra.nodes.function_model import (
    BoundTool,
    LocalChatModel,
    current_call,
    structured_reply,
)
from orchestra.nodes.offline import OfflineChatModel
from orchestra.state import Plan, Subtask, Synthesis

Reply = AIMessage | BaseModel | str
"""What a script returns: a message, an output object (sent as the matching tool call) or text."""
Respond = Callable[[list[BaseMessage], list[BoundTool]], Reply]


@dataclass(frozen=True)
class WorkerCall:
    """A specialist's model call, as a script sees it."""

    specialist: str
    subtask_id: str
    instruction: str
    inputs: str
    """The results of the subtasks this one depends on: ``### id (specialist)``, the
    summary, and ``output: {json}`` of the fields the summary does not show."""
    feedback: str | None
    """The validator's feedback when the subtask was sent back, else ``None``."""
    tool_results: tuple[str, ...]
    """Tool messages received so far in this attempt (errors included)."""
    tools: tuple[str, ...]
    """Names of the tools bound for this call (the output tool included)."""
    output_tool: str
    step: int
    """0 for the first model call of this attempt."""


@dataclass(frozen=True)
class CallRecord:
    """One recorded call."""

    role: str
    specialist: str | None
    subtask_id: str | None
    tools: tuple[str, ...]


def role_of(tools: Sequence[BoundTool]) -> str:
    """``orchestrator``, ``synthesizer`` or ``specialist``: the current call's role.

    Read from the call's ``CallInfo``; a call without one (a direct ``invoke``) is told
    by its bound tools.
    """
    if (call := current_call()) is not None:
        return call.role
    names = {t.name for t in tools}
    if Plan.__name__ in names:
        return "orchestrator"
    if Synthesis.__name__ in names:
        return "synthesizer"
    return "specialist"


def inputs_text(inputs: Sequence[InputInfo]) -> str:
    """The dependencies' results as one text, each under ``### id (specialist)``."""
    blocks = []
    for dep in inputs:
        rest = {k: v for k, v in dep.output.items() if v != dep.summary}
        lines = [f"### {dep.subtask_id} ({dep.specialist})", dep.summary]
        lines += [f"output: {json.dumps(rest, ensure_ascii=False)}"] if rest else []
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _required() -> CallInfo:
    call = current_call()
    if call is None:
        raise ValueError(
            "no CallInfo for this model call: a scripted call must come from an orchestra "
            "role node, or pass one with orchestra.nodes.call_info.with_call(info) as config"
        )
    return call


def worker_call(messages: list[BaseMessage], tools: Sequence[BoundTool]) -> WorkerCall:
    """The current specialist call as a ``WorkerCall`` (from its ``CallInfo``)."""
    call = _required()
    humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    after = messages[humans[0] + 1 :] if humans else messages
    return WorkerCall(
        specialist=call.specialist,
        subtask_id=call.subtask_id,
        instruction=call.instruction,
        inputs=inputs_text(call.inputs),
        feedback=call.feedback,
        tool_results=tuple(m.text for m in after if isinstance(m, ToolMessage)),
        tools=tuple(t.name for t in tools),
        output_tool=call.output_tool,
        step=call.step,
    )


class ScriptedChatModel(LocalChatModel):
    """A chat model driven by ``respond(messages, tools)``; records and counts calls."""

    respond: Respond

    _records: list[CallRecord] = PrivateAttr(default_factory=list)
    _record_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "orchestra-scripted"

    @property
    def calls(self) -> list[CallRecord]:
        """Every call so far, in the order they happened."""
        with self._record_lock:
            return list(self._records)

    def calls_for(self, specialist: str) -> list[CallRecord]:
        """The calls one specialist made."""
        return [c for c in self.calls if c.specialist == specialist]

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        """Ask the script, and turn what it returns into a message."""
        role = role_of(tools)
        info = current_call()
        call = worker_call(messages, tools) if role == "specialist" and info else None
        with self._record_lock:
            self._records.append(
                CallRecord(
                    role,
                    call.specialist if call else None,
                    call.subtask_id if call else None,
                    tuple(t.name for t in tools),
                )
            )
        answer = self.respond(messages, tools)
        if isinstance(answer, AIMessage):
            return answer
        if isinstance(answer, str):
            return AIMessage(content=answer)
        names = {t.name for t in tools}
        name = type(answer).__name__
        if name not in names:
            forced = tool_choice if tool_choice in names else None
            name = forced or (call.output_tool if call else "")
        if name not in names:
            raise ValueError(
                f"script returned a {type(answer).__name__} but no such tool is bound: "
                f"{sorted(names)}"
            )
        return structured_reply(answer, name=name)


WorkerScript = BaseModel | Callable[[WorkerCall], Reply]
PlanScript = Plan | Sequence[Plan] | Callable[[str, int], Plan]


def team_script(
    *,
    plan: PlanScript | None = None,
    workers: Mapping[str, WorkerScript] | None = None,
    synthesis: Synthesis | Callable[[str], Synthesis] | None = None,
) -> Respond:
    """A ``respond`` function from per-role answers.

    Args:
        plan: the first round's plan (later rounds get an empty plan, i.e. done), a list of
            plans by round, or ``f(orchestrator_message_text, round) -> Plan`` (the round
            from the call's ``CallInfo``; the text is the prompt, as a real model sees it).
        workers: per specialist, an output object or ``f(WorkerCall) -> reply``.
        synthesis: the synthesis, or ``f(synthesizer_message_text) -> Synthesis``.

    Roles not given fall back to the offline model's policy.
    """
    offline = OfflineChatModel()
    scripted = dict(workers or {})

    def respond(messages: list[BaseMessage], tools: list[BoundTool]) -> Reply:
        call = _required()
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        text = human.text if human else ""
        if call.role == "orchestrator" and plan is not None:
            if callable(plan):
                return plan(text, call.round)
            plans = [plan] if isinstance(plan, Plan) else list(plan)
            if call.round <= len(plans):
                return plans[call.round - 1]
            return Plan(rationale="done", subtasks=[])
        if call.role == "synthesizer" and synthesis is not None:
            return synthesis(text) if callable(synthesis) else synthesis
        if call.role == "specialist" and tools:
            script = scripted.get(call.specialist)
            if isinstance(script, BaseModel):
                return script
            if script is not None:
                return script(worker_call(messages, tools))
        return offline.reply(messages, tools, None)

    return respond


def plan_of(*subtasks: tuple[str, str, str] | tuple[str, str, str, list[str]]) -> Plan:
    """A plan from ``(id, specialist, instruction[, depends_on])`` tuples, for tests."""
    items: list[Any] = []
    for entry in subtasks:
        sid, specialist, instruction, *deps = entry
        items.append(
            Subtask(
                id=sid,
                specialist=specialist,
                instruction=instruction,
                depends_on=list(deps[0]) if deps else [],
            )
        )
    return Plan(rationale="scripted plan", subtasks=items)
