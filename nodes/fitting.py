"""Texts shortened to fit a token budget, largest first, each cut saying what it lost.

``shorten_largest`` cuts the longest texts first and evenly (a water level: every text
longer than some length is cut to it, shorter ones are kept whole), so one huge result
does not push out several small ones. A cut text keeps its beginning (a result's summary
comes first) and ends with ``[shortened: N of M chars]``. Pure: no model, no state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestra.nodes.tokens import Counter, estimate_text

_ROUNDS = 12
"""Tries at a character budget before giving up (each 15% below the last)."""


def note(kept: int, total: int) -> str:
    """The line that ends a cut text.

    Example:
        >>> note(10, 250)
        '[shortened: 10 of 250 chars]'
    """
    return f"[shortened: {kept} of {total} chars]"


def cut(text: str, size: int) -> str:
    r"""``text`` in at most about ``size`` characters, its note included (whole if it fits).

    Example:
        >>> cut("abcdefghij" * 10, 40)
        'abcdefghij\n[shortened: 10 of 100 chars]'
    """
    if len(text) <= size:
        return text
    marker = note(len(text), len(text))  # the longest the note can be
    kept = max(0, size - len(marker) - 1)
    return f"{text[:kept]}\n{note(kept, len(text))}"


def water_level(lengths: Sequence[int], budget: int) -> int:
    """The longest length such that cutting every text to it totals at most ``budget``.

    Example:
        >>> water_level([10, 100, 1000], 210)
        100
        >>> water_level([10, 20], 100)
        20
    """
    if sum(lengths) <= budget:
        return max(lengths, default=0)
    left, ordered = max(0, budget), sorted(lengths)
    for index, length in enumerate(ordered):
        share = left // (len(ordered) - index)
        if length > share:
            return share
        left -= length
    return ordered[-1]


def shorten_largest(
    texts: Mapping[str, str], budget: int, count: Counter = estimate_text
) -> dict[str, str]:
    """``texts`` cut, largest first, until their tokens (by ``count``) total at most ``budget``.

    Texts that fit are returned unchanged. If even their notes do not fit, each is cut to
    its note (the caller's window check then says the prompt is too long).

    Example:
        >>> out = shorten_largest({"a": "x" * 30, "b": "y" * 3000}, 400)
        >>> out["a"] == "x" * 30, len(out["b"]) < 1200, out["b"].endswith("of 3000 chars]")
        (True, True, True)
    """
    tokens = {key: count(text) for key, text in texts.items()}
    total = sum(tokens.values())
    if total <= budget:
        return dict(texts)
    lengths = {key: len(text) for key, text in texts.items()}
    chars = int(sum(lengths.values()) * max(budget, 0) / max(total, 1))
    shortened = dict(texts)
    for _ in range(_ROUNDS):
        level = water_level(list(lengths.values()), chars)
        shortened = {key: cut(text, level) for key, text in texts.items()}
        if sum(count(text) for text in shortened.values()) <= budget or chars == 0:
            break
        chars = int(chars * 0.85)
    return shortened
