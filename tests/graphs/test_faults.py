"""Bad model output and provider faults: each is handled with a recorded reason, no run
hangs or crashes, and no finished result is lost."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from orchestra.nodes import (
    FaultyChatModel,
    ScriptedChatModel,
    WorkerCall,
    plan_of,
    team_script,
    tool_call,
)
from orchestra.nodes.function_model import BoundTool
from orchestra.state import RunStatus

FAST = {"retry_attempts": 3, "retry_initial_s": 0.001}
STATUSES = set(RunStatus.__args__)  # type: ignore[attr-defined]


@tool
def lookup(query: str) -> str:
    """Look a fact up."""
    return f"fact: {query}"


def faulty_team(**rates: Any) -> tuple[dict[str, Any], FaultyChatModel]:
    team = make_team(
        "researcher", "writer", tools={"researcher": [lookup]}, limits=FAST | {"max_revisions": 2}
    )
    model = FaultyChatModel(**rates)
    state = compiled(team).invoke(
        {"task": "Find researcher facts about SQLite. Then writer summary."},
        run_config(),
        context=context(model),
    )
    return state, model


def test_transient_provider_errors_are_retried_with_backoff() -> None:
    state, model = faulty_team(transient_rate=0.3, seed=3)
    assert "transient" in model.faults
    assert state["status"] == "completed"


def test_malformed_and_wrong_schema_output_is_repaired_from_the_fed_back_error() -> None:
    state, model = faulty_team(malformed_rate=0.25, wrong_schema_rate=0.25, seed=2)
    assert {"malformed", "wrong_schema"} <= set(model.faults)
    assert state["status"] in {"completed", "partial"}
    accepted = [r for r in state["results"].values() if r["status"] == "accepted"]
    assert accepted and all(r["output"] for r in accepted)


def test_calls_to_tools_a_worker_does_not_have_are_refused_never_run() -> None:
    state, model = faulty_team(unknown_tool_rate=0.4, seed=0)
    refused = [t for r in state["results"].values() for t in r["tool_calls"] if "refused" in t]
    assert refused and all(t == "refused:delete_database" for t in refused)


def test_a_subtask_whose_output_stays_invalid_fails_with_the_raw_output_kept() -> None:
    def garbage(call: WorkerCall) -> AIMessage:
        return AIMessage(content="", tool_calls=[tool_call("SpecialistOutput", {"summary": 42})])

    team = make_team("alpha", limits={"max_revisions": 0}, alpha_spec={"max_steps": 2})
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": garbage})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    result = state["results"]["s1"]
    assert result["status"] == "failed"
    assert "validation error(s) for SpecialistOutput" in result["reason"]
    assert result["raw"] == '[{"summary": 42}]'


@pytest.mark.parametrize("seed", range(6))
def test_every_fault_at_once_still_ends_with_a_status_and_keeps_finished_work(seed: int) -> None:
    state, model = faulty_team(
        transient_rate=0.1,
        malformed_rate=0.15,
        wrong_schema_rate=0.15,
        unknown_tool_rate=0.1,
        seed=seed,
    )
    assert state["status"] in STATUSES - {"running"}
    assert state["reason"]
    for result in state["results"].values():
        if result["status"] == "accepted":
            assert result["output"] is not None and result["summary"]
        elif result["status"] in {"failed", "rejected", "skipped", "exhausted"}:
            assert result.get("reason")
            assert result["subtask_id"] in state["answer"]  # named, not hidden


# -- property test: arbitrary garbage from every role ------------------------------------

names = st.sampled_from(["Plan", "Synthesis", "SpecialistOutput", "lookup", "nope", ""])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
replies = st.one_of(
    st.text(max_size=40).map(lambda t: AIMessage(content=t)),
    st.lists(
        st.tuples(names, st.dictionaries(st.text(max_size=10), json_values, max_size=4)),
        min_size=1,
        max_size=3,
    ).map(lambda calls: AIMessage(content="", tool_calls=[tool_call(n, a) for n, a in calls])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(replies, min_size=1, max_size=40))
def test_any_garbage_from_any_role_ends_within_the_caps_with_a_status(
    script: list[AIMessage],
) -> None:
    queue = list(script)

    def respond(messages: Any, tools: list[BoundTool]) -> AIMessage:
        # Garbage first, then the offline policy: the run must survive either way.
        from orchestra.nodes import OfflineChatModel

        return queue.pop(0) if queue else OfflineChatModel().reply(messages, tools, None)

    limits = {
        "max_rounds": 2,
        "max_revisions": 1,
        "max_plan_revisions": 1,
        "max_workers_per_round": 3,
        "max_model_calls": 40,
        "recursion_limit": 200,
        "max_concurrency": 1,
    }
    team = make_team(
        "alpha",
        "beta",
        tools={"alpha": [lookup]},
        limits=limits,
        alpha_spec={"max_steps": 3},
        beta_spec={"max_steps": 3},
    )
    model = ScriptedChatModel(respond=respond)
    state = compiled(team).invoke(
        {"task": "alpha and beta work"}, run_config(), context=context(model)
    )

    assert state["status"] in STATUSES - {"running"}
    # plan tries x rounds + review tries + every worker's steps x attempts + 1 synthesis
    assert model.call_count <= 2 * 3 + 3 * 3 * 2 * 2 + 2 + 1
    assert state["model_calls"] == model.call_count


def test_faults_are_reproducible_from_the_seed() -> None:
    first = faulty_team(malformed_rate=0.3, seed=42)[1].faults
    second = faulty_team(malformed_rate=0.3, seed=42)[1].faults
    assert first == second and first
