"""Composition: one module per pattern, the runner (checkpoints, resume) and the CLI."""

from graphs.orchestrator_workers import CompiledTeam, TeamGraph
from graphs.patterns import BUILDERS, build, compile_team, with_pattern

__all__ = ["BUILDERS", "CompiledTeam", "TeamGraph", "build", "compile_team", "with_pattern"]
