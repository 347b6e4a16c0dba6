"""Resume runs only the code the user gave; show imports nothing (issue 14, item 4).

A checkpoint database is a file: these tests rewrite the run stored in one the way an
attacker with write access could, so that it names a *canary* module, one that leaves a
file behind when imported. ``show`` and ``resume`` must never import it, whichever way
the database names it: as a tool, an output type, a check, a model, or a stored value
LangGraph's serializer would rebuild by importing its class.
"""

from __future__ import annotations

import copy
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from orchestra.graphs.cli import main
from orchestra.graphs.patterns import compile_team, with_pattern
from orchestra.graphs.resume_team import shape_mismatch
from orchestra.graphs.runner import open_checkpointer, resume_run, run_team, snapshot
from orchestra.graphs.team_files import example_teams
from orchestra.nodes import resolve_team
from orchestra.nodes.team_shape import shape_of
from orchestra.state import (
    PATTERNS,
    ApprovalSpec,
    NotResumableError,
    SpecialistSpec,
    TeamMismatchError,
    TeamSpec,
    load_team,
)

CANARY = """
import os, pathlib
from pydantic import BaseModel
pathlib.Path(os.environ["CANARY_FILE"]).write_text("imported")

def lookup(query: str) -> str:
    '''Look something up.'''
    return "canary"

def check(output) -> None:
    return None

class Out(BaseModel):
    summary: str

class Planted(BaseModel):
    x: int = 0
"""

MY_TOOLS = """
def notes(query: str) -> str:
    '''Notes on a topic.'''
    return "SQLite keeps checkpoints in one file; PostgreSQL serves many processes."
"""

TEAM = """
name: guarded
specialists:
  - name: researcher
    description: Finds facts in the notes on databases and checkpoints; compares options.
    tools: ["my_tools:notes"]
  - name: writer
    description: Writes a short summary report from earlier results.
approval: {plan: true}
limits: {max_rounds: 1}
"""

TASK = "Compare SQLite and PostgreSQL checkpoints, then write a short summary"
APPROVE = {"action": "approve"}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's project: a team file, its tool module, and a canary anything could import."""
    (tmp_path / "canary.py").write_text(CANARY)
    (tmp_path / "my_tools.py").write_text(MY_TOOLS)
    (tmp_path / "team.yaml").write_text(TEAM)
    monkeypatch.setenv("CANARY_FILE", str(tmp_path / "canary-was-imported"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # an import of `canary` would succeed
    yield tmp_path
    for name in ("my_tools", "canary"):  # each test's project has its own modules
        sys.modules.pop(name, None)


def imported(folder: Path) -> bool:
    return (folder / "canary-was-imported").exists()


def waiting_run(folder: Path, thread: str = "t1") -> Path:
    """A run of the team file, paused for plan approval, in ``folder``'s database."""
    db = folder / "runs.sqlite"
    with open_checkpointer(db) as saver:
        result = run_team(
            load_team(folder / "team.yaml"),
            TASK,
            saver=saver,
            thread_id=thread,
            team_file=folder / "team.yaml",
        )
    assert result.status == "waiting"
    return db


def rewrite(db: Path, thread: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the latest checkpoint's values in place, as a hand on the database would."""
    with open_checkpointer(db, existing=True) as saver:
        found = saver.get_tuple({"configurable": {"thread_id": thread}})
        assert found is not None
        checkpoint = copy.deepcopy(found.checkpoint)
        change(checkpoint["channel_values"])
        parent = found.parent_config or {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        saver.put(parent, checkpoint, found.metadata, {})


def plant_tool(values: dict[str, Any]) -> None:
    researcher = values["origin"]["team"]["specialists"][0]
    researcher["tools"] = ["canary:lookup"]
    researcher["output"] = "canary:Out"
    researcher["checks"] = ["canary:check"]
    values["origin"]["team"]["validator"] = {"checks": ["canary:check"]}


def test_a_rewritten_spec_is_ignored_while_the_team_file_is_unchanged(folder: Path) -> None:
    db = waiting_run(folder)
    rewrite(db, "t1", plant_tool)
    with open_checkpointer(db, existing=True) as saver:
        shown = snapshot("t1", saver=saver)
        assert shown.status == "waiting" and shown.waiting[0]["kind"] == "plan_approval"
        assert not imported(folder)
        result = resume_run("t1", saver=saver, decision=APPROVE)
    assert result.status == "completed", result.reason
    assert not imported(folder)
    researched = [r for r in result.values["results"].values() if r["specialist"] == "researcher"]
    assert researched and all(r["status"] == "accepted" for r in researched)


def test_a_changed_team_file_leaves_only_the_named_team(folder: Path) -> None:
    db = waiting_run(folder)
    rewrite(db, "t1", plant_tool)
    team_file = folder / "team.yaml"
    team_file.write_text(TEAM.replace("compares options.", "compares options carefully."))
    with open_checkpointer(db, existing=True) as saver:
        with pytest.raises(NotResumableError) as refused:
            resume_run("t1", saver=saver, decision=APPROVE)
        assert "changed since the run started" in str(refused.value)
        assert "canary:lookup" in str(refused.value) and "--team" in str(refused.value)
        assert not imported(folder)
        # Nothing ran: the run still waits for its plan.
        assert snapshot("t1", saver=saver).status == "waiting"
        named = load_team(team_file)
        result = resume_run("t1", saver=saver, decision=APPROVE, team=named)
    assert result.status == "completed", result.reason
    assert not imported(folder)


def test_the_cli_names_the_team_with_dash_dash_team(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = waiting_run(folder)
    rewrite(db, "t1", plant_tool)
    (folder / "team.yaml").write_text(TEAM + "description: edited\n")
    assert main(["resume", "t1", "--db", str(db), "--approve"]) == 2
    assert "--team" in capsys.readouterr().err
    assert main(["resume", "t1", "--db", str(db), "--approve", "--team", "team.yaml"]) == 0
    assert main(["show", "t1", "--db", str(db)]) == 0
    assert not imported(folder)


def test_a_gone_team_file_resumes_from_a_stored_spec_of_orchestra_code_only(
    folder: Path,
) -> None:
    (folder / "team.yaml").write_text(
        TEAM.replace('["my_tools:notes"]', '["orchestra.nodes.toolkit:search_notes"]')
    )
    db = waiting_run(folder)
    (folder / "team.yaml").unlink()
    with open_checkpointer(db, existing=True) as saver:
        result = resume_run("t1", saver=saver, decision=APPROVE)
    assert result.status == "completed", result.reason


def test_a_gone_team_file_with_user_code_needs_the_team(folder: Path) -> None:
    db = waiting_run(folder)
    (folder / "team.yaml").rename(folder / "moved.yaml")
    with open_checkpointer(db, existing=True) as saver, pytest.raises(NotResumableError) as refused:
        resume_run("t1", saver=saver, decision=APPROVE)
    assert "is gone" in str(refused.value) and "my_tools:notes" in str(refused.value)


def test_a_stored_model_server_is_not_taken_from_the_database(folder: Path) -> None:
    db = waiting_run(folder)

    def point_at_a_server(values: dict[str, Any]) -> None:
        values["origin"]["team"]["model"] = {
            "model": "openai:gpt-4o-mini",
            "base_url": "http://attacker.invalid/v1",
            "api_key_env": "OPENAI_API_KEY",
        }

    rewrite(db, "t1", point_at_a_server)
    (folder / "team.yaml").unlink()
    (folder / "my_tools.py").unlink()
    with open_checkpointer(db, existing=True) as saver, pytest.raises(NotResumableError) as refused:
        resume_run("t1", saver=saver, decision=APPROVE)
    assert "http://attacker.invalid/v1" in str(refused.value)


def test_a_stored_import_model_needs_model_again(folder: Path) -> None:
    db = waiting_run(folder)
    rewrite(db, "t1", lambda values: values["origin"].update(model="import:canary:model"))
    with open_checkpointer(db, existing=True) as saver:
        with pytest.raises(NotResumableError, match="pass --model again"):
            resume_run("t1", saver=saver, decision=APPROVE)
        assert not imported(folder)
        result = resume_run("t1", saver=saver, decision=APPROVE, model="offline")
    assert result.status == "completed"
    assert not imported(folder)


class Planted(BaseModel):
    x: int = 0


Planted.__module__ = "canary"  # serialized as canary.Planted, as a forged value would be


def test_a_stored_value_naming_a_class_is_not_rebuilt_by_importing_it(folder: Path) -> None:
    db = waiting_run(folder)
    rewrite(db, "t1", lambda values: values.update(planted=Planted(x=1)))
    # LangGraph's default serializer would import the module the value names: the canary
    # works (this is what the checkpointers orchestra opens must not do).
    with closing_sqlite(db) as saver:
        saver.serde = JsonPlusSerializer()
        saver.get_tuple({"configurable": {"thread_id": "t1"}})
    assert imported(folder)
    os.remove(folder / "canary-was-imported")
    with open_checkpointer(db, existing=True) as saver:
        found = saver.get_tuple({"configurable": {"thread_id": "t1"}})
        assert found is not None and found.checkpoint["channel_values"]["planted"] == {"x": 1}
        assert snapshot("t1", saver=saver).status == "waiting"
        assert resume_run("t1", saver=saver, decision=APPROVE).status == "completed"
    assert not imported(folder)


def closing_sqlite(db: Path) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def opened() -> Any:
        conn = sqlite3.connect(str(db), check_same_thread=False)
        try:
            yield SqliteSaver(conn)
        finally:
            conn.close()

    return opened()


def test_a_renamed_specialist_is_refused_before_anything_runs(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = waiting_run(folder)
    renamed = folder / "renamed.yaml"
    renamed.write_text(TEAM.replace("name: writer", "name: author"))
    with open_checkpointer(db, existing=True) as saver:
        before = len(list(saver.list({"configurable": {"thread_id": "t1"}})))
        with pytest.raises(TeamMismatchError) as refused:
            resume_run("t1", saver=saver, decision=APPROVE, team=load_team(renamed))
        assert "writer removed" in str(refused.value) and "author added" in str(refused.value)
        assert len(list(saver.list({"configurable": {"thread_id": "t1"}}))) == before
    assert main(["resume", "t1", "--db", str(db), "--approve", "--team", str(renamed)]) == 2
    err = capsys.readouterr().err
    assert "another team" in err and err.count("\n") == 1


def test_a_run_started_with_objects_checks_its_plan_against_the_team(memory: Any) -> None:
    # A tool given as an object: the spec cannot be stored, so no stored shape to compare.
    spec = TeamSpec(
        name="objects",
        specialists=[
            SpecialistSpec(name="alpha", description="finds facts", tools=[_a_tool]),
            SpecialistSpec(name="beta", description="writes summaries"),
        ],
        approval={"plan": True},
    )
    run = run_team(spec, TASK, saver=memory, thread_id="o1")
    assert run.status == "waiting" and "origin" not in run.values
    other = spec.model_copy(
        update={"specialists": [SpecialistSpec(name="gamma", description="does all")]}
    )
    planned = {item["specialist"] for item in run.waiting[0]["plan"]}
    with pytest.raises(TeamMismatchError) as refused:
        resume_run("o1", saver=memory, decision=APPROVE, team=other)
    assert all(name in str(refused.value) for name in planned)


def _a_tool(query: str) -> str:
    """Answers anything."""
    return "facts"


def _team(*names: str, **extra: Any) -> TeamSpec:
    return TeamSpec(
        name="t",
        specialists=[SpecialistSpec(name=n, description="x") for n in names],
        **extra,
    )


def test_shape_mismatch_names_what_a_stored_run_depends_on() -> None:
    assert shape_mismatch(_team("a", "b"), _team("b", "a", description="edited")) == []
    assert shape_mismatch(_team("a"), _team("a", pattern="pipeline")) == [
        "pattern: orchestrator_workers then, pipeline now"
    ]
    assert shape_mismatch(
        _team("a", "b", pattern="pipeline"), _team("b", "a", pattern="pipeline")
    ) == ["pipeline stages: ['a', 'b'] then, ['b', 'a'] now"]
    inner = _team("x", "y")
    nested = TeamSpec(
        name="top",
        pattern="hierarchical",
        specialists=[SpecialistSpec(name="crew", description="c", team=inner)],
    )
    changed = nested.model_copy(
        update={"specialists": [SpecialistSpec(name="crew", description="c", team=_team("x"))]}
    )
    assert shape_mismatch(nested, changed) == ["specialists.crew.team.specialists: y removed"]
    single = nested.model_copy(
        update={"specialists": [SpecialistSpec(name="crew", description="c")]}
    )
    assert shape_mismatch(nested, single) == [
        "specialists.crew: a team then, a single specialist now"
    ]


@pytest.mark.parametrize("name", sorted(example_teams()))
def test_a_team_without_its_code_has_the_same_graph(name: str) -> None:
    """``show`` reads a stored run through ``shape_of``: its graph must be the real one's."""
    spec = load_team(example_teams()[name])
    for pattern in PATTERNS:
        if with_pattern(spec, pattern).problems():
            continue  # a shape this team cannot take
        real = compile_team(resolve_team(with_pattern(spec, pattern))).get_graph()
        bare = compile_team(shape_of(with_pattern(spec, pattern))).get_graph()
        assert bare.draw_mermaid(with_styles=False) == real.draw_mermaid(with_styles=False)


@pytest.mark.parametrize("name", sorted(example_teams()))
def test_what_orchestra_stores_reads_back_under_the_strict_serializer(
    name: str, tmp_path: Path
) -> None:
    """Every value a run checkpoints is of a type the strict serializer rebuilds: no value
    of ours is blocked (read back as bare data) and none needs an unregistered import."""
    events: list[dict[str, Any]] = []
    stop_listening = register_serde_event_listener(lambda event: events.append(dict(event)))
    try:
        with open_checkpointer(tmp_path / "runs.sqlite") as saver:
            spec = load_team(example_teams()[name])
            plans = spec.pattern in ("orchestrator_workers", "hierarchical")
            if plans:  # an interrupt's value is stored too
                spec = spec.model_copy(update={"approval": ApprovalSpec(plan=True)})
            paused = run_team(spec, TASK, saver=saver, thread_id="s1")
            resumed = resume_run("s1", saver=saver, decision=APPROVE if plans else None, team=spec)
            snapshot("s1", saver=saver)
    finally:
        stop_listening()
    assert paused.status == "waiting" if plans else paused.finished
    assert resumed.finished, resumed.reason
    assert [e for e in events if e["kind"].startswith("msgpack")] == []
