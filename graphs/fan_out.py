"""Parallel fan-out (scatter-gather): static branches at once, a validator, a join policy.

Topology::

    START → scatter → dispatch ─┬→ <branch> ×N → validator → dispatch
                                ├→ gather ─┬→ synthesizer → END
                                │          └→ END (the join policy failed the run)
                                └→ synthesizer (model-call cap)
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from orchestra.graphs.orchestrator_workers import TeamGraph
from orchestra.graphs.synthesis import add_synthesizer
from orchestra.nodes import (
    make_dispatch,
    make_specialist,
    make_validator,
    resolve_team,
)
from orchestra.nodes.fan_out import make_branch_plan, make_gather
from orchestra.nodes.guard import guard_branch
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import TeamContext, TeamInput, TeamSpec, TeamState, WorkerInput


def build(team: TeamSpec | ResolvedTeam) -> TeamGraph:
    """Compile-ready graph of ``team`` as a parallel fan-out with its join policy.

    Branches are ``fan_out.branches`` (default: every specialist) on the same task, or
    ``fan_out.map``: one specialist once per line of the task.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamContext, TeamSpec
        >>> team = TeamSpec(name="poll", pattern="fan_out", fan_out={"join": "all"},
        ...     specialists=[SpecialistSpec(name="a", description="one view"),
        ...                  SpecialistSpec(name="b", description="another view")])
        >>> state = build(team).compile().invoke(
        ...     {"task": "Assess SQLite"}, {"recursion_limit": 40, "max_concurrency": 2},
        ...     context=TeamContext(model="offline"))
        >>> sorted(state["results"]), state["status"]
        (['a', 'b'], 'completed')
    """
    resolved = team if isinstance(team, ResolvedTeam) else resolve_team(team)
    settings = resolved.spec.fan_out
    used = [settings.map] if settings.map else settings.branches or list(resolved.specialists)
    # fail_fast lets a branch's error end the run; every other policy records it per branch.
    fail_fast = settings.join == "fail_fast"
    # No node retries: each model step retries itself (see orchestrator_workers.build).
    graph: TeamGraph = StateGraph(TeamState, context_schema=TeamContext, input_schema=TeamInput)
    graph.add_node("scatter", make_branch_plan(resolved), metadata={"role": "planner"})
    graph.add_node(
        "dispatch",
        make_dispatch(resolved, settled="gather"),
        destinations=(*used, "gather", "synthesizer"),
        metadata={"role": "dispatch"},
    )
    for name in used:
        worker = make_specialist(resolved.specialists[name], resolved)
        graph.add_node(
            name,
            worker if fail_fast else guard_branch(worker, name),
            input_schema=WorkerInput,
            metadata={"role": "specialist", "specialist": name},
        )
        graph.add_edge(name, "validator")
    graph.add_node("validator", make_validator(resolved), metadata={"role": "validator"})
    graph.add_node(
        "gather",
        make_gather(resolved),
        destinations=("synthesizer", END),
        metadata={"role": "join"},
    )
    add_synthesizer(graph, resolved)
    graph.add_edge(START, "scatter")
    graph.add_edge("scatter", "dispatch")
    graph.add_edge("validator", "dispatch")
    return graph
