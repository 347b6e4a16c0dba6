"""Finding team files (a path, or the name of a shipped example) and their JSON Schema."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from orchestra.state import TeamSpec, TeamSpecError


def example_teams() -> dict[str, Path]:
    """The example team files shipped with orchestra, by name."""
    folder = resources.files("orchestra.graphs").joinpath("teams")
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".yaml")}


def team_path(name: str) -> Path:
    """A team file path, or the path of the shipped example of that name."""
    path = Path(name)
    if path.exists():
        return path
    examples = example_teams()
    if name in examples:
        return examples[name]
    known = ", ".join(sorted(examples))
    raise TeamSpecError(name, [f"no such team file (shipped examples: {known})"])


def team_schema() -> dict[str, Any]:
    """The JSON Schema of a team file (``orchestra schema``), for editors' completion.

    Example:
        >>> schema = team_schema()
        >>> schema["$ref"], "SpecialistSpec" in schema["$defs"]
        ('#/$defs/TeamSpec', True)
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "orchestra team file",
        **TeamSpec.model_json_schema(),
    }
