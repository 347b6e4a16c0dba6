"""The shipped example teams, compiled at module level for LangGraph Studio (langgraph.json).

Compiling builds no model client: each node resolves its model when it runs (offline
unless ``ORCHESTRA_MODEL`` or ``OPENAI_API_KEY`` says otherwise). The LangGraph server
supplies the checkpointer.
"""

from __future__ import annotations

from orchestra.graphs.orchestrator_workers import CompiledTeam
from orchestra.graphs.patterns import compile_team
from orchestra.graphs.team_files import example_teams
from orchestra.state import ApprovalSpec, PatternName, load_team


def example(
    name: str, pattern: PatternName | None = None, approval: ApprovalSpec | None = None
) -> CompiledTeam:
    """The compiled example team ``name``, in its own pattern or in ``pattern``."""
    team = load_team(example_teams()[name])
    if approval is not None:
        team = team.model_copy(update={"approval": approval, "name": f"{name}_approved"})
    return compile_team(team, pattern=pattern)


research = example("research")
code_review = example("code_review")
report_pipeline = example("report_pipeline")
review_panel = example("review_panel")
org = example("org")
research_pipeline = example("research", "pipeline")
research_fan_out = example("research", "fan_out")
research_single_agent = example("research", "single_agent")
# Waits for a human twice: on each plan, and on each of the researcher's tool calls.
research_approved = example("research", approval=ApprovalSpec(plan=True, tool_calls=["researcher"]))
