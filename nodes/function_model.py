"""A chat model whose reply is a function of (messages, bound tools).

It is the base of the offline, scripted and faulty models.
It implements ``bind_tools`` (and so LangChain's default ``with_structured_output``),
reports token usage, can simulate provider latency without blocking a thread under
``ainvoke``, and counts its calls. Each reply is a fresh message: LangChain sets ``.id``
on returned messages in place, so sharing one would leak across parallel branches.

The role nodes pass a ``CallInfo`` with each call (``orchestra.nodes.call_info``); the
model reads it from the run manager's metadata and makes it ``current_call()`` while its
``reply`` runs, so a reply (and any script it asks) knows who is asking without reading
the prompt's wording.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, PrivateAttr

from orchestra.nodes.call_info import CallInfo, call_info_of

_CURRENT: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar(
    "orchestra_current_call", default=None
)


def current_call() -> CallInfo | None:
    """The ``CallInfo`` of the call a local model is answering now (``None`` outside one).

    Set for the duration of ``LocalChatModel.reply``, so scripts and wrapped models called
    from it see the same call; ``None`` when the caller passed none (a direct ``invoke``).
    """
    return _CURRENT.get()


@dataclass(frozen=True)
class BoundTool:
    """A tool as the model sees it: name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


def _bound_tools(raw: Sequence[dict[str, Any]] | None) -> list[BoundTool]:
    tools = []
    for item in raw or ():
        fn = item.get("function", item)
        tools.append(
            BoundTool(
                name=fn["name"],
                description=fn.get("description", ""),
                parameters=fn.get("parameters", {}),
            )
        )
    return tools


def _approx_tokens(text: str) -> int:
    # ~4 characters per token is the usual rule of thumb for English text.
    return max(1, len(text) // 4)


def _message_text(message: BaseMessage) -> str:
    text = str(message.text)
    if isinstance(message, AIMessage):
        text += "".join(str(call["args"]) for call in message.tool_calls)
    return text


def tool_call(name: str, args: dict[str, Any], *, call_id: str | None = None) -> dict[str, Any]:
    """A LangChain tool-call dict."""
    return {
        "name": name,
        "args": args,
        "id": call_id or f"call_{uuid.uuid4().hex[:12]}",
        "type": "tool_call",
    }


class LocalChatModel(BaseChatModel):
    """Base class: subclasses implement ``reply(messages, tools, tool_choice)``."""

    latency_ms: float = 0.0
    """Simulated provider latency per call (``time.sleep`` in sync, ``asyncio.sleep`` in async)."""

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: int = PrivateAttr(default=0)
    _usage: list[int] = PrivateAttr(default_factory=list)

    @property
    def call_count(self) -> int:
        """How many times the model was called."""
        return self._calls

    @property
    def tokens_per_call(self) -> list[int]:
        """Input plus output tokens each call reported, in call order."""
        with self._lock:
            return list(self._usage)

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        """The model's answer to ``messages`` with ``tools`` bound."""
        raise NotImplementedError

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools as OpenAI-format schemas, like a provider model does."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _answer(
        self,
        messages: list[BaseMessage],
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self._calls += 1
        tool_choice = kwargs.get("tool_choice")
        choice = tool_choice if isinstance(tool_choice, str) else None
        info = call_info_of(run_manager.metadata if run_manager else None)
        token = _CURRENT.set(info)
        try:
            message = self.reply(list(messages), _bound_tools(kwargs.get("tools")), choice)
        finally:
            _CURRENT.reset(token)
        out = message.model_copy(deep=True)
        prompt = sum(_approx_tokens(_message_text(m)) for m in messages)
        completion = _approx_tokens(_message_text(out))
        out.usage_metadata = {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        }
        with self._lock:
            self._usage.append(prompt + completion)
        out.response_metadata = {**out.response_metadata, "model_name": self._llm_type}
        return ChatResult(generations=[ChatGeneration(message=out)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        return self._answer(messages, run_manager, **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        return self._answer(messages, run_manager, **kwargs)


def structured_reply(output: BaseModel, *, name: str | None = None) -> AIMessage:
    """An AI message that calls the structured-output tool ``name`` with ``output``'s fields."""
    return AIMessage(
        content="",
        tool_calls=[tool_call(name or type(output).__name__, output.model_dump(mode="json"))],
    )
