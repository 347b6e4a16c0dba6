"""Behaviour: the role node factories, models (offline, scripted, real), prompts and tools."""

from orchestra.nodes.chat_models import default_model_ref, resolve_model
from orchestra.nodes.dispatch import make_dispatch, ready_sends
from orchestra.nodes.faults import FaultyChatModel
from orchestra.nodes.function_model import BoundTool, LocalChatModel, structured_reply, tool_call
from orchestra.nodes.model_check import check_models
from orchestra.nodes.offline import OfflineChatModel
from orchestra.nodes.orchestrator import make_orchestrator
from orchestra.nodes.outcome import decide
from orchestra.nodes.plan_sanitize import CheckedPlan, check_plan
from orchestra.nodes.resolve import (
    Check,
    ResolvedSpecialist,
    ResolvedTeam,
    import_ref,
    resolve_team,
)
from orchestra.nodes.retry import Backoff, TransientModelError, backoff_for, is_transient
from orchestra.nodes.runnable import Node
from orchestra.nodes.scripted import CallRecord, ScriptedChatModel, WorkerCall, plan_of, team_script
from orchestra.nodes.specialist import make_specialist
from orchestra.nodes.synthesizer import make_synthesizer
from orchestra.nodes.validator import judge, make_validator, problems_of, verdict_update

__all__ = [
    "Backoff",
    "BoundTool",
    "CallRecord",
    "Check",
    "CheckedPlan",
    "FaultyChatModel",
    "LocalChatModel",
    "Node",
    "OfflineChatModel",
    "ResolvedSpecialist",
    "ResolvedTeam",
    "ScriptedChatModel",
    "TransientModelError",
    "WorkerCall",
    "check_models",
    "backoff_for",
    "check_plan",
    "default_model_ref",
    "import_ref",
    "is_transient",
    "make_dispatch",
    "make_orchestrator",
    "make_specialist",
    "make_synthesizer",
    "judge",
    "make_validator",
    "plan_of",
    "problems_of",
    "ready_sends",
    "resolve_model",
    "resolve_team",
    "decide",
    "structured_reply",
    "team_script",
    "tool_call",
    "verdict_update",
]
