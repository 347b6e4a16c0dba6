"""The audit plans in code: 600 repositories listed with no model call, in rounds."""

from __future__ import annotations

import time
from pathlib import Path

from audit_helpers import state_dir  # noqa: F401 (fixture)

from orchestra.graphs.runner import open_checkpointer
from orchestra.nodes import ScriptedChatModel, team_script
from orchestra.state import import_refs
from orchestra_audit.policy import load_policy
from orchestra_audit.samples_bulk import generate_bulk
from orchestra_audit.team import AuditJob, audit_team, discover, repo_names, run_audit


def test_the_audit_team_declares_its_code_planner() -> None:
    team = audit_team(3)
    assert team.orchestrator.planner == "orchestra_audit.plan:plan_audit"
    assert ("orchestrator.planner", "orchestra_audit.plan:plan_audit") in import_refs(team)
    paged = audit_team(600, per_round=100)
    assert (paged.limits.max_workers_per_round, paged.limits.max_rounds) == (100, 6)


def test_600_repositories_are_planned_without_a_model_call_100_per_round(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "bulk"
    generate_bulk(folder, repos=600, files=1)
    roots = discover([str(folder)])
    assert len(roots) == 600
    job = AuditJob(
        roots=roots,
        names=repo_names(roots),
        policy=load_policy(folder / "policy.toml"),
        policy_given=True,
        per_round=100,
    )
    model = ScriptedChatModel(respond=team_script())  # the offline policy, calls recorded
    started = time.monotonic()
    with open_checkpointer(":memory:") as saver:
        result = run_audit(job, saver=saver, thread_id="bulk-600", model=model)
    elapsed = time.monotonic() - started
    assert result.status == "completed", result.reason
    assert [c.role for c in model.calls if c.role == "orchestrator"] == []
    plan = result.values["plan"]
    assert len(plan) == 600 and len({r["instruction"] for r in plan}) == 600
    per_round = {n: sum(1 for r in plan if r["round"] == n) for n in range(1, 7)}
    assert per_round == dict.fromkeys(range(1, 7), 100)
    assert all(result.values["results"][r["id"]]["status"] == "accepted" for r in plan)
    assert "orchestrator" not in result.values["ledger"]
    assert elapsed < 120, f"600 repositories took {elapsed:.1f}s"
