"""Graph pictures are drawn offline by Graphviz's ``dot`` (``orchestra.graphs.pictures``), also from
``orchestra graph TEAM --png FILE``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ecosystem import unavailable

import orchestra.graphs.examples as examples
from orchestra.graphs.pictures import RendererMissingError, png_size, render_png, to_dot

ROOT = Path(__file__).parents[2]
EXPORTED = sorted(json.loads((ROOT / "langgraph.json").read_text())["graphs"])


@pytest.fixture
def dot() -> str:
    found = shutil.which("dot")
    if found is None:
        unavailable("Graphviz's dot is not on PATH: install graphviz (apt-get install graphviz)")
    return found


@pytest.mark.parametrize("name", EXPORTED)
def test_the_dot_text_has_every_node_and_edge_and_dashes_the_routes(name: str) -> None:
    drawn = getattr(examples, name).get_graph()
    text = to_dot(drawn, title=name)
    for node in drawn.nodes.values():
        assert f'"{node.id}" [' in text
    for edge in drawn.edges:
        line = f'"{edge.source}" -> "{edge.target}"'
        assert (line + " [style=dashed]" in text) == edge.conditional, line
        assert line in text
    assert 'fillcolor="#fff1cc"' in text  # specialists are coloured by their role


@pytest.mark.parametrize("name", EXPORTED)
def test_every_exported_graph_renders_to_a_png(dot: str, name: str) -> None:
    data = render_png(getattr(examples, name), title=name)
    width, height = png_size(data)
    assert 200 <= width <= 4000 and 300 <= height <= 4000, (width, height)


def test_a_longer_pipeline_draws_a_taller_picture(dot: str) -> None:
    _, short = png_size(render_png(examples.research_single_agent))
    _, tall = png_size(render_png(examples.report_pipeline))
    assert tall > short * 1.5


def test_the_cli_writes_the_png_file(dot: str, tmp_path: Path) -> None:
    target = tmp_path / "pictures" / "research.png"
    done = subprocess.run(
        [sys.executable, "-m", "orchestra", "graph", "research", "--png", str(target)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = png_size(data)
    assert f"wrote {target} ({width}x{height} PNG)" in done.stdout
    assert width > 300 and height > 300


def test_without_graphviz_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RendererMissingError, match="apt-get install graphviz"):
        render_png(examples.research)
    done = subprocess.run(
        [sys.executable, "-m", "orchestra", "graph", "research", "--png", "x.png"],
        cwd=tmp_path,
        env=os.environ | {"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "needs Graphviz's 'dot' program" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_png_size_rejects_what_is_not_a_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))
