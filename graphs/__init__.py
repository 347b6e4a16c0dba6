"""Composition: one module per pattern, the runner (checkpoints, resume) and the CLI."""

from graphs.orchestrator_workers import CompiledTeam, TeamGraph, build, compile_team

__all__ = ["CompiledTeam", "TeamGraph", "build", "compile_team"]
