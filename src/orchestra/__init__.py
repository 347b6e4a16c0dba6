"""orchestra: orchestrator-specialist teams compiled to LangGraph state machines.

Everything a user needs is importable from here; the subpackages (``orchestra.state``,
``orchestra.nodes``, ``orchestra.graphs``) are the framework's layers, and what they do
not re-export here is internal. Test doubles live in :mod:`orchestra.testing`.

Importing ``orchestra`` is cheap (no LangChain or LangGraph until a name is used)::

    >>> import orchestra
    >>> from langgraph.checkpoint.memory import InMemorySaver
    >>> team = orchestra.TeamSpec(
    ...     name="demo",
    ...     specialists=[orchestra.SpecialistSpec(name="writer", description="Writes.")],
    ... )
    >>> result = orchestra.run_team(
    ...     team, "Write one line about LangGraph.", saver=InMemorySaver(), model="offline"
    ... )
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
    from orchestra.graphs.runner import (
        ModelChoice,
        OnEvent,
        OnUpdate,
        RunNotFoundError,
        RunResult,
        open_checkpointer,
        resume_run,
        run_team,
        snapshot,
    )
    from orchestra.nodes.chat_models import default_model_ref
    from orchestra.nodes.retry import TransientModelError
    from orchestra.state.budget import PRICES, Envelope, Price, Totals, totals
    from orchestra.state.context import (
        RunContext,
        RunData,
        RunStopped,
        StopSignal,
        SubtaskView,
        TeamContext,
    )
    from orchestra.state.errors import ModelConfigError, OrchestraError, TeamSpecError
    from orchestra.state.events import EventKind, ProgressEvent
    from orchestra.state.outputs import Plan, SpecialistOutput, Subtask, Synthesis
    from orchestra.state.patterns import PATTERNS, FanOutSpec, JoinPolicy, PatternName, PipelineSpec
    from orchestra.state.spec import (
        ApprovalSpec,
        Limits,
        OrchestratorSpec,
        SpecialistSpec,
        SynthesizerSpec,
        TeamSpec,
        ValidatorSpec,
        load_team,
        save_team,
    )
    from orchestra.state.team_state import TERMINAL, RunStatus, SubtaskStatus

try:
    __version__ = version("orchestra")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

_MODULES = (
    "orchestra.state.errors",
    "orchestra.state.patterns",
    "orchestra.state.budget",
    "orchestra.state.events",
    "orchestra.state.outputs",
    "orchestra.state.team_state",
    "orchestra.state.spec",
    "orchestra.state.context",
    "orchestra.nodes.retry",
    "orchestra.nodes.chat_models",
    "orchestra.graphs.patterns",
    "orchestra.graphs.runner",
    "orchestra.graphs.cli",
)

__all__ = [
    "EXIT",
    "PATTERNS",
    "PRICES",
    "TERMINAL",
    "ApprovalSpec",
    "Envelope",
    "EventKind",
    "FanOutSpec",
    "JoinPolicy",
    "Limits",
    "ModelChoice",
    "ModelConfigError",
    "OnEvent",
    "OnUpdate",
    "OrchestraError",
    "OrchestratorSpec",
    "PatternName",
    "PipelineSpec",
    "Plan",
    "Price",
    "ProgressEvent",
    "RunNotFoundError",
    "RunContext",
    "RunData",
    "RunResult",
    "RunStopped",
    "RunStatus",
    "SpecialistOutput",
    "SpecialistSpec",
    "StopSignal",
    "Subtask",
    "SubtaskView",
    "SubtaskStatus",
    "Synthesis",
    "SynthesizerSpec",
    "TeamContext",
    "TeamSpec",
    "TeamSpecError",
    "Totals",
    "TransientModelError",
    "ValidatorSpec",
    "__version__",
    "build",
    "compile_team",
    "default_model_ref",
    "load_team",
    "open_checkpointer",
    "resume_run",
    "run_team",
    "save_team",
    "snapshot",
    "totals",
]

__getattr__ = _lazy_getattr("orchestra", globals(), _MODULES, __all__)
