"""Which shape a team runs in, and each shape's settings.

Every pattern compiles from the same team spec, so switching is one word
(``pattern:`` in the file, ``--pattern`` on the command line).
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from orchestra.state.errors import brief

PatternName = Literal["orchestrator_workers", "pipeline", "fan_out", "hierarchical", "single_agent"]
"""``orchestrator_workers``: plan, delegate, validate, synthesize. ``pipeline``: fixed stages,
each seeing the earlier stages' outputs. ``fan_out``: static branches in parallel, then a
join. ``hierarchical``: orchestrator-workers whose specialists may be teams. ``single_agent``:
one agent with every tool, the baseline to measure the others against."""

PATTERNS: tuple[str, ...] = get_args(PatternName)

JoinPolicy = Literal["all", "settled", "quorum", "fail_fast"]
"""``all``: every branch must succeed, else the run fails listing the failures. ``settled``:
go on with what succeeded, report the rest. ``quorum``: succeed when at least ``quorum``
branches succeed. ``fail_fast``: the first branch that raises ends the run with its error;
finished branches stay in the checkpoint, so a resume redoes only the unfinished ones."""


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PipelineSpec(_Settings):
    """The sequential pipeline's settings."""

    stages: list[str] = Field(default_factory=list)
    """Specialist names in running order (default: every specialist, in spec order)."""
    answer: Literal["last_stage", "synthesis"] = "last_stage"
    """The answer is the last stage's output, or the synthesizer's reasoning over all stages."""


class FanOutSpec(_Settings):
    """The scatter-gather settings."""

    branches: list[str] = Field(default_factory=list)
    """Specialists that each get the same input (default: every specialist)."""
    map: str | None = None
    """Instead: this one specialist, once per line of the task."""
    join: JoinPolicy = "settled"
    quorum: Annotated[int, Field(ge=1)] | None = None
    """Branches that must succeed under ``join: quorum``."""


def pattern_problems(
    pattern: PatternName,
    names: tuple[str, ...],
    pipeline: PipelineSpec,
    fan_out: FanOutSpec,
    team_specialists: tuple[str, ...],
) -> list[str]:
    """What makes these pattern settings unusable with these specialists."""
    found = [
        f"pipeline.stages: no specialist named {brief(n)}"
        for n in pipeline.stages
        if n not in names
    ]
    found += [
        f"fan_out.branches: no specialist named {brief(n)}"
        for n in fan_out.branches
        if n not in names
    ]
    if len(set(pipeline.stages)) < len(pipeline.stages):
        found.append("pipeline.stages: a specialist appears twice")
    if fan_out.map is not None and fan_out.map not in names:
        found.append(f"fan_out.map: no specialist named {brief(fan_out.map)}")
    if fan_out.map is not None and fan_out.branches:
        found.append("fan_out: give either branches or map, not both")
    if fan_out.join == "quorum":
        branches = len(fan_out.branches or names)
        if fan_out.quorum is None:
            found.append(
                "fan_out.quorum: join 'quorum' needs a quorum (branches that must succeed)"
            )
        elif fan_out.map is None and fan_out.quorum > branches:
            found.append(f"fan_out.quorum: {fan_out.quorum} is more than the {branches} branches")
    elif fan_out.quorum is not None:
        found.append("fan_out.quorum: only used with join 'quorum'")
    if team_specialists and pattern != "hierarchical":
        found.append(
            f"specialists {list(team_specialists)} are teams: they run only with pattern "
            "'hierarchical'"
        )
    if pattern == "hierarchical" and not team_specialists:
        found.append("pattern 'hierarchical' needs at least one specialist that is a team")
    return found
