"""A team whose one specialist works three subtasks one after another, slowly, for tests of
processes racing on one thread (leases, PostgreSQL, kills).

Write ``SLOW_MODELS`` as ``slow_models.py`` and ``SLOW_TEAM`` as a team file in a folder on
the run's ``PYTHONPATH``; each subtask sleeps ``STEP_SECONDS`` and, as it starts, appends
``<pid> <subtask id>`` to the file ``CALL_LOG`` names (``calls`` reads it back).
"""

from __future__ import annotations

from pathlib import Path

SLOW_MODELS = """
import os, time
from orchestra.nodes import ScriptedChatModel, plan_of, team_script
from orchestra.state import SpecialistOutput

def work(call):
    with open(os.environ["CALL_LOG"], "a") as log:
        log.write(f"{os.getpid()} {call.subtask_id}\\n")
    time.sleep(float(os.environ["STEP_SECONDS"]))
    return SpecialistOutput(summary=f"did {call.subtask_id}", key_points=[])

model = ScriptedChatModel(respond=team_script(
    plan=plan_of(("s1", "alpha", "a"), ("s2", "alpha", "b", ["s1"]), ("s3", "alpha", "c", ["s2"])),
    workers={"alpha": work},
))
"""

SLOW_TEAM = """
name: slow
model: "import:slow_models:model"
specialists:
  - name: alpha
    description: does alpha things one after another
"""


def calls(log: Path) -> list[tuple[int, str]]:
    """The subtasks started so far, as (process id, subtask id), in order."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [(int(pid), sid) for pid, sid in (line.split() for line in lines if line)]


def calls_in(folder: Path) -> list[tuple[int, str]]:
    """``calls`` of the log ``slow_team``-style set-ups keep in ``folder/calls.log``."""
    return calls(folder / "calls.log")
