"""The grammar of model strings.

``offline`` · ``openai:<model name>`` · ``import:<package.module>:<attribute>`` (a LangChain
chat model, or a function returning one, named by import path so any provider can be
used from a team file).
"""

from __future__ import annotations

from typing import Literal, get_args

Provider = Literal["offline", "openai", "import"]
"""Providers orchestra resolves by itself; any other model is passed as an instance."""

PROVIDERS: tuple[str, ...] = get_args(Provider)


def parse_model_ref(ref: str) -> tuple[Provider, str]:
    """Split ``"openai:gpt-4o-mini"`` into ``("openai", "gpt-4o-mini")``.

    Raises:
        ValueError: if the string names no known provider or lacks a model name.
    """
    problem = model_ref_problem(ref)
    if problem:
        raise ValueError(problem)
    provider, _, name = ref.strip().partition(":")
    if provider == "offline":
        return "offline", name or "offline"
    if provider == "import":
        return "import", name
    return "openai", name


def model_ref_problem(ref: str) -> str | None:
    """Why ``ref`` is not a valid model string, or ``None`` when it is."""
    provider, sep, name = ref.strip().partition(":")
    if provider not in PROVIDERS:
        return (
            f"unknown model {ref!r}: use 'offline', 'openai:<model>' or "
            "'import:<package.module>:<attribute>' (or pass a LangChain chat model instance)"
        )
    if provider == "import" and not (":" in name and all(name.split(":", 1))):
        return f"model {ref!r} needs an import path, e.g. 'import:my_models:claude'"
    if provider == "openai" and not (sep and name.strip()):
        return f"model {ref!r} needs a model name, e.g. 'openai:gpt-4o-mini'"
    return None
