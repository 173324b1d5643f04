"""Benchmark durable timers: cost per firing and lateness, against a plain Redis round trip.

    .venv/bin/python bench/bench_timers.py [--timers N] [--runners R]

Starts a private redis-server. Burst: N timers all due at once, fired by R runners (as R router
processes would), with a handler that only counts; reports timers per second, the cost per
timer as a multiple of one PING round trip measured in the same run, and that each fired once.
Spread: timers due over two seconds; reports how late they fired (p50, p99).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.redis_server import RedisServer  # noqa: E402

from router.pipeline.timers import TimerRunner  # noqa: E402
from router.store import Store  # noqa: E402


def progress(label: str, done: int, total: int) -> None:
    bar = "#" * int(30 * done / max(total, 1))
    print(f"\r{label:<8} [{bar:<30}] {done}/{total}", end="", file=sys.stderr, flush=True)


async def ping_us(store: Store, n: int = 2000) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await store.client.ping()
    return (time.perf_counter() - t0) / n * 1e6


async def schedule(store: Store, due: list[float]) -> None:
    k = store.keys
    for start in range(0, len(due), 1000):
        pipe = store.client.pipeline(transaction=False)
        for i in range(start, min(start + 1000, len(due))):
            pipe.zadd(k.timers_due, {f"b{i}": due[i]})
            pipe.hset(k.timers_data, f"b{i}", '{"kind": "bench"}')
        await pipe.execute()


async def fire_all(stores: list[Store], n: int, label: str) -> tuple[float, Counter[str], list[float]]:
    """Run one runner per store until n firings; returns (seconds, firings per id, lateness)."""
    fired: Counter[str] = Counter()
    late: list[float] = []

    async def handle(tid: str, data: dict[str, Any], now: float) -> None:
        fired[tid] += 1
        late.append(time.time() - due_at[tid])

    runners = [TimerRunner(s, max_sleep_s=1.0) for s in stores]
    for r in runners:
        r.on("bench", handle)
    due_at = {tid: float(score) for tid, score in
              await stores[0].client.zrange(stores[0].keys.timers_due, 0, -1, withscores=True)}
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(r.run()) for r in runners]
    deadline = time.monotonic() + 120
    while sum(fired.values()) < n and time.monotonic() < deadline:
        progress(label, sum(fired.values()), n)
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - t0
    progress(label, sum(fired.values()), n)
    print(file=sys.stderr)
    for r in runners:
        r.stop()
    await asyncio.gather(*tasks)
    return elapsed, fired, late


async def main(n: int, runners: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis", appendonly=False)
        server.start()
        stores = [Store(server.url) for _ in range(runners)]
        try:
            for s in stores:
                await s.open()
            rtt = await ping_us(stores[0])
            await schedule(stores[0], [time.time()] * n)
            secs, fired, _ = await fire_all(stores, n, "burst")
            per_timer = secs / n * 1e6
            print(f"burst: {n} timers, {runners} runners: {n / secs:,.0f} timers/s, "
                  f"{per_timer:.0f} us per timer = {per_timer / rtt:.1f} x a PING round trip ({rtt:.0f} us); "
                  f"fired once each: {set(fired.values()) == {1} and len(fired) == n}")

            spread = min(n, 1000)
            now = time.time() + 0.2
            await schedule(stores[0], [now + 2.0 * i / spread for i in range(spread)])
            _, fired, late = await fire_all(stores, spread, "spread")
            q = statistics.quantiles(late, n=100)
            print(f"spread: {spread} timers over 2 s: late p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms; "
                  f"fired once each: {set(fired.values()) == {1} and len(fired) == spread}")
        finally:
            for s in stores:
                await s.close()
            server.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timers", type=int, default=5000)
    ap.add_argument("--runners", type=int, default=2)
    args = ap.parse_args()
    asyncio.run(main(args.timers, args.runners))
