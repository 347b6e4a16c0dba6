"""Make a model's plan safe to dispatch.

Known specialists, unique ids, real dependencies, no cycles, within the worker cap.
Whatever is dropped or renamed is said in a note.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from orchestra.state import Subtask, SubtaskRecord


@dataclass
class CheckedPlan:
    """Subtasks ready for state, and what the check changed."""

    subtasks: list[SubtaskRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    capped: bool = False
    to_fix: list[str] = field(default_factory=list)
    """The notes worth a corrected plan: what was dropped or ignored (renames and the cap
    are fixed in place)."""

    def flag(self, note: str) -> None:
        """Note something the plan lost, for the orchestrator to fix."""
        self.notes.append(note)
        self.to_fix.append(note)


def _without_dependents_of(
    records: list[SubtaskRecord], dropped: set[str], checked: CheckedPlan
) -> list[SubtaskRecord]:
    """Drop, transitively, subtasks that need the output of a dropped one."""
    gone = set(dropped)
    kept = list(records)
    changed = True
    while changed:
        changed = False
        for record in list(kept):
            missing = [d for d in record["depends_on"] if d in gone]
            if missing:
                checked.flag(f"dropped subtask {record['id']}: it depends on dropped {missing}")
                gone.add(record["id"])
                kept.remove(record)
                changed = True
    return kept


def _acyclic(records: list[SubtaskRecord], known: Collection[str]) -> tuple[list[str], set[str]]:
    """Ids in dependency order, and the ids caught in (or behind) a cycle."""
    pending = {r["id"]: {d for d in r["depends_on"] if d not in known} for r in records}
    order: list[str] = []
    while True:
        ready = [sid for sid, deps in pending.items() if not deps]
        if not ready:
            break
        for sid in ready:
            order.append(sid)
            del pending[sid]
        for deps in pending.values():
            deps.difference_update(ready)
    return order, set(pending)


def check_plan(
    subtasks: list[Subtask],
    *,
    specialists: Collection[str],
    existing: Collection[str],
    round_no: int,
    max_subtasks: int,
) -> CheckedPlan:
    """Check and normalise one round's subtasks against the team and earlier rounds."""
    checked = CheckedPlan()
    renamed: dict[str, str] = {}
    dropped: set[str] = set()
    taken = set(existing)
    proposed = {sub.id.strip() for sub in subtasks}
    records: list[SubtaskRecord] = []
    for number, sub in enumerate(subtasks, start=1):
        label = sub.id or f"#{number}"
        if sub.specialist not in specialists:
            checked.flag(f"dropped subtask {label}: no specialist named {sub.specialist!r}")
            dropped.add(sub.id)
            continue
        if not sub.instruction.strip():
            checked.flag(f"dropped subtask {label}: empty instruction")
            dropped.add(sub.id)
            continue
        sid = sub.id.strip()
        if not sid or sid in taken:
            fresh, n = f"r{round_no}s{number}", number
            while fresh in taken or fresh in proposed:
                n += 1
                fresh = f"r{round_no}s{n}"
            checked.notes.append(f"renamed subtask {label!r} to {fresh!r}: id missing or reused")
            sid = fresh
        # A reference to a reused id means its first holder: an earlier round's result, or
        # the first subtask of this plan that had it.
        if sub.id not in existing:
            renamed.setdefault(sub.id, sid)
        taken.add(sid)
        records.append(
            SubtaskRecord(
                id=sid,
                specialist=sub.specialist,
                instruction=sub.instruction.strip(),
                depends_on=list(sub.depends_on),
                round=round_no,
            )
        )
    valid = set(existing) | {r["id"] for r in records}
    for record in records:
        deps = [renamed.get(d, d) for d in record["depends_on"]]
        unknown = [d for d in deps if (d not in valid and d not in dropped) or d == record["id"]]
        if unknown:
            checked.flag(f"subtask {record['id']}: ignored unknown dependencies {unknown}")
        record["depends_on"] = list(dict.fromkeys(d for d in deps if d not in unknown))
    records = _without_dependents_of(records, dropped, checked)
    order, cyclic = _acyclic(records, existing)
    if cyclic:
        checked.flag(f"dropped subtasks {sorted(cyclic)}: their dependencies form a cycle")
    by_id = {r["id"]: r for r in records}
    kept = [by_id[sid] for sid in order]
    if len(kept) > max_subtasks:
        extra = [r["id"] for r in kept[max_subtasks:]]
        checked.notes.append(
            f"max_workers_per_round ({max_subtasks}) reached: dropped subtasks {extra}"
        )
        checked.capped = True
        kept = kept[:max_subtasks]
    checked.subtasks = kept
    return checked
