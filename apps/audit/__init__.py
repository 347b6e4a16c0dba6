"""The audit's behaviour: confined reading, the three analysers, redaction, tools, check, digest.

``orchestra audit`` composes these into an orchestrator-workers team (``orchestra_audit.team``);
each module here does one thing and can be used alone.
"""
