"""How a specialist reads a model reply: into tool calls to run, or its typed output.

Kept apart from the loop (``orchestra.nodes.worker_loop``) because reading a reply is
where the providers differ: the loop only asks for steps, this says what a reply meant.

The output type is bound as one more tool (the model "calls" it to finish). Calls to
tools the specialist does not have are refused with a tool message and never executed;
a call whose arguments are not JSON is kept in the conversation with ``{}`` (a server
refuses unreadable ones in the history) and answered with what was unreadable. Invalid
output gets the validation error back, for another step. A tool the specialist names in
``output_from_tools`` may return the output itself (``tool_output``): then no model call
copies it into the output tool.

A reply in text whose JSON validates as the output is taken as the output (a model that
ignored ``tool_choice``, as Ollama does). A forced output call ignored otherwise is noted
(``unforced``) so that the loop may ask for the output once more through structured output
(``output_asked``/``take_asked``); when that works the model is noted as ignoring
``tool_choice`` (``orchestra.nodes.model_quirks``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from orchestra.nodes.bindings import Bindings
from orchestra.nodes.chat_models import call_settings, chat_in
from orchestra.nodes.context_check import counter_of, measure
from orchestra.nodes.fitting import shorten_largest
from orchestra.nodes.model_quirks import quirks_of
from orchestra.nodes.prompts import (
    finish_reminder,
    input_bodies,
    invalid_arguments,
    output_request,
    specialist_message,
    specialist_system,
)
from orchestra.nodes.reply_reading import parse_text
from orchestra.nodes.resolve import ResolvedSpecialist
from orchestra.nodes.structured import readable_calls
from orchestra.state import WorkerInput

Calls = list[tuple[BaseTool, dict[str, Any], str]]
"""A reply's tool calls to run: the tool, its arguments, the call's id."""


@dataclass
class WorkerReplies:
    """One subtask's conversation and what its replies said (``WorkerLoop`` drives it)."""

    worker: ResolvedSpecialist
    task: WorkerInput
    bindings: Bindings
    """The specialist's tools bound to a model (the loop binds each step with them)."""
    team: str = ""
    """The team's name (for the model call's ``CallInfo``)."""
    messages: list[BaseMessage] = field(default_factory=list)
    steps: int = 0
    tools_used: list[str] = field(default_factory=list)
    output: BaseModel | None = None
    raw: str = ""
    invalid_output: str | None = None
    """The last reply's output validation error, if its output call was invalid."""
    notes: list[str] = field(default_factory=list)
    """Human decisions on this attempt's tool calls, and outputs read from text."""
    unforced: str | None = None
    """How the last reply ignored the forced output call (``None``: it did not)."""

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

    def fit_inputs(self, bound: Any) -> None:
        """Shorten the dependencies' results, largest first, to fit the model's window.

        Measured with ``bound`` (the model with every tool bound, the first step's prompt).
        A specialist with tools keeps a quarter of the window for its steps' tool calls
        and results. The full results stay in the run's data (``RunData.inputs``).
        """
        deps = self.task["dependencies"]
        size = measure(bound, self.messages) if deps else None
        chat = chat_in(bound)
        if size is None or chat is None:
            return
        keep = size.window // 4 if self.worker.tools else 0
        over = keep - size.room
        if over <= 0:
            return
        count = counter_of(call_settings(chat))
        bodies = input_bodies(deps)
        budget = sum(count(text) for text in bodies.values()) - over
        shortened = shorten_largest(bodies, budget, count)
        record = self.task["subtask"]
        message = specialist_message(record, deps, self.task.get("feedback"), shortened)
        self.messages[1] = HumanMessage(message)
        cuts = [f"{k} ({len(shortened[k])} of {len(v)} chars)" for k, v in bodies.items()
                if shortened[k] != v]  # fmt: skip
        self.notes.append(
            f"{self.where}: inputs shortened to fit the model's {size.window}-token window: "
            + ", ".join(cuts)
        )

    @property
    def where(self) -> str:
        """The subtask and specialist, as the run's notes name them."""
        return f"{self.task['subtask']['id']} ({self.worker.name})"

    @property
    def forced(self) -> bool:
        """Whether this step forces the output call (the last step, or no tools at all)."""
        return self.steps == self.worker.spec.max_steps - 1 or not self.worker.tools

    def _from_text(self, reply: BaseMessage, forced: bool) -> bool:
        """Take the output from a reply's text JSON; else note how a forced call was ignored."""
        name = self.worker.output.__name__
        parsed, _, _ = parse_text(str(reply.text), self.worker.output)
        if parsed is not None:
            self.output = parsed
            self.notes.append(
                f"{self.where}: the {name} was read from the reply's text (no tool call)"
            )
            return True
        if forced:
            self.unforced = f"the model answered in text when {name} was forced"
        return False

    def take(self, reply: BaseMessage) -> Calls:
        """Record a model reply; return the tool calls to execute."""
        forced, self.unforced = self.forced, None
        self.steps += 1
        self.messages.append(reply)
        calls = reply.tool_calls if isinstance(reply, AIMessage) else []
        broken = reply.invalid_tool_calls if isinstance(reply, AIMessage) else []
        self.raw = reply.text or json.dumps([c["args"] for c in calls], default=str)
        name = self.worker.output.__name__
        self.invalid_output = None
        if broken:
            # Kept with {} for arguments: Ollama refuses a history call that is not JSON.
            kept = readable_calls(broken)
            self.messages[-1] = AIMessage(
                reply.content,
                tool_calls=[*calls, *kept],
                id=reply.id,
                response_metadata=reply.response_metadata,
                usage_metadata=reply.usage_metadata if isinstance(reply, AIMessage) else None,
            )
            for bad, call in zip(broken, kept, strict=True):
                # Every call id gets its answer: a provider refuses the next request otherwise.
                self.tools_used.append(f"invalid:{call['name']}")
                self.messages.append(
                    ToolMessage(
                        invalid_arguments(call["name"], bad["error"], bad["args"]),
                        tool_call_id=str(call["id"]),
                        status="error",
                    )
                )
        if not calls:
            if broken:
                self.invalid_output = "the reply's tool-call arguments were not valid JSON"
            elif not self._from_text(reply, forced):
                self.invalid_output = "the reply called no tool"
                self.messages.append(HumanMessage(finish_reminder(name)))
            return []
        to_run = []
        for call in calls:
            call_id = call["id"] or call["name"]
            if call["name"] == name:
                try:
                    self.output = self.worker.output.model_validate(call["args"])
                except ValidationError as exc:
                    self.invalid_output = f"{exc.error_count()} validation error(s) for {name}"
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
        if forced and self.output is None and self.invalid_output is None:
            called = ", ".join(c["name"] for c in calls)
            self.unforced = f"the model called {called} when {name} was forced"
        return [] if self.output is not None else to_run

    def tool_output(self, tool: str, text: str) -> str | None:
        """Take ``tool``'s result as the output if the specialist declares it may be one.

        Only for a tool in ``output_from_tools``, and only while there is no output yet (the
        first such result of a reply wins, as with the Agents SDK's ``StopAtTools``).
        Returns why the result is not the output, for the model and the run's notes.
        """
        if self.output is not None or tool not in self.worker.spec.output_from_tools:
            return None
        name = self.worker.output.__name__
        try:
            self.output = self.worker.output.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the result"
            problem = (
                f"{tool}'s result is not a valid {name} ({exc.error_count()} validation "
                f"error(s); {where}: {first['msg']}), so it was not taken as the output"
            )
            self.notes.append(f"{self.where}: {problem}")
            return problem
        self.invalid_output = None
        self.notes.append(
            f"{self.where}: the {name} is {tool}'s result (output_from_tools): "
            "the model was not asked to repeat it"
        )
        return None

    def output_asked(self) -> list[BaseMessage]:
        """The conversation with the output asked for as JSON (this turn is kept)."""
        self.messages.append(HumanMessage(output_request(self.worker.output.__name__)))
        return list(self.messages)

    def take_asked(self, reply: BaseMessage, chat: BaseChatModel) -> bool:
        """Record the reply to ``output_asked``; whether it held a valid output.

        Its outcome is noted for ``chat``: later forced steps ask this way while it works.
        """
        self.messages.append(reply)
        self.raw = str(reply.text)
        name = self.worker.output.__name__
        parsed, error, _ = parse_text(self.raw, self.worker.output)
        quirks_of(chat).ignores_tool_choice = parsed is not None
        if parsed is None:
            why = reply.response_metadata.get("parsing_error") or error
            self.invalid_output = f"the {name} asked for as JSON could not be read: {why}"
            self.notes.append(f"{self.where}: {self.invalid_output}")
            return False
        self.output, self.unforced, self.invalid_output = parsed, None, None
        self.notes.append(
            f"{self.where}: the {name} was asked for through structured output "
            "(the model did not make the forced output call)"
        )
        return True
