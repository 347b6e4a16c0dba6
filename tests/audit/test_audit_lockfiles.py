"""Lockfiles: each format read from files the tools wrote, and the versions they pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra_audit.lockfiles import parse_lock
from orchestra_audit.locks import Lock
from orchestra_audit.manifests import ManifestError

FIXTURES = Path(__file__).parent / "lockfiles"


def lock_of(rel: str, name: str = "") -> Lock:
    """The parsed fixture lockfile ``rel`` (read under ``name`` when its file name differs)."""
    path = FIXTURES / rel
    result = parse_lock(name or path.name, path.read_text(encoding="utf-8"))
    assert isinstance(result, Lock), result
    return result


def test_poetry_lock_pins_every_package_with_normalized_names() -> None:
    lock = lock_of("poetry/poetry.lock")
    assert lock.versions == {"anyio": "4.13.0", "packaging": "26.2", "requests": "2.33.1"}
    assert (lock.ecosystem, lock.scope) == ("pypi", "folder")


def test_uv_lock_of_one_project_and_of_a_workspace() -> None:
    single = lock_of("uv/uv.lock")
    assert single.versions["anyio"] == "4.6.2.post1"
    assert single.versions["built-by-uv"] == "0.1.0"  # the project itself, editable
    assert set(single.members) == {""}
    workspace = lock_of("uv-workspace/uv.lock")
    assert set(workspace.members) == {"", "packages/leaf", "library"}
    assert workspace.versions == {"leaf": "0.1.0", "library": "0.1.0", "workspace": "0.1.0"}


def test_pipfile_lock_reads_default_and_develop_without_the_equals() -> None:
    lock = lock_of("pipenv/Pipfile.lock")
    assert lock.versions["requests"] == "2.33.0"
    assert lock.versions["charset-normalizer"] == "3.4.6"
    assert lock.versions["pytest"] == "9.0.3"  # develop
    assert len(lock.versions) == 10


def test_package_lock_v1_and_v3_keep_the_top_level_version_not_a_nested_one() -> None:
    # pkg-with-1-dep needs dep-of-pkg-with-1-dep@100 below it; the project itself gets 101.
    for rel in ("npm-v1/package-lock.json", "npm-v3/package-lock.json"):
        lock = lock_of(rel)
        assert lock.versions == {
            "@pnpm.e2e/dep-of-pkg-with-1-dep": "101.0.0",
            "@pnpm.e2e/pkg-with-1-dep": "100.0.0",
        }, rel
    assert lock_of("npm-v1/package-lock.json").scope == "folder"  # v1 records no workspaces
    assert lock_of("npm-v3/package-lock.json").scope == "members"


def test_package_lock_v2_of_a_workspace_names_its_members_and_skips_their_links() -> None:
    lock = lock_of("npm-workspace/package-lock.json")
    assert set(lock.members) == {"", "packages/bar", "packages/foo"}
    assert lock.versions == {"is-negative": "1.0.1", "is-positive": "1.0.0"}  # no bar, foo


def test_yarn_classic_lock_pins_by_the_range_resolved() -> None:
    lock = lock_of("yarn-v1/yarn.lock")
    assert lock.ranges == {
        ("@pnpm.e2e/dep-of-pkg-with-1-dep", "^100.0.0"): "100.0.0",
        ("@pnpm.e2e/pkg-with-1-dep", "*"): "100.0.0",
    }
    assert lock.scope == "tree"


def test_yarn_berry_lock_drops_the_npm_protocol_and_records_its_workspace() -> None:
    lock = lock_of("yarn-berry/yarn.lock")
    # One header, two ranges: "minimatch@npm:2 || 3, minimatch@npm:^3.0.4":
    assert lock.ranges[("minimatch", "^3.0.4")] == "3.0.4"
    assert lock.ranges[("minimatch", "2 || 3")] == "3.0.4"
    assert lock.ranges[("rimraf", "2.5.1")] == "2.5.1"
    assert ("__metadata", "") not in lock.ranges
    assert (lock.scope, set(lock.members)) == ("members", {""})
    assert "has-yarn2-lock" not in lock.versions  # the workspace itself: no registry version


@pytest.mark.parametrize(
    ("rel", "importer", "expected"),
    [
        ("pnpm-v5/pnpm-lock.yaml", "", {"@pnpm.e2e/pkg-with-1-dep": "100.0.0"}),
        (
            "pnpm-v6/pnpm-lock.yaml",
            "",
            {"@babel/core": "7.23.3", "@babel/plugin-proposal-dynamic-import": "7.18.6"},
        ),
        ("pnpm-v6/pnpm-lock.yaml", ".meta-updater", {"@types/normalize-path": "3.0.2"}),
        (
            "pnpm-v9/pnpm-lock.yaml",
            "",
            {"write-json-file": "2.3.0", "is-negative": "2.1.0", "is-positive": "3.1.0"},
        ),
        ("pnpm-env/pnpm-lock.yaml", "", {"write-json-file": "2.3.0", "is-negative": "2.1.0"}),
        ("pnpm-workspace/pnpm-lock.yaml", "app-a", {"is-positive": "3.1.0"}),  # not the link
    ],
)
def test_pnpm_lock_importers_of_each_format(
    rel: str, importer: str, expected: dict[str, str]
) -> None:
    lock = lock_of(rel)
    assert expected.items() <= lock.members[importer].items()
    assert "pnpm" not in lock.members[importer]  # pnpm 11's own lock is a document before


def test_a_pnpm_member_gets_its_own_version_of_a_package_locked_at_several() -> None:
    lock = lock_of("pnpm-v6/pnpm-lock.yaml")
    assert "load-json-file" not in lock.versions  # packages: 6.2.0 and 7.0.1
    assert lock.version_for(".meta-updater", "load-json-file", "^6.2.0") == "6.2.0"
    assert lock.version_for("", "load-json-file", "^7.0.0") == ""  # the root has none
    assert lock.version_for("not-a-member", "load-json-file", "^6.2.0") is None


def test_pnpm_packages_keys_of_v5_v6_and_v9_give_versions_without_peer_suffixes() -> None:
    assert lock_of("pnpm-v5/pnpm-lock.yaml").versions == {
        "@pnpm.e2e/dep-of-pkg-with-1-dep": "100.1.0",
        "@pnpm.e2e/pkg-with-1-dep": "100.0.0",
    }
    v6 = lock_of("pnpm-v6/pnpm-lock.yaml").versions
    assert v6["@babel/plugin-proposal-dynamic-import"] == "7.18.6"  # key had "(@babel/core@…)"
    assert v6["is-subdir"] == "1.2.0"
    v9 = lock_of("pnpm-v9/pnpm-lock.yaml").versions
    assert v9["write-file-atomic"] == "2.4.3"
    assert len(v9) == 12


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("poetry.lock", (FIXTURES / "poetry/invalid.lock").read_text(), "not valid TOML"),
        ("poetry.lock", "package = 3\n", "not a list of tables"),
        ("uv.lock", "[[package]\n", "not valid TOML"),
        ("Pipfile.lock", '{"default": [1]}', "is not an object"),
        ("package-lock.json", '{"packages": {', "not valid JSON"),
        ("package-lock.json", "[]", "not a JSON object"),
        ("yarn.lock", "lodash@^4.17.0\n  version 4.17.21\n", "not a yarn lockfile"),
        ("pnpm-lock.yaml", "importers: [\n", "not valid YAML"),
        ("pnpm-lock.yaml", "- a list\n", "not a YAML mapping"),
    ],
)
def test_a_malformed_lockfile_is_a_manifest_error_naming_it(
    name: str, text: str, reason: str
) -> None:
    result = parse_lock(f"app/{name}", text)
    assert isinstance(result, ManifestError)
    assert result.file == f"app/{name}"
    assert reason in result.reason
