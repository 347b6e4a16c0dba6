"""The three analysers alone: dependency specs, tests, secrets; and the policy file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)
from packaging.specifiers import SpecifierSet

from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import FileText
from orchestra_audit.findings import Finding
from orchestra_audit.manifests import declared, package_json, pyproject, requirements
from orchestra_audit.policy import AuditPolicy, PolicyError, load_policy
from orchestra_audit.samples import fake
from orchestra_audit.secrets import MASK, detect, fingerprint
from orchestra_audit.versions import npm, pep440

KEY = b"test-key"


def text_file(path: str, text: str) -> FileText:
    return FileText(path, Path(path), text)


def found(findings: list[Finding]) -> set[tuple[str, str, int]]:
    return {(f.rule, f.file, f.line) for f in findings}


@pytest.mark.parametrize(
    ("spec", "shape", "pinned", "floor"),
    [
        ("", "unpinned", None, None),
        ("==1.2.3", "pinned", "1.2.3", "1.2.3"),
        (">=1.2", "unbounded", None, "1.2"),
        (">=1.2,<2", "bounded", None, "1.2"),
        ("~=2.1", "bounded", None, "2.1"),
        ("==1.4.*", "bounded", None, "1.4"),
        ("!=1.0", "unpinned", None, None),
        ("<3", "bounded", None, None),
    ],
)
def test_pep440_shapes(spec: str, shape: str, pinned: str | None, floor: str | None) -> None:
    constraint = pep440(SpecifierSet(spec))
    assert constraint.shape == shape
    assert (str(constraint.pinned) if constraint.pinned else None) == pinned
    assert (str(constraint.floor) if constraint.floor else None) == floor


@pytest.mark.parametrize(
    ("spec", "shape", "floor"),
    [
        ("*", "unpinned", None),
        ("", "unpinned", None),
        ("latest", "unpinned", None),
        ("4.17.21", "pinned", "4.17.21"),
        ("=v1.2.3", "pinned", "1.2.3"),
        ("^18.2.0", "bounded", "18.2.0"),
        ("~1.2.3", "bounded", "1.2.3"),
        ("1.2.x", "bounded", "1.2.0"),
        (">=5.0.0", "unbounded", "5.0.0"),
        (">= 5", "unbounded", "5.0.0"),
        (">=1.0.0 <2.0.0", "bounded", "1.0.0"),
        ("1.0.0 - 2.0.0", "bounded", "1.0.0"),
        ("^1.0.0 || >=3", "unbounded", "1.0.0"),
        ("1.0.0-rc.1", "pinned", "1.0.0rc1"),
        ("file:../lib", "external", None),
        ("github:user/repo", "external", None),
        ("not a version", "invalid", None),
    ],
)
def test_npm_shapes(spec: str, shape: str, floor: str | None) -> None:
    constraint = npm(spec)
    assert constraint.shape == shape
    assert (str(constraint.floor) if constraint.floor else None) == floor


def test_requirement_files_skip_options_paths_and_urls_and_keep_line_numbers() -> None:
    text = (
        "# pins\n"
        "-r base.txt\n"
        "--index-url https://pypi.example/simple\n"
        "flask==2.0.1  # web\n"
        "requests[socks]>=2.0 ; python_version >= '3.8'\n"
        "numpy==1.26.4 \\\n"
        "    --hash=sha256:abc\n"
        "-e git+https://example.com/x.git#egg=x\n"
        "./local-package\n"
        "pkg @ https://example.com/pkg.whl\n"
        "bad requirement here!\n"
    )
    items = requirements(text_file("requirements-dev.txt", text))
    shapes = [(i.name, i.line, i.constraint.shape, i.spec) for i in items]
    assert shapes == [
        ("flask", 4, "pinned", "==2.0.1"),
        ("requests", 5, "unbounded", ">=2.0"),
        ("numpy", 6, "pinned", "==1.26.4"),
        ("pkg", 10, "external", "https://example.com/pkg.whl"),
        ("bad", 11, "invalid", "bad requirement here!"),
    ]


def test_pyproject_reads_pep621_groups_and_poetry_with_lines() -> None:
    text = (
        "[project]\n"
        'name = "x"\n'
        "dependencies = [\n"
        '  "httpx>=0.27",\n'
        '  "attrs==23.1.0",\n'
        "]\n"
        "[project.optional-dependencies]\n"
        'cli = ["rich"]\n'
        "[dependency-groups]\n"
        'dev = ["pytest>=8,<9", {include-group = "cli"}]\n'
        "[tool.poetry.dependencies]\n"
        'python = "^3.11"\n'
        'django = "^4.2"\n'
        'celery = "5.3.6"\n'
        'redis = "*"\n'
        'local = { path = "../local" }\n'
    )
    items = pyproject(text_file("pyproject.toml", text))
    assert not isinstance(items, Exception)
    got = [(i.name, i.line, i.constraint.shape, i.library) for i in items]  # type: ignore[union-attr]
    assert got == [
        ("httpx", 4, "unbounded", True),
        ("attrs", 5, "pinned", True),
        ("rich", 8, "unpinned", True),
        ("pytest", 10, "bounded", True),
        ("django", 13, "bounded", False),
        ("celery", 14, "pinned", False),
        ("redis", 15, "unpinned", False),
        ("local", 16, "external", False),
    ]


def test_package_json_sections_and_broken_manifests() -> None:
    text = (
        "{\n"
        '  "name": "web",\n'
        '  "dependencies": {\n'
        '    "lodash": "4.17.4",\n'
        '    "express": "*"\n'
        "  },\n"
        '  "devDependencies": { "jest": "^29.0.0" },\n'
        '  "peerDependencies": { "react": ">=17" }\n'
        "}\n"
    )
    items = package_json(text_file("package.json", text))
    got = [(i.name, i.line, i.constraint.shape) for i in items]  # type: ignore[union-attr]
    assert got == [("lodash", 4, "pinned"), ("express", 5, "unpinned"), ("jest", 7, "bounded")]
    _, errors = declared([text_file("package.json", "{ nope"), text_file("pyproject.toml", "[")])
    assert [e.file for e in errors] == ["package.json", "pyproject.toml"]


def test_dependency_findings_follow_the_policy(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path / "svc",
        {
            "requirements.txt": "requests==2.19.0\nflask>=1.0\nclick\nnumpy==1.26.4\n",
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["attrs>=22"]\n',
            "package.json": '{"dependencies": {"lodash": "^4.17.4"}}\n',
        },
    )
    policy = AuditPolicy.model_validate(
        {"minimum": {"pypi": {"Requests": "2.31.0", "flask": "2.3"}, "npm": {"lodash": "4.17.21"}}}
    )
    audit = audit_repo(root, "svc", policy, KEY)
    by_rule = {(f.rule, f.file, f.line): f for f in audit.findings if f.kind == "dependency"}
    assert set(by_rule) == {
        ("dependency.below-minimum", "requirements.txt", 1),
        ("dependency.below-minimum", "requirements.txt", 2),
        ("dependency.unbounded", "requirements.txt", 2),
        ("dependency.unpinned", "requirements.txt", 3),
        ("dependency.unbounded", "pyproject.toml", 3),
        ("dependency.below-minimum", "package.json", 1),
    }
    assert by_rule[("dependency.below-minimum", "requirements.txt", 1)].severity == "high"
    assert by_rule[("dependency.below-minimum", "requirements.txt", 2)].severity == "medium"
    assert by_rule[("dependency.unbounded", "pyproject.toml", 3)].severity == "info"  # library
    pins = {d.name: (d.pinned, d.minimum) for d in audit.dependencies}
    assert pins["requests"] == ("2.19.0", "2.31.0")
    assert pins["numpy"] == ("1.26.4", "")


def test_tests_analysis_imports_names_ratio_and_no_tests(tmp_path: Path) -> None:
    body = "".join(f"def fn_{i}(x):\n    return x + {i}\n\n" for i in range(60))
    root = write_repo(
        tmp_path / "lib",
        {
            "shop/__init__.py": "",
            "shop/constants.py": "RATE = 3\n",  # nothing to test
            "shop/cart.py": "def add(cart, item):\n    return cart + [item]\n",
            "shop/tax.py": "\n\nclass Tax:\n    pass\n",
            "shop/ship.py": "def ship_order(order):\n    return order\n",
            "shop/big.py": body,
            "web/util.js": "export function slugify(s) {\n  return s;\n}\n",
            "tests/test_cart.py": "from shop import cart\n",
            "tests/test_misc.py": "def test_ship():\n    assert ship_order(1) == 1\n",
            "web/util.test.js": "import { slugify } from './util';\n",
        },
    )
    audit = audit_repo(root, "lib", AuditPolicy(), KEY)
    assert found(audit.findings) == {
        ("tests.untested-module", "shop/tax.py", 3),
        ("tests.untested-module", "shop/big.py", 1),
        ("tests.low-ratio", "", 0),
    }
    assert audit.stats.test_files == 3
    assert audit.stats.source_files == 6

    bare = write_repo(tmp_path / "bare", {"app/main.py": "def run():\n    pass\n"})
    audit = audit_repo(bare, "bare", AuditPolicy(), KEY)
    assert found(audit.findings) == {("tests.none", "", 0)}  # not one finding per module


def test_a_private_module_is_tested_by_the_test_named_after_it(tmp_path: Path) -> None:
    """httpx's ``_multipart.py`` is tested by ``tests/test_multipart.py``."""
    root = write_repo(
        tmp_path / "lib",
        {
            "lib/_multipart.py": "def _encode(x):\n    return x\n",
            "lib/_untested.py": "def _other(x):\n    return x\n",
            "tests/test_multipart.py": "def test_it():\n    assert True\n",
        },
    )
    audit = audit_repo(root, "lib", AuditPolicy(), KEY)
    untested = {f.file for f in audit.findings if f.rule == "tests.untested-module"}
    assert untested == {"lib/_untested.py"}


def test_secrets_are_found_by_line_and_never_leave_unredacted(tmp_path: Path) -> None:
    token = "ghp_" + fake("t", 36)
    password = fake("p", 16)
    root = write_repo(
        tmp_path / "svc",
        {
            "deploy.sh": f"export GITHUB_TOKEN={token}\n",
            "app/settings.py": f'NAME = "x"\nDB_PASSWORD = "{password}"\n',
            "tests/test_settings.py": f'API_KEY = "{fake("k", 20)}"\n',
            "requirements.txt": f"private @ https://user:{password}@pypi.example/private.whl\n",
        },
    )
    audit = audit_repo(root, "svc", AuditPolicy(), KEY)
    secrets = {(f.file, f.line): f for f in audit.findings if f.kind == "secret"}
    assert secrets[("deploy.sh", 1)].severity == "critical"
    assert secrets[("deploy.sh", 1)].rule == "secret.github-token"
    assert secrets[("app/settings.py", 2)].evidence == f'DB_PASSWORD = "{MASK}"'
    assert secrets[("tests/test_settings.py", 1)].severity == "medium"  # a test fixture, probably
    # detect-secrets reports "ghp" for a GitHub token: the whole token is masked, not that.
    assert secrets[("deploy.sh", 1)].evidence == f"export GITHUB_TOKEN={MASK}"
    dumped = audit.model_dump_json()
    assert token[4:] not in dumped and password not in dumped


@pytest.mark.parametrize("value", ["secret", "test", "low", "high", "tests", "pypi"])
def test_a_secret_that_is_also_a_word_of_the_schema_corrupts_nothing(
    tmp_path: Path, value: str
) -> None:
    """``DB_PASSWORD = "secret"`` used to turn every ``kind: "secret"`` into the mask."""
    root = write_repo(
        tmp_path / "words",
        {
            "app/settings.py": f'DB_PASSWORD = "{value}"\n',
            "app/main.py": "def run():\n    return 1\n",
            "requirements.txt": "pypi-tools\nrequests==2.19.0\n",
        },
    )
    audit = audit_repo(root, "words", AuditPolicy(), KEY)
    secrets = [f for f in audit.findings if f.rule.startswith("secret.")]
    assert [(f.kind, f.file, f.line) for f in secrets] == [("secret", "app/settings.py", 1)]
    assert secrets[0].evidence == f'DB_PASSWORD = "{MASK}"'
    assert {f.kind for f in audit.findings} >= {"secret", "dependency", "tests"}
    assert {f.severity for f in audit.findings} <= {"critical", "high", "medium", "low", "info"}
    assert {d.name for d in audit.dependencies} == {"pypi-tools", "requests"}
    assert audit.summary.startswith("words: ")


def test_a_secret_cut_off_at_the_end_of_its_evidence_is_masked_all_the_same(
    tmp_path: Path,
) -> None:
    password = fake("long", 40)
    # Not a valid requirement: its finding quotes the line's first 160 characters, which
    # end 13 characters into the password.
    line = "x" * 120 + f"requests>=1 @ https://user:{password}@pypi.example/r.whl"
    root = write_repo(tmp_path / "cut", {"requirements.txt": f"{line}\n"})
    audit = audit_repo(root, "cut", AuditPolicy(), KEY)
    invalid = [f for f in audit.findings if f.rule == "dependency.invalid"]
    assert len(invalid) == 1 and invalid[0].evidence.endswith("https://user:" + MASK)
    assert password[:4] not in audit.model_dump_json()


def test_a_file_that_is_not_utf8_is_scanned_and_its_secret_masked(tmp_path: Path) -> None:
    token = "ghp_" + fake("latin", 36)
    root = write_repo(tmp_path / "latin", {"app/main.py": "def run():\n    return 1\n"})
    text = f'# Réglages du café\nTOKEN = "{token}"\nURL = "https://u:{fake("pw", 12)}@h.example/"\n'
    (root / "app" / "réglages.py").write_bytes(text.encode("latin-1"))
    audit = audit_repo(root, "latin", AuditPolicy(), KEY)
    secrets = {(f.file, f.line): f for f in audit.findings if f.kind == "secret"}
    assert secrets[("app/réglages.py", 2)].rule == "secret.github-token"
    assert secrets[("app/réglages.py", 2)].evidence == f'TOKEN = "{MASK}"'
    assert ("app/réglages.py", 3) in secrets  # basic-auth credentials in the URL
    assert token not in audit.model_dump_json()


def test_example_keys_lockfile_hashes_and_commit_ids_are_info_not_secrets(
    tmp_path: Path,
) -> None:
    live = "AKIA" + fake("live", 16).upper()
    # detect-secrets filters out some lockfiles by name, not pnpm's or uv's.
    integrity = "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17Lh"
    lock = f"packages:\n  /lodash@4.17.21:\n    resolution: {{integrity: {integrity}==}}\n"
    root = write_repo(
        tmp_path / "quiet",
        {
            "docs/setup.py": 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n',
            "app/live.py": f'AWS_ACCESS_KEY_ID = "{live}"\n',
            "pnpm-lock.yaml": lock,
            "app/pins.py": 'COMMIT_SHA = "8f3c2a1b9d4e7f60a5b3c2d1e0f9a8b7c6d5e4f3"\n',
            # 40 hex digits with nothing saying it is a hash: an old GitHub token's shape.
            "app/token.py": 'TOKEN = "9e1c0f2b8a7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"\n',
        },
    )
    audit = audit_repo(root, "quiet", AuditPolicy(), KEY)
    secrets = {f.file: f for f in audit.findings if f.kind == "secret"}
    assert secrets["app/live.py"].severity == "critical"  # a live-looking key stays critical
    assert secrets["app/token.py"].severity == "high"
    for path, why in (
        ("docs/setup.py", "a published example key"),
        ("pnpm-lock.yaml", "a lockfile's integrity hash"),
        ("app/pins.py", "a commit id or content hash"),
    ):
        assert secrets[path].severity == "info", path
        assert why in secrets[path].message and "not a credential" in secrets[path].message


def test_secrets_in_the_repositorys_detect_secrets_baseline_are_known_not_new(
    tmp_path: Path,
) -> None:
    known_token = "ghp_" + fake("known", 36)
    root = write_repo(
        tmp_path / "base",
        {
            "deploy.sh": f"export GITHUB_TOKEN={known_token}\n",
            "app/settings.py": f'DB_PASSWORD = "{fake("known-pw", 16)}"\n',
        },
    )
    # The baseline as its owners make it: `detect-secrets scan > .secrets.baseline`.
    scan = Path(sys.executable).with_name("detect-secrets")
    made = subprocess.run(
        [str(scan), "scan", "deploy.sh", "app/settings.py"],
        cwd=root, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    (root / ".secrets.baseline").write_text(made.stdout)
    assert set(json.loads(made.stdout)["results"]) == {"deploy.sh", "app/settings.py"}
    new_key = "AKIA" + fake("new", 16).upper()
    (root / "app" / "new.py").write_text(f'AWS_ACCESS_KEY_ID = "{new_key}"\n')

    audit = audit_repo(root, "base", AuditPolicy(), KEY)
    secrets = {f.file: f for f in audit.findings if f.kind == "secret"}
    assert secrets["app/new.py"].severity == "critical"  # not in the baseline: a new leak
    for path in ("deploy.sh", "app/settings.py"):
        assert secrets[path].severity == "info", path
        assert "listed in the repository's .secrets.baseline" in secrets[path].message
    assert known_token[4:] not in audit.model_dump_json()

    (root / ".secrets.baseline").write_text("{not json")
    audit = audit_repo(root, "base", AuditPolicy(), KEY)
    assert ".secrets.baseline: not a detect-secrets baseline (JSONDecodeError)" in (
        audit.stats.unreadable
    )
    assert {f.severity for f in audit.findings if f.file == "deploy.sh"} == {"critical"}


def test_fingerprints_match_within_an_audit_and_not_across_keys(tmp_path: Path) -> None:
    key = "AKIA" + fake("aws", 16).upper()
    root = write_repo(tmp_path / "r", {"a.py": f'K = "{key}"\n', "b.py": f'K = "{key}"\n'})
    first, second = detect(root / "a.py", KEY), detect(root / "b.py", KEY)
    assert first[0].fingerprint == second[0].fingerprint == fingerprint(key, KEY)
    assert detect(root / "a.py", b"other")[0].fingerprint != first[0].fingerprint


def test_policy_files_are_checked_with_every_problem_named(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[minimum.pypi]\nRequests = "2.31"\n[tests]\nmin_ratio = 0.5\n')
    policy = load_policy(good)
    assert str(policy.minimum_for("pypi", "requests")) == "2.31"
    assert policy.tests.min_ratio == 0.5
    bad = tmp_path / "bad.toml"
    bad.write_text('[minimum.pypi]\nrequests = "two"\nflask = "x.y"\n')
    with pytest.raises(PolicyError, match="requests: 'two' is not a version.*flask"):
        load_policy(bad)
    (tmp_path / "worse.toml").write_text("[minimum.cargo]\nserde = '1'\n")
    with pytest.raises(PolicyError, match="minimum.cargo"):
        load_policy(tmp_path / "worse.toml")
    with pytest.raises(PolicyError, match="not valid TOML"):
        (tmp_path / "broken.toml").write_text("[minimum\n")
        load_policy(tmp_path / "broken.toml")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")
