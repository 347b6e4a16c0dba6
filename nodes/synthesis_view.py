"""Results shown at the size their prompt can hold: whole, shortened, or not at all.

The orchestrator's review and the synthesizer see one block per result (its summary,
then its typed output: ``orchestra.nodes.prompts.result_block``). When the prompt with
every block whole does not fit the model's window (``orchestra.nodes.context_check``),
the blocks are shortened largest first (``orchestra.nodes.fitting``): each keeps its
head and summary, its output is cut with a visible ``[shortened: ...]`` line, and the
run's notes say which were cut. When even the summaries do not fit (a block would be cut
into its head and summary, or below ``FLOOR_CHARS`` of a long one), the prompt does not
fit at this size at all, and the synthesizer reduces in batches instead
(``orchestra.nodes.reduction``). The full typed outputs stay
in the state, where the digest hook reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from orchestra.nodes.chat_models import call_settings, chat_in
from orchestra.nodes.context_check import PromptSize, counter_of, measure, windowed
from orchestra.nodes.fitting import shorten_largest

FLOOR_CHARS = 800
"""The most of a block's head and summary a shortened block must keep (a longer summary
may be cut to this): below it, the result would no longer say what it found."""

_TRIES = 3
"""Shortenings tried before a prompt is taken not to fit."""

_LISTED = 8
"""Cut blocks named in a note before ``and N more``."""


@dataclass(frozen=True)
class Fitted:
    """Blocks sized for one prompt."""

    blocks: dict[str, str]
    """Each block by its id: whole, or shortened to fit."""
    fits: bool
    """Whether the prompt fits with these blocks (``False``: too many to shorten)."""
    note: str | None = None
    """What was shortened, for the run's notes (``None``: nothing)."""
    window: int | None = None


def cuts_note(who: str, window: int, whole: Mapping[str, str], cut: Mapping[str, str]) -> str:
    """``who: results shortened to fit ...: s1 (800 of 5000 chars), ...`` (bounded).

    Example:
        >>> cuts_note("synthesizer", 1000, {"a": "x" * 50, "b": "y"}, {"a": "x" * 9, "b": "y"})
        "synthesizer: results shortened to fit the model's 1000-token window: a (9 of 50 chars)"
    """
    cuts = [f"{key} ({len(cut[key])} of {len(text)} chars)"
            for key, text in whole.items() if cut[key] != text]  # fmt: skip
    more = f", and {len(cuts) - _LISTED} more" if len(cuts) > _LISTED else ""
    return (
        f"{who}: results shortened to fit the model's {window}-token window: "
        + ", ".join(cuts[:_LISTED])
        + more
    )


def summary_floor(block: str) -> int:
    r"""How much of a result's block a cut must keep: its head and summary (at most 800).

    That is the block up to its ``output:`` line, but no more than ``FLOOR_CHARS``.

    Example:
        >>> summary_floor("### s1 (a): accepted\nsummary: short\noutput: {}")
        35
    """
    head = block.find("\noutput: ")
    return min(FLOOR_CHARS, head if head >= 0 else len(block))


def no_floor(block: str) -> int:
    """Any cut fits: for prompts with no smaller form to turn to (partials, one batch)."""
    return 0


def fit_blocks(
    bound: Any,
    render: Callable[[dict[str, str]], list[BaseMessage]],
    blocks: dict[str, str],
    who: str,
    floor: Callable[[str], int] = summary_floor,
) -> Fitted:
    """``blocks`` sized so that ``render(blocks)`` sent through ``bound`` fits its window.

    A model without a known window takes every block whole. ``floor(block)``: the
    shortest a cut block may be for the prompt to count as fitting.

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> fit_blocks(OfflineChatModel(), lambda b: [HumanMessage(b["a"])], {"a": "x"}, "me").fits
        True
    """
    chat = chat_in(bound)
    if chat is None or not windowed(bound):  # nothing to measure: not even worth rendering
        return Fitted(dict(blocks), True)
    size = measure(bound, render(blocks))
    if size is None or size.fits:
        return Fitted(dict(blocks), True)
    count = counter_of(call_settings(chat))
    budget = sum(count(text) for text in blocks.values()) + size.room
    shortened: dict[str, str] = dict(blocks)
    after: PromptSize | None = size
    for _ in range(_TRIES):  # the blocks' joins and framing count too: trim what is left over
        shortened = shorten_largest(blocks, max(budget, 0), count)
        after = measure(bound, render(shortened))
        if after is None or after.fits or budget <= 0:
            break
        budget = sum(count(text) for text in shortened.values()) + after.room
    short_enough = all(len(shortened[key]) >= floor(text) for key, text in blocks.items())
    fits = budget > 0 and short_enough and (after is None or after.fits)
    note = cuts_note(who, size.window, blocks, shortened)
    return Fitted(shortened, fits, note, size.window)
