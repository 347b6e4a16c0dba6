"""Where orchestra keeps its files (a module of constants, cheap to import for the CLI)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DB = Path(".orchestra") / "checkpoints.sqlite"
"""The default checkpoint database, under the working directory."""
MEMORY = ":memory:"
"""The ``--db`` value for an in-memory checkpointer (nothing kept after the process)."""

__all__ = ["DEFAULT_DB", "MEMORY"]
