"""The shipped example teams, compiled at module level for LangGraph Studio (langgraph.json).

Compiling builds no model client: each node resolves its model when it runs (offline
unless ``ORCHESTRA_MODEL`` or ``OPENAI_API_KEY`` says otherwise). The LangGraph server
supplies the checkpointer.
"""

from __future__ import annotations

from graphs.orchestrator_workers import CompiledTeam, compile_team
from graphs.team_files import example_teams
from state import load_team


def example(name: str) -> CompiledTeam:
    """The compiled example team ``name`` (``research`` or ``code_review``)."""
    return compile_team(load_team(example_teams()[name]))


research = example("research")
code_review = example("code_review")
