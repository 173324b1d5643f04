"""The latency benchmark's turns (bench/slices.py): three runs on gated clocks each get their whole
duration, one at a time, in a rotating order, and write only while their gate is open; the
machine pauses a watch saw are counted for the run whose turn they fell in (bench/pauses.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench import slices
from bench.pauses import within
from bench.slices import Gate, take_turns


async def test_each_run_writes_its_whole_schedule_in_its_own_turns_only() -> None:
    gates = [Gate(), Gate(), Gate()]
    written: list[tuple[int, float]] = []  # (run, wall time) of every line
    rate, duration_s = 200.0, 0.6

    async def writer(i: int) -> None:
        for n in range(int(rate * duration_s)):
            await gates[i].until(n / rate)
            written.append((i, time.monotonic()))

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(writer(i) for i in range(3)),
                                          take_turns(gates, duration_s, slice_s=0.2)), 30)
    wall = time.monotonic() - started
    assert [sum(1 for i, _ in written if i == run) for run in range(3)] == [120, 120, 120]
    # One at a time: every line falls in a span its own gate was open (a write woken late by
    # the event loop may land a hair after the close).
    for run, at in written:
        assert any(a <= at <= b + 0.01 for a, b in gates[run].spans), (run, at, gates[run].spans)
    for g in gates:
        assert 0.55 <= sum(b - a for a, b in g.spans) <= 0.75, g.spans
        assert len(g.spans) == 3
    assert wall >= 3 * duration_s  # the turns did not overlap
    # The order rotates: each run opens a round once.
    firsts = [min(range(3), key=lambda i: gates[i].spans[r][0]) for r in range(3)]
    assert sorted(firsts) == [0, 1, 2]


async def test_a_run_that_never_connects_fails_the_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slices, "READY_S", 0.2)
    ready, stuck = Gate(), Gate()
    waiter = asyncio.create_task(ready.until(0.0))  # connected; `stuck` never asks for time
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(take_turns([ready, stuck], 1.0), 10)
    assert time.monotonic() - started < 2  # its own limit, not the test's 10 s
    assert not ready.spans and not waiter.done()  # no turn was given
    waiter.cancel()


def test_a_pause_counts_for_the_turn_it_fell_in() -> None:
    seen = {"at": [(10.0, 4.0), (11.5, 2.0), (12.2, 8.0), (20.0, 3.0)], "realtime": True}
    kefu = within(seen, [(10.0, 11.0), (12.0, 13.0)])
    relay = within(seen, [(11.0, 12.0)])
    assert (kefu["pauses"], kefu["total_ms"], kefu["max_ms"], kefu["seconds"]) == (2, 12.0, 8.0, 2.0)
    assert (relay["pauses"], relay["total_ms"], relay["seconds"]) == (1, 2.0, 1.0)
    assert within(seen, [])["pauses"] == 0 and kefu["realtime"] is True
