"""How many workers one super-step may start in the pool the run was given.

A worker's steps are durable tasks (``orchestra.nodes.durable``), and LangGraph runs a
node's tasks in the same pool as the nodes themselves (``max_concurrency`` threads in
sync code, a semaphore of that size in async code), while the node waits for them. A
super-step that starts as many workers as the pool has slots leaves no slot for their
steps, and the run stops making progress for good. ``compile_team`` and ``run_team``
size the pool so that this cannot happen (``Limits.task_pool``); a caller who passes a
smaller ``max_concurrency`` (or compiles ``build(...)`` without one: Python's default of
``min(32, cpus + 4)`` threads) gets its ready workers in several waves instead, each
small enough that the workers holding a turn (``orchestra.nodes.turns``) all have a slot
for their step, and a note says so.

Without a checkpointer the steps are made directly in the node, so the pool needs no room.
"""

from __future__ import annotations

import os

from langgraph.config import get_config
from langgraph.constants import CONF, CONFIG_KEY_CHECKPOINTER

__all__ = ["pool_size", "wave_room"]


def pool_size(*, sync: bool) -> int | None:
    """The slots of the pool running this graph's tasks (``None``: unbounded)."""
    try:
        config = get_config()
    except RuntimeError:  # a node called on its own: nothing is pooled
        return None
    if config.get(CONF, {}).get(CONFIG_KEY_CHECKPOINTER) is None:
        return None
    size = config.get("max_concurrency")
    if size is None and sync:
        # langchain-core's executor is a ThreadPoolExecutor left at Python's default.
        return min(32, (os.cpu_count() or 1) + 4)
    return size


def wave_room(ready: int, turns: int, pool: int | None) -> int:
    """How many of ``ready`` workers to start now in a pool of ``pool`` slots.

    Every started worker holds a slot while it runs; each of the at most ``turns`` that
    hold a turn needs one more for its current step. So the wave is the largest that
    leaves a slot per turn-holder: ``pool - turns`` when that covers the turns, else half
    the pool. One worker always fits: LangGraph runs a lone task on the calling thread.

    Example:
        >>> wave_room(25, turns=16, pool=16), wave_room(25, turns=4, pool=16)
        (8, 12)
        >>> wave_room(25, turns=16, pool=None), wave_room(3, turns=16, pool=1)
        (25, 1)
    """
    if pool is None:
        return ready
    room = pool - turns if pool - turns >= turns else pool // 2
    return min(ready, max(room, 1))
