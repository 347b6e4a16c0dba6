"""Repositories analysed in worker processes, one per core: the analysers are CPU-bound.

The audit's workers are threads of the team's graph; under the GIL, threads doing
regular-expression and parsing work take turns on one core, so ``--max-concurrency 8``
on eight cores would still use one. Each repository's analysis (``audit_repo``: pure,
read-only, no framework) runs instead in a process of a pool sized to the cores this
process may use; the graph's turns still decide how many repositories are audited at
once, and the thread waiting for a result watches the run's stop signal meanwhile.

``ORCHESTRA_AUDIT_PROCESSES`` sets the pool's size; ``1`` analyses in the calling thread
(no processes at all: for debugging, or where processes cannot be started).

The pool is loky's reusable executor (the one joblib and scikit-learn use): workers are
started by fork+exec, so they never copy the locks of the graph's threads, a script that
calls the audit needs no ``if __name__ == "__main__"`` guard, and a worker that dies
fails its repository with ``TerminatedWorkerError`` instead of hanging the run. Workers
ignore Ctrl-C (the run stops them) and exit when the audit's process is gone.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import is_skipped_dir
from orchestra_audit.findings import RepoAudit
from orchestra_audit.policy import AuditPolicy

if TYPE_CHECKING:
    from orchestra import StopSignal

ENV = "ORCHESTRA_AUDIT_PROCESSES"

_WAIT_S = 0.1
"""How often a waiting thread looks at the stop signal."""

_WATCH_S = 1.0
"""How often a worker checks that the audit that started it is still there."""

WORTH_BYTES = 1_000_000
"""A repository with this many bytes of files starts the workers."""

_IDLE_S = 300
"""Workers idle this long exit (a notebook kept open does not keep them forever)."""

_lock = threading.Lock()
_current: Any = None
"""The executor the last audit used."""
_generation = 0
"""Counts the pools stopped: a repository whose pool was stopped by another run restarts."""


def processes() -> int:
    """The pool's size: ``ORCHESTRA_AUDIT_PROCESSES``, else the cores this process may use.

    Raises:
        ValueError: the variable is set but is not a whole number of at least 1.
    """
    value = os.environ.get(ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{ENV} must be a whole number of processes, 1 or more; got {value!r}")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_S)
    os._exit(0)  # the audit is gone (killed, even with SIGKILL): nothing to do for it


def _worker_setup(parent: int) -> None:
    """In each worker: Ctrl-C is the run's, output is not the terminal's, orphans exit.

    The run stops the pool on Ctrl-C. Output goes nowhere because a worker's errors come
    back with its result, and a worker holding the audit's stdout would keep a pipe
    reading it open after the audit ended. A worker whose audit died exits within a second.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    from orchestra_audit.engine import plugins

    plugins()  # configured before the first repository, not during it


def _reusable() -> Any:
    from loky import get_reusable_executor  # type: ignore[import-untyped]

    return get_reusable_executor


def _executor(size: int) -> Any:
    global _current
    _current = _reusable()(
        max_workers=size, timeout=_IDLE_S, initializer=_worker_setup, initargs=(os.getpid(),)
    )
    return _current


def stop_pool() -> None:
    """End the worker processes now (work in them is dropped); the next audit starts new ones."""
    global _generation, _current
    with _lock:
        _generation += 1
        # The executor itself: asking loky for "the reusable one" with other arguments
        # would first wait for the work in it to finish.
        executor, _current = _current, None
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def _worth_a_process(root: str | Path) -> bool:
    """Whether the repository holds enough to pay for starting the workers (a second each).

    A small repository is analysed sooner in the calling thread; once workers run, every
    repository goes to them.
    """
    total = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not is_skipped_dir(Path(folder), d)]
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            if total >= WORTH_BYTES:
                return True
    return False


def audit_in_pool(
    root: str | Path, name: str, policy: AuditPolicy, key: bytes, *, stop: StopSignal | None = None
) -> RepoAudit:
    """``audit_repo`` in a worker process (or here, with a pool of one); same result.

    A stop requested while waiting ends the pool's work at once and raises as
    ``audit_repo`` would between two files.
    """
    size = processes()
    if size == 1 or (_current is None and not _worth_a_process(root)):
        return audit_repo(root, name, policy, key, stop=stop)
    while True:
        with _lock:
            generation = _generation
            pending: Future[RepoAudit] = _executor(size).submit(audit_repo, root, name, policy, key)
        while True:
            try:
                return pending.result(timeout=_WAIT_S)
            except WaitTimeout:
                pass
            except Exception:
                if generation == _generation or (stop is not None and stop.requested):
                    raise
                break  # another run stopped the pool under this repository: audit it again
            if stop is not None and stop.requested:
                stop_pool()
                stop.raise_if_requested()
