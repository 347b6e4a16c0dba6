"""The ``orchestra audit`` and ``orchestra samples`` commands (arguments: ``orchestra_audit.args``).

``orchestra audit PATH... [--json] [--report FILE.md] [--db PATH] [--model M]
[--policy FILE] [--max-concurrency N] [--thread ID] [--offline]`` audits repositories and prints the
ranked report; ``orchestra samples DIR`` writes the demo set to audit. Bad PATHs, policy
files and folders are one line on stderr and exit code 2. Ctrl-C asks the run to stop
(the framework's ``StopSignal``): the repositories being analysed stop between two files,
the finished ones stay checkpointed, and the command says how to continue (exit 130).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import uuid
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console

from orchestra import (
    EXIT,
    RunResult,
    RunStopped,
    StopSignal,
    default_model_ref,
    open_checkpointer,
    snapshot,
)
from orchestra_audit.netsettings import RegistrySettings, RegistrySettingsError
from orchestra_audit.policy import AuditPolicy, PolicyError, load_policy
from orchestra_audit.pool import processes
from orchestra_audit.progress import AuditProgress
from orchestra_audit.report import audit_json, markdown, render, repo_states, run_digest
from orchestra_audit.samples import generate_samples
from orchestra_audit.samples_bulk import generate_bulk
from orchestra_audit.team import (
    AUDIT_PLANNER,
    AuditJob,
    AuditPathError,
    audit_team,
    discover,
    repo_names,
    roots_of_task,
    run_audit,
)


def _fail(message: str) -> int:
    print(f"orchestra: {message}", file=sys.stderr)
    return 2


def _job(args: argparse.Namespace) -> AuditJob:
    roots = discover(args.paths)
    RegistrySettings.from_env()  # a bad ORCHESTRA_REGISTRY_* value fails here, not per repository
    policy = load_policy(args.policy) if args.policy else AuditPolicy()
    return AuditJob(
        roots=roots,
        names=repo_names(roots),
        policy=policy,
        policy_given=bool(args.policy),
        max_concurrency=args.max_concurrency,
        offline=args.offline,
    )


def _run(args: argparse.Namespace, job: AuditJob) -> RunResult:
    interactive = sys.stdout.isatty() and not args.json
    names = {str(root): name for root, name in job.names.items()}
    with open_checkpointer(args.db) as saver:
        args.thread = args.thread or f"{audit_team(len(job.roots)).name}-{uuid.uuid4().hex[:8]}"
        exists = saver.get_tuple({"configurable": {"thread_id": args.thread}}) is not None
        seed = snapshot(args.thread, saver=saver).values if exists else None
        progress = AuditProgress(names, Console(), seed) if interactive else None
        with progress or nullcontext(), StopSignal().on_ctrl_c() as stop:
            return run_audit(
                job,
                saver=saver,
                thread_id=args.thread,
                model=args.model,
                on_update=progress.on_update if progress else None,
                stop=stop,
            )


def _again(args: argparse.Namespace) -> str:
    """The command that continues this audit."""
    again = shlex.join(["orchestra", "audit", *args.paths, "--thread", args.thread])
    return again + (f" --db {shlex.quote(args.db)}" if args.db else "")


def _explanation(result: RunResult, model: str | None) -> str:
    """The synthesizer's answer when a real model wrote it (offline, it restates the digest)."""
    origin = result.values.get("origin") or {}
    chosen = model or origin.get("model") or default_model_ref()
    return str(result.values.get("answer", "")) if chosen != "offline" else ""


def _audit(args: argparse.Namespace) -> int:
    if args.max_concurrency < 1:
        return _fail("--max-concurrency must be at least 1")
    try:
        processes()  # a bad ORCHESTRA_AUDIT_PROCESSES is said now, not in every repository
    except ValueError as exc:
        return _fail(str(exc))
    try:
        job = _job(args)
        result = _run(args, job)
    except (AuditPathError, PolicyError, RegistrySettingsError) as exc:
        return _fail(str(exc))
    except RunStopped:
        again = _again(args)
        print(
            f"orchestra: interrupted; finished work is checkpointed; continue with: {again}",
            file=sys.stderr,
        )
        return 130
    digest = run_digest(result.values)
    states = repo_states(result.values, {str(r): n for r, n in job.names.items()})
    explanation = _explanation(result, args.model)
    report = Path(args.report) if args.report else None
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(markdown(result, digest, states, explanation), encoding="utf-8")
    if args.json:
        print(json.dumps(audit_json(result, digest, states), indent=2, ensure_ascii=False))
    else:
        console = Console(width=None if sys.stdout.isatty() else 120)
        render(result, digest, states, console, explanation=explanation, report=report)
        if not result.finished:
            console.print(f"continue with: [bold]{_again(args)}[/bold]")
    return EXIT.get(result.status, 1)


def emit(result: object, args: argparse.Namespace) -> int | None:
    """An audit thread resumed or shown: its report, exactly as ``orchestra audit`` prints it.

    Runs of other teams are left to the framework (``None``).
    """
    if not isinstance(result, RunResult) or not is_audit(result):
        return None
    roots = [Path(r) for r in roots_of_task(str(result.values.get("task", "")))]
    names = {str(root): name for root, name in repo_names(roots).items()}
    digest = run_digest(result.values)
    states = repo_states(result.values, names)
    if args.json:
        print(json.dumps(audit_json(result, digest, states), indent=2, ensure_ascii=False))
    else:
        console = Console(width=None if sys.stdout.isatty() else 120)
        render(result, digest, states, console, explanation=_explanation(result, None))
        if not result.finished:
            again = f" --db {shlex.quote(args.db)}" if args.db else ""
            console.print(f"continue with: [bold]orchestra resume {result.thread_id}{again}[/bold]")
    return EXIT.get(result.status, 1)


def is_audit(result: RunResult) -> bool:
    """Whether ``result`` is a run of the audit's team (by the spec stored with it)."""
    origin = result.values.get("origin") or {}
    team = origin.get("team") or {}
    return bool((team.get("orchestrator") or {}).get("planner") == AUDIT_PLANNER)


def _samples(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if folder.exists() and not folder.is_dir():
        return _fail(f"{args.folder} is a file: give a folder for the samples")
    if folder.is_dir() and any(folder.iterdir()) and not args.force:
        return _fail(f"{args.folder} is not empty (use --force to write into it)")
    if args.repos is not None:
        if args.repos < 1 or args.files < 10:
            return _fail("--repos must be at least 1 and --files at least 10")
        written = generate_bulk(folder, repos=args.repos, files=args.files)
        print(f"wrote {args.repos} synthetic repositories ({written} files) to {folder}")
    else:
        planted = generate_samples(folder)
        repos = len({p.repo for p in planted})
        print(f"wrote {repos} demo repositories with {len(planted)} planted problems to {folder}")
    command = ["orchestra", "audit", str(folder), "--policy", str(folder / "policy.toml")]
    print(f"audit them: {shlex.join(command)}")
    return 0


def handle(args: argparse.Namespace) -> int:
    """Run ``orchestra audit`` or ``orchestra samples``; returns the exit code."""
    return _audit(args) if args.command == "audit" else _samples(args)
