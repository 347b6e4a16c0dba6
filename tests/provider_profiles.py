"""What four kinds of OpenAI-compatible server accept, refuse and ignore: the server profiles.

Each profile follows its provider's published rules and documented quirks (sources below),
so a test that passes against a profile exercises what the real server would do with the
same request. ``refusal(profile, request)`` is the error a server of that kind answers a
request with (status, headers, body in the server's own shape), or ``None``.

``openai`` (Chat Completions, platform.openai.com/docs/api-reference/chat):
  - a strict ``json_schema`` response format or ``strict`` function tool must keep to the
    Structured Outputs subset (platform.openai.com/docs/guides/structured-outputs,
    "Supported schemas"): every object lists every property in ``required`` and sets
    ``additionalProperties: false``; the root is an object, not ``anyOf``; composition
    (``allOf``, ``oneOf``, ``not``, ``if``/``then``/``else``, ``dependent*``) and the
    object/array keywords ``patternProperties``, ``unevaluatedProperties``,
    ``propertyNames``, ``min/maxProperties``, ``unevaluatedItems``, ``contains``,
    ``min/maxContains``, ``uniqueItems`` are refused. The 400 wording is OpenAI's, e.g.
    "Invalid schema for response_format 'response': In context=('properties',
    'organizations', 'items'), 'required' is required to be supplied and to be an array
    including every key in properties. Missing 'roles'." (vercel/ai#6484), param
    ``response_format``, code null; for a function "Invalid schema for function 'X': ...",
    param ``tools[0].function.parameters``, code ``invalid_function_parameters``
    (567-labs/instructor#1074); "In context=(), 'oneOf' is not permitted." (OpenAI
    community forum, thread 932422).
  - an assistant ``tool_calls`` message must be answered by one ``tool`` message per id
    before anything else, and a ``tool`` message must answer a preceding call.
  - ``stream_options`` without ``stream: true`` is refused ("The 'stream_options'
    parameter is only allowed when 'stream' is enabled."); usage is streamed only when
    ``stream_options.include_usage`` is true, as a last chunk with ``choices: []``.
  - ``response_format: json_object`` needs the word "json" in the messages.
  - reasoning models (``o1``, ``o3``, ``o4``, ``gpt-5`` names) refuse ``max_tokens`` ("Unsupported
    parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens'
    instead.") and a temperature other than 1.
  - structured output may come back as a ``refusal`` on the message (content null).
``ollama`` (docs.ollama.com/api/openai-compatibility; ollama/ollama openai/openai.go):
  its request type has no ``tool_choice``, ``parallel_tool_calls`` or
  ``max_completion_tokens`` field, so they are silently ignored (a forced tool is not
  forced); ``response_format`` ``json_schema`` becomes Ollama's ``format`` (the schema
  constrains the reply, ``strict`` means nothing, nothing is refused); ``stream_options.
  include_usage`` is honoured; usage has only the three counts; no tool-message ordering
  check, but a history tool call whose arguments are not JSON is refused with 400
  "invalid tool call arguments" (``FromCompletionToolCall``); tool calls stream whole.
``vllm`` (docs.vllm.ai features/tool_calling; vllm/entrypoints/openai/protocol.py and
  serving_chat.py): ``tools`` without ``tool_choice`` default to ``"auto"``, and ``"auto"``
  is refused with 400 "\\"auto\\" tool choice requires --enable-auto-tool-choice and
  --tool-call-parser to be set" unless the server was started with those flags
  (``auto_tool_choice=True``); a named ``tool_choice`` works through guided decoding and
  answers with ``finish_reason: "stop"`` (only auto-parsed calls say ``tool_calls``);
  ``stream_options`` without ``stream`` is refused ("Stream options can only be defined
  when `stream=True`."); errors are ``{"error": {"message", "type": "BadRequestError",
  "param", "code": 400}}``.
``anthropic`` (platform.claude.com/docs/en/api/openai-sdk): ``response_format`` is ignored
  (the reply is prose), ``strict`` on tools is ignored, ``n`` must be 1, temperature is
  capped at 1, ``stream_options`` and ``parallel_tool_calls`` are supported; a tool use
  must be followed by its results (the Messages API's rule, in its wording); overloads
  answer 529; errors are ``{"type": "error", "error": {"type", "message"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ProfileName = Literal["openai", "ollama", "vllm", "anthropic"]

# Keywords outside OpenAI's Structured Outputs subset (its "Supported schemas" section).
_NOT_PERMITTED = (
    "allOf", "oneOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas",
    "patternProperties", "unevaluatedProperties", "propertyNames", "minProperties",
    "maxProperties", "unevaluatedItems", "contains", "minContains", "maxContains",
    "uniqueItems",
)  # fmt: skip
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True)
class Profile:
    """How one kind of server treats a chat-completions request (see the module docstring)."""

    name: ProfileName
    auto_tool_choice: bool = False
    """vLLM only: started with ``--enable-auto-tool-choice --tool-call-parser``."""

    @property
    def honours_tool_choice(self) -> bool:
        """Whether a forced ``tool_choice`` is obeyed (Ollama's request type has no such field)."""
        return self.name != "ollama"

    @property
    def honours_response_format(self) -> bool:
        """Whether ``response_format`` shapes the reply (Anthropic's endpoint ignores it)."""
        return self.name != "anthropic"

    @property
    def honours_parallel_tool_calls(self) -> bool:
        """Whether ``parallel_tool_calls: false`` is obeyed (Ollama ignores the field)."""
        return self.name != "ollama"

    @property
    def server_errors(self) -> tuple[int, ...]:
        """The statuses an injected server error rotates through."""
        return (500, 529) if self.name == "anthropic" else (500, 502, 503)


@dataclass(frozen=True)
class Refusal:
    """An error answer: status, body, and headers such as ``Retry-After``."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


def error(
    profile: Profile,
    status: int,
    message: str,
    *,
    kind: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> Refusal:
    """An error answer in the shape ``profile``'s server uses."""
    if profile.name == "anthropic":
        anthropic_type = kind or ("invalid_request_error" if status == 400 else "api_error")
        return Refusal(
            status, {"type": "error", "error": {"type": anthropic_type, "message": message}}
        )
    if profile.name == "vllm":
        vllm_type = kind or ("BadRequestError" if status == 400 else "InternalServerError")
        body = {"message": message, "type": vllm_type, "param": param, "code": status}
        return Refusal(status, {"error": body})
    default = "invalid_request_error" if status == 400 else "server_error"
    if profile.name == "ollama":
        default = "invalid_request_error" if status == 400 else "api_error"
    body = {"message": message, "type": kind or default, "param": param, "code": code}
    return Refusal(status, {"error": body})


def refusal(profile: Profile, request: dict[str, Any]) -> Refusal | None:
    """The error ``profile``'s server answers ``request`` with, or ``None`` if it accepts it."""
    checks = {
        "openai": _openai,
        "ollama": _ollama,
        "vllm": _vllm,
        "anthropic": _anthropic,
    }
    return checks[profile.name](profile, request)


def _openai(profile: Profile, request: dict[str, Any]) -> Refusal | None:
    model = str(request.get("model", ""))
    if model.startswith(_REASONING_PREFIXES):
        if "max_tokens" in request:
            text = (
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
            return error(profile, 400, text, param="max_tokens", code="unsupported_parameter")
        temperature = request.get("temperature")
        if temperature is not None and temperature != 1:
            text = (
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported."
            )
            return error(profile, 400, text, param="temperature", code="unsupported_value")
    if request.get("stream_options") is not None and not request.get("stream"):
        text = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        return error(profile, 400, text, param="stream_options")
    if request.get("tool_choice") is not None and not request.get("tools"):
        text = (
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified."
        )
        return error(profile, 400, text, param="tool_choice")
    if (problem := ordering_problem(request["messages"])) is not None:
        return error(profile, 400, problem, param="messages")
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_object" and "json" not in _all_text(request).lower():
        text = (
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'."
        )
        return error(profile, 400, text, param="messages")
    schema = response_format.get("json_schema") or {}
    if response_format.get("type") == "json_schema" and schema.get("strict"):
        if (problem := strict_schema_problem(schema.get("schema") or {})) is not None:
            text = f"Invalid schema for response_format '{schema.get('name')}': {problem}"
            return error(profile, 400, text, param="response_format")
    for index, tool in enumerate(request.get("tools") or []):
        function = tool.get("function") or {}
        if function.get("strict") and (
            problem := strict_schema_problem(function.get("parameters") or {})
        ):
            text = f"Invalid schema for function '{function.get('name')}': {problem}"
            return error(
                profile, 400, text, param=f"tools[{index}].function.parameters",
                code="invalid_function_parameters",
            )  # fmt: skip
    return None


def _ollama(profile: Profile, request: dict[str, Any]) -> Refusal | None:
    for message in request["messages"]:
        for call in message.get("tool_calls") or []:
            if not _is_json(call.get("function", {}).get("arguments", "")):
                return error(profile, 400, "invalid tool call arguments")
    return None


def _vllm(profile: Profile, request: dict[str, Any]) -> Refusal | None:
    if request.get("stream_options") is not None and not request.get("stream"):
        return error(profile, 400, "Stream options can only be defined when `stream=True`.")
    choice = request.get("tool_choice", "auto" if request.get("tools") else None)
    if choice == "auto" and not profile.auto_tool_choice:
        text = (
            '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
        )
        return error(profile, 400, text)
    return None


def _anthropic(profile: Profile, request: dict[str, Any]) -> Refusal | None:
    if request.get("n", 1) != 1:
        return error(profile, 400, "n: Must be exactly 1")
    if (problem := _tool_use_problem(request["messages"])) is not None:
        return error(profile, 400, problem)
    return None


def ordering_problem(messages: list[dict[str, Any]]) -> str | None:
    """OpenAI's 400 message for a broken tool-call/tool-message sequence, if it is broken."""
    open_ids: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in open_ids:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceeding message with 'tool_calls'. (messages.[{index}])"
                )
            open_ids.remove(message["tool_call_id"])
            continue
        if open_ids:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(open_ids)}"
            )
        if role == "assistant":
            open_ids = [call["id"] for call in message.get("tool_calls") or []]
    return None


def _tool_use_problem(messages: list[dict[str, Any]]) -> str | None:
    """The Messages API's wording for the same rule (system messages are hoisted first)."""
    turns = [m for m in messages if m.get("role") not in ("system", "developer")]
    problem = ordering_problem(turns)
    if problem is None:
        return None
    index = next(
        (i for i, m in enumerate(turns) if m.get("role") == "assistant" and m.get("tool_calls")), 0
    )
    ids = ", ".join(c["id"] for c in turns[index].get("tool_calls") or [])
    return (
        f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
        f"immediately after: {ids}. Each `tool_use` block must have a corresponding "
        "`tool_result` block in the next message."
    )


def strict_schema_problem(schema: dict[str, Any]) -> str | None:
    """Where ``schema`` leaves OpenAI's strict subset, in OpenAI's wording, else ``None``."""
    if "anyOf" in schema and "properties" not in schema:
        return "In context=(), 'anyOf' is not permitted at the root; the root must be an object."
    return _check(schema, ())


def _check(node: Any, context: tuple[str, ...]) -> str | None:
    if isinstance(node, list):
        found = (_check(item, (*context, str(i))) for i, item in enumerate(node))
        return next((f for f in found if f is not None), None)
    if not isinstance(node, dict):
        return None
    if (found := _node_problem(node, context)) is not None:
        return found
    children = [
        (child, (*context, key, name))
        for key in ("properties", "$defs", "definitions")
        for name, child in (node.get(key) or {}).items()
    ] + [(node[key], (*context, key)) for key in ("items", "anyOf") if key in node]
    found = (_check(child, where) for child, where in children)
    return next((f for f in found if f is not None), None)


def _node_problem(node: dict[str, Any], context: tuple[str, ...]) -> str | None:
    """What breaks the strict subset in this schema node itself (not its children)."""
    where = f"In context={context!r}"
    for keyword in _NOT_PERMITTED:
        if keyword in node:
            return f"{where}, '{keyword}' is not permitted."
    if node.get("type") != "object" and "properties" not in node:
        return None
    if node.get("additionalProperties") is not False:
        return f"{where}, 'additionalProperties' is required to be supplied and to be false."
    missing = [p for p in node.get("properties", {}) if p not in node.get("required", [])]
    if missing:
        return (
            f"{where}, 'required' is required to be supplied and to be an array including "
            f"every key in properties. Missing '{missing[0]}'."
        )
    return None


def _all_text(request: dict[str, Any]) -> str:
    parts = []
    for message in request["messages"]:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _is_json(text: str) -> bool:
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True


PROFILES: dict[ProfileName, Profile] = {
    "openai": Profile("openai"),
    "ollama": Profile("ollama"),
    "vllm": Profile("vllm"),
    "anthropic": Profile("anthropic"),
}
"""One profile per kind of server, with the defaults described above (vLLM without flags)."""
