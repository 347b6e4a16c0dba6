"""Budget envelopes and the usage ledger: caps stop work with a partial result and a reason,
and spend stays within one model call of every cap."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script, tool_call
from orchestra.state import Plan, SpecialistOutput, SpecialistSpec, TeamSpec, TeamSpecError


@tool
def dig(query: str) -> str:
    """Dig up one more fact."""
    return f"fact about {query}: " + "detail " * 20


def busy(call: WorkerCall) -> AIMessage:
    """A worker that never finishes on its own: it always wants one more fact."""
    return AIMessage(content="", tool_calls=[tool_call("dig", {"query": f"q{call.step}"})])


def run_busy(**specialist: Any) -> tuple[dict[str, Any], ScriptedChatModel]:
    team = make_team(
        "miner",
        tools={"miner": [dig]},
        miner_spec={"max_steps": 40} | specialist,
        limits={"max_model_calls": 100},
    )
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "miner", "mine")), workers={"miner": busy})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    return state, model


def worker_calls(model: ScriptedChatModel) -> list[int]:
    """Tokens of each call the worker made (the plan is the first call)."""
    return model.tokens_per_call[1 : 1 + len(model.calls_for("miner"))]


def test_a_token_budget_stops_the_worker_with_a_partial_result() -> None:
    state, model = run_busy(budget={"max_tokens": 2000})
    result = state["results"]["s1"]
    spent = state["ledger"]["s1"]["input_tokens"] + state["ledger"]["s1"]["output_tokens"]
    per_call = worker_calls(model)

    assert result["status"] == "exhausted"
    assert result["reason"].startswith("budget_exhausted: max_tokens")
    assert spent == sum(per_call)
    assert spent >= 2000 > spent - per_call[-1]  # over by at most the last call
    assert result["output"] is not None and "fact about q0" in result["summary"]  # work kept
    assert state["status"] == "budget_exhausted"
    assert "miner max_tokens" in state["reason"]


def test_a_cost_budget_uses_the_price_table() -> None:
    team_prices = {"orchestra-scripted": {"input": 1000.0, "output": 1000.0}}  # $0.001/token
    team = make_team(
        "miner",
        tools={"miner": [dig]},
        prices=team_prices,
        miner_spec={"max_steps": 40, "budget": {"max_cost_usd": 1.5}},
    )
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "miner", "mine")), workers={"miner": busy})
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    cost = state["ledger"]["s1"]["cost_usd"]
    last = worker_calls(model)[-1] / 1000

    assert state["results"]["s1"]["reason"].startswith("budget_exhausted: max_cost_usd")
    assert cost >= 1.5 > cost - last
    assert state["usage"]["cost_usd"] == pytest.approx(sum(model.tokens_per_call) / 1000)


def test_a_time_budget_stops_the_worker() -> None:
    team = make_team(
        "miner", tools={"miner": [dig]}, miner_spec={"max_steps": 40, "budget": {"timeout_s": 0.15}}
    )
    model = ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "miner", "mine")), workers={"miner": busy}),
        latency_ms=40,
    )
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert state["results"]["s1"]["reason"] == "budget_exhausted: timeout_s (time is up)"
    assert len(model.calls_for("miner")) < 40


def test_the_step_cap_keeps_the_work_done_as_a_partial_result() -> None:
    state, model = run_busy(max_steps=3)
    result = state["results"]["s1"]
    assert result["status"] == "exhausted"
    # the busy model ignores the forced last step (as a server ignoring tool_choice does)
    assert result["reason"] == (
        "budget_exhausted: max_steps (3 of 3): the model called dig when SpecialistOutput "
        "was forced"
    )
    assert "fact about q0" in result["summary"]
    assert len(model.calls_for("miner")) == 3


def test_the_team_budget_is_carved_and_stops_new_work_within_one_call() -> None:
    def worker(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary="x " * 200, key_points=[])

    plan = plan_of(("s1", "a", "one"), ("s2", "a", "two", ["s1"]), ("s3", "a", "three", ["s2"]))
    unbounded = ScriptedChatModel(respond=team_script(plan=plan, workers={"a": worker}))
    compiled(make_team("a")).invoke({"task": "t"}, run_config(), context=context(unbounded))
    plan_tokens, s1_tokens = unbounded.tokens_per_call[:2]
    cap = plan_tokens + s1_tokens + 1  # s2 may start, s3 may not

    model = ScriptedChatModel(respond=team_script(plan=plan, workers={"a": worker}))
    team = make_team("a", budget={"max_tokens": cap})
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert state["results"]["s3"]["status"] == "skipped"
    assert state["results"]["s3"]["reason"].startswith("budget_exhausted: team max_tokens")
    assert state["status"] == "budget_exhausted"
    assert state["usage"]["tokens"] == sum(model.tokens_per_call)
    assert state["usage"]["tokens"] - model.tokens_per_call[-1] < cap  # within one call
    assert [c.role for c in model.calls][-1] == "specialist"  # no synthesis call past the cap
    assert "s3" in state["answer"]


def test_the_orchestrator_sees_the_budget_left() -> None:
    seen: list[str] = []

    def plan(text: str, round_no: int) -> Any:
        seen.append(text)
        return plan_of(("s1", "a", "x")) if round_no == 1 else plan_of()

    team = make_team("a", budget={"max_tokens": 100000, "max_cost_usd": 5})
    model = ScriptedChatModel(respond=team_script(plan=plan))
    compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    assert (
        "## Budget used\nmodel calls: 0 of 500\ntokens: 0 of 100000\ncost: $0.0000 of $5" in seen[0]
    )
    assert "model calls: 2 of 500" in seen[1]


def test_the_ledger_accounts_for_every_call() -> None:
    plan = plan_of(("s1", "a", "x"), ("s2", "b", "y"))
    team = make_team(
        "a",
        "b",
        limits={"max_revisions": 1},
        b_spec={"checks": [lambda o: None if "v2" in o.summary else "need v2"]},
    )
    workers = {
        "a": SpecialistOutput(summary="a", key_points=[]),
        "b": lambda c: SpecialistOutput(summary="v2" if c.feedback else "v1", key_points=[]),
    }
    model = ScriptedChatModel(respond=team_script(plan=plan, workers=workers))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    ledger = state["ledger"]

    assert set(ledger) == {"orchestrator", "s1", "s2", "synthesizer"}
    assert ledger["s2"]["attempts"] == 2 and ledger["s2"]["revisions"] == 1
    assert ledger["s2"]["specialist"] == "b"
    assert (ledger["s1"]["status"], ledger["s2"]["status"]) == ("accepted", "accepted")
    assert ledger["orchestrator"]["attempts"] == 2  # the plan and the review
    assert state["usage"]["model_calls"] == model.call_count == state["model_calls"]
    assert state["usage"]["tokens"] == sum(model.tokens_per_call)
    assert all(e["latency_s"] >= 0 for e in ledger.values())


def test_a_pipeline_starts_no_stage_once_the_team_budget_is_spent() -> None:
    cap = 3000
    team = make_team(
        "miner",
        "editor",
        tools={"miner": [dig]},
        pattern="pipeline",
        miner_spec={"max_steps": 40},
        budget={"max_tokens": cap},
    )
    model = ScriptedChatModel(respond=team_script(workers={"miner": busy}))
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))

    assert model.calls_for("editor") == []
    assert state["results"]["editor"]["status"] == "skipped"
    # The miner's envelope was the team's rest: it stopped with a partial result, and an
    # exhausted stage is final (not judged into "accepted"), so the pipeline ends there.
    assert state["results"]["miner"]["status"] == "exhausted"
    assert state["results"]["editor"]["reason"] == "stage miner exhausted"
    assert state["status"] == "budget_exhausted"
    assert state["usage"]["tokens"] - model.tokens_per_call[-1] < cap <= state["usage"]["tokens"]


def nested(
    budget: dict[str, Any], pattern: str = "orchestrator_workers", **parent: Any
) -> TeamSpec:
    """A parent with the given budget whose specialists are teams with no budget of their own."""
    miner = SpecialistSpec(name="miner", description="mines facts", tools=[dig], max_steps=40)
    child = TeamSpec(name="mine", pattern=pattern, specialists=[miner])
    names = parent.pop("names", ["research"])
    return TeamSpec(
        name="boss",
        pattern="hierarchical",
        budget=budget,
        specialists=[
            SpecialistSpec(name=n, description="researches with a team", team=child) for n in names
        ],
        **parent,
    )


def nested_model(miner: Any, prompts: list[str] | None = None) -> ScriptedChatModel:
    def plan(text: str, round_no: int) -> Plan:
        child = "- miner:" in text
        if child and prompts is not None:
            prompts.append(text)
        if round_no > 1:
            return plan_of()
        if child:
            return plan_of(("c1", "miner", "mine"))
        names = re.findall(r"^- (research\w*):", text, flags=re.M)
        return plan_of(*((f"s{i}", n, f"dig {n}") for i, n in enumerate(names, start=1)))

    return ScriptedChatModel(respond=team_script(plan=plan, workers={"miner": miner}))


def nested_run(team: TeamSpec) -> tuple[dict[str, Any], ScriptedChatModel]:
    model = nested_model(busy)
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    return state, model


@pytest.mark.parametrize("pattern", ["orchestrator_workers", "pipeline", "fan_out"])
def test_a_nested_team_stops_at_its_share_of_the_parents_tokens(pattern: str) -> None:
    cap = 3000
    state, model = nested_run(nested({"max_tokens": cap}, pattern))
    result, entry = state["results"]["s1"], state["ledger"]["s1"]
    per_call = model.tokens_per_call

    assert len(model.calls_for("miner")) < 40  # stopped by the carved share, not by max_steps
    assert result["status"] == entry["status"] == "exhausted"
    assert result["reason"].startswith("budget_exhausted: miner max_tokens")
    assert result["output"] is not None  # the child's partial answer, and its partial work
    assert any("fact about q0" in point for point in result["output"]["key_points"])
    assert state["status"] == "budget_exhausted"
    assert state["reason"].startswith("research miner max_tokens")
    # the parent's ledger counts the child's spend, and the whole run stays within one call
    assert entry["input_tokens"] + entry["output_tokens"] == sum(per_call[1:])
    assert state["usage"]["tokens"] == sum(per_call)
    assert state["usage"]["tokens"] - per_call[-1] < cap <= state["usage"]["tokens"]
    assert [c.role for c in model.calls][-1] == "specialist"  # no synthesis past the cap


def test_a_nested_team_stops_at_its_share_of_the_parents_cost() -> None:
    cap, team_prices = 3.0, {"orchestra-scripted": {"input": 1000.0, "output": 1000.0}}
    state, model = nested_run(nested({"max_cost_usd": cap}, prices=team_prices))
    result = state["results"]["s1"]
    cost, last = state["usage"]["cost_usd"], model.tokens_per_call[-1] / 1000

    assert result["status"] == "exhausted"
    assert "miner max_cost_usd" in result["reason"]
    assert "team max_cost_usd (the parent's share)" in result["reason"]
    assert state["ledger"]["s1"]["cost_usd"] > 0  # the child priced with the parent's table
    assert cost == pytest.approx(sum(model.tokens_per_call) / 1000)
    assert cost - last < cap <= cost
    assert state["status"] == "budget_exhausted"


def test_a_nested_teams_orchestrator_sees_its_share_of_the_parents_budget() -> None:
    prompts: list[str] = []
    team = nested(
        {"max_tokens": 100000, "max_cost_usd": 5, "timeout_s": 300},
        names=["research_a", "research_b"],
    )
    for spec in team.specialists:  # the child's own cost cap is tighter than its share
        assert spec.team is not None
        spec.team.budget.max_cost_usd = 1
    model = nested_model(SpecialistOutput(summary="found", key_points=[]), prompts)
    state = compiled(team).invoke({"task": "t"}, run_config(), context=context(model))
    share = (100000 - model.tokens_per_call[0]) // 2  # the parent's plan, then two children

    assert state["status"] == "completed"
    firsts = [p for p in prompts if "round: 1 of" in p]
    assert len(firsts) == 2
    for text in firsts:
        assert (
            "## Budget used\nmodel calls: 0 of 500\n"
            f"tokens: 0 of {share} (the parent's share)\n"
            "cost: $0.0000 of $1\n"
            "time: 0s of 300s (the parent's share)"
        ) in text


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {
                "budget": {"max_tokens": 100},
                "specialists": [
                    {"name": "a", "description": "a", "budget": {"max_tokens": 80}},
                    {"name": "b", "description": "b", "budget": {"max_tokens": 40}},
                ],
            },
            "budget.max_tokens: the specialists' budgets together (120) exceed the team's (100)",
        ),
        (
            {
                "budget": {"timeout_s": 10},
                "specialists": [{"name": "a", "description": "a", "budget": {"timeout_s": 30}}],
            },
            "specialists.a.budget.timeout_s: 30 exceeds the team's 10",
        ),
        (
            {
                "pattern": "hierarchical",
                "budget": {"max_cost_usd": 1},
                "specialists": [
                    {
                        "name": "a",
                        "description": "a",
                        "budget": {"max_cost_usd": 1},
                        "team": {
                            "name": "c",
                            "budget": {"max_cost_usd": 2},
                            "specialists": [{"name": "x", "description": "x"}],
                        },
                    }
                ],
            },
            "specialists.a.team.budget.max_cost_usd: 2 exceeds the specialist's 1",
        ),
    ],
)
def test_a_child_budget_larger_than_its_parent_is_a_build_error(
    spec: dict[str, Any], problem: str
) -> None:
    from orchestra.graphs import compile_team

    with pytest.raises(TeamSpecError) as caught:
        compile_team(TeamSpec.model_validate({"name": "t"} | spec))
    assert problem in caught.value.problems


def test_a_stage_that_finishes_over_the_team_budget_starts_no_next_stage() -> None:
    def one_fact(call: WorkerCall) -> AIMessage | SpecialistOutput:
        if call.step == 0:
            return AIMessage(content="", tool_calls=[tool_call("dig", {"query": "q0"})])
        return SpecialistOutput(summary=call.tool_results[0], key_points=[])

    def run(budget: dict[str, Any]) -> tuple[dict[str, Any], ScriptedChatModel]:
        team = make_team(
            "miner", "editor", tools={"miner": [dig]}, pattern="pipeline", budget=budget
        )
        model = ScriptedChatModel(respond=team_script(workers={"miner": one_fact}))
        return compiled(team).invoke({"task": "t"}, run_config(), context=context(model)), model

    _, free = run({})
    first, second = free.tokens_per_call[:2]
    state, model = run({"max_tokens": first + second // 2})  # crossed by the finishing call

    assert state["results"]["miner"]["status"] == "accepted"
    assert model.calls_for("editor") == []
    assert state["results"]["editor"]["reason"] == (
        "budget_exhausted: team max_tokens before it could run"
    )
    assert state["status"] == "budget_exhausted"
