"""The built wheel works on its own, beside a project with its own state.py, nodes.py, graphs/.

The wheel is built from a copy of the working tree and installed, with its dependencies
from the package index (as a user's ``pip install`` does; about half a minute here, pip
having the wheels cached), into a fresh virtual environment.

``ORCHESTRA_WHEEL_LINK_DEPS=1`` is the faster way for a machine without the index or its
cache: the fresh environment then sees the test environment's installed distributions
through a ``.pth`` file listing a folder of links to them, from which orchestra's own
editable install (its dist-info and the ``.pth`` of its link tree) is left out. pip still
resolves the wheel's declared requirements against them and installs only the wheel, and
``pip check`` must pass either way; orchestra's code can come from nowhere but the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import registry_guard

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".orchestra",
    ".*_cache",
    ".ipynb_checkpoints",
)


def _linked(entry: Path) -> bool:
    """Whether a fresh environment sees this entry of the test environment's site-packages.

    Not orchestra's editable install (nothing of orchestra may come from the source tree),
    no ``.pth`` file, and not pip (the fresh environment is driven by the test's own pip).
    """
    name = entry.name
    ours = name.startswith(("orchestra", "__editable__"))
    return not ours and entry.suffix != ".pth" and name != "pip" and not name.startswith("pip-")


# A user's project whose module names were orchestra's top-level packages; each one says
# so loudly if orchestra ever imports it.
USER_PROJECT = {
    "state.py": "raise ImportError('the project\\'s own state.py was imported')\n",
    "nodes.py": "raise ImportError('the project\\'s own nodes.py was imported')\n",
    "graphs/__init__.py": "raise ImportError('the project\\'s own graphs/ was imported')\n",
}


@dataclass(frozen=True)
class Installed:
    """The wheel, and the fresh environment it is installed in."""

    wheel: Path
    venv: Path

    @property
    def bin(self) -> Path:
        """The environment's executables."""
        return self.venv / "bin"


def _run(
    command: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


def _link_dependencies(venv: Path, into: Path) -> None:
    """Make the test environment's third-party distributions visible in ``venv``."""
    site = Path(sysconfig.get_paths()["purelib"])
    into.mkdir()
    for entry in site.iterdir():
        if _linked(entry):
            (into / entry.name).symlink_to(entry)
    (target,) = venv.glob("lib/python3*/site-packages")
    (target / "test-dependencies.pth").write_text(f"{into}\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            work / "dist",
            source,
        ]
    )
    (wheel,) = (work / "dist").glob("orchestra-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    if os.environ.get("ORCHESTRA_WHEEL_LINK_DEPS"):
        _link_dependencies(venv, work / "dependencies")
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python"]
    _run([*pip, "install", "-q", wheel])
    _run([*pip, "check"])
    yield Installed(wheel, venv)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder but for the user's own state.py, nodes.py and graphs/."""
    for name, text in USER_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _env(installed: Installed, **extra: str) -> dict[str, str]:
    scrubbed = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI", "ORCHESTRA", "PYTHON", "VIRTUAL_ENV"))
    }
    path = f"{installed.bin}{os.pathsep}{scrubbed.get('PATH', '')}"
    return scrubbed | registry_guard() | {"PATH": path, "LANGSMITH_TRACING": "false"} | extra


def test_the_wheel_holds_the_orchestra_packages_and_their_data(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}

    assert tops == {"orchestra", "orchestra_audit"}  # no top-level state, nodes or graphs
    assert "orchestra_audit/__init__.py" in names
    for folder, pattern in (("graphs/teams", "*.yaml"), ("nodes/data", "*.md")):
        shipped = {f"orchestra/{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert shipped and shipped <= names, shipped - names
    typed = {"orchestra", "orchestra/state", "orchestra/nodes", "orchestra/graphs"}
    assert {f"{p}/py.typed" for p in typed} | {"orchestra_audit/py.typed"} <= names


def test_the_installed_wheel_runs_beside_a_users_own_packages(
    installed: Installed, project: Path
) -> None:
    env = _env(installed)
    python, orchestra = installed.bin / "python", installed.bin / "orchestra"

    found = _run(
        [python, "-c", "import orchestra, orchestra_audit; print(orchestra.__file__)"],
        cwd=project,
        env=env,
    )
    assert Path(found.stdout.strip()).is_relative_to(installed.venv)
    version = _run([orchestra, "--version"], cwd=project, env=env).stdout.strip()
    assert version == "orchestra 0.1.0"

    _run([orchestra, "samples", "samples"], cwd=project, env=env)
    audit = _run(
        [orchestra, "audit", "samples", "--policy", "samples/policy.toml", "--json"],
        cwd=project,
        env=env,
    )
    assert json.loads(audit.stdout)["status"] == "completed"

    # The user's own tool, output type and check, in modules beside the team file; run
    # with the project folder first on sys.path (python -m), where its state.py lies.
    shutil.copytree(ROOT / "examples" / "user_team", project / "support")
    task = "Where is order A-1001?"
    command = [python, "-m", "orchestra", "run", "support/team.yaml", "--task", task, "--json"]
    result = json.loads(_run(command, cwd=project, env=env).stdout)
    assert result["status"] == "completed"
    (only,) = result["results"].values()
    assert only["tool_calls"] == ["order_status"]
    assert only["output"]["status"] == "shipped"


def _checkpoints(db: Path, thread: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            query = "select count(*) from checkpoints where thread_id = ?"
            return int(conn.execute(query, (thread,)).fetchone()[0])
    except sqlite3.OperationalError:  # the table is created by the first write
        return 0


def test_the_installed_wheel_resumes_a_killed_audit(installed: Installed, project: Path) -> None:
    orchestra = installed.bin / "orchestra"
    _run([orchestra, "samples", "samples"], cwd=project, env=_env(installed))
    slow = _env(installed, ORCHESTRA_OFFLINE_LATENCY_MS="400")
    command = [str(orchestra), "audit", "samples", "--thread", "killed", "--max-concurrency", "1"]
    audit = subprocess.Popen(
        command, cwd=project, env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    db = project / ".orchestra" / "checkpoints.sqlite"
    deadline = time.monotonic() + 120
    while _checkpoints(db, "killed") < 1 and audit.poll() is None:
        assert time.monotonic() < deadline, "the audit never wrote its first checkpoint"
        time.sleep(0.02)
    audit.send_signal(signal.SIGKILL)
    _, err = audit.communicate(timeout=30)
    assert audit.returncode == -signal.SIGKILL, f"the audit ended before the kill: {err}"

    resumed = _run([orchestra, "resume", "killed", "--json"], cwd=project, env=_env(installed))

    assert json.loads(resumed.stdout)["status"] == "completed"
