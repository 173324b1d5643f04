"""How long this process's event loop was held: timer lateness and the garbage collector's pauses,
for /metrics (docs/operations.md, "Metrics").

Everything a process does runs on one event loop, so whatever holds it for 20 ms delays every
socket and every route on that process by up to 20 ms. At a peak an operator needs to see that
before the customers do: a process near the end of its CPU shows it here first, and a long
pause here with an idle CPU points at one slow callback or a large collection instead.

- Lag: a timer due every TICK_S runs late by however long the loop was held when it came due,
  which is how Node.js measures its event-loop delay. A stall shorter than the tick is caught in
  proportion to its length, a longer one always.
- GC pauses: every collection, by generation, timed by the collector's own callbacks. A full
  collection walks every object the process tracks (router/heap.py sets start-up's aside).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from prometheus_client.core import HistogramMetricFamily, Metric

TICK_S = 0.02
"""How often the lag timer is due: 50 wake-ups a second, a few microseconds of CPU each."""

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Histogram:
    """Counts per bucket (not cumulative), their sum and number; what Prometheus's histogram
    type reports, kept without its client's locks (one thread, one loop)."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: over every bound
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        i = 0
        for bound in self.bounds:
            if value <= bound:
                break
            i += 1
        self.counts[i] += 1
        self.sum += value
        self.count += 1

    def over(self, bound: float) -> int:
        """How many observations were over `bound` (one of the bounds)."""
        return sum(self.counts[self.bounds.index(bound) + 1:])

    def add(self, other: Histogram) -> None:
        """Take in `other`'s observations (same bounds): several loops' histograms as one."""
        if other.bounds != self.bounds:
            raise ValueError("histograms with different bounds do not add up")
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.sum += other.sum
        self.count += other.count

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative, as the text format wants them: ("0.005", n), ..., ("+Inf", count)."""
        out, running = [], 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            running += n
            out.append((repr(bound), float(running)))
        out.append(("+Inf", float(self.count)))
        return out


class Stalls:
    """A service (router/supervisor.py) in every process: the lag timer while it runs, and the
    collector's callback installed for as long."""

    name = "stalls"

    def __init__(self) -> None:
        self.lag = Histogram(LAG_BUCKETS)
        self.pauses = {gen: Histogram(PAUSE_BUCKETS) for gen in range(3)}
        self._stopping = False
        self._gc_started = 0.0

    async def run(self) -> None:
        self._stopping = False
        loop = asyncio.get_running_loop()
        gc.callbacks.append(self._gc)
        try:
            while not self._stopping:
                due = loop.time() + TICK_S
                await asyncio.sleep(TICK_S)
                self.lag.observe(max(loop.time() - due, 0.0))
        finally:
            gc.callbacks.remove(self._gc)

    def stop(self) -> None:
        self._stopping = True

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self.pauses[int(info["generation"])].observe(time.perf_counter() - self._gc_started)
            self._gc_started = 0.0

    def families(self) -> list[Metric]:
        lag = HistogramMetricFamily(
            "kefu_event_loop_lag_seconds", f"How late a timer due every {TICK_S:g} s ran: how long the "
            "event loop was held when it came due", labels=[])
        lag.add_metric([], self.lag.buckets(), self.lag.sum)
        pauses = HistogramMetricFamily("kefu_gc_pause_seconds", "Garbage collections of this process, "
                                       "by generation (2: full), and how long each held it", labels=["generation"])
        for gen, h in self.pauses.items():
            pauses.add_metric([str(gen)], h.buckets(), h.sum)
        return [lag, pauses]
