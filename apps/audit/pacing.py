"""How many repositories are analysed at once, and stopping the analysers promptly on Ctrl-C.

Why not LangGraph's ``max_concurrency``: in a sync run it is the size of the one thread
pool that runs the tasks *and* saves each finished task's writes to the checkpointer. With
fewer threads than repositories, a finished repository's writes queue behind the
repositories still waiting to start, so a kill loses them and the audit repeats work. The
audit team therefore lets every repository's task start (the pool always has a free
thread for checkpoint writes) and bounds the analysers here, per audit thread.

On Ctrl-C the command calls ``request_stop``: analysers waiting for a turn, or between two
files, raise ``KeyboardInterrupt`` in their worker thread, so the run stops in moments
instead of finishing every queued repository first. Those tasks end in error and run again
on resume; the finished ones were saved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_stop = threading.Event()
_lock = threading.Lock()
_slots: dict[str, threading.BoundedSemaphore] = {}

_POLL_S = 0.05
"""How often a repository waiting for its turn looks whether the audit was interrupted."""


def request_stop() -> None:
    """Ask every analyser in this process to stop (the audit was interrupted)."""
    _stop.set()


def clear_stop() -> None:
    """Forget an earlier interruption (a new run is starting)."""
    _stop.clear()


def stopping() -> bool:
    """Whether the audit was interrupted."""
    return _stop.is_set()


def check() -> None:
    """Raise ``KeyboardInterrupt`` when the audit was interrupted.

    ``KeyboardInterrupt`` rather than an ``Exception``: the specialist turns exceptions of
    its tools into messages for the model, which would then finish with a made-up result;
    this one ends the task, which the checkpoint records as not finished.
    """
    if _stop.is_set():
        raise KeyboardInterrupt("the audit was interrupted")


@contextmanager
def turn(thread_id: str, limit: int) -> Iterator[None]:
    """Hold one of ``limit`` analyser slots of an audit while the block runs."""
    with _lock:
        slot = _slots.setdefault(thread_id, threading.BoundedSemaphore(max(limit, 1)))
    while not slot.acquire(timeout=_POLL_S):
        check()
    try:
        check()
        yield
    finally:
        slot.release()
