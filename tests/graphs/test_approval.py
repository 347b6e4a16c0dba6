"""Human approval of plans: approve, edit and reject, in one process or across restarts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from conftest import compiled, context, make_team, orchestra_cli, run_config
from langgraph.types import Command

from orchestra.nodes import ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.state import Plan, SpecialistOutput


def scripted(seen: list[str]) -> ScriptedChatModel:
    def plan(text: str, round_no: int) -> Plan:
        seen.append(text)
        if round_no > 1:
            return plan_of()
        if "rejected your last plan" in text:
            return plan_of(("s1", "beta", "the better plan"))
        return plan_of(("s1", "alpha", "the first plan"))

    def work(call: WorkerCall) -> SpecialistOutput:
        return SpecialistOutput(summary=f"{call.specialist}: {call.instruction}", key_points=[])

    return ScriptedChatModel(respond=team_script(plan=plan, workers={"alpha": work, "beta": work}))


def start() -> tuple[Any, ScriptedChatModel, list[str], dict[str, Any]]:
    seen: list[str] = []
    model = scripted(seen)
    graph = compiled(make_team("alpha", "beta", approval={"plan": True}))
    first = graph.invoke({"task": "t"}, run_config(), context=context(model))
    return graph, model, seen, first


def resume(graph: Any, model: ScriptedChatModel, decision: Any) -> dict[str, Any]:
    state: dict[str, Any] = graph.invoke(
        Command(resume=decision), run_config(), context=context(model)
    )
    return state


def test_the_plan_waits_and_runs_once_approved() -> None:
    graph, model, _, first = start()
    waiting = first["__interrupt__"][0].value
    assert waiting["kind"] == "plan_approval"
    assert [s["id"] for s in waiting["plan"]] == ["s1"]
    assert model.calls_for("alpha") == []  # nothing dispatched before the decision

    final = resume(graph, model, {"action": "approve"})
    assert final["status"] == "completed"
    assert final["results"]["s1"]["summary"] == "alpha: the first plan"
    assert [c.role for c in model.calls].count("orchestrator") == 2  # plan + review, no re-plan


def test_an_edited_plan_is_checked_and_dispatched() -> None:
    graph, model, _, _ = start()
    edited = [
        {"id": "e1", "specialist": "beta", "instruction": "edited work", "depends_on": []},
        {"id": "e2", "specialist": "ghost", "instruction": "dropped", "depends_on": []},
    ]
    final = resume(graph, model, {"action": "edit", "plan": edited})
    assert [r["id"] for r in final["plan"]] == ["e1"]
    assert final["results"]["e1"]["summary"] == "beta: edited work"
    assert any("no specialist named 'ghost'" in n for n in final["notes"])


def test_a_rejection_goes_back_to_the_orchestrator_with_the_reason() -> None:
    graph, model, seen, _ = start()
    again = resume(graph, model, {"action": "reject", "reason": "use beta instead"})
    waiting = again["__interrupt__"][0].value
    assert "A human rejected your last plan: use beta instead" in seen[-1]
    assert waiting["plan"][0]["specialist"] == "beta"
    final = resume(graph, model, {"action": "approve"})
    assert final["results"]["s1"]["specialist"] == "beta"
    assert final["status"] == "completed"


def test_rejections_past_the_plan_revision_cap_end_the_run() -> None:
    seen: list[str] = []
    model = scripted(seen)
    graph = compiled(
        make_team("alpha", "beta", approval={"plan": True}, limits={"max_plan_revisions": 1})
    )
    graph.invoke({"task": "t"}, run_config(), context=context(model))
    resume(graph, model, {"action": "reject", "reason": "no"})
    final = resume(graph, model, {"action": "reject", "reason": "still no"})
    assert final["status"] == "failed"
    assert final["reason"] == "plan rejected: still no"
    assert final["reason_code"] == "plan_rejected"
    assert [v.get("by") for v in final["verdicts"] if not v["accepted"]] == ["human", "human"]
    assert model.calls_for("alpha") == model.calls_for("beta") == []


def test_an_invalid_decision_is_asked_again_with_the_error() -> None:
    graph, model, _, _ = start()
    again = resume(graph, model, {"action": "reject"})  # no reason
    waiting = again["__interrupt__"][0].value
    assert "a rejection needs a reason" in waiting["error"]
    assert resume(graph, model, {"action": "approve"})["status"] == "completed"


# -- across processes, through the CLI ----------------------------------------------------

TEAM = textwrap.dedent("""
    name: approved
    approval: {plan: true}
    specialists:
      - {name: researcher, description: Finds facts in the notes on databases,
         tools: ["orchestra.nodes.toolkit:search_notes"]}
      - {name: writer, description: Writes a short summary}
""")


orchestra = orchestra_cli


def test_approve_edit_and_reject_work_across_process_restarts(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(TEAM)
    task = "Find facts about SQLite"

    run = orchestra("run", "team.yaml", "--task", task, "--thread", "a1", cwd=tmp_path)
    assert run.returncode == 7, run.stderr
    assert (
        "waiting for plan approval" in run.stdout and "orchestra resume a1 --approve" in run.stdout
    )
    shown = json.loads(orchestra("show", "a1", "--json", cwd=tmp_path).stdout)
    assert shown["status"] == "waiting" and shown["waiting"][0]["plan"][0]["id"] == "s1"
    approved = orchestra("resume", "a1", "--approve", "--json", cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["status"] == "completed"

    orchestra("run", "team.yaml", "--task", task, "--thread", "e1", cwd=tmp_path)
    (tmp_path / "plan.yaml").write_text(
        "- {id: w1, specialist: writer, instruction: Write two lines on SQLite, depends_on: []}\n"
    )
    edited = orchestra("resume", "e1", "--edit", "plan.yaml", "--json", cwd=tmp_path)
    data = json.loads(edited.stdout)
    assert edited.returncode == 0 and [r["id"] for r in data["plan"]] == ["w1"]

    orchestra("run", "team.yaml", "--task", task, "--thread", "r1", cwd=tmp_path)
    rejected = orchestra("resume", "r1", "--reject", "too thin", "--json", cwd=tmp_path)
    assert rejected.returncode == 7  # the orchestrator re-planned; the new plan waits
    assert json.loads(rejected.stdout)["waiting"][0]["kind"] == "plan_approval"
    done = orchestra("resume", "r1", "--approve", "--json", cwd=tmp_path)
    assert done.returncode == 0
    notes = json.loads(done.stdout)["notes"]
    assert any("plan rejected by a human: too thin" in n for n in notes)
