"""The audit reads only inside its repositories, and skips or reports what it cannot read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)

from orchestra import RunContext, StopSignal
from orchestra_audit import files as files_module
from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import MAX_BYTES, Confined, walk
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.scope import AuditScope
from orchestra_audit.tools import audit_repository, browse_repository

KEY = b"test-key"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    outside = write_repo(tmp_path / "outside", {"secret.txt": "outside the repository\n"})
    root = write_repo(
        tmp_path / "repo",
        {
            "app.py": "def main():\n    return 1\n",
            "notes/readme.md": "# notes\n",
            "blob.bin": b"\x00\x01\x02binary",
            "big.txt": "x" * (MAX_BYTES + 1),
        },
    )
    os.symlink(outside / "secret.txt", root / "escape.txt")
    os.symlink(outside, root / "escape_dir")
    os.symlink(root / "app.py", root / "alias.py")
    return root


def run_of(roots: dict[Path, str] | None) -> RunContext[AuditScope | None]:
    """What orchestra injects into the tools of an audit of ``roots`` (``None``: no audit)."""
    scope = AuditScope.of(roots, AuditPolicy()) if roots is not None else None
    return RunContext(scope, stop=StopSignal(), thread_id="t1")


def test_paths_leaving_the_root_are_refused(repo: Path, tmp_path: Path) -> None:
    confined = Confined(repo)
    for path in ("../outside/secret.txt", str(tmp_path / "outside" / "secret.txt"), "escape.txt"):
        with pytest.raises(PermissionError, match="outside the repository"):
            confined.resolve(path)
    assert confined.resolve("notes/../app.py") == repo / "app.py"
    assert confined.resolve(str(repo / "app.py")) == repo / "app.py"  # absolute, but inside


def test_the_walk_skips_binary_and_large_files_and_refuses_symlinks_out(repo: Path) -> None:
    found = walk(Confined(repo))
    assert [f.path for f in found.files] == ["app.py", "notes/readme.md"]
    assert found.skipped == 2  # blob.bin (binary) and big.txt (over MAX_BYTES)
    assert found.symlinks_refused == 2  # escape.txt and escape_dir; alias.py points inside
    assert found.unreadable == []


def test_an_unreadable_file_is_reported_not_fatal(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith("readme.md"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    # Works whatever user runs the tests (root ignores file modes).
    monkeypatch.setattr(files_module, "open", guarded, raising=False)
    audit = audit_repo(repo, "repo", AuditPolicy(), KEY)
    assert audit.stats.unreadable == ["notes/readme.md: Permission denied"]
    assert audit.stats.files_scanned == 1
    assert "1 unreadable file(s)" in audit.summary


def test_browse_refuses_parent_paths_absolute_paths_and_symlinks_out(
    repo: Path, tmp_path: Path
) -> None:
    run = run_of({repo: "repo"})
    outside = str(tmp_path / "outside" / "secret.txt")
    for path in ("../outside/secret.txt", outside, "escape.txt", "escape_dir/secret.txt"):
        with pytest.raises(PermissionError, match="outside the repository"):
            browse_repository.invoke({"repo": str(repo), "path": path, "run": run})
    listing = browse_repository.invoke({"repo": str(repo), "run": run})
    assert "escape.txt -> (points outside the repository: refused)" in listing
    assert "app.py (" in listing
    text = browse_repository.invoke({"repo": "repo", "path": "app.py", "run": run})
    assert "    1 | def main():" in text


def test_a_symlink_loop_or_a_name_not_utf8_is_reported_and_the_rest_audited(
    tmp_path: Path,
) -> None:
    root = write_repo(tmp_path / "odd", {"app.py": 'TOKEN = "ghp_' + "a1B2" * 9 + '"\n'})
    os.symlink(root / "loop1", root / "loop2")
    os.symlink(root / "loop2", root / "loop1")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "w") as handle:
        handle.write("y = 2\n")
    audit = audit_repo(root, "odd", AuditPolicy(), KEY)
    assert [f.rule for f in audit.findings if f.kind == "secret"] == ["secret.github-token"]
    assert sorted(audit.stats.unreadable) == [
        "caf\\xe9.py: the name is not UTF-8",
        "loop1: RuntimeError: a symlink that loops",
        "loop2: RuntimeError: a symlink that loops",
    ]
    audit.model_dump_json().encode("utf-8")  # writable anywhere: no lone surrogates


def test_browse_does_not_read_what_the_audit_leaves_out(repo: Path) -> None:
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[remote]\nurl = https://u:hunter2@h.example/r\n")
    (repo / "node_modules" / "pkg").mkdir(parents=True)
    (repo / "node_modules" / "pkg" / "index.js").write_text("module.exports = 1\n")
    run = run_of({repo: "repo"})
    for path in (".git/config", ".git", "node_modules/pkg/index.js", "./.git/../.git/config"):
        text = browse_repository.invoke({"repo": str(repo), "path": path, "run": run})
        assert "not audited" in text and "hunter2" not in text, path
    listing = browse_repository.invoke({"repo": str(repo), "run": run})
    assert ".git/ (not audited)" in listing


def test_the_tools_refuse_repositories_outside_the_audit(repo: Path, tmp_path: Path) -> None:
    run = run_of({repo: "repo"})
    for other in (str(tmp_path / "outside"), str(tmp_path), "/"):
        with pytest.raises(PermissionError, match="not one of the repositories of this audit"):
            audit_repository.invoke({"repo": other, "run": run})
    with pytest.raises(PermissionError, match="no audit scope"):
        audit_repository.invoke({"repo": str(repo), "run": run_of(None)})


def test_a_path_cut_at_a_space_still_names_its_repository(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "my repos" / "shop", {"app.py": "x = 1\n"}).resolve()
    run = run_of({root: "shop"})
    cut = str(root).split(" ")[0]  # what a literal model takes as "the path"
    audit = audit_repository.invoke({"repo": cut, "run": run})
    assert '"repo":"shop"' in audit
