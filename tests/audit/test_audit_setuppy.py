"""setup.py (read from its syntax tree, never run), setup.cfg and Pipfile declarations."""

from __future__ import annotations

import shutil
from pathlib import Path

from audit_helpers import state_dir, write_repo  # noqa: F401 (state_dir: autouse fixture)

from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import FileText
from orchestra_audit.manifests import Declared, ManifestError, declared, setup_cfg, setup_py
from orchestra_audit.policy import AuditPolicy

KEY = b"test-key"
FIXTURES = Path(__file__).parent / "lockfiles"


def fixture(rel: str) -> FileText:
    path = FIXTURES / rel
    return FileText(rel, path, path.read_text(encoding="utf-8"))


def rows(items: list[Declared] | ManifestError) -> list[tuple[str, int, str]]:
    assert isinstance(items, list), items
    return [(i.name, i.line, i.constraint.shape) for i in items]


def test_setup_cfg_install_requires_and_extras_with_their_lines() -> None:
    items = setup_cfg(fixture("setuptools/setup.cfg"))
    got = rows(items)
    assert got[:3] == [
        ("invoke", 49, "unpinned"),
        ("attrs", 50, "unpinned"),
        ("pytest", 26, "unpinned"),
    ]
    assert ("black", 33, "unpinned") in got  # 'black;python_version>="3.6"': a marker
    assert len(got) == 18
    assert all(i.library for i in items if isinstance(i, Declared))  # setuptools metadata


def test_a_setup_py_that_computes_everything_declares_nothing_readable() -> None:
    """pipenv's fake package opens files and raises when run: read, it just has no list."""
    assert rows(setup_py(fixture("setuptools/setup.py"))) == []


def test_setup_py_keyword_dicts_as_poetry_writes_them() -> None:
    # setup(**setup_kwargs) with a module-level dict naming a module-level extras dict
    assert rows(setup_py(fixture("setup-kwargs/setup.py"))) == [
        ("pendulum", 10, "unbounded"),
        ("cachy", 10, "unbounded"),
    ]
    # kwargs = dict(install_requires=[...], extras_require={...}); setup(**kwargs)
    assert rows(setup_py(fixture("setup-dict/setup.py"))) == [
        ("pendulum", 25, "unbounded"),
        ("cleo", 26, "unpinned"),
    ]


def test_setup_py_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    source = (
        "import pathlib, sys\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "sys.exit(3)\n"
        "BASE = ['requests>=2.31,<3', 'click']\n"
        "DEV = ['pytest==8.3.3']\n"
        "import setuptools\n"
        "setuptools.setup(\n"
        "    name='trap',\n"
        "    install_requires=BASE + ['rich'],\n"
        "    extras_require={'dev': DEV, 'docs': read_docs_requirements()},\n"
        ")\n"
    )
    root = write_repo(tmp_path / "trap", {"setup.py": source})
    audit = audit_repo(root, "trap", AuditPolicy(), KEY)
    assert not marker.exists()
    deps = {(d.name, d.spec, d.line) for d in audit.dependencies}
    assert deps == {
        ("requests", "<3,>=2.31", 4),
        ("click", "", 4),
        ("rich", "", 9),
        ("pytest", "==8.3.3", 5),
    }
    unpinned = {f.subject for f in audit.findings if f.rule == "dependency.unpinned"}
    assert unpinned == {"pypi:click", "pypi:rich"}


def test_broken_setup_files_are_manifest_errors_and_the_rest_is_read(tmp_path: Path) -> None:
    files = [
        FileText("a/setup.py", tmp_path, "setup(install_requires=[\n"),
        FileText("b/setup.cfg", tmp_path, "install_requires = x\n"),  # no section header
        FileText("c/setup.py", tmp_path, "setup(install_requires=['idna==3.7'])\n"),
    ]
    items, errors = declared(files)
    assert [(e.file, e.reason.split(":")[0]) for e in errors] == [
        ("a/setup.py", "not valid Python"),
        ("b/setup.cfg", "not a valid setup.cfg"),
    ]
    assert [(i.file, i.name) for i in items] == [("c/setup.py", "idna")]


def test_pipfile_declarations_are_pinned_by_pipfile_lock(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(FIXTURES / "pipenv", root)
    audit = audit_repo(root, "app", AuditPolicy(), KEY)
    deps = {d.name: (d.spec, d.locked, d.line) for d in audit.dependencies}
    assert deps["requests"] == (">=2.32.0", "2.33.0", 7)
    assert deps["pytest"] == (">=7.4.0", "9.0.3", 14)  # [dev-packages]
    severities = {f.subject: f.severity for f in audit.findings if f.kind == "dependency"}
    assert severities["pypi:requests"] == "info"  # unbounded, but the lock pins it
    assert set(severities.values()) == {"info"}
