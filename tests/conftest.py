"""Shared fixtures. No test may reach a model provider: the environment is scrubbed of keys
and endpoints, so a stray default resolves to the offline model. No test may reach a package
registry or OSV either: the audit's registry checks run offline on an empty cache, and should
a test turn offline off without pointing them at a stand-in, they meet a closed port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from orchestra.graphs import CompiledTeam, compile_team
from orchestra.state import SpecialistSpec, TeamContext, TeamSpec


@pytest.fixture(autouse=True)
def _no_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ORCHESTRA_MODEL",
        "LANGSMITH_API_KEY",
        "LANGCHAIN_API_KEY",
        "ORCHESTRA_OFFLINE_LATENCY_MS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")


CLOSED_PORT = "http://127.0.0.1:9"
"""The discard port: nothing listens on it here, so a connection is refused at once."""

REGISTRY_SETTINGS = (
    "ORCHESTRA_AUDIT_OFFLINE",
    "ORCHESTRA_REGISTRY_CACHE",
    "ORCHESTRA_PYPI_URL",
    "ORCHESTRA_NPM_REGISTRY",
    "ORCHESTRA_OSV_URL",
)
"""What keeps the audit's registry checks off the network, passed on to CLI subprocesses."""


@pytest.fixture(autouse=True)
def _no_registries(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("ORCHESTRA_AUDIT_OFFLINE", "1")
    monkeypatch.setenv("ORCHESTRA_REGISTRY_CACHE", str(tmp_path_factory.mktemp("registry-cache")))
    for name in ("ORCHESTRA_PYPI_URL", "ORCHESTRA_NPM_REGISTRY", "ORCHESTRA_OSV_URL"):
        monkeypatch.setenv(name, CLOSED_PORT)
    for name in ("ORCHESTRA_REGISTRY_TTL", "ORCHESTRA_REGISTRY_TIMEOUT", "npm_config_registry"):
        monkeypatch.delenv(name, raising=False)


def registry_guard() -> dict[str, str]:
    """The registry settings of this test, for a subprocess whose environment is scrubbed."""
    return {k: os.environ[k] for k in REGISTRY_SETTINGS if k in os.environ}


def make_team(*names: str, tools: dict[str, list[Any]] | None = None, **spec: Any) -> TeamSpec:
    """A team with one specialist per name (description mentions the name)."""
    tools = tools or {}
    specialists = [
        SpecialistSpec(
            name=n,
            description=f"{n.replace('_', ' ')} work",
            tools=tools.get(n, []),
            **spec.pop(f"{n}_spec", {}),
        )
        for n in names
    ]
    return TeamSpec(name=spec.pop("name", "test"), specialists=specialists, **spec)


def run_config(thread: str = "t1", **extra: Any) -> dict[str, Any]:
    return {
        "configurable": {"thread_id": thread},
        "recursion_limit": 100,
        "max_concurrency": 16,
        **extra,
    }


@pytest.fixture
def memory() -> Iterator[InMemorySaver]:
    yield InMemorySaver()


def compiled(team: TeamSpec, saver: InMemorySaver | None = None) -> CompiledTeam:
    return compile_team(team, checkpointer=saver or InMemorySaver())


def context(model: Any) -> TeamContext:
    return TeamContext(model=model)


def orchestra_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does: in a subprocess, offline, with no provider settings."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCHESTRA"))}
    full_env |= registry_guard() | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def disconnected(nodes: set[str], edges: set[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """Nodes not reachable from ``__start__``, and nodes from which ``__end__`` is unreachable."""

    def reach(start: str, links: dict[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for following in links[todo.pop()] - seen:
                seen.add(following)
                todo.append(following)
        return seen

    forward: dict[str, set[str]] = {n: set() for n in nodes}
    backward: dict[str, set[str]] = {n: set() for n in nodes}
    for source, target in edges:
        forward[source].add(target)
        backward[target].add(source)
    return nodes - reach("__start__", forward), nodes - reach("__end__", backward)


def base_state(**values: Any) -> dict[str, Any]:
    """A team's state before anything ran, with ``values`` over it (for nodes run alone)."""
    return {
        "task": "t",
        "plan": [],
        "results": {},
        "verdicts": [],
        "notes": [],
        "caps": [],
        "model_calls": 0,
    } | values
