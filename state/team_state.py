"""Graph state of a team run: TypedDicts with reducers, JSON-friendly so checkpoints stay portable.

Parallel specialists write into the same super-step, so every field they touch has a
reducer: results merge by subtask id, counters add, verdicts and notes append.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

from orchestra.state.budget import Envelope, Exhausted, LedgerEntry, Totals, merge_ledger

SubtaskStatus = Literal[
    "submitted", "revise", "accepted", "rejected", "failed", "skipped", "exhausted"
]
"""``submitted``: waits for the validator. ``revise``: rejected, goes back with feedback.
Terminal: ``accepted``; ``rejected`` (revision cap reached); ``failed`` (no valid output);
``skipped`` (a dependency did not succeed or no budget was left); ``exhausted`` (its
budget ran out: a partial result, kept)."""

TERMINAL: frozenset[str] = frozenset({"accepted", "rejected", "failed", "skipped", "exhausted"})

RunStatus = Literal[
    "running", "completed", "partial", "failed", "budget_exhausted", "cap_reached", "no_progress"
]
"""``completed``: every subtask accepted. ``partial``: some did not succeed and the answer
says which. ``budget_exhausted``: a budget envelope stopped work. ``cap_reached``: a domain
cap stopped work. ``no_progress``: rounds stopped changing any result. ``failed``: no
answer could be had (``reason`` says why)."""

RunReason = Literal[
    "all_accepted",
    "nothing_planned",
    "subtasks_missing",
    "budget_exhausted",
    "cap_reached",
    "no_progress",
    "synthesis_fallback",
    "invalid_plan",
    "empty_plan",
    "plan_rejected",
    "join_failed",
    "quorum_not_met",
    "model_error",
]
"""Why a run ended as it did, as a code (``reason`` beside it is the text for people)."""

FailureCode = Literal[
    "invalid_plan", "empty_plan", "plan_rejected", "join_failed", "quorum_not_met", "model_error"
]
"""The facts that fail a run: the first plan was invalid or empty, a human rejected the
plan for good, a fan-out's join policy was not met, the orchestrator's or synthesizer's
model refused a call for good (a 401, 400 or 404: ``detail`` has the provider's message)."""

SubtaskReason = Literal[
    "budget_exhausted",
    "max_model_calls",
    "dependency_failed",
    "stage_ended",
    "unschedulable",
    "max_revisions",
    "error",
    "team_ended",
]
"""Why a subtask did not succeed, as a code (its ``reason`` is the text)."""

Judge = Literal["orchestrator", "validator", "human"]
"""Who gave a verdict."""

CapName = Literal[
    "max_rounds", "max_revisions", "max_workers_per_round", "max_model_calls", "recursion_limit"
]


class SubtaskRecord(TypedDict):
    """A planned subtask as it lives in state."""

    id: str
    specialist: str
    instruction: str
    depends_on: list[str]
    round: int


class DependencyResult(TypedDict):
    """What a dependent subtask receives of an earlier one: its typed output, not a transcript."""

    specialist: str
    summary: str
    output: dict[str, Any]


class WorkerInput(TypedDict):
    """The ``Send`` payload of one specialist run."""

    subtask: SubtaskRecord
    dependencies: dict[str, DependencyResult]
    revision: int
    feedback: NotRequired[str]
    envelope: NotRequired[Envelope]


class WorkerResult(TypedDict):
    """One subtask's latest result and where it stands."""

    subtask_id: str
    specialist: str
    status: SubtaskStatus
    revision: int
    """0 for the first attempt, +1 for each time the validator sent it back."""
    output: dict[str, Any] | None
    summary: str
    steps: int
    """Model calls the specialist made for this attempt."""
    tool_calls: list[str]
    """Names of the tools it called, in order (refused calls are prefixed ``refused:``)."""
    reason: NotRequired[str]
    """Why it is not accepted (failed, rejected, skipped)."""
    reason_code: NotRequired[SubtaskReason]
    """``reason`` as a code, for the framework to branch on."""
    feedback: NotRequired[str]
    """The validator's last feedback."""
    raw: NotRequired[str]
    """The model's last raw reply when no valid output came of it, kept for inspection."""


class Verdict(TypedDict):
    """The validator's judgement of one attempt."""

    subtask_id: str
    revision: int
    accepted: bool
    feedback: str
    by: NotRequired[Judge]
    """Who judged (absent: the validator, or the orchestrator's own plan check)."""


class RunFailure(TypedDict):
    """A fact that fails the run, reported by the node that found it."""

    code: FailureCode
    detail: str
    """The reason for people."""


class RunOrigin(TypedDict):
    """Enough to rebuild the graph for ``orchestra resume``/``show`` from the checkpoint alone."""

    team: dict[str, Any]
    team_file: NotRequired[str]
    team_sha256: NotRequired[str]
    """The team file's SHA-256 when the run started: a resume imports from the file only
    while it still matches."""
    import_folders: NotRequired[list[str]]
    """Where the team's import paths were looked up (``orchestra.state.search_folders``)."""
    model: NotRequired[str]


def status_of(results: dict[str, WorkerResult], subtask_id: str) -> SubtaskStatus | None:
    """A subtask's status, or ``None`` before it has a result."""
    found = results.get(subtask_id)
    return found["status"] if found else None


def merge_results(
    left: dict[str, WorkerResult], right: dict[str, WorkerResult]
) -> dict[str, WorkerResult]:
    """Later writes of a subtask replace earlier ones; other subtasks are kept."""
    return {**left, **right}


class BatchItem(TypedDict):
    """One accepted result in a reduction batch: what its block is written from."""

    subtask_id: str
    specialist: str
    instruction: str
    summary: str
    output: dict[str, Any] | None


class ReduceInput(TypedDict):
    """The ``Send`` payload of one reduction batch (``orchestra.nodes.reducer``).

    It carries only what the batch's call needs: the task, its results, and what the
    team's budget is checked against (clock, envelope, spend so far), not the whole state.
    """

    task: str
    part: str
    """The batch's id: ``part-1`` .. ``part-N``, as the final synthesis cites it."""
    index: int
    of: int
    items: list[BatchItem]
    ledger: dict[str, LedgerEntry]
    model_calls: int
    words: NotRequired[int]
    """About how long the partial may be: its share of the final synthesis's prompt."""
    started_at: NotRequired[float]
    envelope: NotRequired[Envelope]


class PartialSynthesis(TypedDict):
    """A synthesis over one batch of results, citing its subtask ids."""

    part: str
    index: int
    of: int
    covers: list[str]
    """The subtasks of the batch, in plan order."""
    answer: str
    citations: list[str]
    """The subtasks the partial answer uses: always ids in ``covers``."""
    fallback: NotRequired[str]
    """Why the partial is the batch's summaries listed, not a model's synthesis."""


def merge_partials(
    left: dict[str, PartialSynthesis], right: dict[str, PartialSynthesis]
) -> dict[str, PartialSynthesis]:
    """Each batch's partial by its part id; batches finishing in one step merge."""
    return {**left, **right}


class PendingPlan(TypedDict):
    """A checked plan waiting for a human's decision."""

    round: int
    rationale: str
    subtasks: list[SubtaskRecord]


class TeamInput(TypedDict):
    """What a caller passes to start a run."""

    task: str
    origin: NotRequired[RunOrigin]
    deps: NotRequired[Any]
    """The application's data for the run (``TeamContext.deps`` as JSON): kept in the
    checkpoint so a resume anywhere has it."""
    envelope: NotRequired[Envelope]
    """Limits handed down by a parent team (its share of the parent's budget)."""


class TeamState(TypedDict):
    """The shared, checkpointed state of an orchestrator-workers run."""

    task: str
    origin: NotRequired[RunOrigin]
    deps: NotRequired[Any]
    """``TeamContext.deps`` as JSON, restored into the context on resume."""
    envelope: NotRequired[Envelope]
    """What a parent team's dispatch carved for this run: the team's budget is the tighter
    of its own and this."""
    plan: Annotated[list[SubtaskRecord], operator.add]
    """Every subtask of every round, in plan order."""
    results: Annotated[dict[str, WorkerResult], merge_results]
    verdicts: Annotated[list[Verdict], operator.add]
    notes: Annotated[list[str], operator.add]
    """Things the framework did on its own (dropped subtasks, caps) so nothing is silent."""
    caps: Annotated[list[CapName], operator.add]
    """Domain caps that stopped some work."""
    model_calls: Annotated[int, operator.add]
    ledger: Annotated[dict[str, LedgerEntry], merge_ledger]
    """Spend per role and per worker (keyed by role name, or subtask id for workers)."""
    exhausted: Exhausted
    started_at: NotRequired[float]
    """Epoch seconds when the run started: the team's timeout counts from here."""
    pending_plan: NotRequired[PendingPlan | None]
    """A plan waiting for approval (``None`` once decided)."""
    plan_feedback: NotRequired[str | None]
    """A human's reason for rejecting the last plan, for the orchestrator's next one."""
    no_progress: NotRequired[str]
    """Why the orchestrator stopped planning: its rounds changed no result."""
    usage: NotRequired[Totals]
    """The run's total spend, set when it ends."""
    round: NotRequired[int]
    rationale: NotRequired[str]
    digest: NotRequired[dict[str, Any]]
    partials: NotRequired[Annotated[dict[str, PartialSynthesis], merge_partials]]
    """The map-reduce synthesis's partials, when the results did not fit one prompt."""
    """The synthesizer's digest of the accepted outputs, when the team defines one."""
    answer: NotRequired[str]
    citations: NotRequired[list[str]]
    failure: NotRequired[RunFailure]
    """A fact that fails the run (``orchestra.nodes.outcome`` decides the status)."""
    status: NotRequired[RunStatus]
    reason_code: NotRequired[RunReason]
    reason: NotRequired[str]
