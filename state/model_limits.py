"""How much a model reads and writes at most: its context window and its output limit.

A role's ``context_window`` and ``max_output_tokens`` (``ModelSettings``) win; for a role
that sets neither, the table below gives the published limits of well-known models, found
by the longest entry a model's name starts with (``gpt-4o-mini-2024-07-18`` as
``gpt-4o-mini``, ``llama3.1:8b`` as ``llama3.1``). A model found nowhere (the offline and
scripted models, a model made in code under an unknown name) has no window: its prompts
are not checked.
"""

from __future__ import annotations

from typing import NamedTuple


class ModelLimits(NamedTuple):
    """A model's token limits."""

    context_window: int
    """Tokens the model reads at most: the prompt plus the reply."""
    max_output_tokens: int | None
    """Tokens one reply may have at most (``None``: only the window bounds it)."""


MODEL_LIMITS: dict[str, ModelLimits] = {
    # The providers' model pages, as published in 2025 (platform.openai.com/docs/models,
    # docs.anthropic.com's models overview, the models' cards on Hugging Face and
    # ollama.com). Limits change and servers can be set up smaller (Ollama's default
    # ``num_ctx`` is far below llama3.1's 128k): set ``context_window`` on the role then.
    "gpt-4o": ModelLimits(128_000, 16_384),
    "gpt-4o-mini": ModelLimits(128_000, 16_384),
    "gpt-4.1": ModelLimits(1_047_576, 32_768),  # -mini and -nano too
    "gpt-5": ModelLimits(400_000, 128_000),  # -mini and -nano too
    "o1": ModelLimits(200_000, 100_000),
    "o1-mini": ModelLimits(128_000, 65_536),
    "o3": ModelLimits(200_000, 100_000),  # -mini and -pro too
    "o4-mini": ModelLimits(200_000, 100_000),
    "claude-sonnet-4": ModelLimits(200_000, 64_000),  # 4 and 4.5 (1M only in a beta)
    "claude-3-7-sonnet": ModelLimits(200_000, 64_000),
    "claude-opus-4": ModelLimits(200_000, 32_000),  # 4 and 4.1
    "claude-opus-4-5": ModelLimits(200_000, 64_000),
    "claude-haiku-4-5": ModelLimits(200_000, 64_000),
    "claude-3-5-haiku": ModelLimits(200_000, 8_192),
    "llama3": ModelLimits(8_192, None),
    "llama3.1": ModelLimits(131_072, None),
    "llama3.2": ModelLimits(131_072, None),
    "llama3.3": ModelLimits(131_072, None),
    "llama-3.1": ModelLimits(131_072, None),
    "llama-3.3": ModelLimits(131_072, None),
    "qwen2.5": ModelLimits(32_768, 8_192),  # 128k only with YaRN rope scaling configured
}


def limits_of(model_name: str, table: dict[str, ModelLimits] | None = None) -> ModelLimits | None:
    """The limits of ``model_name``: an exact entry, else the longest entry it starts with.

    Example:
        >>> limits_of("gpt-4o-mini-2024-07-18")
        ModelLimits(context_window=128000, max_output_tokens=16384)
        >>> limits_of("orchestra-offline") is None
        True
    """
    found = MODEL_LIMITS if table is None else table
    if model_name in found:
        return found[model_name]
    matches = [key for key in found if model_name.startswith(key)]
    return found[max(matches, key=len)] if matches else None
