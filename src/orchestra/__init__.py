"""orchestra: orchestrator-specialist teams compiled to LangGraph state machines.

Everything a user needs is importable from here; the subpackages (``orchestra.state``,
``orchestra.nodes``, ``orchestra.graphs``) are the framework's layers, and what they do
not re-export here is internal. Test doubles live in :mod:`orchestra.testing`.

Importing ``orchestra`` is cheap (no LangChain or LangGraph until a name is used)::

    >>> import orchestra
    >>> team = orchestra.TeamSpec(
    ...     name="demo",
    ...     specialists=[orchestra.SpecialistSpec(name="writer", description="Writes.")],
    ... )
    >>> with orchestra.open_checkpointer(":memory:") as saver:
    ...     result = orchestra.run_team(team, "One line.", saver=saver, model="offline")
    >>> result.status
    'completed'
"""

from __future__ import annotations

import typing
from importlib.metadata import PackageNotFoundError, version

from orchestra.state.lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from orchestra.graphs.cli import EXIT
    from orchestra.graphs.patterns import build, compile_team
    from orchestra.graphs.pictures import render_png
    from orchestra.graphs.render import render_result
    from orchestra.graphs.runner import (
        ModelChoice,
        OnEvent,
        OnUpdate,
        RunResult,
        open_checkpointer,
        resume_run,
        run_team,
        snapshot,
    )
    from orchestra.graphs.team_files import example_teams
    from orchestra.nodes.chat_models import default_model_ref
    from orchestra.nodes.model_check import check_models
    from orchestra.state.budget import PRICES, Envelope, Price, Totals, price_of, totals
    from orchestra.state.context import (
        RunContext,
        RunData,
        StopSignal,
        SubtaskView,
        TeamContext,
    )
    from orchestra.state.errors import (
        CheckpointerError,
        ContextTooLongError,
        DecisionError,
        DepsError,
        ModelConfigError,
        NotResumableError,
        NotWaitingError,
        OrchestraError,
        RenderError,
        RunNotFoundError,
        RunStateError,
        RunStopped,
        TeamMismatchError,
        TeamSpecError,
        ThreadBusyError,
        ThreadExistsError,
        TransientModelError,
    )
    from orchestra.state.events import EventKind, ProgressEvent
    from orchestra.state.model_settings import ModelSettings
    from orchestra.state.outputs import Plan, SpecialistOutput, Subtask, Synthesis
    from orchestra.state.patterns import PATTERNS, FanOutSpec, JoinPolicy, PatternName, PipelineSpec
    from orchestra.state.role_specs import (
        ApprovalSpec,
        Limits,
        OrchestratorSpec,
        SynthesizerSpec,
        ValidatorSpec,
    )
    from orchestra.state.spec import SpecialistSpec, TeamSpec
    from orchestra.state.spec_files import load_team, save_team
    from orchestra.state.team_state import (
        TERMINAL,
        RunReason,
        RunStatus,
        SubtaskReason,
        SubtaskStatus,
    )

try:
    __version__ = version("orchestra")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

_MODULES = (
    "orchestra.state.errors",
    "orchestra.state.patterns",
    "orchestra.state.budget",
    "orchestra.state.events",
    "orchestra.state.model_settings",
    "orchestra.state.outputs",
    "orchestra.state.team_state",
    "orchestra.state.role_specs",
    "orchestra.state.spec",
    "orchestra.state.spec_files",
    "orchestra.state.context",
    "orchestra.nodes.chat_models",
    "orchestra.nodes.model_check",
    "orchestra.graphs.patterns",
    "orchestra.graphs.runner",
    "orchestra.graphs.team_files",
    "orchestra.graphs.pictures",
    "orchestra.graphs.render",
    "orchestra.graphs.cli",
)

__all__ = [
    "ApprovalSpec",
    "CheckpointerError",
    "ContextTooLongError",
    "DecisionError",
    "DepsError",
    "EXIT",
    "Envelope",
    "EventKind",
    "FanOutSpec",
    "JoinPolicy",
    "Limits",
    "ModelChoice",
    "ModelConfigError",
    "ModelSettings",
    "NotResumableError",
    "NotWaitingError",
    "OnEvent",
    "OnUpdate",
    "OrchestraError",
    "OrchestratorSpec",
    "PATTERNS",
    "PRICES",
    "PatternName",
    "PipelineSpec",
    "Plan",
    "Price",
    "ProgressEvent",
    "RenderError",
    "RunContext",
    "RunData",
    "RunNotFoundError",
    "RunReason",
    "RunResult",
    "RunStateError",
    "RunStatus",
    "RunStopped",
    "SpecialistOutput",
    "SpecialistSpec",
    "StopSignal",
    "Subtask",
    "SubtaskReason",
    "SubtaskStatus",
    "SubtaskView",
    "Synthesis",
    "SynthesizerSpec",
    "TERMINAL",
    "TeamContext",
    "TeamSpec",
    "TeamSpecError",
    "TeamMismatchError",
    "ThreadBusyError",
    "ThreadExistsError",
    "Totals",
    "TransientModelError",
    "ValidatorSpec",
    "__version__",
    "build",
    "compile_team",
    "check_models",
    "default_model_ref",
    "example_teams",
    "load_team",
    "open_checkpointer",
    "price_of",
    "render_png",
    "render_result",
    "resume_run",
    "run_team",
    "save_team",
    "snapshot",
    "totals",
]

__getattr__ = _lazy_getattr("orchestra", globals(), _MODULES, __all__)
