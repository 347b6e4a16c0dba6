"""Ctrl-C or SIGTERM on `orchestra run` stops the run through its StopSignal: state kept,
resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import orchestra_cli

TEAM = """
name: pair
specialists:
  - name: alpha
    description: does a
limits: {max_rounds: 1}
"""

# s1's worker presses Ctrl-C (a SIGINT to its own process) as it answers; every worker
# call is logged, so the test sees what a resume runs again.
MODEL = """
import os, signal
from orchestra import SpecialistOutput
from orchestra.testing import ScriptedChatModel, plan_of, team_script

def _work(call):
    with open(os.environ["CALLS_LOG"], "a") as log:
        log.write(call.subtask_id + "\\n")
    if call.subtask_id == "s1" and os.environ.get("PRESS_CTRL_C"):
        os.kill(os.getpid(), signal.SIGINT)
    if call.subtask_id == "s1" and os.environ.get("SEND_SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)
    return SpecialistOutput(summary=f"did {call.subtask_id}", key_points=[call.subtask_id])

model = ScriptedChatModel(
    respond=team_script(
        plan=plan_of(("s1", "alpha", "first"), ("s2", "alpha", "second", ["s1"])),
        workers={"alpha": _work},
    )
)
"""


@pytest.mark.parametrize(
    ("press", "code"),
    [("PRESS_CTRL_C", 130), ("SEND_SIGTERM", 143)],  # 128 + the signal, as shells report
)
def test_a_stop_signal_keeps_the_state_and_resume_finishes_without_repeating_work(
    tmp_path: Path, press: str, code: int
) -> None:
    (tmp_path / "team.yaml").write_text(TEAM)
    (tmp_path / "ctrl_c_model.py").write_text(MODEL)
    log = tmp_path / "calls.log"
    env = {"PYTHONPATH": str(tmp_path), "CALLS_LOG": str(log)}
    run = ["run", "team.yaml", "--task", "two steps", "--thread", "c1"]
    run += ["--model", "import:ctrl_c_model:model", "--json"]

    stopped = orchestra_cli(*run, cwd=tmp_path, env=env | {press: "1"})

    assert stopped.returncode == code, stopped.stderr
    assert "interrupted; finished work is checkpointed" in stopped.stderr
    assert "orchestra resume c1" in stopped.stderr
    assert log.read_text().split() == ["s1"]  # stopped before s2 started

    # An import: model is code: a resume takes it from the command line, not the database.
    resumed = orchestra_cli(
        "resume", "c1", "--model", "import:ctrl_c_model:model", "--json", cwd=tmp_path, env=env
    )

    assert resumed.returncode == 0, resumed.stderr
    document = json.loads(resumed.stdout)
    assert document["status"] == "completed"
    assert set(document["results"]) == {"s1", "s2"}
    assert log.read_text().split() == ["s1", "s2"]  # s1's finished work was not redone
