"""Behaviour: the role node factories, models (offline, scripted, real), prompts and tools."""

from nodes.dispatch import make_dispatch, ready_sends
from nodes.faults import FaultyChatModel
from nodes.local_model import BoundTool, LocalChatModel, structured_reply, tool_call
from nodes.models import default_model_ref, resolve_model
from nodes.offline import OfflineChatModel
from nodes.orchestrator import make_orchestrator
from nodes.plan_check import CheckedPlan, check_plan
from nodes.resolve import Check, ResolvedSpecialist, ResolvedTeam, import_ref, resolve_team
from nodes.retry import (
    TransientModelError,
    is_transient,
    model_retry_policy,
    retry_policy_for,
    worker_retry_policy,
)
from nodes.runnable import Node
from nodes.scripted import CallRecord, ScriptedChatModel, WorkerCall, plan_of, team_script
from nodes.specialist import make_specialist
from nodes.synthesizer import make_synthesizer, run_status
from nodes.validator import judge, make_validator, problems_of, verdict_update

__all__ = [
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
    "model_retry_policy",
    "plan_of",
    "problems_of",
    "ready_sends",
    "resolve_model",
    "resolve_team",
    "retry_policy_for",
    "worker_retry_policy",
    "run_status",
    "structured_reply",
    "team_script",
    "tool_call",
    "verdict_update",
]
