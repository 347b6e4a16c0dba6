"""The common choice today: ``langgraph_supervisor.create_supervisor`` over ReAct agents.

Built as its README shows: one ``create_react_agent`` per specialist (same names and
descriptions as the orchestra team), a supervisor prompt naming them, default settings
(``output_mode="last_message"``, hand-off messages on, one hand-off per supervisor turn).
The supervisor hands each part to an agent, the agent answers, control returns to the
supervisor: 2N + 1 model calls, one after another, each agent seeing the whole history.
"""

from __future__ import annotations

import warnings
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel

from benchmarks.fake import SPECIALISTS


def build_supervisor(model: BaseChatModel) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled supervisor graph (the package's deprecation warnings silenced)."""
    with warnings.catch_warnings():
        # langgraph-supervisor 0.0.31 builds its supervisor with the deprecated
        # create_react_agent; its README builds the agents with it too.
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent  # noqa: TID251
        from langgraph_supervisor import create_supervisor

        agents: list[Pregel[Any, Any, Any, Any]] = [
            create_react_agent(
                model,
                tools=[],
                name=name,
                prompt=f"You are the {name}: you report key figures of topics.",
            )
            for name in SPECIALISTS
        ]
        roster = ", ".join(f"{name} (reports key figures of topics)" for name in SPECIALISTS)
        workflow = create_supervisor(
            agents,
            model=model,
            prompt=f"You are a team supervisor managing: {roster}. "
            "Hand each part of the task to one of them, then answer.",
        )
        return workflow.compile(name="supervisor")
