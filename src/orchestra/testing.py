"""Test doubles for your own teams: models that answer from a script, or fail on cue.

No test of a team needs a provider: :class:`ScriptedChatModel` answers each role from a
script (``team_script`` builds one for a whole team), :class:`FaultyChatModel` wraps a
model and injects provider errors. Pass either as ``TeamContext(model=...)``.

A script never reads prompts: each role node passes its model call a :class:`CallInfo`
(role, specialist, subtask id, round, output tool, inputs, the results shown), which a
``respond(messages, tools)`` function of your own reads with :func:`current_call`.
"""

from __future__ import annotations

from orchestra.nodes.call_info import CallInfo, InputInfo, ResultInfo
from orchestra.nodes.faults import FaultyChatModel
from orchestra.nodes.function_model import current_call
from orchestra.nodes.scripted import CallRecord, ScriptedChatModel, WorkerCall, plan_of, team_script

__all__ = [
    "CallInfo",
    "CallRecord",
    "FaultyChatModel",
    "InputInfo",
    "ResultInfo",
    "ScriptedChatModel",
    "WorkerCall",
    "current_call",
    "plan_of",
    "team_script",
]
