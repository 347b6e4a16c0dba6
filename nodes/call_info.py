"""What a model call is for, as data: the structured twin of a role's prompt.

Every role node passes a ``CallInfo`` along with its model call, in the run config's
metadata under ``CALL_INFO_KEY``. LangChain hands that metadata to the chat model's
``_generate``/``_agenerate`` through its run manager, so the local models (the scripted,
faulty and offline ones) read who is asking and with what — role, specialist, subtask
id, round, output tool, results — from it instead of parsing the prompt's wording. A
provider model ignores it and answers the prompt as before; tracing shows it as
metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from orchestra.state import DependencyResult, SpecialistSpec, SubtaskRecord, WorkerResult

Role = Literal["orchestrator", "specialist", "synthesizer"]

CALL_INFO_KEY = "orchestra_call"
"""The metadata key a role's model call carries its ``CallInfo`` under."""


@dataclass(frozen=True)
class InputInfo:
    """A result a subtask depends on, as handed to its specialist."""

    subtask_id: str
    specialist: str
    summary: str
    output: Mapping[str, Any]


@dataclass(frozen=True)
class ResultInfo:
    """One subtask's outcome, as the orchestrator and the synthesizer are shown it."""

    subtask_id: str
    specialist: str
    status: str
    """The subtask's status (``pending`` when it has no result yet)."""
    instruction: str
    summary: str = ""
    output: Mapping[str, Any] | None = None
    reason: str = ""


@dataclass(frozen=True)
class PartialInfo:
    """One batch's partial synthesis, as the final synthesis of a map-reduce is shown it."""

    part: str
    citations: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class CallInfo:
    """One model call of a role: what it is asked, as data (fields unused by a role stay empty)."""

    role: Role
    team: str
    task: str = ""
    """The team's task (orchestrator, synthesizer)."""
    specialist: str = ""
    subtask_id: str = ""
    round: int = 1
    """The planning round the call belongs to (1 for the first plan)."""
    revision: int = 0
    """0 for a subtask's first attempt, +1 each time the validator sent it back."""
    step: int = 0
    """The specialist's model calls before this one in the attempt."""
    instruction: str = ""
    inputs: tuple[InputInfo, ...] = ()
    feedback: str | None = None
    """The validator's (or, for a plan, a human's) feedback on the previous answer."""
    output_tool: str = ""
    """The tool whose call ends the turn: the specialist's output type, ``Plan``, ``Synthesis``."""
    max_rounds: int = 0
    max_subtasks: int = 0
    roster: tuple[tuple[str, str], ...] = ()
    """``(name, description)`` of each specialist the orchestrator may plan for."""
    results: tuple[ResultInfo, ...] = ()
    """The orchestrator: every planned subtask so far; the synthesizer: the accepted ones."""
    missing: tuple[ResultInfo, ...] = ()
    """The synthesizer: the subtasks that did not succeed."""
    digest: Mapping[str, Any] | None = None
    """The synthesizer: the team's digest of the accepted outputs, if it has one."""
    part: str = ""
    """A reduction batch's call: which part of how many (``2 of 5``); else empty."""
    words: int | None = None
    """A reduction batch's call: about how many words its partial may take."""
    partials: tuple[PartialInfo, ...] = ()
    """The final synthesis of a map-reduce: the batches' partials (``results`` is empty)."""


def with_call(info: CallInfo, config: RunnableConfig | None = None) -> RunnableConfig:
    """``config`` with ``info`` added to its metadata."""
    given = config or {}
    metadata = {**given.get("metadata", {}), CALL_INFO_KEY: info}
    return {**given, "metadata": metadata}


def call_info_of(metadata: Mapping[str, Any] | None) -> CallInfo | None:
    """The ``CallInfo`` in a run's metadata, if a role put one there."""
    found = (metadata or {}).get(CALL_INFO_KEY)
    return found if isinstance(found, CallInfo) else None


def result_info(record: SubtaskRecord, result: WorkerResult | None) -> ResultInfo:
    """One planned subtask's outcome as data (``pending`` when it has no result yet)."""
    if result is None:
        return ResultInfo(record["id"], record["specialist"], "pending", record["instruction"])
    accepted = result["status"] == "accepted" and result["output"] is not None
    return ResultInfo(
        subtask_id=record["id"],
        specialist=record["specialist"],
        status=result["status"],
        instruction=record["instruction"],
        summary=result["summary"] if accepted else "",
        output=result["output"] if accepted else None,
        reason="" if accepted else result.get("reason", ""),
    )


def input_infos(dependencies: Mapping[str, DependencyResult]) -> tuple[InputInfo, ...]:
    """The results a subtask depends on, as data."""
    return tuple(
        InputInfo(dep_id, dep["specialist"], dep["summary"], dep["output"])
        for dep_id, dep in dependencies.items()
    )


def roster_of(specialists: Iterable[SpecialistSpec]) -> tuple[tuple[str, str], ...]:
    """``(name, description)`` of each specialist, descriptions on one line."""
    return tuple((s.name, " ".join(s.description.split())) for s in specialists)
