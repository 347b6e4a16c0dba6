"""A run killed before its first step finished still resumes from the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import orchestra_cli
from langchain_core.tools import tool
from pydantic import BaseModel

import orchestra
from orchestra import RunData


def cut_back_to_input(db: Path, thread: str, *, keep_writes: bool) -> None:
    """Leave only the thread's input checkpoint (step -1), with or without its writes."""
    with sqlite3.connect(db) as conn:
        (first,) = conn.execute(
            "select checkpoint_id from checkpoints where thread_id = ? "
            "and json_extract(metadata, '$.step') = -1",
            (thread,),
        ).fetchone()
        conn.execute("delete from checkpoints where checkpoint_id != ?", (first,))
        kept = first if keep_writes else ""
        conn.execute("delete from writes where checkpoint_id != ?", (kept,))


def test_a_run_with_only_its_input_checkpointed_resumes(tmp_path: Path) -> None:
    done = orchestra_cli("run", "research", "--task", "Compare SQLite and PostgreSQL",
                         "--thread", "t", "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)["answer"]
    # What a kill right after the first checkpoint leaves: the input checkpoint (step -1),
    # whose start task's writes (the task and the run's origin) are pending writes.
    cut_back_to_input(tmp_path / ".orchestra" / "checkpoints.sqlite", "t", keep_writes=True)

    resumed = orchestra_cli("resume", "t", "--json", cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert json.loads(resumed.stdout)["answer"] == expected


class Shop(BaseModel):
    currency: str


SEEN: list[str] = []


@tool
def price(item: str, run: RunData[Shop]) -> str:
    """Look up the price of an item."""
    SEEN.append(run.deps.currency)
    return f"{item}: 12.50 {run.deps.currency}"


def test_a_run_with_only_its_input_checkpointed_resumes_with_its_deps(tmp_path: Path) -> None:
    team = orchestra.TeamSpec(
        name="shop",
        specialists=[
            orchestra.SpecialistSpec(name="clerk", description="Prices items.", tools=[price])
        ],
    )
    db = tmp_path / "runs.sqlite"
    with orchestra.open_checkpointer(db) as saver:
        first = orchestra.run_team(
            team, "Price a teapot.", saver=saver, thread_id="d", model="offline",
            deps=Shop(currency="EUR"),
        )  # fmt: skip
    assert first.status == "completed" and SEEN == ["EUR"]
    # A kill after the input checkpoint, before the start task's writes were saved: the
    # deps are then only in the unconsumed input.
    cut_back_to_input(db, "d", keep_writes=False)

    with orchestra.open_checkpointer(db) as saver:
        resumed = orchestra.resume_run("d", saver=saver, team=team)

    assert resumed.status == "completed", resumed.reason
    assert SEEN == ["EUR", "EUR"]  # the tool ran again, and had the run's deps
