"""kill -9 at any moment loses nothing: resume re-runs only the unfinished work."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

LOGGING_MODEL = """
import os
from orchestra.nodes import OfflineChatModel
from orchestra.nodes.scripted import role_of, worker_call

class Logged(OfflineChatModel):
    def reply(self, messages, tools, tool_choice):
        if role_of(tools) == "specialist" and tools:
            with open(os.environ["CALL_LOG"], "a") as log:
                log.write(worker_call(messages, tools).subtask_id + "\\n")
        return super().reply(messages, tools, tool_choice)

model = Logged(latency_ms=120)
"""

TEAM = """
name: killable
model: "import:logged_model:model"
specialists:
  - name: researcher
    description: Finds facts in the notes on databases and checkpoints; compares options.
    tools: ["orchestra.nodes.toolkit:search_notes"]
  - name: writer
    description: Writes a short summary report from earlier results.
limits: {max_rounds: 1, max_concurrency: 4}
"""
TASK = "Compare SQLite, PostgreSQL and Send checkpoints, then write a short summary"


def cli(*args: str, cwd: Path, log: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCHESTRA"))}
    env |= {"PYTHONPATH": str(cwd), "CALL_LOG": str(log)}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestra", *args, "--json"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def checkpoints(db: Path, thread: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(
                conn.execute(
                    "select count(*) from checkpoints where thread_id = ?", (thread,)
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:  # the table is created by the first write
        return 0


def finished_subtasks(db: Path, thread: str) -> set[str]:
    """Subtasks whose result reached the checkpoint, as a step or as a pending write."""
    with SqliteSaver.from_conn_string(str(db)) as saver:
        found = saver.get_tuple({"configurable": {"thread_id": thread}})
    if found is None:
        return set()
    done = set(found.checkpoint["channel_values"].get("results", {}))
    for _, channel, value in found.pending_writes or []:
        if channel == "results":
            done |= set(value)
    return done


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "logged_model.py").write_text(LOGGING_MODEL)
    (tmp_path / "team.yaml").write_text(TEAM)
    return tmp_path


def test_uninterrupted_and_killed_runs_give_the_same_answer(workdir: Path) -> None:
    log = workdir / "base.log"
    base = cli("run", "team.yaml", "--task", TASK, "--thread", "base", cwd=workdir, log=log)
    out, err = base.communicate(timeout=120)
    assert base.returncode == 0, err
    expected = json.loads(out)
    baseline_calls = log.read_text().splitlines()

    db = workdir / ".orchestra" / "checkpoints.sqlite"
    rerun: set[str] = set()
    for point in (2, 4, 6):
        thread, log = f"kill-{point}", workdir / f"kill-{point}.log"
        run = cli("run", "team.yaml", "--task", TASK, "--thread", thread, cwd=workdir, log=log)
        deadline = time.monotonic() + 60
        while checkpoints(db, thread) < point and run.poll() is None:
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.01)
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL, f"finished before the kill at {point}"

        finished = finished_subtasks(db, thread)
        before = len(log.read_text().splitlines()) if log.exists() else 0
        resumed = cli("resume", thread, cwd=workdir, log=log)
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, err
        result = json.loads(out)

        assert result["answer"] == expected["answer"]
        assert result["status"] == expected["status"] == "completed"
        again = set(log.read_text().splitlines()[before:])
        assert not again & finished, f"finished workers {again & finished} ran again"
        rerun |= again
        assert len(log.read_text().splitlines()) <= len(baseline_calls) + len(again)
    assert rerun, "no kill point left unfinished work to redo"
