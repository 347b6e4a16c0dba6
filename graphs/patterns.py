"""One spec, every pattern: pick the builder by ``team.pattern`` (or an override)."""

from __future__ import annotations

from collections.abc import Callable

from langgraph.checkpoint.base import BaseCheckpointSaver

from orchestra.graphs import fan_out, hierarchical, orchestrator_workers, pipeline, single_agent
from orchestra.graphs.orchestrator_workers import CompiledTeam, TeamGraph
from orchestra.nodes import resolve_team
from orchestra.state import PatternName, TeamSpec

BUILDERS: dict[PatternName, Callable[[TeamSpec], TeamGraph]] = {
    "orchestrator_workers": orchestrator_workers.build,
    "pipeline": pipeline.build,
    "fan_out": fan_out.build,
    "hierarchical": hierarchical.build,
    "single_agent": single_agent.build,
}


def with_pattern(team: TeamSpec, pattern: PatternName | None) -> TeamSpec:
    """``team`` set to run as ``pattern`` (unchanged when ``None``)."""
    return team if pattern in (None, team.pattern) else team.model_copy(update={"pattern": pattern})


def build(team: TeamSpec, pattern: PatternName | None = None) -> TeamGraph:
    """Compile-ready graph of ``team`` in its pattern, or in ``pattern``.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")])
        >>> sorted(build(team, "single_agent").nodes)
        ['agent', 'finish', 'pipeline', 'validate_agent']
    """
    chosen = with_pattern(team, pattern)
    resolve_team(chosen)  # every problem of the spec in this pattern, at once
    return BUILDERS[chosen.pattern](chosen)


def compile_team(
    team: TeamSpec,
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
    chosen = with_pattern(team, pattern)
    compiled = build(chosen).compile(checkpointer=checkpointer, name=chosen.name)
    return compiled.with_config(
        recursion_limit=chosen.limits.recursion_limit,
        max_concurrency=chosen.limits.task_pool,
    )
