"""Run-time context: what varies per invocation but is not state (never checkpointed)."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel


@dataclass(frozen=True)
class TeamContext:
    """Passed as ``context=`` to ``invoke``; read by nodes through ``Runtime[TeamContext]``."""

    model: str | BaseChatModel | None = None
    """Overrides every role's model for this run (the CLI's ``--model``)."""
