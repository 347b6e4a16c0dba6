"""Workers take turns by ``limits.max_concurrency``; LangGraph's pool keeps room to spare.

LangGraph's ``max_concurrency`` sizes one pool for tasks, task steps and checkpoint
writes alike. These tests pin what orchestra's own turns buy: finished work is saved
while other workers run, and pausing workers' durable steps never starve.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from conftest import context, make_team
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from orchestra.graphs.patterns import compile_team
from orchestra.graphs.runner import run_config
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.state import SpecialistOutput, TeamSpec

NAMES = ("a", "b", "c", "d", "e", "f")


def fan(workers: Any, **limits: Any) -> tuple[TeamSpec, ScriptedChatModel]:
    spec = make_team(*NAMES, limits={"max_workers_per_round": 6} | limits)
    plan = plan_of(*((f"s_{n}", n, f"work {n}") for n in NAMES))
    model = ScriptedChatModel(respond=team_script(plan=plan, workers=dict.fromkeys(NAMES, workers)))
    return spec, model


def test_no_more_workers_run_at_once_than_max_concurrency() -> None:
    lock, running, peak = threading.Lock(), [0], [0]

    def work(call: WorkerCall) -> SpecialistOutput:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return SpecialistOutput(summary=call.specialist, key_points=[])

    spec, model = fan(work, max_concurrency=2)
    graph = compile_team(spec, checkpointer=InMemorySaver())
    state = graph.invoke({"task": "t"}, run_config(spec, "t1"), context=context(model))
    assert state["status"] == "completed"
    assert peak[0] == 2  # six workers in one super-step, two at a time


def test_a_finished_workers_result_is_saved_while_the_others_wait_their_turn() -> None:
    lock, started, release = threading.Lock(), [], threading.Event()

    def work(call: WorkerCall) -> SpecialistOutput:
        with lock:
            started.append(call.subtask_id)
            first = len(started) == 1
        if not first:
            release.wait(20)  # every later worker holds its turn until the test is done
        return SpecialistOutput(summary=call.specialist, key_points=[])

    spec, model = fan(work, max_concurrency=1)
    saver = InMemorySaver()
    graph = compile_team(spec, checkpointer=saver)
    config = run_config(spec, "saved")
    runner = threading.Thread(
        target=graph.invoke, args=({"task": "t"}, config), kwargs={"context": context(model)}
    )
    runner.start()
    try:
        deadline = time.monotonic() + 20
        saved: set[str] = set()
        while time.monotonic() < deadline and not (len(started) >= 2 and saved):
            found = saver.get_tuple({"configurable": {"thread_id": "saved"}})
            writes = found.pending_writes or [] if found else []
            saved = {k for _, channel, v in writes if channel == "results" for k in v}
            time.sleep(0.02)
        # With LangGraph's pool as the only limit, this write would queue behind the
        # blocked workers' tasks: a crash now would run the first worker again.
        assert len(started) >= 2 and saved == {started[0]}
    finally:
        release.set()
        runner.join(30)
    assert not runner.is_alive()
    assert graph.get_state(config).values["status"] == "completed"


@tool
def ping(host: str) -> str:
    """Ping a host."""
    return f"{host} is up"


def pinger(call: WorkerCall) -> AIMessage | SpecialistOutput:
    if call.step == 0:
        return AIMessage(content="", tool_calls=[tool_call("ping", {"host": call.specialist})])
    return SpecialistOutput(summary=call.tool_results[0], key_points=[])


def pausing_team() -> tuple[TeamSpec, ScriptedChatModel]:
    spec, model = fan(pinger, max_concurrency=1)
    approvals = spec.model_copy(
        update={
            "specialists": [s.model_copy(update={"tools": [ping]}) for s in spec.specialists],
            "approval": spec.approval.model_copy(update={"tool_calls": list(NAMES)}),
        }
    )
    return approvals, model


def finish_in_thread(graph: Any, config: Any, model: ScriptedChatModel) -> dict[str, Any]:
    """Both invocations, on a thread that must end: a starved pool would hang them."""
    out: dict[str, Any] = {}

    def go() -> None:
        first = graph.invoke({"task": "t"}, config, context=context(model))
        out["waiting"] = len(first["__interrupt__"])
        out["final"] = graph.invoke(
            Command(resume={i.id: {"action": "approve"} for i in first["__interrupt__"]}),
            config,
            context=context(model),
        )

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung"
    return out


def test_more_pausing_workers_than_turns_do_not_starve_in_sync_runs() -> None:
    spec, model = pausing_team()
    graph = compile_team(spec, checkpointer=InMemorySaver())
    out = finish_in_thread(graph, run_config(spec, "sync"), model)
    assert out["waiting"] == 6
    assert out["final"]["status"] == "completed"
    assert sum(len(model.calls_for(n)) for n in NAMES) == 12  # 2 each: none repeated


def test_more_pausing_workers_than_turns_do_not_starve_in_async_runs() -> None:
    spec, model = pausing_team()
    graph = compile_team(spec, checkpointer=InMemorySaver())
    config = run_config(spec, "async")

    async def go() -> dict[str, Any]:
        first = await graph.ainvoke({"task": "t"}, config, context=context(model))
        assert len(first["__interrupt__"]) == 6
        resume = {i.id: {"action": "approve"} for i in first["__interrupt__"]}
        final: dict[str, Any] = await graph.ainvoke(
            Command(resume=resume), config, context=context(model)
        )
        return final

    final = asyncio.run(asyncio.wait_for(go(), timeout=60))
    assert final["status"] == "completed"
    assert sum(len(model.calls_for(n)) for n in NAMES) == 12


def test_the_pool_has_room_for_a_round_its_turns_and_writes() -> None:
    spec, _ = fan(pinger, max_concurrency=3)
    assert run_config(spec, "x")["max_concurrency"] == 6 + 3 + 2
    assert compile_team(spec).config is not None
    assert compile_team(spec).config["max_concurrency"] == 6 + 3 + 2


def test_the_gate_is_not_part_of_the_context_schema_studio_draws() -> None:
    spec, _ = fan(pinger)
    schema = compile_team(spec).get_context_jsonschema()
    # data only: the model and the application's deps; neither the gate nor the stop signal
    assert schema is not None and set(schema["properties"]) == {"model", "deps"}
    first, second = context(None), context(None)
    assert first.gate is not second.gate  # one per context: runs do not share turns


def test_runs_without_a_context_leave_no_turns_or_loops_behind() -> None:
    # Studio-like runs (no ``context=``) share NO_CONTEXT; each ``asyncio.run`` is a new
    # event loop, and the turns kept for a loop must go with it.
    import gc

    from orchestra.state import NO_CONTEXT

    team = make_team("alpha")
    graph = compile_team(team)
    for n in range(20):
        payload = {"task": f"alpha work {n}"}
        asyncio.run(graph.ainvoke(payload, run_config(team, f"free-{n}")))
    gc.collect()
    assert len(NO_CONTEXT.gate._tasks) == 0
