"""``orchestra audit``: a codebase audit as an ordinary orchestrator-workers team.

One subtask per repository (the task lists one repository per line, which the team's
code planner turns into subtasks with no model call), one ``auditor``
specialist whose tools are read-only and confined to the audit's repositories, the
validator's ``findings_exist`` check, and a synthesizer whose digest ranks the findings
across repositories, merges duplicates and explains cross-repository version conflicts.
The spec names everything by import path, so the run is checkpointed and resumable like
any other: a finished repository is never audited twice. The audit's scope travels with
the run as its typed data (``deps``), so ``orchestra resume`` needs nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from orchestra import (
    Limits,
    ModelChoice,
    OnUpdate,
    OrchestraError,
    OrchestratorSpec,
    RunResult,
    SpecialistSpec,
    StopSignal,
    SynthesizerSpec,
    TeamSpec,
    resume_run,
    run_team,
    snapshot,
)
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.scope import AuditScope

AUDITOR_PROMPT = """\
You audit one software repository, read-only. Call `audit_repository` with the
repository's path: it runs the deterministic checks (secrets in code, dependency specs,
missing tests) and returns the repository's RepoAudit, which is taken as your result as it
is: you need not repeat it. You may first read folders and files with `browse_repository`
if the path is unclear. Should you ever finish with a RepoAudit yourself, keep every
finding, file and line exactly as given (the validator rejects locations that do not
exist). Secret values are redacted: never restore them."""

SYNTHESIZER_PROMPT = """\
You write the conclusion of a codebase audit for an engineering lead. The Digest is
authoritative: findings ranked across repositories, duplicates merged, cross-repository
version conflicts already reconciled. Explain the top risks and the order to fix them,
say for each conflict which repository already has the fix, name any repository that was
not audited, and cite the subtask ids you rely on. Do not list every finding."""

TASK_PREFIX = "Audit the repository at "

MAX_REPOSITORIES = 1000
"""One subtask each, in one round: the team's ``max_workers_per_round`` allows 1000."""

_STRONG_MARKERS = (
    ".git",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "package.json",
    "Pipfile",
    # Other ecosystems' projects are repositories too (their secrets are audited; their
    # dependencies and tests are not judged).
    "go.mod",
    "Cargo.toml",
    "Gemfile",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "composer.json",
)
_SOURCE_SUFFIXES = (".py", ".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs")


AUDIT_PLANNER = "orchestra_audit.plan:plan_audit"
"""The audit team's code planner: a stored run naming it is an audit."""


class AuditPathError(OrchestraError, ValueError):
    """A PATH given to the audit is missing, a file, or has nothing to audit."""


def audit_team(
    repos: int, *, max_revisions: int = 1, max_concurrency: int = 8, per_round: int | None = None
) -> TeamSpec:
    """The audit team for ``repos`` repositories (one subtask each).

    Its code planner (``orchestra_audit.plan:plan_audit``) lists the repositories without
    a model call; ``per_round`` of them are dispatched per round (all in one round by
    default), the rest in later rounds. ``max_concurrency`` repositories are analysed at
    once: the framework's own turns (``limits.max_concurrency``), which leave LangGraph's
    pool room to save each finished repository at once.
    """
    # Two steps do the job (the tool call, then its result as the output); the rest absorb a
    # provider's malformed answers and refusals: a vLLM started without its auto tool
    # choice flag refuses each first ``auto`` request, and 4 left too little beside that.
    steps = 6
    per_repo = steps * (max_revisions + 1)
    batch = max(min(per_round or repos, repos, 1000), 1)
    rounds = -(-max(repos, 1) // batch)
    return TeamSpec(
        name="audit",
        description="Audits repositories for secrets, dependency problems and missing tests.",
        specialists=[
            SpecialistSpec(
                name="auditor",
                description=(
                    "Audits one repository: secrets in code, outdated, unpinned or "
                    "conflicting dependencies, and missing tests."
                ),
                prompt=AUDITOR_PROMPT,
                tools=[
                    "orchestra_audit.tools:audit_repository",
                    "orchestra_audit.tools:browse_repository",
                ],
                output="orchestra_audit.findings:RepoAudit",
                # The tool's RepoAudit is the result: a model never copies it (it can be
                # far beyond any output limit: ~315k tokens for djangoproject.com).
                output_from_tools=["audit_repository"],
                checks=["orchestra_audit.checks:findings_exist"],
                max_steps=steps,
            )
        ],
        orchestrator=OrchestratorSpec(planner=AUDIT_PLANNER),
        synthesizer=SynthesizerSpec(
            prompt=SYNTHESIZER_PROMPT, digest="orchestra_audit.digest:digest_audits"
        ),
        limits=Limits(
            max_workers_per_round=batch,
            # One round per batch; the planner is asked once more and finds nothing new.
            max_rounds=min(max(rounds, 2), 50),
            max_revisions=max_revisions,
            max_model_calls=per_repo * max(repos, 1) * 2 + 10,
            recursion_limit=80,
            max_concurrency=min(max(max_concurrency, 1), 1024),
        ),
    )


def audit_task(roots: Sequence[Path]) -> str:
    """The team's task: one line per repository, which the orchestrator turns into subtasks."""
    return "\n".join(f"{TASK_PREFIX}{root}" for root in roots)


def roots_of_task(task: str) -> list[str]:
    """The repository roots a task names (the inverse of ``audit_task``)."""
    return [line[len(TASK_PREFIX) :] for line in task.splitlines() if line.startswith(TASK_PREFIX)]


def _has_marker(folder: Path, *, sources: bool) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    if any(
        n in _STRONG_MARKERS or (n.startswith("requirements") and n.endswith(".txt")) for n in names
    ):
        return True
    return sources and any(n.endswith(_SOURCE_SUFFIXES) for n in names)


def discover(paths: Sequence[str]) -> list[Path]:
    """The repositories the PATHs designate, resolved and without duplicates.

    A PATH is a repository when it has a project marker (``.git``, ``pyproject.toml``,
    ``package.json``, ``requirements*.txt``, ...) or source files at its top; otherwise,
    if some of its immediate subfolders have a marker, those subfolders are the
    repositories; otherwise the PATH itself is audited.

    Raises:
        AuditPathError: a PATH does not exist, is a file, or is an empty folder.
    """
    found: dict[Path, None] = {}
    for given in paths:
        try:
            found.update(dict.fromkeys(_repositories(given)))
        except OSError as exc:
            raise AuditPathError(f"cannot read {given}: {exc.strerror or exc}") from None
    if len(found) > MAX_REPOSITORIES:
        raise AuditPathError(
            f"{len(found)} repositories: one audit takes at most {MAX_REPOSITORIES}"
        )
    return list(found)


def _repositories(given: str) -> list[Path]:
    path = Path(given).expanduser()
    if not path.exists():
        raise AuditPathError(f"no such directory: {given}")
    if not path.is_dir():
        raise AuditPathError(f"{given} is a file, not a repository: give its folder")
    root = path.resolve()
    if not any(root.iterdir()):
        raise AuditPathError(f"{given} is empty: there is nothing to audit")
    # A symlinked subfolder pointing out of the folder given is another project: not audited.
    subfolders = sorted(
        p
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and (not p.is_symlink() or p.resolve().is_relative_to(root))
    )
    nested = [p.resolve() for p in subfolders if _has_marker(p, sources=False)]
    return [root] if _has_marker(root, sources=True) or not nested else nested


def repo_names(roots: Sequence[Path]) -> dict[Path, str]:
    """Each root's name in the report: its folder name, with its parent's when two clash."""
    names: dict[Path, str] = {}
    for root in roots:
        clashes = [r for r in roots if r.name == root.name]
        name = root.name if len(clashes) == 1 else f"{root.parent.name}/{root.name}"
        if name in names.values() or not name:
            name = str(root)
        names[root] = name
    return names


@dataclass(frozen=True)
class AuditJob:
    """What one ``orchestra audit`` invocation audits, and how."""

    roots: list[Path]
    names: dict[Path, str]
    policy: AuditPolicy
    policy_given: bool
    max_concurrency: int = 8
    """Repositories analysed at once."""
    per_round: int | None = None
    """Repositories dispatched per round (``None``: all in one round)."""
    offline: bool = False
    """The registry and vulnerability checks use their cache only (``--offline``)."""


def _continue_problem(job: AuditJob, current: RunResult, thread: str) -> str | None:
    stored = set(roots_of_task(str(current.values.get("task", ""))))
    if stored != {str(r) for r in job.roots}:
        return (
            f"thread {thread!r} audits other repositories ({', '.join(sorted(stored))}); "
            "give the same PATHs, or a new --thread"
        )
    scope = stored_scope(current)
    if job.policy_given and scope is not None and scope.policy != job.policy:
        return f"thread {thread!r} was started with another policy; --policy must not change"
    return None


def stored_scope(current: RunResult) -> AuditScope | None:
    """The scope an audit run carries in its checkpoint (``None`` for another run)."""
    data = current.values.get("deps")
    return AuditScope.model_validate(data) if data is not None else None


def run_audit(
    job: AuditJob,
    *,
    saver: BaseCheckpointSaver[str],
    thread_id: str,
    model: ModelChoice = None,
    on_update: OnUpdate | None = None,
    stop: StopSignal | None = None,
) -> RunResult:
    """Start the audit on a new thread, or continue the unfinished one with this id.

    The scope (roots, policy, fingerprint key) is the run's ``deps``: stored with the run,
    so a continued audit keeps its policy and key whatever the working directory or host.

    Raises:
        AuditPathError: the thread exists but audits other repositories or another policy.
        RunStopped: ``stop`` was requested; the finished repositories are checkpointed.
    """
    team = audit_team(len(job.roots), max_concurrency=job.max_concurrency, per_round=job.per_round)
    if saver.get_tuple({"configurable": {"thread_id": thread_id}}) is None:
        return run_team(
            team,
            audit_task(job.roots),
            saver=saver,
            thread_id=thread_id,
            model=model,
            on_update=on_update,
            deps=AuditScope.of(job.names, job.policy, offline=job.offline),
            stop=stop,
        )
    current = snapshot(thread_id, saver=saver)
    if problem := _continue_problem(job, current, thread_id):
        raise AuditPathError(problem)
    # The team as this invocation sizes it (its --max-concurrency), the model it started with.
    origin = current.values.get("origin") or {}
    chosen = model or origin.get("model")
    return resume_run(
        thread_id, saver=saver, model=chosen, on_update=on_update, team=team, stop=stop
    )
