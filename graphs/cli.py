"""The ``orchestra`` command: run, resume, show and draw teams.

Exit codes: 0 completed · 1 failed or stopped by an error (state kept, resumable) ·
2 bad usage, team file or model setting, a thread another process runs, or a resume
that needs its team named (``--team``) or was given another team · 3 partial ·
4 a cap was reached · 5 a budget ran out · 6 no progress · 7 waiting for a human
(orchestra resume --approve/--edit/--reject) · 130 Ctrl-C · 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from orchestra import __version__
from orchestra.graphs.paths import DEFAULT_DB
from orchestra.graphs.plugins import CliPlugin, cli_plugins, emitted
from orchestra.state import (
    PATTERNS,
    DecisionError,
    ModelConfigError,
    NotResumableError,
    OrchestraError,
    RunStopped,
    TeamMismatchError,
    TeamSpecError,
    ThreadBusyError,
)

if TYPE_CHECKING:
    from orchestra.graphs.runner import RunResult
    from orchestra.nodes.resolve import ResolvedTeam
    from orchestra.state import PatternName

# The command's modules are imported where they are used, so ``orchestra --help`` (and a
# mistyped command) answers without loading LangGraph (tests/test_imports.py checks it).

EXIT = {
    "completed": 0,
    "failed": 1,
    "interrupted": 1,
    "partial": 3,
    "cap_reached": 4,
    "budget_exhausted": 5,
    "no_progress": 6,
    "waiting": 7,
}


def _load(name: str, pattern: PatternName | None = None) -> tuple[ResolvedTeam, Path]:
    from orchestra.graphs.patterns import with_pattern
    from orchestra.graphs.team_files import team_path
    from orchestra.nodes import resolve_team
    from orchestra.state import load_team

    path = team_path(name)
    team = with_pattern(load_team(path), pattern)
    # Fail now, naming the file, with every problem; the resolved team is what runs.
    return resolve_team(team, source=str(path)), path


def _parser(plugins: Sequence[CliPlugin] = ()) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=None,
        help=f"checkpoint database: a SQLite path (default {DEFAULT_DB}) or a postgresql:// URL",
    )
    common.add_argument("--json", action="store_true", help="print JSON for machines")
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    parser = argparse.ArgumentParser(
        prog="orchestra", description="Run orchestrator-specialist teams compiled to LangGraph."
    )
    parser.add_argument("--version", action="version", version=f"orchestra {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run a team on a task")
    run.add_argument("team", help="team file (.yaml/.json) or a shipped example name")
    run.add_argument("--task", required=True, help="what the team should do")
    run.add_argument(
        "--model",
        help="model for every role: offline, <provider>:<name> (openai:gpt-4o-mini, "
        "anthropic:..., ollama:...), or its settings as JSON "
        '(\'{"model": "ollama:llama3.1", "base_url": "http://host:11434", "timeout_s": 60}\')',
    )
    run.add_argument("--thread", help="thread id (default: a new one)")
    run.add_argument(
        "--pattern", choices=PATTERNS, help="run in this pattern instead of the spec's"
    )

    resume = sub.add_parser("resume", parents=[common], help="continue an unfinished run")
    resume.add_argument("thread", help="thread id printed by 'orchestra run'")
    resume.add_argument(
        "--model", help="override the model the run started with (a string or JSON, as for run)"
    )
    resume.add_argument(
        "--team",
        metavar="FILE",
        help="the team to continue with (default: the run's team file while unchanged); "
        "its specialists and pattern must be the run's",
    )
    decide = resume.add_mutually_exclusive_group()
    decide.add_argument(
        "--approve", action="store_true", help="approve what waits: the plan, or tool calls"
    )
    decide.add_argument(
        "--edit",
        metavar="FILE",
        help="an edited plan, or edited tool calls [{id, args}, ...] (YAML/JSON)",
    )
    decide.add_argument(
        "--reject",
        metavar="REASON",
        help="reject what waits: the team re-plans, or the specialist reads the reason",
    )
    resume.add_argument(
        "--only",
        metavar="ID",
        help="decide for one waiting worker only (its subtask id); the others keep waiting",
    )

    show = sub.add_parser("show", parents=[common], help="show a run's plan, statuses, answer")
    show.add_argument("thread", help="thread id")

    graph = sub.add_parser(
        "graph", parents=[common], help="print a team's graph as Mermaid, or draw it as a PNG"
    )
    graph.add_argument("team", help="team file or shipped example name")
    graph.add_argument(
        "--pattern", choices=PATTERNS, help="draw this pattern instead of the spec's"
    )
    graph.add_argument(
        "--png", metavar="FILE", help="write a PNG picture instead (needs Graphviz's dot)"
    )
    schema = sub.add_parser(
        "schema", help="print the team file's JSON Schema (for completion in an editor)"
    )
    schema.set_defaults(debug=False)
    for plugin in plugins:
        plugin.register(sub, common)
    return parser


def _emit(result: RunResult, as_json: bool, debug: bool = False, db: str | None = None) -> int:
    from orchestra.graphs.render import render_result

    if debug and result.exception is not None:
        # The run kept its state; the traceback says where the stopping error came from.
        traceback.print_exception(result.exception, file=sys.stderr)
    if as_json:
        print(json.dumps(result_json(result), indent=2, ensure_ascii=False))
    else:
        render_result(result, db=db)
    return EXIT.get(result.status, 1)


def result_json(result: RunResult) -> dict[str, Any]:
    """The machine-readable form of a run."""
    from orchestra.state import totals

    values = result.values
    return {
        "thread_id": result.thread_id,
        "status": result.status,
        "reason": result.reason,
        "reason_code": result.reason_code,
        "answer": values.get("answer"),
        "citations": values.get("citations", []),
        "plan": values.get("plan", []),
        "results": values.get("results", {}),
        "verdicts": values.get("verdicts", []),
        "notes": values.get("notes", []),
        "model_calls": values.get("model_calls", 0),
        "usage": values.get("usage") or totals(values.get("ledger", {})),
        "ledger": values.get("ledger", {}),
        "largest_prompt": result.largest_prompt,
        "pending": list(result.pending),
        "waiting": result.waiting,
    }


def _decision(args: argparse.Namespace) -> dict[str, Any] | None:
    """The human decision given on the command line, if any."""
    if args.approve:
        return {"action": "approve"}
    if args.reject:
        return {"action": "reject", "reason": args.reject}
    if args.edit:
        path = Path(args.edit)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DecisionError(f"cannot read the edited plan {path}: {exc}") from None
        if isinstance(data, dict) and "calls" in data:
            return {"action": "edit", "calls": data["calls"]}
        if (
            isinstance(data, list)
            and data
            and all(isinstance(item, dict) and "args" in item for item in data)
        ):
            return {"action": "edit", "calls": data}
        plan = data.get("plan", data.get("subtasks")) if isinstance(data, dict) else data
        if not isinstance(plan, list):
            raise DecisionError(
                f"{path} must hold a list of subtasks (or plan: [...]), "
                "or of tool calls (or calls: [{id, args}, ...])"
            )
        return {"action": "edit", "plan": plan}
    return None


def _dispatch(args: argparse.Namespace, plugins: Sequence[CliPlugin]) -> int:
    for plugin in plugins:
        if args.command in plugin.COMMANDS:
            return plugin.handle(args)
    if args.command == "schema":
        from orchestra.graphs.team_files import team_schema

        print(json.dumps(team_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.command == "graph":
        from orchestra.graphs.patterns import build

        team, _ = _load(args.team, args.pattern)
        drawn = build(team).compile().get_graph()
        if args.png:
            from orchestra.graphs.pictures import write_png

            title = f"{team.spec.name} ({team.spec.pattern})"
            width, height = write_png(drawn, args.png, title=title)
            print(f"wrote {args.png} ({width}x{height} PNG)")
        else:
            print(drawn.draw_mermaid(with_styles=False))
        return 0
    from orchestra.graphs.live import live_view
    from orchestra.graphs.runner import (
        new_thread_id,
        open_checkpointer,
        resume_run,
        run_team,
        snapshot,
    )
    from orchestra.state import StopSignal, model_choice

    # A model string, or settings given as a JSON object (a ModelConfigError: exit 2).
    model = model_choice(args.model) if getattr(args, "model", None) else None
    # The first Ctrl-C asks the run to stop between worker steps (RunStopped, state kept);
    # a second one interrupts at once.
    # Only a new run may create the database: `show`/`resume` of a mistyped --db must not.
    existing = args.command != "run"
    with open_checkpointer(args.db, existing=existing) as saver, StopSignal().on_ctrl_c() as stop:
        if args.command == "run":
            team, path = _load(args.team, args.pattern)
            args.thread = args.thread or new_thread_id(team.spec)
            result = run_team(
                team,
                args.task,
                saver=saver,
                thread_id=args.thread,
                model=model,
                team_file=path,
                on_event=None if args.json else live_view(),
                stop=stop,
            )
        elif args.command == "resume":
            given = _load(args.team)[0] if args.team else None
            result = resume_run(
                args.thread,
                saver=saver,
                team=given,
                model=model,
                decision=_decision(args),
                on_event=None if args.json else live_view(),
                only=args.only,
                stop=stop,
            )
        else:
            result = snapshot(args.thread, saver=saver)
    if args.command != "run" and (code := emitted(plugins, result, args)) is not None:
        return code  # an application's own run (the audit's), printed its way
    return _emit(result, args.json, args.debug, args.db)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``orchestra`` console script."""
    plugins = cli_plugins()
    parser = _parser(plugins)
    args = parser.parse_args(argv)
    if getattr(args, "only", None) and not (args.approve or args.edit or args.reject):
        parser.error("--only names who a decision is for: add --approve, --edit or --reject")
    try:
        return _dispatch(args, plugins)
    except (KeyboardInterrupt, RunStopped) as exc:
        thread = getattr(args, "thread", None)
        hint = f"; continue with: orchestra resume {thread}" if thread else ""
        print(f"orchestra: interrupted; finished work is checkpointed{hint}", file=sys.stderr)
        from orchestra.state.context import TERMINATED  # here: the parser loads no LangChain

        return 143 if TERMINATED in str(exc) else 130  # 128 + the signal, as shells report
    except OrchestraError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"orchestra: {exc}", file=sys.stderr)
        usage = TeamSpecError | ModelConfigError | ThreadBusyError | NotResumableError
        return 2 if isinstance(exc, usage | TeamMismatchError) else 1
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(
            f"orchestra: {type(exc).__name__}: {exc} (--debug shows the traceback)", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
