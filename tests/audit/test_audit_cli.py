"""``orchestra audit`` and ``orchestra samples`` as a user runs them: in a subprocess, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import orchestra, secret_values, state_dir, write_repo  # noqa: F401

# A model whose provider is down for one repository, and a log of every analyser run: the
# checkpoint must spare the repositories that finished before the run stopped.
FLAKY_AUDIT = """
import os
from orchestra.nodes import OfflineChatModel, ScriptedChatModel, TransientModelError
from orchestra_audit import tools
from orchestra.nodes.scripted import role_of, worker_call

_audit_repo = tools.audit_in_pool

def _logged(root, name, policy, key, **kwargs):
    with open(os.environ["AUDIT_LOG"], "a") as log:
        log.write(name + "\\n")
    return _audit_repo(root, name, policy, key, **kwargs)

tools.audit_in_pool = _logged
_offline = OfflineChatModel()

def _respond(messages, bound):
    failing = os.environ.get("FAIL_REPO")
    if failing and role_of(bound) == "specialist":
        if worker_call(messages, bound).instruction.endswith(failing):
            raise TransientModelError("the provider is down")
    return _offline.reply(messages, bound, None)

model = ScriptedChatModel(respond=_respond)
"""

# The third analyser run interrupts its own process (Ctrl-C or kill) while it works; for a
# kill it first waits until the two finished repositories are in the checkpoint.
SIGNALLING_AUDIT = """
import os, signal, sqlite3, time
from orchestra.nodes import OfflineChatModel
from orchestra_audit import tools

_audit_repo = tools.audit_in_pool
_runs = []

def _saved():
    db = sqlite3.connect(os.path.join(".orchestra", "checkpoints.sqlite"))
    try:
        query = "select count(distinct task_id) from writes where channel = 'results'"
        return db.execute(query).fetchone()[0]
    finally:
        db.close()

def _wait(condition):
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)

def _logged(root, name, policy, key, stop):
    with open(os.environ["AUDIT_LOG"], "a") as log:
        log.write(name + "\\n")
    _runs.append(name)
    how = os.environ.get("HOW")
    if how and len(_runs) == 3:
        if how == "SIGKILL":
            _wait(lambda: _saved() >= 2)
        os.kill(os.getpid(), getattr(signal, how))
        _wait(lambda: stop.requested)
    return _audit_repo(root, name, policy, key, stop=stop)

tools.audit_in_pool = _logged
model = OfflineChatModel()
"""


def test_the_main_job_audits_the_sample_set_and_leaks_no_secret(tmp_path: Path) -> None:
    made = orchestra("samples", "demo", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "audit them: orchestra audit demo --policy demo/policy.toml" in made.stdout

    run = orchestra(
        "audit", "demo", "--policy", "demo/policy.toml", "--report", "report.md", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    for expected in ("Private Key in code", "conflict", "already fixed", "completed", "report:"):
        assert expected in run.stdout
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Audit report")
    assert "## Cross-repository conflicts" in report

    as_json = orchestra(
        "audit", "demo", "--policy", "demo/policy.toml", "--json", "--db", "j.sqlite", cwd=tmp_path
    )
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["status"] == "completed"
    assert document["thread_id"].startswith("audit-")
    assert {f["kind"] for f in document["findings"]} == {"secret", "dependency", "tests"}

    databases = [tmp_path / ".orchestra" / "checkpoints.sqlite", tmp_path / "j.sqlite"]
    assert all(db.is_file() for db in databases)
    # the databases with their write-ahead logs, byte for byte
    checkpoints = b"".join(p.read_bytes() for p in tmp_path.rglob("*.sqlite*") if p.is_file())
    assert b"[REDACTED]" in checkpoints  # the findings are there, their secrets are not
    for value in secret_values(tmp_path / "demo"):
        for text in (run.stdout, report, as_json.stdout):
            assert value not in text
        assert value.encode() not in checkpoints


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "missing"], "no such directory: missing"),
        (["audit", "repo/app.py"], "repo/app.py is a file, not a repository"),
        (["audit", "empty"], "empty is empty: there is nothing to audit"),
        (["audit", "repo", "--policy", "bad.toml"], "policy file 'bad.toml' is invalid"),
        (["audit", "repo", "--policy", "nope.toml"], "cannot read the policy file"),
        (["audit", "repo", "--max-concurrency", "0"], "--max-concurrency must be at least 1"),
        (["samples", "repo"], "repo is not empty (use --force to write into it)"),
    ],
)
def test_bad_paths_and_files_are_one_clear_line_and_exit_code_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    write_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.toml").write_text('[minimum.pypi]\nrequests = "soon"\n')
    result = orchestra(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def _three_repos(tmp_path: Path) -> None:
    for name in ("repo-a", "repo-b", "repo-c"):
        write_repo(tmp_path / "repos" / name, {"requirements.txt": "flask\n", "app.py": "x = 1\n"})
    (tmp_path / "flaky_audit.py").write_text(FLAKY_AUDIT)
    (tmp_path / "signalling_audit.py").write_text(SIGNALLING_AUDIT)


def _runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize(("how", "code"), [("SIGINT", 130), ("SIGKILL", -9)])
def test_an_interrupted_audit_continues_without_reauditing_finished_repositories(
    tmp_path: Path, how: str, code: int
) -> None:
    _three_repos(tmp_path)
    log = tmp_path / "audits.log"
    env = {"PYTHONPATH": str(tmp_path), "AUDIT_LOG": str(log)}
    command = ["audit", "repos", "--thread", "k1", "--model", "import:signalling_audit:model"]
    command += ["--max-concurrency", "1"]  # one repository analysed at a time

    first = orchestra(*command, cwd=tmp_path, env=env | {"HOW": how})
    assert first.returncode == code, first.stderr
    if how == "SIGINT":
        assert "interrupted; finished work is checkpointed" in first.stderr
    finished, interrupted = _runs(log)[:2], _runs(log)[2]
    assert sorted([*finished, interrupted]) == ["repo-a", "repo-b", "repo-c"]

    again = orchestra(*command, "--json", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["status"] == "completed"
    assert {f["repo"] for f in document["findings"]} == {"repo-a, repo-b, repo-c"}
    assert _runs(log)[3:] == [interrupted]  # only the interrupted repository ran again

    done = orchestra(*command, "--json", cwd=tmp_path, env=env)  # finished: shown as it is
    assert json.loads(done.stdout)["findings"] == document["findings"]
    assert len(_runs(log)) == 4


def test_orchestra_resume_continues_an_audit_stopped_by_a_provider_outage(
    tmp_path: Path,
) -> None:
    _three_repos(tmp_path)
    log = tmp_path / "audits.log"
    env = {"PYTHONPATH": str(tmp_path), "AUDIT_LOG": str(log)}
    command = ["audit", "repos", "--thread", "r1", "--model", "import:flaky_audit:model"]
    first = orchestra(*command, cwd=tmp_path, env=env | {"FAIL_REPO": "repo-c"})
    assert first.returncode == 1
    assert "TransientModelError: the provider is down" in first.stdout
    assert "continue with: orchestra audit repos --thread r1" in first.stdout
    assert sorted(_runs(log)) == ["repo-a", "repo-b"]

    # An import: model is code: a resume takes it from the command line, not the database.
    resumed = orchestra(
        "resume", "r1", "--model", "import:flaky_audit:model", "--json", cwd=tmp_path, env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["status"] == "completed"
    assert sorted(_runs(log)) == ["repo-a", "repo-b", "repo-c"]

    # resume and show print the audit's report, as `orchestra audit --thread` does.
    again = orchestra("audit", "repos", "--thread", "r1", "--json", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert report == json.loads(again.stdout) and report["findings"]
    shown = orchestra("show", "r1", "--json", cwd=tmp_path, env=env)
    assert json.loads(shown.stdout) == report
    text = orchestra("show", "r1", cwd=tmp_path, env=env)
    audited = orchestra("audit", "repos", "--thread", "r1", cwd=tmp_path, env=env)
    assert text.returncode == audited.returncode == 0
    assert text.stdout == audited.stdout and "repo-c" in text.stdout

    other = orchestra("audit", "repos/repo-a", "--thread", "r1", cwd=tmp_path, env=env)
    assert other.returncode == 2
    assert "thread 'r1' audits other repositories" in other.stderr
