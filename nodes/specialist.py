"""A specialist: a bounded tool-calling loop over its own tools, ending in its typed output.

The output type is bound as one more tool (the model "calls" it to finish); the last
allowed step binds only that tool and forces it. Calls to tools the specialist does not
have are refused with a tool message and never executed; a tool that raises answers
with its error so the model can adapt. Invalid output gets the validation error back
and another step, within ``max_steps``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime
from pydantic import BaseModel, ValidationError

from nodes.models import resolve_model
from nodes.prompts import specialist_message, specialist_system
from nodes.resolve import ResolvedSpecialist, ResolvedTeam
from nodes.runnable import Node
from state import TeamContext, WorkerInput, WorkerResult


def summarize(output: BaseModel) -> str:
    """The short text later subtasks and the synthesizer see of an output."""
    summary = getattr(output, "summary", None)
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    return json.dumps(output.model_dump(mode="json"), ensure_ascii=False)[:600]


@dataclass
class _Loop:
    """One subtask's conversation: pure bookkeeping, no I/O (the drivers do that)."""

    worker: ResolvedSpecialist
    task: WorkerInput
    messages: list[BaseMessage] = field(default_factory=list)
    steps: int = 0
    tools_used: list[str] = field(default_factory=list)
    output: BaseModel | None = None
    raw: str = ""

    def __post_init__(self) -> None:
        name = self.worker.output.__name__
        self.messages = [
            SystemMessage(specialist_system(self.worker.spec, name)),
            HumanMessage(
                specialist_message(
                    self.task["subtask"], self.task["dependencies"], self.task.get("feedback")
                )
            ),
        ]

    @property
    def done(self) -> bool:
        return self.output is not None or self.steps >= self.worker.spec.max_steps

    def bound(self, chat: BaseChatModel) -> Any:
        name = self.worker.output.__name__
        last = self.steps == self.worker.spec.max_steps - 1
        if last or not self.worker.tools:
            return chat.bind_tools([self.worker.output], tool_choice=name)
        return chat.bind_tools([*self.worker.tools.values(), self.worker.output])

    def take(self, reply: BaseMessage) -> list[tuple[BaseTool, dict[str, Any], str]]:
        """Record a model reply; return the tool calls to execute."""
        self.steps += 1
        self.messages.append(reply)
        calls = reply.tool_calls if isinstance(reply, AIMessage) else []
        self.raw = reply.text or json.dumps([c["args"] for c in calls], default=str)
        name = self.worker.output.__name__
        if not calls:
            self.messages.append(HumanMessage(f"Call `{name}` with your result to finish."))
            return []
        to_run = []
        for call in calls:
            call_id = call["id"] or call["name"]
            if call["name"] == name:
                try:
                    self.output = self.worker.output.model_validate(call["args"])
                except ValidationError as exc:
                    self.messages.append(
                        ToolMessage(f"Invalid {name}: {exc}", tool_call_id=call_id, status="error")
                    )
                else:
                    self.messages.append(ToolMessage("Result recorded.", tool_call_id=call_id))
            elif (tool := self.worker.tools.get(call["name"])) is not None:
                self.tools_used.append(call["name"])
                to_run.append((tool, call["args"], call_id))
            else:
                self.tools_used.append(f"refused:{call['name']}")
                allowed = sorted(self.worker.tools) or ["(none)"]
                self.messages.append(
                    ToolMessage(
                        f"Tool {call['name']!r} is not available to {self.worker.name}; "
                        f"your tools are {allowed}.",
                        tool_call_id=call_id,
                        status="error",
                    )
                )
        return [] if self.output is not None else to_run

    def answer(self, call_id: str, result: object) -> None:
        self.messages.append(ToolMessage(str(result), tool_call_id=call_id))

    def fail(self, call_id: str, tool: BaseTool, exc: Exception) -> None:
        self.messages.append(
            ToolMessage(
                f"Tool {tool.name!r} raised {type(exc).__name__}: {exc}",
                tool_call_id=call_id,
                status="error",
            )
        )

    def result(self) -> dict[str, Any]:
        record = self.task["subtask"]
        result = WorkerResult(
            subtask_id=record["id"],
            specialist=self.worker.name,
            status="submitted",
            revision=self.task["revision"],
            output=None,
            summary="",
            steps=self.steps,
            tool_calls=self.tools_used,
        )
        if self.output is not None:
            result["output"] = self.output.model_dump(mode="json")
            result["summary"] = summarize(self.output)
        else:
            result["reason"] = (
                f"no valid {self.worker.output.__name__} within max_steps "
                f"({self.worker.spec.max_steps})"
            )
            result["raw"] = self.raw[:4000]
        return {"results": {record["id"]: result}, "model_calls": self.steps}


def make_specialist(
    worker: ResolvedSpecialist, team: ResolvedTeam
) -> Node[WorkerInput, dict[str, Any]]:
    """The node for one specialist; its input is a ``WorkerInput`` sent by dispatch."""

    def chat(runtime: Runtime[TeamContext]) -> BaseChatModel:
        return resolve_model(runtime.context.model, worker.spec.model, team.spec.model)

    def run(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        loop, model = _Loop(worker, task), chat(runtime)
        while not loop.done:
            for tool, args, call_id in loop.take(loop.bound(model).invoke(loop.messages)):
                try:
                    loop.answer(call_id, tool.invoke(args))
                except GraphBubbleUp:
                    raise
                except Exception as exc:
                    loop.fail(call_id, tool, exc)
        return loop.result()

    async def arun(task: WorkerInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        loop, model = _Loop(worker, task), chat(runtime)
        while not loop.done:
            for tool, args, call_id in loop.take(await loop.bound(model).ainvoke(loop.messages)):
                try:
                    loop.answer(call_id, await tool.ainvoke(args))
                except GraphBubbleUp:
                    raise
                except Exception as exc:
                    loop.fail(call_id, tool, exc)
        return loop.result()

    return Node(worker.name, run, arun)
