"""check_plan: a model's plan made safe to dispatch, with a note for everything it changes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest

from orchestra.nodes import CheckedPlan, check_plan
from orchestra.state import Subtask

TEAM = ("researcher", "analyst")


def sub(sid: str, deps: Sequence[str] = (), *, who: str = "researcher", text: str = "") -> Subtask:
    return Subtask(
        id=sid, specialist=who, instruction=text or f"work on {sid}", depends_on=list(deps)
    )


def check(
    subtasks: list[Subtask],
    *,
    existing: Collection[str] = (),
    round_no: int = 1,
    max_subtasks: int = 8,
) -> CheckedPlan:
    return check_plan(
        subtasks,
        specialists=TEAM,
        existing=existing,
        round_no=round_no,
        max_subtasks=max_subtasks,
    )


def ids(checked: CheckedPlan) -> list[str]:
    return [r["id"] for r in checked.subtasks]


def deps(checked: CheckedPlan) -> dict[str, list[str]]:
    return {r["id"]: r["depends_on"] for r in checked.subtasks}


def test_a_sound_plan_passes_unchanged() -> None:
    checked = check(
        [sub("s1"), sub("s2", who="analyst", text="  add it up  "), sub("s3", ["s1", "s2"])],
        round_no=2,
    )
    assert checked.notes == []
    assert checked.capped is False
    assert [r["round"] for r in checked.subtasks] == [2, 2, 2]
    assert [
        (r["id"], r["specialist"], r["instruction"], r["depends_on"]) for r in checked.subtasks
    ] == [
        ("s1", "researcher", "work on s1", []),
        ("s2", "analyst", "add it up", []),
        ("s3", "researcher", "work on s3", ["s1", "s2"]),
    ]


def test_unknown_specialist_is_dropped_with_a_note() -> None:
    checked = check([sub("s1"), sub("s2", who="poet")])

    assert ids(checked) == ["s1"]
    assert checked.notes == ["dropped subtask s2: no specialist named 'poet'"]


@pytest.mark.parametrize("instruction", ["", "   \n\t"])
def test_empty_instruction_is_dropped_with_a_note(instruction: str) -> None:
    blank = Subtask(id="s2", specialist="analyst", instruction=instruction, depends_on=[])

    checked = check([sub("s1"), blank])

    assert ids(checked) == ["s1"]
    assert checked.notes == ["dropped subtask s2: empty instruction"]


@pytest.mark.parametrize("missing", ["", "   "])
def test_missing_id_is_replaced(missing: str) -> None:
    checked = check([sub("s1"), sub(missing, who="analyst")], round_no=3)

    assert ids(checked) == ["s1", "r3s2"]
    assert checked.subtasks[1]["specialist"] == "analyst"
    assert len(checked.notes) == 1
    assert "'r3s2'" in checked.notes[0]
    assert "id missing or reused" in checked.notes[0]


def test_duplicate_id_within_the_plan_is_renamed() -> None:
    checked = check([sub("s1", text="first"), sub("s1", text="second")])

    assert ids(checked) == ["s1", "r1s2"]
    assert [r["instruction"] for r in checked.subtasks] == ["first", "second"]
    assert checked.notes == ["renamed subtask 's1' to 'r1s2': id missing or reused"]


def test_id_reused_from_an_earlier_round_is_renamed_and_references_mean_the_earlier_result() -> (
    None
):
    checked = check(
        [sub("s1", text="new work"), sub("s2", ["s1"], who="analyst")],
        existing=["s1"],
        round_no=2,
    )

    assert ids(checked) == ["r2s1", "s2"]
    assert deps(checked) == {"r2s1": [], "s2": ["s1"]}
    assert checked.notes == ["renamed subtask 's1' to 'r2s1': id missing or reused"]


def test_dependencies_on_earlier_rounds_are_kept() -> None:
    checked = check(
        [sub("s3", ["s1"]), sub("s4", ["s1", "s2", "s3"])],
        existing=["s1", "s2"],
        round_no=2,
    )

    assert checked.notes == []
    assert deps(checked) == {"s3": ["s1"], "s4": ["s1", "s2", "s3"]}


def test_unknown_and_self_dependencies_are_removed_with_a_note() -> None:
    checked = check([sub("s1"), sub("s2", ["s1", "ghost", "s2", "s1"])])

    assert deps(checked) == {"s1": [], "s2": ["s1"]}
    assert checked.notes == ["subtask s2: ignored unknown dependencies ['ghost', 's2']"]


def test_subtasks_that_depend_on_a_dropped_subtask_are_dropped_too() -> None:
    checked = check([sub("s1", who="poet"), sub("s2", ["s1"]), sub("s3", ["s2"]), sub("s4")])

    assert deps(checked) == {"s4": []}
    assert checked.notes == [
        "dropped subtask s1: no specialist named 'poet'",
        "dropped subtask s2: it depends on dropped ['s1']",
        "dropped subtask s3: it depends on dropped ['s2']",
    ]


def test_a_generated_id_never_collides_with_one_the_plan_proposes() -> None:
    checked = check([sub("r1s2"), sub("")])

    assert sorted(ids(checked)) == ["r1s2", "r1s3"]


def test_a_cycle_drops_its_members_and_what_waits_on_them_only() -> None:
    checked = check(
        [
            sub("a", ["c"]),
            sub("b", ["a"]),
            sub("c", ["b"]),
            sub("free"),
            sub("after_free", ["free"]),
            sub("behind", ["a"]),
        ]
    )

    assert ids(checked) == ["free", "after_free"]
    assert deps(checked) == {"free": [], "after_free": ["free"]}
    assert checked.notes == [
        "dropped subtasks ['a', 'b', 'behind', 'c']: their dependencies form a cycle"
    ]
    assert checked.capped is False


def test_subtasks_come_out_in_dependency_order() -> None:
    checked = check([sub("s3", ["s2"]), sub("s2", ["s1"]), sub("s1")])

    assert ids(checked) == ["s1", "s2", "s3"]
    assert checked.notes == []


def test_worker_cap_drops_the_extra_subtasks() -> None:
    checked = check([sub(f"s{i}") for i in range(1, 6)], max_subtasks=3)

    assert checked.capped is True
    assert ids(checked) == ["s1", "s2", "s3"]
    assert checked.notes == ["max_workers_per_round (3) reached: dropped subtasks ['s4', 's5']"]


@pytest.mark.parametrize("cap", [1, 2, 3, 4])
def test_worker_cap_never_keeps_a_subtask_whose_dependency_was_dropped(cap: int) -> None:
    plan = [
        sub("late", ["x3"]),
        sub("x1"),
        sub("x2"),
        sub("x3"),
        sub("later", ["late", "x1"]),
    ]

    checked = check(plan, max_subtasks=cap)

    assert checked.capped is True
    assert len(checked.subtasks) == cap
    kept = set(ids(checked))
    for record in checked.subtasks:
        assert set(record["depends_on"]) <= kept
    assert ids(checked) == ["x1", "x2", "x3", "late"][:cap]
    assert "later" not in kept


def test_worker_cap_not_reached() -> None:
    checked = check([sub("s1"), sub("s2")], max_subtasks=2)

    assert checked.capped is False
    assert ids(checked) == ["s1", "s2"]
    assert checked.notes == []


def test_every_change_is_noted_at_once() -> None:
    checked = check(
        [
            sub("s1", who="poet"),
            sub("s2", text=" "),
            sub("s3"),
            sub("s3", ["nope"]),
            sub("s5", ["s6"]),
            sub("s6", ["s5"]),
            sub("s7"),
            sub("s8"),
        ],
        existing=["s7"],
        max_subtasks=2,
    )

    assert ids(checked) == ["s3", "r1s4"]
    assert checked.capped is True
    assert checked.notes == [
        "dropped subtask s1: no specialist named 'poet'",
        "dropped subtask s2: empty instruction",
        "renamed subtask 's3' to 'r1s4': id missing or reused",
        "renamed subtask 's7' to 'r1s7': id missing or reused",
        "subtask r1s4: ignored unknown dependencies ['nope']",
        "dropped subtasks ['s5', 's6']: their dependencies form a cycle",
        "max_workers_per_round (2) reached: dropped subtasks ['r1s7', 's8']",
    ]


def test_only_what_the_plan_lost_is_to_be_fixed_not_what_was_fixed_in_place() -> None:
    checked = check(
        [
            sub("s1"),
            sub("s1"),  # reused id: renamed in place
            sub("s3", who="poet"),  # unknown specialist: dropped
            sub("s4", ["ghost"]),  # unknown dependency: ignored
            sub("s5"),
            sub("s6"),  # over the cap: cut
        ],
        max_subtasks=3,
    )
    assert checked.capped and len(checked.notes) == 4
    assert checked.to_fix == [
        "dropped subtask s3: no specialist named 'poet'",
        "subtask s4: ignored unknown dependencies ['ghost']",
    ]
