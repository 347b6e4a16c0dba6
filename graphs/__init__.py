"""Composition: one module per pattern, the runner (checkpoints, resume) and the CLI.

Importing ``graphs`` (as the ``orchestra`` command does) is cheap: the names below are
imported from their modules on first use, so ``orchestra --help`` loads no LangGraph.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from graphs.orchestrator_workers import CompiledTeam, TeamGraph
    from graphs.patterns import BUILDERS, build, compile_team, with_pattern

_MODULES = ("graphs.orchestrator_workers", "graphs.patterns")

__all__ = ["BUILDERS", "CompiledTeam", "TeamGraph", "build", "compile_team", "with_pattern"]


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use."""
    if name in __all__:
        for module in _MODULES:
            found = vars(importlib.import_module(module))
            if name in found:
                globals()[name] = found[name]
                return found[name]
    raise AttributeError(f"module 'graphs' has no attribute {name!r}")
