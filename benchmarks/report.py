"""BENCHMARKS.md (tables, targets) and BENCHMARKS.png (plots) from one run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.fake import LATENCY_MS, REPLY_CHARS

ORCH, PLAIN, SUP, SINGLE = "orchestra", "plain LangGraph", "langgraph-supervisor", "single agent"
NO_REVIEW = "orchestra, review: false"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _audit_targets(audit: dict[str, Any] | None) -> list[tuple[str, str, bool]]:
    """Issue 15's: the audit ≥ 10× faster than ``detect-secrets scan``, same secrets."""
    if not audit or "detect_secrets_s" not in audit:
        return []
    found = []
    for label, a in (("real files", audit), ("synthetic", audit.get("synthetic") or {})):
        if a:
            speed = a["speedup_vs_detect_secrets"]
            found.append(
                (
                    f"audit ≥ 10× faster than detect-secrets scan, same secrets ({label})",
                    f"{speed}×, same: {a['same_secrets']}",
                    speed >= 10 and a["same_secrets"],
                )
            )
    return found


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target of issue 7 that this run measured."""
    found: list[tuple[str, str, bool]] = []
    for row in results.get("overhead", []):
        if row["tracing"] != "metadata" or row["n"] not in (100, 1000):
            continue
        ratio = row[ORCH]["median_s"] / row[PLAIN]["median_s"]
        found.append(
            (
                f"orchestra ≤ 1.15× plain LangGraph, N={row['n']} {row['mode']}",
                f"{ratio:.2f}×",
                ratio <= 1.15,
            )
        )
        if row["n"] == 100:
            cp = row[ORCH]["median_s"] / row["critical_path_s"]
            found.append(
                (f"wall ≤ 1.3× critical path, N=100 {row['mode']}", f"{cp:.2f}×", cp <= 1.3)
            )
    trade = results.get("tradeoffs")
    if trade:
        n = trade["n"]
        for name in (ORCH, NO_REVIEW):
            if name not in trade:
                continue
            mine, theirs = trade[name], trade[SUP]
            speed = theirs["median_s"] / mine["median_s"]
            chars = theirs["input_chars"] / mine["input_chars"]
            found += [
                (f"{name}: ≥ 6× faster than langgraph-supervisor", f"{speed:.1f}×", speed >= 6),
                (
                    f"{name}: ≤ N + 3 = {n + 3} model calls",
                    str(mine["calls"]),
                    mine["calls"] <= n + 3,
                ),
                (f"{name}: ≥ 3× fewer input characters", f"{chars:.1f}×", chars >= 3),
            ]
    sync = results.get("sync_async")
    if sync:
        n = sync["n"]
        key = f"orchestra, max_concurrency={n}"
        ratio = sync[f"{key} (sync)"]["median_s"] / sync[f"{key} (async)"]["median_s"]
        found.append((f"orchestra sync within 1.5× of async, N={n}", f"{ratio:.2f}×", ratio <= 1.5))
    scale = results.get("scale")
    if scale:
        for mode in ("async", "sync"):
            rss = scale[f"orchestra_{mode}"]["peak_rss_mb"]
            found.append((f"peak RSS < 150 MB, N={scale['n']} {mode}", f"{rss:.0f} MB", rss < 150))
    found += _context_targets(results.get("context") or [])
    start = results.get("startup")
    if start:
        wall = start["orchestra --help"]["median_s"]
        found.append(("`orchestra --help` < 1.0 s", f"{wall:.2f} s", wall < 1.0))
    found += _audit_targets(results.get("audit"))
    return found


def _context_targets(rows: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """Every prompt within the window at each N, and input tokens linear in N."""
    found: list[tuple[str, str, bool]] = []
    for row in rows:
        room = row["window"] - row["output"]
        found.append(
            (
                f"largest prompt fits the window, N={row['n']}",
                f"{row['largest_prompt']:,} + {row['output']:,} of {row['window']:,}",
                row["largest_prompt"] <= room and row["status"] == "completed",
            )
        )
    if len(rows) > 1:
        # Linear, not worse: a worker costs no more at the largest N than at the smallest
        # (shortened results can make it cost less in between).
        first, last = rows[0], rows[-1]
        growth = last["per_worker"] / max(first["per_worker"], 1)
        found.append(
            (
                f"input tokens linear in N (per worker, N={last['n']} vs N={first['n']})",
                f"{growth:.2f}×",
                growth <= 1.5,
            )
        )
    return found


def markdown(results: dict[str, Any]) -> str:
    """The whole report."""
    meta = results["meta"]
    out = [
        "# Benchmarks",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} "
        f"({meta['machine']}; {meta['versions']}).",
        "Do not edit by hand: run the command again.",
        "",
        f"Every model call goes to one fake chat model with a fixed simulated latency of "
        f"{LATENCY_MS:.0f} ms (`asyncio.sleep` under `ainvoke`, `time.sleep` under `invoke`) "
        f"and replies of {REPLY_CHARS} characters of work, so only orchestration differs "
        "(`benchmarks/fake.py`). Times are medians of "
        f"{meta['repeats']} runs after a warm-up run; contenders compared with each other run "
        "interleaved in one group and their ratios are computed from that group's medians. "
        "LangSmith tracing is off; orchestra's node metadata is on.",
        "",
        "![plots](BENCHMARKS.png)",
        "",
        "## Targets",
        "",
        *_table(
            ["target", "measured", ""], [[t, m, _verdict(ok)] for t, m, ok in targets(results)]
        ),
    ]
    sections = (_overhead, _tradeoffs, _sync_async, _checkpointers, _scale, _audit, _context)
    for section in sections:
        out += section(results)
    return "\n".join(out).rstrip() + "\n"


def _overhead(results: dict[str, Any]) -> list[str]:
    rows = []
    for r in results.get("overhead", []):
        o, p = r[ORCH], r[PLAIN]
        rows.append(
            [
                r["n"],
                r["mode"],
                r["tracing"],
                _ms(p["median_s"]),
                _ms(o["median_s"]),
                f"{o['median_s'] / p['median_s']:.2f}×",
                _ms(r["critical_path_s"]),
                f"{o['median_s'] / r['critical_path_s']:.2f}×",
                f"{p['calls']} / {o['calls']}",
            ]
        )
    return [
        "## 1. Overhead against hand-written LangGraph",
        "",
        "orchestra's orchestrator-workers graph (validator, ledger, budgets, events, node "
        "metadata, retry policies) against `benchmarks/plain.py`: plan → `Send` × N → review → "
        "synthesize, "
        "the same model calls with the same output types. Both get `max_concurrency` = N. The "
        "critical path is 4 model rounds × latency.",
        "",
        *_table(
            [
                "N",
                "mode",
                "tracing",
                "plain ms",
                "orchestra ms",
                "ratio",
                "critical path ms",
                "orchestra / critical path",
                "calls plain / orchestra",
            ],
            rows,
        ),
    ]


def task_n(trade: dict[str, Any]) -> int:
    """The number of parts of the trade-off task."""
    return int(trade["n"])


def _tradeoffs(results: dict[str, Any]) -> list[str]:
    trade = results.get("tradeoffs")
    if not trade:
        return []
    base = trade[ORCH]
    rows = []
    for name in (ORCH, NO_REVIEW, SUP, SINGLE):
        if name not in trade:
            continue
        r = trade[name]
        rows.append(
            [
                name,
                _ms(r["median_s"]),
                f"{r['median_s'] / base['median_s']:.2f}×",
                r["calls"],
                f"{r['input_chars']:,}",
                f"{r['input_chars'] / base['input_chars']:.2f}×",
                f"{r['schema_chars']:,}",
            ]
        )
    return [
        f"## 2–3. The same {trade['n']}-part task: langgraph-supervisor and one agent",
        "",
        "All async. langgraph-supervisor 0.0.31 `create_supervisor` over `create_react_agent` "
        "agents, as its README builds them (`benchmarks/supervisor.py`): one hand-off per "
        "supervisor turn. The single agent is orchestra's `single_agent` pattern: one agent with "
        "every tool, one call per part (`write_part`), then its output. Input characters are "
        "those of every message sent to the model; tool schemas are counted apart.",
        "",
        f"orchestra makes N + 3 calls in 4 model rounds (plan, the workers at once, review, "
        f"synthesis); the supervisor makes 2N + 1 = {2 * task_n(trade) + 1} calls one after "
        f"another, so with equal latency orchestra can be at most "
        f"{(2 * task_n(trade) + 1) / 4:.2f}× faster. `orchestra, review: false` is the same "
        "team with `orchestrator: {review: false}`: one plan and no review call, N + 2 calls "
        "in 3 rounds.",
        "",
        *_table(
            [
                "system",
                "wall ms",
                "wall vs orchestra",
                "model calls",
                "input characters",
                "vs orchestra",
                "tool-schema characters",
            ],
            rows,
        ),
    ]


def _sync_async(results: dict[str, Any]) -> list[str]:
    sync = results.get("sync_async")
    if not sync:
        return []
    rows = []
    for name in [k.removesuffix(" (async)") for k in sync if k.endswith(" (async)")]:
        a, s = sync[f"{name} (async)"], sync[f"{name} (sync)"]
        rows.append(
            [name, _ms(a["median_s"]), _ms(s["median_s"]), f"{s['median_s'] / a['median_s']:.2f}×"]
        )
    return [
        f"## 4. Sync and async at N = {sync['n']}",
        "",
        "LangGraph's sync `invoke` runs a super-step's tasks on a thread pool of "
        "`max_concurrency` threads, or min(32, cores + 4) without it (6 here). orchestra "
        "gives LangGraph a pool of `limits.task_pool` (a round's workers + the team's "
        "`max_concurrency` + 2; `compile_team` bakes it in) and its workers take turns by "
        "the team's `max_concurrency`, so finished work is saved while others wait.",
        "",
        *_table(["configuration", "async ms", "sync ms", "sync / async"], rows),
    ]


def _checkpointers(results: dict[str, Any]) -> list[str]:
    data = results.get("checkpointers")
    if not data:
        return []
    rows = []
    for r in data["rows"]:
        none = r["none"]["median_s"]
        for name in [k for k in r if isinstance(r[k], dict)]:
            extra = r[name]["median_s"] - none
            rows.append(
                [
                    r["n"],
                    name,
                    _ms(r[name]["median_s"]),
                    f"{_ms(r[name]['min_s'])}–{_ms(r[name]['max_s'])}",
                    _ms(extra),
                    r["steps"],
                    f"{extra * 1000 / r['steps']:.1f}",
                    r["tasks"],
                    f"{extra * 1000 / r['tasks']:.2f}",
                ]
            )
    note = data.get("postgres_note")
    return [
        "## 5. Checkpointers",
        "",
        "orchestra sync (as the CLI runs), LangGraph's default durability. Overhead is the "
        "median wall time minus the median without a checkpointer in the same group, divided "
        "by the run's super-steps and by its node runs; an overhead within the runs' spread "
        "is noise. With the default durability a checkpoint is written while the next step "
        "waits for its models, so part of its cost is hidden. PostgreSQL is a throwaway local "
        "server (`tests/postgres_server.py`: fsync off), SQLite a file in a temporary folder.",
        "",
        *([f"PostgreSQL: {note}.", ""] if note else []),
        *_table(
            [
                "N",
                "checkpointer",
                "wall ms",
                "runs ms (min–max)",
                "overhead ms",
                "super-steps",
                "ms / step",
                "node runs",
                "ms / node run",
            ],
            rows,
        ),
    ]


def _scale(results: dict[str, Any]) -> list[str]:
    scale, start = results.get("scale"), results.get("startup")
    rows = []
    if scale:
        n = scale["n"]
        rows.append(["peak RSS, imports only", f"{scale['imports']['peak_rss_mb']:.0f} MB", ""])
        for key, label in (
            ("orchestra_async", f"orchestra N={n} async"),
            ("orchestra_sync", f"orchestra N={n} sync"),
            ("plain_async", f"plain LangGraph N={n} async"),
        ):
            r = scale[key]
            target = "< 150 MB" if key.startswith("orchestra") else ""
            rows.append(
                [
                    f"peak RSS, {label} (wall {_ms(r['wall_s'])} ms)",
                    f"{r['peak_rss_mb']:.0f} MB",
                    target,
                ]
            )
    if start:
        for label in ("orchestra --help", "python -c pass", "python -c 'import langgraph.graph'"):
            s = start[label]
            rows.append(
                [
                    f"`{label}`",
                    f"{s['median_s']:.2f} s",
                    "< 1.0 s" if label.startswith("orchestra") else "",
                ]
            )
    if not rows:
        return []
    return [
        "## 6. Scale and memory",
        "",
        "Each peak RSS is a fresh process (`benchmarks/child.py`). Start-up is the whole "
        "command, median of several runs.",
        "",
        *_table(["measurement", "value", "target"], rows),
    ]


def _audit_row(label: str, a: dict[str, Any]) -> list[Any]:
    return [
        label,
        f"{a['repositories']} × {a['files'] // max(a['repositories'], 1)}",
        f"{a['mb']} MB",
        a["detect_secrets_s"],
        a["audit_1_process_s"],
        f"{a['audit_s']} ({a['processes']})",
        f"{a['speedup_vs_detect_secrets']}×",
        f"{a['speedup_1_to_n_processes']}×",
        f"{a['audit_mb_s']} / {a['detect_secrets_mb_s']}",
        f"{a['secret_lines']:,} / {a['detect_secrets_lines']:,}"
        + (" (same)" if a["same_secrets"] else ""),
        a["analysers_s"],
    ]


def _audit(results: dict[str, Any]) -> list[str]:
    a = results.get("audit")
    if not a or "detect_secrets_s" not in a:
        return []
    rows = [_audit_row("real files", a)]
    if a.get("synthetic"):
        rows.append(_audit_row("synthetic", a["synthetic"]))
    return [
        "## 7. The flagship audit",
        "",
        "`benchmarks/audit.py`: `detect-secrets scan --all-files` (one process per core) and "
        "the whole `orchestra audit` command (a fresh process: offline model, SQLite "
        "checkpoints, validation, digest; registry lookups off) over the same tree, in the "
        "same run. *Real files*: each repository is real text files of the installed Python "
        "packages; *synthetic*: the generated bulk set (small files). Secret lines: the "
        "audit's / detect-secrets' (file, line) pairs.",
        "",
        *_table(
            [
                "tree",
                "repositories × files",
                "size",
                "detect-secrets s",
                "audit s, 1 process",
                "audit s (processes)",
                "vs detect-secrets",
                "1 → n processes",
                "MB/s audit / detect-secrets",
                "secret lines",
                "analysers alone s",
            ],
            rows,
        ),
    ]


def _context(results: dict[str, Any]) -> list[str]:
    rows = results.get("context")
    if not rows:
        return []
    return [
        "## 8. Context budgets at scale",
        "",
        "`benchmarks/context.py`: N workers whose results are 2,000 characters each, the "
        "offline model with gpt-4o-mini's limits on every role (128k-token window, 16,384 "
        "output tokens), so every prompt is measured and sized as for the provider: results "
        "shortened largest first, or reduced in batches (map-reduce) when even their "
        "summaries do not fit. Tokens are orchestra's conservative estimate (a third of the "
        "bytes).",
        "",
        *_table(
            [
                "N",
                "status",
                "model calls",
                "reduction batches",
                "largest prompt (tokens)",
                "largest by",
                "total input tokens",
                "input tokens per worker",
                "cited",
                "wall s",
            ],
            [
                [
                    row["n"],
                    row["status"],
                    row["calls"],
                    row["batches"],
                    f"{row['largest_prompt']:,} of {row['window'] - row['output']:,}",
                    row["largest_who"],
                    f"{row['input_tokens']:,}",
                    f"{row['per_worker']:,}",
                    row["cited"],
                    row["wall_s"],
                ]
                for row in rows
            ],
        ),
    ]


def plot(results: dict[str, Any], path: Path) -> None:
    """Four panels: overhead by N, the N=10 trade-off (wall, characters), checkpointers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    over = [r for r in results.get("overhead", []) if r["tracing"] == "metadata"]
    ax = axes[0][0]
    for mode, style in (("async", "-"), ("sync", "--")):
        rows = [r for r in over if r["mode"] == mode]
        ns = [r["n"] for r in rows]
        ax.plot(
            ns,
            [r[PLAIN]["median_s"] * 1000 for r in rows],
            "o" + style,
            label=f"plain LangGraph ({mode})",
        )
        ax.plot(
            ns, [r[ORCH]["median_s"] * 1000 for r in rows], "s" + style, label=f"orchestra ({mode})"
        )
    if over:
        ns = sorted({r["n"] for r in over})
        ax.plot(
            ns,
            [over[0]["critical_path_s"] * 1000] * len(ns),
            ":",
            color="grey",
            label="critical path",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set(title="Wall time by number of workers", xlabel="N workers", ylabel="ms (median)")
    if over:
        ax.legend(fontsize=8)
    trade = results.get("tradeoffs") or {}
    names = [n for n in (ORCH, NO_REVIEW, SUP, SINGLE) if n in trade]
    labels = [n.replace(", ", ",\n").replace("langgraph-", "langgraph-\n") for n in names]
    axes[0][1].bar(labels, [trade[n]["median_s"] * 1000 for n in names], color="tab:blue")
    axes[0][1].set(
        title=f"The same {trade.get('n', '')}-part task: wall time", ylabel="ms (median)"
    )
    axes[1][0].bar(labels, [trade[n]["input_chars"] for n in names], color="tab:orange")
    axes[1][0].set(title="Characters sent to models", ylabel="characters")
    ax = axes[1][1]
    rows = (results.get("checkpointers") or {}).get("rows", [])
    width = 0.8 / max(len(rows), 1)
    for i, r in enumerate(rows):
        kinds = [k for k in r if isinstance(r[k], dict) and k != "none"]
        per = [(r[k]["median_s"] - r["none"]["median_s"]) * 1000 / r["tasks"] for k in kinds]
        ax.bar([j + i * width for j in range(len(kinds))], per, width, label=f"N={r['n']}")
        ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(kinds))], kinds)
    ax.set(title="Checkpointer overhead per node run", ylabel="ms")
    if rows:
        ax.legend(fontsize=8)
    fig.suptitle(f"orchestra benchmarks (fake model: {LATENCY_MS:.0f} ms per call)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
