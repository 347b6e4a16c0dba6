"""A team's structure without its code: what reading a stored run needs, and nothing more.

``orchestra show`` rebuilds a stored run's graph to read its state (what is pending, what
waits). The graph's shape depends on the spec alone (pattern, specialists, stages), not
on the tools, output types or checks the spec names, so the stored spec is turned into a
``ResolvedTeam`` whose import paths are left unimported: reading a checkpoint database
someone rewrote cannot run their code.
"""

from __future__ import annotations

from orchestra.nodes.resolve import ResolvedSpecialist, ResolvedTeam
from orchestra.state import SpecialistOutput, TeamSpec, TeamSpecError

__all__ = ["shape_of"]


def shape_of(team: TeamSpec, *, source: str | None = None) -> ResolvedTeam:
    """``team``'s structure checked and nothing imported: no tools, the default output type.

    Good for building, drawing and reading a stored run's state; not for running it (its
    workers would have no tools and untyped outputs).

    Example:
        >>> from orchestra.state import SpecialistSpec
        >>> team = TeamSpec(name="t", specialists=[
        ...     SpecialistSpec(name="a", description="x", tools=["not_imported:at_all"])])
        >>> shape_of(team).specialists["a"].tools
        {}

    Raises:
        TeamSpecError: the spec's structural problems.
    """
    if problems := team.problems():
        raise TeamSpecError(source or team.name, problems)
    return _shape(team)


def _bare(team: TeamSpec) -> TeamSpec:
    """``team`` with every import path taken out (so nothing downstream can import one)."""
    specialists = [
        spec.model_copy(
            update={
                "tools": [],
                "output": None,
                "checks": [],
                "team": None if spec.team is None else _bare(spec.team),
            }
        )
        for spec in team.specialists
    ]
    return team.model_copy(
        update={
            "specialists": specialists,
            "validator": team.validator.model_copy(update={"checks": []}),
            "synthesizer": team.synthesizer.model_copy(update={"digest": None}),
            "orchestrator": team.orchestrator.model_copy(update={"planner": None}),
        }
    )


def _shape(team: TeamSpec) -> ResolvedTeam:
    bare = _bare(team)
    specialists = {
        spec.name: ResolvedSpecialist(spec=spec, tools={}, output=SpecialistOutput, checks=())
        for spec in bare.specialists
    }
    teams = {spec.name: _shape(spec.team) for spec in team.specialists if spec.team is not None}
    return ResolvedTeam(bare, specialists, teams=teams)
