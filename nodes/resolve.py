"""Turn a team spec's import paths into tools, output types and checks, reporting every problem.

This is the build-time half of spec validation (the structural half is
``TeamSpec.problems``). Models are *not* resolved here: that happens at run time, so
building a graph never needs a key.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from langchain_core.tools import BaseTool, tool
from pydantic import BaseModel

from orchestra.state import SpecialistOutput, SpecialistSpec, TeamSpec, TeamSpecError, brief

Check = Callable[..., "str | None"]
"""A declared check: ``check(output)`` returns feedback for the specialist when the output
falls short. A check may also declare a ``RunData[Deps]`` parameter: it then receives the
run's deps and the subtask's instruction and inputs (``orchestra.nodes.run_data``)."""

Digest = Callable[[dict[str, BaseModel]], BaseModel]

Planner = Callable[..., object]
"""A code planner: ``planner(task)`` returns a ``Plan`` or a list of subtasks; it may declare
a ``RunData[Deps]`` parameter for the run's deps (``orchestra.nodes.code_plan``)."""
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
    teams: dict[str, ResolvedTeam] = field(default_factory=dict)
    """The nested teams of specialists that are teams, resolved with this one."""
    planner: Planner | None = None
    """The orchestrator's code planner (``orchestrator.planner``), when the team has one."""

    def with_spec(self, spec: TeamSpec) -> ResolvedTeam:
        """This team with ``spec`` (same imports, e.g. another pattern), its structure checked.

        Raises:
            TeamSpecError: ``spec``'s structural problems (its imports are this team's).
        """
        if problems := spec.problems():
            raise TeamSpecError(spec.name, problems)
        return replace(self, spec=spec)


# sys.path is process-wide: one import with a team's folders on it at a time (re-entrant,
# as resolving a team resolves its nested teams).
_PATH_LOCK = threading.RLock()


@contextmanager
def _on_path(folders: Sequence[str]) -> Iterator[None]:
    """``folders`` first on ``sys.path`` while the body runs, then removed again."""
    with _PATH_LOCK:
        added = [f for f in folders if f not in sys.path]
        sys.path[:0] = added
        importlib.invalidate_caches()  # files written since the folder was last listed
        try:
            yield
        finally:
            for folder in added:
                if folder in sys.path:
                    sys.path.remove(folder)


def _search(folders: Sequence[str | Path]) -> list[str]:
    return list(dict.fromkeys([*(str(Path(f)) for f in folders), str(Path.cwd())]))


def _origin_problem(module_name: str, searched: list[str]) -> str | None:
    """Why the imported module is not the one lying in a searched folder, if it is not."""
    top = module_name.partition(".")[0]
    loaded = getattr(sys.modules.get(top), "__file__", None)
    for folder in searched:
        for candidate in (Path(folder) / f"{top}.py", Path(folder) / top / "__init__.py"):
            if candidate.is_file():
                if loaded is not None and Path(loaded).resolve() == candidate.resolve():
                    return None
                return (
                    f"module {brief(top)} was already imported from {loaded or 'elsewhere'}, so "
                    f"{candidate} cannot be imported under that name; rename it"
                )
    return None


def import_ref(ref: str, folders: Sequence[str | Path] = ()) -> object:
    """Import ``"package.module:attribute"`` (or ``package.module.attribute``).

    The module is looked up in ``folders`` (a team file's folder:
    ``TeamSpec.import_folders``), then in the working directory, then on ``sys.path``.
    The folders are on ``sys.path`` only while the module is imported, so the module's
    own top-level imports of its neighbours work, but an import it defers to call time
    must name a module that is installed or already imported. Module names are global
    to a process: a team folder's module cannot share a name with one already imported
    (a clear error says so).

    Raises:
        ImportError: naming the folders searched when the module is not found.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep:
        module_name, _, attr = ref.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{brief(ref)} is not an import path like 'package.module:name'")
    searched = _search(folders)
    try:
        with _on_path(searched):
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ImportError(
                f"cannot import module {brief(module_name)}: no such module in "
                f"{', '.join(searched)} or the installed packages"
            ) from None
        raise ImportError(f"cannot import module {brief(module_name)}: {exc}") from exc
    except ImportError as exc:
        raise ImportError(f"cannot import module {brief(module_name)}: {exc}") from exc
    if problem := _origin_problem(module_name, searched):
        raise ImportError(problem)
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ImportError(
                f"module {brief(module_name)} has no attribute {brief(attr)}"
            ) from None
    return target


def _load(ref: object, folders: Sequence[Path]) -> object:
    return import_ref(ref, folders) if isinstance(ref, str) else ref


def _as_tool(obj: object) -> BaseTool:
    if isinstance(obj, BaseTool):
        return obj
    if callable(obj):
        return tool(obj)
    raise TypeError(f"{brief(obj)} is neither a LangChain tool nor a function")


def _resolve_specialist(
    spec: SpecialistSpec, problems: list[str], folders: Sequence[Path]
) -> ResolvedSpecialist | None:
    where = f"specialists.{spec.name}"
    tools: dict[str, BaseTool] = {}
    unknown = False
    for ref in spec.tools:
        try:
            resolved = _as_tool(_load(ref, folders))
        except (ImportError, TypeError, ValueError) as exc:
            problems.append(f"{where}.tools: unknown tool {brief(ref)}: {exc}")
            unknown = True
            continue
        if resolved.name in tools:
            problems.append(f"{where}.tools: two tools are named {brief(resolved.name)}")
        tools[resolved.name] = resolved
    output: type[BaseModel] = SpecialistOutput
    if spec.output is not None:
        try:
            loaded = _load(spec.output, folders)
        except ImportError as exc:
            problems.append(f"{where}.output: {exc}")
        else:
            if isinstance(loaded, type) and issubclass(loaded, BaseModel):
                output = loaded
            else:
                problems.append(
                    f"{where}.output: {brief(spec.output)} is not a pydantic model class"
                )
    if output.__name__ in tools:
        problems.append(f"{where}: a tool has the output type's name {brief(output.__name__)}")
    for name in spec.output_from_tools:
        if name not in tools and not unknown:  # (an unknown tool was reported already)
            known = sorted(tools) or ["(none)"]
            problems.append(
                f"{where}.output_from_tools: no tool named {brief(name)}; its tools are {known}"
            )
    checks = _resolve_callables(spec.checks, f"{where}.checks", problems, folders)
    return ResolvedSpecialist(spec=spec, tools=tools, output=output, checks=checks)


def _resolve_callables(
    refs: list[Any], where: str, problems: list[str], folders: Sequence[Path]
) -> tuple[Callable[..., Any], ...]:
    checks: list[Callable[..., Any]] = []
    for ref in refs:
        try:
            loaded = _load(ref, folders)
        except ImportError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if callable(loaded):
            checks.append(loaded)
        else:
            problems.append(f"{where}: {brief(ref)} is not callable")
    return tuple(checks)


def _nested(team: TeamSpec, where: str, problems: list[str]) -> ResolvedTeam:
    """A nested team, resolved; its import problems join ``problems``.

    (Its structural problems come with the parent's ``TeamSpec.problems``.)
    """
    own: list[str] = []
    found = _resolve(team, own)
    problems += [f"{where}: {p}" for p in own]
    return found


def resolve_team(team: TeamSpec, *, source: str | None = None) -> ResolvedTeam:
    """Validate ``team`` completely and resolve its import paths (nested teams' too).

    Call it once per build: the ``ResolvedTeam`` it returns is what every builder takes.

    Import paths are looked up in ``team.import_folders`` (a team file's folder), then
    the working directory, then ``sys.path`` (see ``import_ref``). ``source`` names the
    team in errors (its file).

    Raises:
        TeamSpecError: listing every problem found, structural and import alike.
    """
    problems = team.problems()
    resolved = _resolve(team, problems)
    if problems:
        raise TeamSpecError(source or team.name, problems)
    return resolved


def _resolve(team: TeamSpec, problems: list[str]) -> ResolvedTeam:
    specialists: dict[str, ResolvedSpecialist] = {}
    teams: dict[str, ResolvedTeam] = {}
    for spec in team.specialists:
        resolved = _resolve_specialist(spec, problems, team.import_folders)
        if resolved is not None:
            specialists[spec.name] = resolved
        if spec.team is not None:
            teams[spec.name] = _nested(spec.team, f"specialists.{spec.name}.team", problems)
    checks = _resolve_callables(
        team.validator.checks, "validator.checks", problems, team.import_folders
    )
    digest = None
    if team.synthesizer.digest is not None:
        found = _resolve_callables(
            [team.synthesizer.digest], "synthesizer.digest", problems, team.import_folders
        )
        digest = cast(Digest, found[0]) if found else None
    planner = None
    if team.orchestrator.planner is not None:
        found = _resolve_callables(
            [team.orchestrator.planner], "orchestrator.planner", problems, team.import_folders
        )
        planner = found[0] if found else None
    return ResolvedTeam(team, specialists, checks, digest, teams, planner)
