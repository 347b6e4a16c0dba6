"""Where a run stands after an invocation: ``RunResult``, read from the graph's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from orchestra.graphs.orchestrator_workers import CompiledTeam
from orchestra.nodes.outcome import StandingReason, StandingStatus, standing
from orchestra.state import LargestPrompt, largest_prompt


@dataclass
class RunResult:
    """Where a run stands after an invocation."""

    thread_id: str
    values: dict[str, Any]
    pending: tuple[str, ...]
    """Nodes still to run; empty when the run finished."""
    error: str | None = None
    """Why the invocation stopped early, for people (the state is kept; resume continues it)."""
    stopped_by: str | None = field(default=None)
    """``"recursion_limit"`` when LangGraph's step limit stopped the run."""
    waiting: list[Any] = field(default_factory=list)
    """What a paused run waits for (its interrupts' values), e.g. a plan to approve."""
    waiting_ids: list[str] = field(default_factory=list)
    """The interrupt id of each ``waiting`` item, for answering one of several."""
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    """The exception that stopped the invocation early (``error`` is its text)."""
    output_types: dict[str, type[BaseModel]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Each specialist's output type, by the name its subtasks run under."""

    def raise_for_error(self) -> None:
        """Raise the exception that stopped the invocation, if one did."""
        if self.exception is not None:
            raise self.exception

    @property
    def finished(self) -> bool:
        """True once the synthesizer has run."""
        return not self.pending and "status" in self.values

    @property
    def status(self) -> StandingStatus:
        """The run's status, or ``waiting``/``interrupted``/``cap_reached`` before it ends."""
        return self._standing()[0]

    @property
    def reason_code(self) -> StandingReason:
        """Why the run has its status, as a code to branch on."""
        return self._standing()[1]

    @property
    def reason(self) -> str:
        """Why the run has its status, for people."""
        return self._standing()[2]

    def _standing(self) -> tuple[StandingStatus, StandingReason, str]:
        kinds = [str(w.get("kind", "input")) for w in self.waiting if isinstance(w, dict)]
        return standing(
            self.values,
            finished=self.finished,
            waiting_kinds=(kinds or ["input"]) if self.waiting else [],
            stopped_by=self.stopped_by,
            error=self.error,
        )

    @property
    def largest_prompt(self) -> LargestPrompt | None:
        """The run's largest prompt against its model's window (``None``: none measured).

        Measured before each call of a model with a known window (``orchestra.nodes.tokens``),
        with the largest input-token count a provider reported.
        """
        return largest_prompt(self.values.get("ledger", {}))

    @property
    def outputs(self) -> dict[str, BaseModel]:
        """Each subtask's output as its specialist's pydantic type, by subtask id, in plan order.

        Rebuilt from the JSON in the checkpoint; subtasks without an output (failed,
        skipped, not yet run) are absent, and ``values["results"]`` says how each ended.
        """
        results = self.values.get("results", {})
        order = [r["id"] for r in self.values.get("plan", []) if r["id"] in results]
        made: dict[str, BaseModel] = {}
        for sid in dict.fromkeys([*order, *results]):
            result = results[sid]
            kind = self.output_types.get(result["specialist"])
            if result.get("output") is not None and kind is not None:
                made[sid] = kind.model_validate(result["output"])
        return made


def result_of(
    graph: CompiledTeam,
    thread_id: str,
    output_types: dict[str, type[BaseModel]],
    *,
    config: RunnableConfig | None = None,
    error: str | None = None,
    stopped_by: str | None = None,
    exception: BaseException | None = None,
) -> RunResult:
    """The ``RunResult`` of ``thread_id`` as ``graph``'s checkpointer holds it now."""
    state = graph.get_state(config or {"configurable": {"thread_id": thread_id}})
    return RunResult(
        thread_id,
        dict(state.values),
        tuple(state.next),
        error,
        stopped_by,
        [i.value for i in state.interrupts],
        [i.id for i in state.interrupts],
        exception,
        output_types,
    )
