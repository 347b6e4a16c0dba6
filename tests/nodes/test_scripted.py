"""The scripted model: replies from a script, recorded calls, and team_script's per-role answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from orchestra.nodes import (
    CallRecord,
    ScriptedChatModel,
    WorkerCall,
    plan_of,
    team_script,
    tool_call,
)
from orchestra.nodes.call_info import (
    CallInfo,
    ResultInfo,
    input_infos,
    result_info,
    roster_of,
    with_call,
)
from orchestra.nodes.function_model import BoundTool
from orchestra.nodes.prompts import (
    orchestrator_message,
    specialist_message,
    specialist_system,
    synthesizer_message,
)
from orchestra.nodes.toolkit import calculate
from orchestra.state import (
    DependencyResult,
    Plan,
    SpecialistOutput,
    SpecialistSpec,
    Subtask,
    SubtaskRecord,
    Synthesis,
    plan_model,
)

ROSTER = [
    SpecialistSpec(name="researcher", description="Finds facts in notes."),
    SpecialistSpec(name="analyst", description="Computes numbers."),
]
NAMES = tuple(s.name for s in ROSTER)


class Finding(BaseModel):
    title: str
    count: int


Asked = tuple[list[BaseMessage], RunnableConfig]
"""A role's messages, and the config carrying its ``CallInfo``, as the role node sends them."""


def worker_messages(
    specialist: str,
    subtask_id: str,
    instruction: str = "Do the work.",
    *,
    output: str = "SpecialistOutput",
    dependencies: dict[str, DependencyResult] | None = None,
    feedback: str | None = None,
    step: int = 0,
) -> Asked:
    spec = SpecialistSpec(name=specialist, description=f"{specialist} work")
    record = SubtaskRecord(
        id=subtask_id, specialist=specialist, instruction=instruction, depends_on=[], round=1
    )
    info = CallInfo(
        role="specialist",
        team="t",
        specialist=specialist,
        subtask_id=subtask_id,
        step=step,
        instruction=instruction,
        inputs=input_infos(dependencies or {}),
        feedback=feedback,
        output_tool=output,
    )
    messages: list[BaseMessage] = [
        SystemMessage(specialist_system(spec, output)),
        HumanMessage(specialist_message(record, dependencies or {}, feedback)),
    ]
    return messages, with_call(info)


def orchestrator_messages(task: str = "Find facts", round_no: int = 1) -> Asked:
    outcomes = ["### s1 (researcher): accepted"] if round_no > 1 else []
    text = orchestrator_message(
        task, ROSTER, round_no=round_no, max_rounds=5, max_subtasks=8, outcomes=outcomes
    )
    record = SubtaskRecord(id="s1", specialist="researcher", instruction="", depends_on=[], round=1)
    info = CallInfo(
        role="orchestrator",
        team="t",
        task=task,
        round=round_no,
        output_tool="Plan",
        max_rounds=5,
        max_subtasks=8,
        roster=roster_of(ROSTER),
        results=(result_info(record, None),) if round_no > 1 else (),
    )
    return [SystemMessage("plan"), HumanMessage(text)], with_call(info)


def ask_plan(model: ScriptedChatModel, round_no: int = 1, task: str = "Find facts") -> Plan:
    reply = model.with_structured_output(plan_model(NAMES), include_raw=True).invoke(
        *orchestrator_messages(task, round_no)
    )
    assert reply["parsing_error"] is None
    plan = reply["parsed"]
    assert isinstance(plan, Plan)
    return plan


def ask_synthesis(model: ScriptedChatModel, task: str = "Find facts") -> Synthesis:
    text = synthesizer_message(task, ["### s1 (researcher): accepted\nsummary: x"], [])
    info = CallInfo(
        role="synthesizer",
        team="t",
        task=task,
        output_tool="Synthesis",
        results=(ResultInfo("s1", "researcher", "accepted", "", summary="x"),),
    )
    result = model.with_structured_output(Synthesis).invoke([HumanMessage(text)], with_call(info))
    assert isinstance(result, Synthesis)
    return result


def only_call(reply: AIMessage) -> tuple[str, dict[str, Any]]:
    assert len(reply.tool_calls) == 1
    return reply.tool_calls[0]["name"], reply.tool_calls[0]["args"]


def constant(reply: Any) -> ScriptedChatModel:
    return ScriptedChatModel(respond=lambda messages, tools: reply)


# --- replies -------------------------------------------------------------------------------


def test_a_string_reply_is_the_message_text() -> None:
    reply = constant("plain words").invoke([HumanMessage("hi")])

    assert reply.content == "plain words"
    assert reply.tool_calls == []
    assert reply.usage_metadata is not None


def test_an_ai_message_reply_is_returned_as_a_fresh_copy() -> None:
    scripted = AIMessage(content="", tool_calls=[tool_call("calculate", {"expression": "1+1"})])
    model = constant(scripted)

    first = model.bind_tools([calculate]).invoke([HumanMessage("hi")])
    second = model.bind_tools([calculate]).invoke([HumanMessage("hi")])

    assert first is not scripted
    assert first is not second
    assert first.tool_calls == scripted.tool_calls
    assert scripted.id is None
    assert scripted.usage_metadata is None


def test_a_model_reply_calls_the_tool_of_the_same_name() -> None:
    output = SpecialistOutput(summary="done", key_points=["a"])

    reply = constant(output).bind_tools([calculate, SpecialistOutput]).invoke([HumanMessage("x")])

    assert only_call(reply) == ("SpecialistOutput", {"summary": "done", "key_points": ["a"]})


def test_a_model_reply_goes_to_the_forced_tool() -> None:
    reply = (
        constant(Finding(title="t", count=2))
        .bind_tools([SpecialistOutput], tool_choice="SpecialistOutput")
        .invoke([HumanMessage("x")])
    )

    assert only_call(reply) == ("SpecialistOutput", {"title": "t", "count": 2})


def test_a_model_reply_goes_to_the_output_tool_the_call_names() -> None:
    asked = worker_messages("analyst", "s1", output="Finding")

    reply = (
        constant(SpecialistOutput(summary="s", key_points=[]))
        .bind_tools([calculate, Finding])
        .invoke(*asked)
    )

    assert only_call(reply)[0] == "Finding"


@pytest.mark.parametrize("tools", [[], [calculate], [Finding]])
def test_a_model_reply_without_a_matching_tool_is_a_clear_error(tools: list[Any]) -> None:
    model = constant(SpecialistOutput(summary="s", key_points=[]))
    runnable = model.bind_tools(tools) if tools else model

    with pytest.raises(ValueError) as caught:
        runnable.invoke([HumanMessage("x")])

    message = str(caught.value)
    assert "script returned a SpecialistOutput but no such tool is bound" in message
    bound = sorted(getattr(t, "name", getattr(t, "__name__", "")) for t in tools)
    assert message.endswith(str(bound))


def test_respond_sees_the_messages_and_bound_tools() -> None:
    seen: list[tuple[list[BaseMessage], list[BoundTool]]] = []

    def respond(messages: list[BaseMessage], tools: list[BoundTool]) -> str:
        seen.append((messages, tools))
        return "ok"

    ScriptedChatModel(respond=respond).bind_tools([calculate]).invoke([HumanMessage("hello")])

    [(messages, tools)] = seen
    assert [m.text for m in messages] == ["hello"]
    assert [t.name for t in tools] == ["calculate"]
    assert tools[0].parameters["required"] == ["expression"]


# --- recording -----------------------------------------------------------------------------


def test_calls_are_recorded_with_role_specialist_and_subtask() -> None:
    model = ScriptedChatModel(respond=team_script())

    ask_plan(model)
    model.bind_tools([SpecialistOutput]).invoke(*worker_messages("analyst", "s7"))
    ask_synthesis(model)

    assert model.calls == [
        CallRecord("orchestrator", None, None, ("Plan",)),
        CallRecord("specialist", "analyst", "s7", ("SpecialistOutput",)),
        CallRecord("synthesizer", None, None, ("Synthesis",)),
    ]
    assert model.call_count == 3
    assert model.calls_for("analyst") == [model.calls[1]]
    assert model.calls_for("researcher") == []


def test_recording_is_safe_and_replies_deterministic_across_threads() -> None:
    workers = 8
    barrier = threading.Barrier(workers)

    def respond(messages: list[BaseMessage], tools: list[BoundTool]) -> BaseModel:
        barrier.wait(timeout=30)  # every call is in flight at once
        text = messages[-1].text
        return SpecialistOutput(summary=text, key_points=[str(len(text))])

    model = ScriptedChatModel(respond=respond)
    bound = model.bind_tools([SpecialistOutput])
    jobs = [(f"worker{i % 4}", f"s{i}") for i in range(workers)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        replies = list(pool.map(lambda job: bound.invoke(*worker_messages(*job)), jobs))

    assert model.call_count == workers
    assert len(model.calls) == workers
    assert sorted((c.specialist, c.subtask_id) for c in model.calls) == sorted(jobs)
    for i in range(4):
        assert sorted(c.subtask_id or "" for c in model.calls_for(f"worker{i}")) == sorted(
            [f"s{i}", f"s{i + 4}"]
        )
    for (specialist, sid), reply in zip(jobs, replies, strict=True):
        name, args = only_call(reply)
        expected = worker_messages(specialist, sid)[0][-1].text
        assert name == "SpecialistOutput"
        assert args == {"summary": expected, "key_points": [str(len(expected))]}
    assert len({id(r) for r in replies}) == workers


# --- team_script ---------------------------------------------------------------------------


def test_plan_of_builds_a_plan() -> None:
    plan = plan_of(("s1", "researcher", "Find A"), ("s2", "analyst", "Sum it", ["s1"]))

    assert plan.rationale == "scripted plan"
    assert plan.subtasks == [
        Subtask(id="s1", specialist="researcher", instruction="Find A", depends_on=[]),
        Subtask(id="s2", specialist="analyst", instruction="Sum it", depends_on=["s1"]),
    ]


def test_a_single_plan_is_round_one_and_later_rounds_are_done() -> None:
    plan = plan_of(("x1", "analyst", "Count"))
    model = ScriptedChatModel(respond=team_script(plan=plan))

    first = ask_plan(model, round_no=1)
    second = ask_plan(model, round_no=2)

    assert first.model_dump() == plan.model_dump()
    assert second.subtasks == []
    assert second.rationale == "done"


def test_plans_by_round() -> None:
    plans = [
        plan_of(("a", "researcher", "Find")),
        plan_of(("b", "analyst", "Count", ["a"])),
    ]
    model = ScriptedChatModel(respond=team_script(plan=plans))

    got = [ask_plan(model, round_no=r) for r in (1, 2, 3)]

    assert [[s.id for s in p.subtasks] for p in got] == [["a"], ["b"], []]
    assert got[1].subtasks[0].depends_on == ["a"]


def test_a_plan_callable_gets_the_message_and_round() -> None:
    seen: list[tuple[str, int]] = []

    def plan(text: str, round_no: int) -> Plan:
        seen.append((text, round_no))
        return plan_of((f"r{round_no}", "analyst", "Work"))

    model = ScriptedChatModel(respond=team_script(plan=plan))

    assert [s.id for s in ask_plan(model, round_no=2, task="Big task").subtasks] == ["r2"]
    [(text, round_no)] = seen
    assert round_no == 2
    assert "## Task\nBig task" in text
    assert "round: 2 of 5" in text


def test_worker_outputs_and_callables() -> None:
    seen: list[WorkerCall] = []

    def analyst(call: WorkerCall) -> Finding:
        seen.append(call)
        return Finding(title=call.instruction, count=call.step)

    fixed = SpecialistOutput(summary="fixed", key_points=[])
    model = ScriptedChatModel(
        respond=team_script(workers={"researcher": fixed, "analyst": analyst})
    )

    researcher = model.bind_tools([SpecialistOutput]).invoke(*worker_messages("researcher", "s1"))
    deps = {
        "s1": DependencyResult(
            specialist="researcher", summary="Found 3.", output={"summary": "Found 3."}
        )
    }
    messages, config = worker_messages(
        "analyst",
        "s2",
        "Add 1 + 2",
        output="Finding",
        dependencies=deps,
        feedback="show work",
        step=1,
    )
    first_call = AIMessage(content="", tool_calls=[tool_call("calculate", {}, call_id="c1")])
    messages += [
        first_call,
        ToolMessage("1 + 2 = 3", tool_call_id="c1"),
        ToolMessage("bad input", tool_call_id="c1", status="error"),
    ]
    analyst_reply = model.bind_tools([calculate, Finding]).invoke(messages, config)

    assert only_call(researcher) == ("SpecialistOutput", {"summary": "fixed", "key_points": []})
    assert only_call(analyst_reply) == ("Finding", {"title": "Add 1 + 2", "count": 1})
    assert seen == [
        WorkerCall(
            specialist="analyst",
            subtask_id="s2",
            instruction="Add 1 + 2",
            inputs="### s1 (researcher)\nFound 3.",
            feedback="show work",
            tool_results=("1 + 2 = 3", "bad input"),
            tools=("calculate", "Finding"),
            output_tool="Finding",
            step=1,
        )
    ]


def test_a_first_worker_call_has_no_inputs_feedback_or_results() -> None:
    seen: list[WorkerCall] = []

    def researcher(call: WorkerCall) -> str:
        seen.append(call)
        return "thinking"

    model = ScriptedChatModel(respond=team_script(workers={"researcher": researcher}))

    reply = model.bind_tools([SpecialistOutput]).invoke(*worker_messages("researcher", "s9"))

    assert reply.content == "thinking"
    [call] = seen
    assert (call.subtask_id, call.inputs, call.feedback, call.tool_results, call.step) == (
        "s9",
        "",
        None,
        (),
        0,
    )
    assert call.output_tool == "SpecialistOutput"


def test_synthesis_object_and_callable() -> None:
    fixed = Synthesis(answer="All good [s1].", citations=["s1"])
    texts: list[str] = []

    def written(text: str) -> Synthesis:
        texts.append(text)
        return Synthesis(answer="from text", citations=[])

    assert ask_synthesis(ScriptedChatModel(respond=team_script(synthesis=fixed))) == fixed
    result = ask_synthesis(ScriptedChatModel(respond=team_script(synthesis=written)), "The task")
    assert result.answer == "from text"
    [text] = texts
    assert text.startswith("## Task\nThe task")


def test_roles_not_scripted_fall_back_to_the_offline_policy() -> None:
    model = ScriptedChatModel(
        respond=team_script(workers={"researcher": SpecialistOutput(summary="s", key_points=[])})
    )

    plan = ask_plan(model, task="Sum the numbers of 3 servers")
    analyst = model.bind_tools([calculate, SpecialistOutput]).invoke(
        *worker_messages("analyst", "s1", "Compute 3 * 4")
    )
    synthesis = ask_synthesis(model)

    assert [(s.id, s.specialist) for s in plan.subtasks] == [("s1", "analyst")]
    assert only_call(analyst) == ("calculate", {"expression": "3 * 4"})
    assert synthesis.citations == ["s1"]
    assert model.call_count == 3


def test_a_team_script_called_without_a_call_info_says_how_to_give_one() -> None:
    model = ScriptedChatModel(respond=team_script())
    messages, _ = worker_messages("analyst", "s1")  # the prompt alone is not read

    with pytest.raises(ValueError, match="no CallInfo for this model call"):
        model.bind_tools([SpecialistOutput]).invoke(messages)


def test_the_call_info_not_the_prompt_decides_who_is_asked() -> None:
    seen: list[WorkerCall] = []

    def record(call: WorkerCall) -> SpecialistOutput:
        seen.append(call)
        return SpecialistOutput(summary="ok", key_points=[])

    model = ScriptedChatModel(respond=team_script(workers={"analyst": record}))
    prompt, _ = worker_messages("researcher", "s1", "Find facts.")
    _, config = worker_messages("analyst", "s2", "Compute 1 + 1")
    model.bind_tools([SpecialistOutput]).invoke(prompt, config)

    [call] = seen
    assert (call.specialist, call.subtask_id) == ("analyst", "s2")
    assert call.instruction == "Compute 1 + 1"
    assert model.calls == [CallRecord("specialist", "analyst", "s2", ("SpecialistOutput",))]
