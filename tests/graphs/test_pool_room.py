"""A pool smaller than a round's workers runs them in waves instead of stopping for good.

Each worker waits, in one of LangGraph's pool slots, for its durable steps, which need
slots of the same pool. With 25 ready workers and ``max_concurrency=16`` every slot held
a waiting worker and the run made no progress at all (found driving 25+ subtasks over
the wire). The runs here are made in a thread with a deadline, so a regression fails
the test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import pytest
from conftest import compiled, make_team
from langchain_core.tools import tool

from orchestra.nodes.pool_room import wave_room
from orchestra.state import SpecialistOutput, TeamContext

WORKERS = 25
TASK = "\n".join(f"Look up topic {i} in the notes" for i in range(WORKERS))


@tool
def look_up(topic: str) -> SpecialistOutput:
    """Look a topic up in the notes."""
    return SpecialistOutput(summary=f"{topic} keeps its pages in a B-tree.", key_points=[])


def finished_within(seconds: float, run: Any) -> Any:
    """``run()``'s result, or a failure if it has not returned after ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = run()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the run made no progress in {seconds} s (the pool is deadlocked)")
    if "error" in box:
        raise box["error"]
    return box["out"]


def wide() -> Any:
    # Two steps a worker (a model call, then the tool whose result is the output).
    return make_team(
        "researcher",
        tools={"researcher": [look_up]},
        researcher_spec={"output_from_tools": ["look_up"]},
        limits={"max_workers_per_round": WORKERS, "max_rounds": 1},
    )


def config(pool: int) -> dict[str, Any]:
    return {"configurable": {"thread_id": "w"}, "recursion_limit": 200, "max_concurrency": pool}


@pytest.mark.parametrize("pool", [16, 6, 2])
def test_more_ready_workers_than_the_pool_has_slots_run_in_waves(pool: int) -> None:
    graph = compiled(wide())
    waves: Counter[int] = Counter()

    def run() -> None:
        for event in graph.stream(
            {"task": TASK},
            config(pool),
            context=TeamContext(model="offline"),
            stream_mode="debug",
        ):
            if event["type"] == "task" and event["payload"]["name"] == "researcher":
                waves[event["step"]] += 1

    finished_within(60, run)
    out = graph.get_state(config(pool)).values
    assert out["status"] == "completed", out["reason"]
    assert sorted(r["status"] for r in out["results"].values()) == ["accepted"] * WORKERS
    room = wave_room(WORKERS, turns=16, pool=pool)
    assert max(waves.values()) == room < WORKERS
    assert sum(waves.values()) == WORKERS
    assert any(f"max_concurrency {pool} is too small" in n for n in out["notes"])


def test_async_runs_share_the_fix() -> None:
    graph = compiled(wide())

    def run() -> Any:
        return asyncio.run(
            graph.ainvoke({"task": TASK}, config(4), context=TeamContext(model="offline"))
        )

    out = finished_within(60, run)
    assert out["status"] == "completed", out["reason"]
    assert len(out["results"]) == WORKERS


def test_the_compiled_default_pool_sends_a_round_at_once() -> None:
    graph = compiled(wide())
    out = finished_within(
        60,
        lambda: graph.invoke(
            {"task": TASK},
            {"configurable": {"thread_id": "d"}},
            context=TeamContext(model="offline"),
        ),
    )
    assert out["status"] == "completed"
    assert not any("too small" in n for n in out["notes"])


def test_wave_room_leaves_a_slot_for_every_turn_holders_step() -> None:
    for pool in range(1, 40):
        for turns in range(1, 20):
            room = wave_room(100, turns=turns, pool=pool)
            assert room >= 1
            if room > 1:  # a lone task runs on the calling thread
                assert room + min(room, turns) <= pool
