"""Data: the team spec, graph state, model outputs and errors. Imports nothing of orchestra's.

Importing ``state`` is cheap: each name is imported from its module on first use, so
``orchestra --help`` loads no LangChain. Type checkers see the imports below.
"""

from __future__ import annotations

import typing

from orchestra.state.lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from orchestra.state.budget import (
        PRICES,
        AccountLimits,
        Budget,
        Envelope,
        LargestPrompt,
        LedgerEntry,
        Price,
        Totals,
        largest_prompt,
        merge_ledger,
        price_of,
        status_entry,
        totals,
    )
    from orchestra.state.context import (
        NO_CONTEXT,
        Gate,
        RunContext,
        RunData,
        StopSignal,
        SubtaskView,
        TeamContext,
        deps_data,
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
        TeamSpecError,
        ThreadBusyError,
        ThreadExistsError,
        TransientModelError,
    )
    from orchestra.state.events import EventKind, ProgressEvent
    from orchestra.state.model_limits import MODEL_LIMITS, ModelLimits, limits_of
    from orchestra.state.model_refs import PROVIDERS, Provider, model_ref_problem, parse_model_ref
    from orchestra.state.model_settings import ModelSettings, StructuredOutput, model_choice
    from orchestra.state.outputs import Plan, SpecialistOutput, Subtask, Synthesis, plan_model
    from orchestra.state.patterns import PATTERNS, FanOutSpec, JoinPolicy, PatternName, PipelineSpec
    from orchestra.state.purse import Purse
    from orchestra.state.role_specs import (
        ApprovalSpec,
        Limits,
        ModelRef,
        OrchestratorSpec,
        RoleSpec,
        SynthesizerSpec,
        ValidatorSpec,
    )
    from orchestra.state.spec import SpecialistSpec, TeamSpec
    from orchestra.state.spec_files import load_team, save_team, search_folders, team_from_data
    from orchestra.state.team_state import (
        TERMINAL,
        CapName,
        DependencyResult,
        FailureCode,
        Judge,
        PendingPlan,
        RunFailure,
        RunOrigin,
        RunReason,
        RunStatus,
        SubtaskReason,
        SubtaskRecord,
        SubtaskStatus,
        TeamInput,
        TeamState,
        Verdict,
        WorkerInput,
        WorkerResult,
        merge_results,
        status_of,
    )

# Where the names live, the cheap modules first (a name is looked up in this order).
_MODULES = (
    "orchestra.state.errors",
    "orchestra.state.patterns",
    "orchestra.state.budget",
    "orchestra.state.events",
    "orchestra.state.model_refs",
    "orchestra.state.model_settings",
    "orchestra.state.model_limits",
    "orchestra.state.outputs",
    "orchestra.state.team_state",
    "orchestra.state.role_specs",
    "orchestra.state.spec",
    "orchestra.state.spec_files",
    "orchestra.state.context",
    "orchestra.state.purse",
)

__all__ = [
    "ApprovalSpec",
    "PRICES",
    "AccountLimits",
    "Budget",
    "Envelope",
    "EventKind",
    "ProgressEvent",
    "LargestPrompt",
    "LedgerEntry",
    "largest_prompt",
    "Price",
    "Totals",
    "merge_ledger",
    "price_of",
    "totals",
    "PATTERNS",
    "FanOutSpec",
    "JoinPolicy",
    "PatternName",
    "PendingPlan",
    "PipelineSpec",
    "PROVIDERS",
    "TERMINAL",
    "CapName",
    "DependencyResult",
    "Limits",
    "ModelConfigError",
    "ModelRef",
    "ModelSettings",
    "MODEL_LIMITS",
    "ModelLimits",
    "limits_of",
    "StructuredOutput",
    "OrchestraError",
    "CheckpointerError",
    "ContextTooLongError",
    "DecisionError",
    "DepsError",
    "NotResumableError",
    "NotWaitingError",
    "RenderError",
    "RunNotFoundError",
    "RunStateError",
    "ThreadBusyError",
    "ThreadExistsError",
    "TransientModelError",
    "Plan",
    "Provider",
    "OrchestratorSpec",
    "RoleSpec",
    "RunOrigin",
    "FailureCode",
    "Judge",
    "RunFailure",
    "RunReason",
    "SubtaskReason",
    "RunStatus",
    "SpecialistOutput",
    "SpecialistSpec",
    "Subtask",
    "SubtaskRecord",
    "SubtaskStatus",
    "Synthesis",
    "SynthesizerSpec",
    "TeamContext",
    "Gate",
    "Purse",
    "RunContext",
    "RunData",
    "RunStopped",
    "StopSignal",
    "SubtaskView",
    "deps_data",
    "NO_CONTEXT",
    "TeamInput",
    "TeamSpec",
    "TeamSpecError",
    "TeamState",
    "ValidatorSpec",
    "Verdict",
    "WorkerInput",
    "WorkerResult",
    "load_team",
    "merge_results",
    "model_choice",
    "model_ref_problem",
    "parse_model_ref",
    "plan_model",
    "save_team",
    "search_folders",
    "status_entry",
    "status_of",
    "team_from_data",
]


__getattr__ = _lazy_getattr("orchestra.state", globals(), _MODULES, __all__)
