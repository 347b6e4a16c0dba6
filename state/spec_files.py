"""Team files: a team spec read from and written to YAML or JSON.

Import paths in a team file (tools, output types, checks, the digest) are looked up in
the team file's folder first, then in the working directory, then on ``sys.path``; so
``orchestra run my_team.yaml`` finds ``my_tools.py`` lying beside it, from any working
directory. A nested team file's imports are looked up in its own folder, then in its
parent's. ``load_team`` records the folders on the spec (``TeamSpec.import_folders``) and
a run stores them (``search_folders``), so a resume finds the same modules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from orchestra.state.errors import TeamSpecError
from orchestra.state.spec import TeamSpec

Where = tuple[str, ...]
"""A nested team's place in its root team: the specialist names leading to it."""


def team_from_data(
    data: object, *, source: str = "<data>", import_folders: Iterable[str | Path] = ()
) -> TeamSpec:
    """Validate loaded data as a team, turning pydantic's errors into one ``TeamSpecError``.

    ``import_folders`` are where the team's import paths are looked up first (as
    ``TeamSpec.importing_from``), e.g. the folders a stored run was started with.
    """
    try:
        team = TeamSpec.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise TeamSpecError(source, lines) from None
    folders = tuple(import_folders)
    return team.importing_from(*folders) if folders else team


def search_folders(team: TeamSpec) -> list[str]:
    """Every folder the imports of ``team`` and its nested teams are looked up in, absolute.

    The working directory comes last, as it is now: a run stores this list, so a resume
    from another directory (or process) looks where the run did.
    """
    found: dict[str, None] = {}

    def walk(spec: TeamSpec) -> None:
        found.update((str(f), None) for f in spec.import_folders)
        for specialist in spec.specialists:
            if specialist.team is not None:
                walk(specialist.team)

    walk(team)
    found[str(Path.cwd())] = None
    return list(found)


MAX_TEAM_FILE_BYTES = 1_000_000
"""A team file is a page of settings; anything far larger is a mistake or an attack."""
MAX_TEAM_VALUES = 100_000
"""Values a team file may expand to: YAML aliases share one object many times over, so a
few hundred bytes can stand for billions of values ("billion laughs")."""


def _read(file: Path) -> object:
    try:
        size = file.stat().st_size
        if size > MAX_TEAM_FILE_BYTES:
            limit = f"{MAX_TEAM_FILE_BYTES // 1_000_000} MB"
            raise TeamSpecError(
                str(file), [f"the team file is {size:,} bytes; team files are limited to {limit}"]
            )
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TeamSpecError(str(file), [f"cannot read the team file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise TeamSpecError(str(file), [f"the team file is not UTF-8 text: {exc.reason}"]) from None
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TeamSpecError(str(file), [f"not valid {file.suffix[1:] or 'YAML'}: {exc}"]) from None
    if _expands_past(data, MAX_TEAM_VALUES):
        raise TeamSpecError(
            str(file),
            [f"the team file expands to more than {MAX_TEAM_VALUES:,} values (YAML aliases?)"],
        )
    return data


def _expands_past(data: object, limit: int) -> bool:
    """Whether ``data`` read as a tree (shared parts counted each time) has over ``limit`` values.

    The walk stops at the limit, so it costs at most that.
    """
    todo, seen = [data], 0
    while todo:
        seen += 1
        if seen > limit:
            return True
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend(value.keys())
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return False


def _inline_teams(
    data: object, file: Path, including: tuple[Path, ...], at: Where, folders: dict[Where, Path]
) -> object:
    """Replace each specialist's ``team: path`` with that file's data, relative to ``file``.

    ``folders`` gets each inlined file's folder, by the nested team's place.
    """
    if not isinstance(data, dict):
        return data
    for spec in data.get("specialists") or []:
        if not isinstance(spec, dict):
            continue
        place = (*at, str(spec.get("name")))
        if isinstance(spec.get("team"), str):
            nested = (file.parent / spec["team"]).resolve()
            if nested in including:
                raise TeamSpecError(str(file), [f"team files include each other: {nested}"])
            folders[place] = nested.parent
            spec["team"] = _inline_teams(
                _read(nested), nested, (*including, nested), place, folders
            )
        elif isinstance(spec.get("team"), dict):
            spec["team"] = _inline_teams(spec["team"], file, including, place, folders)
    return data


def _placed(team: TeamSpec, folders: dict[Where, Path], at: Where = ()) -> TeamSpec:
    """``team`` with each nested team file's own folder first in its import folders."""
    specialists = [
        s
        if s.team is None
        else s.model_copy(update={"team": _placed(s.team, folders, (*at, s.name))})
        for s in team.specialists
    ]
    placed = team.model_copy(update={"specialists": specialists})
    return placed.importing_from(folders[at]) if at in folders else placed


def load_team(path: str | Path) -> TeamSpec:
    """Load a team from a ``.yaml``/``.yml`` or ``.json`` file (nested team files inlined).

    The team's import paths are looked up in the file's folder first (see the module's
    docstring), so the user code a team file names can sit beside it.
    """
    file = Path(path)
    folders: dict[Where, Path] = {}
    data = _inline_teams(_read(file), file, (file.resolve(),), (), folders)
    team = _placed(team_from_data(data, source=str(file)), folders)
    return team.importing_from(file.resolve().parent)


def save_team(team: TeamSpec, path: str | Path) -> None:
    """Write a team to ``.yaml``/``.yml`` or ``.json`` (round-trips with ``load_team``)."""
    file = Path(path)
    data = team.to_data()
    if file.suffix == ".json":
        file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:
        file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
