"""Team caps hold per call: with 30 workers dispatched at once, a team's spend passes its
token or cost cap by at most the calls in flight, and ``max_model_calls`` is never passed.

The model reports large usage (every worker's reply is long) and answers slowly enough
that workers overlap, so the bound is tested where it is tight: before the accounts, each
worker spent its carved share and 30 calls went over.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import compiled, context, make_team, run_config

from orchestra.graphs.render import reserved_line
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import SpecialistOutput, SpecialistSpec, TeamSpec, totals

WORKERS = 30
PRICES = {"orchestra-scripted": {"input": 1000.0, "output": 1000.0}}
"""A dollar per thousand tokens: the cost cap binds like the token cap."""


def long_answer(call: WorkerCall) -> SpecialistOutput:
    """A worker's reply, about 1,500 tokens: large usage."""
    return SpecialistOutput(summary=f"{call.subtask_id}: " + "finding " * 1500, key_points=[])


def plan_for(names: list[str]) -> Any:
    def plan(text: str, round_no: int) -> Any:
        if round_no > 1:
            return plan_of()
        if "- part:" in text:  # a child team's orchestrator
            return plan_of(*((f"c{i}", "part", f"part {i}") for i in range(1, 11)))
        return plan_of(*((f"s{i}", n, f"do {n}") for i, n in enumerate(names, start=1)))

    return plan


def model_for(names: list[str]) -> ScriptedChatModel:
    script = team_script(plan=plan_for(names), workers={"w": long_answer, "part": long_answer})
    # Slow enough that workers overlap: every turn the team allows is in flight at once.
    return ScriptedChatModel(respond=script, latency_ms=15)


def limits(concurrency: int, **more: Any) -> dict[str, Any]:
    return {"max_concurrency": concurrency, "max_workers_per_round": WORKERS} | more


Cap = tuple[str, float]


def budget_of(cap: Cap) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The team's budget, limits and prices for one cap."""
    kind, value = cap
    if kind == "calls":
        return {}, {"max_model_calls": int(value)}, {}
    if kind == "tokens":
        return {"max_tokens": int(value)}, {}, {}
    return {"max_cost_usd": value}, {}, {"prices": PRICES}


def flat_team(pattern: str, concurrency: int, cap: Cap) -> tuple[TeamSpec, list[str]]:
    budget, caps, prices = budget_of(cap)
    if pattern == "pipeline":
        names = [f"w{i}" for i in range(1, WORKERS + 1)]
        team = make_team(*names, pattern="pipeline", budget=budget, **prices)
        # The pipeline's stages are specialists of their own; each answers like ``w``.
        team = team.model_copy(update={"limits": team.limits.model_copy(update=caps)})
        return team, names
    if pattern == "fan_out":
        team = make_team("w", pattern="fan_out", fan_out={"map": "w"}, budget=budget, **prices)
    else:
        team = make_team("w", budget=budget, **prices)
    team = team.model_copy(
        update={"limits": team.limits.model_copy(update=limits(concurrency, **caps))}
    )
    return team, ["w"] * WORKERS


def nested_team(concurrency: int, cap: Cap) -> TeamSpec:
    """Three child teams of ten workers each, each child with a budget of its own."""
    budget, caps, prices = budget_of(cap)
    child_budget = {k: v * 0.3 for k, v in budget.items()}  # three of them within the parent
    child = TeamSpec(
        name="crew",
        specialists=[SpecialistSpec(name="part", description="does one part")],
        budget={k: int(v) if k == "max_tokens" else v for k, v in child_budget.items()},
        limits=limits(concurrency),
        **prices,
    )
    return TeamSpec(
        name="boss",
        pattern="hierarchical",
        budget=budget,
        limits=limits(concurrency, **caps),
        specialists=[
            SpecialistSpec(name=f"crew{i}", description="a crew that does a third", team=child)
            for i in range(1, 4)
        ],
        **prices,
    )


def pipeline_model(names: list[str]) -> ScriptedChatModel:
    script = team_script(workers={n: long_answer for n in names})
    return ScriptedChatModel(respond=script, latency_ms=15)


def run(pattern: str, concurrency: int, cap: Cap, *, use_async: bool = False) -> Any:
    if pattern == "hierarchical":
        team, model = nested_team(concurrency, cap), model_for(["crew1", "crew2", "crew3"])
    else:
        team, names = flat_team(pattern, concurrency, cap)
        model = pipeline_model(names) if pattern == "pipeline" else model_for(names)
    task = "\n".join(f"item {i}" for i in range(1, WORKERS + 1))
    # The pool the runner sizes (workers waiting for a turn plus their durable steps).
    config = run_config(recursion_limit=400, max_concurrency=team.limits.task_pool)
    graph = compiled(team)
    if use_async:
        state = asyncio.run(graph.ainvoke({"task": task}, config, context=context(model)))
    else:
        state = graph.invoke({"task": task}, config, context=context(model))
    return state, model


def in_flight(pattern: str, concurrency: int) -> int:
    """The calls that may be in flight at once: each team's turns, down the tree."""
    if pattern == "pipeline":
        return 1  # one stage at a time
    if pattern == "hierarchical":
        return min(3, concurrency) * concurrency  # crews at once, each with its turns
    return concurrency


PATTERNS = ["orchestrator_workers", "pipeline", "fan_out", "hierarchical"]
CONCURRENCY = [1, 4, 16]


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_token_cap_is_passed_by_at_most_the_calls_in_flight(
    pattern: str, concurrency: int
) -> None:
    cap = 9000
    state, model = run(pattern, concurrency, ("tokens", cap))
    largest = max(model.tokens_per_call)

    assert state["status"] == "budget_exhausted"
    assert "max_tokens" in state["reason"]
    assert state["usage"]["tokens"] == sum(model.tokens_per_call)  # every call counted
    assert cap <= state["usage"]["tokens"] <= cap + in_flight(pattern, concurrency) * largest
    assert model.call_count < WORKERS  # the cap stopped work, not the plan running out


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_cost_cap_is_passed_by_at_most_the_calls_in_flight(
    pattern: str, concurrency: int
) -> None:
    cap = 9.0  # dollars: about 9,000 tokens at these prices
    state, model = run(pattern, concurrency, ("cost", cap))
    largest = max(model.tokens_per_call) / 1000

    assert state["status"] == "budget_exhausted"
    assert "max_cost_usd" in state["reason"]
    assert state["usage"]["cost_usd"] == pytest.approx(sum(model.tokens_per_call) / 1000)
    assert cap <= state["usage"]["cost_usd"] <= cap + in_flight(pattern, concurrency) * largest
    assert model.call_count < WORKERS


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_max_model_calls_is_never_passed_and_ends_cap_reached(
    pattern: str, concurrency: int
) -> None:
    cap = 12
    state, model = run(pattern, concurrency, ("calls", cap))

    assert model.call_count <= cap
    assert state["usage"]["model_calls"] == model.call_count
    assert state["status"] == "cap_reached", state["reason"]
    assert "max_model_calls" in state["reason"]
    # What the cap stopped says so: a subtask's reason, or (a child team's) the notes.
    told = [r.get("reason", "") for r in state["results"].values()] + state["notes"]
    assert any("max_model_calls" in text for text in told)


@pytest.mark.parametrize("pattern", ["orchestrator_workers", "hierarchical"])
def test_the_caps_hold_in_async_runs_too(pattern: str) -> None:
    state, model = run(pattern, 16, ("tokens", 9000), use_async=True)
    assert state["status"] == "budget_exhausted"
    largest = max(model.tokens_per_call)
    assert state["usage"]["tokens"] <= 9000 + in_flight(pattern, 16) * largest

    state, model = run(pattern, 16, ("calls", 12), use_async=True)
    assert model.call_count <= 12
    assert state["status"] == "cap_reached"


def test_a_refused_call_leaves_nothing_reserved() -> None:
    team, names = flat_team("orchestrator_workers", 4, ("tokens", 9000))
    model = model_for(names)
    graph_context = context(model)
    task = "\n".join(f"item {i}" for i in range(1, WORKERS + 1))
    config = run_config(max_concurrency=team.limits.task_pool)
    state = compiled(team).invoke({"task": task}, config, context=graph_context)

    assert state["status"] == "budget_exhausted"
    key = f"t1@{state['started_at']!r}"
    account = graph_context.purse.account(key)
    assert account is not None
    assert (account.held_calls, account.held_tokens) == (0, 0)
    assert account.tokens == state["usage"]["tokens"]
    assert account.calls == model.call_count


def test_the_ledger_shows_what_was_reserved_against_what_was_spent() -> None:
    state, model = run("orchestrator_workers", 4, ("tokens", 9000))
    spent = totals(state["ledger"])

    # Every call was reserved before it was sent, and every one was answered.
    assert spent["reserved_calls"] == spent["model_calls"] == model.call_count
    # A reservation holds the account's mean call so far: the first holds nothing, the
    # later ones about a worker's reply each, so what was held trails what was spent.
    assert 0 < spent["reserved_tokens"] < spent["tokens"]
    worker = next(e for e in state["ledger"].values() if e["role"] == "specialist")
    assert worker["reserved_calls"] == worker["model_calls"]
    line = reserved_line(spent)
    assert line is not None and f"reserved: {spent['reserved_calls']} calls" in line


def test_a_reserved_call_that_fails_shows_as_reserved_without_an_answer() -> None:
    def broken(call: WorkerCall) -> SpecialistOutput:
        raise ValueError("the model's server refused the request")  # permanent: no retry

    team = make_team("w", budget={"max_tokens": 100_000})
    script = team_script(plan=plan_of(("s1", "w", "do it")), workers={"w": broken})
    model = ScriptedChatModel(respond=script)
    state = compiled(team).invoke({"task": "do it"}, run_config(), context=context(model))

    spent = totals(state["ledger"])
    assert spent["reserved_calls"] == spent["model_calls"] + 1
    assert "1 reserved without an answer" in (reserved_line(spent) or "")
