"""PostgreSQL checkpoints: ``--db postgresql://user@host:port/database``.

``PostgresSaver.setup()`` creates and migrates the checkpoint tables, recording each
migration in ``checkpoint_migrations``. Several processes starting at once on a new
database would race there (a duplicate migration number fails all but one), so setup
runs under a session advisory lock. The lock is taken by polling
``pg_try_advisory_lock``: a session *waiting* in ``pg_advisory_lock`` keeps a snapshot
open, and the ``CREATE INDEX CONCURRENTLY`` migrations of the lock holder would wait for
it forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver

from orchestra.state import CheckpointerError

SETUP_LOCK = "SELECT pg_try_advisory_lock(hashtext('orchestra checkpoint setup'))"
SETUP_TIMEOUT_S = 120.0


def _lock_for_setup(lock: psycopg.Connection[tuple[object, ...]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        row = lock.execute(SETUP_LOCK).fetchone()
        if row is not None and row[0] is True:
            return
        if time.monotonic() > deadline:
            raise CheckpointerError(
                f"another process held the checkpoint setup lock for {timeout_s:.0f} s"
            )
        time.sleep(0.05)


@contextmanager
def open_postgres(url: str, *, timeout_s: float = SETUP_TIMEOUT_S) -> Iterator[PostgresSaver]:
    """A ``PostgresSaver`` on ``url``, its tables created or migrated under the setup lock.

    Raises:
        CheckpointerError: another process held the setup lock for ``timeout_s`` seconds.
    """
    with PostgresSaver.from_conn_string(url) as saver:
        with psycopg.connect(url, autocommit=True) as lock:  # closing it releases the lock
            _lock_for_setup(lock, timeout_s)
            saver.setup()
        yield saver
