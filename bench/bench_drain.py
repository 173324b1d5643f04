"""Cost of draining a deep queue: the worst case, where nothing ahead of the one that fits does.

    python bench/bench_drain.py [--depth 5000] [--needs 40] [--rounds 50] [--redis-server PATH]

Starts a private redis-server (no persistence) on a free loopback port. One pool holds `depth`
conversations that need skills nobody free has, put back at the front of the queue by an agent
going offline, as at a peak. Their needs are drawn from `needs` distinct ones (one or two of 20
skills at a level of 1-4), as routing rules give a shop a few dozen (skills, level) outcomes. Agent `a`
(cap 1) takes only skill "x". Each round measures, server-side (SLOWLOG, microseconds):

- *pool drain*: a conversation needing "x" is transferred into the pool; it lands behind the
  whole flood, and the drain must pass every entry to find it (transfer.lua → drain_pool);
- *agent drain, found*: `a` closes its chat while an "x" conversation waits at the very end
  (close.lua → drain_agent);
- *agent drain, none*: `a` closes again and nothing in the queue fits (a whole scan for nothing);
- *head fits*: the same close when the first entry fits, the common case at a peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_assign import pct, start_redis

from router.config.settings import parse_settings
from router.models import new_id
from router.store import Store
from router.store.embedded import find_redis_server

FLOOD_SKILLS = [f"y{i:02d}" for i in range(20)]


class Bench:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = time.time()

    async def arrive(self, pool: str, skills: list[str], level: int = 1) -> str:
        self.now += 0.001
        mid, user = new_id("m"), new_id("u")
        res = await self.store.call("resolve", [mid, f"webchat:shop:{user}", new_id("cu"), new_id("c"), self.now,
                                                600, "webchat", "shop", user, ""])
        cid = str(res[2])
        await self.store.call("route", [mid, cid, self.now, json.dumps({"id": mid}), pool, 10, json.dumps(skills),
                                        level, "0", json.dumps({"pool": pool}), 3600])
        return cid

    async def current(self) -> str:
        held: set[str] = await self.store.client.smembers(self.store.keys.agent_convs("a"))
        assert len(held) == 1, held
        return held.pop()


async def run(url: str, depth: int, n_needs: int, rounds: int, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    needs = [(rng.sample(FLOOD_SKILLS, rng.choice([1, 1, 2])), rng.randint(1, 4)) for _ in range(n_needs)]
    skills = ", ".join(f"{s}: 5" for s in FLOOD_SKILLS)
    settings = parse_settings(
        "pools:\n  - id: shop\n  - id: other\nagents:\n"
        "  - {id: a, token: token-a-123456, pools: [shop], skills: {x: 1}, max_chats: 1}\n"
        f"  - {{id: b, token: token-b-123456, pools: [shop], skills: {{x: 1, {skills}}}, max_chats: 100}}\n",
        "<bench>")
    store = Store(url)
    await store.open()
    r = store.client
    await r.flushall()
    await store.sync_config(settings)
    b = Bench(store)
    await store.call("set_cap", ["b", depth, b.now])  # beyond what the config allows: it holds the flood
    await store.call("status", ["b", "online", b.now, "bench"])
    for _ in range(depth):
        await b.arrive("shop", *rng.choice(needs))
    await store.call("status", ["a", "online", b.now, "bench"])
    await store.call("status", ["b", "offline", b.now, "bench"])  # the flood goes back to the front
    assert await r.zcard(store.keys.pool_queue("shop")) == depth

    # Above any single command a drain runs, below any drain: Redis also logs the commands a
    # script runs, and writing an entry for each of thousands would slow the drain it measures.
    await r.config_set("slowlog-log-slower-than", 100)
    await r.config_set("slowlog-max-len", 20 * rounds + 100)
    times: dict[str, list[float]] = {"pool drain": [], "agent drain, found": [], "agent drain, none": []}

    async def timed(label: str, name: str, args: list[Any]) -> None:
        await r.slowlog_reset()
        b.now += 0.001
        await store.call(name, args)
        for entry in await r.slowlog_get(10):
            cmd = entry["command"]
            cmd = cmd.decode() if isinstance(cmd, bytes) else str(cmd)
            if cmd.startswith("EVALSHA " + store.scripts.sha[name]):
                times[label].append(float(entry["duration"]))

    for _ in range(rounds):
        moved = await b.arrive("other", ["x"])  # "other" has no members: it waits there
        await timed("pool drain", "transfer", [moved, "bench", "1", "pool", "shop", b.now, "", new_id("tr")])
        assert await b.current() == moved
        last = await b.arrive("shop", ["x"])  # a is at cap: it waits behind the flood
        await timed("agent drain, found", "close", [moved, "bench", b.now, "done", "1"])
        assert await b.current() == last
        await timed("agent drain, none", "close", [last, "bench", b.now, "done", "1"])

    # The common case: the first waiting conversation fits.
    times["head fits"] = []
    await store.call("status", ["a", "offline", b.now, "bench"])
    await r.delete(store.keys.pool_queue("shop"))
    for _ in range(rounds + 1):
        await b.arrive("shop", ["x"])
    await store.call("status", ["a", "online", b.now, "bench"])
    for _ in range(rounds):
        await timed("head fits", "close", [await b.current(), "bench", b.now, "done", "1"])
    await r.config_set("slowlog-log-slower-than", 10000)
    await store.close()
    return times


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    proc, url = start_redis(args.redis_server or find_redis_server(), workdir)
    try:
        times = await run(url, args.depth, args.needs, args.rounds, args.seed)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nqueue depth {args.depth}, {args.needs} distinct needs, {args.rounds} rounds; "
          "server-side microseconds per script call (SLOWLOG)")
    print(f"{'case':22} {'p50':>8} {'p99':>8} {'per entry p50':>14}")
    for label, xs in times.items():
        per = statistics.median(xs) / args.depth if label != "head fits" else float("nan")
        print(f"{label:22} {statistics.median(xs):8.0f} {pct(xs, 0.99):8.0f} {per:14.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=5000)
    ap.add_argument("--needs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--redis-server", default=None)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
