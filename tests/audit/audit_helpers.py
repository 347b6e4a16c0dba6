"""Shared pieces of the audit tests: an isolated state directory, repositories, the CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import orchestra_cli

from orchestra_audit.samples import Planted, generate_samples


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary state directory: should anything write per-user state (the audit keeps
    its scope in the checkpoint and writes none), it never reaches the real user's."""
    folder = tmp_path_factory.mktemp("orchestra-state")
    monkeypatch.setenv("ORCHESTRA_STATE_DIR", str(folder))
    return folder


def write_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """A repository made of ``files`` (path -> text or bytes)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture(name="demo")
def demo_set(tmp_path: Path) -> Iterator[tuple[Path, list[Planted]]]:
    """The shipped demo set, freshly generated, and its planted problems."""
    folder = tmp_path / "demo"
    yield folder, generate_samples(folder)


def secret_values(demo_folder: Path) -> list[str]:
    """Every secret planted in the demo set, read back from the files (for leak checks)."""

    def after(rel: str, line: int, sep: str) -> str:
        text = (demo_folder / rel).read_text(encoding="utf-8").splitlines()[line - 1]
        return text.split(sep, 1)[1].strip().strip("'\";")

    pem = (demo_folder / "inventory-service/deploy/server.pem").read_text().splitlines()
    return [
        after("payments-api/payments/config.py", 5, "="),
        after("payments-api/payments/config.py", 6, "="),
        after("storefront/.env", 2, "="),
        after("storefront/scripts/deploy.js", 2, "="),
        after("analytics-worker/worker/settings.py", 2, "="),
        *pem[1:-1],  # the key's body, not its BEGIN/END lines
    ]


def orchestra(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does, in a subprocess, offline, with its own state folder."""
    return orchestra_cli(
        *args, cwd=cwd, env={"ORCHESTRA_STATE_DIR": str(cwd / ".state")} | (env or {})
    )
