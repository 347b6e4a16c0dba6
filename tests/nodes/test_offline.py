"""The offline model driven through LangChain's own APIs, and the role messages it reads."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from orchestra.nodes import OfflineChatModel
from orchestra.nodes.prompt_reading import sections
from orchestra.nodes.prompts import (
    ORCHESTRATOR_PROMPT,
    SPECIALIST_PROMPT,
    SYNTHESIZER_PROMPT,
    orchestrator_message,
    result_block,
    specialist_message,
    specialist_system,
    synthesizer_message,
)
from orchestra.nodes.toolkit import calculate, find_text, list_files, search_notes
from orchestra.state import (
    DependencyResult,
    Plan,
    SpecialistOutput,
    SpecialistSpec,
    SubtaskRecord,
    Synthesis,
    WorkerResult,
    plan_model,
)

ROSTER = [
    SpecialistSpec(
        name="researcher",
        description="Finds facts in notes about databases and checkpoints; compares options.",
    ),
    SpecialistSpec(
        name="analyst", description="Computes numbers, costs, ratios and estimates with arithmetic."
    ),
    SpecialistSpec(name="writer", description="Writes and drafts a short report or summary."),
]
NAMES = tuple(s.name for s in ROSTER)


def orchestrator_messages(
    task: str, *, max_subtasks: int = 8, outcomes: list[str] | None = None
) -> list[BaseMessage]:
    text = orchestrator_message(
        task,
        ROSTER,
        round_no=2 if outcomes else 1,
        max_rounds=3,
        max_subtasks=max_subtasks,
        outcomes=outcomes or [],
    )
    return [SystemMessage(ORCHESTRATOR_PROMPT), HumanMessage(text)]


def plan_for(task: str, **kwargs: Any) -> Plan:
    structured = OfflineChatModel().with_structured_output(plan_model(NAMES), include_raw=True)
    reply = structured.invoke(orchestrator_messages(task, **kwargs))
    assert reply["parsing_error"] is None
    plan = reply["parsed"]
    assert isinstance(plan, Plan)
    return plan


def shape(plan: Plan) -> list[tuple[str, str, list[str]]]:
    return [(s.id, s.specialist, s.depends_on) for s in plan.subtasks]


# --- orchestrator ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "specialist"),
    [
        ("Find facts about SQLite checkpoints.", "researcher"),
        ("Estimate the costs of 40 model calls", "analyst"),
        ("Draft a short report on tracing", "writer"),
    ],
)
def test_a_simple_task_is_one_subtask_for_the_best_match(task: str, specialist: str) -> None:
    plan = plan_for(task)

    assert shape(plan) == [("s1", specialist, [])]
    assert plan.subtasks[0].instruction == task
    assert "one step" in plan.rationale


def test_a_path_in_the_task_is_carried_into_the_instruction() -> None:
    plan = plan_for("Count the lines in ./nodes, then write a short report")

    assert [s.instruction for s in plan.subtasks] == [
        "Count the lines in ./nodes",
        "write a short report (in ./nodes)",
    ]


def test_compare_gives_one_independent_subtask_per_item() -> None:
    plan = plan_for("Compare SQLite, PostgreSQL and Redis")

    assert shape(plan) == [
        ("s1", "researcher", []),
        ("s2", "researcher", []),
        ("s3", "researcher", []),
    ]
    for sub, item in zip(plan.subtasks, ["SQLite", "PostgreSQL", "Redis"], strict=True):
        assert sub.instruction.startswith(f"Find the facts about {item}.")


@pytest.mark.parametrize(
    "task",
    [
        "Find facts about SQLite. Then write a short report.",
        "Find facts about SQLite, then write a short report",
        "Find facts about SQLite; finally write a short report",
    ],
)
def test_then_makes_a_step_depend_on_the_ones_before(task: str) -> None:
    plan = plan_for(task)

    assert shape(plan) == [("s1", "researcher", []), ("s2", "writer", ["s1"])]
    assert plan.subtasks[1].instruction.startswith("write a short report")


def test_lines_of_a_task_are_separate_subtasks() -> None:
    plan = plan_for("- Find facts about PostgreSQL\n- Estimate the costs of 3 servers")

    assert shape(plan) == [("s1", "researcher", []), ("s2", "analyst", [])]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_plans_respect_max_subtasks(limit: int) -> None:
    plan = plan_for("Compare SQLite, PostgreSQL, Redis, MySQL and DuckDB", max_subtasks=limit)

    assert [s.id for s in plan.subtasks] == [f"s{i}" for i in range(1, limit + 1)]


def test_shown_results_the_orchestrator_is_done() -> None:
    outcome = "### s1 (researcher): accepted\ninstruction: Find facts\nsummary: Found them."

    plan = plan_for("Find facts about SQLite.", outcomes=[outcome])

    assert plan.subtasks == []
    assert plan.rationale


# --- specialist ----------------------------------------------------------------------------


def specialist_messages(
    instruction: str,
    output: str = "SpecialistOutput",
    *,
    dependencies: dict[str, DependencyResult] | None = None,
) -> list[BaseMessage]:
    spec = SpecialistSpec(name="analyst", description="Computes numbers.")
    record = SubtaskRecord(
        id="s1", specialist="analyst", instruction=instruction, depends_on=[], round=1
    )
    return [
        SystemMessage(specialist_system(spec, output)),
        HumanMessage(specialist_message(record, dependencies or {}, None)),
    ]


def answered(
    messages: list[BaseMessage], reply: AIMessage, results: list[str]
) -> list[BaseMessage]:
    tool_messages = [
        ToolMessage(text, tool_call_id=call["id"])
        for call, text in zip(reply.tool_calls, results, strict=True)
    ]
    return [*messages, reply, *tool_messages]


class Inner(BaseModel):
    label: str
    score: float


class Finding(BaseModel):
    title: str
    count: int
    confirmed: bool
    tags: list[str]
    inner: Inner
    speed: Literal["fast", "slow"]
    others: list[Inner] = Field(description="More of them.")


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        ("Estimate the bill for 12 workers times 30 calls at 0.02 dollars each", "= 7.2"),
        ("What is (3 + 4) * 2?", "= 14"),
        ("Take 100 divided by 8 plus 2", "= 14.5"),
    ],
)
def test_specialist_calls_its_tool_with_an_expression(instruction: str, expected: str) -> None:
    messages = specialist_messages(instruction)

    reply = OfflineChatModel().bind_tools([calculate, SpecialistOutput]).invoke(messages)

    assert [call["name"] for call in reply.tool_calls] == ["calculate"]
    assert calculate.invoke(reply.tool_calls[0]["args"]).endswith(expected)


def test_specialist_calls_each_own_tool_once_with_arguments_from_the_instruction() -> None:
    messages = specialist_messages(
        'Find "TODO" markers in ./nodes/data and count 2 + 3 files about SQLite.'
    )
    tools = [list_files, find_text, calculate, search_notes, SpecialistOutput]

    reply = OfflineChatModel().bind_tools(tools).invoke(messages)

    args = {call["name"]: call["args"] for call in reply.tool_calls}
    assert list(args) == ["list_files", "find_text", "calculate", "search_notes"]
    assert args["list_files"] == {"path": "./nodes/data"}
    assert args["find_text"] == {"pattern": "TODO", "path": "./nodes/data"}
    assert args["calculate"] == {"expression": "2 + 3"}
    assert args["search_notes"] == {"query": "TODO"}
    assert len({call["id"] for call in reply.tool_calls}) == 4


def test_a_path_parameter_keeps_its_default_when_the_instruction_has_no_path() -> None:
    reply = (
        OfflineChatModel()
        .bind_tools([list_files, SpecialistOutput])
        .invoke(specialist_messages("List the files here"))
    )

    assert reply.tool_calls[0]["name"] == "list_files"
    assert reply.tool_calls[0]["args"] == {}


def test_after_tool_results_the_specialist_returns_its_output() -> None:
    model = OfflineChatModel().bind_tools([calculate, search_notes, SpecialistOutput])
    messages = specialist_messages("Estimate 12 workers times 30 calls at 0.02 for SQLite")
    first = model.invoke(messages)
    assert [c["name"] for c in first.tool_calls] == ["calculate", "search_notes"]

    second = model.invoke(
        answered(messages, first, ["12 * 30 * 0.02 = 7.2", "SQLite: an embedded database."])
    )

    assert [c["name"] for c in second.tool_calls] == ["SpecialistOutput"]
    output = SpecialistOutput.model_validate(second.tool_calls[0]["args"])
    assert "7.2" in output.summary
    assert output.key_points == ["12 * 30 * 0.02 = 7.2", "SQLite: an embedded database."]


def test_failed_tool_results_are_not_used_as_evidence() -> None:
    model = OfflineChatModel().bind_tools([calculate, SpecialistOutput])
    messages = specialist_messages("Compute 1 / 0")
    first = model.invoke(messages)
    failed = ToolMessage(
        "ZeroDivisionError: division by zero",
        tool_call_id=first.tool_calls[0]["id"],
        status="error",
    )

    second = model.invoke([*messages, first, failed])

    output = SpecialistOutput.model_validate(second.tool_calls[0]["args"])
    assert "ZeroDivision" not in output.summary
    assert "Nothing was found" in output.summary


def test_a_custom_output_type_is_filled_validly() -> None:
    model = OfflineChatModel().bind_tools([calculate, Finding])
    messages = specialist_messages("Estimate 12 workers times 30 calls", output="Finding")
    first = model.invoke(messages)
    assert [c["name"] for c in first.tool_calls] == ["calculate"]

    second = model.invoke(answered(messages, first, ["12 * 30 = 360"]))

    assert [c["name"] for c in second.tool_calls] == ["Finding"]
    finding = Finding.model_validate(second.tool_calls[0]["args"])
    assert finding.count == 12
    assert finding.speed == "fast"
    assert finding.tags == ["12 * 30 = 360"]
    assert finding.inner.label == "12 * 30 = 360"
    assert finding.others


def test_dependency_inputs_are_evidence_for_the_output() -> None:
    deps = {
        "s0": DependencyResult(
            specialist="researcher",
            summary="SQLite stores one file.",
            output={"summary": "SQLite stores one file.", "key_points": []},
        )
    }
    messages = specialist_messages("Summarize the findings", dependencies=deps)

    reply = OfflineChatModel().bind_tools([SpecialistOutput]).invoke(messages)

    output = SpecialistOutput.model_validate(reply.tool_calls[0]["args"])
    assert output.key_points == ["SQLite stores one file."]


@pytest.mark.parametrize("own_tools", [[], [calculate, list_files]])
def test_forced_output_tool_returns_the_output_directly(own_tools: list[Any]) -> None:
    messages = specialist_messages("Estimate 3 times 4", output="Finding")

    reply = (
        OfflineChatModel().bind_tools([*own_tools, Finding], tool_choice="Finding").invoke(messages)
    )

    assert [c["name"] for c in reply.tool_calls] == ["Finding"]
    Finding.model_validate(reply.tool_calls[0]["args"])


def test_with_no_tools_bound_it_answers_in_text() -> None:
    reply = OfflineChatModel().invoke([HumanMessage("hello")])

    assert reply.tool_calls == []
    assert (
        reply.content == "offline model: no tools were bound, so there is nothing to do for: hello"
    )


# --- synthesizer ----------------------------------------------------------------------------


def block(sid: str, who: str, status: str, **extra: Any) -> str:
    record = SubtaskRecord(id=sid, specialist=who, instruction=f"do {sid}", depends_on=[], round=1)
    result = WorkerResult(
        subtask_id=sid,
        specialist=who,
        status=status,  # type: ignore[typeddict-item]
        revision=0,
        output=extra.pop("output", None),
        summary=extra.pop("summary", ""),
        steps=1,
        tool_calls=[],
        **extra,
    )
    return result_block(record, result)


def test_synthesis_cites_the_accepted_and_names_the_rest() -> None:
    accepted = [
        block(
            "s1",
            "researcher",
            "accepted",
            summary="SQLite is embedded.",
            output={"summary": "SQLite is embedded.", "key_points": ["One file."]},
        ),
        block(
            "s3",
            "analyst",
            "accepted",
            summary="It costs 7.2 dollars.",
            output={"summary": "It costs 7.2 dollars.", "key_points": []},
        ),
    ]
    missing = [
        block("s2", "writer", "failed", reason="no valid output"),
        block("s4", "writer", "skipped", reason="dependency s2 failed"),
    ]
    text = synthesizer_message("Compare the options", accepted, missing)

    reply = (
        OfflineChatModel()
        .with_structured_output(Synthesis, include_raw=True)
        .invoke([SystemMessage(SYNTHESIZER_PROMPT), HumanMessage(text)])
    )

    synthesis = reply["parsed"]
    assert isinstance(synthesis, Synthesis)
    assert synthesis.citations == ["s1", "s3"]
    assert "SQLite is embedded. One file. [s1]" in synthesis.answer
    assert "It costs 7.2 dollars. [s3]" in synthesis.answer
    assert "s2 (writer) failed: no valid output" in synthesis.answer
    assert "s4 (writer) skipped: dependency s2 failed" in synthesis.answer
    assert "partial" in synthesis.answer


def test_synthesis_with_everything_accepted_is_complete() -> None:
    accepted = [
        block("a", "researcher", "accepted", summary="Fact.", output={"summary": "Fact."}),
    ]
    text = synthesizer_message("Task", accepted, [])

    synthesis = OfflineChatModel().with_structured_output(Synthesis).invoke([HumanMessage(text)])

    assert isinstance(synthesis, Synthesis)
    assert synthesis.citations == ["a"]
    assert "complete" in synthesis.answer
    assert "Not completed" not in synthesis.answer


def test_synthesis_with_nothing_accepted_cites_nothing() -> None:
    text = synthesizer_message("Task", [], [block("s1", "writer", "failed", reason="boom")])

    synthesis = OfflineChatModel().with_structured_output(Synthesis).invoke([HumanMessage(text)])

    assert isinstance(synthesis, Synthesis)
    assert synthesis.citations == []
    assert synthesis.answer.startswith('No subtask of "Task" succeeded.')
    assert "s1 (writer) failed: boom" in synthesis.answer


# --- model mechanics -------------------------------------------------------------------------


def calls_of(message: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["args"]) for c in message.tool_calls]


def test_replies_are_deterministic_and_fresh() -> None:
    model = OfflineChatModel()
    bound = model.bind_tools([calculate, SpecialistOutput])
    messages = specialist_messages("Estimate 12 workers times 30 calls")

    first = bound.invoke(messages)
    second = bound.invoke(messages)

    assert calls_of(first) == calls_of(second)
    assert first.content == second.content
    assert first is not second
    assert first.id != second.id
    assert first.usage_metadata is not None
    assert first.usage_metadata == second.usage_metadata
    usage = first.usage_metadata
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert first.response_metadata["model_name"] == "orchestra-offline"
    assert model.call_count == 2


def test_plans_are_deterministic() -> None:
    first, second = plan_for("Compare A, B and C"), plan_for("Compare A, B and C")
    assert first.model_dump() == second.model_dump()
    assert len(first.subtasks) == 3


def test_latency_under_ainvoke_does_not_block_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) blocked a thread")

    monkeypatch.setattr("orchestra.nodes.function_model.time.sleep", no_sleep)
    model = OfflineChatModel(latency_ms=50)

    reply = asyncio.run(model.ainvoke([HumanMessage("hello")]))

    assert isinstance(reply, AIMessage)
    assert "hello" in reply.text
    with pytest.raises(AssertionError, match=r"time\.sleep\(0\.05\)"):
        model.invoke([HumanMessage("hello")])


def test_from_env_reads_the_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OfflineChatModel.from_env().latency_ms == 0
    monkeypatch.setenv("ORCHESTRA_OFFLINE_LATENCY_MS", "25")
    assert OfflineChatModel.from_env().latency_ms == 25
    monkeypatch.setenv("ORCHESTRA_OFFLINE_LATENCY_MS", "")
    assert OfflineChatModel.from_env().latency_ms == 0


# --- message builders ----------------------------------------------------------------------


def test_sections_reads_the_blocks_back() -> None:
    text = "preamble\n## Task\nDo it.\nTwo lines.\n\n## Limits\nround: 1 of 2\n### not a section\n"

    assert sections(text) == {
        "Task": "Do it.\nTwo lines.",
        "Limits": "round: 1 of 2\n### not a section",
    }
    assert sections("no sections here") == {}


def test_orchestrator_message() -> None:
    first = orchestrator_message(
        "Do X", ROSTER, round_no=1, max_rounds=3, max_subtasks=4, outcomes=[]
    )
    later = orchestrator_message(
        "Do X", ROSTER, round_no=2, max_rounds=3, max_subtasks=4, outcomes=["### s1", "### s2"]
    )

    blocks = sections(first)
    assert list(blocks) == ["Task", "Specialists", "Limits"]
    assert blocks["Task"] == "Do X"
    assert blocks["Specialists"].splitlines() == [f"- {s.name}: {s.description}" for s in ROSTER]
    assert blocks["Limits"] == "round: 1 of 3\nmax_subtasks: 4"
    assert sections(later)["Results"] == "### s1\n\n### s2"
    assert "round: 2 of 3" in later


def test_specialist_system_and_message() -> None:
    spec = SpecialistSpec(name="analyst", description="  Computes\n numbers. ")
    custom = SpecialistSpec(name="poet", description="Rhymes.", prompt="Write in verse.")
    record = SubtaskRecord(
        id="s2", specialist="analyst", instruction="Add it up.", depends_on=["s1"], round=1
    )
    deps = {
        "s1": DependencyResult(specialist="researcher", summary="Found 3.", output={"n": 3}),
    }

    system = specialist_system(spec, "Finding")
    plain = sections(specialist_message(record, {}, None))
    full = sections(specialist_message(record, deps, "too short"))

    assert system.startswith(SPECIALIST_PROMPT)
    assert "You are the `analyst` specialist: Computes\n numbers." in system
    assert system.endswith("call `Finding` with it. That ends your turn.")
    assert specialist_system(custom, "X").startswith("Write in verse.")
    assert SPECIALIST_PROMPT not in specialist_system(custom, "X")
    assert plain == {"Subtask": "id: s2", "Instruction": "Add it up."}
    assert full["Inputs"] == '### s1 (researcher)\nFound 3.\noutput: {"n": 3}'
    assert full["Feedback"] == "Your previous result was rejected: too short"


def test_a_result_is_shown_with_its_summary_once() -> None:
    both = block(
        "s1", "researcher", "accepted", summary="Found 3.", output={"summary": "Found 3.", "n": 3}
    )
    only = block("s2", "researcher", "accepted", summary="Found 4.", output={"summary": "Found 4."})
    record = SubtaskRecord(
        id="s3", specialist="analyst", instruction="Add.", depends_on=["s1"], round=1
    )
    deps = {
        "s1": DependencyResult(
            specialist="researcher", summary="Found 3.", output={"summary": "Found 3."}
        )
    }

    assert both.endswith('summary: Found 3.\noutput: {"n": 3}')
    assert only.endswith("summary: Found 4.")
    assert (
        sections(specialist_message(record, deps, None))["Inputs"]
        == "### s1 (researcher)\nFound 3."
    )


def test_synthesizer_message() -> None:
    empty = sections(synthesizer_message("T", [], []))
    both = sections(synthesizer_message("T", ["### a", "### b"], ["### c"]))

    assert empty == {"Task": "T", "Results": "(none)"}
    assert both == {"Task": "T", "Results": "### a\n\n### b", "Not completed": "### c"}


def test_a_full_stop_after_a_path_is_not_part_of_it() -> None:
    from orchestra.nodes.function_model import BoundTool
    from orchestra.nodes.offline import tool_arguments

    tool = BoundTool("list_files", "", {"properties": {"path": {"type": "string", "default": "."}}})
    assert tool_arguments(tool, "Count the lines in ./nodes.") == {"path": "./nodes"}


def test_synthesis_names_each_missing_subtask_even_without_a_reason() -> None:
    from orchestra.nodes.call_info import CallInfo, ResultInfo
    from orchestra.nodes.offline import offline_synthesis

    call = CallInfo(
        role="synthesizer",
        team="t",
        task="t",
        output_tool="Synthesis",
        missing=(
            ResultInfo("s2", "writer", "failed", "x"),
            ResultInfo("s4", "writer", "skipped", "", reason="dependency s2 failed"),
        ),
    )
    answer = offline_synthesis(call, "Synthesis").tool_calls[0]["args"]["answer"]
    assert "s2 (writer) failed," in answer
    assert "s4 (writer) skipped: dependency s2 failed" in answer


@pytest.mark.parametrize("verb", ["Compute", "Computes", "computed"])
def test_word_forms_match_the_same_specialist(verb: str) -> None:
    from orchestra.nodes.offline import words

    assert words(verb) == words("compute")


def test_filled_arrays_honour_min_items() -> None:
    from orchestra.nodes.offline import _fill

    schema = {"type": "array", "items": {"type": "string"}, "minItems": 4}
    assert len(_fill(schema, {}, "points", ["one fact."], "lead")) == 4
    nested = {
        "type": "array",
        "minItems": 5,
        "items": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    assert len(_fill(nested, {}, "items", [], "lead")) == 5


def test_a_tool_result_that_is_the_output_json_becomes_the_output() -> None:
    from orchestra.nodes.function_model import BoundTool
    from orchestra.nodes.offline import offline_output

    params = SpecialistOutput.model_json_schema()
    ready = '{"summary": "exact", "key_points": ["a", "b"]}'
    messages: list[BaseMessage] = [
        HumanMessage("## Instruction\nanalyse ./repo"),
        AIMessage(content="", tool_calls=[{"name": "scan", "args": {}, "id": "c1"}]),
        ToolMessage(ready, tool_call_id="c1"),
    ]
    out = offline_output(messages, BoundTool("SpecialistOutput", "", params))
    assert out == {"summary": "exact", "key_points": ["a", "b"]}


# --- structure, not prose ------------------------------------------------------------------


def test_the_call_info_wins_over_the_prompt() -> None:
    from orchestra.nodes.call_info import CallInfo, roster_of, with_call

    # The prompt asks for a report; the call's CallInfo (what the role node says) for costs.
    prompt = orchestrator_messages("Draft a short report on tracing")
    info = CallInfo(
        role="orchestrator",
        team="t",
        task="Estimate the costs of 40 model calls",
        output_tool="Plan",
        max_subtasks=8,
        roster=roster_of(ROSTER),
    )
    structured = OfflineChatModel().with_structured_output(plan_model(NAMES), include_raw=True)
    plan = structured.invoke(prompt, with_call(info))["parsed"]
    assert isinstance(plan, Plan)
    assert shape(plan) == [("s1", "analyst", [])]
    assert plan.subtasks[0].instruction == "Estimate the costs of 40 model calls"

    work = CallInfo(
        role="specialist",
        team="t",
        specialist="analyst",
        subtask_id="s1",
        instruction="What is (3 + 4) * 2?",
        output_tool="SpecialistOutput",
    )
    bound = OfflineChatModel().bind_tools([calculate, SpecialistOutput])
    reply = bound.invoke(specialist_messages("Take 100 divided by 8 plus 2"), with_call(work))
    assert reply.tool_calls[0]["args"] == {"expression": "(3 + 4) * 2"}


def test_results_in_the_call_info_end_the_planning_whatever_the_prompt_says() -> None:
    from orchestra.nodes.call_info import CallInfo, ResultInfo, roster_of, with_call

    info = CallInfo(
        role="orchestrator",
        team="t",
        task="Find facts about SQLite.",
        round=2,
        output_tool="Plan",
        roster=roster_of(ROSTER),
        results=(ResultInfo("s1", "researcher", "accepted", "Find facts", summary="Found."),),
    )
    structured = OfflineChatModel().with_structured_output(plan_model(NAMES), include_raw=True)
    plan = structured.invoke(orchestrator_messages("Find facts about SQLite."), with_call(info))
    assert plan["parsed"].subtasks == []
