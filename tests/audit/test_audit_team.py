"""The audit as a team: every planted problem found, secrets kept out of traces, checks enforced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import demo_set, secret_values, state_dir  # noqa: F401 (fixtures)
from langchain_core.messages import AIMessage
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
from openai_server import openai_server

from orchestra.graphs import compile_team
from orchestra.graphs.runner import open_checkpointer
from orchestra.nodes import ScriptedChatModel, WorkerCall, resolve_team, team_script, tool_call
from orchestra.state import TeamContext
from orchestra_audit.analyse import audit_repo
from orchestra_audit.findings import RepoAudit
from orchestra_audit.policy import AuditPolicy, load_policy
from orchestra_audit.report import audit_json, run_digest
from orchestra_audit.samples import Planted
from orchestra_audit.scope import AuditScope
from orchestra_audit.team import AuditJob, audit_task, audit_team, discover, repo_names, run_audit


def job_for(folder: Path, policy: AuditPolicy | None = None) -> AuditJob:
    roots = discover([str(folder)])
    chosen = policy or load_policy(folder / "policy.toml")
    return AuditJob(roots=roots, names=repo_names(roots), policy=chosen, policy_given=True)


def test_the_team_spec_is_plain_data_and_resolves() -> None:
    team = audit_team(3)
    data = team.to_data()  # import paths only, so the run's origin can be stored and resumed
    assert data["specialists"][0]["tools"] == [
        "orchestra_audit.tools:audit_repository",
        "orchestra_audit.tools:browse_repository",
    ]
    resolved = resolve_team(team)
    assert resolved.specialists["auditor"].output is RepoAudit
    assert team.limits.max_workers_per_round == 3
    # repositories analysed at once: the framework's turns (not a pool one larger than the tasks)
    assert team.limits.max_concurrency == 8
    assert audit_team(3, max_concurrency=2).limits.max_concurrency == 2


def test_every_planted_problem_is_found_with_its_kind_file_and_line(
    demo: tuple[Path, list[Planted]],
) -> None:
    folder, planted = demo
    with open_checkpointer(":memory:") as saver:
        result = run_audit(job_for(folder), saver=saver, thread_id="demo-1", model="offline")
    assert result.status == "completed", result.reason
    assert [r["specialist"] for r in result.values["plan"]] == ["auditor"] * 5
    digest = run_digest(result.values)
    assert digest is not None
    got = {(f.repo, f.kind, f.rule, f.file, f.line) for f in digest.findings}
    missing = [p for p in planted if (p.repo, p.kind, p.rule, p.file, p.line) not in got]
    assert missing == []
    conflicts = [f for f in digest.findings if f.rule == "dependency.version-conflict"]
    assert sorted(f.subject for f in conflicts) == ["npm:lodash", "pypi:requests"]
    assert "already fixed" in conflicts[0].message
    assert digest.summary in result.values["answer"]  # the offline synthesis carries it

    document = audit_json(result, digest)
    keys = {"status", "thread_id", "reason", "repositories", "findings", "not_checked", "usage"}
    assert set(document) == keys
    # Tests run the registry checks offline on an empty cache: said, never taken as clean.
    assert document["not_checked"]["registry"] == document["not_checked"]["vulnerabilities"] > 0
    assert "Not checked against the registries" in digest.summary
    assert {f["kind"] for f in document["findings"]} == {"secret", "dependency", "tests"}
    assert all(
        set(f) == {"repo", "kind", "severity", "file", "line", "rule", "message", "evidence"}
        for f in document["findings"]
    )
    severities = ["critical", "high", "medium", "low", "info"]
    order = [severities.index(f["severity"]) for f in document["findings"]]
    assert order == sorted(order)
    assert document["usage"]["repositories"] == 5
    assert document["usage"]["files_skipped"] == 1  # analytics-worker's binary model file


def test_no_secret_value_reaches_a_trace(demo: tuple[Path, list[Planted]]) -> None:
    folder, _ = demo
    job = job_for(folder)
    collector = RunCollectorCallbackHandler()
    graph = compile_team(audit_team(len(job.roots)))
    state = graph.invoke(
        {"task": audit_task(job.roots)},
        {"configurable": {"thread_id": "trace-1"}, "callbacks": [collector]},
        context=TeamContext(model="offline", deps=AuditScope.of(job.names, job.policy)),
    )
    assert state["status"] == "completed"
    trace = "".join(run.model_dump_json() for run in collector.traced_runs)
    assert "audit_repository" in trace and "browse_repository" in trace
    assert "[REDACTED]" in trace
    for value in secret_values(folder):
        assert value not in trace


def test_the_validator_sends_back_findings_that_point_at_nothing(tmp_path: Path) -> None:
    root = (tmp_path / "svc").resolve()
    root.mkdir()
    (root / "app.py").write_text("def run():\n    return 1\n")
    (root / "requirements.txt").write_text("flask\n")

    def auditor(call: WorkerCall) -> AIMessage | RepoAudit:
        if call.feedback is None:  # first attempt: the model's own RepoAudit, with a ghost
            data = audit_repo(root, "svc", AuditPolicy(), b"k").model_dump(mode="json")
            ghost = dict(data["findings"][0], file="ghost.py", line=3)
            data["findings"].append(ghost)
            return RepoAudit.model_validate(data)
        # sent back: the tool's RepoAudit is the output (output_from_tools), in one call
        return AIMessage(content="", tool_calls=[tool_call("audit_repository", {"repo": "svc"})])

    model = ScriptedChatModel(respond=team_script(workers={"auditor": auditor}))
    job = AuditJob(roots=[root], names={root: "svc"}, policy=AuditPolicy(), policy_given=False)
    with open_checkpointer(":memory:") as saver:
        result = run_audit(job, saver=saver, thread_id="check-1", model=model)
    verdicts = [v for v in result.values["verdicts"] if v["subtask_id"] == "s1"]
    assert [v["accepted"] for v in verdicts] == [False, True]
    assert "ghost.py (no such file)" in verdicts[0]["feedback"]
    assert len(model.calls_for("auditor")) == 2  # one per attempt
    assert result.status == "completed"
    digest = run_digest(result.values)
    assert digest is not None
    assert all(f.file != "ghost.py" for f in digest.findings)


def test_with_a_real_model_client_the_same_audit_runs_over_the_wire(
    demo: tuple[Path, list[Planted]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, planted = demo
    with openai_server() as server:
        host, port = server.server_address[:2]
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://{host}:{port}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(":memory:") as saver:
            result = run_audit(
                job_for(folder), saver=saver, thread_id="wire-1", model="openai:gpt-test"
            )
    assert result.status == "completed", result.reason
    digest = run_digest(result.values)
    assert digest is not None
    assert len(digest.findings) >= len(planted)
    tools = [r["tools"] for r in server.requests if "tools" in r]
    first = {t["function"]["name"]: t["function"]["parameters"] for t in tools[0]}
    assert set(first) == {"audit_repository", "browse_repository", "RepoAudit"}
    assert set(first["audit_repository"]["properties"]) == {"repo"}  # config is injected


def test_over_the_wire_the_tools_repoaudit_is_the_output_and_no_model_repeats_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = (tmp_path / "svc").resolve()
    root.mkdir()
    (root / "app.py").write_text("import os\nTOKEN = os.environ.get('TOKEN')\n")
    (root / "requirements.txt").write_text("flask\nrequests>=2\n")
    job = AuditJob(roots=[root], names={root: "svc"}, policy=AuditPolicy(), policy_given=False)
    with openai_server() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        with open_checkpointer(":memory:") as saver:
            result = run_audit(job, saver=saver, thread_id="wire-one", model="openai:gpt-test")
    assert result.status == "completed", result.reason
    scope = AuditScope.model_validate(result.values["deps"])
    expected = audit_repo(root, "svc", scope.policy, scope.key).model_dump(mode="json")
    (subtask,) = result.values["results"].values()
    assert subtask["status"] == "accepted"
    assert subtask["output"] == expected  # exactly the tool's RepoAudit
    assert subtask["steps"] == 1 and "audit_repository" in subtask["tool_calls"]
    assert any("output_from_tools" in n for n in result.values["notes"])

    auditor = [r for r in server.requests if "RepoAudit" in json.dumps(r.get("tools", []))]
    assert len(auditor) == 1  # the call that asked for audit_repository; none after it
    # No request carries a tool's result back to a model, so none repeats the RepoAudit.
    roles = [m["role"] for r in server.requests for m in r["messages"]]
    assert "tool" not in roles
    assert len(server.requests) == result.values["model_calls"]
