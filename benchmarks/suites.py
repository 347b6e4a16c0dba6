"""The measurements of issue 7, each returning plain data for the report.

1. ``overhead``: orchestra vs the same calls in plain LangGraph, N x {async, sync}.
2-3. ``tradeoffs``: orchestra vs langgraph-supervisor vs the single-agent baseline, N = 10.
4. ``sync_async``: sync vs async at N = 100, with and without ``max_concurrency``.
5. ``checkpointers``: none / memory / SQLite / PostgreSQL, per step and per node.
6-7. ``scale``, ``startup``, ``audit``: fresh child processes (peak memory, start-up).
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.fake import LATENCY_MS, BenchModel, bench_team, task_text
from benchmarks.systems import Contender, Mode, orchestra, plain, supervisor
from benchmarks.timing import ROOT, child, command_seconds, interleaved
from orchestra.graphs import compile_team
from orchestra.graphs.runner import open_checkpointer
from orchestra.state import TeamContext

ROUNDS = 4
"""Model rounds on the critical path of orchestra (plan, workers, review, synthesis)."""


def _row(samples: dict[str, Any], usage: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        name: {
            "median_s": s.median,
            "min_s": s.spread[0],
            "max_s": s.spread[1],
            "runs": len(s.seconds),
            **usage.get(name, {}),
        }
        for name, s in samples.items()
    }


def _group(contenders: list[Contender], repeats: int) -> dict[str, Any]:
    usage = {c.name: c.usage() for c in contenders}  # also the warm-up
    samples = interleaved({c.name: c.run for c in contenders}, repeats, warmup=0)
    return _row(samples, usage)


def overhead(sizes: list[int], repeats: int, callbacks_at: int | None) -> list[dict[str, Any]]:
    """Time orchestra (validator, ledger, metadata) against plain LangGraph's same calls."""
    rows = []
    modes: tuple[Mode, ...] = ("async", "sync")
    for n in sizes:
        for mode in modes:
            times = _group([plain(n, mode), orchestra(n, mode)], repeats)
            rows.append({"n": n, "mode": mode, "tracing": "metadata", **times})
    if callbacks_at:
        for mode in modes:
            contenders = [
                plain(callbacks_at, mode, callbacks=True),
                orchestra(callbacks_at, mode, callbacks=True),
            ]
            times = _group(contenders, repeats)
            rows.append({"n": callbacks_at, "mode": mode, "tracing": "callback handler", **times})
    for row in rows:
        row["critical_path_s"] = ROUNDS * LATENCY_MS / 1000
    return rows


def tradeoffs(n: int, repeats: int) -> dict[str, Any]:
    """The same N-part task done by orchestra, langgraph-supervisor and one agent (async)."""
    contenders = [
        orchestra(n, "async", tools=True),
        orchestra(n, "async", tools=True, review=False, name="orchestra, review: false"),
        supervisor(n, "async"),
        orchestra(n, "async", tools=True, pattern="single_agent", name="single agent"),
    ]
    return {"n": n, **_group(contenders, repeats)}


def sync_async(n: int, repeats: int) -> dict[str, Any]:
    """Sync vs async: team limit N, the default limit (16), and LangGraph without a limit."""
    contenders = []
    for mode in ("async", "sync"):
        m: Mode = "async" if mode == "async" else "sync"
        contenders += [
            orchestra(n, m, name=f"orchestra, max_concurrency={n} ({mode})"),
            orchestra(n, m, max_concurrency=16, name=f"orchestra, default limit 16 ({mode})"),
            plain(n, m, name=f"plain LangGraph, max_concurrency={n} ({mode})"),
            plain(n, m, max_concurrency=None, name=f"plain LangGraph, no max_concurrency ({mode})"),
        ]
    return {"n": n, **_group(contenders, repeats)}


@contextmanager
def _postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL server's URL (``tests/postgres_server.py``), or ``None``."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        helper = importlib.import_module("postgres_server")
    except ImportError:
        yield None
        return
    bindir = helper.find_bindir()
    if bindir is None:
        yield None
        return
    with helper.postgres_server(bindir) as server:
        yield server.new_database()


def checkpointers(sizes: list[int], repeats: int) -> dict[str, Any]:
    """Wall time with each checkpointer (sync, as the CLI runs), per step and per node run."""
    out: dict[str, Any] = {"rows": []}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="orchestra-bench-")))
        savers: dict[str, BaseCheckpointSaver[str] | None] = {"none": None}
        savers["memory"] = InMemorySaver()
        savers["SQLite"] = stack.enter_context(open_checkpointer(folder / "bench.sqlite"))
        url = stack.enter_context(_postgres())
        if url is not None:
            savers["PostgreSQL"] = stack.enter_context(open_checkpointer(url))
        else:
            out["postgres_note"] = "no PostgreSQL binaries found (initdb, pg_ctl): row skipped"
        for n in sizes:
            contenders = [
                orchestra(n, "sync", checkpointer=saver, name=name)
                for name, saver in savers.items()
            ]
            steps, tasks = _count(n)
            out["rows"].append(
                {"n": n, "steps": steps, "tasks": tasks, **_group(contenders, repeats)}
            )
    return out


def _count(n: int) -> tuple[int, int]:
    """Super-steps and node runs of one run, from a memory checkpointer's history."""
    saver = InMemorySaver()
    graph = compile_team(bench_team(n), checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "count"}}
    context = TeamContext(model=BenchModel(latency_ms=0))
    graph.invoke({"task": task_text(n)}, config, context=context)
    history = list(graph.get_state_history(config))
    return len(history) - 1, sum(len(snapshot.tasks) for snapshot in history)


def scale(n: int) -> dict[str, Any]:
    """Peak RSS of a fresh process running N workers (async and sync), and of imports alone."""
    return {
        "n": n,
        "imports": child("rss", "imports"),
        "orchestra_async": child("rss", "orchestra", str(n), "async"),
        "orchestra_sync": child("rss", "orchestra", str(n), "sync"),
        "plain_async": child("rss", "plain", str(n), "async"),
    }


def startup(repeats: int) -> dict[str, Any]:
    """Wall time of ``orchestra --help`` and of bare interpreter starts, for reference."""
    script = Path(sys.executable).with_name("orchestra")
    cli = (
        [str(script), "--help"]
        if script.exists()
        else [sys.executable, "-m", "orchestra", "--help"]
    )
    found = shutil.which("orchestra")
    commands = {
        "orchestra --help": cli,
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import langgraph.graph'": [sys.executable, "-c", "import langgraph.graph"],
    }
    out = {label: command_seconds(cmd, repeats) for label, cmd in commands.items()}
    return {
        "cli": " ".join(cli) if found is None else "orchestra --help",
        **{
            label: {"median_s": s.median, "min_s": s.spread[0], "max_s": s.spread[1]}
            for label, s in out.items()
        },
    }


def audit(repos: int, files: int) -> dict[str, Any]:
    """The audit benchmark (``benchmarks/audit.py``, unchanged) in a fresh process."""
    return child("audit", str(repos), str(files), timeout=3600)


def context(sizes: list[int]) -> list[dict[str, Any]]:
    """Largest prompt and input tokens at each N (``benchmarks/context.py``), in process."""
    from benchmarks.context import measure

    return [measure(n) for n in sizes]
