"""Pins checked against the registries and OSV: stand-ins on loopback, shaped as published.

Nothing here reaches the network: the registries, OSV and a proxy are loopback servers
(``registry_stand_ins``), and what is unreachable is a closed port.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import orchestra, state_dir, write_repo  # noqa: F401 (state_dir: autouse)
from conftest import CLOSED_PORT
from registry_stand_ins import Registries, stand_in, world

from orchestra_audit.analyse import audit_repo
from orchestra_audit.findings import Finding, RepoAudit, RepoStats
from orchestra_audit.netsettings import RegistrySettings, RegistrySettingsError
from orchestra_audit.policy import AuditPolicy
from orchestra_audit.registry_audit import check_pins, with_registry_checks

KEY = b"registry-test-key"
REGISTRY_RULES = {
    f"dependency.{r}"
    for r in ("outdated-major", "outdated-minor", "yanked", "deprecated", "vulnerable")
}
REQUIREMENTS = "requests==2.19.0\nflask==2.0.1\nhttpx==0.23.0\n"
PACKAGE_JSON = json.dumps(
    {
        "name": "web",
        "dependencies": {
            "lodash": "4.17.15",
            "request": "2.88.0",
            "core-js": "2.6.12",
            "@babel/core": "7.0.0",
        },
    },
    indent=2,
)


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registries]:
    """The stand-in registries and OSV, online, with this test's own empty cache."""
    data = world()
    with stand_in(data) as base:
        point_at(monkeypatch, base)
        yield data


def point_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("ORCHESTRA_AUDIT_OFFLINE", "0")
    monkeypatch.setenv("ORCHESTRA_PYPI_URL", base)
    monkeypatch.setenv("ORCHESTRA_NPM_REGISTRY", f"{base}/npm")
    monkeypatch.setenv("ORCHESTRA_OSV_URL", f"{base}/osv")


def audited(root: Path, *, offline: bool = False) -> RepoAudit:
    audit = audit_repo(root, root.name, AuditPolicy(), KEY)
    return with_registry_checks(audit, RegistrySettings.from_env(offline=offline))


def by_rule(audit: RepoAudit, rule: str) -> dict[str, Finding]:
    return {f.subject: f for f in audit.findings if f.rule == f"dependency.{rule}"}


def repo(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path / "web", {"requirements.txt": REQUIREMENTS, "package.json": PACKAGE_JSON}
    )


def test_pins_behind_the_latest_release_are_findings_by_distance(
    registries: Registries, tmp_path: Path
) -> None:
    audit = audited(repo(tmp_path))
    minor, major = by_rule(audit, "outdated-minor"), by_rule(audit, "outdated-major")
    assert minor["pypi:requests"].severity == "low"
    assert minor["pypi:requests"].line == 1
    assert "13 minor version(s) behind the latest release 2.32.3" in minor["pypi:requests"].message
    assert major["pypi:flask"].severity == "medium"
    assert "1 major version(s) behind the latest release 3.0.3" in major["pypi:flask"].message
    # Before 1.0 a minor release may break: 0.23 -> 0.27 counts as a major distance.
    assert major["pypi:httpx"].severity == "medium"
    assert "before 1.0" in major["pypi:httpx"].message
    assert "24 minor version(s)" in minor["npm:@babel/core"].message
    # lodash 4.17.15 is only patch releases behind 4.17.21: not reported as outdated.
    assert "npm:lodash" not in minor | major
    assert audit.stats.not_checked == []
    scoped = [s for s in registries.asked("/npm/@babel")]
    assert [s.raw_path for s in scoped] == ["/npm/@babel%2Fcore"]  # the scope's slash encoded
    assert all("application/vnd.npm.install-v1+json" in s.headers["accept"] for s in scoped)


def test_a_yanked_pin_is_reported_with_the_maintainers_reason(
    registries: Registries, tmp_path: Path
) -> None:
    root = write_repo(tmp_path / "svc", {"requirements.txt": "requests==2.32.0\n"})
    found = by_rule(audited(root), "yanked")["pypi:requests"]
    assert found.severity == "medium"
    assert "requests==2.32.0 is a yanked release" in found.message
    assert "Yanked due to conflicts with CVE-2024-35195 mitigation" in found.message
    assert (found.file, found.line) == ("requirements.txt", 1)


def test_deprecated_packages_and_versions_are_reported_with_npms_message(
    registries: Registries, tmp_path: Path
) -> None:
    found = by_rule(audited(repo(tmp_path)), "deprecated")
    assert set(found) == {"npm:request", "npm:core-js"}
    whole = found["npm:request"]
    assert whole.severity == "medium" and "deprecated as a whole" in whole.message
    assert "https://github.com/request/request/issues/3142" in whole.message
    version = found["npm:core-js"]
    assert "core-js@2.6.12 is deprecated" in version.message
    assert "no longer maintained" in version.message and "upgrade to 3.36.0" in version.message


def test_a_vulnerable_pin_names_its_advisories_and_the_release_fixing_them(
    registries: Registries, tmp_path: Path
) -> None:
    root = write_repo(
        tmp_path / "web",
        {
            "requirements.txt": REQUIREMENTS,
            "package.json": json.dumps({"dependencies": {"lodash": "4.17.11"}}),
        },
    )
    found = by_rule(audited(root), "vulnerable")
    requests = found["pypi:requests"]
    assert requests.severity == "high"
    # PYSEC-2018-28 and GHSA-x84v-xcm2-53pg are one issue (aliases): counted once.
    assert "has 2 known vulnerabilities" in requests.message
    assert "GHSA-x84v-xcm2-53pg (CVE-2018-18074)" in requests.message
    assert "GHSA-j8r2-6x86-q33q (CVE-2023-32681)" in requests.message
    assert "upgrade to 2.31.0 or later, which fixes all of them" in requests.message
    lodash = found["npm:lodash"]
    assert lodash.severity == "critical"  # GHSA-jf85-cpcp-j695 is rated CRITICAL
    assert "upgrade to 4.17.21 or later" in lodash.message
    assert "pypi:flask" not in found  # OSV's {} for a clean version
    (batch,) = registries.asked("/osv/v1/querybatch")
    queries = batch.body["queries"]
    assert {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.19.0"} in queries
    assert {"package": {"name": "lodash", "ecosystem": "npm"}, "version": "4.17.11"} in queries


def test_osvs_further_pages_are_followed(registries: Registries, tmp_path: Path) -> None:
    registries.page_size = 1
    root = write_repo(tmp_path / "svc", {"package.json": '{"dependencies": {"lodash": "4.17.11"}}'})
    lodash = by_rule(audited(root), "vulnerable")["npm:lodash"]
    assert "has 3 known vulnerabilities" in lodash.message
    pages = [s.body["queries"][0].get("page_token") for s in registries.asked("/osv/v1/querybatch")]
    assert pages == [None, "1", "2"]


def test_answers_are_cached_and_asked_again_once_the_ttl_has_passed(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRA_REGISTRY_TTL", "3600")
    root = repo(tmp_path)
    first = audited(root)
    asked = len(registries.seen)
    assert asked >= 8  # 7 packages, one OSV batch, their advisories
    second = audited(root)
    assert len(registries.seen) == asked  # every answer came from the cache
    assert second.findings == first.findings
    cache = Path(os.environ["ORCHESTRA_REGISTRY_CACHE"])
    two_hours_ago = time.time() - 7200
    for entry in cache.iterdir():
        os.utime(entry, (two_hours_ago, two_hours_ago))
    third = audited(root)
    assert len(registries.seen) == 2 * asked  # stale: every lookup made again
    assert third.findings == first.findings


def test_offline_uses_the_cache_and_says_what_it_lacks(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    online = audited(root)
    asked = len(registries.seen)
    offline = audited(root, offline=True)
    assert len(registries.seen) == asked  # --offline sends nothing
    assert offline.findings == online.findings and offline.stats.not_checked == []

    monkeypatch.setenv("ORCHESTRA_REGISTRY_CACHE", str(tmp_path / "empty-cache"))
    empty = audited(root, offline=True)
    assert len(registries.seen) == asked
    assert [f for f in online.findings if f.rule in REGISTRY_RULES]
    assert [f for f in empty.findings if f.rule in REGISTRY_RULES] == []
    gaps = {(g.check, g.ecosystem): g for g in empty.stats.not_checked}
    assert set(gaps) == {
        ("registry", "pypi"),
        ("registry", "npm"),
        ("vulnerabilities", "pypi"),
        ("vulnerabilities", "npm"),
    }
    assert all(g.reason == "offline" for g in gaps.values())
    assert gaps[("registry", "pypi")].packages == [
        "flask==2.0.1",
        "httpx==0.23.0",
        "requests==2.19.0",
    ]
    assert "Not checked against the registries: 7 package(s) (offline" in empty.summary
    assert "Vulnerabilities not checked: 7 package(s)" in empty.summary


def test_a_package_the_registry_does_not_have_or_cannot_serve_is_not_checked(
    registries: Registries, tmp_path: Path
) -> None:
    root = write_repo(
        tmp_path / "svc",
        {
            "requirements.txt": "requests==2.19.0\nin-house-lib==1.0.0\n",
            "package.json": '{"dependencies": {"lodash": "4.17.15"}}',
        },
    )
    registries.status["/npm/"] = 503
    gaps = {(g.check, g.ecosystem, g.reason): g for g in audited(root).stats.not_checked}
    assert set(gaps) == {("registry", "pypi", "not-found"), ("registry", "npm", "server-error")}
    assert gaps[("registry", "pypi", "not-found")].packages == ["in-house-lib==1.0.0"]
    assert "HTTP 404" in gaps[("registry", "pypi", "not-found")].detail
    assert "HTTP 503" in gaps[("registry", "npm", "server-error")].detail


def test_unreachable_registries_are_said_in_the_report_json_and_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo(tmp_path)
    env = {
        "ORCHESTRA_AUDIT_OFFLINE": "0",
        "ORCHESTRA_PYPI_URL": CLOSED_PORT,
        "ORCHESTRA_NPM_REGISTRY": CLOSED_PORT,
        "ORCHESTRA_OSV_URL": CLOSED_PORT,
    }
    done = orchestra("audit", "web", "--json", "--report", "report.md", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["not_checked"]["registry"] == 7
    assert document["not_checked"]["vulnerabilities"] == 7
    reasons = {g["reason"] for g in document["not_checked"]["groups"]}
    assert reasons == {"unreachable"}
    report = (tmp_path / "report.md").read_text()
    assert "## Not checked" in report
    assert "(registry, pypi): not checked: 3 package(s) (127.0.0.1:9 unreachable" in report
    assert "Not checked against the registries: 7 package(s)" in report  # the summary
    assert "Vulnerabilities not checked: 7 package(s)" in report
    shown = orchestra("audit", "web", cwd=tmp_path, env=env)
    assert "Not checked against the registries: 7 package(s)" in shown.stdout
    assert "not checked (vulnerabilities)" in shown.stdout


def test_only_osv_unreachable_still_reports_the_registries_findings(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRA_OSV_URL", CLOSED_PORT)
    audit = audited(repo(tmp_path))
    assert "pypi:flask" in by_rule(audit, "outdated-major")
    assert by_rule(audit, "vulnerable") == {}
    assert {(g.check, g.reason) for g in audit.stats.not_checked} == {
        ("vulnerabilities", "unreachable")
    }
    assert "Vulnerabilities not checked: 7 package(s)" in audit.summary


def test_the_users_index_and_npm_settings_are_honoured(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(registries) as base:
        monkeypatch.delenv("ORCHESTRA_PYPI_URL")
        monkeypatch.delenv("ORCHESTRA_NPM_REGISTRY")
        monkeypatch.setenv("PIP_INDEX_URL", f"{base}/simple/")  # the JSON API is beside it
        monkeypatch.setenv("npm_config_registry", f"{base}/npm/")
        audit = audited(repo(tmp_path))
    assert "pypi:flask" in by_rule(audit, "outdated-major")
    assert "npm:request" in by_rule(audit, "deprecated")
    assert [g for g in audit.stats.not_checked if g.check == "registry"] == []
    assert {s.path for s in registries.asked("/pypi/")} >= {"/pypi/requests/json"}


def test_a_proxy_in_the_environment_carries_the_lookups(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(registries) as proxy:
        # Hosts that exist nowhere: only through the proxy can they answer.
        monkeypatch.setenv("ORCHESTRA_PYPI_URL", "http://pypi.invalid")
        monkeypatch.setenv("ORCHESTRA_NPM_REGISTRY", "http://npm.invalid/npm")
        monkeypatch.setenv("ORCHESTRA_OSV_URL", "http://osv.invalid/osv")
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy)
        audit = audited(repo(tmp_path))
    assert audit.stats.not_checked == []
    assert "pypi:requests" in by_rule(audit, "vulnerable")
    assert {s.host for s in registries.seen} == {"pypi.invalid", "npm.invalid", "osv.invalid"}


def test_settings_that_cannot_be_used_are_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RegistrySettingsError, match="ORCHESTRA_REGISTRY_TTL='soon'"):
        RegistrySettings.from_env({"ORCHESTRA_REGISTRY_TTL": "soon"})
    with pytest.raises(RegistrySettingsError, match="not an http"):
        RegistrySettings.from_env({"ORCHESTRA_OSV_URL": "file:///osv"})
    repo(tmp_path)
    done = orchestra("audit", "web", cwd=tmp_path, env={"ORCHESTRA_REGISTRY_TIMEOUT": "-1"})
    assert done.returncode == 2
    assert "ORCHESTRA_REGISTRY_TIMEOUT='-1': give a number of seconds" in done.stderr


def test_without_pins_nothing_is_asked(registries: Registries, tmp_path: Path) -> None:
    root = write_repo(tmp_path / "svc", {"requirements.txt": "requests>=2\nflask\n"})
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    assert check_pins(audit.dependencies, RegistrySettings.from_env()) == ([], [], 0)
    assert registries.seen == []


def test_a_slow_registry_times_out_and_is_not_checked(
    registries: Registries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registries.delay = 1.0
    monkeypatch.setenv("ORCHESTRA_REGISTRY_TIMEOUT", "0.2")
    started = time.monotonic()
    audit = audited(repo(tmp_path))
    # One timeout per host, not one per package: the host is then known not to answer.
    assert time.monotonic() - started < 5
    assert {g.reason for g in audit.stats.not_checked} == {"timeout"}
    assert {g.check for g in audit.stats.not_checked} == {"registry", "vulnerabilities"}


def test_a_host_that_did_not_answer_is_not_asked_again_for_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, CLOSED_PORT)
    dependencies = audit_repo(repo(tmp_path), "web", AuditPolicy(), KEY).dependencies
    _, first, sent = check_pins(dependencies, RegistrySettings.from_env())
    assert {g.reason for g in first} == {"unreachable"}
    # Only the lookups already in flight when the port refused were sent (7 packages at
    # once); OSV, on the same host, was not asked at all.
    assert 1 <= sent <= 7
    # Another audit, a moment later (another repository, say): the closed port is remembered.
    _, again, sent = check_pins(dependencies, RegistrySettings.from_env())
    assert again == first and sent == 0


def test_the_suite_itself_cannot_reach_a_registry(tmp_path: Path) -> None:
    settings = RegistrySettings.from_env()  # as every test gets it (tests/conftest.py)
    assert settings.offline
    assert {settings.pypi, settings.npm, settings.osv} == {CLOSED_PORT}
    assert settings.cache.parent == tmp_path.parent  # a folder of this test session
    assert list(settings.cache.iterdir()) == []
    repo(tmp_path)
    done = orchestra("audit", "web", "--json", cwd=tmp_path)  # a CLI subprocess, too
    groups = json.loads(done.stdout)["not_checked"]["groups"]
    assert groups and {g["reason"] for g in groups} == {"offline"}


def test_stats_checkpointed_before_the_registry_checks_and_scope_notes_still_load() -> None:
    old = {
        "files_scanned": 1,
        "files_skipped": 0,
        "symlinks_refused": 0,
        "unreadable": [],
        "source_files": 1,
        "test_files": 0,
        "source_lines": 3,
        "test_lines": 0,
    }
    stats = RepoStats.model_validate(old)  # one validator fills both fields
    assert stats.not_checked == []
    assert stats.tests_scope == []
    assert "not_checked" in RepoStats.model_json_schema()["required"]  # strict schemas need it
