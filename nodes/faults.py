"""A fault-injection model: another local model's answers, with provider faults mixed in.

Test how your team copes with a bad provider day. Each call draws from a seeded random
sequence and, at the configured rates, raises a transient error (the model step retries it),
answers with malformed text where a tool call or JSON was expected, calls the right tool
with arguments of the wrong schema, or calls a tool that is not bound. Otherwise the
wrapped model answers. Every injected fault is recorded. A wrong-schema answer goes to
the output tool the call's ``CallInfo`` names (``orchestra.nodes.call_info``).

Example:
    >>> model = FaultyChatModel(transient_rate=0.5, seed=7)
    >>> model.faults
    []
"""

from __future__ import annotations

import random
import threading
from typing import Literal

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field, PrivateAttr

from orchestra.nodes.function_model import BoundTool, LocalChatModel, current_call, tool_call
from orchestra.nodes.offline import OfflineChatModel
from orchestra.nodes.retry import TransientModelError

Fault = Literal["transient", "malformed", "wrong_schema", "unknown_tool"]


class FaultyChatModel(LocalChatModel):
    """``inner``'s answers with faults injected at the given rates (each in [0, 1])."""

    inner: LocalChatModel = Field(default_factory=OfflineChatModel)
    transient_rate: float = Field(default=0.0, ge=0, le=1)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    wrong_schema_rate: float = Field(default=0.0, ge=0, le=1)
    unknown_tool_rate: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0

    _rng: random.Random = PrivateAttr()
    _rng_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _faults: list[Fault] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: object, /) -> None:
        """Start the seeded sequence of draws."""
        self._rng = random.Random(self.seed)

    @property
    def _llm_type(self) -> str:
        return "orchestra-faulty"

    @property
    def faults(self) -> list[Fault]:
        """The faults injected so far, in order."""
        with self._rng_lock:
            return list(self._faults)

    def _draw(self) -> Fault | None:
        rates: list[tuple[Fault, float]] = [
            ("transient", self.transient_rate),
            ("malformed", self.malformed_rate),
            ("wrong_schema", self.wrong_schema_rate),
            ("unknown_tool", self.unknown_tool_rate),
        ]
        with self._rng_lock:
            roll = self._rng.random()
            for fault, rate in rates:
                if roll < rate:
                    self._faults.append(fault)
                    return fault
                roll -= rate
        return None

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        """Inject a fault, or let the wrapped model answer."""
        fault = self._draw()
        if fault == "transient":
            raise TransientModelError("injected fault: 503 Service Unavailable")
        if fault == "malformed":
            return AIMessage(content='{"subtasks": [ {"id": "s1", "specialist": ')
        if fault == "wrong_schema" and tools:
            names = {t.name for t in tools}
            call = current_call()
            finish = call.output_tool if call is not None else ""
            target = next((n for n in (tool_choice, finish) if n in names), tools[-1].name)
            return AIMessage(content="", tool_calls=[tool_call(target, {"unexpected": [1, 2]})])
        if fault == "unknown_tool":
            return AIMessage(content="", tool_calls=[tool_call("delete_database", {"all": True})])
        return self.inner.reply(messages, tools, tool_choice)
