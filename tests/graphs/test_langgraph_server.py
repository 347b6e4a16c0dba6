"""LangGraph Studio's server: ``langgraph dev`` serves every graph of langgraph.json.

One in-memory server (langgraph-cli[inmem]) is started for the module on a free loopback
port, without a browser or a reloader, and stopped by its pid at the end. Every graph
is run through langgraph-sdk — threads, runs, state, history, streaming, and a fork from
an earlier checkpoint — and the structure the server reports (what Studio draws) must
match the local compiled graph and have no disconnected nodes.

``langgraph dev`` keeps its state in ``.langgraph_api/`` under its working directory
and finds the graphs relative to it, so the server runs in a temporary directory that
holds the repository's langgraph.json and links to its packages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import disconnected
from ecosystem import free_port, unavailable
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

import orchestra.graphs.examples as examples

ROOT = Path(__file__).parents[2]
CONFIG = json.loads((ROOT / "langgraph.json").read_text())
GRAPHS = sorted(CONFIG["graphs"])
WAITING = {"research_approved"}  # pauses for a human; run by its own test below
DEFAULT_TASK = "Compare SQLite and PostgreSQL checkpointers, then write a short summary"
TASKS = {
    "code_review": "Review ./graphs: count lines, then find TODO markers",
    "review_panel": "SQLite checkpoints\nPostgreSQL checkpoints\nSend API",
    "org": "Research SQLite and PostgreSQL checkpointers, then edit a summary",
}


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"langgraph dev exited with {server.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"langgraph dev did not answer within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    langgraph = shutil.which("langgraph", path=str(Path(sys.executable).parent))
    if langgraph is None:
        unavailable("langgraph-cli[inmem] is not installed: pip install -e '.[dev]'")
    home = tmp_path_factory.mktemp("langgraph-dev")
    shutil.copy(ROOT / "langgraph.json", home / "langgraph.json")
    # langgraph.json names the graphs by module (orchestra.graphs.examples:research), so the
    # server finds them in the installed package from a folder holding nothing else.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCHESTRA"))}
    env |= {
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
    }
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [langgraph, "dev", "--host", "127.0.0.1", "--port", str(port)]
            + ["--no-browser", "--no-reload", "--config", "langgraph.json"],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[SyncLangGraphClient]:
    with get_sync_client(url=server) as sdk:
        yield sdk


def test_the_server_serves_every_graph_of_langgraph_json(client: SyncLangGraphClient) -> None:
    assistants = client.assistants.search(limit=100)
    assert sorted(a["graph_id"] for a in assistants) == GRAPHS


@pytest.mark.parametrize("graph_id", GRAPHS)
def test_the_served_structure_is_the_local_graph_with_no_disconnected_node(
    client: SyncLangGraphClient, graph_id: str
) -> None:
    drawn = client.assistants.get_graph(graph_id)
    nodes = {n["id"] for n in drawn["nodes"]}
    local = getattr(examples, graph_id).get_graph()
    assert nodes == set(local.nodes)
    assert {(e["source"], e["target"]) for e in drawn["edges"]} == {
        (e.source, e.target) for e in local.edges
    }
    unreached, stranded = disconnected(nodes, {(e["source"], e["target"]) for e in drawn["edges"]})
    assert not unreached, f"nodes unreachable from the start: {unreached}"
    assert not stranded, f"nodes that never reach the end: {stranded}"


@pytest.mark.parametrize("graph_id", sorted(set(GRAPHS) - WAITING))
def test_every_graph_runs_through_the_sdk_with_state_and_history(
    client: SyncLangGraphClient, graph_id: str
) -> None:
    thread = client.threads.create(metadata={"test": graph_id})
    thread_id = thread["thread_id"]
    values = client.runs.wait(
        thread_id, graph_id, input={"task": TASKS.get(graph_id, DEFAULT_TASK)}
    )
    assert isinstance(values, dict)
    assert values["status"] == "completed", values.get("reason")
    assert values["answer"] and values["citations"]

    state = client.threads.get_state(thread_id)
    assert state["next"] == []
    assert state["values"]["answer"] == values["answer"]

    history = client.threads.get_history(thread_id, limit=200)
    assert history[0]["checkpoint"]["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    assert history[-1]["next"] == ["__start__"]  # the input, before any node ran
    assert len(history) >= 4
    steps = [h["metadata"]["step"] for h in history]
    assert steps == sorted(steps, reverse=True)

    (run,) = client.runs.list(thread_id)
    assert run["status"] == "success"
    assert client.threads.get(thread_id)["status"] == "idle"


def test_a_run_streams_node_updates_and_forks_from_an_earlier_checkpoint(
    client: SyncLangGraphClient,
) -> None:
    thread_id = client.threads.create()["thread_id"]
    order: list[str] = []
    for part in client.runs.stream(
        thread_id, "research", input={"task": DEFAULT_TASK}, stream_mode="updates"
    ):
        if part.event == "updates":
            order += list(part.data)
    assert order[0] == "orchestrator" and order[-1] == "synthesizer"
    assert {"dispatch", "researcher", "validator"} <= set(order)

    history = client.threads.get_history(thread_id, limit=200)
    before = next(h for h in history if h["next"] == ["synthesizer"])
    answer = client.threads.get_state(thread_id)["values"]["answer"]
    again: Any = client.runs.wait(
        thread_id, "research", input=None, checkpoint_id=before["checkpoint"]["checkpoint_id"]
    )
    assert again["answer"] == answer
    # The server forked the thread at that checkpoint, then ran one step on the fork; the
    # first ending is still in the history.
    head, fork, *rest = client.threads.get_history(thread_id, limit=200)
    assert fork["metadata"]["source"] == "fork" and fork["next"] == ["synthesizer"]
    assert fork["parent_checkpoint"]["checkpoint_id"] == before["checkpoint"]["checkpoint_id"]
    assert head["parent_checkpoint"]["checkpoint_id"] == fork["checkpoint"]["checkpoint_id"]
    assert head["next"] == [] and head["metadata"]["step"] == before["metadata"]["step"] + 2
    assert rest == history


def test_plan_and_tool_call_approvals_are_answered_through_the_sdk(
    client: SyncLangGraphClient,
) -> None:
    """What Studio does: read the thread's interrupts, resume each with a decision."""
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "research_approved", input={"task": DEFAULT_TASK})
    kinds: list[str] = []
    for _ in range(20):
        state = client.threads.get_state(thread_id)
        if not state["interrupts"]:
            break
        assert client.threads.get(thread_id)["status"] == "interrupted"
        kinds += [i["value"]["kind"] for i in state["interrupts"]]
        decision = {"action": "approve"}
        resume = {i["id"]: decision for i in state["interrupts"]}
        client.runs.wait(thread_id, "research_approved", command={"resume": resume})
    values = client.threads.get_state(thread_id)["values"]
    assert values["status"] == "completed", values.get("reason")
    assert kinds[0] == "plan_approval" and "tool_approval" in kinds
    tool_notes = [n for n in values["notes"] if "a human approved search_notes" in n]
    assert len(tool_notes) == kinds.count("tool_approval")


@pytest.mark.parametrize("graph_id", GRAPHS)
def test_studio_gets_each_graphs_schemas(client: SyncLangGraphClient, graph_id: str) -> None:
    """Studio draws forms from these: the context is data only (the model, the app's deps)."""
    (assistant,) = client.assistants.search(graph_id=graph_id, limit=10)
    schemas = client.assistants.get_schemas(assistant["assistant_id"])
    assert set(schemas["context_schema"]["properties"]) == {"model", "deps"}
    assert "task" in schemas["input_schema"]["properties"]
