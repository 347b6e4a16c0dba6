"""The spec is resolved once per build and per run: one ``ResolvedTeam`` flows through."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from conftest import make_team
from langgraph.checkpoint.memory import InMemorySaver

from orchestra.graphs.patterns import compile_team
from orchestra.graphs.runner import resume_run, run_team, snapshot
from orchestra.nodes import resolve
from orchestra.state import PATTERNS, PatternName, SpecialistSpec, TeamSpec


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each specialist's imports were resolved."""
    seen: Counter[str] = Counter()
    real = resolve._resolve_specialist

    def counting(spec: SpecialistSpec, problems: list[str], *rest: Any) -> Any:
        seen[spec.name] += 1
        return real(spec, problems, *rest)

    monkeypatch.setattr(resolve, "_resolve_specialist", counting)
    return seen


def nested() -> TeamSpec:
    inner = make_team("digger", name="inner")
    middle = TeamSpec(
        name="middle",
        pattern="hierarchical",
        specialists=[SpecialistSpec(name="unit", description="the inner team", team=inner)],
    )
    return TeamSpec(
        name="outer",
        pattern="hierarchical",
        specialists=[
            SpecialistSpec(name="dept", description="the middle team", team=middle),
            SpecialistSpec(name="writer", description="writes"),
        ],
    )


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p != "hierarchical"])
def test_compiling_resolves_each_specialist_once(
    resolved: Counter[str], pattern: PatternName
) -> None:
    compile_team(make_team("alpha", "beta"), pattern=pattern)
    assert resolved == {"alpha": 1, "beta": 1}


def test_a_nested_team_is_resolved_once_with_its_parent(resolved: Counter[str]) -> None:
    compile_team(nested())
    assert resolved == {"dept": 1, "writer": 1, "unit": 1, "digger": 1}


def test_a_run_its_snapshot_and_its_resume_each_resolve_once(resolved: Counter[str]) -> None:
    saver = InMemorySaver()
    team = make_team("alpha", "beta", approval={"plan": True})
    run_team(team, "do it", saver=saver, thread_id="t1", model="offline")
    assert resolved == {"alpha": 1, "beta": 1}
    snapshot("t1", saver=saver)  # reads the stored structure: imports nothing
    assert resolved == {"alpha": 1, "beta": 1}
    done = resume_run("t1", saver=saver, model="offline", decision={"action": "approve"})
    assert done.status == "completed"
    assert resolved == {"alpha": 2, "beta": 2}
