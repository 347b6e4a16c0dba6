"""Errors users see. Each one carries everything wrong at once, not the first problem only."""

from __future__ import annotations


class OrchestraError(Exception):
    """Base class of orchestra's user-facing errors."""


class TeamSpecError(OrchestraError, ValueError):
    """A team spec is invalid; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"team {source!r} is invalid ({count} problem{'s' if count != 1 else ''}):\n{listing}"
        )


class ModelConfigError(OrchestraError, ValueError):
    """A model string cannot be turned into a chat model (unknown provider, missing key...)."""
