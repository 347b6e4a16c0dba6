"""PostgreSQL checkpoints: ``--db postgresql://user@host:port/database``.

``PostgresSaver.setup()`` creates and migrates the checkpoint tables, recording each
migration in ``checkpoint_migrations``. Several processes starting at once on a new
database would race there (a duplicate migration number fails all but one), so setup
runs under a session advisory lock. The lock is taken by polling
``pg_try_advisory_lock``: a session *waiting* in ``pg_advisory_lock`` keeps a snapshot
open, and the ``CREATE INDEX CONCURRENTLY`` migrations of the lock holder would wait for
it forever.

A thread's lease (``graphs/leases.py``) lives in ``orchestra_leases`` of the same
database, read and written through the saver's own connection (or pool) and lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from orchestra.graphs.leases import TABLE, Row, TableLeases
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


POSTGRES_NOW = "extract(epoch from clock_timestamp())::float8"


@contextmanager
def _connection(saver: PostgresSaver) -> Iterator[psycopg.Connection[object]]:
    """The saver's connection under its lock, or one of its pool's."""
    if isinstance(saver.conn, ConnectionPool):
        with saver.conn.connection() as pooled:
            yield pooled
    else:
        with saver.lock:
            yield saver.conn


def postgres_leases(saver: PostgresSaver) -> TableLeases:
    """Leases in a ``PostgresSaver``'s database; the table is created on first use."""

    def execute(sql: str, params: Sequence[object]) -> tuple[int, Row | None]:
        with _connection(saver) as conn, conn.transaction():
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(sql.replace("?", "%s"), params)
                return cur.rowcount, cur.fetchone() if cur.description else None

    try:
        execute(TABLE, ())
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        pass  # another process created it at the same moment
    return TableLeases(execute, POSTGRES_NOW)
