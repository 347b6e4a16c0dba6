"""The synthesizer's part of a graph: the ``synthesizer`` node and its ``reduce`` batches.

Every pattern with a synthesis ends the same way::

    … → synthesizer ─┬→ END
                     └→ reduce ×N (one per batch, when the results do not fit) → synthesizer

The ``reduce`` node is where a map-reduce synthesis makes its partials
(``orchestra.nodes.reduction``); it is drawn in Studio whether or not a run needs it.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, StateGraph

from orchestra.nodes import make_synthesizer
from orchestra.nodes.reducer import make_reducer
from orchestra.nodes.reduction import REDUCE_NODE
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.nodes.role_calls import bounded_reducer, bounded_synthesizer
from orchestra.nodes.turns import taking_turns
from orchestra.state import ReduceInput


def add_synthesizer(graph: StateGraph[Any, Any, Any, Any], team: ResolvedTeam) -> None:
    """Add ``synthesizer`` (ending at ``END``) and ``reduce`` (back to it) to ``graph``."""
    graph.add_node(
        "synthesizer",
        bounded_synthesizer(make_synthesizer(team), team),
        destinations=(REDUCE_NODE, END),
        metadata={"role": "synthesizer"},
    )
    graph.add_node(
        REDUCE_NODE,
        # Batches take the workers' turns: at most limits.max_concurrency calls at once.
        taking_turns(
            bounded_reducer(make_reducer(team), team),
            team.spec.name,
            team.spec.limits.max_concurrency,
        ),
        input_schema=ReduceInput,
        metadata={"role": "synthesizer", "reduce": True},
    )
    graph.add_edge(REDUCE_NODE, "synthesizer")
    graph.add_edge("synthesizer", END)
