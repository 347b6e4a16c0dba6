"""One retry layer: a model step retries its own transient errors, and nothing else does.

Requests are counted on the wire (a loopback OpenAI-compatible server behind a proxy that
fails requests as scripted), with the SDK's own retries off.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import openai
import pytest
from conftest import compiled, context, make_team, run_config
from flaky_proxy import flaky_proxy, is_planner
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletion

from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.nodes import Backoff, ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.nodes.call_bounds import CallBounds, calls_within
from orchestra.nodes.model_call import acall_model, billed_before, call_model, from_model
from orchestra.nodes.retry import retry_after_s
from orchestra.state import SpecialistOutput, TransientModelError


def wire_model(base_url: str) -> ChatOpenAI:
    # The SDK's own retries off: orchestra's step is the only retry layer.
    return ChatOpenAI(model="gpt-test", api_key="test-key", base_url=base_url, max_retries=0)  # type: ignore[arg-type]


def fast(retries: int) -> CallBounds:
    return CallBounds(backoff=Backoff(retries=retries, initial_s=0.001))


def _error(kind: type[openai.APIStatusError], status: int, **headers: str) -> Exception:
    response = httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x"))
    return kind("scripted", response=response, body=None)


def test_retry_after_is_read_from_either_header() -> None:
    assert retry_after_s(_error(openai.RateLimitError, 429, **{"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(_error(openai.RateLimitError, 429, **{"Retry-After": "3"})) == 3.0
    assert retry_after_s(_error(openai.RateLimitError, 429)) is None
    assert (
        Backoff(initial_s=0.001).wait_s(
            0, _error(openai.RateLimitError, 429, **{"retry-after": "90"})
        )
        == 60.0
    )


def test_a_rate_limited_request_waits_as_long_as_retry_after_says() -> None:
    with flaky_proxy() as proxy:
        proxy.fail(429, headers={"retry-after-ms": "400", "Retry-After": "1"})
        with calls_within(fast(3)):
            reply, latency, requests = call_model(
                wire_model(proxy.base_url), [HumanMessage("hi")], {}
            )
        (first, _), (second, _) = proxy.arrivals
    assert isinstance(reply, AIMessage) and requests == 2
    assert 0.4 <= second - first < 0.9  # the header's 400 ms, not the 1 ms backoff
    assert latency >= 0.4


@pytest.mark.parametrize("retries", [0, 2])
def test_a_model_call_makes_at_most_one_plus_retries_requests(retries: int) -> None:
    with flaky_proxy() as proxy:
        proxy.fail(503, times=10, message="overloaded")
        with calls_within(fast(retries)), pytest.raises(openai.InternalServerError) as raised:
            call_model(wire_model(proxy.base_url), [HumanMessage("hi")], {})
        assert len(proxy.requests) == 1 + retries
    assert f"gave up after {1 + retries} requests" in str(raised.value.__notes__)


def test_a_permanent_error_is_not_retried() -> None:
    with flaky_proxy() as proxy:
        proxy.fail(400, times=10, message="Invalid parameter: messages")
        with (
            calls_within(fast(3)),
            pytest.raises(openai.BadRequestError, match="Invalid parameter"),
        ):
            asyncio.run(acall_model(wire_model(proxy.base_url), [HumanMessage("hi")], {}))
        assert len(proxy.requests) == 1


def test_a_team_run_makes_one_plus_retry_attempts_requests_per_model_call(tmp_path: Any) -> None:
    team = make_team("alpha", limits={"retry_attempts": 2, "retry_initial_s": 0.001})
    with flaky_proxy() as proxy, open_checkpointer(tmp_path / "db.sqlite") as saver:
        proxy.fail(500, times=100, when=is_planner)
        result = run_team(team, "alpha work", saver=saver, model=wire_model(proxy.base_url))
        assert len(proxy.requests) == 3  # not 3 x the SDK's retries x a node's retries
    assert result.status == "interrupted"  # an outage outlasting the retries: a resume retries
    assert "Error code: 500" in (result.error or "")


def test_a_401_of_a_worker_fails_its_subtask_with_the_message_and_the_run_goes_on() -> None:
    team = make_team("alpha", "beta")
    plan = plan_of(("s1", "alpha", "a"), ("s2", "beta", "b", ["s1"]), ("s3", "beta", "c"))

    def alpha(call: WorkerCall) -> SpecialistOutput:
        raise _error(openai.AuthenticationError, 401)

    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    s1, s2, s3 = (state["results"][s] for s in ("s1", "s2", "s3"))
    assert s1["status"] == "failed" and s1["reason"] == "AuthenticationError: scripted"
    assert s2["status"] == "skipped" and s3["status"] == "accepted"
    assert state["status"] == "partial" and "s1" in state["answer"]
    assert len(model.calls_for("alpha")) == 1


def test_a_401_on_the_wire_fails_the_run_by_name_with_the_providers_message() -> None:
    team = make_team("alpha", limits={"retry_initial_s": 0.001})
    with flaky_proxy() as proxy:
        proxy.fail(401, times=10, message="Incorrect API key provided: sk-...")
        state = compiled(team).invoke(
            {"task": "alpha work"}, run_config(), context=context(wire_model(proxy.base_url))
        )
        # one refused request for the plan, one for the synthesis; none retried
        assert len(proxy.requests) == 2
    assert state["status"] == "failed" and state["reason_code"] == "model_error"
    assert "Incorrect API key provided" in state["reason"]
    assert "orchestrator" in state["reason"]


def test_a_400_of_the_synthesizer_fails_the_run_but_keeps_the_accepted_results() -> None:
    team = make_team("alpha", limits={"retry_initial_s": 0.001})
    with flaky_proxy() as proxy:
        synthesis = lambda body: "Synthesis" in json_schema_name(body)  # noqa: E731
        proxy.fail(400, times=10, message="The model does not support this request", when=synthesis)
        state = compiled(team).invoke(
            {"task": "alpha work"}, run_config(), context=context(wire_model(proxy.base_url))
        )
    assert state["status"] == "failed" and state["reason_code"] == "model_error"
    assert "The model does not support this request" in state["reason"]
    accepted = [r for r in state["results"].values() if r["status"] == "accepted"]
    assert accepted and all(r["subtask_id"] in state["answer"] for r in accepted)
    assert state["ledger"]["synthesizer"]["model_calls"] == 0  # a refused call bills nothing


def json_schema_name(body: dict[str, Any]) -> str:
    return str(((body.get("response_format") or {}).get("json_schema") or {}).get("name", ""))


@tool
def fetch(query: str) -> str:
    """Fetch a fact."""
    fetched.append(query)
    return f"fact about {query}"


fetched: list[str] = []


@pytest.mark.parametrize("is_async", [False, True])
def test_a_transient_error_in_a_workers_second_call_repeats_only_that_call(is_async: bool) -> None:
    fetched.clear()
    failures = {"left": 1}

    def alpha(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if not call.tool_results:
            return AIMessage(content="", tool_calls=[tool_call("fetch", {"query": "q"})])
        if failures["left"]:
            failures["left"] -= 1
            raise TransientModelError("503 Service Unavailable")
        return SpecialistOutput(summary=call.tool_results[-1], key_points=[])

    team = make_team(
        "alpha", tools={"alpha": [fetch]}, limits={"retry_attempts": 2, "retry_initial_s": 0.001}
    )
    plan = plan_of(("s1", "alpha", "look it up"))
    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha}))
    graph, payload = compiled(team), {"task": "t"}
    if is_async:
        state = asyncio.run(graph.ainvoke(payload, run_config(), context=context(model)))
    else:
        state = graph.invoke(payload, run_config(), context=context(model))
    assert state["status"] == "completed"
    steps = [c for c in model.calls_for("alpha")]
    assert len(steps) == 3  # the 1st call once, the 2nd twice: no re-run of the worker
    assert fetched == ["q"]  # its tool call was not repeated either
    entry = state["ledger"]["s1"]
    assert entry["model_calls"] == 2 and entry["retries"] == 1


def test_the_backoff_between_retries_grows_but_never_passes_the_deadline() -> None:
    def always_down(call: WorkerCall) -> SpecialistOutput:
        raise TransientModelError("503")

    team = make_team(
        "alpha",
        limits={"retry_attempts": 20, "retry_initial_s": 5.0},
        budget={"timeout_s": 1.5},
    )
    model = ScriptedChatModel(respond=team_script(workers={"alpha": always_down}))
    started = time.monotonic()
    state = compiled(team).invoke({"task": "alpha work"}, run_config(), context=context(model))
    assert time.monotonic() - started < 4
    assert state["status"] == "budget_exhausted"
    assert all(r["status"] == "exhausted" for r in state["results"].values())


def test_a_reply_that_came_back_then_failed_parsing_is_billed_on_the_error() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": '{"a'},
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    )

    def parse(message: AIMessage) -> Any:
        raise openai.LengthFinishReasonError(completion=completion)

    model = ScriptedChatModel(respond=lambda messages, tools: "half a pla")
    with calls_within(fast(3)), pytest.raises(openai.LengthFinishReasonError) as raised:
        call_model(model | RunnableLambda(parse), [HumanMessage("plan")], {})
    assert from_model(raised.value) and model.call_count == 1  # permanent: not retried
    (billed,) = billed_before(raised.value)
    assert billed.usage_metadata == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
    assert billed.response_metadata["model_name"] == "gpt-4o-mini"
