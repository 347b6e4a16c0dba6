"""The workers' turns: a stop frees the waiters, and no turn is ever lost."""

from __future__ import annotations

import asyncio
import threading

import pytest

from orchestra import RunStopped, StopSignal
from orchestra.state import Gate


def test_an_async_waiter_gives_up_on_a_stop_and_the_turns_stay_whole() -> None:
    async def go() -> None:
        stop = StopSignal()
        gate = Gate(stop)
        async with gate.ahold("t", 1):
            waiting = asyncio.ensure_future(gate.ahold("t", 1).__aenter__())
            await asyncio.sleep(0.12)  # several polls: still waiting for the held turn
            assert not waiting.done()
            stop.request()
            with pytest.raises(RunStopped):
                await waiting
        (turns,) = gate._tasks[asyncio.get_running_loop()].values()
        assert not turns.locked()  # the held turn came back, and the waiter took none

    asyncio.run(go())


def test_many_async_waiters_under_a_stop_lose_no_turn() -> None:
    async def go() -> int:
        stop = StopSignal()
        gate = Gate(stop)
        running = 0
        most = 0

        async def worker(i: int) -> None:
            nonlocal running, most
            async with gate.ahold("t", 3):
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(worker(i) for i in range(60)))
        semaphore = next(iter(gate._tasks[asyncio.get_running_loop()].values()))
        assert most == 3
        return semaphore._value

    assert asyncio.run(go()) == 3  # every turn came back


def test_a_thread_waiter_gives_up_on_a_stop() -> None:
    stop = StopSignal()
    gate = Gate(stop)
    outcome: list[str] = []

    def wait() -> None:
        try:
            with gate.hold("t", 1):
                outcome.append("ran")
        except RunStopped:
            outcome.append("stopped")

    with gate.hold("t", 1):
        other = threading.Thread(target=wait)
        other.start()
        stop.request()
        other.join(timeout=5)
    assert outcome == ["stopped"]
