"""LangSmith tracing, end to end: ``orchestra run`` with ``LANGSMITH_TRACING=true`` sends its
run tree to a recorder on 127.0.0.1 (``LANGSMITH_ENDPOINT``), as it would to LangSmith.

The assertions are on what the client actually sent: ``GET /info``, then
``POST /runs/multipart`` batches that add up to one closed tree per run — the team at the
root, one child per node execution named after the node and carrying its role, and the
model and tool calls inside them — with no secret anywhere in the payloads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langsmith_recorder import RecorderServer, langsmith_recorder
from openai_server import openai_server

from orchestra.graphs.patterns import compile_team
from orchestra.graphs.team_files import example_teams
from orchestra.state import PatternName, load_team

LANGSMITH_KEY = "lsv2_pt_orchestra-test-langsmith-key"
OPENAI_KEY = "sk-orchestra-test-openai-key-do-not-trace"


def traced_run(
    recorder: RecorderServer,
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    command: str = "run",
    db: str = ":memory:",
    exit_code: int = 0,
) -> dict[str, Any]:
    """Run ``orchestra run ... --json`` traced to ``recorder``; its JSON result."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI", "ORCHESTRA", "LANGSMITH", "LANGCHAIN"))
    }
    clean |= {
        "LANGSMITH_TRACING": "true",
        "LANGSMITH_ENDPOINT": recorder.url,
        "LANGSMITH_API_KEY": LANGSMITH_KEY,
        "LANGSMITH_PROJECT": "orchestra-tests",
        "LANGSMITH_DISABLE_RUN_COMPRESSION": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestra", command, *args, "--db", db, "--json"],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == exit_code, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def metadata(run: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (run.get("extra") or {}).get("metadata", {})
    return found


def the_root(recorder: RecorderServer) -> dict[str, Any]:
    """The single root run, after checking the runs form one closed, finished tree."""
    assert recorder.paths[0] == ("GET", "/info")
    assert set(recorder.paths[1:]) == {("POST", "/runs/multipart")}
    runs = recorder.runs
    roots = [r for r in runs.values() if not r.get("parent_run_id")]
    assert len(roots) == 1, [r.get("name") for r in roots]
    root = roots[0]
    for run in runs.values():
        assert run.get("end_time"), f"run {run.get('name')} was never finished"
        assert run["trace_id"] == root["id"]
        assert run["dotted_order"].startswith(root["dotted_order"])
        if run is not root:
            assert run["parent_run_id"] in runs, f"{run['name']} has an unknown parent"
    return root


def children(recorder: RecorderServer, parent: dict[str, Any]) -> list[dict[str, Any]]:
    found = [r for r in recorder.runs.values() if r.get("parent_run_id") == parent["id"]]
    return sorted(found, key=lambda r: str(r["dotted_order"]))


CASES = [
    ("research", None, "Compare SQLite and PostgreSQL checkpointers"),
    ("research", "pipeline", "Explain SQLite checkpoints"),
    ("research", "fan_out", "Assess PostgreSQL checkpoints"),
    ("research", "single_agent", "What is SQLite?"),
    ("review_panel", None, "SQLite checkpoints\nPostgreSQL checkpoints\nSend API"),
    ("org", None, "Research SQLite and PostgreSQL checkpointers, then edit a summary"),
]


@pytest.mark.parametrize(("name", "pattern", "task"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_node_execution_is_a_named_run_with_its_role_under_the_team_run(
    tmp_path: Path, name: str, pattern: PatternName | None, task: str
) -> None:
    team = load_team(example_teams()[name])
    extra = ["--pattern", pattern] if pattern else []
    with langsmith_recorder() as recorder:
        result = traced_run(recorder, tmp_path, name, "--task", task, "--thread", "t1", *extra)
    assert result["status"] == "completed"

    root = the_root(recorder)
    chosen = pattern or team.pattern
    assert root["name"] == team.name and root["run_type"] == "chain"
    assert metadata(root) | {"thread_id": "t1"} == metadata(root)
    assert metadata(root)["orchestra_team"] == team.name
    assert metadata(root)["orchestra_pattern"] == chosen

    graph_nodes = compile_team(team, pattern=pattern).get_graph().nodes
    steps = children(recorder, root)
    assert steps, "the team run has no node runs"
    for step in steps:
        assert step["name"] in graph_nodes, f"{step['name']} is not a node of the graph"
        declared = graph_nodes[step["name"]].metadata or {}
        found = metadata(step)
        assert found["role"] == declared["role"], step["name"]
        assert found.get("specialist") == declared.get("specialist"), step["name"]
        assert found["orchestra_team"] == team.name and found["orchestra_pattern"] == chosen
        assert found["langgraph_node"] == step["name"]
    # One specialist run per attempt at each result, one synthesizer or finish at the end.
    attempts = sum(r["revision"] + 1 for r in result["results"].values())
    assert Counter(metadata(s)["role"] for s in steps)["specialist"] == attempts
    assert metadata(steps[-1])["role"] in ("synthesizer", "finish")
    # Model calls are runs inside a node run, and carry that node's role.
    models = [r for r in recorder.runs.values() if r["run_type"] == "llm"]
    assert len(models) >= result["model_calls"]  # nested teams' calls included
    assert all(metadata(m).get("role") for m in models)
    # A worker's model and tool runs say which subtask, round, attempt and revision they serve.
    work = [
        r
        for r in recorder.runs.values()
        if r["run_type"] in ("llm", "tool") and metadata(r).get("role") == "specialist"
    ]
    assert work
    for run in work:
        found = metadata(run)
        assert {"subtask_id", "round", "revision", "attempt"} <= set(found), run["name"]
        assert found["attempt"] == found["revision"] + 1
    if chosen != "hierarchical":
        traced = {metadata(r)["subtask_id"] for r in work}
        assert traced == {sid for sid, r in result["results"].items() if r["steps"]}


def test_nested_teams_trace_inside_their_specialist_run(tmp_path: Path) -> None:
    task = "Research SQLite and PostgreSQL checkpointers, then edit a summary"
    with langsmith_recorder() as recorder:
        traced_run(recorder, tmp_path, "org", "--task", task)
    root = the_root(recorder)
    department = next(s for s in children(recorder, root) if s["name"] == "research_department")
    (inner,) = children(recorder, department)
    assert inner["name"] == "research"  # the nested team's own graph run
    assert metadata(inner)["orchestra_team"] == "research"
    assert metadata(inner)["parent_specialist"] == "research_department"
    names = [s["name"] for s in children(recorder, inner)]
    assert names[0] == "orchestrator" and names[-1] == "synthesizer"
    assert "researcher" in names
    researcher = next(s for s in children(recorder, inner) if s["name"] == "researcher")
    assert metadata(researcher)["role"] == "specialist"
    assert metadata(researcher)["specialist"] == "researcher"


APPROVED = """
name: approved
approval: {tool_calls: [researcher]}
orchestrator: {review: false}
specialists:
  - {name: researcher, description: Finds facts in the notes on databases,
     tools: ["orchestra.nodes.toolkit:search_notes"]}
"""


def test_a_pausing_workers_steps_are_traced_once_each_across_the_pause(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(APPROVED)
    task, db = "Find facts about SQLite", str(tmp_path / "runs.sqlite")
    traces: list[list[dict[str, Any]]] = []
    for args, command, code in (
        (("team.yaml", "--task", task, "--thread", "p1"), "run", 7),
        (("p1", "--approve"), "resume", 0),
    ):
        with langsmith_recorder() as recorder:
            traced_run(recorder, tmp_path, *args, command=command, db=db, exit_code=code)
        (worker,) = [s for s in children(recorder, the_root(recorder)) if s["name"] == "researcher"]
        steps = children(recorder, worker)
        traces.append(steps)
        inside = [r for step in steps for r in children(recorder, step)]
        assert inside and all(metadata(r)["subtask_id"] == "s1" for r in inside)
        assert {r["run_type"] for r in inside} == {"llm"} | ({"tool"} if code == 0 else set())

    # Before the pause: the first model call. After it: the tool and the last model call;
    # the first call's step is read back from the checkpoint, so it is no run (no call).
    before, after = ([s["name"].split(":")[0] for s in steps] for steps in traces)
    assert before == ["model_call"] and after == ["tool_call", "model_call"]


def test_chatopenai_calls_are_traced_and_no_key_reaches_the_trace(tmp_path: Path) -> None:
    with openai_server() as server, langsmith_recorder() as recorder:
        result = traced_run(
            recorder,
            tmp_path,
            "research",
            "--task",
            "Compare SQLite and PostgreSQL checkpointers",
            "--model",
            "openai:gpt-test",
            env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": OPENAI_KEY},
        )
    assert result["status"] == "completed"
    root = the_root(recorder)
    runs = recorder.runs
    models = [r for r in runs.values() if r["run_type"] == "llm"]
    assert {m["name"] for m in models} == {"ChatOpenAI"}
    assert len(models) == result["model_calls"] == len(server.requests)
    for model in models:
        assert metadata(model)["ls_provider"] == "openai"
        assert metadata(model)["ls_model_name"] == "gpt-test"
        step = model
        while step["parent_run_id"] != root["id"]:
            step = runs[step["parent_run_id"]]
        assert step["name"] in ("orchestrator", "researcher", "analyst", "writer", "synthesizer")
        assert metadata(model)["role"] == metadata(step)["role"]
    # The model's inputs and outputs are in the trace; the keys are not.
    sent = b"".join(recorder.bodies)
    assert b"Compare SQLite and PostgreSQL checkpointers" in sent
    assert OPENAI_KEY.encode() not in sent
    assert LANGSMITH_KEY.encode() not in sent
