"""The synthesizer: reasons over the accepted results; the run's status comes with its answer.

The status itself is decided in ``orchestra.nodes.outcome``, from the facts in the state.

It cites only subtasks that were accepted, and any subtask that did not succeed is
named in the answer, added by the framework if the model left it out: a partial answer
never passes for a complete one. A reply that cannot be read as a ``Synthesis`` (cut
off, refused, prose: ``orchestra.nodes.structured``) gets one correction turn, within the
budget; then the answer is a fallback built from the accepted results, labelled as such
in the answer, the notes and the run's reason (``partial`` / ``synthesis_fallback``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.runtime import Runtime
from langgraph.types import Command

from orchestra.nodes.call_info import with_call
from orchestra.nodes.chat_models import PerModel, resolve_model
from orchestra.nodes.events import emit
from orchestra.nodes.outcome import decide, split_results
from orchestra.nodes.prompts import synthesis_problems
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.runnable import Node
from orchestra.nodes.steps import (
    Attempt,
    adrive,
    amodel_directly,
    atool_directly,
    drive,
    model_directly,
    tool_directly,
)
from orchestra.nodes.structured import StructuredModel, asking, correction
from orchestra.nodes.synthesis_prompts import SynthesisPrompts
from orchestra.nodes.usage import Spend, team_exhausted, team_left
from orchestra.state import (
    PartialSynthesis,
    Synthesis,
    TeamContext,
    TeamState,
    WorkerResult,
    merge_ledger,
    totals,
)


def _gap(result: WorkerResult) -> str:
    why = result.get("reason")
    head = f"{result['subtask_id']} ({result['specialist']}) {result['status']}"
    return f"{head}: {why}" if why else head


def digest_of(state: TeamState, team: ResolvedTeam) -> tuple[dict[str, Any] | None, list[str]]:
    """Run the team's digest over the accepted outputs; a failing digest becomes a note."""
    if team.digest is None:
        return None, []
    accepted, _ = split_results(state)
    results = state["results"]
    try:
        outputs = {
            sid: team.specialists[results[sid]["specialist"]].output.model_validate(
                results[sid]["output"]
            )
            for sid in accepted
        }
        return team.digest(outputs).model_dump(mode="json"), []
    except Exception as exc:  # the answer must not be lost to a digest bug
        return None, [f"the synthesizer's digest raised {type(exc).__name__}: {exc}"]


SynthesizerOut = dict[str, Any] | Command[Any]
"""The synthesizer's update, or its ``Send`` of the batches of a map-reduce."""

SYNTHESIS_CORRECTIONS = 1
"""Correction turns for a synthesizer reply that could not be read, before the fallback."""


def fallback_answer(state: TeamState, error: str | None, spent: str | None) -> str:
    """The framework's answer when no synthesis could be had: the accepted results, listed."""
    accepted, _ = split_results(state)
    results = state["results"]
    if spent:
        head = f"The budget ({spent}) ran out before a synthesis. Accepted results:"
    else:
        head = f"Fallback synthesis (the model's reply could not be read: {error}). "
        head += "The accepted results, as the specialists reported them:"
    listed = [f"- [{sid}] {results[sid]['summary']}" for sid in accepted] or ["- none"]
    return "\n".join([head, *listed])


def synthesis_update(
    state: TeamState,
    reply: dict[str, Any],
    digest: dict[str, Any] | None = None,
    spent: str | None = None,
    partials: list[PartialSynthesis] | None = None,
) -> dict[str, Any]:
    """The state update from the synthesizer model's structured reply.

    Over ``partials`` (a map-reduce), a part's id cited stands for the subtasks it cites.
    """
    accepted, missing = split_results(state)
    synthesis = reply.get("parsed")
    notes: list[str] = []
    fallback = None
    if isinstance(synthesis, Synthesis):
        answer = synthesis.answer.strip()
        parts = {p["part"]: p["citations"] for p in partials or []}
        cited = [sid for c in synthesis.citations for sid in parts.get(c, [c])]
        citations = [c for c in dict.fromkeys(cited) if c in accepted]
        stray = [c for c in cited if c not in accepted]
        if stray:
            notes.append(f"synthesizer cited subtasks that were not accepted: {stray}")
    else:
        if spent:
            notes.append(f"{spent} is spent: the answer was composed without a model call")
        else:
            fallback = reply.get("parsing_error") or "no synthesis in the reply"
            notes.append(
                f"fallback synthesis: the synthesizer's reply could not be read: {fallback}"
            )
        answer = fallback_answer(state, fallback, spent)
        citations = accepted
    unnamed = [r for r in missing if r["subtask_id"] not in answer]
    if unnamed:
        answer += "\n\nNot completed: " + "; ".join(map(_gap, unnamed))
    update: dict[str, Any] = {"digest": digest} if digest is not None else {}
    return update | {
        **decide(state, spent=spent, fallback=fallback),
        "answer": answer,
        "citations": citations,
        "notes": notes,
        "model_calls": 1,
    }


def synthesizing(
    chat: Any, conversation: list[BaseMessage], config: Any, spend: Spend, left: Any
) -> Attempt[tuple[dict[str, Any], list[str]]]:
    """Steps: ask for the synthesis, correcting an unreadable reply once within ``left``.

    Returns the last reply and the notes of replies asked again through tool calling.
    """
    notes: list[str] = []
    for attempt in range(SYNTHESIS_CORRECTIONS + 1):
        steps = yield from asking(chat, conversation, config)
        for step in steps:
            spend.record(step["reply"], latency_s=step["latency_s"])
        if len(steps) > 1:
            error = steps[0]["reply"].get("parsing_error")
            notes.append(f"synthesizer: {error}; asked again through tool calling")
        reply: dict[str, Any] = steps[-1]["reply"]
        if isinstance(reply.get("parsed"), Synthesis) or attempt == SYNTHESIS_CORRECTIONS:
            break
        if spend.over(left, time.time()) is not None:
            break  # a correction would break the budget's promise: fall back now
        request = synthesis_problems(str(reply.get("parsing_error")))
        conversation = [*conversation, *correction(reply, request)]
    return reply, notes


def synthesis_model(team: ResolvedTeam) -> Callable[[Runtime[TeamContext]], Any]:
    """The synthesizer's model for a run, answering with a ``Synthesis``.

    The reduction batches of a map-reduce (``orchestra.nodes.reducer``) ask the same one.
    """
    spec = team.spec
    structured = PerModel(lambda chat: StructuredModel(chat, Synthesis))

    def model(runtime: Runtime[TeamContext]) -> Any:
        return structured(
            resolve_model(
                runtime.context.model,
                spec.synthesizer.model,
                spec.model,
                folders=spec.import_folders,
            )
        )

    return model


def make_synthesizer(team: ResolvedTeam) -> Node[TeamState, SynthesizerOut]:
    """The synthesizer node for ``team``.

    Its results are shown at the size the prompt holds (``orchestra.nodes.synthesis_view``);
    when even shortened they do not fit, it sends them in batches to the ``reduce`` node
    (``orchestra.nodes.reduction``) and runs again over the batches' partials.
    """
    spec = team.spec

    prompts = SynthesisPrompts(spec)
    model = synthesis_model(team)

    def told(runtime: Runtime[TeamContext], update: SynthesizerOut) -> SynthesizerOut:
        if isinstance(update, dict):
            emit(runtime, spec.name, "synthesis", status=update["status"], reason=update["reason"])
        return update

    def without_model(
        state: TeamState, digest: Any, notes: list[str], spent: str
    ) -> dict[str, Any]:
        # The spend is over its cap already: one more call would break the budget's promise.
        update = synthesis_update(state, {}, digest, spent=spent)
        update |= {"model_calls": 0, "usage": totals(state.get("ledger", {}))}
        update["exhausted"] = [spent]
        return update | {"notes": notes + update["notes"]}

    def close(
        state: TeamState,
        reply: Any,
        spend: Spend,
        digest: Any,
        notes: list[str],
        partials: list[PartialSynthesis],
    ) -> dict[str, Any]:
        update = synthesis_update(state, reply, digest, partials=partials)
        entry = {"synthesizer": spend.entry("synthesizer", revision=spend.calls - 1)}
        usage = totals(merge_ledger(state.get("ledger", {}), entry))
        notes = notes + update["notes"]
        return update | {
            "notes": notes,
            "ledger": entry,
            "usage": usage,
            "model_calls": spend.calls,
        }

    def synthesis(state: TeamState, runtime: Runtime[TeamContext]) -> Attempt[SynthesizerOut]:
        digest, notes = digest_of(state, team)
        if spent := team_exhausted(state, spec):
            return without_model(state, digest, notes, spent)
        chat = model(runtime)
        blocks = prompts.blocks_of(state)
        shown, cut = prompts.shown_digest(state, digest, chat, blocks)
        fitted, partials = prompts.sized(state, shown, chat, blocks)
        if not fitted.fits and not partials and len(fitted.blocks) > 1:
            return prompts.reduce_in_batches(state, shown, chat, fitted.window)
        notes += [n for n in (cut, fitted.note) if n]
        spend = Spend.for_team(spec)
        config = with_call(prompts.call_info(state, shown, partials))
        conversation = prompts.messages(state, shown, fitted.blocks, partials=bool(partials))
        left = team_left(state, spec)
        reply, asked_again = yield from synthesizing(chat, conversation, config, spend, left)
        return close(state, reply, spend, digest, notes + asked_again, partials)

    def run(state: TeamState, runtime: Runtime[TeamContext]) -> SynthesizerOut:
        return told(runtime, drive(synthesis(state, runtime), model_directly, tool_directly))

    async def arun(state: TeamState, runtime: Runtime[TeamContext]) -> SynthesizerOut:
        made = await adrive(synthesis(state, runtime), amodel_directly, atool_directly)
        return told(runtime, made)

    return Node("synthesizer", run, arun)
