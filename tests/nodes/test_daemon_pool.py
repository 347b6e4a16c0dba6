"""Sync model requests run on reused daemon threads, so a hung one never blocks exit."""

from __future__ import annotations

import threading

from orchestra.nodes.daemon_pool import DaemonPool


def test_jobs_run_on_daemon_threads_that_are_reused() -> None:
    pool = DaemonPool("test-pool")
    seen: list[tuple[str, bool]] = []
    for _ in range(3):
        done = threading.Event()

        def job(done: threading.Event = done) -> None:
            current = threading.current_thread()
            seen.append((current.name, current.daemon))
            done.set()

        pool.submit(job)
        assert done.wait(5)
    assert all(daemon for _, daemon in seen)
    assert {name for name, _ in seen} == {"test-pool"}


def test_a_job_that_never_returns_does_not_hold_the_others() -> None:
    pool = DaemonPool("test-pool")
    release, other = threading.Event(), threading.Event()
    pool.submit(lambda: release.wait(30))  # a hung request
    pool.submit(other.set)
    try:
        assert other.wait(5)
    finally:
        release.set()
