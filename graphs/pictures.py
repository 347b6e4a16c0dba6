"""Graph pictures drawn offline: DOT text rendered to PNG by Graphviz's ``dot`` program.

LangGraph's ``draw_mermaid_png()`` sends the diagram to a web service, and its
``draw_png()`` needs pygraphviz compiled against Graphviz's headers. This module needs
only the ``dot`` executable (Debian/Ubuntu: ``apt-get install graphviz``; macOS:
``brew install graphviz``): it writes the graph as DOT text — nodes coloured by their
``role`` metadata, conditional routes dashed — and pipes it through ``dot -Tpng``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from langchain_core.runnables import Runnable
from langchain_core.runnables.graph import Graph
from langgraph.graph import END, START

from orchestra.state import RenderError

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz), or print Mermaid text with 'orchestra graph TEAM'"
)

ROLE_COLOURS = {
    "orchestrator": "#dbe7ff",
    "planner": "#dbe7ff",
    "dispatch": "#eeeeee",
    "specialist": "#fff1cc",
    "validator": "#ffdede",
    "join": "#eeeeee",
    "synthesizer": "#d9f2df",
    "finish": "#d9f2df",
}
"""Fill colour of a node by its ``role`` metadata (others are white)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RendererMissingError(RenderError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_graph(drawable: Graph | Runnable[object, object]) -> Graph:
    return drawable if isinstance(drawable, Graph) else drawable.get_graph()


def to_dot(drawable: Graph | Runnable[object, object], *, title: str | None = None) -> str:
    """The graph (or a compiled graph) as Graphviz DOT text.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> from orchestra.graphs.patterns import compile_team
        >>> team = TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")])
        >>> dot = to_dot(compile_team(team))
        >>> '"dispatch" -> "a" [style=dashed]' in dot, '"a" -> "validator"' in dot
        (True, True)
    """
    graph = _as_graph(drawable)
    lines = [
        "digraph {",
        '  graph [rankdir=TB, fontname="Helvetica", pad=0.3, nodesep=0.35, ranksep=0.45'
        + (f", label={_quote(title)}, labelloc=t, fontsize=16" if title else "")
        + "];",
        '  node [shape=box, style="rounded,filled", fillcolor=white, color="#555555", '
        'fontname="Helvetica", fontsize=12];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    for node in graph.nodes.values():
        if node.id in (START, END):
            label = "start" if node.id == START else "end"
            lines.append(
                f'  {_quote(node.id)} [label={label}, shape=oval, fillcolor="#333333", '
                "fontcolor=white, fontsize=10];"
            )
            continue
        role = (node.metadata or {}).get("role")
        fill = ROLE_COLOURS.get(str(role), "white")
        lines.append(f"  {_quote(node.id)} [label={_quote(node.name)}, fillcolor={_quote(fill)}];")
    for edge in graph.edges:
        attributes = ["style=dashed"] if edge.conditional else []
        if edge.data is not None:
            attributes.append(f"label={_quote(str(edge.data))}")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG image, read from its header."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_png(
    drawable: Graph | Runnable[object, object], *, title: str | None = None, dpi: int = 96
) -> bytes:
    """The graph drawn as PNG bytes by the local ``dot`` (no network).

    Raises:
        RendererMissingError: ``dot`` is not on ``PATH``; the message says what to install.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise RendererMissingError(f"drawing a PNG needs Graphviz's 'dot' program: {INSTALL_HINT}")
    done = subprocess.run(
        [dot, "-Tpng", f"-Gdpi={dpi}"],
        input=to_dot(drawable, title=title).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith(PNG_SIGNATURE):
        raise RenderError(f"Graphviz failed to draw the graph: {done.stderr.decode().strip()}")
    return done.stdout


def write_png(
    drawable: Graph | Runnable[object, object], path: str | Path, *, title: str | None = None
) -> tuple[int, int]:
    """Draw the graph into the PNG file ``path``; return its width and height."""
    data = render_png(drawable, title=title)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return png_size(data)
