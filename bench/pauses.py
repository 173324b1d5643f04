"""How often the machine itself stops every process on it, measured with nothing else running.

    python bench/pauses.py [SECONDS]     # prints the figures as JSON

A loop sleeps SLEEP_MS at a time and notes each wake-up more than THRESHOLD_MS late. On an idle
machine a late wake-up is time the whole machine was taken away: on the development VM, both
cores stopped together for 3-6 ms about every 0.32 s (docs/performance.md, "Session 13"). A
pause like that holds every line in flight, and the lines the benchmark's driver owes meanwhile
go out together when it ends: at 1,000 msg/s a small burst every third of a second, which sets
the p99 of anything slower than the bare relay. The latency benchmark takes this figure just
before each kefu run, so a run on a machine that pauses is told from one on a machine that does
not.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time
from typing import Any

SLEEP_MS = 0.5
THRESHOLD_MS = 1.5
"""Late by more than this is a pause: an idle loop's wake-up is late by 0.05-0.1 ms."""


def probe(seconds: float, threshold_ms: float = THRESHOLD_MS) -> dict[str, Any]:
    """Sleep in SLEEP_MS steps for `seconds` (blocking: run it with nothing else to do) and
    return the pauses: how many, the longest, their sum, and the median time between two."""
    pauses: list[tuple[float, float]] = []
    start = last = time.perf_counter()
    while last - start < seconds:
        time.sleep(SLEEP_MS / 1000)
        now = time.perf_counter()
        late_ms = (now - last) * 1000 - SLEEP_MS
        if late_ms > threshold_ms:
            pauses.append((last - start, late_ms))
        last = now
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(pauses)]
    return {
        "seconds": round(last - start, 3),
        "pauses": len(pauses),
        "max_ms": round(max((ms for _, ms in pauses), default=0.0), 2),
        "total_ms": round(sum(ms for _, ms in pauses), 2),
        "every_s": round(statistics.median(gaps), 3) if gaps else None,
    }


def say(p: dict[str, Any]) -> str:
    if not p["pauses"]:
        return f"the idle machine never paused in {p['seconds']:.0f} s"
    every = f", about every {p['every_s']:.2f} s" if p["every_s"] else ""
    return f"the idle machine paused {p['pauses']} times in {p['seconds']:.0f} s, up to {p['max_ms']:.1f} ms{every}"


def main() -> None:
    print(json.dumps(probe(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)), flush=True)


if __name__ == "__main__":
    main()
