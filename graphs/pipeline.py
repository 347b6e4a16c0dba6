"""The sequential pipeline: fixed stages, a validator between each, the last stage answers.

Topology (stages research → draft)::

    START → pipeline → research → validate_research ─┬→ research (revise)
                                                    ├→ draft → validate_draft ─┬→ draft
                                                    └→ finish                  └→ finish → END
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from orchestra.graphs.orchestrator_workers import TeamGraph
from orchestra.graphs.synthesis import add_synthesizer
from orchestra.nodes import make_specialist, resolve_team
from orchestra.nodes.pipeline import (
    make_finish,
    make_pipeline_plan,
    make_stage,
    make_stage_validator,
    stage_names,
)
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import TeamContext, TeamInput, TeamSpec, TeamState


def build(team: TeamSpec | ResolvedTeam) -> TeamGraph:
    """Compile-ready graph of ``team`` as a sequential pipeline.

    Stage ``k`` receives the task and the typed outputs of stages ``< k``; the answer is
    the last stage's output (``pipeline.answer: last_stage``) or a synthesis of all.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamContext, TeamSpec
        >>> team = TeamSpec(name="doc", pattern="pipeline", specialists=[
        ...     SpecialistSpec(name="research", description="finds facts"),
        ...     SpecialistSpec(name="draft", description="writes a draft")])
        >>> state = build(team).compile().invoke(
        ...     {"task": "Explain checkpoints"}, {"recursion_limit": 40, "max_concurrency": 2},
        ...     context=TeamContext(model="offline"))
        >>> [r["id"] for r in state["plan"]], state["status"]
        (['research', 'draft'], 'completed')
    """
    resolved = team if isinstance(team, ResolvedTeam) else resolve_team(team)
    stages = stage_names(resolved)
    end = "synthesizer" if resolved.spec.pipeline.answer == "synthesis" else "finish"
    # No node retries: each model step retries itself (see orchestrator_workers.build).
    graph: TeamGraph = StateGraph(TeamState, context_schema=TeamContext, input_schema=TeamInput)
    graph.add_node("pipeline", make_pipeline_plan(resolved), metadata={"role": "planner"})
    for k, name in enumerate(stages):
        worker = make_specialist(resolved.specialists[name], resolved)
        graph.add_node(
            name,
            make_stage(name, worker, resolved),
            metadata={"role": "specialist", "specialist": name},
        )
        following = stages[k + 1] if k + 1 < len(stages) else end
        graph.add_node(
            f"validate_{name}",
            make_stage_validator(resolved, name, end),
            destinations=tuple(dict.fromkeys((name, following, end))),
            metadata={"role": "validator", "specialist": name},
        )
        graph.add_edge(name, f"validate_{name}")
    if end == "synthesizer":
        add_synthesizer(graph, resolved)
    else:
        graph.add_node(end, make_finish(resolved), metadata={"role": "finish"})
        graph.add_edge(end, END)
    graph.add_edge(START, "pipeline")
    graph.add_edge("pipeline", stages[0])
    return graph
