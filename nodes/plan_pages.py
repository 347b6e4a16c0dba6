"""How many subtasks one plan reply can hold: the model's plans sized to its output limit.

A plan is one structured reply, and a reply is cut at the model's output limit (OpenAI's
``finish_reason: "length"``): 600 subtasks are beyond gpt-4o-mini's 16,384 tokens. So the
orchestrator asks for at most a *page* of subtasks per round — what fits the reply at an
estimated ``SUBTASK_TOKENS`` each, besides ``PLAN_OVERHEAD_TOKENS`` for the rationale and
the call's framing — and plans the rest in later rounds, when it sees what is done (the
review turn plans "only what is missing"). ``max_workers_per_round`` still applies: the
page is never larger. A model with no known output limit (offline, scripted, a local
server) gets the team's cap alone.
"""

from __future__ import annotations

from orchestra.nodes.chat_models import CallSettings

__all__ = ["PLAN_OVERHEAD_TOKENS", "SUBTASK_TOKENS", "plan_page"]

SUBTASK_TOKENS = 120
"""A planned subtask's tokens in the reply: id, specialist, a sentence or two of
instruction, dependencies and the JSON around them (generous: a page that overflows is
a wasted call)."""

PLAN_OVERHEAD_TOKENS = 512
"""The reply's rationale and structure besides its subtasks."""


def plan_page(settings: CallSettings, max_workers_per_round: int) -> int:
    """Subtasks one plan reply may hold for a model with ``settings``.

    Example:
        >>> plan_page(CallSettings(output_limit=16_384), 1000)
        132
        >>> plan_page(CallSettings(), 8)
        8
    """
    budget = settings.max_output_tokens or settings.output_limit
    if not budget:
        return max_workers_per_round
    fits = max((budget - PLAN_OVERHEAD_TOKENS) // SUBTASK_TOKENS, 1)
    return min(fits, max_workers_per_round)
