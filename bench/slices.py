"""Kefu and its baselines in turns: each run's clock runs only while its slice is open.

The latency benchmark compares kefu's p99 with a bare relay's and Redis's floor measured in the
same run. Measured one after the other, 10 s each, a storm of the machine's own pauses that fell
on one and not the others swung the ratio either way: 0.08 with the storm on the baselines, 3.37
with it on kefu, the same hour (docs/performance.md, "Session 21"). Here the three run side by
side, connected, each writing only while its `Gate` is open, and `take_turns` opens one at a time
for SLICE_S, in a rotating order, until each has had its whole duration: a minute of a bad
machine falls on all three alike. A line sent just before its gate closes still lands in the next
one's slice; GAP_S between slices lets those land first.

It is `python -m bench latency --slice-s 2`, not the default: each turn starts cold after the
others' (caches, the interpreter's own warm state), and kefu's lines in a turn's first 50 ms had
a p50 of 1.6 ms and a p99 of 5.2 against 0.8 and 3.0 after its first 0.2 s, alone on the machine
with its turns 2 s in 6. The relay, a few lines of code a frame, pays much less of it, so taking
turns measured kefu at about twice the p99 of runs one after the other (docs/performance.md,
"Session 21").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

SLICE_S = 2.0
"""How long one run writes before the next takes its turn."""
GAP_S = 0.05
"""Between two slices: the lines still in flight land (a few milliseconds even in a burst)."""
READY_S = 120.0
"""How long the runs may take to connect before the first turn."""


class Gate:
    """A run's clock (router/loadgen/run.py `Clock`) that advances only while open; it keeps the
    wall-clock (`time.monotonic`) spans it was open, to tell which pauses fell on it."""

    def __init__(self, meter: Callable[[], float] | None = None) -> None:
        self._open = asyncio.Event()
        self._ran = 0.0
        self._since: float | None = None
        self.spans: list[tuple[float, float]] = []
        self.waiting = asyncio.Event()
        """Set once the run asks for time: it has connected and is ready to write."""
        self._meter = meter
        self._metered_from = 0.0
        self.metered = 0.0
        """What `meter` (a process's CPU seconds, say) grew by over the turns, each from its open
        to the end of the gap after it: what the run cost, without the others' turns, in which
        it idles."""

    def open(self) -> None:
        if self._meter is not None:
            self._metered_from = self._meter()
        self._since = time.monotonic()
        self._open.set()

    def settled(self) -> None:
        """The turn's lines have landed (the gap after it): count what the meter grew by."""
        if self._meter is not None:
            self.metered += self._meter() - self._metered_from

    def close(self) -> None:
        if self._since is not None:
            now = time.monotonic()
            self._ran += now - self._since
            self.spans.append((self._since, now))
            self._since = None
        self._open.clear()

    def now(self) -> float:
        return self._ran + (time.monotonic() - self._since if self._since is not None else 0.0)

    async def until(self, t: float) -> None:
        self.waiting.set()
        while True:
            await self._open.wait()
            left = t - self.now()
            if left <= 0:
                return
            # Woken after a close, the clock stood still meanwhile: this loop waits for the next
            # open and sleeps what is left of the schedule's time then.
            await asyncio.sleep(left)


async def take_turns(gates: list[Gate], duration_s: float, slice_s: float = SLICE_S) -> None:
    """Once every gate's run is ready, open each in turn for `slice_s` (the order rotating each
    round, so none always follows the same one) until each has been open `duration_s`."""
    # Connecting 200 customers and 20 agents takes a second or two; a run that never gets there
    # has failed, and its error is what the caller's gather raises.
    await asyncio.wait_for(asyncio.gather(*(g.waiting.wait() for g in gates)), READY_S)
    given = 0.0
    turn = 0
    while given < duration_s - 1e-9:
        span = min(slice_s, duration_s - given)
        order = gates[turn % len(gates):] + gates[:turn % len(gates)]
        for gate in order:
            gate.open()
            await asyncio.sleep(span)
            gate.close()
            await asyncio.sleep(GAP_S)
            gate.settled()
        given += span
        turn += 1
    for gate in gates:  # past its duration a run has nothing left to write: let it finish
        gate.open()
