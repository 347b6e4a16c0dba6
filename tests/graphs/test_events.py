"""Typed progress events on LangGraph's custom stream mode, and the CLI's live view."""

from __future__ import annotations

import asyncio
from io import StringIO
from typing import Any

from conftest import compiled, context, make_team, run_config
from rich.console import Console

from orchestra.graphs.live import describe, live_view
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import SpecialistOutput


def model() -> ScriptedChatModel:
    def beta(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary="v2" if call.feedback else "v1", key_points=[])

    def alpha(call: WorkerCall) -> SpecialistOutput:
        raise ValueError("bad request")

    plan = plan_of(("s1", "alpha", "a"), ("s2", "beta", "b"))
    return ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha, "beta": beta}))


def team() -> Any:
    return make_team(
        "alpha", "beta", beta_spec={"checks": [lambda o: None if o.summary == "v2" else "say v2"]}
    )


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["kind"], e.get("subtask_id", "")) for e in events]


EXPECTED = [
    ("plan", ""),
    ("worker_started", "s1"),
    ("worker_started", "s2"),
    ("worker_failed", "s1"),
    ("worker_finished", "s2"),
    ("verdict", "s2"),
    ("worker_retried", "s2"),
    ("worker_finished", "s2"),
    ("verdict", "s2"),
    ("synthesis", ""),
]


def test_stream_yields_typed_progress_events_in_order() -> None:
    events = list(
        compiled(team()).stream(
            {"task": "t"}, run_config(), context=context(model()), stream_mode="custom"
        )
    )
    assert sorted(kinds(events)[1:3]) == EXPECTED[1:3] and sorted(kinds(events)[3:5]) == sorted(
        EXPECTED[3:5]
    )
    assert kinds(events)[5:] == EXPECTED[5:]
    assert events[0]["subtasks"] == ["s1", "s2"] and events[0]["team"] == "test"
    failed = next(e for e in events if e["kind"] == "worker_failed")
    assert failed["reason"] == "ValueError: bad request"
    assert events[-1]["status"] == "partial"


def test_astream_yields_the_same_events() -> None:
    async def collect() -> list[dict[str, Any]]:
        graph = compiled(team())
        return [
            e
            async for e in graph.astream(
                {"task": "t"}, run_config(), context=context(model()), stream_mode="custom"
            )
        ]

    events = asyncio.run(collect())
    assert [k for k, _ in kinds(events)].count("verdict") == 2
    assert kinds(events)[-1] == ("synthesis", "")


def test_the_live_view_prints_one_line_per_event() -> None:
    buffer = StringIO()
    show = live_view(Console(file=buffer, width=120))
    assert show is not None
    for event in compiled(team()).stream(
        {"task": "t"}, run_config(), context=context(model()), stream_mode="custom"
    ):
        show(event)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == len(EXPECTED)
    assert "s1 failed after 0 call(s): ValueError: bad request" in buffer.getvalue()
    assert "s2 sent back: say v2" in buffer.getvalue()
    assert describe({"kind": "waiting", "team": "t", "round": 1}).startswith("round 1: waiting")
