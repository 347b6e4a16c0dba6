"""The compiled graphs' shapes: a snapshot per pattern, connectivity, declared destinations.

Every graph exported in langgraph.json is checked. To accept an intended change of shape,
delete the snapshot file and run the tests once (it is rewritten, and the test fails).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import disconnected

import orchestra.graphs.examples as examples
from orchestra.graphs.orchestrator_workers import CompiledTeam

ROOT = Path(__file__).parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"
EXPORTED = sorted(json.loads((ROOT / "langgraph.json").read_text())["graphs"])


def exported(name: str) -> CompiledTeam:
    graph = getattr(examples, name)
    assert isinstance(graph, type(examples.research))
    return graph


@pytest.mark.parametrize("name", EXPORTED)
def test_topology_matches_the_snapshot(name: str) -> None:
    drawn = exported(name).get_graph().draw_mermaid(with_styles=False)
    snapshot = SNAPSHOTS / f"{name}.mmd"
    if not snapshot.exists():
        snapshot.write_text(drawn)
        pytest.fail(f"wrote a new snapshot {snapshot.name}; review it and run again")
    assert drawn == snapshot.read_text()


@pytest.mark.parametrize("name", EXPORTED)
def test_every_node_is_reachable_and_reaches_the_end(name: str) -> None:
    drawn = exported(name).get_graph()
    edges = {(e.source, e.target) for e in drawn.edges}
    assert disconnected(set(drawn.nodes), edges) == (set(), set())


def test_orchestrator_workers_dispatch_reaches_every_specialist() -> None:
    drawn = exported("research").get_graph()
    targets = {e.target for e in drawn.edges if e.source == "dispatch"}
    assert targets == {"researcher", "analyst", "writer", "orchestrator", "synthesizer"}


def test_the_pipeline_is_a_chain_with_a_validator_between_stages() -> None:
    edges = {(e.source, e.target) for e in exported("report_pipeline").get_graph().edges}
    chain = ["research", "draft", "edit", "format"]
    for stage, following in zip(chain, [*chain[1:], "finish"], strict=True):
        assert (stage, f"validate_{stage}") in edges
        assert (f"validate_{stage}", following) in edges
        assert (f"validate_{stage}", stage) in edges  # sent back with feedback
