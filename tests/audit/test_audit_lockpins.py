"""Lockfile pins count as constraints: which lock covers which manifest, and what is reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)

from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import MAX_BYTES
from orchestra_audit.findings import Finding, RepoAudit
from orchestra_audit.policy import AuditPolicy

KEY = b"test-key"
FIXTURES = Path(__file__).parent / "lockfiles"
POETRY_LOCK = (FIXTURES / "poetry/poetry.lock").read_text(encoding="utf-8")
PYPROJECT = (
    "[project]\n"
    'name = "svc"\n'
    'dependencies = ["packaging>=24"]\n'
    "[project.optional-dependencies]\n"
    'http = ["requests"]\n'
)


def fixture_repo(tmp_path: Path, *folders: str, extra: dict[str, str] | None = None) -> Path:
    """A repository made of fixture folders (each copied to the same place) and ``extra``."""
    root = tmp_path / "repo"
    for folder in folders:
        shutil.copytree(FIXTURES / folder, root / folder, dirs_exist_ok=True)
    return write_repo(root, extra or {})


def dependency_findings(audit: RepoAudit) -> dict[tuple[str, str], Finding]:
    return {
        (f.file, f.subject.split(":", 1)[-1]): f for f in audit.findings if f.kind == "dependency"
    }


def locked(audit: RepoAudit) -> dict[tuple[str, str], str]:
    return {(d.file, d.name): d.locked for d in audit.dependencies}


def test_an_unpinned_declaration_pinned_by_poetry_lock_is_info_with_the_reason(
    tmp_path: Path,
) -> None:
    root = write_repo(
        tmp_path / "svc",
        {"pyproject.toml": PYPROJECT, "poetry.lock": POETRY_LOCK, "requirements.txt": "anyio>=4\n"},
    )
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    found = dependency_findings(audit)
    requests = found[("pyproject.toml", "requests")]
    assert (requests.severity, requests.rule) == ("info", "dependency.unpinned")
    assert "pinned by poetry.lock to 2.33.1:" in requests.message  # beside it: no path
    anyio = found[("requirements.txt", "anyio")]  # unbounded, low without a lock
    assert (anyio.severity, anyio.rule) == ("info", "dependency.unbounded")
    assert "pinned by poetry.lock to 4.13.0" in anyio.message
    assert locked(audit) == {
        ("pyproject.toml", "packaging"): "26.2",
        ("pyproject.toml", "requests"): "2.33.1",
        ("requirements.txt", "anyio"): "4.13.0",
    }
    assert {d.name: d.pinned for d in audit.dependencies}["requests"] == ""  # spec pins nothing


def test_without_a_lockfile_the_same_declarations_are_medium_and_low(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path / "svc", {"pyproject.toml": PYPROJECT, "requirements.txt": "anyio>=4\n"}
    )
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    found = dependency_findings(audit)
    assert found[("pyproject.toml", "requests")].severity == "medium"
    assert found[("requirements.txt", "anyio")].severity == "low"
    assert set(locked(audit).values()) == {""}


def test_a_locked_version_below_the_policy_minimum_is_high(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "svc", {"pyproject.toml": PYPROJECT, "poetry.lock": POETRY_LOCK})
    policy = AuditPolicy.model_validate({"minimum": {"pypi": {"requests": "2.34.0"}}})
    findings = audit_repo(root, "svc", policy, KEY).findings
    below = [f for f in findings if f.rule == "dependency.below-minimum"]
    assert [(f.severity, f.subject) for f in below] == [("high", "pypi:requests")]
    assert "pinned by poetry.lock to 2.33.1" in below[0].message


def test_a_lock_below_the_spec_is_out_of_date_and_pins_nothing(tmp_path: Path) -> None:
    """Poetry's own fixture: ``docker>=4.3.1`` in pyproject, 4.3.0 in its poetry.lock."""
    root = fixture_repo(tmp_path, "poetry-outdated")
    audit = audit_repo(root, "old", AuditPolicy(), KEY)
    rules = {f.rule: f for f in audit.findings if f.subject == "pypi:docker"}
    assert set(rules) == {"dependency.unbounded", "dependency.stale-lock"}
    assert "pinned by" not in rules["dependency.unbounded"].message  # not counted as a pin
    stale = rules["dependency.stale-lock"]
    assert (stale.severity, stale.file, stale.line) == ("low", "poetry-outdated/pyproject.toml", 6)
    assert "poetry-outdated/poetry.lock pins docker to 4.3.0" in stale.message
    assert locked(audit) == {("poetry-outdated/pyproject.toml", "docker"): "4.3.0"}
    # An exact pin the lock disagrees with is out of date too; one it agrees with is not.
    pins = "certifi==2020.6.20\nchardet==4.0.0\n"
    write_repo(root, {"poetry-outdated/requirements.txt": pins})
    audit = audit_repo(root, "old", AuditPolicy(), KEY)
    stale = {f.subject for f in audit.findings if f.rule == "dependency.stale-lock"}
    assert stale == {"pypi:docker", "pypi:chardet"}


def test_npm_lockfiles_pin_a_star_dependency_in_each_format(tmp_path: Path) -> None:
    root = fixture_repo(tmp_path, "npm-v1", "npm-v3", "yarn-v1")
    audit = audit_repo(root, "web", AuditPolicy(), KEY)
    found = dependency_findings(audit)
    for folder, lockfile in [
        ("npm-v1", "package-lock.json"),
        ("npm-v3", "package-lock.json"),
        ("yarn-v1", "yarn.lock"),
    ]:
        star = found[(f"{folder}/package.json", "@pnpm.e2e/pkg-with-1-dep")]
        assert star.severity == "info", folder
        assert f"pinned by {lockfile} to 100.0.0 ({folder}/{lockfile})" in star.message
    assert locked(audit)[("npm-v1/package.json", "@pnpm.e2e/dep-of-pkg-with-1-dep")] == "101.0.0"
    assert locked(audit)[("yarn-v1/package.json", "@pnpm.e2e/dep-of-pkg-with-1-dep")] == "100.0.0"


def test_a_workspace_root_lock_pins_its_members(tmp_path: Path) -> None:
    root = fixture_repo(
        tmp_path, "npm-workspace", "yarn-workspace", "pnpm-workspace", "uv-workspace"
    )
    pins = locked(audit_repo(root, "mono", AuditPolicy(), KEY))
    assert pins[("npm-workspace/packages/foo/package.json", "is-positive")] == "1.0.0"
    assert pins[("npm-workspace/packages/bar/package.json", "is-negative")] == "1.0.1"
    assert pins[("yarn-workspace/packages/foo/package.json", "is-positive")] == "1.0.0"
    assert pins[("pnpm-workspace/app-a/package.json", "is-positive")] == "3.1.0"
    assert pins[("pnpm-workspace/shared-lib/package.json", "is-odd")] == "3.0.1"
    assert pins[("uv-workspace/packages/leaf/pyproject.toml", "library")] == "0.1.0"
    assert pins[("uv-workspace/pyproject.toml", "library")] == "0.1.0"


def test_a_root_lock_does_not_pin_a_folder_it_does_not_cover(tmp_path: Path) -> None:
    """A fixture project below a workspace is not one of its members."""
    root = fixture_repo(
        tmp_path,
        "uv-workspace",
        "yarn-workspace",
        extra={
            "uv-workspace/tests/fixtures/demo/pyproject.toml": (
                '[project]\nname = "demo"\ndependencies = ["library"]\n'
            ),
            # yarn classic records no members: only the exact range resolved ties it here.
            "yarn-workspace/test/fixture/package.json": (
                '{"dependencies": {"is-positive": "*", "is-negative": "^1.0.0"}}'
            ),
        },
    )
    audit = audit_repo(root, "mono", AuditPolicy(), KEY)
    pins = locked(audit)
    assert pins[("uv-workspace/tests/fixtures/demo/pyproject.toml", "library")] == ""
    assert pins[("yarn-workspace/test/fixture/package.json", "is-positive")] == ""
    assert pins[("yarn-workspace/test/fixture/package.json", "is-negative")] == "1.0.1"
    star = dependency_findings(audit)[("yarn-workspace/test/fixture/package.json", "is-positive")]
    assert star.severity == "medium"


def test_the_nearest_covering_lock_decides_even_without_the_package(tmp_path: Path) -> None:
    """A nested project with its own lock is not pinned by its parent's lock."""
    root = write_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": PYPROJECT,
            "poetry.lock": POETRY_LOCK,
            "tools/pyproject.toml": '[project]\nname = "t"\ndependencies = ["requests"]\n',
            "tools/poetry.lock": '[[package]]\nname = "idna"\nversion = "3.7"\n',
        },
    )
    pins = locked(audit_repo(root, "repo", AuditPolicy(), KEY))
    assert pins[("pyproject.toml", "requests")] == "2.33.1"
    assert pins[("tools/pyproject.toml", "requests")] == ""


def test_a_malformed_lockfile_is_reported_and_the_rest_is_still_audited(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path / "svc",
        {
            "pyproject.toml": PYPROJECT,
            "poetry.lock": (FIXTURES / "poetry/invalid.lock").read_text(),
            "web/package.json": '{"dependencies": {"lodash": "*"}}',
            "web/yarn.lock": "lodash@*:\n  version 4.17.21\nnot a header\n",
            "app/main.py": 'PASSWORD = "hunter2-but-longer-0xDEADBEEF"\n',
        },
    )
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    unreadable = {f.file: f for f in audit.findings if f.rule == "dependency.unreadable-manifest"}
    assert set(unreadable) == {"poetry.lock", "web/yarn.lock"}
    assert "not valid TOML" in unreadable["poetry.lock"].message
    found = dependency_findings(audit)
    assert found[("pyproject.toml", "requests")].severity == "medium"  # nothing pins it now
    assert found[("web/package.json", "lodash")].severity == "medium"
    assert any(f.kind == "secret" for f in audit.findings)


def test_a_lockfile_larger_than_the_walk_reads_is_still_read(tmp_path: Path) -> None:
    lock = json.loads((FIXTURES / "npm-v3/package-lock.json").read_text())
    filler = {"version": "1.0.0", "integrity": "sha512-" + "A" * 86 + "==", "dev": True}
    for n in range(MAX_BYTES // 100):  # ~150 bytes each: well over the walk's limit
        lock["packages"][f"node_modules/filler-{n}"] = filler
    root = fixture_repo(tmp_path, "npm-v3")
    (root / "npm-v3/package-lock.json").write_text(json.dumps(lock, indent=2))
    assert (root / "npm-v3/package-lock.json").stat().st_size > MAX_BYTES
    audit = audit_repo(root, "big", AuditPolicy(), KEY)
    assert audit.stats.files_skipped == 1  # the walk left it out: too large to scan
    assert locked(audit)[("npm-v3/package.json", "@pnpm.e2e/pkg-with-1-dep")] == "100.0.0"


def test_a_lockfile_symlinked_from_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    outside = write_repo(tmp_path / "outside", {"poetry.lock": POETRY_LOCK})
    root = write_repo(tmp_path / "svc", {"pyproject.toml": PYPROJECT})
    (root / "poetry.lock").symlink_to(outside / "poetry.lock")
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    assert set(locked(audit).values()) == {""}
    assert audit.stats.symlinks_refused == 1
