"""The digest reconciles repositories; the validator's check rejects invented locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)

from orchestra_audit.checks import findings_exist
from orchestra_audit.digest import digest_audits
from orchestra_audit.findings import Dependency, Finding, RepoAudit, RepoStats
from orchestra_audit.merge import merge_across

STATS = RepoStats(
    files_scanned=1,
    files_skipped=0,
    symlinks_refused=0,
    unreadable=[],
    source_files=1,
    test_files=1,
    source_lines=1,
    test_lines=1,
)


def finding(repo: str, **fields: Any) -> Finding:
    base: dict[str, Any] = {
        "repo": repo,
        "kind": "dependency",
        "severity": "medium",
        "file": "requirements.txt",
        "line": 1,
        "message": "x has no version constraint: pin it.",
        "evidence": "x",
        "rule": "dependency.unpinned",
        "subject": "pypi:x",
    }
    return Finding.model_validate(base | fields)


def pin(name: str, version: str, minimum: str = "", line: int = 1) -> Dependency:
    return Dependency(
        ecosystem="pypi",
        name=name,
        spec=f"=={version}",
        pinned=version,
        locked="",
        minimum=minimum,
        file="requirements.txt",
        line=line,
    )


def audit(repo: str, findings: list[Finding], deps: list[Dependency] | None = None) -> RepoAudit:
    return RepoAudit(
        repo=repo,
        root=f"/repos/{repo}",
        summary=f"{repo}: audited",
        findings=findings,
        dependencies=deps or [],
        stats=STATS,
    )


def test_a_cross_repo_version_conflict_is_reported_once_as_a_conflict_and_explained() -> None:
    below = finding(
        "alpha",
        severity="high",
        rule="dependency.below-minimum",
        subject="pypi:requests",
        line=3,
        message="requests is pinned to 2.19.0, below the policy's minimum 2.31.0: upgrade.",
    )
    digest = digest_audits(
        {
            "s1": audit("alpha", [below], [pin("requests", "2.19.0", "2.31.0", line=3)]),
            "s2": audit("beta", [], [pin("requests", "2.32.3", "2.31.0")]),
            "s3": audit("gamma", [], [pin("requests", "2.32.3", "2.31.0"), pin("idna", "3.7")]),
        }
    )
    conflicts = [f for f in digest.findings if f.rule == "dependency.version-conflict"]
    assert len(conflicts) == 1
    (conflict,) = conflicts
    assert conflict.repo == "alpha, beta, gamma"
    assert conflict.severity == "high"
    assert conflict.message.startswith(
        "requests is below the policy's minimum at 2.19.0 in alpha (requirements.txt:3), "
        "but already fixed at 2.32.3 in beta (requirements.txt:1), gamma (requirements.txt:1)"
    )
    (record,) = digest.conflicts
    assert record.recommended == "2.32.3"
    assert [(v.repo, v.below_minimum) for v in record.versions] == [
        ("alpha", True),
        ("beta", False),
        ("gamma", False),
    ]
    assert "Cross-repository: requests is below" in digest.summary
    # the repository's own finding stays (it still has to be fixed there), pointing at the fix
    (own,) = [f for f in digest.findings if f.rule == "dependency.below-minimum"]
    assert own.repo == "alpha"
    assert own.message.endswith("2.32.3 is already in use in beta, gamma.")


def test_pins_that_agree_are_no_conflict_and_one_repo_can_conflict_with_itself() -> None:
    digest = digest_audits(
        {
            "s1": audit("alpha", [], [pin("numpy", "1.26.4"), pin("flask", "2.0.1", line=1)]),
            "s2": audit("beta", [], [pin("numpy", "1.26.4")]),
            "s3": audit("gamma", [], [pin("flask", "2.3.2"), pin("flask", "2.0.1", line=2)]),
        }
    )
    assert [c.package for c in digest.conflicts] == ["flask"]
    assert "align them on 2.3.2" in digest.conflicts[0].explanation


def test_duplicates_merge_and_findings_rank_by_severity_then_kind() -> None:
    secret = finding(
        "alpha",
        kind="secret",
        severity="critical",
        file="a.py",
        rule="secret.aws-access-key",
        subject="secret:abc",
        message="AWS Access Key in code: remove it.",
    )
    other_detector = secret.model_copy(
        update={"severity": "high", "rule": "secret.base64-high-entropy-string"}
    )
    elsewhere = secret.model_copy(update={"repo": "beta", "file": "b.py", "line": 4})
    untested = finding("beta", kind="tests", severity="low", rule="tests.untested-module")
    unpinned = finding("beta")
    in_alpha = untested.model_copy(update={"repo": "alpha"})
    digest = digest_audits(
        {
            "s1": audit("alpha", [in_alpha, secret, other_detector]),
            "s2": audit("beta", [untested, unpinned, unpinned, elsewhere]),
        }
    )
    ranks = [(f.severity, f.kind, f.repo, f.file) for f in digest.findings]
    assert ranks == [
        ("critical", "secret", "alpha", "a.py"),
        ("critical", "secret", "beta", "b.py"),
        ("medium", "dependency", "beta", "requirements.txt"),
        ("low", "tests", "alpha", "requirements.txt"),
        ("low", "tests", "beta", "requirements.txt"),
    ]
    assert digest.merged == 2  # the second detector's match, the repeated unpinned finding
    assert digest.counts == {"critical": 2, "high": 0, "medium": 1, "low": 2, "info": 0}
    # one secret value in two repositories: each says where else it is
    assert "The same value is also in beta (b.py:4)" in digest.findings[0].message
    assert "The same value is also in alpha (a.py:1)" in digest.findings[1].message


def test_one_problem_in_many_repositories_is_one_finding_naming_them() -> None:
    digest = digest_audits(
        {f"s{i}": audit(name, [finding(name)]) for i, name in enumerate(["c", "a", "b"])}
    )
    (merged,) = digest.findings
    assert merge_across(digest.findings) == (digest.findings, 0)  # nothing left to fold
    assert merged.repo == "a, b, c"
    assert merged.message.startswith("x has no version constraint in 3 repositories")
    assert (merged.file, merged.line) == ("requirements.txt", 1)
    assert digest.merged == 2


def test_a_repository_audited_twice_counts_once() -> None:
    first = audit("alpha", [finding("alpha")])
    again = audit("alpha", [])
    digest = digest_audits({"s1": first, "s2": again})
    assert digest.findings == []
    assert [(r.repo, r.subtask) for r in digest.repositories] == [("alpha", "s2")]


def test_the_check_rejects_findings_that_point_at_nothing(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "alpha", {"app.py": "a = 1\nb = 2\n", "req.txt": "x\n"})
    good = RepoAudit(
        repo="alpha",
        root=str(root),
        summary="ok",
        findings=[
            finding("alpha", file="app.py", line=2),
            finding("alpha", file="", line=0, kind="tests", rule="tests.none"),
        ],
        dependencies=[pin("x", "1.0").model_copy(update={"file": "req.txt"})],
        stats=STATS,
    )
    assert findings_exist(good) is None
    bad = good.model_copy(
        update={
            "findings": [
                finding("alpha", file="app.py", line=3),
                finding("alpha", file="missing.py", line=1),
                finding("alpha", file="../alpha/app.py", line=1),
                finding("alpha", file="../../etc/passwd", line=1),
                finding("other", file="app.py", line=1),
            ]
        }
    )
    feedback = findings_exist(bad)
    assert feedback is not None
    assert "app.py:3 (the file has 2 lines)" in feedback
    assert "missing.py (no such file)" in feedback
    assert "../../etc/passwd (outside the repository)" in feedback
    assert "a finding names repository 'other', not 'alpha'" in feedback
    assert "../alpha/app.py" not in feedback  # it does resolve inside the repository
    assert findings_exist(good.model_copy(update={"root": str(tmp_path / "nope")})) is not None
