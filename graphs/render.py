"""Human-readable output of a run, for the terminal."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from orchestra.graphs.runner import RunResult
from orchestra.state import LargestPrompt, LedgerEntry, Totals, totals

_STYLE = {
    "completed": "green",
    "partial": "yellow",
    "cap_reached": "yellow",
    "failed": "red",
    "interrupted": "red",
}


def ledger_table(ledger: dict[str, LedgerEntry]) -> Table:
    """Spend per role and per worker, with the totals."""
    table = Table(title="usage", title_justify="left")
    for column in (
        "who",
        "calls",
        "in tokens",
        "out tokens",
        "cost $",
        "model s",
        "attempts",
        "revisions",
        "status",
    ):
        table.add_column(column, overflow="fold", justify="left" if column == "who" else "right")

    def row(who: str, e: LedgerEntry | Totals, attempts: str, revisions: str, status: str) -> None:
        table.add_row(
            escape(who),
            str(e["model_calls"]),
            str(e["input_tokens"]),
            str(e["output_tokens"]),
            f"{e['cost_usd']:.4f}",
            f"{e['latency_s']:.2f}",
            attempts,
            revisions,
            status,
        )

    for key, entry in ledger.items():
        who = f"{key} ({entry['specialist']})" if entry.get("specialist") else key
        row(who, entry, str(entry["attempts"]), str(entry["revisions"]), entry.get("status", "-"))
    row("total", totals(ledger), "", "", "")
    return table


def reserved_line(spent: Totals) -> str | None:
    """Calls reserved against the team's accounts vs calls answered, if any were charged."""
    if "reserved_calls" not in spent:
        return None
    unanswered = spent["reserved_calls"] - spent["model_calls"]
    return (
        f"reserved: {spent['reserved_calls']} calls holding ~{spent.get('reserved_tokens', 0)} "
        f"tokens · spent: {spent['model_calls']} answered, {spent['tokens']} tokens"
        + (f" · {unanswered} reserved without an answer (failed or cut off)" if unanswered else "")
    )


def prompt_line(largest: LargestPrompt) -> str:
    """The run's largest prompt against its window, as ``show`` prints it."""
    window = largest.get("context_window")
    of = f" of a {window}-token window" if window else ""
    counted = largest.get("input_tokens")
    told = f"; the provider counted at most {counted} input tokens" if counted else ""
    return (
        f"largest prompt: ~{largest['prompt_tokens']} tokens{of} ({largest['who']}, "
        f"estimated before sending){told}"
    )


def _question(lines: list[str], waiting: dict[str, Any], how: list[str], title: str) -> Panel:
    """A waiting item: what it shows, the last answer's error, and how to answer."""
    if waiting.get("error"):
        lines.append(f"last answer was not accepted: {waiting['error']}")
    # Plain text: plans, instructions and tool arguments are shown as written, not as markup.
    return Panel(Text("\n".join([*lines, "", *how])), title=title, title_align="left")


def tool_panel(waiting: dict[str, Any], thread: str) -> Panel:
    """Tool calls waiting for approval, and the commands that decide them."""
    sid = waiting["subtask_id"]
    lines = [f"{sid} → {waiting['specialist']} (revision {waiting['revision']}) wants to call:"]
    for call in waiting["calls"]:
        args = json.dumps(call["args"], ensure_ascii=False)
        lines.append(f"  {call['name']}({args})   id: {call['id']}")
    how = [
        f"approve: orchestra resume {thread} --approve [--only {sid}]",
        f"edit:    orchestra resume {thread} --edit FILE --only {sid}",
        "         (FILE: a list of {id: <call id>, args: {...}})",
        f'reject:  orchestra resume {thread} --reject "why" [--only {sid}]',
    ]
    return _question(lines, waiting, how, "waiting for tool-call approval")


def waiting_panel(waiting: Any, thread: str) -> Panel:
    """What a paused run waits for, and the commands that continue it."""
    if isinstance(waiting, dict) and waiting.get("kind") == "tool_approval":
        return tool_panel(waiting, thread)
    if not (isinstance(waiting, dict) and waiting.get("kind") == "plan_approval"):
        return Panel(Text(str(waiting)), title="waiting", title_align="left")
    lines = [f"round {waiting['round']} plan: {waiting['rationale']}"]
    for sub in waiting["plan"]:
        deps = f" (after {', '.join(sub['depends_on'])})" if sub["depends_on"] else ""
        lines.append(f"  {sub['id']} → {sub['specialist']}{deps}: {sub['instruction']}")
    how = [
        f"approve: orchestra resume {thread} --approve",
        f"edit:    orchestra show {thread} --json  (copy waiting[0].plan into a file, edit it)",
        f"         orchestra resume {thread} --edit FILE",
        f'reject:  orchestra resume {thread} --reject "why"',
    ]
    return _question(lines, waiting, how, "waiting for plan approval")


def render_result(
    result: RunResult, console: Console | None = None, *, db: str | None = None
) -> None:
    """Print the plan with each subtask's status, the answer, and how the run ended.

    ``db``: the ``--db`` the run was given, repeated in the command that continues it.
    """
    out = console or Console(width=None if sys.stdout.isatty() else 120)
    values = result.values
    results = values.get("results", {})
    verdicts = values.get("verdicts", [])
    table = Table(title=f"plan ({values.get('round', 0)} round(s))", title_justify="left")
    for column in (
        "id",
        "specialist",
        "depends on",
        "status",
        "attempts",
        "verdict",
        "model calls",
        "tools",
    ):
        table.add_column(column, overflow="fold")
    for record in values.get("plan", []):
        res = results.get(record["id"])
        mine = [v for v in verdicts if v["subtask_id"] == record["id"]]
        verdict = "-"
        if mine:
            last = mine[-1]
            verdict = "accepted" if last["accepted"] else f"rejected: {last['feedback'][:60]}"
        cells = (
            record["id"],
            record["specialist"],
            ", ".join(record["depends_on"]) or "-",
            res["status"] if res else "pending",
            str(res["revision"] + 1) if res and res["status"] != "skipped" else "0",
            verdict,
            str(res["steps"]) if res else "0",
            ", ".join(res["tool_calls"]) if res and res["tool_calls"] else "-",
        )
        # Model and user text is shown as written: "[s1]" is a citation, not rich markup.
        table.add_row(*map(escape, cells))
    out.print(f"[bold]task:[/bold] {escape(values.get('task', ''))}")
    if values.get("plan"):
        out.print(table)
    if values.get("ledger"):
        out.print(ledger_table(values["ledger"]))
    for note in values.get("notes", []):
        out.print(f"[dim]note:[/dim] {escape(note)}")
    if values.get("answer"):
        out.print(Panel(escape(values["answer"]), title="answer", title_align="left"))
    style = _STYLE.get(result.status, "white")
    out.print(f"[bold {style}]{result.status}[/bold {style}]: {escape(result.reason)}")
    out.print(f"model calls: {values.get('model_calls', 0)} · thread: {result.thread_id}")
    if (largest := result.largest_prompt) is not None:
        out.print(prompt_line(largest))
    if values.get("ledger") and (line := reserved_line(totals(values["ledger"]))):
        out.print(line)
    for waiting in result.waiting:
        out.print(waiting_panel(waiting, result.thread_id))
    if not result.finished and not result.waiting:
        again = f" --db {escape(shlex.quote(db))}" if db else ""
        out.print(f"continue with: [bold]orchestra resume {result.thread_id}{again}[/bold]")
