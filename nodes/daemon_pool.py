"""Daemon threads for sync model requests, reused: a hung request never blocks exit.

``concurrent.futures`` pools join their threads at interpreter exit, so one request that
never returns would keep ``orchestra run`` alive after Ctrl-C. These threads are daemons;
an idle one takes the next request (starting a thread per request costs more than the
rest of a step's bookkeeping), and one idle for a while ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

_IDLE_S = 30.0
"""How long an idle thread waits for work before it ends."""

Job = Callable[[], None]


class DaemonPool:
    """Runs jobs on daemon threads, as many at once as are submitted."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, job: Job) -> None:
        """Run ``job`` on an idle thread, or on a new one if none is idle."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)  # under the lock: an idle thread cannot leave meanwhile
                return
        threading.Thread(target=self._work, args=(job,), name=self._name, daemon=True).start()

    def _work(self, job: Job) -> None:
        while True:
            job()  # a job handles its own errors
            with self._lock:
                self._idle += 1
            try:
                job = self._jobs.get(timeout=_IDLE_S)
            except queue.Empty:
                with self._lock:
                    try:  # a job may have been put as the wait timed out
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return
