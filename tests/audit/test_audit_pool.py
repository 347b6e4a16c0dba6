"""Repositories analysed in worker processes: the same result, stoppable, usable from scripts."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from audit_helpers import write_repo

from orchestra import RunStopped, StopSignal
from orchestra_audit.analyse import audit_repo
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.pool import ENV, audit_in_pool, processes, stop_pool
from orchestra_audit.samples import fake

KEY = b"pool-test-key"


@pytest.fixture(name="repo")
def a_repo(tmp_path: Path) -> Path:
    token = "ghp_" + fake("pool", 36)
    return write_repo(
        tmp_path / "repo",
        {
            "app/config.py": f'GITHUB = "{token}"\npassword = "{fake("pw", 18)}"\n',
            "app/core.py": "def run():\n    return 1\n",
            "requirements.txt": "flask\nrequests==2.19.0\n",
        },
    )


def test_a_worker_process_gives_the_same_audit_as_the_calling_thread(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "2")
    monkeypatch.setattr("orchestra_audit.pool.WORTH_BYTES", 1)  # small, but to the workers
    pooled = audit_in_pool(repo, "repo", AuditPolicy(), KEY)
    here = audit_repo(repo, "repo", AuditPolicy(), KEY)
    assert pooled.model_dump() == here.model_dump()
    assert {f.kind for f in pooled.findings} >= {"secret", "dependency"}


@pytest.mark.parametrize("setting", ["1", "2"])
def test_a_pool_of_one_or_a_small_repository_is_analysed_in_the_calling_thread(
    repo: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    stop_pool()
    monkeypatch.setenv(ENV, setting)
    seen: list[str] = []
    monkeypatch.setattr(
        "orchestra_audit.pool.audit_repo",
        lambda *args, **kwargs: seen.append(threading.current_thread().name) or audit_repo(*args),
    )
    audit_in_pool(repo, "repo", AuditPolicy(), KEY)
    assert seen == [threading.current_thread().name]


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_process_count_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV, value)
    with pytest.raises(ValueError, match=f"{ENV} must be a whole number"):
        processes()


def test_by_default_the_pool_has_one_process_per_usable_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert processes() == len(__import__("os").sched_getaffinity(0))


def test_a_stop_while_waiting_ends_the_wait_and_later_audits_still_work(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "2")
    # Many files: the analysis takes long enough for the stop to arrive during it.
    big = {f"pkg/m{i}.py": f'TOKEN_{i} = "{fake(str(i), 40)}"\n' * 200 for i in range(400)}
    slow = write_repo(tmp_path / "slow", big)  # over a megabyte: for the workers
    stop = StopSignal()
    threading.Timer(0.5, stop.request).start()
    started = time.monotonic()
    with pytest.raises(RunStopped):
        audit_in_pool(slow, "slow", AuditPolicy(), KEY, stop=stop)
    assert time.monotonic() - started < 5
    again = audit_in_pool(repo, "repo", AuditPolicy(), KEY)  # a new pool
    assert again.findings


def test_a_script_without_a_main_guard_can_audit_in_processes(repo: Path, tmp_path: Path) -> None:
    (repo / "data.txt").write_text("x" * 1_100_000)  # big enough for the workers
    script = tmp_path / "run_audit.py"
    script.write_text(
        "from orchestra_audit.pool import audit_in_pool\n"
        "from orchestra_audit.policy import AuditPolicy\n"
        f"audit = audit_in_pool({str(repo)!r}, 'repo', AuditPolicy(), b'k')\n"
        "print(len(audit.findings), 'findings')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, ENV: "2"},
    )
    assert done.returncode == 0, done.stderr
    assert "findings" in done.stdout
    assert done.stdout.count("findings") == 1  # the script ran once, not again in a worker


def teardown_module() -> None:
    stop_pool()
