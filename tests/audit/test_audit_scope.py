"""The audit's scope lives with the run: a resume needs no file beside the checkpoint.

Each test stops an audit by a provider outage on one repository, then continues it from
somewhere a side file would not be: another working directory with another state folder
(as on another host), or after the same thread id was used for another audit in another
database.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_helpers import orchestra, state_dir, write_repo  # noqa: F401 (state_dir: autouse)
from test_audit_cli import FLAKY_AUDIT

from orchestra import open_checkpointer
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.team import AuditJob, discover, repo_names, run_audit, stored_scope


def _repos(folder: Path, *names: str) -> Path:
    for name in names:
        write_repo(folder / name, {"requirements.txt": "flask\n", "app.py": "x = 1\n"})
    return folder


def _runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "flaky_audit.py").write_text(FLAKY_AUDIT)
    log = tmp_path / "audits.log"
    return log, {"PYTHONPATH": str(tmp_path), "AUDIT_LOG": str(log)}


def test_a_resumed_audit_works_from_another_working_directory(tmp_path: Path) -> None:
    log, env = _setup(tmp_path)
    repos = _repos(tmp_path / "repos", "repo-a", "repo-b", "repo-c")
    db = str(tmp_path / "audit.sqlite")
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    command = ["audit", str(repos), "--thread", "w1", "--db", db]
    command += ["--model", "import:flaky_audit:model"]
    first = orchestra(*command, cwd=here, env=env | {"FAIL_REPO": "repo-c"})
    assert first.returncode == 1, first.stderr
    assert sorted(_runs(log)) == ["repo-a", "repo-b"]

    # Another folder, another state folder (the helper gives each cwd its own): as on
    # another host that has only the checkpoint database.
    # The import: model is code: a resume takes it from the command line, not the database.
    resumed = orchestra("resume", "w1", "--db", db, "--json", *command[-2:], cwd=there, env=env)
    assert resumed.returncode == 0, resumed.stderr
    document = json.loads(resumed.stdout)
    assert document["status"] == "completed"
    assert sorted(_runs(log)) == ["repo-a", "repo-b", "repo-c"]  # repo-c was read, not refused
    # The audit's own report (as `orchestra audit --json` prints it), every repository in it.
    repositories = document["repositories"]
    assert [r["name"] for r in repositories] == ["repo-a", "repo-b", "repo-c"]
    assert all(r["status"] == "accepted" for r in repositories)
    assert document["findings"]  # one problem of all three is folded into one finding
    assert not (here / ".state").exists() and not (there / ".state").exists()  # no side files


def test_a_resumed_audit_works_after_its_thread_id_was_reused_with_another_database(
    tmp_path: Path,
) -> None:
    log, env = _setup(tmp_path)
    first_set = _repos(tmp_path / "first", "alpha", "beta")
    other_set = _repos(tmp_path / "other", "gamma")
    db1, db2 = str(tmp_path / "one.sqlite"), str(tmp_path / "two.sqlite")
    model = ["--model", "import:flaky_audit:model"]

    stopped = orchestra(
        "audit", str(first_set), "--thread", "t1", "--db", db1, *model,
        cwd=tmp_path, env=env | {"FAIL_REPO": "beta"},
    )  # fmt: skip
    assert stopped.returncode == 1, stopped.stderr
    other = orchestra(
        "audit", str(other_set), "--thread", "t1", "--db", db2, "--json", *model,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert {f["repo"] for f in json.loads(other.stdout)["findings"]} == {"gamma"}

    resumed = orchestra("resume", "t1", "--db", db1, "--json", *model, cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    document = json.loads(resumed.stdout)
    assert document["status"] == "completed"
    repositories = document["repositories"]
    assert sorted(r["name"] for r in repositories) == ["alpha", "beta"]  # its own ones
    assert all(r["status"] == "accepted" for r in repositories)
    assert _runs(log) == ["alpha", "gamma", "beta"]


def test_a_continued_audit_keeps_its_scope_and_fingerprint_key(tmp_path: Path) -> None:
    roots = discover([str(_repos(tmp_path / "repos", "one", "two"))])
    job = AuditJob(roots=roots, names=repo_names(roots), policy=AuditPolicy(), policy_given=False)
    with open_checkpointer(tmp_path / "audit.sqlite") as saver:
        first = run_audit(job, saver=saver, thread_id="k1", model="offline")
        again = run_audit(job, saver=saver, thread_id="k1", model="offline")
    scope = stored_scope(first)
    assert scope is not None
    assert set(scope.roots.values()) == {"one", "two"}
    assert stored_scope(again) == scope  # the same key: fingerprints stay comparable
