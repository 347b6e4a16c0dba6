"""A JSON value shown in fewer characters, still valid JSON: long lists cut, with a count.

The synthesizer's prompt carries the team's digest as JSON (the audit's holds every
finding). When it is too big for its share of the window, ``compact`` keeps its shape —
every key, every scalar — and cuts each list to its first items, ending it with a string
that says how many were left out; strings are cut last. The digest in the state is never
changed: only the prompt shows the compact form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_STRING_FLOOR = 200
"""The most a string keeps once lists alone could not make the value fit."""


def _cut(value: Any, items: int, chars: int | None) -> Any:
    if isinstance(value, dict):
        return {key: _cut(inner, items, chars) for key, inner in value.items()}
    if isinstance(value, list):
        kept = [_cut(inner, items, chars) for inner in value[:items]]
        if len(value) > items:
            kept.append(f"... {len(value) - items} more not shown")
        return kept
    if isinstance(value, str) and chars is not None and len(value) > chars:
        return f"{value[:chars]}... ({len(value)} chars)"
    return value


def longest_list(value: Any) -> int:
    """The length of the longest list anywhere in ``value``.

    Example:
        >>> longest_list({"a": [1, 2], "b": {"c": [1, 2, 3]}})
        3
    """
    if isinstance(value, dict):
        return max((longest_list(inner) for inner in value.values()), default=0)
    if isinstance(value, list):
        return max([len(value), *(longest_list(inner) for inner in value)])
    return 0


def dumps(value: Any) -> str:
    """``value`` as the prompt shows it."""
    return json.dumps(value, ensure_ascii=False)


def compact(value: Any, fits: Callable[[str], bool]) -> tuple[Any, bool]:
    """``value``, its lists cut (then its strings) until ``fits(dumps(result))``.

    Returns the value shown and whether it was cut. If nothing fits, the most compact
    form is returned (the caller's window check then says the prompt is too long).

    Example:
        >>> shown, cut = compact({"n": 5, "xs": list(range(100))}, lambda s: len(s) < 60)
        >>> cut, shown["n"], shown["xs"][-1]
        (True, 5, '... 94 more not shown')
    """
    if fits(dumps(value)):
        return value, False
    low, high = 0, longest_list(value)  # the most items per list that fit, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if fits(dumps(_cut(value, middle, None))):
            low = middle
        else:
            high = middle - 1
    shown = _cut(value, low, None)
    return (shown if fits(dumps(shown)) else _cut(value, low, _STRING_FLOOR)), True
