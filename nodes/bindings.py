"""A specialist's model with its tools bound, derived once per chat model.

Three ways to ask a specialist's model, each made once per chat model (``PerModel``):
``every`` (its tools and its output tool, the model chooses), ``finish`` (the output tool
only, forced by name) and ``asked`` (the output through structured output, for a server
that ignores a forced tool call, as Ollama does).

``every`` sends ``tool_choice`` as the role's settings say (``tool_choice: auto``, the
default, sends none; ``required`` sends ``"required"``). A server that refuses ``auto`` with
a 400 (vLLM started without ``--enable-auto-tool-choice``) gets the same request once
more with ``"required"``, and the model is noted (``orchestra.nodes.model_quirks``) so that
later steps send ``"required"`` at once. That is sound for a specialist: its output is a
tool too, so "call a tool" still lets it finish. vLLM takes ``"required"`` and named
choices without the flag (guided decoding; docs.vllm.ai, features/tool_calling).
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from orchestra.nodes.chat_models import PerModel, call_settings
from orchestra.nodes.model_quirks import quirks_of, refuses_auto_tool_choice
from orchestra.nodes.reply_reading import StructuredReply
from orchestra.nodes.resolve import ResolvedSpecialist
from orchestra.nodes.structured import StructuredModel, chat_completions


class Bindings:
    """A specialist's model with its tools bound: every tool, or only the output (forced).

    The tools' JSON schemas are derived once, and the bound runnables once per chat
    model: done on every call, that was most of a 1000-worker run's CPU.
    """

    def __init__(self, worker: ResolvedSpecialist) -> None:
        name, output = worker.output.__name__, worker.output
        finish = [convert_to_openai_tool(output)]
        every = [*(convert_to_openai_tool(t) for t in worker.tools.values()), *finish]
        self.every = PerModel(lambda chat: ToolSteps(chat, every))
        self.finish = PerModel(lambda chat: chat.bind_tools(finish, tool_choice=name))
        self.asked = PerModel(lambda chat: OutputAsked(chat, output))


class ToolSteps(Runnable[Any, Any]):
    """``chat`` with ``tools`` bound, sending ``tool_choice`` the way its server takes it."""

    def __init__(self, chat: BaseChatModel, tools: list[dict[str, Any]]) -> None:
        self.chat = chat
        self.auto = chat.bind_tools(tools)
        # "any" is LangChain's portable spelling: OpenAI's client sends it as "required".
        self.required = chat.bind_tools(tools, tool_choice="any")

    def _chosen(self) -> Runnable[Any, Any]:
        wanted = call_settings(self.chat).tool_choice == "required"
        refused = quirks_of(self.chat).refuses_auto_tool_choice
        return self.required if wanted or refused else self.auto

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The reply; a refused ``auto`` is sent again as ``required`` (once, then always)."""
        chosen = self._chosen()
        try:
            return chosen.invoke(input, config, **kwargs)
        except Exception as exc:
            if chosen is self.required or not refuses_auto_tool_choice(exc):
                raise
        quirks_of(self.chat).refuses_auto_tool_choice = True
        return self.required.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """``invoke`` without blocking a thread."""
        chosen = self._chosen()
        try:
            return await chosen.ainvoke(input, config, **kwargs)
        except Exception as exc:
            if chosen is self.required or not refuses_auto_tool_choice(exc):
                raise
        quirks_of(self.chat).refuses_auto_tool_choice = True
        return await self.required.ainvoke(input, config, **kwargs)


class OutputAsked(Runnable[Any, AIMessage]):
    """``chat`` asked for ``schema`` through structured output, answering a text message.

    For a server that ignores a forced tool call (Ollama): ``json_schema`` (Ollama's
    ``format``), not strict (a user's output type may lie outside OpenAI's strict
    subset; the reply is validated by the loop), unless the role's settings ask for
    ``json_mode``. The reply is a plain message whose text is the output's JSON (or the
    model's text, with ``response_metadata["parsing_error"]``), so the conversation
    holds no tool call to answer and a durable step stores plain data.
    """

    def __init__(self, chat: BaseChatModel, schema: type[BaseModel]) -> None:
        self.chat = chat  # where the retry layer reads the role's timeout (``chat_in``)
        self.structured = StructuredModel(chat, schema, strict=False)
        if self.structured.method == "function_calling":  # the method that was ignored
            self.structured.method = "json_schema"

    @property
    def another_way(self) -> bool:
        """Whether this asks otherwise than by a forced tool call (the way just ignored).

        A client with no structured output but tool calling (a local model) has none.
        """
        chat = self.chat
        own = type(chat).with_structured_output is not BaseChatModel.with_structured_output
        if not (own or chat_completions(chat)):
            return False  # LangChain's default structured output is a forced tool call
        self.structured.bound(self.structured.method)  # binding finds what the client has
        return self.structured.method != "function_calling"

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:
        """The output's JSON as a message (never raises on a bad reply)."""
        return as_message(self.structured.invoke(input, config, **kwargs))

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """``invoke`` without blocking a thread."""
        return as_message(await self.structured.ainvoke(input, config, **kwargs))


def as_message(reply: StructuredReply) -> AIMessage:
    """A structured reply as a text message: the parsed object's JSON, else the text.

    Usage and metadata are the model message's, so the call is metered as it was billed.
    """
    raw, parsed = reply["raw"], reply["parsed"]
    text = json.dumps(parsed.model_dump(mode="json"), ensure_ascii=False) if parsed else ""
    metadata = dict(raw.response_metadata) if raw is not None else {}
    if parsed is None:
        text = raw.text if raw is not None else ""
        metadata["parsing_error"] = reply["parsing_error"] or "no reply"
    usage = raw.usage_metadata if isinstance(raw, AIMessage) else None
    return AIMessage(
        text,
        id=raw.id if raw is not None else None,
        response_metadata=metadata,
        usage_metadata=usage,
    )
