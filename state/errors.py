"""Errors users see. Each one carries everything wrong at once, not the first problem only.

The hierarchy (catch ``OrchestraError`` for all of them)::

    OrchestraError
    ├── TeamSpecError          (also ValueError)  a team spec is invalid: every problem listed
    ├── ModelConfigError       (also ValueError)  a model string cannot become a chat model
    ├── TransientModelError    (also RuntimeError) a model call failed; a retry may fix it
    ├── ContextTooLongError    (also ValueError)  a prompt does not fit its model's window
    ├── RunStateError                             a stored run cannot do what was asked
    │   ├── RunNotFoundError   (also LookupError) no checkpoint for the thread id
    │   ├── ThreadExistsError                     a new run's thread id is taken
    │   ├── ThreadBusyError                       another run or resume holds the thread
    │   ├── NotResumableError                     the run's team must be named to resume it
    │   ├── TeamMismatchError                     the team given is not the one the run ran
    │   └── NotWaitingError                       a decision for a run (or item) not waiting
    ├── RunStopped                                a run was asked to stop; finished work is kept
    ├── DepsError              (also ValueError)  a run's deps have no JSON form, or do not fit
    ├── DecisionError          (also ValueError)  a human decision cannot be read
    ├── CheckpointerError                         the checkpoint store cannot be opened
    └── RenderError                               a picture of the graph cannot be drawn

A run that stops on a model or tool error keeps that exception in ``RunResult.error``;
the errors above that are not ``TransientModelError`` are raised to the caller.
"""

from __future__ import annotations

import reprlib

__all__ = [
    "brief",
    "CheckpointerError",
    "ContextTooLongError",
    "DecisionError",
    "DepsError",
    "ModelConfigError",
    "NotResumableError",
    "NotWaitingError",
    "OrchestraError",
    "RenderError",
    "RunNotFoundError",
    "RunStateError",
    "RunStopped",
    "TeamMismatchError",
    "TeamSpecError",
    "ThreadBusyError",
    "ThreadExistsError",
    "TransientModelError",
]


_BRIEF = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_BRIEF.maxstring = _BRIEF.maxother = 160
_BRIEF.maxlist = _BRIEF.maxdict = 8


def brief(value: object) -> str:
    """``repr(value)`` cut to a line: error messages name values, never expand them.

    Example:
        >>> brief("x" * 1000)[:12], len(brief("x" * 1000)) < 200
        ("'xxxxxxxxxxx", True)
    """
    return _BRIEF.repr(value)


class OrchestraError(Exception):
    """Base class of orchestra's user-facing errors."""


class TeamSpecError(OrchestraError, ValueError):
    """A team spec is invalid; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"team {source!r} is invalid ({count} problem{'s' if count != 1 else ''}):\n{listing}"
        )


class ModelConfigError(OrchestraError, ValueError):
    """A model string cannot be turned into a chat model (unknown provider, missing key...)."""


class TransientModelError(OrchestraError, RuntimeError):
    """A model call failed in a way a retry may fix (raised by test and fault models)."""


class ContextTooLongError(OrchestraError, ValueError):
    """A model call's prompt does not fit its model's context window: it was never sent.

    ``who`` names the role (``specialist 'analyst' on s2``), ``tokens`` the prompt's
    estimate, ``reserved`` the tokens kept for the reply, ``window`` the model's window.
    A permanent error: retrying the same prompt cannot help.
    """

    def __init__(self, who: str, *, tokens: int, reserved: int, window: int) -> None:
        self.who, self.tokens, self.reserved, self.window = who, tokens, reserved, window
        super().__init__(
            f"{who}: the prompt is about {tokens} tokens; with {reserved} kept for the "
            f"reply it does not fit the model's {window}-token context window, so it was "
            "not sent (shorten the inputs, or set the role's context_window / "
            "max_output_tokens if the model reads more)"
        )


class RunStateError(OrchestraError):
    """A stored run cannot do what was asked of it."""


class RunNotFoundError(RunStateError, LookupError):
    """No checkpoint exists for the thread id."""


class ThreadExistsError(RunStateError):
    """A new run was given the thread id of an existing one."""


class ThreadBusyError(RunStateError):
    """Another run or resume holds the thread's lease: one writer per thread.

    ``pid`` and ``host`` name the holding process, ``since`` when it took the lease
    (seconds since the epoch).
    """

    def __init__(self, message: str, *, pid: int, host: str, since: float) -> None:
        super().__init__(message)
        self.pid = pid
        self.host = host
        self.since = since


class NotResumableError(RunStateError):
    """The stored run cannot be resumed from the checkpoint alone: name its team.

    Its spec holds Python objects (resume with ``team=``), or its team file changed since
    the run started and the stored copy names code outside orchestra (``--team FILE``).
    """


class TeamMismatchError(RunStateError):
    """The team given to resume a run is not the team the run was started with.

    A specialist renamed or removed, another pattern or other stages: the stored plan and
    state could not be continued by it.
    """


class NotWaitingError(RunStateError):
    """A decision was given for a run, or an item, that is not waiting for one."""


class RunStopped(OrchestraError):
    """The run was asked to stop (Ctrl-C, ``StopSignal.request``); finished work is kept.

    Not a ``KeyboardInterrupt``: it ends the worker's task like any error, the checkpoint
    records that task as unfinished, and a resume runs it again.
    """


class DepsError(OrchestraError, ValueError):
    """A run's ``deps`` cannot be stored as JSON, or the stored JSON is not the declared type."""


class DecisionError(OrchestraError, ValueError):
    """A human decision (e.g. an edited plan file) cannot be read."""


class CheckpointerError(OrchestraError):
    """The checkpoint store cannot be opened or set up."""


class RenderError(OrchestraError):
    """A picture of a graph cannot be drawn."""
