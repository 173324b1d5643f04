"""How often the machine itself stops every process on it.

    python bench/pauses.py [SECONDS]     # the idle machine, for SECONDS; prints the figures as JSON
    python bench/pauses.py --watch       # until stdin closes (what `Watch` runs beside a run)

A loop sleeps SLEEP_MS at a time and notes each wake-up more than THRESHOLD_MS late. On an idle
machine a late wake-up is time the whole machine was taken away: on the development VM, both
cores stopped together for 3-6 ms about every 0.32 s (docs/performance.md, "Session 13"). A
pause like that holds every line in flight, and the lines the benchmark's driver owes meanwhile
go out together when it ends: at 1,000 msg/s a small burst every third of a second, which sets
the p99 of anything slower than the bare relay.

`Watch` runs the same loop in a process of its own *during* a measured run, at real-time
priority where the system allows it (SCHED_FIFO: root, or CAP_SYS_NICE), so that a busy kefu or
driver does not make it late; a late wake-up then is the machine's, not the load's. The latency
benchmark watches each of its runs, the baselines' included, so a miss that fell on a run the
machine paused more in is told from one that did not (until session 21 it probed the idle
machine for 2 s before each kefu run only, which said how the machine was that minute, not what
the run went through).
"""

from __future__ import annotations

import itertools
import json
import os
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SLEEP_MS = 0.5
THRESHOLD_MS = 1.5
"""Late by more than this is a pause: an idle loop's wake-up is late by 0.05-0.1 ms."""


def probe(seconds: float, threshold_ms: float = THRESHOLD_MS) -> dict[str, Any]:
    """Sleep in SLEEP_MS steps for `seconds` (blocking: run it with nothing else to do) and
    return the pauses: how many, the longest, their sum, and the median time between two."""
    def nap() -> bool:
        time.sleep(SLEEP_MS / 1000)
        return False

    return _loop(nap, seconds, threshold_ms)


def _loop(nap: Callable[[], bool], seconds: float, threshold_ms: float) -> dict[str, Any]:
    """`nap()` sleeps about SLEEP_MS and says whether to stop; until it does or `seconds` pass,
    note each wake-up over `threshold_ms` late."""
    pauses: list[tuple[float, float]] = []
    # time.monotonic: the clock every process here reads alike, so another process can tell
    # which of its spans a pause fell in (`within`).
    start = last = time.monotonic()
    while last - start < seconds:
        done = nap()
        now = time.monotonic()
        late_ms = (now - last) * 1000 - SLEEP_MS
        if late_ms > threshold_ms:
            pauses.append((last, late_ms))
        last = now
        if done:
            break
    p = summary(pauses, last - start)
    p["at"] = [(round(t, 4), round(ms, 2)) for t, ms in pauses]
    return p


def summary(pauses: list[tuple[float, float]], seconds: float) -> dict[str, Any]:
    """(when, how long in ms) of each pause over `seconds` watched: how many, the longest, their
    sum, and the median time between two."""
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(pauses)]
    return {
        "seconds": round(seconds, 3),
        "pauses": len(pauses),
        "max_ms": round(max((ms for _, ms in pauses), default=0.0), 2),
        "total_ms": round(sum(ms for _, ms in pauses), 2),
        "every_s": round(statistics.median(gaps), 3) if gaps else None,
    }


def within(p: dict[str, Any], spans: list[tuple[float, float]]) -> dict[str, Any]:
    """What a watch saw during `spans` alone ((start, end) on time.monotonic, a run's turns):
    a pause counts for the span it began in."""
    hits = [(t, ms) for t, ms in p["at"] if any(a <= t < b for a, b in spans)]
    out = summary(hits, sum(b - a for a, b in spans))
    out["realtime"] = p.get("realtime", False)
    return out


def say(p: dict[str, Any], who: str = "the idle machine") -> str:
    if not p["pauses"]:
        return f"{who} never paused in {p['seconds']:.0f} s"
    every = f", about every {p['every_s']:.2f} s" if p["every_s"] else ""
    return f"{who} paused {p['pauses']} times in {p['seconds']:.0f} s, up to {p['max_ms']:.1f} ms{every}"


def short(p: dict[str, Any]) -> str:
    """One watched run's pauses in a few words, for a summary table's cell."""
    return f"{p['pauses']} ({p['total_ms']:.0f} ms, max {p['max_ms']:.1f})"


MAX_WATCH_S = 600.0
"""A watch that is never stopped (its parent killed before closing stdin) ends by itself."""


class Watch:
    """The pause loop in a process of its own while the caller runs something; `stop()` ends it
    and returns what it saw, with `realtime`: whether it got real-time priority (see the module
    doc: without it, a late wake-up may be the load's as much as the machine's)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--watch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        # Wait until it loops: its start-up (an interpreter's, tens of CPU ms) is not the run's.
        assert self._proc.stdout is not None
        self._proc.stdout.readline()

    def stop(self) -> dict[str, Any]:
        try:
            out, _ = self._proc.communicate(b"", timeout=10)  # closes stdin: the loop's signal to stop
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
        p: dict[str, Any] = json.loads(out)
        return p


def _watch() -> dict[str, Any]:
    """Loop until stdin closes, at real-time priority if the system lets this process have it."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        realtime = True
    except (OSError, AttributeError):
        realtime = False
    stdin = sys.stdin.fileno()
    print("watching", flush=True)

    def nap() -> bool:
        # select both sleeps and watches for the parent's EOF, so the loop never spins.
        return bool(select.select([stdin], [], [], SLEEP_MS / 1000)[0])

    p = _loop(nap, MAX_WATCH_S, THRESHOLD_MS)
    p["realtime"] = realtime
    return p


def main() -> None:
    if sys.argv[1:] == ["--watch"]:
        print(json.dumps(_watch()), flush=True)
        return
    print(json.dumps(probe(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)), flush=True)


if __name__ == "__main__":
    main()
