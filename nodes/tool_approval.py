"""Human approval of a specialist's tool calls: the worker pauses until someone decides.

A specialist listed in ``approval.tool_calls`` asks before running the tool calls of each
model reply. The question is LangGraph's ``interrupt()``; the decision is the resume
value, from Python (``Command(resume=...)``), Studio or the CLI:

- ``{"action": "approve"}``: run the calls as the model made them;
- ``{"action": "edit", "calls": [{"id": "...", "args": {...}}]}``: run them with these
  arguments (a call is named by its ``id``, or by its tool ``name`` when that is unique;
  calls not named run as they are);
- ``{"action": "reject", "reason": "..."}``: run none; each call answers the model with
  the reason, and the model goes on from there (another call, or its result).

An answer that is not a valid decision is asked again, with the error.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError, model_validator
from typing_extensions import TypedDict


class PendingCall(TypedDict):
    """A tool call waiting for approval, as the question shows it."""

    id: str
    name: str
    args: dict[str, Any]


class EditedCall(BaseModel):
    """New arguments for one waiting call, named by its id or its tool's name."""

    id: str | None = None
    name: str | None = None
    args: dict[str, Any]

    @model_validator(mode="after")
    def _named(self) -> EditedCall:
        if not (self.id or self.name):
            raise ValueError("an edited call needs the id (or the tool name) of the call")
        return self


class ToolDecision(BaseModel):
    """A human's decision on a reply's tool calls."""

    action: Literal["approve", "edit", "reject"]
    calls: list[EditedCall] = Field(default_factory=list)
    reason: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ToolDecision:
        if self.action == "edit" and not self.calls:
            raise ValueError("an edit needs the edited calls: [{id or name, args}, ...]")
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason for the specialist")
        return self


def edited_args(
    decision: ToolDecision, pending: list[PendingCall]
) -> dict[str, dict[str, Any]] | str:
    """The arguments of each call after an edit (by call id), or why the edit does not fit."""
    args = {call["id"]: call["args"] for call in pending}
    for edit in decision.calls:
        if edit.id is not None:
            if edit.id not in args:
                return f"no waiting call has id {edit.id!r}; the ids are {sorted(args)}"
            args[edit.id] = edit.args
            continue
        named = [call["id"] for call in pending if call["name"] == edit.name]
        if len(named) != 1:
            return (
                f"{len(named)} waiting calls are to {edit.name!r}; name the call by its id"
                if named
                else f"no waiting call is to {edit.name!r}"
            )
        args[named[0]] = edit.args
    return args


def ask(
    question: dict[str, Any], pending: list[PendingCall]
) -> tuple[ToolDecision, dict[str, Any]]:
    """Wait for a valid decision on ``pending``; return it with each call's arguments.

    Raises LangGraph's interrupt (the run pauses) until the answer arrives; asking again,
    with the error, while the answer is not a valid decision for these calls.
    """
    error: str | None = None
    while True:
        answer = interrupt(question | {"error": error} if error else question)
        try:
            decision = ToolDecision.model_validate(answer)
        except ValidationError as exc:
            error = f"not a valid decision: {exc.errors()[0]['msg']}"
            continue
        if decision.action != "edit":
            return decision, {call["id"]: call["args"] for call in pending}
        args = edited_args(decision, pending)
        if isinstance(args, str):
            error = f"the edit does not fit the waiting calls: {args}"
            continue
        return decision, args


def tool_question(
    *, team: str, specialist: str, subtask_id: str, revision: int, pending: list[PendingCall]
) -> dict[str, Any]:
    """What the paused run shows for a reply's tool calls, and how to answer."""
    return {
        "kind": "tool_approval",
        "team": team,
        "specialist": specialist,
        "subtask_id": subtask_id,
        "revision": revision,
        "calls": pending,
        "answer": "approve | edit with calls [{id, args}] | reject with a reason",
    }
