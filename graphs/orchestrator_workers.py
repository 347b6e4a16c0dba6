"""The orchestrator-workers pattern: plan → one ``Send`` per subtask → validate → synthesize.

Topology::

    START → orchestrator ─┬→ dispatch ─┬→ <specialist> ×N → validator → dispatch
                          └→ synthesizer  ├→ orchestrator (review: more rounds or done)
                                          └→ synthesizer → END

With ``orchestrator.review: false``, finished work goes from dispatch to the synthesizer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from orchestra.graphs.synthesis import add_synthesizer
from orchestra.nodes import (
    make_dispatch,
    make_orchestrator,
    make_specialist,
    make_validator,
    resolve_team,
)
from orchestra.nodes.approval import make_plan_approval
from orchestra.nodes.guard import guard_branch
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.role_calls import bounded_orchestrator
from orchestra.nodes.runnable import Node
from orchestra.state import TeamContext, TeamInput, TeamSpec, TeamSpecError, TeamState, WorkerInput

TeamGraph = StateGraph[TeamState, TeamContext, TeamInput, TeamState]
CompiledTeam = CompiledStateGraph[TeamState, TeamContext, TeamInput, TeamState]


def build(
    team: TeamSpec | ResolvedTeam,
    *,
    workers: Mapping[str, Node[WorkerInput, dict[str, Any]]] | None = None,
) -> TeamGraph:
    """Compile-ready graph of ``team`` in the orchestrator-workers pattern.

    The spec is validated completely first (one ``TeamSpecError`` lists every problem).
    No model is built here: nodes resolve theirs when they run. ``workers`` replaces the
    node of some specialists (the hierarchical pattern passes its sub-teams this way).

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="demo", specialists=[
        ...     SpecialistSpec(name="researcher", description="finds facts")])
        >>> graph = build(team).compile()
        >>> graph.invoke({"task": "What is LangGraph?"}, context=TeamContext(model="offline"),
        ...              config={"recursion_limit": 50, "max_concurrency": 4})["status"]
        'completed'
    """
    resolved = team if isinstance(team, ResolvedTeam) else resolve_team(team)
    given = dict(workers or {})
    teams = [
        s.name for s in resolved.spec.specialists if s.team is not None and s.name not in given
    ]
    if teams:
        raise TeamSpecError(
            resolved.spec.name,
            [f"specialists {teams} are teams: build them with orchestra.graphs.hierarchical.build"],
        )
    names = tuple(resolved.specialists)
    approval = resolved.spec.approval.plan
    # No node retries: each model step retries itself (orchestra.nodes.model_call), and a
    # worker's steps are durable tasks that a node retry would misnumber (nodes.durable).
    graph: TeamGraph = StateGraph(TeamState, context_schema=TeamContext, input_schema=TeamInput)
    graph.add_node(
        "orchestrator",
        bounded_orchestrator(make_orchestrator(resolved), resolved),
        destinations=("approve_plan", "synthesizer") if approval else ("dispatch", "synthesizer"),
        metadata={"role": "orchestrator"},
    )
    if approval:
        graph.add_node(
            "approve_plan",
            make_plan_approval(resolved),
            destinations=("dispatch", "orchestrator", "synthesizer"),
            metadata={"role": "approval"},
        )
    graph.add_node(
        "dispatch",
        # review: false goes from the finished work straight to the synthesizer.
        make_dispatch(
            resolved, settled="orchestrator" if resolved.spec.orchestrator.review else "synthesizer"
        ),
        destinations=(*names, "orchestrator", "synthesizer"),
        metadata={"role": "dispatch"},
    )
    for name, worker in resolved.specialists.items():
        node = given.get(name) or make_specialist(worker, resolved)
        graph.add_node(
            name,
            guard_branch(node, name),
            input_schema=WorkerInput,
            metadata={"role": "specialist", "specialist": name},
        )
        graph.add_edge(name, "validator")
    graph.add_node("validator", make_validator(resolved), metadata={"role": "validator"})
    add_synthesizer(graph, resolved)
    graph.add_edge(START, "orchestrator")
    graph.add_edge("validator", "dispatch")
    return graph
