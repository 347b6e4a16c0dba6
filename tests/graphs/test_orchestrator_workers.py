"""Behaviour of the compiled orchestrator-workers graph, driven by the scripted model."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.nodes.durable import is_step
from orchestra.state import Plan, SpecialistOutput, TeamContext


def out(summary: str) -> SpecialistOutput:
    return SpecialistOutput(summary=summary, key_points=[summary])


def steps_of(
    graph: Any, payload: Any, config: dict[str, Any], ctx: TeamContext
) -> dict[int, list[str]]:
    """Node names by super-step, from LangGraph's debug stream."""
    steps: dict[int, list[str]] = defaultdict(list)
    for chunk in graph.stream(payload, config, context=ctx, stream_mode="debug"):
        if chunk["type"] == "task" and not is_step(chunk["payload"]["name"]):
            steps[chunk["step"]].append(chunk["payload"]["name"])
    return dict(steps)


def test_eight_independent_subtasks_run_concurrently_in_one_superstep() -> None:
    barrier = threading.Barrier(8, timeout=20)
    threads: set[int] = set()

    def work(call: WorkerCall) -> SpecialistOutput:
        # Every one of the 8 calls must be in flight at once to pass the barrier.
        threads.add(threading.get_ident())
        barrier.wait()
        return out(f"done {call.subtask_id}")

    plan = plan_of(*[(f"s{i}", "alpha" if i % 2 else "beta", f"part {i}") for i in range(1, 9)])
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": work, "beta": work}))
    graph = compiled(make_team("alpha", "beta"))
    steps = steps_of(graph, {"task": "eight parts"}, run_config(), context(model))

    worker_steps = [s for s, names in steps.items() if {"alpha", "beta"} & set(names)]
    assert len(worker_steps) == 1
    assert sorted(steps[worker_steps[0]]) == ["alpha"] * 4 + ["beta"] * 4
    assert len(threads) == 8
    state = graph.get_state(run_config()).values
    assert state["status"] == "completed"
    assert {r["status"] for r in state["results"].values()} == {"accepted"}


def test_dependent_subtask_waits_and_receives_only_its_dependency() -> None:
    seen: dict[str, WorkerCall] = {}

    def record(call: WorkerCall) -> SpecialistOutput:
        seen[call.subtask_id] = call
        return out(f"result of {call.subtask_id}")

    plan = plan_of(
        ("s1", "alpha", "gather facts"),
        ("s2", "beta", "gather other facts"),
        ("s3", "gamma", "write it up", ["s1"]),
    )
    workers = {"alpha": record, "beta": record, "gamma": record}
    model = ScriptedChatModel(respond=team_script(plan=plan, workers=workers))
    graph = compiled(make_team("alpha", "beta", "gamma"))
    steps = steps_of(graph, {"task": "t"}, run_config(), context(model))

    first = next(s for s, names in steps.items() if "alpha" in names)
    later = next(s for s, names in steps.items() if "gamma" in names)
    assert later > first
    assert "beta" in steps[first]
    assert "### s1 (alpha)" in seen["s3"].inputs
    assert "result of s1" in seen["s3"].inputs
    assert "s2" not in seen["s3"].inputs
    assert seen["s1"].inputs == ""


def test_rejected_result_goes_back_to_the_same_specialist_with_feedback() -> None:
    def must_cite(output: BaseModel) -> str | None:
        assert isinstance(output, SpecialistOutput)
        return None if "[source]" in output.summary else "cite a [source]"

    attempts: list[WorkerCall] = []

    def writer(call: WorkerCall) -> SpecialistOutput:
        attempts.append(call)
        return out("claim [source]" if call.feedback else "claim")

    team = make_team("writer", limits={"max_revisions": 2}, writer_spec={"checks": [must_cite]})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "writer", "write")), workers={"writer": writer})
    )
    graph = compiled(team)
    state = graph.invoke({"task": "t"}, run_config(), context=context(model))

    assert [a.feedback for a in attempts] == [None, "cite a [source]"]
    assert {a.specialist for a in attempts} == {"writer"}
    work = [v for v in state["verdicts"] if v["subtask_id"] == "s1"]
    assert [(v["revision"], v["accepted"]) for v in work] == [(0, False), (1, True)]
    assert state["results"]["s1"]["status"] == "accepted"
    assert state["results"]["s1"]["revision"] == 1
    assert state["status"] == "completed"


def test_revisions_stop_at_the_cap_and_the_answer_names_the_subtask() -> None:
    calls: list[WorkerCall] = []

    def stubborn(call: WorkerCall) -> SpecialistOutput:
        calls.append(call)
        return out("never good enough")

    team = make_team(
        "writer",
        "helper",
        limits={"max_revisions": 2},
        writer_spec={"checks": [lambda o: "always wrong"]},
    )
    plan = plan_of(("s1", "writer", "write"), ("s2", "helper", "help"))
    model = ScriptedChatModel(
        respond=team_script(plan=plan, workers={"writer": stubborn, "helper": out("helped")})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert len(calls) == 3  # first attempt + 2 revisions
    result = state["results"]["s1"]
    assert result["status"] == "rejected"
    assert "max_revisions" in result["reason"]
    assert state["results"]["s2"]["status"] == "accepted"
    assert state["status"] == "cap_reached"
    assert "max_revisions" in state["reason"]
    assert "s1" in state["answer"]
    assert state["citations"] == ["s2"]


def test_a_specialist_cannot_call_a_tool_outside_its_own_set() -> None:
    executed: list[str] = []

    @tool
    def lookup(query: str) -> str:
        """Look something up."""
        executed.append("lookup")
        return "found it"

    @tool
    def delete_everything(confirm: bool) -> str:
        """A tool that belongs to another specialist."""
        executed.append("delete_everything")
        return "deleted"

    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.step == 0:
            return AIMessage(
                content="",
                tool_calls=[
                    tool_call("delete_everything", {"confirm": True}),
                    tool_call("lookup", {"query": "x"}),
                ],
            )
        return out(" | ".join(call.tool_results))

    team = make_team("alpha", "beta", tools={"alpha": [lookup], "beta": [delete_everything]})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "look")), workers={"alpha": alpha})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert executed == ["lookup"]
    result = state["results"]["s1"]
    assert result["tool_calls"] == ["refused:delete_everything", "lookup"]
    assert "'delete_everything' is not available to alpha" in result["summary"]
    assert "found it" in result["summary"]


def test_a_tool_that_raises_answers_the_model_with_its_error() -> None:
    @tool
    def broken(query: str) -> str:
        """Always fails."""
        raise ConnectionError("backend down")

    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.step == 0:
            return AIMessage(content="", tool_calls=[tool_call("broken", {"query": "x"})])
        return out(call.tool_results[0])

    team = make_team("alpha", tools={"alpha": [broken]})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "look")), workers={"alpha": alpha})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert "raised ConnectionError: backend down" in state["results"]["s1"]["summary"]
    assert state["status"] == "completed"


def test_max_rounds_stops_a_team_that_keeps_planning() -> None:
    def endless(text: str, round_no: int) -> Plan:
        return plan_of((f"r{round_no}", "alpha", f"more work {round_no}"))

    team = make_team("alpha", limits={"max_rounds": 2})
    model = ScriptedChatModel(respond=team_script(plan=endless))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert [r["id"] for r in state["plan"]] == ["r1", "r2"]
    assert state["round"] == 2
    assert state["status"] == "cap_reached"
    assert state["reason"] == "max_rounds"
    assert any("['r3'] not run" in n for n in state["notes"])


def test_max_workers_per_round_drops_the_extra_subtasks() -> None:
    plan = plan_of(*[(f"s{i}", "alpha", f"part {i}") for i in range(1, 6)])
    team = make_team("alpha", limits={"max_workers_per_round": 3})
    model = ScriptedChatModel(respond=team_script(plan=plan))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert [r["id"] for r in state["plan"]] == ["s1", "s2", "s3"]
    assert state["status"] == "cap_reached"
    assert state["reason"] == "max_workers_per_round"
    assert any("dropped subtasks ['s4', 's5']" in n for n in state["notes"])


def test_max_model_calls_stops_dispatching_and_names_what_did_not_run() -> None:
    plan = plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b"), ("s3", "alpha", "c", ["s1"]))
    team = make_team("alpha", limits={"max_model_calls": 4})
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": out("ok")}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["results"]["s3"]["status"] == "skipped"
    assert "max_model_calls" in state["results"]["s3"]["reason"]
    assert state["status"] == "cap_reached"
    assert state["reason"] == "max_model_calls"
    assert "s3" in state["answer"]
    # plan + 2 workers, then the synthesis, which the dispatch left the last call for
    assert state["model_calls"] == 4 == model.call_count


def test_a_worker_call_past_max_model_calls_is_refused_not_made() -> None:
    plan = plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b"))
    team = make_team("alpha", limits={"max_model_calls": 3, "max_concurrency": 1})
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": out("ok")}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    # the plan and one worker; the other worker's call is refused, the last call being the
    # synthesis': the cap is never passed
    s1, s2 = (state["results"][sid] for sid in ("s1", "s2"))
    assert sorted([s1["status"], s2["status"]]) == ["accepted", "exhausted"]
    refused = s1 if s1["status"] == "exhausted" else s2
    assert refused["reason"].startswith("cap_reached: team max_model_calls (2 of 3)")
    assert refused["reason_code"] == "max_model_calls"
    assert (state["status"], state["reason"]) == ("cap_reached", "max_model_calls")
    assert state["model_calls"] == 3 == model.call_count


def test_max_steps_bounds_a_specialist_that_never_finishes() -> None:
    def chatty(call: WorkerCall) -> str:
        return "still thinking"

    team = make_team("alpha", limits={"max_revisions": 0}, alpha_spec={"max_steps": 3})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": chatty})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    result = state["results"]["s1"]
    # out of steps, like a specialist that keeps calling tools: the partial path, saying why
    assert result["status"] == "exhausted"
    assert result["steps"] == 3
    assert result["reason"] == (
        "budget_exhausted: max_steps (3 of 3): "
        "the model answered in text when SpecialistOutput was forced"
    )
    assert result["raw"] == "still thinking"
    assert len(model.calls_for("alpha")) == 3
    # the last step binds only the output tool, forcing a final answer
    assert model.calls_for("alpha")[-1].tools == ("SpecialistOutput",)


def test_a_dependency_that_fails_skips_its_dependents_with_the_reason() -> None:
    team = make_team("alpha", "beta", limits={"max_revisions": 0}, alpha_spec={"max_steps": 1})
    plan = plan_of(("s1", "alpha", "a"), ("s2", "beta", "b", ["s1"]), ("s3", "beta", "c", ["s2"]))
    wrong = AIMessage("", tool_calls=[tool_call("SpecialistOutput", {"no": "summary"})])
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": lambda c: wrong}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["results"]["s2"]["status"] == "skipped"
    assert state["results"]["s2"]["reason"] == "dependency s1 failed"
    assert state["results"]["s3"]["reason"] == "dependency s2 skipped"
    assert model.calls_for("beta") == []


def test_a_second_round_can_build_on_the_first() -> None:
    rounds = [plan_of(("s1", "alpha", "first")), plan_of(("s2", "alpha", "second", ["s1"]))]
    seen: list[str] = []

    def alpha(call: WorkerCall) -> SpecialistOutput:
        seen.append(call.inputs)
        return out(f"from {call.subtask_id}")

    model = ScriptedChatModel(respond=team_script(plan=rounds, workers={"alpha": alpha}))
    state = compiled(make_team("alpha")).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["round"] == 2
    assert "from s1" in seen[1]
    assert state["status"] == "completed"
    assert state["citations"] == ["s1", "s2"]


def test_without_review_the_first_plan_is_the_only_one_and_no_review_call_is_made() -> None:
    seen: list[str] = []

    def plans(text: str, round_no: int) -> Plan:
        seen.append(text)
        return plan_of(("s1", "alpha", "first"), ("s2", "alpha", "second"))

    model = ScriptedChatModel(respond=team_script(plan=plans))
    graph = compiled(make_team("alpha", orchestrator={"review": False}))
    steps = steps_of(graph, {"task": "t"}, run_config(), context(model))
    state = graph.get_state(run_config()).values

    assert [c.role for c in model.calls] == [
        "orchestrator",
        "specialist",
        "specialist",
        "synthesizer",
    ]
    assert "round: 1 of 1" in seen[0]
    assert sum(names.count("orchestrator") for names in steps.values()) == 1
    assert state["status"] == "completed"
    assert state["model_calls"] == 4


def test_transient_model_errors_are_retried_by_the_node() -> None:
    from orchestra.nodes import TransientModelError

    failures = {"left": 1}

    def flaky(call: WorkerCall) -> SpecialistOutput:
        if failures["left"]:
            failures["left"] -= 1
            raise TransientModelError("429 rate limited")
        return out("ok")

    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": flaky})
    )
    state = compiled(make_team("alpha")).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["status"] == "completed"
    assert len(model.calls_for("alpha")) == 2


def test_async_invocation_matches_sync() -> None:
    team = make_team("researcher", "writer")
    task = {"task": "Find researcher facts, then writer summary"}
    sync_state = compiled(team).invoke(task, run_config(), context=context("offline"))
    async_state = asyncio.run(
        compiled(team).ainvoke(task, run_config(), context=context("offline"))
    )
    assert async_state["answer"] == sync_state["answer"]
    assert async_state["plan"] == sync_state["plan"]


def test_an_unparseable_first_plan_fails_the_run_with_a_reason() -> None:
    model = ScriptedChatModel(respond=lambda messages, tools: "I refuse to plan")
    state = compiled(make_team("alpha")).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["status"] == "failed" and state["reason_code"] == "invalid_plan"
    assert state["reason"].startswith("no valid plan after 3 attempt(s)")
    assert any("not a valid plan" in n for n in state["notes"])


@pytest.mark.parametrize("concurrency", [1, 3])
def test_max_concurrency_from_the_limits_is_honoured(concurrency: int) -> None:
    in_flight = {"now": 0, "peak": 0}
    lock = threading.Lock()
    release = threading.Event()

    def work(call: WorkerCall) -> SpecialistOutput:
        with lock:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        release.wait(0.05)
        with lock:
            in_flight["now"] -= 1
        return out("ok")

    team = make_team("alpha", limits={"max_concurrency": concurrency})
    plan = plan_of(*[(f"s{i}", "alpha", f"p{i}") for i in range(6)])
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": work}))
    graph = compiled(team)  # limits baked into the compiled graph's config
    state = graph.invoke(
        {"task": "t"}, {"configurable": {"thread_id": "c"}}, context=context(model)
    )
    assert state["status"] == "completed"
    assert in_flight["peak"] <= concurrency


class Ranking(BaseModel):
    order: list[str]
    summary: str


def rank_by_length(outputs: dict[str, BaseModel]) -> Ranking:
    lengths = {sid: len(o.summary) for sid, o in outputs.items() if isinstance(o, SpecialistOutput)}
    order = sorted(lengths, key=lambda sid: -lengths[sid])
    return Ranking(order=order, summary=f"longest first: {', '.join(order)}")


def test_the_synthesizer_digest_runs_in_code_and_the_model_sees_it() -> None:
    seen: list[str] = []

    def synthesis(text: str) -> Any:
        from orchestra.state import Synthesis

        seen.append(text)
        return Synthesis(answer="ranked", citations=["s1", "s2"])

    plan = plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b"))
    workers = {"alpha": lambda call: out("x" * (3 if call.subtask_id == "s1" else 9))}
    team = make_team("alpha", synthesizer={"digest": rank_by_length})
    model = ScriptedChatModel(respond=team_script(plan=plan, workers=workers, synthesis=synthesis))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["digest"] == {"order": ["s2", "s1"], "summary": "longest first: s2, s1"}
    assert '## Digest\n{"order": ["s2", "s1"]' in seen[0]
    assert state["status"] == "completed"


def test_a_failing_digest_is_a_note_not_a_lost_answer() -> None:
    def broken(outputs: dict[str, BaseModel]) -> Ranking:
        raise KeyError("oops")

    team = make_team("alpha", synthesizer={"digest": broken})
    model = ScriptedChatModel(respond=team_script(plan=plan_of(("s1", "alpha", "a"))))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert "digest" not in state
    assert state["answer"]
    assert any("digest raised KeyError" in n for n in state["notes"])


def test_a_permanent_worker_error_fails_its_subtask_and_spares_its_siblings() -> None:
    def broken(call: WorkerCall) -> SpecialistOutput:
        raise ValueError("the provider rejected the request (400)")

    plan = plan_of(("s1", "alpha", "a"), ("s2", "beta", "b"), ("s3", "beta", "c", ["s1"]))
    team = make_team("alpha", "beta")
    model = ScriptedChatModel(
        respond=team_script(plan=plan, workers={"alpha": broken, "beta": out("fine")})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["results"]["s1"]["status"] == "failed"
    assert state["results"]["s1"]["reason"] == "ValueError: the provider rejected the request (400)"
    assert len(model.calls_for("alpha")) == 1  # a permanent error is not retried
    assert state["results"]["s2"]["status"] == "accepted"
    assert state["results"]["s3"]["reason"] == "dependency s1 failed"
    assert state["status"] == "partial"
