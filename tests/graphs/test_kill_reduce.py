"""kill -9 during a map-reduce synthesis: the resume redoes only the unfinished batches."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from test_kill_resume import cli

LOGGING_MODEL = """
import os, re, time
from langchain_core.messages import HumanMessage
from orchestra.nodes import OfflineChatModel

class Logged(OfflineChatModel):
    def reply(self, messages, tools, tool_choice):
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        part = re.search(r"^## Part\\n(\\d+) of", human.text if human else "", re.M)
        if part:  # a reduction batch: slow enough to be killed in the middle
            with open(os.environ["CALL_LOG"], "a") as log:
                log.write(f"part-{part.group(1)}\\n")
            time.sleep(0.3)
        return super().reply(messages, tools, tool_choice)

model = Logged()
"""

PLANNER = """
FILLER = " ".join(f"Fact {k} of the note is that saver {k} keeps state." for k in range(40))

def items(task):
    return [
        {"id": f"i{k}", "specialist": "writer", "instruction": f"Write note {k}. {FILLER}"[:1200]}
        for k in range(1, 41)
    ]
"""

TEAM = """
name: killable_reduce
model: {model: "import:logged_model:model", context_window: 8000, max_output_tokens: 1000}
orchestrator: {planner: "notes_plan:items"}
specialists:
  - name: writer
    description: Writes notes.
limits: {max_workers_per_round: 100, max_model_calls: 500, max_concurrency: 3}
"""


def started(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def finished_parts(db: Path, thread: str) -> set[str]:
    """Batches whose partial reached the checkpoint, as a step or as a pending write."""
    if not db.exists():
        return set()
    try:
        with SqliteSaver.from_conn_string(f"file:{db}?mode=ro") as saver:
            found = saver.get_tuple({"configurable": {"thread_id": thread}})
    except Exception:  # the tables are created by the first write
        return set()
    if found is None:
        return set()
    done = set(found.checkpoint["channel_values"].get("partials", {}))
    for _, channel, value in found.pending_writes or []:
        if channel == "partials":
            done |= set(value)
    return done


def test_a_kill_during_the_reduction_resumes_only_the_unfinished_batches(tmp_path: Path) -> None:
    (tmp_path / "logged_model.py").write_text(LOGGING_MODEL)
    (tmp_path / "notes_plan.py").write_text(PLANNER)
    (tmp_path / "team.yaml").write_text(TEAM)
    db, log = tmp_path / ".orchestra" / "checkpoints.sqlite", tmp_path / "calls.log"

    run = cli("run", "team.yaml", "--task", "the notes", "--thread", "mr", cwd=tmp_path, log=log)
    deadline = time.monotonic() + 90
    # Three batches run at a time, 0.3 s each: when the fifth has started, some have
    # finished and several have not.
    while len(started(log)) < 5 and run.poll() is None:
        assert time.monotonic() < deadline, "the reduction never started"
        time.sleep(0.01)
    time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    assert run.returncode == -signal.SIGKILL, "the run finished before the kill"

    finished = finished_parts(db, "mr")
    before = started(log)
    resumed = cli("resume", "mr", cwd=tmp_path, log=log)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "completed"

    again = set(log.read_text().splitlines()[len(before) :])
    assert finished and again, "the kill left no finished or no unfinished batch"
    assert not again & finished, f"finished batches {again & finished} ran again"
    with SqliteSaver.from_conn_string(str(db)) as saver:
        state = saver.get_tuple({"configurable": {"thread_id": "mr"}})
    assert state is not None
    values = state.checkpoint["channel_values"]
    parts = values["partials"]
    assert set(parts) == finished | again  # every batch once, across the two processes
    assert values["citations"] == [f"i{k}" for k in range(1, 41)]
