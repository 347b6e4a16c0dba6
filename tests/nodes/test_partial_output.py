"""The partial output of a specialist out of budget: filled by the framework from tool results."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from orchestra.nodes.partial_output import partial_output
from orchestra.state import SpecialistOutput


class Advisory(BaseModel):
    title: str
    score: int


class Notes(BaseModel):
    summary: str
    points: list[str]
    score: int = 0


def conversation(*results: str, failed: str | None = None) -> list[BaseMessage]:
    messages: list[BaseMessage] = [HumanMessage("look into CVE-2024-1234")]
    for i, text in enumerate(results):
        messages.append(
            AIMessage(content="", tool_calls=[{"name": "t", "args": {}, "id": f"c{i}"}])
        )
        messages.append(ToolMessage(text, tool_call_id=f"c{i}"))
    if failed is not None:
        messages.append(ToolMessage(failed, tool_call_id="cx", status="error"))
    return messages


def test_text_results_fill_the_text_fields() -> None:
    filled = partial_output(conversation("Fact one. Fact two.", "- Fact three"), SpecialistOutput)
    assert filled == SpecialistOutput(
        summary="Fact one. Fact two. Fact three",
        key_points=["Fact one.", "Fact two.", "Fact three"],
    )


def test_a_number_is_never_guessed_from_text() -> None:
    # The old offline guess turned "CVE-2024-1234" into score -2024; now there is no partial.
    assert partial_output(conversation("Found CVE-2024-1234 in the lock file."), Advisory) is None
    notes = partial_output(conversation("Found CVE-2024-1234 in the lock file."), Notes)
    assert notes is not None and notes.score == 0  # the default, not a number from the text


def test_a_tool_result_that_is_a_valid_output_is_taken_as_it_is() -> None:
    ready = '{"title": "lodash", "score": 7}'
    assert partial_output(conversation("noise.", ready), Advisory) == Advisory(
        title="lodash", score=7
    )


def test_failed_tool_calls_and_no_results_give_nothing() -> None:
    assert partial_output(conversation(failed="Tool 't' raised"), SpecialistOutput) is None
