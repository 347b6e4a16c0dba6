"""One writer per thread: a lease, kept in the checkpoint database, on each running thread.

Two ``orchestra run --thread X`` (or two ``resume X``) at once would both run the whole
team and fork the thread's history. So a run or resume first takes the thread's lease:
a row of ``orchestra_leases`` in the same SQLite file or PostgreSQL database as the
checkpoints, claimed by one atomic statement (an ``INSERT ... ON CONFLICT DO NOTHING``
for a free thread, an ``UPDATE ... WHERE`` the holder is still the one seen and its lease
has expired, for a taken one). A daemon thread renews it every ``TTL / 5`` seconds while
the run runs, and it is deleted at the end, however the run ends. Another holder gets
``ThreadBusyError``, naming the process (pid@host) and since when.

A holder killed with SIGKILL cannot delete its row: the lease expires ``TTL`` seconds
after its last renewal (``LEASE_TTL_S``, 10 s; ``ORCHESTRA_LEASE_TTL_S`` sets another,
for tests), and on the same host a lease whose process is gone is taken over at once.
Times are the database's clock, so hosts with skewed clocks agree on expiry.

Each call is its own holder (a uuid), so two calls on one thread id in one process are
refused like two processes. ``InMemorySaver`` runs live in one process: there, and for
a saver orchestra does not know (one a user passes from Python), the lease is held in
this process only — two processes sharing such a saver are not kept apart.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from orchestra.state import StopSignal, ThreadBusyError

__all__ = ["LEASE_TTL_S", "TTL_ENV", "Lease", "holding", "lease_ttl_s"]

LEASE_TTL_S = 10.0
"""Seconds a lease lasts after its last renewal; renewed every fifth of it (2 s)."""

TTL_ENV = "ORCHESTRA_LEASE_TTL_S"
"""Environment variable that sets another TTL (seconds), e.g. a short one in tests."""

Row = tuple[Any, ...]
Execute = Callable[[str, Sequence[object]], tuple[int, Row | None]]
"""Runs one statement in its own committed transaction: (rows changed, first row)."""


def lease_ttl_s() -> float:
    """The TTL a new lease gets: ``ORCHESTRA_LEASE_TTL_S`` when set, else ``LEASE_TTL_S``."""
    return float(os.environ.get(TTL_ENV) or LEASE_TTL_S)


@dataclass(frozen=True)
class Lease:
    """Who holds a thread: one call (``holder``) of one process (``pid`` on ``host``)."""

    thread_id: str
    holder: str
    pid: int
    host: str
    acquired_at: float
    """When it was taken, seconds since the epoch (the database's clock when kept there)."""


class Leases(Protocol):
    """Where leases are kept: the database of a saver, or this process."""

    def take(self, wanted: Lease, ttl_s: float) -> Lease | None:
        """Take ``wanted``'s thread; ``None`` when taken, else the lease that holds it."""

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        """Extend ``lease`` by ``ttl_s``; ``False`` when it was lost (taken over)."""

    def release(self, lease: Lease) -> None:
        """Give ``lease`` up (nothing when it is no longer held)."""


TABLE = """CREATE TABLE IF NOT EXISTS orchestra_leases (
    thread_id TEXT PRIMARY KEY, holder TEXT NOT NULL, pid INTEGER NOT NULL,
    host TEXT NOT NULL, acquired_at DOUBLE PRECISION NOT NULL,
    renewed_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)"""
_READ = "SELECT holder, pid, host, acquired_at FROM orchestra_leases WHERE thread_id = ?"
_INSERT = (
    "INSERT INTO orchestra_leases (thread_id, holder, pid, host, acquired_at, renewed_at,"
    " expires_at) VALUES (?, ?, ?, ?, {now}, {now}, {now} + ?)"
    " ON CONFLICT (thread_id) DO NOTHING"
)
_TAKE_OVER = (
    "UPDATE orchestra_leases SET holder = ?, pid = ?, host = ?, acquired_at = {now},"
    " renewed_at = {now}, expires_at = {now} + ?"
    " WHERE thread_id = ? AND holder = ? AND (expires_at < {now} OR ?)"
)
_RENEW = (
    "UPDATE orchestra_leases SET renewed_at = {now}, expires_at = {now} + ?"
    " WHERE thread_id = ? AND holder = ?"
)
_RELEASE = "DELETE FROM orchestra_leases WHERE thread_id = ? AND holder = ?"


class TableLeases:
    """Leases in the ``orchestra_leases`` table, through ``execute`` (SQLite or PostgreSQL).

    ``now`` is the SQL for the database's clock in epoch seconds; statements use ``?``
    placeholders, which ``execute`` translates for its driver.
    """

    def __init__(self, execute: Execute, now: str) -> None:
        self._execute = execute
        self._now = now

    def _run(self, sql: str, *params: object) -> tuple[int, Row | None]:
        return self._execute(sql.format(now=self._now), params)

    def take(self, wanted: Lease, ttl_s: float) -> Lease | None:
        """See ``Leases.take``: claim a free thread, or take over an expired lease."""
        me = (wanted.thread_id, wanted.holder, wanted.pid, wanted.host)
        seen: Lease | None = None
        for _ in range(3):  # a pass ends unless another process changed the row meanwhile
            _, row = self._run(_READ, wanted.thread_id)
            if row is None:
                if self._run(_INSERT, *me, ttl_s)[0]:
                    return None
                continue  # another process inserted first: read its lease
            current = Lease(wanted.thread_id, str(row[0]), int(row[1]), str(row[2]), float(row[3]))
            if current == seen:
                return current  # the same live holder as the pass before
            seen = current
            gone = seen.host == wanted.host and _gone(seen)
            changed, _ = self._run(_TAKE_OVER, *me[1:], ttl_s, wanted.thread_id, seen.holder, gone)
            if changed:
                return None
        return seen or wanted

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        """See ``Leases.renew``."""
        return self._run(_RENEW, ttl_s, lease.thread_id, lease.holder)[0] == 1

    def release(self, lease: Lease) -> None:
        """See ``Leases.release``."""
        self._run(_RELEASE, lease.thread_id, lease.holder)


class ProcessLeases:
    """Leases held in this process only (``InMemorySaver``, savers orchestra does not know)."""

    def __init__(self) -> None:
        self._held: dict[tuple[int, str], Lease] = {}
        self._lock = threading.Lock()

    def take_for(self, saver: object, wanted: Lease) -> Lease | None:
        """Take ``wanted``'s thread in ``saver``; ``None`` when taken, else its holder."""
        key = (id(saver), wanted.thread_id)  # the saver lives while its lease is held
        with self._lock:
            current = self._held.setdefault(key, wanted)
        return None if current is wanted else current

    def release_for(self, saver: object, lease: Lease) -> None:
        """Give ``lease`` on ``saver`` up."""
        with self._lock:
            if self._held.get((id(saver), lease.thread_id)) is lease:
                del self._held[(id(saver), lease.thread_id)]


PROCESS_LEASES = ProcessLeases()


class _InProcess:
    """``ProcessLeases`` for one saver, as ``Leases``."""

    def __init__(self, saver: object) -> None:
        self._saver = saver

    def take(self, wanted: Lease, ttl_s: float) -> Lease | None:
        return PROCESS_LEASES.take_for(self._saver, wanted)

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        return True

    def release(self, lease: Lease) -> None:
        PROCESS_LEASES.release_for(self._saver, lease)


SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


def sqlite_leases(saver: SqliteSaver) -> TableLeases:
    """Leases in a ``SqliteSaver``'s database, through its connection under its lock."""

    def execute(sql: str, params: Sequence[object]) -> tuple[int, Row | None]:
        with saver.lock, closing(saver.conn.cursor()) as cur:
            try:
                cur.execute(sql, params)
                row = cur.fetchone()
            finally:
                saver.conn.commit()
            return cur.rowcount, row

    execute(TABLE, ())
    return TableLeases(execute, SQLITE_NOW)


def leases_of(saver: BaseCheckpointSaver[str]) -> Leases:
    """Where ``saver``'s leases are kept: its database (SQLite, PostgreSQL), else here."""
    if isinstance(saver, SqliteSaver):
        return sqlite_leases(saver)
    postgres = sys.modules.get("langgraph.checkpoint.postgres")  # not loaded: not one
    if postgres is not None and isinstance(saver, postgres.PostgresSaver):
        from orchestra.graphs.postgres import postgres_leases

        return postgres_leases(saver)
    return _InProcess(saver)


_LIVE: set[str] = set()
"""The holders of the leases this process holds now (``holding`` adds and removes them)."""


def _gone(lease: Lease) -> bool:
    """Whether a lease of this host was left by a process that is gone.

    Its pid is not running, or it is this process's pid but no call here holds it (a
    process before this one had the same pid, as pid 1 in a restarted container).
    """
    if lease.pid == os.getpid():
        return lease.holder not in _LIVE
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user's
    return False


def _busy(thread_id: str, held: Lease) -> ThreadBusyError:
    since = datetime.fromtimestamp(held.acquired_at).astimezone().isoformat(timespec="seconds")
    if held.pid == os.getpid() and held.host == socket.gethostname():
        who, then = "another call in this process", "wait for it to end"
    else:
        who = "another process"
        then = (
            f"wait for it to end; if it was killed, its lease expires at most "
            f"{lease_ttl_s():g} s after it stopped"
        )
    return ThreadBusyError(
        f"thread {thread_id!r} is being run by {who} (pid {held.pid}@{held.host}, "
        f"since {since}): {then}",
        pid=held.pid,
        host=held.host,
        since=held.acquired_at,
    )


@contextmanager
def holding(
    saver: BaseCheckpointSaver[str], thread_id: str, stop: StopSignal | None = None
) -> Iterator[Lease]:
    """Hold ``thread_id``'s lease in ``saver`` while the block runs.

    Raises ``ThreadBusyError`` when another call holds it. Should the lease be lost
    (this process stalled past the TTL and another took over), ``stop`` is asked to stop
    the run, so it writes no further.
    """
    leases = leases_of(saver)
    ttl = lease_ttl_s()
    wanted = Lease(thread_id, uuid.uuid4().hex, os.getpid(), socket.gethostname(), time.time())
    _LIVE.add(wanted.holder)
    held = leases.take(wanted, ttl)
    if held is not None:
        _LIVE.discard(wanted.holder)
        raise _busy(thread_id, held)
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew_until,
        args=(leases, wanted, ttl, done, stop),
        name=f"orchestra-lease-{thread_id}",
        daemon=True,
    )
    renewer.start()
    try:
        yield wanted
    finally:
        done.set()
        renewer.join()
        try:
            leases.release(wanted)
        finally:
            _LIVE.discard(wanted.holder)


def _renew_until(
    leases: Leases, lease: Lease, ttl_s: float, done: threading.Event, stop: StopSignal | None
) -> None:
    """Renew ``lease`` every fifth of ``ttl_s`` until ``done``; stop the run if it is lost.

    A failing renewal is tried again on the next beat, but only while the lease lasts:
    once it may have expired, the run is stopped too.
    """
    renewed = time.monotonic()
    while not done.wait(ttl_s / 5):
        try:
            kept, why = leases.renew(lease, ttl_s), "was taken over by another process"
            if kept:
                renewed = time.monotonic()
        except Exception as exc:  # a passing database error: the next beat retries
            kept, why = time.monotonic() - renewed < ttl_s * 0.8, f"could not be renewed: {exc}"
        if not kept:
            if stop is not None:
                stop.request(f"the lease on thread {lease.thread_id!r} {why}")
            return
