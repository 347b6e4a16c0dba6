"""The public API is drawn in one place, and the docs and notebooks use only it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import orchestra
import orchestra.testing

ROOT = Path(__file__).parents[1]
PUBLIC_MODULES = {"orchestra", "orchestra.testing"}


def test_every_exported_name_resolves() -> None:
    for module in (orchestra, orchestra.testing):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"{module.__name__}.__all__ names what it lacks: {missing}"


def test_importing_orchestra_loads_no_langchain() -> None:
    code = (
        "import sys, orchestra\n"
        "orchestra.__version__\n"
        "heavy = {'langgraph', 'langchain_core', 'langsmith', 'rich', 'pydantic'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def _code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    if path.suffix == ".md":
        return "\n".join(re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S))
    return path.read_text(encoding="utf-8")


DOCS = sorted([ROOT / "README.md", *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("examples/**/*.py")])


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_import_only_the_public_api(path: Path) -> None:
    imported = re.findall(r"^\s*(?:from|import)\s+(orchestra[\w.]*)", _code_of(path), re.M)
    private = sorted(set(imported) - PUBLIC_MODULES)
    assert not private, f"{path.name} imports internals: {private}"
