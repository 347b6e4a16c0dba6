"""A run killed before its first step finished still resumes from the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import orchestra_cli


def test_a_run_with_only_its_input_checkpointed_resumes(tmp_path: Path) -> None:
    done = orchestra_cli("run", "research", "--task", "Compare SQLite and PostgreSQL",
                         "--thread", "t", "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)["answer"]
    # What a kill right after the first checkpoint leaves: the input checkpoint (step -1),
    # whose start task's writes (the task and the run's origin) are pending writes.
    db = tmp_path / ".orchestra" / "checkpoints.sqlite"
    with sqlite3.connect(db) as conn:
        (first,) = conn.execute(
            "select checkpoint_id from checkpoints where thread_id = 't' "
            "and json_extract(metadata, '$.step') = -1"
        ).fetchone()
        conn.execute("delete from checkpoints where checkpoint_id != ?", (first,))
        conn.execute("delete from writes where checkpoint_id != ?", (first,))

    resumed = orchestra_cli("resume", "t", "--json", cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert json.loads(resumed.stdout)["answer"] == expected
