"""The team spec: one typed description of a team that every pattern compiles from.

A spec is plain data. Tools, output types and checks are named by import path
(``"package.module:attribute"``) so a team can live in a YAML or JSON file; Python
users may pass the objects themselves. Nothing here imports a tool or builds a
model: resolution happens in ``nodes`` at build (tools) or run (models) time. A team
loaded from a file remembers the file's folder (``TeamSpec.import_folders``), where its
import paths are looked up first.

The parts live beside this module: the roles and limits in ``orchestra.state.role_specs``,
the structural checks in ``orchestra.state.spec_problems``, files in
``orchestra.state.spec_files``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, field_validator

from orchestra.state.budget import PRICES, Budget, Price
from orchestra.state.errors import TeamSpecError, brief
from orchestra.state.model_refs import model_ref_problem
from orchestra.state.model_settings import ModelSettings
from orchestra.state.patterns import FanOutSpec, PatternName, PipelineSpec, pattern_problems
from orchestra.state.role_specs import (
    ApprovalSpec,
    ImportRef,
    Limits,
    ModelRef,
    OrchestratorSpec,
    RoleSpec,
    Spec,
    SynthesizerSpec,
    ValidatorSpec,
)
from orchestra.state.spec_problems import (
    approval_problems,
    budget_problems,
    nesting_problems,
    price_problems,
    specialist_problems,
)


def _team_file_allowed(schema: dict[str, Any]) -> None:
    """In a file, ``team`` may also be the path of a team file (``load_team`` inlines it)."""
    schema["anyOf"] = [
        *schema.get("anyOf", []),
        {"type": "string", "description": "a team file's path, relative to this file"},
    ]


__all__ = [
    "ApprovalSpec",
    "ImportRef",
    "Limits",
    "ModelRef",
    "ModelSettings",
    "OrchestratorSpec",
    "RoleSpec",
    "SpecialistSpec",
    "SynthesizerSpec",
    "TeamSpec",
    "ValidatorSpec",
]


class SpecialistSpec(Spec):
    """One narrow worker: its own prompt, tools, model, output type and step cap."""

    name: str
    """An identifier; the set of names becomes the ``Literal`` the orchestrator routes by."""
    description: str
    """What the specialist is good at. The orchestrator plans from this text."""
    prompt: str | None = None
    """The specialist's own instructions."""
    tools: list[ImportRef] = Field(default_factory=list)
    """LangChain tools or plain functions; the specialist can call these and nothing else."""
    model: ModelRef | None = None
    """This specialist's model; falls back to the team's model, then to the default."""
    output: ImportRef | None = None
    """A pydantic model class for the typed result (default: ``state.SpecialistOutput``)."""
    checks: list[ImportRef] = Field(default_factory=list)
    """Declared checks ``(output) -> str | None`` the validator runs on this one's results."""
    output_from_tools: list[str] = Field(default_factory=list)
    """Names of this specialist's tools whose result may already be its output (like the
    OpenAI Agents SDK's ``StopAtTools``). When one of them returns a value that validates
    as the output type (a pydantic object, or a dict or JSON text), the subtask ends with
    that output at once, and the model is not called again to copy it into the output
    tool; the validator then judges it as any output. A result that does not validate is
    answered to the model with the validation error, and the loop goes on."""
    max_steps: Annotated[int, Field(ge=1, le=100)] = 6
    """Model calls this specialist may make for one subtask (its tool-calling loop's cap)."""
    budget: Budget = Field(default_factory=Budget)
    """Tokens, cost and time this specialist may spend on one subtask."""
    team: TeamSpec | None = Field(default=None, json_schema_extra=_team_file_allowed)
    """A whole team doing this specialist's job (``pattern: hierarchical``). In a file, an
    inline team or the path of a team file, relative to this file."""


class TeamSpec(Spec):
    """A whole team: orchestrator, specialists, validator, synthesizer and limits.

    Example:
        >>> team = TeamSpec(
        ...     name="demo",
        ...     specialists=[SpecialistSpec(name="researcher", description="finds facts")],
        ... )
        >>> team.specialist_names
        ('researcher',)
    """

    name: str
    description: str = ""
    model: ModelRef | None = None
    """Default model for every role of this team."""
    orchestrator: OrchestratorSpec = Field(default_factory=OrchestratorSpec)
    specialists: list[SpecialistSpec]
    validator: ValidatorSpec = Field(default_factory=ValidatorSpec)
    synthesizer: SynthesizerSpec = Field(default_factory=SynthesizerSpec)
    limits: Limits = Field(default_factory=Limits)
    budget: Budget = Field(default_factory=Budget)
    """Tokens, cost and time the whole run may spend, carved into its workers' envelopes."""
    prices: dict[str, Price] = Field(default_factory=dict)
    """USD per million tokens by model name, over ``orchestra.state.budget.PRICES``."""
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec)
    pattern: PatternName = "orchestrator_workers"
    """The shape the team runs in (see ``orchestra.state.patterns``)."""
    pipeline: PipelineSpec = Field(default_factory=PipelineSpec)
    fan_out: FanOutSpec = Field(default_factory=FanOutSpec)

    _import_folders: tuple[Path, ...] = PrivateAttr(default=())

    @field_validator("orchestrator", mode="before")
    @classmethod
    def _role_as_orchestrator(cls, value: object) -> object:
        """A plain ``RoleSpec`` (the type before ``review``) reads as an ``OrchestratorSpec``."""
        if isinstance(value, RoleSpec) and not isinstance(value, OrchestratorSpec):
            return {name: getattr(value, name) for name in value.model_fields_set}
        return value

    @property
    def depth(self) -> int:
        """Levels of teams: 1, plus the deepest nested team's depth."""
        return 1 + max((s.team.depth for s in self.specialists if s.team), default=0)

    @property
    def specialist_names(self) -> tuple[str, ...]:
        """The specialists' names in spec order."""
        return tuple(s.name for s in self.specialists)

    def specialist(self, name: str) -> SpecialistSpec:
        """The specialist called ``name``."""
        for spec in self.specialists:
            if spec.name == name:
                return spec
        raise KeyError(f"team {brief(self.name)} has no specialist {brief(name)}")

    def _roles(self) -> list[tuple[str, ModelRef | None]]:
        return [
            ("", self.model),
            ("orchestrator.", self.orchestrator.model),
            ("synthesizer.", self.synthesizer.model),
            *((f"specialists.{s.name}.", s.model) for s in self.specialists),
        ]

    def problems(self) -> list[str]:
        """Every structural problem of the spec (empty when it is sound).

        Import paths are not resolved here; ``orchestra.nodes.resolve`` adds those problems.
        """
        found = specialist_problems(self)
        for where, ref in self._roles():
            if isinstance(ref, str) and (problem := model_ref_problem(ref)):
                found.append(f"{where}model: {problem}")
        teams = tuple(s.name for s in self.specialists if s.team is not None)
        found += pattern_problems(
            self.pattern, self.specialist_names, self.pipeline, self.fan_out, teams
        )
        if self.approval.plan and self.pattern not in ("orchestrator_workers", "hierarchical"):
            found.append(
                f"approval.plan: pattern {brief(self.pattern)} has a fixed plan to approve"
            )
        found += approval_problems(self)
        found += nesting_problems(self)
        found += budget_problems(self)
        found += price_problems(self)
        return found

    def role_models(self) -> list[tuple[str, ModelRef | None]]:
        """Each role's own model or else the team's, by where it is set (``orchestrator.``).

        Specialists that are teams are left out (their roles are in their own team).
        """
        return [
            ("orchestrator.", self.orchestrator.model or self.model),
            ("synthesizer.", self.synthesizer.model or self.model),
            *(
                (f"specialists.{s.name}.", s.model or self.model)
                for s in self.specialists
                if s.team is None
            ),
        ]

    def price_table(self) -> dict[str, Price]:
        """Prices by model name: the built-in table, then ``prices:``, then the roles' own.

        Example:
            >>> team = TeamSpec(
            ...     name="t",
            ...     model={"model": "ollama:llama3.1", "price": {"input": 0, "output": 0}},
            ...     specialists=[SpecialistSpec(name="a", description="x")],
            ... )
            >>> team.price_table()["llama3.1"].output
            0.0
        """
        own = {
            ref.name: ref.price
            for _, ref in self._roles()
            if isinstance(ref, ModelSettings) and ref.price is not None
        }
        return {**PRICES, **self.prices, **own}

    @property
    def import_folders(self) -> tuple[Path, ...]:
        """Folders this team's import paths are looked up in before the working directory.

        ``load_team`` sets them: the team file's folder (a nested team file's own folder
        first, then its parent's). A team built in Python has none unless given them with
        ``importing_from``; its import paths resolve from the working directory and
        ``sys.path`` as usual.
        """
        return self._import_folders

    def importing_from(self, *folders: str | Path) -> TeamSpec:
        """A copy of this team whose import paths are looked up in ``folders`` first.

        The folders come after the team's own; nested teams get them too, after theirs.

        Example:
            >>> team = TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")])
            >>> team.importing_from("/srv/teams").import_folders
            (PosixPath('/srv/teams'),)
        """
        own = self._import_folders
        wanted = dict.fromkeys(Path(f).absolute() for f in folders)
        placed = own + tuple(f for f in wanted if f not in own)
        specialists = [
            s if s.team is None else s.model_copy(update={"team": s.team.importing_from(*placed)})
            for s in self.specialists
        ]
        copy = self.model_copy(update={"specialists": specialists})
        copy._import_folders = placed
        return copy

    def __eq__(self, other: object) -> bool:
        """Teams are equal when their data is; the folders they were loaded from do not count."""
        if not isinstance(other, TeamSpec):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def objects(self) -> list[str]:
        """Fields holding Python objects rather than strings (they cannot go to a file)."""
        found = [
            f"{w}model"
            for w, r in self._roles()
            if r is not None and not isinstance(r, str | ModelSettings)
        ]
        for spec in self.specialists:
            where = f"specialists.{spec.name}"
            found += [f"{where}.tools" for t in spec.tools if not isinstance(t, str)][:1]
            found += [f"{where}.checks" for c in spec.checks if not isinstance(c, str)][:1]
            if spec.output is not None and not isinstance(spec.output, str):
                found.append(f"{where}.output")
            if spec.team is not None:
                found += [f"{where}.team.{held}" for held in spec.team.objects()]
        found += ["validator.checks" for c in self.validator.checks if not isinstance(c, str)][:1]
        if self.synthesizer.digest is not None and not isinstance(self.synthesizer.digest, str):
            found.append("synthesizer.digest")
        if self.orchestrator.planner is not None and not isinstance(self.orchestrator.planner, str):
            found.append("orchestrator.planner")
        return found

    def to_data(self) -> dict[str, Any]:
        """The spec as JSON-able data; fails if it holds objects instead of import paths."""
        if held := self.objects():
            raise TeamSpecError(
                self.name,
                [
                    f"{where} holds a Python object, not an import path or model string, "
                    "so the spec cannot be saved to a file"
                    for where in held
                ],
            )
        return self.model_dump(mode="json", exclude_defaults=True)


SpecialistSpec.model_rebuild()
