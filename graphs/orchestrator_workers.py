"""The orchestrator-workers pattern: plan → one ``Send`` per subtask → validate → synthesize.

Topology::

    START → orchestrator ─┬→ dispatch ─┬→ <specialist> ×N → validator → dispatch
                          └→ synthesizer  ├→ orchestrator (review: more rounds or done)
                                          └→ synthesizer → END
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from nodes import (
    make_dispatch,
    make_orchestrator,
    make_specialist,
    make_synthesizer,
    make_validator,
    model_retry_policy,
    resolve_team,
)
from nodes.resolve import ResolvedTeam
from state import TeamContext, TeamInput, TeamSpec, TeamState, WorkerInput

TeamGraph = StateGraph[TeamState, TeamContext, TeamInput, TeamState]
CompiledTeam = CompiledStateGraph[TeamState, TeamContext, TeamInput, TeamState]


def build(team: TeamSpec | ResolvedTeam) -> TeamGraph:
    """Compile-ready graph of ``team`` in the orchestrator-workers pattern.

    The spec is validated completely first (one ``TeamSpecError`` lists every problem).
    No model is built here: nodes resolve theirs when they run.

    Example:
        >>> from state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="demo", specialists=[
        ...     SpecialistSpec(name="researcher", description="finds facts")])
        >>> graph = build(team).compile()
        >>> graph.invoke({"task": "What is LangGraph?"}, context=TeamContext(model="offline"),
        ...              config={"recursion_limit": 50, "max_concurrency": 4})["status"]
        'completed'
    """
    resolved = team if isinstance(team, ResolvedTeam) else resolve_team(team)
    names = tuple(resolved.specialists)
    retry = model_retry_policy()
    graph: TeamGraph = StateGraph(TeamState, context_schema=TeamContext, input_schema=TeamInput)
    graph.add_node(
        "orchestrator",
        make_orchestrator(resolved),
        retry_policy=retry,
        destinations=("dispatch", "synthesizer"),
    )
    graph.add_node(
        "dispatch", make_dispatch(resolved), destinations=(*names, "orchestrator", "synthesizer")
    )
    for name, worker in resolved.specialists.items():
        graph.add_node(
            name,
            make_specialist(worker, resolved),
            input_schema=WorkerInput,
            retry_policy=retry,
            metadata={"role": "specialist", "specialist": name},
        )
        graph.add_edge(name, "validator")
    graph.add_node("validator", make_validator(resolved))
    graph.add_node("synthesizer", make_synthesizer(resolved), retry_policy=retry)
    graph.add_edge(START, "orchestrator")
    graph.add_edge("validator", "dispatch")
    graph.add_edge("synthesizer", END)
    return graph


def compile_team(
    team: TeamSpec | ResolvedTeam, *, checkpointer: BaseCheckpointSaver[str] | None = None
) -> CompiledTeam:
    """``build(team).compile(...)`` with the team's limits baked into the graph's config.

    ``recursion_limit`` and ``max_concurrency`` become the compiled graph's defaults, so
    every caller (Studio included) gets them without passing them.

    Example:
        >>> from state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="demo", limits={"max_concurrency": 4}, specialists=[
        ...     SpecialistSpec(name="researcher", description="finds facts")])
        >>> compile_team(team).config["max_concurrency"]
        4
    """
    spec = team.spec if isinstance(team, ResolvedTeam) else team
    compiled = build(team).compile(checkpointer=checkpointer, name=spec.name)
    return compiled.with_config(
        recursion_limit=spec.limits.recursion_limit,
        max_concurrency=spec.limits.max_concurrency,
    )
