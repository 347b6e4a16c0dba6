"""One writer per thread: a run or resume holds its thread's lease, in SQLite and PostgreSQL.

Processes are real ``orchestra`` commands on one database; the PostgreSQL cases use a
throwaway server on loopback (``postgres_server``) and are skipped without its binaries.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from conftest import make_team
from langgraph.checkpoint.base import BaseCheckpointSaver
from postgres_server import PostgresServer, available_postgres
from slow_team import SLOW_MODELS, SLOW_TEAM, calls_in

from orchestra.graphs.leases import TTL_ENV, holding
from orchestra.graphs.runner import open_checkpointer, resume_run, run_team
from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import SpecialistOutput, StopSignal, ThreadBusyError, ThreadExistsError


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with available_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh checkpoint database: a SQLite file or a PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


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


def slow_team(folder: Path, step_seconds: float) -> dict[str, str]:
    (folder / "slow_models.py").write_text(SLOW_MODELS)
    (folder / "slow.yaml").write_text(SLOW_TEAM)
    log = folder / "calls.log"
    log.touch()
    return {"PYTHONPATH": str(folder), "CALL_LOG": str(log), "STEP_SECONDS": str(step_seconds)}


def sql(db: str, statement: str) -> list[tuple[object, ...]]:
    """Run one statement on ``db`` from a connection of its own, committed."""
    if db.startswith("postgresql://"):
        with psycopg.connect(db, autocommit=True) as conn:
            cur = conn.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    with closing(sqlite3.connect(db)) as lite, lite:
        return lite.execute(statement).fetchall()


def test_two_processes_started_at_once_on_one_thread_one_runs_the_other_exits_2(
    db: str, tmp_path: Path
) -> None:
    env = slow_team(tmp_path, step_seconds=1.0)
    args = ("run", "slow.yaml", "--task", "x", "--thread", "t1", "--db", db, "--json")
    first, second = (orchestra(*args, cwd=tmp_path, env=env) for _ in range(2))
    outcomes = sorted([finish(first), finish(second)])

    (done, _, done_err), (busy, _, busy_err) = outcomes
    assert (done, busy) == (0, 2), (done_err, busy_err)
    assert "thread 't1' is being run by another process (pid " in busy_err
    holder = {pid for pid, _ in calls_in(tmp_path)}
    assert len(holder) == 1, "only one process ran the team"
    assert f"pid {holder.pop()}@" in busy_err and "since " in busy_err
    assert sorted(sid for _, sid in calls_in(tmp_path)) == ["s1", "s2", "s3"]  # once each


def test_a_killed_holders_lease_is_taken_over_by_resume_within_seconds(
    db: str, tmp_path: Path
) -> None:
    env = slow_team(tmp_path, step_seconds=0.5) | {TTL_ENV: "2"}
    run = orchestra("run", "slow.yaml", "--task", "x", "--thread", "k1", "--db", db,
                    cwd=tmp_path, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(calls_in(tmp_path)) < 2 and run.poll() is None:
            time.sleep(0.05)
        assert run.poll() is None, "the run finished before it could be killed"
        run.send_signal(signal.SIGKILL)
    finally:
        run.kill()
        run.communicate(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert sql(db, "SELECT pid FROM orchestra_leases") == [(run.pid,)]  # left behind

    started = time.monotonic()
    code, out, err = finish(orchestra("resume", "k1", "--db", db, "--json", cwd=tmp_path, env=env))
    assert code == 0, err
    assert '"status": "completed"' in out
    assert time.monotonic() - started < 30  # no wait for a dead holder, only the resume's work


def test_a_lease_is_released_after_a_run_and_a_resume_then_works(db: str, tmp_path: Path) -> None:
    env = slow_team(tmp_path, step_seconds=0)
    code, _, err = finish(
        orchestra("run", "slow.yaml", "--task", "x", "--thread", "r1", "--db", db, cwd=tmp_path,
                  env=env)
    )  # fmt: skip
    assert code == 0, err
    code, out, err = finish(orchestra("resume", "r1", "--db", db, "--json", cwd=tmp_path, env=env))
    assert code == 0, err
    assert '"status": "completed"' in out
    again = orchestra("run", "slow.yaml", "--task", "x", "--thread", "r1", "--db", db,
                      cwd=tmp_path, env=env)  # fmt: skip
    code, _, err = finish(again)
    assert code == 1 and "thread 'r1' already exists" in err  # not busy: the lease is gone
    assert sql(db, "SELECT * FROM orchestra_leases") == []


def gated_model(started: threading.Event, release: threading.Event) -> ScriptedChatModel:
    def alpha(call: WorkerCall) -> SpecialistOutput:
        started.set()
        assert release.wait(30), "the test never released the worker"
        return SpecialistOutput(summary=f"did {call.subtask_id}", key_points=[])

    return ScriptedChatModel(
        respond=team_script(plan=plan_of(("s1", "alpha", "a")), workers={"alpha": alpha})
    )


@pytest.mark.parametrize("kind", ["sqlite", "memory", "postgres"])
def test_a_second_call_on_a_running_thread_in_one_process_is_refused(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "postgres":
        target = request.getfixturevalue("postgres").new_database()
    else:
        target = ":memory:" if kind == "memory" else str(tmp_path / "runs.sqlite")
    started, release = threading.Event(), threading.Event()
    team = make_team("alpha")
    model = gated_model(started, release)
    with open_checkpointer(target) as saver:
        results = []
        running = threading.Thread(
            target=lambda: results.append(
                run_team(team, "do it", saver=saver, thread_id="p1", model=model)
            )
        )
        running.start()
        try:
            assert started.wait(30)
            with pytest.raises(ThreadBusyError, match="another call in this process") as busy:
                run_team(team, "do it", saver=saver, thread_id="p1", model=model)
            assert busy.value.pid == os.getpid()
            with pytest.raises(ThreadBusyError):
                resume_run("p1", saver=saver, team=team, model=model)
        finally:
            release.set()
            running.join(30)
        assert results[0].status == "completed"
        assert resume_run("p1", saver=saver, team=team).status == "completed"  # released
        with pytest.raises(ThreadExistsError):
            run_team(team, "do it", saver=saver, thread_id="p1", model=model)


def test_an_expired_lease_of_another_host_is_taken_over(db: str) -> None:
    with open_checkpointer(db) as saver:
        with holding(saver, "e1"):
            pass  # creates the table
        # A lease left by a process on another host: its pid says nothing here.
        sql(db, "INSERT INTO orchestra_leases VALUES ('e1', 'h', 1, 'far-away', 0, 0, 1e12)")
        with pytest.raises(ThreadBusyError, match=r"another process \(pid 1@far-away, since "):
            with holding(saver, "e1"):
                pass
        sql(db, "UPDATE orchestra_leases SET expires_at = 1")  # not renewed since
        with holding(saver, "e1") as lease:
            assert sql(db, "SELECT holder, host FROM orchestra_leases") == [
                (lease.holder, lease.host)
            ]


def test_a_lease_taken_over_meanwhile_stops_the_run(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TTL_ENV, "0.5")  # renewed every 0.1 s
    stop = StopSignal()
    with open_checkpointer(db) as saver:
        with holding(saver, "l1", stop):
            sql(db, "UPDATE orchestra_leases SET holder = 'someone else'")
            assert stop.wait(5)
        assert "was taken over by another process" in stop.reason
    # The end of the run released nothing of the other holder's.
    assert sql(db, "SELECT holder FROM orchestra_leases") == [("someone else",)]


def test_savers_orchestra_does_not_know_are_guarded_in_this_process(tmp_path: Path) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    class Custom(InMemorySaver):
        """A user's own saver."""

    saver: BaseCheckpointSaver[str] = Custom()
    with holding(saver, "u1"):
        with pytest.raises(ThreadBusyError):
            with holding(saver, "u1"):
                pass
        with holding(Custom(), "u1"):
            pass  # another saver is another store
    with holding(saver, "u1"):
        pass


def test_a_lease_of_this_pid_that_no_call_here_holds_is_taken_at_once(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.sqlite")
    with open_checkpointer(db) as saver:
        with holding(saver, "z1"):
            pass  # creates the table
        # Left by an earlier process that had this pid (pid 1 in a restarted container).
        host = socket.gethostname()
        sql(db, f"INSERT INTO orchestra_leases VALUES ('z1', 'old', {os.getpid()}, '{host}', "
                "0, 0, 1e12)")  # fmt: skip
        with holding(saver, "z1") as lease:
            assert sql(db, "SELECT holder FROM orchestra_leases") == [(lease.holder,)]
