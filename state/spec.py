"""The team spec: one typed description of a team that every pattern compiles from.

A spec is plain data. Tools, output types and checks are named by import path
(``"package.module:attribute"``) so a team can live in a YAML or JSON file; Python
users may pass the objects themselves. Nothing here imports a tool or builds a
model: resolution happens in ``nodes`` at build (tools) or run (models) time.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import yaml
from langchain_core.language_models import BaseChatModel
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    ValidationError,
    field_validator,
)

from orchestra.state.budget import Budget, Price
from orchestra.state.errors import TeamSpecError
from orchestra.state.model_refs import model_ref_problem
from orchestra.state.patterns import FanOutSpec, PatternName, PipelineSpec, pattern_problems

ModelRef = str | InstanceOf[BaseChatModel]
"""A model: a string such as ``"offline"`` or ``"openai:gpt-4o-mini"``, or a chat model."""

ImportRef = str | Callable[..., Any] | InstanceOf[object]
"""An import path ``"module:attribute"`` or the object itself."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class RoleSpec(_Spec):
    """The orchestrator's or the synthesizer's model and instructions."""

    model: ModelRef | None = None
    """This role's model; falls back to the team's model, then to the default."""
    prompt: str | None = None
    """Role instructions replacing the built-in ones; the framework still appends the roster,
    task and results, so the prompt only has to say *how* to work."""


class OrchestratorSpec(RoleSpec):
    """The orchestrator: plans a round of subtasks, then reviews the results."""

    review: bool = True
    """After the work, see the results and plan another round or finish (within
    ``max_rounds``). ``False``: one plan, then straight to the synthesizer: one model call
    and one model round fewer, for tasks whose parts are all known up front."""


class SynthesizerSpec(RoleSpec):
    """The synthesizer: a model that reasons over the results, optionally fed a digest."""

    digest: ImportRef | None = None
    """A function ``(outputs: dict[str, BaseModel]) -> BaseModel`` run in code over the accepted
    outputs (by subtask id) before the model: ranking, merging, reconciling. Its result is
    kept in state as ``digest`` and shown to the model, which explains rather than recounts."""


class ApprovalSpec(_Spec):
    """Human approval: the run pauses (LangGraph ``interrupt``) until someone decides."""

    plan: bool = False
    """Each plan waits for approval before dispatch: approve, edit it, or reject it with a
    reason the orchestrator re-plans from (rejections count against max_plan_revisions)."""
    tool_calls: list[str] = Field(default_factory=list)
    """Specialists whose tool calls wait for approval. Each model reply's calls are shown
    together: approve them, edit their arguments, or reject them with a reason the
    specialist reads as the tools' answer. A resumed run repeats no model or tool call."""


class ValidatorSpec(_Spec):
    """The validator: schema checks always run; ``checks`` add team-wide ones."""

    checks: list[ImportRef] = Field(default_factory=list)
    """Callables ``(output: BaseModel) -> str | None`` applied to every result; a returned
    string is the feedback sent back to the specialist."""


class SpecialistSpec(_Spec):
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
    max_steps: Annotated[int, Field(ge=1, le=100)] = 6
    """Model calls this specialist may make for one subtask (its tool-calling loop's cap)."""
    budget: Budget = Field(default_factory=Budget)
    """Tokens, cost and time this specialist may spend on one subtask."""
    team: TeamSpec | None = None
    """A whole team doing this specialist's job (``pattern: hierarchical``). In a file, an
    inline team or the path of a team file, relative to this file."""


class Limits(_Spec):
    """Domain caps. Every loop in a team is bounded by one of these, not by luck."""

    max_workers_per_round: Annotated[int, Field(ge=1, le=1000)] = 8
    """Subtasks one plan may dispatch; extra subtasks are dropped with a note."""
    max_rounds: Annotated[int, Field(ge=1, le=50)] = 3
    """Plans the orchestrator may make (the first plan is round 1)."""
    max_revisions: Annotated[int, Field(ge=0, le=20)] = 2
    """Times one subtask may be sent back to its specialist after a rejection."""
    max_plan_revisions: Annotated[int, Field(ge=0, le=10)] = 2
    """Times a plan with problems goes back to the orchestrator with them, per round."""
    max_model_calls: Annotated[int, Field(ge=1)] = 500
    """Model calls across the whole run; no new work is dispatched past it."""
    recursion_limit: Annotated[int, Field(ge=5)] = 250
    """LangGraph super-steps per run; passed to every invocation explicitly."""
    max_concurrency: Annotated[int, Field(ge=1, le=1024)] = 16
    """Workers of this team that run at once (sync and async); the others wait their turn."""
    retry_attempts: Annotated[int, Field(ge=1, le=20)] = 4
    """Tries of a model-calling node on transient provider errors (429, 5xx, timeouts)."""
    retry_initial_s: Annotated[float, Field(ge=0, le=60)] = 0.5
    """First backoff; each retry waits twice as long (with jitter), at most 20 s."""
    max_depth: Annotated[int, Field(ge=1, le=10)] = 3
    """Levels of nested teams, this one included (1: no specialist may be a team)."""

    @property
    def task_pool(self) -> int:
        """LangGraph's ``max_concurrency`` for this team's graph.

        It has room for every worker of a round, the steps of those taking their turn,
        and checkpoint writes. Workers take turns by ``max_concurrency`` themselves
        (``orchestra.state.context.Gate``), so
        LangGraph's one pool never makes a finished worker's writes wait behind queued
        workers, nor a worker wait for a pool thread its own steps need.
        """
        return self.max_workers_per_round + self.max_concurrency + 2


class TeamSpec(_Spec):
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
        raise KeyError(f"team {self.name!r} has no specialist {name!r}")

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
        found = self._specialist_problems()
        for where, ref in self._roles():
            if isinstance(ref, str) and (problem := model_ref_problem(ref)):
                found.append(f"{where}model: {problem}")
        teams = tuple(s.name for s in self.specialists if s.team is not None)
        found += pattern_problems(
            self.pattern, self.specialist_names, self.pipeline, self.fan_out, teams
        )
        if self.approval.plan and self.pattern not in ("orchestrator_workers", "hierarchical"):
            found.append(f"approval.plan: pattern {self.pattern!r} has a fixed plan to approve")
        found += self._approval_problems()
        found += self._nesting_problems()
        found += self._budget_problems()
        return found

    def _approval_problems(self) -> list[str]:
        found: list[str] = []
        by_name = {s.name: s for s in self.specialists}
        for name in self.approval.tool_calls:
            spec = by_name.get(name)
            if spec is None:
                found.append(f"approval.tool_calls: {name!r} is not a specialist of this team")
            elif spec.team is not None:
                found.append(
                    f"approval.tool_calls: {name!r} is a team; list its specialists in that "
                    "team's own approval.tool_calls"
                )
            elif not spec.tools:
                found.append(f"approval.tool_calls: {name!r} has no tools to approve")
        return found

    def _budget_problems(self) -> list[str]:
        """Children's fixed budgets must fit in the parent's (a parent's budget is carved)."""
        found: list[str] = []
        for field in ("max_tokens", "max_cost_usd"):
            mine = getattr(self.budget, field)
            fixed = [child_budget(s, field) for s in self.specialists]
            carved = sum(v for v in fixed if v is not None)
            if mine is not None and carved > mine:
                found.append(
                    f"budget.{field}: the specialists' budgets together ({carved:g}) exceed "
                    f"the team's ({mine:g})"
                )
        for spec in self.specialists:
            timeout = child_budget(spec, "timeout_s")
            if self.budget.timeout_s is not None and timeout and timeout > self.budget.timeout_s:
                found.append(
                    f"specialists.{spec.name}.budget.timeout_s: {timeout:g} exceeds the team's "
                    f"{self.budget.timeout_s:g}"
                )
            if spec.team is not None:
                for field in ("max_tokens", "max_cost_usd", "timeout_s"):
                    own, inner = getattr(spec.budget, field), getattr(spec.team.budget, field)
                    if own is not None and inner is not None and inner > own:
                        found.append(
                            f"specialists.{spec.name}.team.budget.{field}: {inner:g} exceeds "
                            f"the specialist's {own:g}"
                        )
        return found

    def _specialist_problems(self) -> list[str]:
        found: list[str] = []
        if not self.specialists:
            found.append("the team has no specialists")
        seen: set[str] = set()
        # Built-in node names of the patterns; stage validators are named validate_<stage>.
        reserved = {
            "orchestrator",
            "dispatch",
            "validator",
            "synthesizer",
            "pipeline",
            "finish",
            "scatter",
            "gather",
            "approve_plan",
        }
        for spec in self.specialists:
            where = f"specialists.{spec.name}"
            if not spec.name.isidentifier() or keyword.iskeyword(spec.name):
                found.append(f"{where}: name must be a Python identifier")
            if spec.name in reserved or spec.name.startswith("validate_"):
                found.append(f"{where}: name is reserved for a built-in node")
            if spec.name in seen:
                found.append(f"{where}: duplicate specialist name")
            seen.add(spec.name)
            if not spec.description.strip():
                found.append(f"{where}: description is empty (the orchestrator plans from it)")
        return found

    def _nesting_problems(self) -> list[str]:
        """Depth within the cap, children within the parent's limits, children sound."""
        found: list[str] = []
        if self.depth > self.limits.max_depth:
            found.append(
                f"limits.max_depth: teams are nested {self.depth} levels deep, more than "
                f"{self.limits.max_depth}"
            )
        mine = self.limits
        for spec in self.specialists:
            if spec.team is None:
                continue
            where = f"specialists.{spec.name}.team"
            theirs = spec.team.limits
            for field in ("max_rounds", "max_workers_per_round", "max_concurrency"):
                if getattr(theirs, field) > getattr(mine, field):
                    found.append(
                        f"{where}.limits.{field}: {getattr(theirs, field)} exceeds the parent's "
                        f"{getattr(mine, field)}"
                    )
            found += [f"{where}: {problem}" for problem in spec.team.problems()]
        return found

    def objects(self) -> list[str]:
        """Fields holding Python objects rather than strings (they cannot go to a file)."""
        found = [f"{w}model" for w, r in self._roles() if r is not None and not isinstance(r, str)]
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


def child_budget(spec: SpecialistSpec, field: str) -> float | None:
    """A child's fixed budget: its own, else its nested team's."""
    own: float | None = getattr(spec.budget, field)
    if own is None and spec.team is not None:
        own = getattr(spec.team.budget, field)
    return own


SpecialistSpec.model_rebuild()


def team_from_data(data: object, *, source: str = "<data>") -> TeamSpec:
    """Validate loaded data as a team, turning pydantic's errors into one ``TeamSpecError``."""
    try:
        return TeamSpec.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise TeamSpecError(source, lines) from None


def _read(file: Path) -> object:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TeamSpecError(str(file), [f"cannot read the team file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise TeamSpecError(str(file), [f"the team file is not UTF-8 text: {exc.reason}"]) from None
    try:
        return json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TeamSpecError(str(file), [f"not valid {file.suffix[1:] or 'YAML'}: {exc}"]) from None


def _inline_teams(data: object, file: Path, including: tuple[Path, ...]) -> object:
    """Replace each specialist's ``team: path`` with that file's data, relative to ``file``."""
    if not isinstance(data, dict):
        return data
    for spec in data.get("specialists") or []:
        if isinstance(spec, dict) and isinstance(spec.get("team"), str):
            nested = (file.parent / spec["team"]).resolve()
            if nested in including:
                raise TeamSpecError(str(file), [f"team files include each other: {nested}"])
            spec["team"] = _inline_teams(_read(nested), nested, (*including, nested))
        elif isinstance(spec, dict) and isinstance(spec.get("team"), dict):
            spec["team"] = _inline_teams(spec["team"], file, including)
    return data


def load_team(path: str | Path) -> TeamSpec:
    """Load a team from a ``.yaml``/``.yml`` or ``.json`` file (nested team files inlined)."""
    file = Path(path)
    data = _inline_teams(_read(file), file, (file.resolve(),))
    return team_from_data(data, source=str(file))


def save_team(team: TeamSpec, path: str | Path) -> None:
    """Write a team to ``.yaml``/``.yml`` or ``.json`` (round-trips with ``load_team``)."""
    file = Path(path)
    data = team.to_data()
    if file.suffix == ".json":
        file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:
        file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
