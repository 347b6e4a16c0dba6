"""One specialist attempt's conversation: the bounded tool-calling loop, as bookkeeping.

The last allowed step binds only the output tool and forces it; how each reply is read
(tool calls, the output, a call ignored) is ``orchestra.nodes.worker_replies``. A tool
that raises answers with its error so the model can adapt; invalid output gets another
step, within ``max_steps``. A tool named in the specialist's ``output_from_tools`` whose
result validates as the output ends the attempt with it, with no model call after
(the reply's other tool calls still run, as in the Agents SDK; the model asked for them).

A forced output call the model ignored is asked for once more through structured output
(``Bindings.asked``: JSON schema, which Ollama honours; not for a client whose only way
is a tool call) — one model call beyond ``max_steps`` at most per attempt, metered and
within the budgets (``reasks``). When that works the model's later forced steps ask that
way at once (``orchestra.nodes.model_quirks``); when it does not, the attempt ends as out
of steps, saying so. A specialist out of budget hands on a partial output the framework
fills from its tool results (``orchestra.nodes.partial_output``).

``WorkerLoop.attempt`` yields its model and tool steps; ``orchestra.nodes.steps`` drives
it. Each model step carries a ``CallInfo`` (``orchestra.nodes.call_info``) in its config.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from orchestra.nodes.call_info import CallInfo, input_infos, with_call
from orchestra.nodes.model_quirks import quirks_of
from orchestra.nodes.partial_output import partial_output
from orchestra.nodes.steps import AskModel, Attempt, ModelStep, RunTool, ToolStep
from orchestra.nodes.tool_approval import PendingCall, ToolDecision
from orchestra.nodes.usage import Spend
from orchestra.nodes.worker_replies import Calls, WorkerReplies
from orchestra.state import RunContext, WorkerResult

__all__ = [
    "Approve",
    "Approved",
    "Calls",  # re-exported: it lives in orchestra.nodes.worker_replies
    "WorkerLoop",
    "summarize",
]


def summarize(output: BaseModel) -> str:
    """The short text later subtasks and the synthesizer see of an output."""
    summary = getattr(output, "summary", None)
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    return json.dumps(output.model_dump(mode="json"), ensure_ascii=False)[:600]


Approved = list[tuple[BaseTool, dict[str, Any], str, bool]]
"""The calls allowed to run, each with its arguments and whether a human edited them."""
Approve = Callable[["WorkerLoop", Calls], Approved]


@dataclass
class WorkerLoop(WorkerReplies):
    """One subtask's conversation: pure bookkeeping, no I/O (the drivers do that).

    Constructed as ``WorkerLoop(worker, task, bindings, team=..., spend=..., run=...)``;
    the conversation's fields and reply reading are ``WorkerReplies``'.
    """

    spend: Spend = field(default_factory=lambda: Spend(prices={}))
    started_at: float = field(default_factory=time.time)
    exhausted: str | None = None
    reasks: int = 0
    """Model calls beyond the steps: the output asked for again through structured output
    after a forced output call was ignored (at most one per attempt)."""
    run: RunContext[Any] | None = None
    """The run context handed to tools that declare ``RunData``; its stop is honoured."""

    @property
    def done(self) -> bool:
        """Finished, out of steps, or out of budget (checked before every model call)."""
        if self.output is not None or self.steps >= self.worker.spec.max_steps:
            return True
        return self._over_budget()

    def _over_budget(self) -> bool:
        envelope = self.task.get("envelope") or self.worker.spec.budget
        self.exhausted = self.spend.over(envelope, self.started_at)
        return self.exhausted is not None

    def may_ask_again(self, chat: BaseChatModel) -> bool:
        """Whether an ignored forced output call is asked for once more, another way."""
        if self.output is not None or self.unforced is None or self.reasks:
            return False
        return self.bindings.asked(chat).another_way and not self._over_budget()

    @property
    def trace(self) -> RunnableConfig:
        """Tracing metadata of this attempt's model and tool runs."""
        record = self.task["subtask"]
        return {
            "metadata": {
                "subtask_id": record["id"],
                "round": record["round"],
                "specialist": self.worker.name,
                "revision": self.task["revision"],
                "attempt": self.task["revision"] + 1,
                "step": self.steps,
            }
        }

    def call_info(self) -> CallInfo:
        """What this step's messages say, as data for the model call's metadata."""
        record = self.task["subtask"]
        return CallInfo(
            role="specialist",
            team=self.team,
            specialist=self.worker.name,
            subtask_id=record["id"],
            round=record["round"],
            revision=self.task["revision"],
            step=self.steps,
            instruction=record["instruction"],
            inputs=input_infos(self.task["dependencies"]),
            feedback=self.task.get("feedback") or None,
            output_tool=self.worker.output.__name__,
        )

    def bound(self, chat: BaseChatModel) -> Any:
        """The model with this step's tools bound (call it with ``trace`` as its config)."""
        return self.bindings.finish(chat) if self.forced else self.bindings.every(chat)

    def answer(self, call_id: str, result: object, *, ok: bool = True) -> None:
        """Record a tool's answer (or its error) for the model."""
        status = "success" if ok else "error"
        self.messages.append(ToolMessage(str(result), tool_call_id=call_id, status=status))

    def pending(self, calls: Calls) -> list[PendingCall]:
        """The calls as a human is asked about them."""
        return [PendingCall(id=call_id, name=tool.name, args=args) for tool, args, call_id in calls]

    def decided(
        self,
        calls: Calls,
        decision: ToolDecision,
        args: dict[str, dict[str, Any]],
    ) -> Approved:
        """Apply a human's decision: the calls to run (with ``edited`` flags), or none."""
        names = ", ".join(tool.name for tool, _, _ in calls)
        if decision.action == "reject":
            self.notes.append(f"{self.where}: a human rejected {names}: {decision.reason}")
            for tool, _, call_id in calls:
                used = len(self.tools_used) - 1 - self.tools_used[::-1].index(tool.name)
                self.tools_used[used] = f"rejected:{tool.name}"
                self.answer(
                    call_id, f"Not run: a human rejected this call: {decision.reason}", ok=False
                )
            return []
        verb = "approved" if decision.action == "approve" else "edited"
        self.notes.append(f"{self.where}: a human {verb} {names}")
        return [(tool, args[cid], cid, args[cid] != given) for tool, given, cid in calls]

    def attempt(self, chat: BaseChatModel, approve: Approve) -> Attempt[dict[str, Any]]:
        """The whole attempt: each model and tool step asked of a driver, then its update.

        ``approve`` decides which of a reply's tool calls run, and with which arguments.
        """
        self.fit_inputs(self.bindings.every(chat))
        while not self.done:
            if self.run is not None:
                self.run.stop.raise_if_requested()  # stop between steps, not mid-call
            config = with_call(self.call_info(), self.trace)
            if self.forced and quirks_of(chat).ignores_tool_choice:
                # This server ignores a forced call: ask through structured output at once.
                self.unforced = None
                asked = AskModel(self.bindings.asked(chat), self.output_asked(), config)
                step = cast(ModelStep, (yield asked))
                self.spend.record(step["reply"], latency_s=step["latency_s"])
                self.steps += 1
                self.take_asked(step["reply"], chat)
                continue
            asked = AskModel(self.bound(chat), list(self.messages), config)
            step = cast(ModelStep, (yield asked))
            self.spend.record(step["reply"], latency_s=step["latency_s"])
            calls = self.take(step["reply"])
            for tool, args, call_id, edited in approve(self, calls) if calls else []:
                if self.run is not None:
                    self.run.stop.raise_if_requested()
                done = cast(ToolStep, (yield RunTool(tool, args, self.trace, self.run)))
                note = f"(arguments edited by a human to {args})\n" if edited else ""
                problem = self.tool_output(tool.name, done["text"]) if done["ok"] else None
                after = f"\n\n({problem}.)" if problem else ""
                self.answer(call_id, note + done["text"] + after, ok=done["ok"])
            if self.may_ask_again(chat):
                # The forced output call was ignored: once, ask for it as JSON instead.
                self.reasks += 1
                asked = AskModel(self.bindings.asked(chat), self.output_asked(), config)
                step = cast(ModelStep, (yield asked))
                self.spend.record(step["reply"], latency_s=step["latency_s"])
                self.take_asked(step["reply"], chat)
        return self.result()

    def result(self) -> dict[str, Any]:
        """The attempt's state update: its result (partial when out of budget) and spend."""
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
        update: dict[str, Any] = {"model_calls": self.steps + self.reasks}
        if self.notes:
            update["notes"] = self.notes
        out_of_steps = f"max_steps ({self.steps} of {self.worker.spec.max_steps})"
        if self.output is None and self.unforced and not self.exhausted:
            # A server that ignores tool_choice (Ollama): no output call will come.
            self.exhausted = f"{out_of_steps}: {self.unforced}"
        if self.output is None and not self.exhausted and not self.invalid_output:
            self.exhausted = out_of_steps
        if self.output is None and self.exhausted:
            # Out of budget: hand over what the work so far supports, marked as partial.
            salvaged = partial_output(self.messages, self.worker.output)
            result |= {
                "status": "exhausted",
                "reason": f"budget_exhausted: {self.exhausted}",
                "raw": self.raw[:4000],
            }
            if salvaged is not None:
                result |= {
                    "output": salvaged.model_dump(mode="json"),
                    "summary": summarize(salvaged),
                }
            update["exhausted"] = [f"{self.worker.name} {self.exhausted}"]
        elif self.output is not None:
            result["output"] = self.output.model_dump(mode="json")
            result["summary"] = summarize(self.output)
        else:
            result["reason"] = (
                f"no valid {self.worker.output.__name__} after {self.steps} attempt(s): "
                f"{self.invalid_output}"
            )
            result["raw"] = self.raw[:4000]
        entry = self.spend.entry(
            "specialist",
            revision=self.task["revision"],
            specialist=self.worker.name,
            subtask_id=record["id"],
            status=result["status"],
        )
        return update | {"results": {record["id"]: result}, "ledger": {record["id"]: entry}}
