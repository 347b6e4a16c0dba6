"""Live progress of an audit on a terminal: a bar over the repositories and each one's status.

Fed by the runner's ``on_update`` callback (one call per finished node), it keeps a
copy of the plan and results and redraws; it never touches the run. Used only when
stdout is a terminal and ``--json`` is off.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestra import TERMINAL
from orchestra_audit.report import RepoState, repo_states

ROWS = 12
"""Repositories listed under the bar; the busiest first."""

_ORDER = ["auditing", "submitted", "revise", "failed", "rejected", "skipped", "pending", "accepted"]
_LABEL = {
    "pending": "[dim]waiting[/]",
    "auditing": "[cyan]auditing[/]",
    "submitted": "[cyan]validating[/]",
    "revise": "[yellow]sent back[/]",
    "accepted": "[green]done[/]",
    "rejected": "[red]rejected[/]",
    "failed": "[red]failed[/]",
    "skipped": "[red]skipped[/]",
}


class AuditProgress:
    """A context manager showing the audit's progress; pass ``on_update`` to the runner."""

    def __init__(
        self, names: dict[str, str], console: Console, values: dict[str, Any] | None = None
    ) -> None:
        seed = values or {}
        self.names = names
        self.values: dict[str, Any] = {
            "plan": list(seed.get("plan", [])),
            "results": dict(seed.get("results", {})),
        }
        self.bar = Progress(
            TextColumn("[bold]audit[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("repositories"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.bar.add_task("audit", total=len(names))
        self.live = Live(self.view(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> AuditProgress:
        self.live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.live.__exit__(kind, error, trace)

    def on_update(self, node: str, update: Any) -> None:
        """Record one node's update (plan, results) and redraw."""
        if isinstance(update, dict):
            self.values["plan"] += update.get("plan", [])
            self.values["results"].update(update.get("results", {}))
        self.live.update(self.view())

    def _rows(self, states: list[RepoState]) -> Table:
        table = Table.grid(padding=(0, 2))
        ranked = sorted(states, key=lambda s: _ORDER.index(s.status))
        for state in ranked[:ROWS]:
            result = self.values["results"].get(state.subtask or "", {})
            findings = len((result.get("output") or {}).get("findings", []))
            detail = f"{findings} finding(s)" if state.status == "accepted" else state.reason
            table.add_row(
                escape(state.name), _LABEL.get(state.status, state.status), escape(detail[:60])
            )
        if len(ranked) > ROWS:
            table.add_row(f"... {len(ranked) - ROWS} more", "", "")
        return table

    def view(self) -> RenderableType:
        """The bar and the repository list as they stand."""
        states = repo_states(self.values, self.names)
        done = sum(1 for s in states if s.status in TERMINAL)
        self.bar.update(self.task, completed=done)
        return Group(self.bar, self._rows(states))
