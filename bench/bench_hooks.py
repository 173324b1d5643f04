"""What outbound webhooks cost routing, and how fast events become deliveries.

    python bench/bench_hooks.py [--n 3000] [--rounds 3] [--redis-server PATH]

Starts a private redis-server (no persistence) on a free loopback port. Measures, client-side:

- *route, hooks off / on*: a new customer's first message through resolve.lua and route.lua (a
  conversation created, the message routed, queued: three events with a webhook on), with no
  webhook enabled (the scripts check one key and write nothing) and with one enabled (each event
  goes on the capped stream in the same step). The ratio is what webhooks add to routing.
- *fan-out*: events turned into deliveries per second by `Fanout.turn` for one webhook that
  wants every type, against the rate the routing above wrote them at.

No HTTP is measured: a receiver's speed never reaches routing (tests/router/test_webhooks.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_assign import start_redis

from router.config.settings import parse_settings
from router.config.webhooks import WebhookDeliverySettings
from router.hooks.fanout import Fanout
from router.models import new_id
from router.store import Store
from router.store.embedded import find_redis_server


async def route_many(store: Store, n: int) -> float:
    """Seconds per new customer's first message (resolve + route), over n of them."""
    started = time.perf_counter()
    now = time.time()
    for _ in range(n):
        now += 0.001
        mid, user = new_id("m"), new_id("u")
        res = await store.call("resolve", [mid, f"webchat:shop:{user}", new_id("cu"), new_id("c"), now, 600,
                                           "webchat", "shop", user, ""])
        await store.call("route", [mid, str(res[2]), now, json.dumps({"id": mid, "text": "在吗"}), "shop", 10,
                                   "[]", 1, "0", json.dumps({"pool": "shop"}), 3600])
    return (time.perf_counter() - started) / n


async def run(url: str, n: int, rounds: int) -> dict[str, float]:
    store = Store(url)
    await store.open()
    await store.client.flushall()
    await store.sync_config(parse_settings("pools:\n  - id: shop\n", "<bench>"))
    off, on, fan = [], [], []
    try:
        for _ in range(rounds):
            await store.hooks.delete("b")
            off.append(await route_many(store, n))
            await store.hooks.put({"id": "b", "url": "http://127.0.0.1:9/", "secret": "s" * 20,
                                   "events": ["conversation.created", "conversation.assigned", "conversation.closed",
                                              "message.created", "conversation.transferred", "csat.created",
                                              "sla.breached"], "enabled": True, "source": "api"})
            await store.hooks.cursor()
            on.append(await route_many(store, n))
            fanout = Fanout(store, WebhookDeliverySettings())
            started, events = time.perf_counter(), 0
            while got := await fanout.turn():
                events += got
            fan.append(events / (time.perf_counter() - started))
    finally:
        await store.close()
    return {"route_off_us": statistics.median(off) * 1e6, "route_on_us": statistics.median(on) * 1e6,
            "fanout_events_per_s": statistics.median(fan), "events_per_message": 2.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-server", default=None)
    args = parser.parse_args()
    binary = args.redis_server or find_redis_server()
    workdir = Path(tempfile.mkdtemp(prefix="bench-hooks-"))
    proc, url = start_redis(binary, workdir)
    try:
        r = asyncio.run(run(url, args.n, args.rounds))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    import os

    routed_per_s = 1e6 / r["route_on_us"]
    print(f"route, hooks off      {r['route_off_us']:8.1f} us per first message (baseline)")
    ratio = r["route_on_us"] / r["route_off_us"]
    print(f"route, hooks on       {r['route_on_us']:8.1f} us per first message   ratio {ratio:.2f}")
    print(f"fan-out               {r['fanout_events_per_s']:8.0f} events/s        "
          f"ratio {r['fanout_events_per_s'] / (routed_per_s * 2):.2f} of the rate routing writes them")
    print(f"load average          {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
