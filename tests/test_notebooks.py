"""Notebooks are thin clients of the packages: committed without outputs, and they run."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from ecosystem import unavailable
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    names = {p.stem for p in NOTEBOOKS}
    patterns = {"pipeline", "fan_out", "hierarchical", "single_agent"}  # + quickstart's
    assert {
        "quickstart",
        "resume_and_time_travel",
        "budgets_and_ledger",
        "human_approval",
    } | patterns <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs_and_executes(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any("pip install" in c.source for c in code)
    # Thin clients: graphs and nodes come from the packages, not from the notebook.
    assert not any("StateGraph(" in c.source or ".add_node(" in c.source for c in code)
    draws = any("render_png" in c.source for c in code)
    if draws and shutil.which("dot") is None:
        unavailable(f"{path.name} draws its graph with Graphviz: install graphviz (dot)")
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert any(o.output_type == "stream" for c in code for o in c.outputs)
    if draws:
        assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
