"""Which team a resume runs: only code the user names, checked against the stored run.

A run stores its team spec in the checkpoint (``RunOrigin``) so that ``orchestra resume
THREAD`` needs nothing else. But a checkpoint database is a file anyone with write access
can rewrite, and a spec names code by import path: resuming from the stored copy as it is
would import (and run) whatever the database names. So a resume takes its team from, in
this order:

1. the team the user gives (``--team FILE``; ``resume_run(team=...)``);
2. the team file the run was started from, while its SHA-256 still matches the one
   recorded at the start (the file on disk is the user's; the copy in the database is not);
3. the stored copy, only if every import path in it is orchestra's own
   (``FRAMEWORK_PACKAGES``) and it names no model server of its own (a rewritten
   ``base_url`` would receive the API key).

Whichever it is, its shape must be the stored run's (``shape_mismatch``): a renamed or
removed specialist, another pattern or other stages could not continue the stored plan,
and is a ``TeamMismatchError`` before anything runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from orchestra.graphs.checkpoints import stored_input, stored_origin
from orchestra.graphs.patterns import with_pattern
from orchestra.graphs.single_agent import AGENT
from orchestra.nodes import resolve_team
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import (
    FRAMEWORK_PACKAGES,
    ModelSettings,
    NotResumableError,
    RunNotFoundError,
    RunOrigin,
    TeamMismatchError,
    TeamSpec,
    foreign_imports,
    load_team,
    model_choice,
    team_from_data,
)
from orchestra.state.spec_imports import module_of

__all__ = ["file_sha256", "shape_mismatch", "started_model", "team_for_resume"]


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex (what ``RunOrigin.team_sha256`` records)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def team_for_resume(
    saver: BaseCheckpointSaver[str],
    thread_id: str,
    team: TeamSpec | ResolvedTeam | None,
) -> tuple[ResolvedTeam, str | None]:
    """The team to resume ``thread_id`` with, resolved, and the run's stored ``--model``.

    The model is its stored text (``started_model`` reads it when no other is given).

    Raises:
        RunNotFoundError: no such thread.
        NotResumableError: no team was given and neither the recorded file nor the stored
            copy may be used (the message says why and what to pass).
        TeamMismatchError: the team's shape is not the stored run's.
    """
    if saver.get_tuple({"configurable": {"thread_id": thread_id}}) is None:
        raise RunNotFoundError(f"no run with thread id {thread_id!r} in this checkpoint database")
    origin: RunOrigin | None = None
    if team is None:
        origin = stored_origin(saver, thread_id)  # NotResumableError without one
    else:
        origin = stored_input(saver, thread_id, "origin") or None
    stored = _stored_spec(origin, thread_id) if origin else None
    if team is not None:
        resolved = _given(team, stored)
    else:
        assert origin is not None and stored is not None
        resolved = _recorded_file(origin, stored) or _stored_copy(stored, origin, thread_id)
    if stored is not None and (problems := shape_mismatch(stored, resolved.spec)):
        raise TeamMismatchError(
            f"thread {thread_id!r} was started with another team: {'; '.join(problems)}. "
            "Resume it with the team it ran (or start a new run with this one)"
        )
    _check_plan(saver, thread_id, resolved.spec)
    return resolved, origin.get("model") if origin else None


def _stored_spec(origin: RunOrigin, thread_id: str) -> TeamSpec:
    # Validation only: nothing is imported until a ResolvedTeam is made.
    return team_from_data(origin["team"], source=f"the team stored with {thread_id!r}")


def _given(team: TeamSpec | ResolvedTeam, stored: TeamSpec | None) -> ResolvedTeam:
    """The user's team, in the pattern the run ran in (a run's ``pattern=`` is stored)."""
    pattern = stored.pattern if stored is not None else None
    if isinstance(team, ResolvedTeam):
        spec = with_pattern(team.spec, pattern)
        return team if spec is team.spec else team.with_spec(spec)
    return resolve_team(with_pattern(team, pattern))


def _recorded_file(origin: RunOrigin, stored: TeamSpec) -> ResolvedTeam | None:
    """The team file the run started from, if it is still the file it was (same SHA-256)."""
    path, digest = origin.get("team_file"), origin.get("team_sha256")
    if path is None or digest is None or not Path(path).is_file():
        return None
    if file_sha256(path) != digest:
        return None
    return resolve_team(with_pattern(load_team(path), stored.pattern), source=path)


def _stored_copy(stored: TeamSpec, origin: RunOrigin, thread_id: str) -> ResolvedTeam:
    """The stored spec, when it names only orchestra's own code and no model servers."""
    path = origin.get("team_file")
    if path is None:
        why = "it was started without a team file"
    elif not Path(path).is_file():
        why = f"its team file {path} is gone"
    elif origin.get("team_sha256") is None:
        why = f"no checksum of its team file {path} was recorded"
    else:
        why = f"its team file {path} changed since the run started"
    foreign = foreign_imports(stored) + _servers(stored)
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        hint = f"--team {path}" if path else "--team FILE"
        raise NotResumableError(
            f"thread {thread_id!r} cannot be resumed from its checkpoint alone: {why}, and the "
            f"copy stored with the run names code or servers outside orchestra ({shown}), which "
            f"a resume does not take from the database; resume with {hint} (from Python: "
            "resume_run(..., team=team)) to run the team you name"
        )
    return resolve_team(stored, source=f"the team stored with {thread_id!r}")


def _servers(team: TeamSpec) -> list[str]:
    """Model settings of ``team`` that name a server or key variable (nested teams too)."""
    found: list[str] = []

    def walk(spec: TeamSpec, prefix: str) -> None:
        roles: list[tuple[str, object]] = [
            ("model", spec.model),
            ("orchestrator.model", spec.orchestrator.model),
            ("synthesizer.model", spec.synthesizer.model),
            *((f"specialists.{s.name}.model", s.model) for s in spec.specialists),
        ]
        for where, ref in roles:
            if isinstance(ref, ModelSettings) and (ref.base_url or ref.api_key_env):
                found.append(f"{prefix}{where}: {ref.base_url or ref.api_key_env}")
        for s in spec.specialists:
            if s.team is not None:
                walk(s.team, f"{prefix}specialists.{s.name}.team.")

    walk(team, "")
    return found


def started_model(text: str, thread_id: str) -> str | ModelSettings:
    """The ``--model`` a run started with (stored as ``text``), for a resume given none.

    Raises:
        NotResumableError: it names code outside orchestra (``import:``), which a resume
            does not import on the database's word.
    """
    chosen = model_choice(text)
    ref = chosen.model if isinstance(chosen, ModelSettings) else chosen
    if ref.startswith("import:"):
        module = module_of(ref.removeprefix("import:"))
        if module.partition(".")[0] not in FRAMEWORK_PACKAGES:
            raise NotResumableError(
                f"thread {thread_id!r} was started with --model {ref}, code that a resume does "
                "not import from the checkpoint database: pass --model again"
            )
    return chosen


def _check_plan(saver: BaseCheckpointSaver[str], thread_id: str, team: TeamSpec) -> None:
    """The stored plan's specialists all exist in ``team`` (a run started from objects too)."""
    plan: Any = list(stored_input(saver, thread_id, "plan") or [])
    pending: Any = stored_input(saver, thread_id, "pending_plan") or {}
    plan += pending.get("subtasks", []) if isinstance(pending, dict) else []
    # A single-agent run's subtask is the one agent (``single_agent.AGENT``).
    names = {*team.specialist_names, *((AGENT,) if team.pattern == "single_agent" else ())}
    missing = sorted(
        {
            str(item.get("specialist"))
            for item in plan
            if isinstance(item, dict) and item.get("specialist") not in names
        }
    )
    if missing:
        raise TeamMismatchError(
            f"thread {thread_id!r} has subtasks for {', '.join(missing)}, which the team "
            f"given has no specialist for (it has {', '.join(sorted(names))})"
        )


def _shape(team: TeamSpec) -> dict[str, Any]:
    names = list(team.specialist_names)
    return {
        "pattern": team.pattern,
        "specialists": sorted(names),
        "stages": (team.pipeline.stages or names) if team.pattern == "pipeline" else None,
        "branches": (
            (sorted(team.fan_out.branches or names), team.fan_out.map)
            if team.pattern == "fan_out"
            else None
        ),
    }


def shape_mismatch(stored: TeamSpec, given: TeamSpec, where: str = "") -> list[str]:
    """How ``given`` differs from ``stored`` in what a stored run depends on (empty: same).

    Prompts, models, tools and budgets may change between a stop and a resume (that is how
    a failure is fixed); the pattern, the specialists' names, the stages and the nested
    teams may not.

    Example:
        >>> from orchestra.state import SpecialistSpec
        >>> def team(*names: str) -> TeamSpec:
        ...     return TeamSpec(name="t", specialists=[
        ...         SpecialistSpec(name=n, description="x") for n in names])
        >>> shape_mismatch(team("a", "b"), team("a", "c"))
        ['specialists: b removed, c added']
    """
    old, new = _shape(stored), _shape(given)
    found: list[str] = []
    if old["pattern"] != new["pattern"]:
        found.append(f"{where}pattern: {old['pattern']} then, {new['pattern']} now")
    elif old["specialists"] != new["specialists"]:
        gone = sorted(set(old["specialists"]) - set(new["specialists"]))
        added = sorted(set(new["specialists"]) - set(old["specialists"]))
        parts = [f"{', '.join(gone)} removed"] if gone else []
        parts += [f"{', '.join(added)} added"] if added else []
        found.append(f"{where}specialists: {', '.join(parts)}")
    elif old["stages"] != new["stages"]:  # same names and pattern: their order or choice
        found.append(f"{where}pipeline stages: {old['stages']} then, {new['stages']} now")
    elif old["branches"] != new["branches"]:
        found.append(f"{where}fan_out: {old['branches']} then, {new['branches']} now")
    given_teams = {s.name: s.team for s in given.specialists}
    for spec in stored.specialists:
        if spec.name not in given_teams:
            continue  # reported with the names above
        other = given_teams[spec.name]
        if (spec.team is None) != (other is None):
            kinds = ("a team", "a single specialist")
            then, now = kinds if spec.team is not None else kinds[::-1]
            found.append(f"{where}specialists.{spec.name}: {then} then, {now} now")
        elif spec.team is not None and other is not None:
            found += shape_mismatch(spec.team, other, f"{where}specialists.{spec.name}.team.")
    return found
