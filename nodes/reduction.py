"""Map-reduce synthesis: results too many for one prompt, reduced in batches that fit.

When even shortened blocks cannot fit the synthesizer's prompt
(``orchestra.nodes.synthesis_view``), the accepted results are split, in plan order, into
batches whose blocks fit a reduction prompt, and each batch goes to the ``reduce`` node
as its own ``Send`` (``orchestra.nodes.reducer``): a traced, checkpointed task per batch,
so a crash during the reduction re-runs only the batches that had not finished. The
synthesizer then runs again over the batches' partials, each citing its subtask ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from langchain_core.messages import BaseMessage
from langgraph.types import Command, Send

from orchestra.nodes.chat_models import call_settings, chat_in
from orchestra.nodes.context_check import counter_of, measure
from orchestra.nodes.prompts import result_block
from orchestra.nodes.tokens import Counter, estimate_text
from orchestra.state import (
    BatchItem,
    PartialSynthesis,
    ReduceInput,
    SubtaskRecord,
    TeamState,
    WorkerResult,
)

REDUCE_NODE = "reduce"

_MIN_WORDS = 60
"""The shortest a partial is asked to be, however many batches share the final prompt."""

_MARGIN = 0.9
"""The share of a reduction prompt's room its results may fill (block separators, notes)."""


def item_of(record: SubtaskRecord, result: WorkerResult) -> BatchItem:
    """An accepted result as a batch carries it."""
    return BatchItem(
        subtask_id=record["id"],
        specialist=record["specialist"],
        instruction=record["instruction"],
        summary=result["summary"],
        output=result["output"],
    )


def item_block(item: BatchItem) -> str:
    """The block of a batch's result: the same as the synthesizer shows it."""
    record = {"id": item["subtask_id"], "specialist": item["specialist"]}
    record["instruction"] = item["instruction"]
    result = {"status": "accepted", "summary": item["summary"], "output": item["output"]}
    return result_block(cast(SubtaskRecord, record), cast(WorkerResult, result))


def batches(tokens: Mapping[str, int], budget: int) -> list[list[str]]:
    """Consecutive ids whose tokens total at most ``budget``; an id over it goes alone.

    Example:
        >>> batches({"a": 4, "b": 4, "c": 9, "d": 1}, 8)
        [['a', 'b'], ['c'], ['d']]
    """
    found: list[list[str]] = []
    size = 0
    for key, count in tokens.items():
        if found and size + count <= budget:
            found[-1].append(key)
            size += count
        else:
            found.append([key])
            size = count
    return found


def results_room(bound: Any, empty: list[BaseMessage]) -> tuple[int, Counter] | None:
    """The tokens a reduction prompt has for results (``empty``: the prompt with none)."""
    size = measure(bound, empty)
    chat = chat_in(bound)
    if size is None or chat is None:
        return None
    return int(size.room * _MARGIN), counter_of(call_settings(chat))


def covering(
    partials: Mapping[str, PartialSynthesis], accepted: Iterable[str]
) -> list[PartialSynthesis]:
    """The partials of the latest reduction, when they cover exactly ``accepted`` (else none)."""
    found = sorted(partials.values(), key=lambda p: p["index"])
    if not found:
        return []
    newest = [p for p in found if p["of"] == found[-1]["of"]]
    covered = [sid for p in newest for sid in p["covers"]]
    whole = len(newest) == newest[0]["of"] and sorted(covered) == sorted(accepted)
    return newest if whole else []


def payload(
    state: TeamState, index: int, of: int, items: list[BatchItem], words: int | None = None
) -> ReduceInput:
    """One batch's ``Send`` payload: its results and what the team's budget needs."""
    found = ReduceInput(
        task=state["task"],
        part=f"part-{index}",
        index=index,
        of=of,
        items=items,
        ledger=state.get("ledger", {}),
        model_calls=state.get("model_calls", 0),
    )
    if words is not None:
        found["words"] = words
    if "started_at" in state:
        found["started_at"] = state["started_at"]
    if "envelope" in state:
        found["envelope"] = state["envelope"]
    return found


def reduction(
    state: TeamState,
    accepted: list[str],
    room: tuple[int, Counter] | None,
    window: int | None,
    final_room: int | None = None,
) -> Command[Any]:
    """The ``Send`` of each batch of ``accepted`` to the ``reduce`` node, with a note.

    ``final_room``: the tokens the final synthesis has for every partial; each batch is
    asked to keep its partial to its share, in words (counted as two tokens each: a word
    and its space are about six bytes, and the estimate counts a token per three bytes).
    """
    by_id = {r["id"]: r for r in state["plan"]}
    results = state["results"]
    items = [item_of(by_id[sid], results[sid]) for sid in accepted]
    budget, count = room if room is not None else (0, estimate_text)
    tokens = {item["subtask_id"]: count(item_block(item)) for item in items}
    groups = batches(tokens, max(budget, 1))
    of = len(groups)
    by_sid = {item["subtask_id"]: item for item in items}
    words = max(_MIN_WORDS, final_room // 2 // of) if final_room is not None else None
    sends = [
        Send(REDUCE_NODE, payload(state, index, of, [by_sid[sid] for sid in group], words))
        for index, group in enumerate(groups, start=1)
    ]
    where = f"the model's {window}-token window" if window else "the model's window"
    note = (
        f"synthesizer: {len(accepted)} results do not fit {where} even shortened: "
        f"reducing them in {of} batches, then synthesizing over the partials"
    )
    return Command(goto=sends, update={"notes": [note]})
