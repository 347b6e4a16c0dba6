"""The CLI's live view: one line per progress event, on a terminal only."""

from __future__ import annotations

import sys

from rich.console import Console

from orchestra.graphs.runner import OnEvent
from orchestra.state import ProgressEvent

_MARKS = {
    "plan": "◆",
    "worker_started": "▶",
    "worker_retried": "↻",
    "worker_finished": "✓",
    "worker_failed": "✗",
    "verdict": "•",
    "waiting": "⏸",
    "synthesis": "■",
}


def describe(event: ProgressEvent) -> str:
    """A one-line description of an event."""
    kind, who = event["kind"], event.get("subtask_id", "")
    if kind == "plan":
        return f"round {event.get('round')}: planned {', '.join(event.get('subtasks', []))}"
    if kind in ("worker_started", "worker_retried"):
        again = f" (revision {event.get('revision')})" if kind == "worker_retried" else ""
        return f"{who} → {event.get('specialist')}{again}"
    if kind in ("worker_finished", "worker_failed"):
        why = f": {event['reason']}" if event.get("reason") else ""
        return f"{who} {event.get('status')} after {event.get('steps', 0)} call(s){why}"
    if kind == "verdict":
        said = "accepted" if event.get("accepted") else f"sent back: {event.get('feedback', '')}"
        return f"{who} {said}"
    if kind == "waiting" and event.get("subtask_id"):
        return f"{who} → {event.get('specialist')}: waiting for a human to approve tool calls"
    if kind == "waiting":
        return f"round {event.get('round')}: waiting for a human to approve the plan"
    return f"{event.get('status')}: {event.get('reason', '')}"


def live_view(console: Console | None = None) -> OnEvent | None:
    """A printer of events for a terminal, or ``None`` when output is not a TTY."""
    if console is None:
        if not sys.stderr.isatty():
            return None
        console = Console(stderr=True)
    out = console

    def show(event: ProgressEvent) -> None:
        mark = _MARKS.get(event["kind"], "·")
        out.print(f"[dim]{event['team']}[/dim] {mark} {describe(event)}", highlight=False)

    return show
