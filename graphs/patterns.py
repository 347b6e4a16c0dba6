"""One spec, every pattern: pick the builder by ``team.pattern`` (or an override)."""

from __future__ import annotations

from collections.abc import Callable

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel

from orchestra.graphs import fan_out, hierarchical, orchestrator_workers, pipeline, single_agent
from orchestra.graphs.orchestrator_workers import CompiledTeam, TeamGraph
from orchestra.nodes import resolve_team
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import PatternName, SpecialistOutput, TeamSpec

BUILDERS: dict[PatternName, Callable[[ResolvedTeam], TeamGraph]] = {
    "orchestrator_workers": orchestrator_workers.build,
    "pipeline": pipeline.build,
    "fan_out": fan_out.build,
    "hierarchical": hierarchical.build,
    "single_agent": single_agent.build,
}


def with_pattern(team: TeamSpec, pattern: PatternName | None) -> TeamSpec:
    """``team`` set to run as ``pattern`` (unchanged when ``None``)."""
    return team if pattern in (None, team.pattern) else team.model_copy(update={"pattern": pattern})


def resolved_in(team: TeamSpec | ResolvedTeam, pattern: PatternName | None) -> ResolvedTeam:
    """``team`` resolved (once: a ``ResolvedTeam`` is reused) and set to run as ``pattern``."""
    if isinstance(team, ResolvedTeam):
        chosen = with_pattern(team.spec, pattern)
        return team if chosen is team.spec else team.with_spec(chosen)
    return resolve_team(with_pattern(team, pattern))  # every problem in this pattern, at once


def build(team: TeamSpec | ResolvedTeam, pattern: PatternName | None = None) -> TeamGraph:
    """Compile-ready graph of ``team`` in its pattern, or in ``pattern``.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")])
        >>> sorted(build(team, "single_agent").nodes)
        ['agent', 'finish', 'pipeline', 'validate_agent']
    """
    chosen = resolved_in(team, pattern)
    return BUILDERS[chosen.spec.pattern](chosen)


def compile_team(
    team: TeamSpec | ResolvedTeam,
    *,
    pattern: PatternName | None = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
) -> CompiledTeam:
    """``build(team, pattern).compile(...)`` with the team's limits baked into its config.

    ``recursion_limit`` and the pool for ``max_concurrency`` (``limits.task_pool``: the
    workers themselves take turns by ``limits.max_concurrency``) become the compiled
    graph's defaults, so every caller (Studio included) gets them without passing them.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="demo", limits={"max_concurrency": 4}, specialists=[
        ...     SpecialistSpec(name="researcher", description="finds facts")])
        >>> compile_team(team).config["max_concurrency"]  # 8 workers a round + 4 turns + 2
        14
    """
    chosen = resolved_in(team, pattern)
    compiled = build(chosen).compile(checkpointer=checkpointer, name=chosen.spec.name)
    return compiled.with_config(
        recursion_limit=chosen.spec.limits.recursion_limit,
        max_concurrency=chosen.spec.limits.task_pool,
    )


def output_types(team: ResolvedTeam) -> dict[str, type[BaseModel]]:
    """Each specialist's output type, by the name its subtasks run under in the team's pattern.

    (The single-agent baseline runs one derived ``agent``; a specialist that is a team
    answers with ``SpecialistOutput``.)
    """
    ran = single_agent.agent_team(team) if team.spec.pattern == "single_agent" else team
    return {
        name: SpecialistOutput if name in ran.teams else found.output
        for name, found in ran.specialists.items()
    }
