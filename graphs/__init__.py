"""Composition: one module per pattern, the runner (checkpoints, resume) and the CLI.

Importing ``graphs`` (as the ``orchestra`` command does) is cheap: the names below are
imported from their modules on first use, so ``orchestra --help`` loads no LangGraph.
"""

from __future__ import annotations

import typing

from orchestra.state.lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from orchestra.graphs.orchestrator_workers import CompiledTeam, TeamGraph
    from orchestra.graphs.patterns import BUILDERS, build, compile_team, with_pattern

_MODULES = ("orchestra.graphs.orchestrator_workers", "orchestra.graphs.patterns")

__all__ = ["BUILDERS", "CompiledTeam", "TeamGraph", "build", "compile_team", "with_pattern"]


__getattr__ = _lazy_getattr("orchestra.graphs", globals(), _MODULES, __all__)
