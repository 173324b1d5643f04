"""A load run: connect agents and customers, write at a rate, wait for the tail, report."""

from __future__ import annotations

import asyncio
import bisect
import math
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from router.loadgen.clients import Agent, Customer
from router.loadgen.progress import Progress
from router.loadgen.tally import Tally

SCRIPT = ("你好，在吗", "我想问一下这件外套有没有M码", "好的，今天下单什么时候发货", "谢谢")


@dataclass(frozen=True)
class Plan:
    bases: tuple[str, ...]
    """Deployment URLs (http://host:port); sockets are spread over them in turn."""
    agent_tokens: tuple[str, ...]
    customers: int = 100
    rate: float = 50.0
    """Customer lines per second over all customers; 0: every customer writes its script at once."""
    duration_s: float = 10.0
    """How long to write at `rate` (ignored at rate 0)."""
    script: tuple[str, ...] = SCRIPT
    ramp_s: float = 0.0
    """Customers join over this many seconds, evenly, each writing at rate / customers from when
    it joins (a peak that builds up as shoppers arrive); 0: all from the start, so the run opens
    with every customer's first line, one new chat each, at the full rate."""
    drain_s: float = 60.0
    """How long to wait after the last line for lines and answers still on their way."""
    answer: bool = True
    """Agents answer every line (and close after the last); off, they only read."""
    connect_concurrency: int = 64


Hook = Callable[[Tally], Coroutine[Any, Any, None]]


class Clock(Protocol):
    """The time the schedule's lines are due by: the wall's from the first line by default. The
    latency benchmark passes one that runs only while its slice is open (bench/slices.py), so
    that kefu and its baselines take turns on the same machine."""

    def now(self) -> float:
        """Seconds of the schedule gone by."""
        ...

    async def until(self, t: float) -> None:
        """Return once `now()` reaches `t`."""
        ...


class WallClock:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    async def until(self, t: float) -> None:
        await asyncio.sleep(max(0.0, t - self.now()))


async def run(plan: Plan, *, progress: bool = True, during: Hook | None = None,
              clock: Clock | None = None) -> tuple[dict[str, Any], Tally]:
    """Run the plan; `during` is awaited while lines are being written (a test's fault injection);
    `clock`: what the lines are due by (`Clock`), the wall's by default."""
    tally = Tally()
    run_id = os.urandom(3).hex()
    bar = Progress if progress else _Quiet
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=60)) as http:
        agents = [Agent(tok, plan.bases[i % len(plan.bases)], run_id, len(plan.script), http, tally, plan.answer)
                  for i, tok in enumerate(plan.agent_tokens)]
        customers = [Customer(i, plan.bases[i % len(plan.bases)], run_id, plan.script, http, tally)
                     for i in range(plan.customers)]
        try:
            await _connect(agents, plan.connect_concurrency, bar("agents   ", len(agents)))
            await _connect(customers, plan.connect_concurrency, bar("customers", len(customers)))
            started = time.monotonic()
            side = asyncio.create_task(during(tally)) if during else None
            await _write(plan, customers, tally, bar("lines    ", _total(plan)), clock or WallClock())
            await _drain(plan, tally, bar("in flight", None))
            if side is not None:
                await side
            elapsed = time.monotonic() - started
        finally:
            await asyncio.gather(*(s.stop() for s in [*customers, *agents]), return_exceptions=True)
    return tally.summary(elapsed), tally


def _total(plan: Plan) -> int:
    if plan.rate <= 0:
        return plan.customers * len(plan.script)
    if plan.ramp_s <= 0:
        return int(plan.rate * plan.duration_s)
    return len(schedule(plan))


def schedule(plan: Plan) -> list[tuple[float, int, int]]:
    """(seconds from the start, customer, line number) of every line, in time order.

    Time runs in ticks of 1 / rate, and each customer owns one tick in every `customers`: it
    writes every customers / rate seconds, and no two write in the same instant. Without a ramp
    customer i owns tick i, so the lines go round the customers in turn. With one, customer i
    joins at i * ramp_s / customers and takes the first tick not yet owned from there on: the
    first lines spread evenly over the ramp, and once all have joined one line comes every tick."""
    n = plan.customers
    if plan.ramp_s <= 0:
        total = int(plan.rate * plan.duration_s)
        return [(t / plan.rate, t % n, t // n) for t in range(total)]
    free = list(range(n))  # ticks modulo n nobody owns yet, in order
    lines = []
    for i in range(n):
        join = math.ceil(i * plan.ramp_s / n * plan.rate - 1e-9)
        at = bisect.bisect_left(free, join % n)
        own = free.pop(at if at < len(free) else 0)
        first = join - join % n + own
        if first < join:
            first += n
        seq = 0
        while (t := first + seq * n) < plan.duration_s * plan.rate:
            lines.append((t / plan.rate, i, seq))
            seq += 1
    lines.sort()
    return lines


async def _connect(socks: list[Agent] | list[Customer], concurrency: int, bar: Progress) -> None:
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(s: Agent | Customer) -> None:
        nonlocal done
        async with gate:
            await s.start()
        done += 1
        bar.show(done)

    await asyncio.gather(*(one(s) for s in socks))
    bar.done(done)


async def _write(plan: Plan, customers: list[Customer], tally: Tally, bar: Progress, clock: Clock) -> None:
    total = _total(plan)
    if plan.rate <= 0:
        # Everyone at once: each customer sends its whole script back to back.
        async def script(c: Customer) -> None:
            for seq in range(len(plan.script)):
                await c.write(seq)

        await asyncio.gather(*(script(c) for c in customers))
        bar.done(total)
        return
    lines = schedule(plan)
    n = 0
    while n < total:
        now = clock.now()
        while n < total and lines[n][0] <= now:
            _, idx, seq = lines[n]
            await customers[idx].write(seq)
            n += 1
        bar.show(n, f"acked {len(tally.acked)} at agents {len(tally.delivered)}")
        if n < total:
            await clock.until(lines[n][0])
    bar.done(n)


async def _drain(plan: Plan, tally: Tally, bar: Progress) -> None:
    deadline = time.monotonic() + plan.drain_s
    while time.monotonic() < deadline:
        owed = tally.lost + tally.unanswered + (len(tally.sent_at) - len(tally.acked))
        bar.show(owed, "lines or answers still on their way")
        if owed == 0:
            break
        await asyncio.sleep(0.05)
    bar.done(tally.lost + tally.unanswered, "owed at the end")


class _Quiet(Progress):
    def show(self, done: int, note: str = "", force: bool = False) -> None:
        pass

    def done(self, done: int, note: str = "") -> None:
        pass
