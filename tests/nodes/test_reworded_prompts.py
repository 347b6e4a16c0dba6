"""Rewording every prompt changes no outcome of a scripted or offline run.

The local models read each call's ``CallInfo``, not the prompt's wording. Here every
prompt the role nodes send is reworded — the role prompts replaced by other sentences,
and each text builder's output reversed line by line, so that no phrase, id, round or
``## Section`` of the usual layout survives — and a representative set of runs must end
exactly as without the rewording: statuses, reasons, outputs, answers, cited ids and the
calls made. Reading the prompt back (for a model behind a wire) must not happen at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from orchestra.graphs import compile_team
from orchestra.graphs.team_files import example_teams
from orchestra.nodes import (
    OfflineChatModel,
    ScriptedChatModel,
    WorkerCall,
    plan_of,
    prompts,
    team_script,
)
from orchestra.nodes.function_model import tool_call
from orchestra.state import (
    PatternName,
    SpecialistOutput,
    SpecialistSpec,
    Synthesis,
    TeamSpec,
    load_team,
)

REWORDED_CONSTANTS = {
    "ORCHESTRATOR_PROMPT": "Decide the pieces of work. Hand each to one teammate. Stop when done.",
    "SPECIALIST_PROMPT": "Report what you found. Use tools if useful. Do only your piece.",
    "SYNTHESIZER_PROMPT": "Name gaps. Cite ids. Conclude from what the team brought back.",
    "REJECTED_PREFIX": "Sent back, because ",
}
TEXT_BUILDERS = [
    "section",
    "roster",
    "result_block",
    "orchestrator_message",
    "specialist_system",
    "specialist_message",
    "synthesizer_message",
    "finish_reminder",
    "output_request",
    "plan_problems",
    "plan_rejected",
    "synthesis_problems",
    "reply_not_accepted",
    "json_reply_instructions",
]


def _backwards(text: str) -> str:
    return "\n".join(line[::-1] for line in text.splitlines())


def _reworded(build: Callable[..., str]) -> Callable[..., str]:
    def reworded(*args: Any, **kwargs: Any) -> str:
        return "(reworded) " + _backwards(build(*args, **kwargs))

    return reworded


def reword_every_prompt(monkeypatch: pytest.MonkeyPatch) -> int:
    """Patch each prompt constant and builder where the framework's modules use it.

    ``prompts`` itself keeps its originals, so a reworded builder calls the original
    helpers inside it and each text is reworded once. Returns how many uses were patched.
    """
    replacement: dict[int, object] = {}
    for name, text in REWORDED_CONSTANTS.items():
        replacement[id(getattr(prompts, name))] = text
    for name in TEXT_BUILDERS:
        replacement[id(getattr(prompts, name))] = _reworded(getattr(prompts, name))
    output_line = prompts.output_line
    replacement[id(output_line)] = lambda *a: [_backwards(x) for x in output_line(*a)]
    patched = 0
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("orchestra") or module is prompts or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in replacement and not attr.startswith("__"):
                monkeypatch.setattr(module, attr, replacement[id(value)])
                patched += 1

    def never(*args: Any) -> None:
        raise AssertionError("an in-process call was read back from its prompt")

    monkeypatch.setattr("orchestra.nodes.offline.call_from_prompt", never)
    return patched


def out(summary: str, *points: str) -> SpecialistOutput:
    return SpecialistOutput(summary=summary, key_points=list(points))


@tool
def dig(query: str) -> str:
    """Dig up one more fact."""
    return f"Fact about {query}."


def must_cite(output: BaseModel) -> str | None:
    assert isinstance(output, SpecialistOutput)
    return None if "[source]" in output.summary else "cite a [source]"


def orchestrator_workers() -> tuple[TeamSpec, ScriptedChatModel]:
    """Two rounds, a dependency, a tool call, and a revision after a check's feedback."""

    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if not call.tool_results:
            return AIMessage(content="", tool_calls=[tool_call("dig", {"query": call.subtask_id})])
        return out(f"{call.instruction}: {call.tool_results[-1]}", call.specialist)

    def writer(call: WorkerCall) -> SpecialistOutput:
        cited = " [source]" if call.feedback else ""
        return out(f"wrote from {call.inputs.count('###')} input(s){cited}", call.feedback or "-")

    team = make_team(
        "alpha",
        "writer",
        tools={"alpha": [dig]},
        limits={"max_revisions": 2, "max_rounds": 3},
        writer_spec={"checks": [must_cite]},
    )
    plans = [
        plan_of(("s1", "alpha", "look up one"), ("s2", "writer", "write it up", ["s1"])),
        plan_of(("s3", "alpha", "look up two")),
    ]
    model = ScriptedChatModel(
        respond=team_script(plan=plans, workers={"alpha": alpha, "writer": writer})
    )
    return team, model


def pipeline() -> tuple[TeamSpec, ScriptedChatModel]:
    def stage(call: WorkerCall) -> SpecialistOutput:
        return out(f"{call.specialist} saw {call.inputs.count('###')}", call.instruction)

    team = make_team("draft", "edit", "publish", pattern="pipeline")
    names = ("draft", "edit", "publish")
    return team, ScriptedChatModel(respond=team_script(workers=dict.fromkeys(names, stage)))


def fan_out() -> tuple[TeamSpec, ScriptedChatModel]:
    def branch(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.specialist == "north":  # never finishes: stopped by its step cap
            return AIMessage(content="", tool_calls=[tool_call("dig", {"query": f"q{call.step}"})])
        return out(f"{call.specialist} ok")

    team = make_team(
        "north",
        "south",
        "east",
        tools={"north": [dig]},
        north_spec={"max_steps": 3},
        pattern="fan_out",
    )
    names = ("north", "south", "east")
    fixed = Synthesis(answer="merged [south] [east]", citations=["south", "east"])
    return team, ScriptedChatModel(
        respond=team_script(workers=dict.fromkeys(names, branch), synthesis=fixed)
    )


def hierarchical() -> tuple[TeamSpec, ScriptedChatModel]:
    # One plan serves both levels: at the top "dept" is a team, inside it a specialist.
    inner = TeamSpec(
        name="inner", specialists=[SpecialistSpec(name="dept", description="inner work")]
    )
    team = TeamSpec(
        name="top",
        pattern="hierarchical",
        specialists=[
            SpecialistSpec(name="dept", description="the department", team=inner),
            SpecialistSpec(name="solo", description="works alone"),
        ],
    )

    def work(call: WorkerCall) -> SpecialistOutput:
        return out(f"{call.specialist} did {call.subtask_id}: {call.instruction}")

    plan = plan_of(("s1", "dept", "department work"))
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"dept": work, "solo": work}))
    return team, model


def single_agent() -> tuple[TeamSpec, ScriptedChatModel]:
    def agent(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.step == 0:
            return AIMessage(content="", tool_calls=[tool_call("dig", {"query": "all"})])
        return out(f"{call.specialist}: {call.tool_results[0]}")

    team = make_team("alpha", "beta", tools={"alpha": [dig]}, pattern="single_agent")
    return team, ScriptedChatModel(respond=team_script(workers={"agent": agent, "alpha": agent}))


SCRIPTED = {
    "orchestrator_workers": orchestrator_workers,
    "pipeline": pipeline,
    "fan_out": fan_out,
    "hierarchical": hierarchical,
    "single_agent": single_agent,
}


def outcome(state: dict[str, Any], calls: Any) -> dict[str, Any]:
    """What a run ended with, and which calls it made (in a deterministic order)."""
    return {
        "status": state["status"],
        "reason": state["reason"],
        "results": {
            sid: (r["status"], r["revision"], r["output"], r["summary"], r.get("reason"))
            for sid, r in sorted(state["results"].items())
        },
        "answer": state["answer"],
        "citations": state["citations"],
        "calls": calls,
    }


def scripted_run(name: str) -> dict[str, Any]:
    team, model = SCRIPTED[name]()
    state = compiled(team).invoke({"task": "Find facts."}, run_config(), context=context(model))
    records = sorted((c.role, c.specialist or "", c.subtask_id or "") for c in model.calls)
    return outcome(state, (model.call_count, records))


@pytest.mark.parametrize("name", sorted(SCRIPTED))
def test_a_scripted_run_ends_the_same_with_every_prompt_reworded(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = scripted_run(name)
    assert reword_every_prompt(monkeypatch) >= 10
    assert scripted_run(name) == plain


def offline_run(pattern: PatternName | None) -> dict[str, Any]:
    research = load_team(example_teams()["research"])
    model = OfflineChatModel()
    task = "Compare SQLite and PostgreSQL checkpointers, then write a short summary"
    graph = compile_team(research, pattern=pattern, checkpointer=InMemorySaver())
    state = graph.invoke({"task": task}, run_config(), context=context(model))
    return outcome(state, model.call_count)


@pytest.mark.parametrize("pattern", [None, "pipeline", "fan_out", "single_agent"])
def test_the_offline_model_answers_the_research_example_the_same_when_reworded(
    pattern: PatternName | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = offline_run(pattern)
    assert plain["status"] == "completed"
    reword_every_prompt(monkeypatch)
    assert offline_run(pattern) == plain


def test_budget_exhaustion_keeps_the_same_partial_output_when_reworded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def busy(call: WorkerCall) -> AIMessage:
        return AIMessage(content="", tool_calls=[tool_call("dig", {"query": f"q{call.step}"})])

    def run() -> dict[str, Any]:
        team = make_team("miner", tools={"miner": [dig]}, miner_spec={"max_steps": 3})
        model = ScriptedChatModel(
            respond=team_script(plan=plan_of(("s1", "miner", "mine")), workers={"miner": busy})
        )
        state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
        return outcome(state, model.call_count)

    plain = run()
    assert plain["results"]["s1"][0] == "exhausted"
    assert plain["results"]["s1"][2] == {
        "summary": "Fact about q0. Fact about q1. Fact about q2.",
        "key_points": ["Fact about q0.", "Fact about q1.", "Fact about q2."],
    }
    reword_every_prompt(monkeypatch)
    assert run() == plain
