"""Structured output that never raises on a bad reply (``orchestra.nodes.structured``).

Each way a structured reply goes wrong — cut off, refused, filtered, prose, fenced or
wrapped JSON, the wrong schema, unreadable tool arguments — comes back as
``parsing_error`` with the message kept (its usage too); only the call's own errors
(transient, permanent) raise. Over the wire, ChatOpenAI's own ``with_structured_output``
raises on the same replies (langchain-ai/langchain#29700), which is why this exists.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from misbehaving_server import kind, misbehaving_server, prose, truncate
from openai.types.chat import ChatCompletion
from pydantic import SecretStr

from orchestra.nodes.function_model import BoundTool, LocalChatModel, tool_call
from orchestra.nodes.reply_reading import read_reply
from orchestra.nodes.retry import TransientModelError
from orchestra.nodes.steps import drive, model_directly, tool_directly
from orchestra.nodes.structured import StructuredModel, asking, chosen_method, correction
from orchestra.state import Plan, Synthesis

GOOD = '{"answer": "SQLite is a file.", "citations": ["s1"]}'


def test_json_in_fences_amid_prose_or_as_a_tool_call_written_out_is_accepted() -> None:
    for text in (
        GOOD,
        f"Here you go:\n```json\n{GOOD}\n```\nAnything else?",
        f"My answer is {GOOD} as requested.",
        '{"name": "Synthesis", "arguments": ' + GOOD + "}",
    ):
        reply = read_reply(AIMessage(text), Synthesis)
        assert reply["parsing_error"] is None, text
        assert isinstance(reply["parsed"], Synthesis) and reply["parsed"].citations == ["s1"]


def test_prose_invalid_json_and_the_wrong_schema_each_say_what_was_wrong() -> None:
    said = read_reply(AIMessage("I would compare them carefully."), Synthesis)
    assert said["problem"] == "no_json" and "no JSON object" in str(said["parsing_error"])
    broken = read_reply(AIMessage('{"answer": "x", "citations": [}'), Synthesis)
    assert broken["problem"] == "bad_json" and broken["parsed"] is None
    wrong = read_reply(AIMessage('{"answer": "x"}'), Synthesis)
    assert wrong["problem"] == "schema" and "citations" in str(wrong["parsing_error"])
    called = AIMessage("", tool_calls=[tool_call("Synthesis", {"answer": 3})])
    assert "Synthesis schema" in str(read_reply(called, Synthesis)["parsing_error"])
    cut = AIMessage(
        "",
        invalid_tool_calls=[
            {"name": "Synthesis", "args": '{"ans', "id": "c1", "error": "bad", "type": "x"}
        ],
    )
    assert read_reply(cut, Synthesis)["problem"] == "tool_args"


def test_a_truncated_or_refused_reply_is_never_accepted_whatever_it_holds() -> None:
    cut = AIMessage(GOOD, response_metadata={"finish_reason": "length"})
    reply = read_reply(cut, Synthesis)
    assert reply["parsed"] is None and reply["problem"] == "truncated"
    assert "cut off at the output-token limit" in str(reply["parsing_error"])
    anthropic_cut = AIMessage(GOOD, response_metadata={"stop_reason": "max_tokens"})
    assert read_reply(anthropic_cut, Synthesis)["problem"] == "truncated"
    refused = AIMessage("", additional_kwargs={"refusal": "I can't help with that."})
    assert read_reply(refused, Synthesis)["parsing_error"] == (
        "the model refused: I can't help with that."
    )
    filtered = AIMessage(GOOD, response_metadata={"finish_reason": "content_filter"})
    assert read_reply(filtered, Synthesis)["problem"] == "refused"


class Raising(LocalChatModel):
    """A model whose every call raises ``error``."""

    error: Exception

    @property
    def _llm_type(self) -> str:
        return "raising"

    def reply(
        self, messages: list[BaseMessage], tools: list[BoundTool], tool_choice: str | None
    ) -> AIMessage:
        raise self.error


def test_a_bad_reply_raised_inside_the_client_comes_back_with_its_usage() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-test",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": '{"answer": "SQL'},
                }
            ],
            "usage": {"prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100},
        }
    )
    cut = StructuredModel(
        Raising(error=openai.LengthFinishReasonError(completion=completion)), Synthesis
    )
    reply = cut.invoke([HumanMessage("q")])
    assert reply["problem"] == "truncated" and reply["parsed"] is None
    raw = reply["raw"]
    assert isinstance(raw, AIMessage) and raw.usage_metadata is not None
    assert raw.usage_metadata["output_tokens"] == 10  # billed, so counted

    fenced = OutputParserException("bad", llm_output=f"```json\n{GOOD}\n```")
    parsed = StructuredModel(Raising(error=fenced), Synthesis).invoke([HumanMessage("q")])
    assert isinstance(parsed["parsed"], Synthesis)


@pytest.mark.parametrize(
    "error", [TransientModelError("503"), PermissionError("401 invalid api key")]
)
def test_errors_of_the_call_itself_still_raise(error: Exception) -> None:
    with pytest.raises(type(error)):
        StructuredModel(Raising(error=error), Synthesis).invoke([HumanMessage("q")])


def test_a_correction_turn_repeats_the_reply_and_answers_each_of_its_calls() -> None:
    called = AIMessage("Thinking.", tool_calls=[tool_call("Plan", {"x": 1}, call_id="c1")])
    turn = correction(read_reply(called, Plan), "fix it")
    assert [type(m).__name__ for m in turn] == ["AIMessage", "ToolMessage", "HumanMessage"]
    again, answer = turn[0], turn[1]
    assert isinstance(again, AIMessage) and again.tool_calls[0]["id"] == "c1"
    assert isinstance(answer, ToolMessage) and answer.tool_call_id == "c1"
    assert again.response_metadata == {}  # nothing of the old call is sent back but the reply
    said = correction(read_reply(AIMessage("a plan in words"), Plan), "fix it")
    assert [m.text for m in said] == ["a plan in words", "fix it"]
    assert correction({"raw": None}, "fix it") == [HumanMessage("fix it")]


def chat(base_url: str) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-test", base_url=base_url, api_key=SecretStr("k"), max_retries=0)


def test_over_the_wire_a_truncated_reply_is_caught_where_langchain_raises() -> None:
    def cut_synthesis(request: dict[str, Any], answer: dict[str, Any]) -> None:
        truncate(answer)

    question = [HumanMessage("## Task\nWhat is SQLite?\n## Results\n(none)\n")]
    with misbehaving_server(cut_synthesis) as server:
        model = chat(server.base_url)
        with pytest.raises(openai.LengthFinishReasonError):
            model.with_structured_output(Synthesis, include_raw=True).invoke(question)
        reply = StructuredModel(model, Synthesis).invoke(question)
    assert reply["problem"] == "truncated"
    raw = reply["raw"]
    assert isinstance(raw, AIMessage) and raw.usage_metadata is not None
    assert raw.usage_metadata["total_tokens"] == server.usages[-1]["total_tokens"]  # billed
    assert server.requests[-1]["response_format"]["json_schema"]["strict"] is True


def test_a_server_ignoring_response_format_is_asked_again_through_tools_and_remembered() -> None:
    def ignore_format(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if request.get("response_format"):
            prose(answer)

    question = [HumanMessage("## Task\nWhat is SQLite?\n## Results\n(none)\n")]
    with misbehaving_server(ignore_format) as server:
        model = StructuredModel(chat(server.base_url), Synthesis)
        assert chosen_method(model.chat) == "json_schema"
        steps = drive(asking(model, question, {}), model_directly, tool_directly)
        later = model.invoke(question)
    assert [s["reply"]["ask_again"] for s in steps] == [True, False]
    assert isinstance(steps[-1]["reply"]["parsed"], Synthesis)
    assert isinstance(later["parsed"], Synthesis)
    asked = [kind(r) for r in server.requests]
    assert asked == ["Synthesis", "Synthesis", "Synthesis"]
    assert "response_format" in server.requests[0]
    assert all("response_format" not in r and r["tool_choice"] for r in server.requests[1:])


def test_a_server_ignoring_tool_choice_is_asked_through_response_format_and_kept() -> None:
    def ignore_tool_choice(request: dict[str, Any], answer: dict[str, Any]) -> None:
        if request.get("tool_choice"):  # Ollama: the forced call is not forced
            prose(answer)

    question = [HumanMessage("## Task\nWhat is SQLite?\n## Results\n(none)\n")]
    with misbehaving_server(ignore_tool_choice) as server:
        model = StructuredModel(chat(server.base_url), Synthesis)
        model.method = "function_calling"  # as after a prose reply to response_format
        steps = drive(asking(model, question, {}), model_directly, tool_directly)
        later = model.invoke(question)
    assert isinstance(steps[-1]["reply"]["parsed"], Synthesis)
    assert isinstance(later["parsed"], Synthesis) and model.method == "json_schema"
    assert [("response_format" in r) for r in server.requests] == [False, True, True]


def test_prose_under_both_methods_is_the_model_not_the_server_and_keeps_the_first() -> None:
    def refuse_in_prose(request: dict[str, Any], answer: dict[str, Any]) -> None:
        prose(answer, "I'm sorry, but I can't help with that request.")

    question = [HumanMessage("## Task\nWhat is SQLite?\n## Results\n(none)\n")]
    with misbehaving_server(refuse_in_prose) as server:
        model = StructuredModel(chat(server.base_url), Synthesis)
        steps = drive(asking(model, question, {}), model_directly, tool_directly)
        later = model.invoke(question)
    assert [s["reply"]["problem"] for s in steps] == ["no_json", "no_json"]
    assert model.method == "json_schema" and not later["ask_again"]  # to the correction turn
    assert [("response_format" in r) for r in server.requests] == [True, False, True]


def test_a_server_refusing_response_format_is_asked_again_through_tools() -> None:
    def no_format(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
        if request.get("response_format"):
            message = "'response_format' of type 'json_schema' is not supported with this model"
            return {"message": message, "type": "invalid_request_error", "code": None}
        return None

    question = [HumanMessage("## Task\nWhat is SQLite?\n## Results\n(none)\n")]
    with misbehaving_server(no_format) as server:
        model = StructuredModel(chat(server.base_url), Synthesis)
        with pytest.warns(UserWarning):  # langchain-openai warns before it raises
            steps = drive(asking(model, question, {}), model_directly, tool_directly)
    assert steps[0]["reply"]["raw"] is None and steps[0]["reply"]["ask_again"]
    assert isinstance(steps[1]["reply"]["parsed"], Synthesis)
    assert model.method == "function_calling"


def test_json_mode_sends_the_schema_in_the_prompt_and_reads_the_reply() -> None:
    def answer_json(request: dict[str, Any], answer: dict[str, Any]) -> None:
        answer["choices"][0]["message"] = {"role": "assistant", "content": GOOD}

    with misbehaving_server(answer_json) as server:
        model = StructuredModel(chat(server.base_url), Synthesis)
        model.method = "json_mode"  # as a role's `structured_output: json_mode` sets it
        reply = model.invoke([HumanMessage("What is SQLite?")])
    assert isinstance(reply["parsed"], Synthesis)
    (request,) = server.requests
    assert request["response_format"] == {"type": "json_object"}
    system = request["messages"][0]
    assert system["role"] == "system" and '"citations"' in system["content"]
    assert "JSON" in system["content"]  # OpenAI refuses json_object mode without the word


@given(st.text(alphabet=st.sampled_from('{}[]":,ab1 \n`json'), max_size=80))
def test_reading_any_text_never_raises(text: str) -> None:
    reply = read_reply(AIMessage(text), Synthesis)
    assert (reply["parsed"] is None) != (reply["parsing_error"] is None)
