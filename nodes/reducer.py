"""The ``reduce`` node: one batch of a map-reduce synthesis (``orchestra.nodes.reduction``).

It asks the synthesizer's model for a partial synthesis over its batch, citing the
batch's subtask ids, and writes it under its part id; a reply that cannot be read gets
the synthesizer's one correction turn. A batch whose call cannot be made (budget spent,
a permanent model error: ``orchestra.nodes.role_calls.bounded_reducer``) or whose reply
stays unreadable gets a partial that lists its results' summaries, marked as a fallback,
so the final synthesis still sees and cites every result.
"""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.runtime import Runtime

from orchestra.nodes.call_info import CallInfo, ResultInfo, with_call
from orchestra.nodes.prompts import CITATION, reducer_message
from orchestra.nodes.reduction import item_block
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
from orchestra.nodes.synthesis_prompts import SynthesisPrompts
from orchestra.nodes.synthesis_view import fit_blocks, no_floor
from orchestra.nodes.synthesizer import synthesis_model, synthesizing
from orchestra.nodes.usage import Spend, team_left
from orchestra.state import PartialSynthesis, ReduceInput, Synthesis, TeamContext, TeamState


def ledger_key(batch: ReduceInput) -> str:
    """The batch's ledger entry: ``synthesizer:part-2``."""
    return f"synthesizer:{batch['part']}"


def fallback_partial(batch: ReduceInput, why: str) -> PartialSynthesis:
    """The batch's results listed by summary, when no partial synthesis could be had."""
    covers = [item["subtask_id"] for item in batch["items"]]
    lines = [
        f"- {' '.join(item['summary'].split())} [{item['subtask_id']}]" for item in batch["items"]
    ]
    return PartialSynthesis(
        part=batch["part"],
        index=batch["index"],
        of=batch["of"],
        covers=covers,
        answer="\n".join(lines),
        citations=covers,
        fallback=why,
    )


def partial_of(batch: ReduceInput, reply: dict[str, Any]) -> PartialSynthesis:
    """The batch's partial from the model's reply, citing only the batch's subtasks.

    Ids cited inline as ``[id]`` count as citations too: a model that wrote them in the
    text but left the list short has still said where each claim comes from.
    """
    parsed = reply.get("parsed")
    if not isinstance(parsed, Synthesis):
        why = str(reply.get("parsing_error") or "no synthesis in the reply")
        return fallback_partial(batch, f"the reply could not be read: {why}")
    covers = [item["subtask_id"] for item in batch["items"]]
    inline = set(CITATION.findall(parsed.answer))
    cited = set(parsed.citations) | inline
    return PartialSynthesis(
        part=batch["part"],
        index=batch["index"],
        of=batch["of"],
        covers=covers,
        answer=parsed.answer.strip(),
        citations=[sid for sid in covers if sid in cited],
    )


def make_reducer(team: ResolvedTeam) -> Node[ReduceInput, dict[str, Any]]:
    """The ``reduce`` node for ``team``: its calls are the synthesizer's (model, prompt)."""
    spec = team.spec
    system = SynthesisPrompts(spec).reducer_system
    model = synthesis_model(team)

    def messages(batch: ReduceInput, blocks: dict[str, str]) -> list[BaseMessage]:
        text = reducer_message(
            batch["task"], batch["index"], batch["of"], list(blocks.values()), batch.get("words")
        )
        return [system, HumanMessage(text)]

    def call_info(batch: ReduceInput) -> CallInfo:
        results = tuple(
            ResultInfo(i["subtask_id"], i["specialist"], "accepted", i["instruction"],
                       i["summary"], i["output"])
            for i in batch["items"]
        )  # fmt: skip
        return CallInfo(
            role="synthesizer",
            team=spec.name,
            task=batch["task"],
            output_tool=Synthesis.__name__,
            results=results,
            part=f"{batch['index']} of {batch['of']}",
            words=batch.get("words"),
        )

    def reduction(batch: ReduceInput, runtime: Runtime[TeamContext]) -> Attempt[dict[str, Any]]:
        chat = model(runtime)
        blocks = {item["subtask_id"]: item_block(item) for item in batch["items"]}
        who = f"synthesizer {batch['part']}"
        fitted = fit_blocks(chat, lambda b: messages(batch, b), blocks, who, no_floor)
        notes = [fitted.note] if fitted.note else []
        spend = Spend.for_team(spec)
        left = team_left(as_state(batch), spec)
        conversation, config = messages(batch, fitted.blocks), with_call(call_info(batch))
        reply, asked_again = yield from synthesizing(chat, conversation, config, spend, left)
        partial = partial_of(batch, reply)
        if "fallback" in partial:
            notes.append(f"{who}: fallback partial ({partial['fallback']})")
        key = ledger_key(batch)
        return {
            "partials": {batch["part"]: partial},
            "ledger": {key: spend.entry("synthesizer", revision=spend.calls - 1)},
            "model_calls": spend.calls,
            "notes": notes + asked_again,
        }

    def run(batch: ReduceInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return drive(reduction(batch, runtime), model_directly, tool_directly)

    async def arun(batch: ReduceInput, runtime: Runtime[TeamContext]) -> dict[str, Any]:
        return await adrive(reduction(batch, runtime), amodel_directly, atool_directly)

    return Node("reduce", run, arun)


def as_state(batch: ReduceInput) -> TeamState:
    """The batch's payload read as the team's state: what budgets are checked against.

    The payload carries the fields the budget helpers read (``ledger``, ``model_calls``,
    ``started_at``, ``envelope``); the rest of the state is not needed for a batch.
    """
    state: dict[str, Any] = {"task": batch["task"], "plan": [], "results": {}, **batch}
    return cast(TeamState, state)
