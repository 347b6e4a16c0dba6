"""Importing the packages needs no key, no network, and builds no model client."""

from __future__ import annotations

import subprocess
import sys

import orchestra.graphs
import orchestra.nodes
import orchestra.state


def test_imports_build_no_client_and_load_no_provider_sdk() -> None:
    code = (
        "import sys, orchestra.graphs, orchestra.nodes, orchestra.state\n"
        "from orchestra.graphs import build\n"
        "from orchestra.graphs.team_files import example_teams\n"
        "from orchestra.state import load_team\n"
        "build(load_team(example_teams()['research'])).compile().get_graph().draw_mermaid()\n"
        "print(sorted(m for m in ('openai', 'langchain_openai') if m in sys.modules))\n"
    )
    env = {"PATH": "", "LANGSMITH_TRACING": "false"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_public_surfaces_are_complete() -> None:
    for module in (orchestra.graphs, orchestra.nodes, orchestra.state):
        exported = set(module.__all__)
        assert all(hasattr(module, name) for name in exported)
        public = {n for n in vars(module) if not n.startswith("_")} - {
            "annotations",
            *[m for m in vars(module) if isinstance(getattr(module, m), type(sys))],
        }
        assert public <= exported, public - exported


def test_the_cli_parser_loads_no_langchain() -> None:
    # `orchestra --help` must answer fast: nothing of LangChain/LangGraph is imported for it.
    code = (
        "import sys\n"
        "from orchestra.graphs.cli import _parser\n"
        "_parser().format_help()\n"
        "heavy = {'langgraph', 'langchain_core', 'langsmith', 'rich'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    env = {"PATH": "", "LANGSMITH_TRACING": "false"}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
