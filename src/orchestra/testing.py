"""Test doubles for your own teams: models that answer from a script, or fail on cue.

No test of a team needs a provider: :class:`ScriptedChatModel` answers each role from a
script (``team_script`` builds one for a whole team), :class:`FaultyChatModel` wraps a
model and injects provider errors. Pass either as ``TeamContext(model=...)``.
"""

from __future__ import annotations

from orchestra.nodes.faults import FaultyChatModel
from orchestra.nodes.scripted import CallRecord, ScriptedChatModel, WorkerCall, plan_of, team_script

__all__ = [
    "CallRecord",
    "FaultyChatModel",
    "ScriptedChatModel",
    "WorkerCall",
    "plan_of",
    "team_script",
]
