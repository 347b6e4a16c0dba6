"""Turn a team spec's import paths into tools, output types and checks, reporting every problem.

This is the build-time half of spec validation (the structural half is
``TeamSpec.problems``). Models are *not* resolved here: that happens at run time, so
building a graph never needs a key.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.tools import BaseTool, tool
from pydantic import BaseModel

from orchestra.state import SpecialistOutput, SpecialistSpec, TeamSpec, TeamSpecError

Check = Callable[..., "str | None"]
"""A declared check: ``check(output)`` returns feedback for the specialist when the output
falls short. A check may also declare a ``RunData[Deps]`` parameter: it then receives the
run's deps and the subtask's instruction and inputs (``orchestra.nodes.run_data``)."""

Digest = Callable[[dict[str, BaseModel]], BaseModel]
"""The synthesizer's digest: accepted outputs by subtask id in, one summary model out."""


@dataclass(frozen=True)
class ResolvedSpecialist:
    """A specialist with its tools, output type and checks as objects."""

    spec: SpecialistSpec
    tools: dict[str, BaseTool]
    output: type[BaseModel]
    checks: tuple[Check, ...]

    @property
    def name(self) -> str:
        """The specialist's name."""
        return self.spec.name


@dataclass(frozen=True)
class ResolvedTeam:
    """A validated team, ready to be compiled into any pattern."""

    spec: TeamSpec
    specialists: dict[str, ResolvedSpecialist]
    checks: tuple[Check, ...] = field(default=())
    digest: Digest | None = None


def import_ref(ref: str) -> object:
    """Import ``"package.module:attribute"`` (or ``package.module.attribute``)."""
    module_name, sep, attr = ref.partition(":")
    if not sep:
        module_name, _, attr = ref.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{ref!r} is not an import path like 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import module {module_name!r}: {exc}") from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ImportError(f"module {module_name!r} has no attribute {attr!r}") from None
    return target


def _load(ref: object) -> object:
    return import_ref(ref) if isinstance(ref, str) else ref


def _as_tool(obj: object) -> BaseTool:
    if isinstance(obj, BaseTool):
        return obj
    if callable(obj):
        return tool(obj)
    raise TypeError(f"{obj!r} is neither a LangChain tool nor a function")


def _resolve_specialist(spec: SpecialistSpec, problems: list[str]) -> ResolvedSpecialist | None:
    where = f"specialists.{spec.name}"
    tools: dict[str, BaseTool] = {}
    for ref in spec.tools:
        try:
            resolved = _as_tool(_load(ref))
        except (ImportError, TypeError, ValueError) as exc:
            problems.append(f"{where}.tools: unknown tool {ref!r}: {exc}")
            continue
        if resolved.name in tools:
            problems.append(f"{where}.tools: two tools are named {resolved.name!r}")
        tools[resolved.name] = resolved
    output: type[BaseModel] = SpecialistOutput
    if spec.output is not None:
        try:
            loaded = _load(spec.output)
        except ImportError as exc:
            problems.append(f"{where}.output: {exc}")
        else:
            if isinstance(loaded, type) and issubclass(loaded, BaseModel):
                output = loaded
            else:
                problems.append(f"{where}.output: {spec.output!r} is not a pydantic model class")
    if output.__name__ in tools:
        problems.append(f"{where}: a tool has the output type's name {output.__name__!r}")
    checks = _resolve_callables(spec.checks, f"{where}.checks", problems)
    return ResolvedSpecialist(spec=spec, tools=tools, output=output, checks=checks)


def _resolve_callables(
    refs: list[Any], where: str, problems: list[str]
) -> tuple[Callable[..., Any], ...]:
    checks: list[Callable[..., Any]] = []
    for ref in refs:
        try:
            loaded = _load(ref)
        except ImportError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if callable(loaded):
            checks.append(loaded)
        else:
            problems.append(f"{where}: {ref!r} is not callable")
    return tuple(checks)


def _import_problems(team: TeamSpec, where: str) -> list[str]:
    """A nested team's import problems (its structural ones come with the parent's)."""
    try:
        resolve_team(team)
    except TeamSpecError as exc:
        structural = set(team.problems())
        return [f"{where}: {p}" for p in exc.problems if p not in structural]
    return []


def resolve_team(team: TeamSpec, *, source: str | None = None) -> ResolvedTeam:
    """Validate ``team`` completely and resolve its import paths.

    Raises:
        TeamSpecError: listing every problem found, structural and import alike.
    """
    problems = team.problems()
    specialists: dict[str, ResolvedSpecialist] = {}
    for spec in team.specialists:
        resolved = _resolve_specialist(spec, problems)
        if resolved is not None:
            specialists[spec.name] = resolved
        if spec.team is not None:
            problems += _import_problems(spec.team, f"specialists.{spec.name}.team")
    checks = _resolve_callables(team.validator.checks, "validator.checks", problems)
    digest = None
    if team.synthesizer.digest is not None:
        found = _resolve_callables([team.synthesizer.digest], "synthesizer.digest", problems)
        digest = cast(Digest, found[0]) if found else None
    if problems:
        raise TeamSpecError(source or team.name, problems)
    return ResolvedTeam(spec=team, specialists=specialists, checks=checks, digest=digest)
