"""A throwaway PostgreSQL server on 127.0.0.1, started from the installed binaries.

``initdb`` makes a cluster in a fresh temporary directory (trust authentication, no
fsync), ``pg_ctl`` starts it on a free port with its unix socket in the same directory,
and stops it (``-m immediate``) at the end; the directory is then removed. PostgreSQL
refuses to run as root, so under root (as on CI) the server runs as the ``postgres``
user when it exists, else as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from ecosystem import free_port, unavailable

SEARCHED = (
    "$ORCHESTRA_PG_BINDIR, PATH, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin, "
    "/opt/homebrew/opt/postgresql@*/bin"
)


def _version(bindir: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", bindir)[:2]) or (0,)


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest version first), if any."""
    candidates: list[str] = []
    if os.environ.get("ORCHESTRA_PG_BINDIR"):
        candidates.append(os.environ["ORCHESTRA_PG_BINDIR"])
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for pattern in ("/usr/lib/postgresql/*/bin", "/opt/homebrew/opt/postgresql@*/bin"):
        candidates += sorted(glob.glob(pattern), key=_version, reverse=True)
    candidates.append("/usr/local/pgsql/bin")
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _runs_as() -> dict[str, Any]:
    """``subprocess`` arguments that drop root for PostgreSQL (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PostgresServer:
    """A running server: ``url`` for its ``postgres`` database, ``pid`` of the postmaster."""

    bindir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        """The ``postgresql://`` URL of the default database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int:
        """The postmaster's process id (first line of ``postmaster.pid``)."""
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def _run(args: list[str], **kwargs: Any) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_server(bindir: Path) -> Iterator[PostgresServer]:
    """Initialise, start, yield, then stop and delete a PostgreSQL cluster."""
    as_user = _runs_as()
    root = Path(tempfile.mkdtemp(prefix="orchestra-pg-"))
    try:
        if as_user:
            os.chown(root, as_user["user"], as_user["group"])
        data = root / "data"
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
            + ["--no-sync", "-E", "UTF8", "--locale=C"],
            **as_user,
        )
        server = PostgresServer(bindir, root, free_port())
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log")]
            + ["-o", options, "-w", "-t", "30", "start"],
            **as_user,
        )
        try:
            yield server
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], **as_user)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def available_postgres() -> Iterator[PostgresServer]:
    """A throwaway server from this machine's binaries; skipped (failed on CI) without them."""
    bindir = find_bindir()
    if bindir is None:
        unavailable(
            f"no PostgreSQL server binaries (initdb, pg_ctl) in {SEARCHED}: "
            "install PostgreSQL (Debian: apt-get install postgresql) to run these tests"
        )
    with postgres_server(bindir) as server:
        yield server
