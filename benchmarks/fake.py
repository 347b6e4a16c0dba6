"""The benchmark's model and task: fixed latency, fixed-size replies, one policy for every system.

Every system measured here (orchestra, a hand-written LangGraph graph, langgraph-supervisor,
the single-agent baseline) calls the same ``BenchModel``: each call waits ``LATENCY_MS``
(``asyncio.sleep`` under ``ainvoke``, so it holds no thread) and answers with a reply of
``REPLY_CHARS`` characters of work. So only orchestration differs. The model also counts
calls and the characters of every message it is sent.

The task has N independent parts. The policy, by what the caller binds:

- ``Plan`` bound: the plan (one subtask per part), or an empty plan once shown results;
- ``Synthesis`` bound: the answer;
- ``transfer_to_*`` bound (langgraph-supervisor): hand the next part to an agent, or answer;
- ``write_part`` bound (the single agent): write the next part, one call per part, then the
  output;
- otherwise a worker: the output tool if one is bound (one call), else a text reply.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import PrivateAttr

from orchestra.nodes.function_model import BoundTool, LocalChatModel, structured_reply, tool_call
from orchestra.state import Plan, SpecialistOutput, SpecialistSpec, Subtask, Synthesis, TeamSpec

LATENCY_MS = 50.0
"""Simulated provider latency of every model call."""
REPLY_CHARS = 500
"""Characters of work in every reply (a worker's summary, an answer, a part)."""
SPECIALISTS = ("researcher", "analyst")

_PART = re.compile(r"^- part (\d+):", re.M)


def work_text(label: str) -> str:
    """Exactly ``REPLY_CHARS`` characters of deterministic prose about ``label``."""
    sentence = f"Finding on {label}: the measured value is stable and the source agrees. "
    return (sentence * (REPLY_CHARS // len(sentence) + 1))[:REPLY_CHARS]


def task_text(n: int) -> str:
    """The benchmark task: ``n`` independent parts, one per line."""
    lines = [f"- part {i}: report the key figure of topic {i}." for i in range(1, n + 1)]
    return f"Answer each of these {n} parts on its own, then summarise:\n" + "\n".join(lines)


def specialist_for(i: int) -> str:
    """The specialist part ``i`` goes to (alternating)."""
    return SPECIALISTS[(i - 1) % len(SPECIALISTS)]


def plan_for(n: int) -> Plan:
    """One independent subtask per part."""
    subtasks = [
        Subtask(
            id=f"s{i}",
            specialist=specialist_for(i),
            instruction=f"Report the key figure of topic {i}.",
            depends_on=[],
        )
        for i in range(1, n + 1)
    ]
    return Plan(rationale="One subtask per independent part.", subtasks=subtasks)


@tool
def write_part(part: int, text: str) -> str:
    """Record your work on one part of the task."""
    return f"part {part} recorded"


def message_chars(message: BaseMessage) -> int:
    """Characters of a message as a provider receives it: its text and its tool calls."""
    size = len(message.text)
    if isinstance(message, AIMessage):
        size += sum(len(json.dumps(c["args"])) + len(c["name"]) for c in message.tool_calls)
    return size


class BenchModel(LocalChatModel):
    """Fixed latency, fixed-size replies; counts calls and input characters."""

    latency_ms: float = LATENCY_MS

    _count_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _input_chars: int = PrivateAttr(default=0)
    _schema_chars: int = PrivateAttr(default=0)
    _schema_sizes: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "orchestra-bench"

    @property
    def input_chars(self) -> int:
        """Characters of every message sent to the model so far."""
        return self._input_chars

    @property
    def schema_chars(self) -> int:
        """Characters of the tool schemas bound to every call so far."""
        return self._schema_chars

    def counters(self) -> tuple[int, int, int]:
        """(calls, message characters, tool-schema characters) so far."""
        with self._count_lock:
            return self.call_count, self._input_chars, self._schema_chars

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        """The policy described in the module docstring."""
        chars = sum(message_chars(m) for m in messages)
        schemas = sum(self._schema_size(t) for t in tools)
        with self._count_lock:
            self._input_chars += chars
            self._schema_chars += schemas
        names = [t.name for t in tools]
        if "Plan" in names:
            return self._plan(messages)
        if "Synthesis" in names:
            return structured_reply(Synthesis(answer=work_text("the task"), citations=["s1"]))
        if any(name.startswith("transfer_to_") for name in names):
            return _supervise(messages)
        if write_part.name in names:
            return _single_agent(messages, names, tool_choice)
        output = tool_choice if tool_choice in names else (names[-1] if names else None)
        if output is None:
            return AIMessage(content=work_text("one part"))
        return structured_reply(
            SpecialistOutput(summary=work_text("one part"), key_points=[]), name=output
        )

    def _schema_size(self, tool: BoundTool) -> int:
        # Measured once per tool name: a tool's schema does not change within a run.
        size = self._schema_sizes.get(tool.name)
        if size is None:
            size = self._schema_sizes[tool.name] = len(json.dumps(asdict(tool)))
        return size

    def _plan(self, messages: list[BaseMessage]) -> AIMessage:
        human = next(m for m in reversed(messages) if isinstance(m, HumanMessage))
        if "## Results" in human.text:
            return structured_reply(Plan(rationale="The results answer the task.", subtasks=[]))
        parts = len(_PART.findall(human.text))
        return structured_reply(plan_for(parts))


def _supervise(messages: list[BaseMessage]) -> AIMessage:
    """langgraph-supervisor's supervisor: one hand-off per part, in order, then the answer."""
    task = next(m for m in messages if isinstance(m, HumanMessage))
    done = sum(
        1
        for m in messages
        if isinstance(m, AIMessage) and m.name in SPECIALISTS and not m.tool_calls
    )
    if done < len(_PART.findall(task.text)):
        handoff = tool_call(f"transfer_to_{specialist_for(done + 1)}", {})
        return AIMessage(content="", tool_calls=[handoff])
    return AIMessage(content=work_text("the task"))


def _single_agent(messages: list[BaseMessage], names: list[str], choice: str | None) -> AIMessage:
    """The single agent: one ``write_part`` call per part, then its output."""
    human = next(m for m in messages if isinstance(m, HumanMessage))
    written = sum(1 for m in messages if isinstance(m, ToolMessage) and "recorded" in m.text)
    output = next(n for n in names if n != write_part.name)
    if choice != output and written < len(_PART.findall(human.text)):
        args: dict[str, Any] = {"part": written + 1, "text": work_text(f"part {written + 1}")}
        return AIMessage(content="", tool_calls=[tool_call(write_part.name, args)])
    return structured_reply(
        SpecialistOutput(summary=work_text("the task"), key_points=[]), name=output
    )


def bench_team(
    n: int, *, tools: bool = False, review: bool = True, max_concurrency: int | None = None
) -> TeamSpec:
    """The orchestra team for ``n`` subtasks: nothing caps the run but the work itself.

    Two specialists (with ``write_part`` when ``tools``, which the single-agent baseline
    uses; workers answer in one call either way). Every role keeps the spec's defaults
    (validator, ledger, retry policy, node metadata, ``max_rounds``, the review) except the
    limits, raised so that ``n`` subtasks run in one round at full concurrency.
    """
    specialists = [
        SpecialistSpec(
            name=name,
            description=f"The {name}: reports key figures of topics.",
            tools=[write_part] if tools else [],
        )
        for name in SPECIALISTS
    ]
    return TeamSpec(
        name="bench",
        specialists=specialists,
        orchestrator={} if review else {"review": False},
        limits={
            "max_workers_per_round": max(n, 1),
            "max_model_calls": 10 * n + 100,
            "max_concurrency": max_concurrency or max(n, 1),
            "recursion_limit": 100,
        },
    )
