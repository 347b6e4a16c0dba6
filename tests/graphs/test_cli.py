"""The ``orchestra`` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import orchestra_cli

FLAKY_MODELS = """
import os
from orchestra.nodes import ScriptedChatModel, TransientModelError, plan_of, team_script
from orchestra.state import SpecialistOutput

def _log(call):
    with open(os.environ["FLAKY_LOG"], "a") as f:
        f.write(f"{call.specialist}:{call.subtask_id}\\n")

def alpha(call):
    _log(call)
    return SpecialistOutput(summary=f"alpha did {call.subtask_id}", key_points=[])

def beta(call):
    _log(call)
    if os.environ.get("FLAKY_FAIL") == "1":
        raise TransientModelError("beta's provider is down")
    return SpecialistOutput(summary="beta did it", key_points=[])

model = ScriptedChatModel(respond=team_script(
    plan=plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b"), ("s3", "beta", "c")),
    workers={"alpha": alpha, "beta": beta},
))
"""

FLAKY_TEAM = """
name: flaky
model: "import:flaky_models:model"
limits: {retry_attempts: 2, retry_initial_s: 0.01}
specialists:
  - name: alpha
    description: does alpha things
  - name: beta
    description: does beta things
"""


orchestra = orchestra_cli


def test_run_prints_plan_statuses_and_answer_then_show_and_json_agree(tmp_path: Path) -> None:
    task = "Compare SQLite and PostgreSQL checkpointers, then write a short summary"
    run = orchestra("run", "research", "--task", task, "--thread", "r1", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for expected in ("plan", "s1", "researcher", "accepted", "answer", "completed", "thread: r1"):
        assert expected in run.stdout
    assert (tmp_path / ".orchestra" / "checkpoints.sqlite").is_file()

    shown = orchestra("show", "r1", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["status"] == "completed"
    assert data["thread_id"] == "r1"
    assert data["citations"] == [r["id"] for r in data["plan"]]
    assert data["results"]["s1"]["tool_calls"] == ["search_notes"]
    assert "SQLite" in data["answer"]


def test_graph_prints_mermaid(tmp_path: Path) -> None:
    drawn = orchestra("graph", "research", cwd=tmp_path)
    assert drawn.returncode == 0
    assert drawn.stdout.startswith("graph TD;")
    assert "dispatch -.-> researcher;" in drawn.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "no_such_team", "--task", "x"], 2, "no such team file"),
        (["show", "missing-thread"], 1, "no checkpoint database at .orchestra/checkpoints.sqlite"),
        (["run", "research", "--task", "x", "--model", "gpt4"], 2, "unknown model 'gpt4'"),
        (["run", "research", "--task", "x", "--model", "openai:gpt-4o-mini"], 2, "OPENAI_API_KEY"),
    ],
)
def test_errors_are_one_clear_line_with_an_exit_code(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = orchestra(*args, cwd=tmp_path)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_team_file_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        textwrap.dedent("""
        name: bad
        specialists:
          - {name: a, description: x, tools: ["orchestra.nodes.toolkit:nope"]}
          - {name: a, description: y, model: "gpt4"}
    """)
    )
    result = orchestra("run", "bad.yaml", "--task", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert "3 problems" in result.stderr
    for fragment in (
        "duplicate specialist name",
        "unknown model 'gpt4'",
        "orchestra.nodes.toolkit:nope",
    ):
        assert fragment in result.stderr


def test_resume_after_a_worker_crash_does_not_rerun_finished_workers(tmp_path: Path) -> None:
    (tmp_path / "flaky_models.py").write_text(FLAKY_MODELS)
    (tmp_path / "flaky.yaml").write_text(FLAKY_TEAM)
    log = tmp_path / "calls.log"
    env = {"PYTHONPATH": str(tmp_path), "FLAKY_LOG": str(log)}

    first = orchestra(
        "run",
        "flaky.yaml",
        "--task",
        "x",
        "--thread",
        "f1",
        cwd=tmp_path,
        env=env | {"FLAKY_FAIL": "1"},
    )
    assert first.returncode == 1
    assert "TransientModelError: beta's provider is down" in first.stdout
    assert "orchestra resume f1" in first.stdout
    before = log.read_text().splitlines()
    # 1 + retry_attempts requests for s3's call, made by its step (no node retry on top)
    assert sorted(before) == ["alpha:s1", "alpha:s2", *["beta:s3"] * 3]

    resumed = orchestra("resume", "f1", "--json", cwd=tmp_path, env=env | {"FLAKY_FAIL": "0"})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert log.read_text().splitlines()[len(before) :] == ["beta:s3"]


@pytest.mark.parametrize(
    ("team", "pattern", "task"),
    [
        ("research", "orchestrator_workers", "Compare SQLite and PostgreSQL checkpointers"),
        ("research", "pipeline", "Explain SQLite checkpoints"),
        ("research", "fan_out", "Assess PostgreSQL checkpoints"),
        ("research", "single_agent", "What is SQLite?"),
        ("org", "hierarchical", "Research SQLite checkpointers, then edit a summary"),
        ("report_pipeline", None, "Explain how checkpoints make runs resumable"),
        ("review_panel", None, "SQLite\nPostgreSQL\nSend API"),
    ],
)
def test_every_pattern_runs_offline_from_the_cli(
    tmp_path: Path, team: str, pattern: str | None, task: str
) -> None:
    extra = ["--pattern", pattern] if pattern else []
    run = orchestra("run", team, "--task", task, "--json", *extra, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["status"] == "completed"
    assert data["answer"]
    assert data["citations"]


def test_debug_prints_the_traceback_of_the_error_that_stopped_a_run(tmp_path: Path) -> None:
    (tmp_path / "flaky_models.py").write_text(FLAKY_MODELS)
    (tmp_path / "flaky.yaml").write_text(FLAKY_TEAM)
    env = {"PYTHONPATH": str(tmp_path), "FLAKY_LOG": str(tmp_path / "calls.log")}
    args = ("run", "flaky.yaml", "--task", "x", "--thread")
    plain = orchestra(*args, "p1", cwd=tmp_path, env=env | {"FLAKY_FAIL": "1"})
    debug = orchestra(*args, "d1", "--debug", cwd=tmp_path, env=env | {"FLAKY_FAIL": "1"})
    assert plain.returncode == debug.returncode == 1
    assert "Traceback" not in plain.stderr
    assert "Traceback (most recent call last)" in debug.stderr
    assert 'flaky_models.py", line' in debug.stderr  # down to the model that raised
    assert "TransientModelError: beta's provider is down" in debug.stderr


def test_debug_prints_the_traceback_of_a_user_facing_error_too(tmp_path: Path) -> None:
    assert orchestra("run", "research", "--task", "x", cwd=tmp_path).returncode == 0
    shown = orchestra("show", "missing-thread", "--debug", cwd=tmp_path)
    assert shown.returncode == 1
    assert "Traceback (most recent call last)" in shown.stderr
    assert "RunNotFoundError: no run with thread id 'missing-thread'" in shown.stderr


def test_an_unreachable_server_is_named_and_the_resume_command_repeats_the_db(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "team.yaml").write_text(
        textwrap.dedent(
            f"""
            name: far
            model: {{model: "openai:gpt-test", base_url: "http://127.0.0.1:{port}/v1"}}
            limits: {{retry_attempts: 1, retry_initial_s: 0}}
            specialists:
              - {{name: researcher, description: Finds facts}}
            """
        )
    )
    db = str(tmp_path / "my runs.sqlite")
    done = orchestra_cli("run", "team.yaml", "--task", "t", "--db", db, cwd=tmp_path)
    assert done.returncode != 0
    out = " ".join(done.stdout.split())  # the console wraps long lines
    assert "could not be reached" in out and "base_url" in out
    assert f"--db '{db}'" in out
