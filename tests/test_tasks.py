"""The spool workers' pass loop (hotline.tasks.PassLoop): a pass at start, on a wake, on the timer,
after a failed pass."""

from __future__ import annotations

import asyncio

from hotline.tasks import PassLoop


def test_a_pass_at_start_on_each_wake_and_on_the_timer_and_a_failure_stops_nothing() -> None:
    async def scenario() -> list[str]:
        passes: list[str] = []
        failed = asyncio.Event()

        async def run_once() -> None:
            passes.append("pass")
            if len(passes) == 2:
                failed.set()
                raise RuntimeError("one bad pass")

        loop = PassLoop("test-loop", run_once, sweep=3600.0, settle=0.0, failure="test pass failed")
        loop.start()
        await asyncio.sleep(0.05)
        assert passes == ["pass"]  # the start pass; the timer is an hour away
        loop.wake()
        await asyncio.wait_for(failed.wait(), 5)
        loop.wake()
        for _ in range(100):
            if len(passes) == 3:
                break
            await asyncio.sleep(0.01)
        await loop.stop()
        return passes

    assert asyncio.run(scenario()) == ["pass"] * 3


def test_the_timer_runs_a_pass_when_no_wake_comes() -> None:
    async def scenario() -> int:
        passes: list[int] = []

        async def run_once() -> None:
            passes.append(1)

        loop = PassLoop("test-timer", run_once, sweep=0.05, settle=0.0, failure="test pass failed")
        loop.start()
        for _ in range(200):
            if len(passes) >= 3:
                break
            await asyncio.sleep(0.01)
        await loop.stop()
        return len(passes)

    assert asyncio.run(scenario()) >= 3
