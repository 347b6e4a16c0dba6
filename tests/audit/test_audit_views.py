"""What PATHs mean, how repositories are named and tracked, and how the report reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)
from rich.console import Console

from orchestra.graphs.runner import RunResult
from orchestra_audit.digest import digest_audits
from orchestra_audit.findings import Finding, RepoAudit, RepoStats
from orchestra_audit.layout import is_source_path, is_test_path
from orchestra_audit.progress import AuditProgress
from orchestra_audit.report import markdown, repo_states
from orchestra_audit.samples_bulk import generate_bulk
from orchestra_audit.team import AuditPathError, audit_task, discover, repo_names, roots_of_task


def test_a_path_is_a_repository_or_a_folder_of_repositories(tmp_path: Path) -> None:
    write_repo(tmp_path / "org" / "api", {"pyproject.toml": "[project]\nname='api'\n"})
    write_repo(tmp_path / "org" / "web", {"package.json": "{}\n"})
    write_repo(tmp_path / "org" / "docs", {"index.md": "# docs\n"})  # no marker: not a repo
    write_repo(tmp_path / "org" / ".cache", {"requirements.txt": "x\n"})  # hidden: ignored
    write_repo(tmp_path / "single", {"main.py": "x = 1\n", "src/lib.py": "y = 2\n"})
    write_repo(tmp_path / "plain", {"src/app/README": "no markers anywhere\n"})
    found = discover([str(tmp_path / "org"), str(tmp_path / "single"), str(tmp_path / "plain")])
    assert found == [
        (tmp_path / "org" / "api").resolve(),
        (tmp_path / "org" / "web").resolve(),
        (tmp_path / "single").resolve(),
        (tmp_path / "plain").resolve(),
    ]
    assert discover([str(tmp_path / "single"), str(tmp_path / "single" / ".")]) == [
        (tmp_path / "single").resolve()
    ]
    with pytest.raises(AuditPathError, match="is a file"):
        discover([str(tmp_path / "single" / "main.py")])


def test_other_ecosystems_mark_a_repository_and_symlinks_out_are_not_followed(
    tmp_path: Path,
) -> None:
    write_repo(tmp_path / "org" / "svc", {"go.mod": "module svc\n", "main.go": "package main\n"})
    write_repo(tmp_path / "org" / "tool", {"Cargo.toml": "[package]\nname='tool'\n"})
    write_repo(tmp_path / "elsewhere" / "big", {"pyproject.toml": "[project]\nname='big'\n"})
    (tmp_path / "org" / "linked").symlink_to(tmp_path / "elsewhere" / "big")
    found = discover([str(tmp_path / "org")])
    assert found == [(tmp_path / "org" / "svc").resolve(), (tmp_path / "org" / "tool").resolve()]


def test_repository_names_are_folder_names_unless_two_clash(tmp_path: Path) -> None:
    roots = [tmp_path / "a" / "app", tmp_path / "b" / "app", tmp_path / "c" / "web"]
    assert list(repo_names(roots).values()) == ["a/app", "b/app", "web"]
    task = audit_task(roots)
    assert task.splitlines()[0] == f"Audit the repository at {roots[0]}"
    assert roots_of_task(task) == [str(r) for r in roots]


def plan_record(sid: str, root: str) -> dict[str, Any]:
    return {
        "id": sid,
        "specialist": "auditor",
        "instruction": f"Audit the repository at {root}",
        "depends_on": [],
        "round": 1,
    }


def test_each_repository_is_tracked_by_the_root_its_subtask_names() -> None:
    names = {"/x/app": "app", "/x/app2": "app2", "/x/web": "web"}
    values = {
        "plan": [plan_record("s1", "/x/app2"), plan_record("s2", "/x/app")],
        "results": {"s1": {"status": "accepted", "output": None}},
    }
    states = {s.name: (s.subtask, s.status) for s in repo_states(values, names)}
    assert states == {
        "app": ("s2", "auditing"),
        "app2": ("s1", "accepted"),
        "web": (None, "pending"),
    }


def test_progress_shows_a_bar_and_each_repository_status() -> None:
    console = Console(record=True, width=100, force_terminal=False)
    names = {"/x/app": "app", "/x/web": "web"}
    view = AuditProgress(names, console)
    view.on_update(
        "orchestrator", {"plan": [plan_record("s1", "/x/app"), plan_record("s2", "/x/web")]}
    )
    output = {"findings": [{"x": 1}, {"x": 2}]}
    view.on_update("auditor", {"results": {"s1": {"status": "accepted", "output": output}}})
    view.on_update("dispatch", None)
    console.print(view.view())
    text = console.export_text()
    assert "1/2 repositories" in text
    assert "app" in text and "done" in text and "2 finding(s)" in text
    assert "web" in text and "auditing" in text


def test_the_markdown_report_escapes_cells_and_lists_everything() -> None:
    stats = RepoStats(
        files_scanned=3,
        files_skipped=1,
        symlinks_refused=0,
        unreadable=["a.txt: Permission denied"],
        source_files=1,
        test_files=0,
        source_lines=5,
        test_lines=0,
    )
    finding = Finding(
        repo="app",
        kind="secret",
        severity="high",
        file="conf.py",
        line=2,
        message="Secret Keyword in code: remove it.",
        evidence='TOKEN = "[REDACTED]" | tail',
        rule="secret.secret-keyword",
        subject="secret:1",
    )
    audit = RepoAudit(
        repo="app", root="/x/app", summary="s", findings=[finding], dependencies=[], stats=stats
    )
    digest = digest_audits({"s1": audit})
    result = RunResult("t-1", {"status": "completed", "reason": "all 1 subtasks accepted"}, ())
    states = repo_states({"plan": [plan_record("s1", "/x/app")]}, {"/x/app": "app"})
    report = markdown(result, digest, states)
    assert "| 1 | high | secret | app | conf.py:2 |" in report
    assert 'TOKEN = "[REDACTED]" \\| tail' in report
    assert "- app: a.txt: Permission denied" in report


@pytest.mark.parametrize(
    ("path", "test", "source"),
    [
        ("pkg/mod.py", False, True),
        ("tests/helpers.py", True, False),
        ("pkg/test_mod.py", True, False),
        ("pkg/mod_test.py", True, False),
        ("src/cart.test.js", True, False),
        ("src/__tests__/cart.js", True, False),
        ("src/cart.ts", False, True),
        ("pkg/__init__.py", False, False),
        ("docs/conf.py", False, False),
        ("jest.config.js", False, False),
        ("types/index.d.ts", False, False),
        ("README.md", False, False),
    ],
)
def test_paths_are_classified_by_convention(path: str, test: bool, source: bool) -> None:
    assert (is_test_path(path), is_source_path(path)) == (test, source)


def test_bulk_sets_have_the_size_asked_for(tmp_path: Path) -> None:
    written = generate_bulk(tmp_path, repos=2, files=30)
    repos = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert repos == ["repo-001", "repo-002"]
    assert written == sum(1 for p in tmp_path.rglob("*") if p.is_file() and "repo-" in str(p))
    assert 50 <= written <= 60
