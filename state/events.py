"""Progress events: what a run reports while it works, on LangGraph's ``custom`` stream mode.

``graph.stream(..., stream_mode="custom")`` (or ``astream``) yields these dicts, each with
a ``kind``; the CLI's live view is built on them.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

EventKind = Literal[
    "plan",
    "worker_started",
    "worker_retried",
    "worker_finished",
    "worker_failed",
    "verdict",
    "waiting",
    "synthesis",
]


class ProgressEvent(TypedDict):
    """One step of progress. Fields beyond ``kind`` depend on it."""

    kind: EventKind
    team: str
    round: NotRequired[int]
    subtask_id: NotRequired[str]
    specialist: NotRequired[str]
    revision: NotRequired[int]
    subtasks: NotRequired[list[str]]
    """``plan``: the ids planned this round."""
    status: NotRequired[str]
    accepted: NotRequired[bool]
    feedback: NotRequired[str]
    reason: NotRequired[str]
    steps: NotRequired[int]
