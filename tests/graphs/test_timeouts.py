"""Every model call is bounded in time: a hung call is cut at its timeout, a team's
``timeout_s`` is a hard limit, and one Ctrl-C stops a run whose model call hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from flaky_proxy import flaky_proxy, is_worker
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from orchestra.nodes import Backoff, ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.nodes.call_bounds import CallBounds, calls_within
from orchestra.nodes.model_call import OutOfTime, acall_model, call_model
from orchestra.state import SpecialistOutput

RELEASE = threading.Event()
"""Set when the test module ends: hung sync calls stop sleeping."""


@pytest.fixture(autouse=True, scope="module")
def _release_hung_calls() -> Any:
    yield
    RELEASE.set()


class Hanging(ScriptedChatModel):
    """The script's answers, but a call whose messages hold a tool result hangs ``hang_s``."""

    hang_s: float = 60.0
    hang_first: int = 1_000_000
    """How many hanging calls there are before the model answers again."""
    request_timeout: float | None = None
    """Read by ``call_settings`` as the role's timeout of one call."""

    def _hangs(self, messages: list[BaseMessage]) -> bool:
        if not any(isinstance(m, ToolMessage) for m in messages) or self.hang_first <= 0:
            return False
        self.hang_first -= 1
        return True

    def _stall_s(self, messages: list[BaseMessage]) -> float:
        """How long this call hangs before it answers."""
        return self.hang_s if self._hangs(messages) else 0.0

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if stall := self._stall_s(messages):
            RELEASE.wait(stall)
        return super()._generate(messages, stop, run_manager, **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if stall := self._stall_s(messages):
            await asyncio.sleep(stall)
        return await super()._agenerate(messages, stop, run_manager, **kwargs)


@tool
def dig(query: str) -> str:
    """Dig one fact up."""
    return f"dug: {query} is a fact"


def digger(call: WorkerCall) -> AIMessage | SpecialistOutput:
    """A tool call first (partial work), then the output: the second call is the one that hangs."""
    if not call.tool_results:
        return AIMessage(content="", tool_calls=[tool_call("dig", {"query": call.instruction})])
    return SpecialistOutput(summary=call.tool_results[-1], key_points=[])


def hanging_team(**spec: Any) -> tuple[Any, Hanging]:
    team = make_team("alpha", tools={"alpha": [dig]}, **spec)
    plan = plan_of(("s1", "alpha", "the thing"))
    return team, Hanging(respond=team_script(plan=plan, workers={"alpha": digger}))


@pytest.mark.parametrize("is_async", [False, True])
def test_a_hung_call_is_cut_at_the_roles_timeout_and_retried(is_async: bool) -> None:
    model = Hanging(respond=lambda messages, tools: "answered", hang_first=1, request_timeout=0.3)
    messages = [HumanMessage("hi"), ToolMessage("x", tool_call_id="c")]
    started = time.monotonic()
    with calls_within(CallBounds(backoff=Backoff(retries=2, initial_s=0.001))) as bounds:
        if is_async:
            reply, _, requests = asyncio.run(acall_model(model, messages, {}))
        else:
            reply, _, requests = call_model(model, messages, {})
    assert reply.content == "answered" and requests == 2
    assert 0.3 <= time.monotonic() - started < 2
    assert bounds.tally.retries == 1


def test_a_call_past_the_deadline_is_out_of_time_not_retried() -> None:
    model = Hanging(respond=lambda messages, tools: "late")
    messages = [HumanMessage("hi"), ToolMessage("x", tool_call_id="c")]
    started = time.monotonic()
    deadline = time.time() + 0.5
    with calls_within(CallBounds(deadline=deadline)), pytest.raises(OutOfTime):
        call_model(model, messages, {})
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(("is_async", "timeout_s"), [(False, 5.0), (True, 2.0)])
def test_a_team_timeout_is_hard_against_a_hung_call_and_keeps_the_partial_work(
    is_async: bool, timeout_s: float
) -> None:
    team, model = hanging_team(budget={"timeout_s": timeout_s})
    graph, payload = compiled(team), {"task": "alpha work"}
    started = time.monotonic()
    if is_async:
        state = asyncio.run(graph.ainvoke(payload, run_config(), context=context(model)))
    else:
        state = graph.invoke(payload, run_config(), context=context(model))
    elapsed = time.monotonic() - started
    assert elapsed < timeout_s + 5, f"took {elapsed:.1f}s"
    assert state["status"] == "budget_exhausted"
    result = state["results"]["s1"]
    assert result["status"] == "exhausted" and "timeout_s" in result["reason"]
    assert result["output"] is not None and "dug" in result["summary"]  # partial work kept
    assert (
        state["ledger"]["s1"]["model_calls"] == 1
    )  # the answered call; the hung one billed nothing known


class Stalling(Hanging):
    """A worker's second call (after its tool result) takes as long as its instruction says:
    ``forever`` never answers, ``slow`` takes 3 s; the first calls and other roles answer."""

    def _stall_s(self, messages: list[BaseMessage]) -> float:
        if not any(isinstance(m, ToolMessage) for m in messages):
            return 0.0
        text = " ".join(m.text for m in messages if isinstance(m, HumanMessage))
        return 600.0 if "forever" in text else 3.0 if "slow" in text else 0.0


@pytest.mark.parametrize("is_async", [False, True])
def test_worker_and_team_deadlines_are_hard_and_the_answer_keeps_what_was_done(
    is_async: bool,
) -> None:
    # s1 never answers (cut at alpha's 2 s); s2 takes 3 s and is accepted; s3 follows s2
    # and never answers either: the team's 5 s cut it, and nothing runs past the deadline.
    team = make_team(
        "alpha",
        "beta",
        tools={"alpha": [dig], "beta": [dig]},
        alpha_spec={"budget": {"timeout_s": 2}},
        budget={"timeout_s": 5},
    )
    plan = plan_of(
        ("s1", "alpha", "forever"), ("s2", "beta", "slow"), ("s3", "beta", "forever", ["s2"])
    )
    model = Stalling(respond=team_script(plan=plan, workers={"alpha": digger, "beta": digger}))
    graph, payload = compiled(team), {"task": "three things"}
    started = time.monotonic()
    if is_async:
        state = asyncio.run(graph.ainvoke(payload, run_config(), context=context(model)))
    else:
        state = graph.invoke(payload, run_config(), context=context(model))
    elapsed = time.monotonic() - started

    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert state["status"] == "budget_exhausted"
    s1, s2, s3 = (state["results"][sid] for sid in ("s1", "s2", "s3"))
    assert s1["status"] == "exhausted" and s1["reason"].startswith("budget_exhausted: timeout_s")
    assert s2["status"] == "accepted"
    assert s3["status"] == "exhausted" and "team timeout_s" in s3["reason"]
    for partial in (s1, s3):  # each keeps the tool result it had before its call hung
        assert partial["output"] is not None and "dug" in partial["summary"]
    assert "s2" in state["answer"]  # composed from what was accepted
    assert [c.role for c in model.calls].count("synthesizer") == 0  # no call past the deadline


def test_a_hung_request_on_the_wire_is_cut_at_the_team_deadline() -> None:
    team = make_team("alpha", budget={"timeout_s": 3})
    with flaky_proxy() as proxy:
        proxy.hang(60, times=100, when=is_worker)
        chat = ChatOpenAI(model="gpt-test", api_key="k", base_url=proxy.base_url, max_retries=0)  # type: ignore[arg-type]
        started = time.monotonic()
        state = compiled(team).invoke({"task": "alpha work"}, run_config(), context=context(chat))
        elapsed = time.monotonic() - started
    assert elapsed < 8, f"took {elapsed:.1f}s"
    assert state["status"] == "budget_exhausted"
    assert all(r["status"] == "exhausted" for r in state["results"].values())


TEAM = """
name: stuck
specialists:
  - name: alpha
    description: does a
    tools: ["hang_model:dig"]
limits: {max_rounds: 1}
"""

MODEL = """
import os, threading
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from orchestra import SpecialistOutput
from orchestra.testing import ScriptedChatModel, plan_of, team_script

@tool
def dig(query: str) -> str:
    \"\"\"Dig one fact up.\"\"\"
    return "dug " + query

def _work(call):
    if not call.tool_results:
        call_ = {"name": "dig", "args": {"query": "q"}, "id": "c1"}
        return AIMessage(content="", tool_calls=[call_])
    open(os.environ["HANG_MARK"], "w").close()
    threading.Event().wait(120)  # a provider that never answers
    return SpecialistOutput(summary="never", key_points=[])

model = ScriptedChatModel(
    respond=team_script(plan=plan_of(("s1", "alpha", "first")), workers={"alpha": _work})
)
"""


def test_one_ctrl_c_stops_a_run_whose_model_call_hangs(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(TEAM)
    (tmp_path / "hang_model.py").write_text(MODEL)
    mark = tmp_path / "hanging"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCHESTRA"))}
    env |= {"PYTHONPATH": str(tmp_path), "HANG_MARK": str(mark)}
    command = [sys.executable, "-m", "orchestra", "run", "team.yaml", "--task", "go"]
    command += ["--thread", "h1", "--model", "import:hang_model:model", "--json"]
    run = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert run.poll() is None, run.communicate()[1]
            assert time.monotonic() < deadline, "the model call never started"
            time.sleep(0.05)
        pressed = time.monotonic()
        run.send_signal(signal.SIGINT)  # once
        _, err = run.communicate(timeout=15)
        took = time.monotonic() - pressed
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 130, err
    assert "interrupted" in err and "orchestra resume h1" in err
    assert took < 5, f"took {took:.1f}s after Ctrl-C"
