"""Structured output that works on every server and never raises on a bad reply.

``StructuredModel(chat, schema)`` stands where ``chat.with_structured_output(schema,
include_raw=True)`` stood, and answers in its shape (``orchestra.nodes.reply_reading``).
LangChain's version raises inside the call on a truncated, filtered, refused or
unparsable reply, so ``include_raw`` never gets to report it (langchain-ai/langchain#29700,
#32977); here every bad reply comes back with ``parsing_error`` set, for the role's
repair loop. Errors of the call itself — rate limits, timeouts, 5xx (the retry layer's),
401/404 (fatal) — still raise.

The method comes from the role's settings (``call_settings(chat).structured_output``);
``auto`` is strict ``json_schema`` on OpenAI's chat completions, else tool calling. On
OpenAI, ``response_format`` is sent in the request body as it is but not through the
SDK's ``parse()``, which is what raises (``LengthFinishReasonError``) and drops the reply.
A server that ignores ``response_format`` (Anthropic's OpenAI-compatible endpoint) answers
in prose: the reply says ``ask_again``, and the other method (tool calling) is tried;
the model keeps it if it brought JSON. A server that ignores ``tool_choice`` (Ollama) is
tried the other way round, and a model that answers in prose either way (a refusal)
keeps its first method and goes to the role's correction turn. ``asking`` makes the
second step. Each step is one model call, metered as one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, cast

from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.errors import GraphBubbleUp
from pydantic import BaseModel, ValidationError

from orchestra.nodes.chat_models import call_settings
from orchestra.nodes.model_call import completion_message
from orchestra.nodes.prompts import json_reply_instructions, reply_not_accepted
from orchestra.nodes.reply_reading import StructuredReply, parse_text, read_reply, reply_of
from orchestra.nodes.retry import is_transient, status_of
from orchestra.nodes.steps import AskModel, Attempt, ModelStep

Method = Literal["json_schema", "function_calling", "json_mode"]
METHODS: tuple[Method, ...] = ("json_schema", "function_calling", "json_mode")


def chat_completions(chat: BaseChatModel) -> bool:
    """Whether ``chat`` is langchain-openai's client on the chat-completions API."""
    cls = type(chat)
    openai = cls.__module__.startswith("langchain_openai") and any(
        c.__name__ == "BaseChatOpenAI" for c in cls.__mro__
    )
    return openai and not getattr(chat, "use_responses_api", None)


def chosen_method(chat: BaseChatModel) -> Method:
    """The structured-output method the role's settings ask for (``auto`` resolved).

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> chosen_method(OfflineChatModel())
        'function_calling'
    """
    wanted = call_settings(chat).structured_output
    for method in METHODS:
        if wanted == method:
            return method
    return "json_schema" if chat_completions(chat) else "function_calling"


def _strict_format(schema: type[BaseModel]) -> dict[str, Any]:
    """OpenAI's strict ``json_schema`` response format for ``schema``."""
    from openai import pydantic_function_tool  # present with langchain-openai

    function = pydantic_function_tool(schema)["function"]
    return {
        "type": "json_schema",
        "json_schema": {"name": function["name"], "schema": function["parameters"], "strict": True},
    }


def _loose_format(schema: type[BaseModel]) -> dict[str, Any]:
    """A ``json_schema`` response format without ``strict``: the tool call's own schema."""
    function = convert_to_openai_tool(schema)["function"]
    return {
        "type": "json_schema",
        "json_schema": {"name": function["name"], "schema": function["parameters"]},
    }


class StructuredModel(Runnable[Any, StructuredReply]):
    """``chat`` answering with a ``schema`` object, or with why it could not be read.

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> from orchestra.state import SpecialistOutput
        >>> model = StructuredModel(OfflineChatModel(), SpecialistOutput)
        >>> reply = model.invoke([HumanMessage("Summarize: SQLite is a file.")])
        >>> reply["parsing_error"] is None, type(reply["parsed"]).__name__
        (True, 'SpecialistOutput')
    """

    def __init__(
        self, chat: BaseChatModel, schema: type[BaseModel], *, strict: bool = True
    ) -> None:
        self.chat, self.schema = chat, schema
        self.strict = strict
        """Whether ``json_schema`` on OpenAI's API is strict (off: any schema is taken,
        the reply is only checked here; for user-defined types outside the strict subset)."""
        self.method: Method = chosen_method(chat)
        """The method of the next call; switched for good when a server ignores one."""
        self._trying: Method | None = None
        """The other method, while a re-ask tries it; kept only if it gets JSON."""
        self._settled = False
        """Both methods were tried: prose is the model's own doing, not a server's quirk."""
        self._bound: dict[Method, Runnable[Any, Any]] = {}

    def bound(self, method: Method) -> Runnable[Any, Any]:
        """The chat model bound to ask for ``schema`` by ``method`` (made once)."""
        if method not in self._bound:
            self._bound[method] = self._bind(method)
        return self._bound[method]

    def _bind(self, method: Method) -> Runnable[Any, Any]:
        chat, name = self.chat, self.schema.__name__
        openai = chat_completions(chat)
        if method == "function_calling":
            extra = {"parallel_tool_calls": False} if openai else {}
            return chat.bind_tools([self.schema], tool_choice=name, **extra)
        if openai:
            # In the body, not as ``response_format=``: that routes through the SDK's parse().
            wanted = None
            if method == "json_schema":
                wanted = _strict_format(self.schema) if self.strict else _loose_format(self.schema)
            body = {**(getattr(chat, "extra_body", None) or {})}
            body["response_format"] = wanted or {"type": "json_object"}
            return chat.bind(extra_body=body)
        try:
            return chat.with_structured_output(self.schema, method=method, include_raw=True)
        except (NotImplementedError, ValueError, TypeError):
            self.method = "function_calling"  # this client has no such method
            return self.bound("function_calling")

    def _messages(self, given: Any, method: Method) -> Any:
        """JSON mode needs the schema in the prompt (OpenAI refuses it without "JSON")."""
        if method != "json_mode" or not isinstance(given, list):
            return given
        schema = json.dumps(self.schema.model_json_schema(), ensure_ascii=False)
        note = json_reply_instructions(self.schema.__name__, schema)
        if given and isinstance(given[0], SystemMessage):
            return [SystemMessage(f"{given[0].text}\n\n{note}"), *given[1:]]
        return [SystemMessage(note), *given]

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> StructuredReply:
        """Ask once; a bad reply is returned with ``parsing_error``, never raised."""
        bound = self.bound(self.method)
        method = self.method  # after binding: a client without the method falls back
        try:
            answer = bound.invoke(self._messages(input, method), config, **kwargs)
        except Exception as exc:
            return self._failed(exc, method)
        return self._read(answer, method)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> StructuredReply:
        """``invoke`` without blocking a thread."""
        bound = self.bound(self.method)
        method = self.method  # after binding: a client without the method falls back
        try:
            answer = await bound.ainvoke(self._messages(input, method), config, **kwargs)
        except Exception as exc:
            return self._failed(exc, method)
        return self._read(answer, method)

    def _read(self, answer: Any, method: Method) -> StructuredReply:
        if isinstance(answer, dict):  # a provider's own with_structured_output(include_raw)
            raw, parsed = answer.get("raw"), answer.get("parsed")
            if isinstance(parsed, self.schema) and isinstance(raw, BaseMessage):
                return reply_of(raw, parsed)
            if not isinstance(raw, BaseMessage):
                return reply_of(None, error=str(answer.get("parsing_error")), problem="bad_json")
            answer = raw
        reply = read_reply(answer, self.schema)
        if self._trying == method:
            self._trying, self._settled = None, True
            if reply["problem"] == "no_json":
                self.method = _other(method)  # no better either way: keep the first method
        elif reply["problem"] == "no_json" and not self._settled and self._has_other(method):
            # Prose under one method may be a server ignoring it (Anthropic ignores
            # response_format, Ollama tool_choice) or a model refusing: the other method
            # tells which, and stays only if it gets JSON.
            self.method = self._trying = _other(method)
            reply["ask_again"] = True
        return reply

    def _has_other(self, method: Method) -> bool:
        """Whether another method than ``method`` is worth a re-ask.

        A format goes as ``response_format`` only to OpenAI-style servers; elsewhere a
        forced tool call is the surest method, so there is nothing to fall back to.
        """
        return method != "function_calling" or chat_completions(self.chat)

    def _failed(self, exc: Exception, method: Method) -> StructuredReply:
        """A bad reply raised inside the client, as a reply; any other error raised again."""
        if isinstance(exc, GraphBubbleUp) or is_transient(exc):
            raise exc
        kind = type(exc).__name__
        if kind in ("LengthFinishReasonError", "ContentFilterFinishReasonError"):
            return read_reply(_from_completion(getattr(exc, "completion", None), kind), self.schema)
        if isinstance(exc, ModelRefusalError):
            raw = getattr(exc, "raw_message", None)
            return reply_of(raw if isinstance(raw, BaseMessage) else None, None,
                            f"the model refused: {exc}", "refused")  # fmt: skip
        if isinstance(exc, OutputParserException):
            parsed, error, problem = parse_text(str(exc.llm_output or ""), self.schema)
            raw = AIMessage(str(exc.llm_output or ""))
            return reply_of(raw, parsed) if parsed else reply_of(raw, None, error, problem)
        if isinstance(exc, ValidationError | json.JSONDecodeError):
            return reply_of(None, error=f"the reply could not be read: {exc}", problem="schema")
        refused_format = status_of(exc) == 400 and "response_format" in str(exc)
        if refused_format and method != "function_calling":
            self.method = "function_calling"  # the server does not take response_format
            reply = reply_of(None, None, f"the server refused response_format: {exc}", "no_json")
            reply["ask_again"] = True
            return reply
        raise exc


def _other(method: Method) -> Method:
    """The method to try when ``method`` got prose: tools for a format, a format for tools."""
    return "function_calling" if method != "function_calling" else "json_schema"


def _from_completion(completion: Any, kind: str) -> AIMessage:
    """The message of an OpenAI ``ChatCompletion`` an SDK error carried (usage kept)."""
    reason = "length" if kind.startswith("Length") else "content_filter"
    message = completion_message(completion) or AIMessage("")
    message.response_metadata["finish_reason"] = reason
    return message


def asking(
    model: Runnable[Any, Any], messages: list[BaseMessage], config: RunnableConfig
) -> Attempt[list[ModelStep]]:
    """Steps: one structured ask, made once more when the model ignored its method."""
    step = cast(ModelStep, (yield AskModel(model, messages, config)))
    steps = [step]
    reply = step["reply"]
    if isinstance(reply, dict) and reply.get("ask_again"):
        steps.append(cast(ModelStep, (yield AskModel(model, messages, config))))
    return steps


def correction(reply: Any, request: str) -> list[BaseMessage]:
    """A correction turn: the reply being corrected, as the model gave it, then ``request``.

    A reply with tool calls is repeated with them, each answered (a provider refuses an
    unanswered call), unreadable ones with ``{}`` (``readable_calls``); a reply in text is
    repeated as text; no reply, only the request.
    """
    raw = reply.get("raw") if isinstance(reply, dict) else None
    if not isinstance(raw, AIMessage):
        return [HumanMessage(request)]
    calls = [c | {"id": c["id"] or f"call_{i}"} for i, c in enumerate(raw.tool_calls)]
    broken = readable_calls(raw.invalid_tool_calls)
    if not calls and not broken:
        return [AIMessage(raw.text or "(an empty reply)"), HumanMessage(request)]
    again = AIMessage(raw.text, tool_calls=[*calls, *broken])
    answers = [
        ToolMessage(reply_not_accepted(), tool_call_id=str(c["id"]), status="error")
        for c in [*calls, *broken]
    ]
    return [again, *answers, HumanMessage(request)]


def readable_calls(broken: Sequence[InvalidToolCall]) -> list[ToolCall]:
    """Tool calls whose arguments were not JSON, as calls with ``{}`` for the history.

    A conversation repeats a reply's calls; one whose arguments are not JSON is refused by
    Ollama (400 "invalid tool call arguments"), so it is kept with empty arguments and its
    answer quotes what was unreadable. Each keeps its id (a made-up one if it had none).

    Example:
        >>> readable_calls([{"type": "invalid_tool_call", "name": "search",
        ...                  "args": '{"q": "sql', "id": None, "error": None}])
        [{'name': 'search', 'args': {}, 'id': 'call_invalid_0', 'type': 'tool_call'}]
    """
    return [
        tool_call(name=bad["name"] or "unknown", args={}, id=bad["id"] or f"call_invalid_{i}")
        for i, bad in enumerate(broken)
    ]
