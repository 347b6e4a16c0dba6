"""The synthesizer's prompts: its results' blocks sized to fit, or a reduction's batches.

``SynthesisPrompts.sized`` gives the blocks one synthesis prompt shows: every accepted
result's (``orchestra.nodes.synthesis_view``: whole, or shortened largest first), or,
after a map-reduce, every batch's partial. When the results do not fit even shortened,
``reduce_in_batches`` sends them to the ``reduce`` node (``orchestra.nodes.reduction``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.types import Command

from orchestra.nodes.call_info import CallInfo, PartialInfo, result_info
from orchestra.nodes.chat_models import call_settings, chat_in
from orchestra.nodes.context_check import counter_of, measure, windowed
from orchestra.nodes.json_fit import compact
from orchestra.nodes.outcome import split_results
from orchestra.nodes.prompts import (
    REDUCER_PROMPT,
    SYNTHESIZER_PROMPT,
    partial_block,
    reducer_message,
    result_block,
    synthesizer_message,
)
from orchestra.nodes.reduction import covering, reduction, results_room
from orchestra.nodes.synthesis_view import Fitted, fit_blocks, no_floor
from orchestra.state import PartialSynthesis, Synthesis, TeamSpec, TeamState

_DIGEST_FRAME = 10
"""Tokens of the digest's section heading, beside its JSON."""


class SynthesisPrompts:
    """The synthesizer's messages and call info for a team, sized to its model's window."""

    def __init__(self, spec: TeamSpec) -> None:
        self.spec = spec
        own = (spec.synthesizer.prompt or "").strip()
        self.system = SystemMessage(spec.synthesizer.prompt or SYNTHESIZER_PROMPT)
        reducer = f"{own}\n\n{REDUCER_PROMPT}" if own else REDUCER_PROMPT
        self.reducer_system = SystemMessage(reducer)
        """A reduction batch's system prompt: the team's own synthesizer prompt, then how."""

    def blocks_of(self, state: TeamState) -> dict[str, str]:
        """Each accepted result's block, whole."""
        accepted, _ = split_results(state)
        by_id = {r["id"]: r for r in state["plan"]}
        return {sid: result_block(by_id[sid], state["results"][sid]) for sid in accepted}

    def messages(
        self,
        state: TeamState,
        digest: dict[str, Any] | None,
        blocks: dict[str, str],
        partials: bool = False,
    ) -> list[BaseMessage]:
        """The prompt over ``blocks``: the results' blocks, or (``partials``) the partials'."""
        _, missing = split_results(state)
        by_id = {r["id"]: r for r in state["plan"]}
        text = synthesizer_message(
            state["task"],
            [] if partials else list(blocks.values()),
            [result_block(by_id[r["subtask_id"]], r) for r in missing],
            digest,
            partials=list(blocks.values()) if partials else None,
        )
        return [self.system, HumanMessage(text)]

    def call_info(
        self, state: TeamState, digest: dict[str, Any] | None, partials: list[PartialSynthesis]
    ) -> CallInfo:
        """What ``messages`` say, as data for the model call's metadata."""
        accepted, missing = split_results(state)
        by_id = {r["id"]: r for r in state["plan"]}
        results = state["results"]
        return CallInfo(
            role="synthesizer",
            team=self.spec.name,
            task=state["task"],
            round=state.get("round", 0),
            output_tool=Synthesis.__name__,
            results=()
            if partials
            else tuple(result_info(by_id[sid], results[sid]) for sid in accepted),
            missing=tuple(result_info(by_id[r["subtask_id"]], r) for r in missing),
            digest=digest,
            partials=tuple(
                PartialInfo(p["part"], tuple(p["citations"]), p["answer"]) for p in partials
            ),
        )

    def shown_digest(
        self, state: TeamState, digest: dict[str, Any] | None, chat: Any, blocks: dict[str, str]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The digest as the prompt shows it, compact when too big, and a note if so.

        The results (``blocks``) may take up to half of what the prompt has room for; the
        digest gets the rest. The digest in the state stays whole (the audit's report reads
        it).
        """
        inner = chat_in(chat)
        if digest is None or inner is None or not windowed(chat):
            return digest, None
        empty = measure(chat, self.messages(state, None, {}))
        if empty is None:
            return digest, None
        count = counter_of(call_settings(inner))
        results = sum(count(block) for block in blocks.values())
        room = empty.room - min(results, empty.room // 2)
        shown, cut = compact(digest, lambda text: count(text) + _DIGEST_FRAME <= room)
        if not cut:
            return digest, None
        note = (
            f"synthesizer: the digest was shortened to fit the model's {empty.window}-token "
            "window (long lists cut to their first items, each saying how many more)"
        )
        return shown, note

    def sized(
        self, state: TeamState, digest: dict[str, Any] | None, chat: Any, blocks: dict[str, str]
    ) -> tuple[Fitted, list[PartialSynthesis]]:
        """The blocks the prompt shows: the results' ``blocks`` (or the partials'), sized."""
        accepted, _ = split_results(state)
        partials = covering(state.get("partials", {}), accepted)
        if partials:
            parts = {
                p["part"]: partial_block(
                    p["part"], p["index"], p["of"], p["citations"], p["answer"]
                )
                for p in partials
            }
            render = lambda b: self.messages(state, digest, b, partials=True)  # noqa: E731
            return fit_blocks(chat, render, parts, "synthesizer", no_floor), partials
        render = lambda b: self.messages(state, digest, b)  # noqa: E731
        return fit_blocks(chat, render, blocks, "synthesizer"), []

    def reduce_in_batches(
        self, state: TeamState, digest: dict[str, Any] | None, chat: Any, window: int | None
    ) -> Command[Any]:
        """The accepted results sent to the ``reduce`` node in batches that fit its prompt."""
        accepted, _ = split_results(state)
        empty = [self.reducer_system, HumanMessage(reducer_message(state["task"], 1, 1, []))]
        room = results_room(chat, empty)
        final = results_room(chat, self.messages(state, digest, {}, partials=True))
        return reduction(state, accepted, room, window, final[0] if final else None)
