"""``--db postgresql://...``: runs checkpoint to a real PostgreSQL server on loopback.

The server is started from the installed binaries for this module (``postgres_server``)
and each test gets its own database. The crash test kills ``orchestra run`` with SIGKILL
in the middle of a run and resumes it from a second process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.postgres import PostgresSaver
from postgres_server import PostgresServer, available_postgres
from slow_team import SLOW_MODELS, SLOW_TEAM, calls

from orchestra.graphs.runner import open_checkpointer, run_team, snapshot
from orchestra.graphs.team_files import example_teams
from orchestra.state import load_team


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with available_postgres() as server:
        yield server


def orchestra(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCHESTRA"))}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestra", *args],
        cwd=cwd,
        env=clean | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def migrated(url: str) -> bool:
    """True once the run has created and migrated the checkpoint tables."""
    with psycopg.connect(url) as conn:
        try:
            row = conn.execute("SELECT max(v) FROM checkpoint_migrations").fetchone()
        except psycopg.errors.UndefinedTable:
            return False
    return row is not None and row[0] == len(PostgresSaver.MIGRATIONS) - 1


def latest_values(url: str, thread: str) -> dict[str, Any] | None:
    """The thread's latest checkpointed values (``None`` before its first checkpoint)."""
    if not migrated(url):
        return None
    with PostgresSaver.from_conn_string(url) as saver:
        found = saver.get_tuple({"configurable": {"thread_id": thread}})
    return None if found is None else dict(found.checkpoint["channel_values"])


def test_a_run_checkpoints_in_postgres_and_another_process_reads_it(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.new_database()
    task = "Compare SQLite and PostgreSQL checkpointers"
    code, out, err = finish(
        orchestra("run", "research", "--task", task, "--thread", "pg1", "--db", url, "--json",
                  cwd=tmp_path, env={})
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["status"] == "completed"
    assert not (tmp_path / ".orchestra").exists(), "no SQLite file when --db is PostgreSQL"

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = %s", ("pg1",)
        ).fetchone()
    assert rows is not None and rows[0] >= 5, "a checkpoint per super-step"

    code, out, err = finish(orchestra("show", "pg1", "--db", url, "--json", cwd=tmp_path, env={}))
    assert code == 0, err
    shown = json.loads(out)
    assert shown["status"] == "completed" and shown["citations"]

    with open_checkpointer(url) as saver:
        assert isinstance(saver, PostgresSaver)
        assert snapshot("pg1", saver=saver).status == "completed"
        again = run_team(load_team(example_teams()["research"]), "What is SQLite?", saver=saver)
    assert again.status == "completed"


def test_a_run_killed_mid_run_is_resumed_from_a_second_process(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.new_database()
    (tmp_path / "slow_models.py").write_text(SLOW_MODELS)
    (tmp_path / "slow.yaml").write_text(SLOW_TEAM)
    log = tmp_path / "calls.log"
    env = {"PYTHONPATH": str(tmp_path), "CALL_LOG": str(log), "STEP_SECONDS": "0.4"}

    run = orchestra("run", "slow.yaml", "--task", "x", "--thread", "k1", "--db", url,
                    cwd=tmp_path, env=env)  # fmt: skip
    deadline = time.monotonic() + 60
    values = None
    try:
        while time.monotonic() < deadline and run.poll() is None:
            values = latest_values(url, "k1")
            if values and values.get("results", {}).get("s1", {}).get("status") == "accepted":
                break
            time.sleep(0.05)
        assert run.poll() is None, "the run finished before it could be killed"
        run.send_signal(signal.SIGKILL)
    finally:
        run.kill()
        run.communicate(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert values is not None, "no checkpoint appeared within 60 s"
    killed_with = set(values["results"])
    assert "status" not in values, "the run was killed before it finished"
    calls_before = [sid for _, sid in calls(log)]

    code, out, err = finish(orchestra("resume", "k1", "--db", url, "--json", cwd=tmp_path, env=env))
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["status"] == "completed"
    assert sorted(resumed["results"]) == ["s1", "s2", "s3"]
    assert all(r["status"] == "accepted" for r in resumed["results"].values())
    calls_after = [sid for _, sid in calls(log)][len(calls_before) :]
    assert not killed_with & set(calls_after), "finished work was done again"
    assert "s3" in calls_after


def test_processes_starting_at_once_on_a_new_database_all_run(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.new_database()  # no tables yet: every process tries to create them
    runs = [
        orchestra("run", "research", "--task", "What is SQLite?", "--thread", f"c{i}",
                  "--db", url, "--json", cwd=tmp_path, env={})
        for i in range(4)
    ]  # fmt: skip
    for run in runs:
        code, out, err = finish(run)
        assert code == 0, err
        assert json.loads(out)["status"] == "completed"
    assert migrated(url)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(DISTINCT thread_id) FROM checkpoints").fetchone()
    assert rows == (4,)
