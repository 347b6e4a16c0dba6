"""The compiled graph's shape: snapshot, connectivity, declared destinations."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphs import build
from graphs.team_files import example_teams
from state import load_team

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_research_team_topology_matches_the_snapshot() -> None:
    drawn = build(load_team(example_teams()["research"])).compile().get_graph()
    assert drawn.draw_mermaid(with_styles=False) == (SNAPSHOTS / "research.mmd").read_text()


@pytest.mark.parametrize("name", sorted(example_teams()))
def test_every_node_is_reachable_and_reaches_the_end(name: str) -> None:
    team = load_team(example_teams()[name])
    drawn = build(team).compile().get_graph()
    forward: dict[str, set[str]] = {n: set() for n in drawn.nodes}
    backward: dict[str, set[str]] = {n: set() for n in drawn.nodes}
    for edge in drawn.edges:
        forward[edge.source].add(edge.target)
        backward[edge.target].add(edge.source)

    def closure(start: str, links: dict[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in links[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert closure("__start__", forward) == set(drawn.nodes)
    assert closure("__end__", backward) == set(drawn.nodes)
    assert set(team.specialist_names) <= set(drawn.nodes)
    dispatch_targets = {e.target for e in drawn.edges if e.source == "dispatch"}
    assert dispatch_targets == {*team.specialist_names, "orchestrator", "synthesizer"}
