"""The parts of a team spec: the roles' settings and the team's limits (plain data).

``TeamSpec`` and ``SpecialistSpec`` (``orchestra.state.spec``) are assembled from these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from orchestra.state.model_settings import ModelSettings

# The JSON Schema (``orchestra schema``) describes a team *file*: a string or a mapping;
# chat model objects are for specs built in code and have no JSON form.
ModelRef = (
    Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "description": "offline, <provider>:<model> (openai, anthropic, ollama, ... "
                "through LangChain's init_chat_model), or import:<module>:<attribute>",
                "examples": ["offline", "openai:gpt-4o-mini", "ollama:llama3.1"],
            }
        ),
    ]
    | ModelSettings
    | SkipJsonSchema[InstanceOf[BaseChatModel]]
)
"""A model: a string such as ``"openai:gpt-4o-mini"``, ``ModelSettings``, or a chat model."""

ImportRef = Annotated[
    str | Callable[..., Any] | InstanceOf[object],
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*(:[A-Za-z_][A-Za-z0-9_.]*)?$",
            "description": "an import path module:attribute, looked up beside the team file "
            "first, then in the working directory, then among the installed packages",
            "examples": ["my_tools:lookup"],
        }
    ),
]
"""An import path ``"module:attribute"`` or the object itself (see ``load_team`` for where
a team file's import paths are looked up)."""


class Spec(BaseModel):
    """Base of every spec part: unknown keys are errors, objects are allowed."""

    # Field docstrings become the JSON Schema's descriptions (editor hints in team files).
    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, use_attribute_docstrings=True
    )


class RoleSpec(Spec):
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
    planner: ImportRef | None = None
    """A code planner in place of the model's plan, for mechanical splits ("one subtask per
    repository"): a function ``(task: str) -> Plan | list[Subtask | dict]``, which may also
    declare a ``RunData[Deps]`` parameter to receive the run's deps (as checks do). It is
    called each round, no model call is made for planning, and its plan passes the same
    plan checks and approval as a model's. Subtasks already planned are left out, at most
    ``max_workers_per_round`` run per round and the rest wait for later rounds; planning
    ends when nothing new is left (the round budget must cover the rounds this takes)."""


class SynthesizerSpec(RoleSpec):
    """The synthesizer: a model that reasons over the results, optionally fed a digest."""

    digest: ImportRef | None = None
    """A function ``(outputs: dict[str, BaseModel]) -> BaseModel`` run in code over the accepted
    outputs (by subtask id) before the model: ranking, merging, reconciling. Its result is
    kept in state as ``digest`` and shown to the model, which explains rather than recounts."""


class ApprovalSpec(Spec):
    """Human approval: the run pauses (LangGraph ``interrupt``) until someone decides."""

    plan: bool = False
    """Each plan waits for approval before dispatch: approve, edit it, or reject it with a
    reason the orchestrator re-plans from (rejections count against max_plan_revisions)."""
    tool_calls: list[str] = Field(default_factory=list)
    """Specialists whose tool calls wait for approval. Each model reply's calls are shown
    together: approve them, edit their arguments, or reject them with a reason the
    specialist reads as the tools' answer. A resumed run repeats no model or tool call."""


class ValidatorSpec(Spec):
    """The validator: schema checks always run; ``checks`` add team-wide ones."""

    checks: list[ImportRef] = Field(default_factory=list)
    """Callables ``(output: BaseModel) -> str | None`` applied to every result; a returned
    string is the feedback sent back to the specialist."""


class Limits(Spec):
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
    """Retries of one model call on transient provider errors (429, 5xx, timeouts): at
    most ``1 + retry_attempts`` requests per call (a role's ``max_retries`` overrides it)."""
    retry_initial_s: Annotated[float, Field(ge=0, le=60)] = 0.5
    """First backoff's bound; each retry's doubles (full jitter), at most 60 s per wait;
    a provider's ``Retry-After`` is honoured instead."""
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
