"""What resolving a team spec would import, and which of it is the framework's own code.

A run stores its team spec in the checkpoint database, which is a file anyone with write
access can rewrite. Resuming from that copy may only import code orchestra itself ships:
``framework_only`` says what else the copy names, before anything is imported.
"""

from __future__ import annotations

from orchestra.state.model_settings import ModelSettings
from orchestra.state.role_specs import ModelRef
from orchestra.state.spec import TeamSpec

__all__ = ["FRAMEWORK_PACKAGES", "foreign_imports", "import_refs", "module_of"]

FRAMEWORK_PACKAGES = ("orchestra", "orchestra_audit")
"""Top-level packages installed with orchestra: the only code a stored spec may name."""


def module_of(ref: str) -> str:
    """The module an import path names: ``pkg.mod`` of ``pkg.mod:attr`` or ``pkg.mod.attr``."""
    module, sep, _ = ref.partition(":")
    return module if sep else ref.rpartition(".")[0]


def _model_ref(ref: ModelRef | None) -> str | None:
    text = ref.model if isinstance(ref, ModelSettings) else ref
    if isinstance(text, str) and text.startswith("import:"):
        return text.removeprefix("import:")
    return None


def import_refs(team: TeamSpec) -> list[tuple[str, str]]:
    """Every import path ``team`` names (nested teams' too), as ``(where, path)``.

    Tools, output types, checks, the digest hook, the code planner and ``import:`` models;
    objects given in place of paths are not listed (they are already imported).

    Example:
        >>> from orchestra.state import SpecialistSpec
        >>> team = TeamSpec(name="t", specialists=[
        ...     SpecialistSpec(name="a", description="x", tools=["my_tools:lookup"])])
        >>> import_refs(team)
        [('specialists.a.tools', 'my_tools:lookup')]
    """
    found: list[tuple[str, str]] = []

    def add(where: str, refs: list[object]) -> None:
        found.extend((where, ref) for ref in refs if isinstance(ref, str))

    def walk(spec: TeamSpec, prefix: str) -> None:
        roles = [
            ("model", spec.model),
            ("orchestrator.model", spec.orchestrator.model),
            ("synthesizer.model", spec.synthesizer.model),
        ]
        for where, ref in roles:
            if (path := _model_ref(ref)) is not None:
                found.append((prefix + where, path))
        add(prefix + "validator.checks", list(spec.validator.checks))
        add(prefix + "synthesizer.digest", [spec.synthesizer.digest])
        add(prefix + "orchestrator.planner", [spec.orchestrator.planner])
        for specialist in spec.specialists:
            where = f"{prefix}specialists.{specialist.name}."
            add(where + "tools", list(specialist.tools))
            add(where + "output", [specialist.output])
            add(where + "checks", list(specialist.checks))
            if (path := _model_ref(specialist.model)) is not None:
                found.append((where + "model", path))
            if specialist.team is not None:
                walk(specialist.team, where + "team.")

    walk(team, "")
    return found


def foreign_imports(team: TeamSpec) -> list[str]:
    """The import paths of ``team`` outside ``FRAMEWORK_PACKAGES``, as ``where: path``."""
    return [
        f"{where}: {path}"
        for where, path in import_refs(team)
        if module_of(path).partition(".")[0] not in FRAMEWORK_PACKAGES
    ]
