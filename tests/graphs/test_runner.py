"""Durable runs: SQLite checkpoints, resume re-runs only unfinished work, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_team

from orchestra.graphs.runner import (
    RunNotFoundError,
    open_checkpointer,
    resume_run,
    run_team,
    snapshot,
    stored_origin,
)
from orchestra.nodes import ScriptedChatModel, TransientModelError, WorkerCall, plan_of, team_script
from orchestra.state import OrchestraError, SpecialistOutput


def flaky_team_model(fail: dict[str, bool]) -> ScriptedChatModel:
    def alpha(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary=f"alpha did {call.subtask_id}", key_points=[])

    def beta(call: WorkerCall) -> SpecialistOutput:
        if fail["beta"]:
            raise TransientModelError("beta's provider is down")
        return SpecialistOutput(summary="beta did it", key_points=[])

    plan = plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b"), ("s3", "beta", "c"))
    return ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": alpha, "beta": beta}))


def test_a_run_stopped_by_a_worker_error_resumes_without_rerunning_finished_workers(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.sqlite"
    fail = {"beta": True}
    model = flaky_team_model(fail)
    team = make_team("alpha", "beta", limits={"retry_attempts": 2, "retry_initial_s": 0.01})
    with open_checkpointer(db) as saver:
        first = run_team(team, "do it", saver=saver, thread_id="job-1", model=model)
    assert first.status == "interrupted"
    assert first.reason_code == "error"
    assert first.error == "TransientModelError: beta's provider is down"
    assert isinstance(first.exception, TransientModelError)  # the object, not only its text
    assert first.exception.__traceback__ is not None
    with pytest.raises(TransientModelError, match="beta's provider is down"):
        first.raise_for_error()
    assert first.pending == ("beta",)
    assert {k: v["status"] for k, v in first.values["results"].items()} == {
        "s1": "submitted",
        "s2": "submitted",
    }
    alpha_calls = len(model.calls_for("alpha"))
    assert alpha_calls == 2

    fail["beta"] = False
    with open_checkpointer(db) as saver:  # a new connection: the state came from disk
        resumed = resume_run("job-1", saver=saver, model=model)
    assert resumed.status == "completed"
    assert resumed.reason_code == "all_accepted"
    assert len(model.calls_for("alpha")) == alpha_calls
    # 1 + retry_attempts requests in the first run (the step's own retries), 1 on resume
    assert len(model.calls_for("beta")) == 4
    assert resumed.values["citations"] == ["s1", "s2", "s3"]


def test_resuming_a_finished_run_changes_nothing(tmp_path: Path) -> None:
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        done = run_team(
            make_team("alpha"), "look up alpha", saver=saver, thread_id="t", model="offline"
        )
        again = resume_run("t", saver=saver)
    assert done.finished and again.finished
    assert again.values == done.values


def test_the_recursion_limit_stops_a_run_with_a_named_reason_and_resume_continues(
    tmp_path: Path,
) -> None:
    team = make_team("alpha", limits={"recursion_limit": 5})
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        first = run_team(team, "look up alpha", saver=saver, thread_id="t", model="offline")
        assert first.status == "cap_reached"
        assert first.reason.startswith("recursion_limit")
        result = first
        for _ in range(3):
            result = resume_run("t", saver=saver)
            if result.finished:
                break
    assert result.status == "completed"
    assert [r["id"] for r in result.values["plan"]] == ["s1"]


def test_the_spec_travels_in_the_state(tmp_path: Path) -> None:
    team = make_team("alpha")
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        run_team(team, "look up alpha", saver=saver, thread_id="t", model="offline")
        origin = stored_origin(saver, "t")
        shown = snapshot("t", saver=saver)
    assert origin["team"]["name"] == "test"
    assert origin["model"] == "offline"
    assert shown.status == "completed"


def test_unknown_threads_and_reused_thread_ids_are_clear_errors(tmp_path: Path) -> None:
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        with pytest.raises(RunNotFoundError, match="no run with thread id 'nope'"):
            resume_run("nope", saver=saver)
        run_team(make_team("alpha"), "x", saver=saver, thread_id="t", model="offline")
        with pytest.raises(OrchestraError, match="already exists"):
            run_team(make_team("alpha"), "x", saver=saver, thread_id="t", model="offline")


def test_the_default_database_lives_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_checkpointer() as saver:
        run_team(make_team("alpha"), "x", saver=saver, thread_id="t", model="offline")
    assert (tmp_path / ".orchestra" / "checkpoints.sqlite").is_file()


def test_on_update_reports_each_node_as_it_finishes(tmp_path: Path) -> None:
    seen: list[str] = []
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        result = run_team(
            make_team("alpha"),
            "look up alpha",
            saver=saver,
            model="offline",
            on_update=lambda node, update: seen.append(node),
        )
    assert result.status == "completed"
    assert seen == [
        "orchestrator",
        "dispatch",
        "alpha",
        "validator",
        "dispatch",
        "orchestrator",
        "synthesizer",
    ]
