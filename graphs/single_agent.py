"""The single-agent baseline: one agent with every specialist's tools and one prompt.

Measure a team against it before adding agents. It is a one-stage pipeline over a
derived specialist ``agent``: same input, same state and output types, same validator.
"""

from __future__ import annotations

from langchain_core.tools import BaseTool

from orchestra.graphs import pipeline
from orchestra.graphs.orchestrator_workers import TeamGraph
from orchestra.nodes import resolve_team
from orchestra.nodes.resolve import ResolvedSpecialist, ResolvedTeam
from orchestra.state import PipelineSpec, SpecialistOutput, SpecialistSpec, TeamSpec, TeamSpecError

AGENT = "agent"


def agent_spec(team: TeamSpec) -> TeamSpec:
    """``team`` as one agent: the union of the tools, the prompts merged, one step budget.

    The output type is the specialists' own when they all share one (then their checks
    apply too), else the default ``SpecialistOutput``.
    """
    if any(s.team is not None for s in team.specialists):
        raise TeamSpecError(team.name, ["a team with nested teams has no single-agent form"])
    tools = list({repr(t): t for s in team.specialists for t in s.tools}.values())
    outputs = {repr(s.output): s.output for s in team.specialists}
    output = next(iter(outputs.values())) if len(outputs) == 1 else None
    checks = [c for s in team.specialists for c in s.checks] if len(outputs) == 1 else []
    roles = "\n".join(
        f"- as {s.name}: {s.description}" + (f" {s.prompt}" if s.prompt else "")
        for s in team.specialists
    )
    agent = SpecialistSpec(
        name=AGENT,
        description="does the whole task alone: "
        + "; ".join(s.description for s in team.specialists),
        prompt=f"You do the work of a whole team by yourself:\n{roles}",
        tools=tools,
        model=team.specialists[0].model
        if len({repr(s.model) for s in team.specialists}) == 1
        else None,
        output=output,
        checks=checks,
        max_steps=min(100, sum(s.max_steps for s in team.specialists)),
    )
    return team.model_copy(
        update={
            "specialists": [agent],
            "pattern": "single_agent",
            "pipeline": PipelineSpec(stages=[AGENT], answer="last_stage"),
            # The agent holds every tool, so any approved specialist makes all its calls wait.
            "approval": team.approval.model_copy(
                update={"tool_calls": [AGENT] if team.approval.tool_calls else []}
            ),
        }
    )


def agent_team(team: ResolvedTeam) -> ResolvedTeam:
    """The resolved ``team`` as one agent (``agent_spec``), from its imports already made."""
    spec = agent_spec(team.spec)
    tools: dict[str, BaseTool] = {}
    refs: dict[str, str] = {}
    for specialist in team.spec.specialists:
        made = team.specialists[specialist.name].tools.values()
        for ref, made_tool in zip(specialist.tools, made, strict=True):
            if refs.setdefault(made_tool.name, repr(ref)) != repr(ref):
                problem = f"the single agent would have two tools named {made_tool.name!r}"
                raise TeamSpecError(team.spec.name, [problem])
            tools.setdefault(made_tool.name, made_tool)
    shared = {repr(s.output) for s in team.spec.specialists}
    first = team.specialists[team.spec.specialists[0].name]
    output = first.output if len(shared) == 1 else SpecialistOutput
    checks = (
        tuple(c for r in team.specialists.values() for c in r.checks) if len(shared) == 1 else ()
    )
    agent = ResolvedSpecialist(spec.specialists[0], tools, output, checks)
    return ResolvedTeam(spec, {AGENT: agent}, team.checks, team.digest)


def build(team: TeamSpec | ResolvedTeam) -> TeamGraph:
    """Compile-ready graph of ``team``'s single-agent baseline.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamContext, TeamSpec
        >>> team = TeamSpec(name="t", specialists=[
        ...     SpecialistSpec(name="a", description="finds facts",
        ...                    tools=["orchestra.nodes.toolkit:search_notes"]),
        ...     SpecialistSpec(name="b", description="computes",
        ...                    tools=["orchestra.nodes.toolkit:calculate"])])
        >>> state = build(team).compile().invoke(
        ...     {"task": "What is SQLite?"}, {"recursion_limit": 20, "max_concurrency": 1},
        ...     context=TeamContext(model="offline"))
        >>> state["results"]["agent"]["tool_calls"], state["status"]
        (['search_notes', 'calculate'], 'completed')
    """
    return pipeline.build(
        agent_team(team if isinstance(team, ResolvedTeam) else resolve_team(team))
    )


__all__ = ["AGENT", "TeamGraph", "agent_spec", "agent_team", "build"]
