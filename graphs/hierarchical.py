"""Hierarchical teams: orchestrator-workers where some specialists are whole teams.

Each nested team is compiled in its own pattern (recursively, up to ``max_depth``) and
runs as a subgraph inside its specialist's node, sharing the parent's checkpointer, so
streaming, tracing, checkpoints and interrupts work through the nesting. A nested team
prices calls with its parent's price table under its own, and runs within the envelope
its parent's dispatch carved for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from langchain_core.runnables import Runnable

from orchestra.graphs import orchestrator_workers
from orchestra.graphs.orchestrator_workers import TeamGraph
from orchestra.nodes import resolve_team
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.subteam import make_subteam
from orchestra.state import TeamSpec

CompileChild = Callable[[ResolvedTeam], Runnable[Any, dict[str, Any]]]


def priced_like(child: TeamSpec, parent: TeamSpec) -> TeamSpec:
    """``child``, pricing with its parent's price table under its own ``prices:``.

    The parent's budget is carved into the child's run, so both must price a call alike.
    """
    if not parent.prices:
        return child
    return child.model_copy(update={"prices": {**parent.prices, **child.prices}})


def build(team: TeamSpec | ResolvedTeam, *, compile_child: CompileChild | None = None) -> TeamGraph:
    """Compile-ready graph of a team whose specialists may be teams.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamContext, TeamSpec
        >>> inner = TeamSpec(name="inner", specialists=[
        ...     SpecialistSpec(name="digger", description="finds facts")])
        >>> outer = TeamSpec(name="outer", pattern="hierarchical", specialists=[
        ...     SpecialistSpec(name="research", description="researches facts", team=inner)])
        >>> state = build(outer).compile().invoke(
        ...     {"task": "Find facts about SQLite"}, {"recursion_limit": 40, "max_concurrency": 2},
        ...     context=TeamContext(model="offline"))
        >>> state["results"]["s1"]["specialist"], state["status"]
        ('research', 'completed')
    """
    resolved = team if isinstance(team, ResolvedTeam) else resolve_team(team)
    if compile_child is None:
        # The registry imports this module, so it is imported only when a child is built.
        from orchestra.graphs.patterns import compile_team

        def compile_child(child: ResolvedTeam) -> Runnable[Any, dict[str, Any]]:
            return compile_team(child)

    workers = {}
    for name, nested in resolved.teams.items():
        # Pricing is no import: the child resolved with its parent keeps its objects.
        child = replace(nested, spec=priced_like(nested.spec, resolved.spec))
        workers[name] = make_subteam(name, compile_child(child), child.spec)
    return orchestrator_workers.build(resolved, workers=workers)
