"""How long a new rule version takes to go live in another process, for 10 and 200 rules.

    python bench/bench_rule_swap.py [--rounds N]

Starts a private redis-server, then two routers' rule machinery on it (two connections, two
RuleSync followers, as two processes would have). Each round activates a version through one and
times until the other has compiled it and swapped it in. The baseline is the floor of the same
path: one PUBLISH seen by the other connection's subscriber. Reports mean and p99 and the ratio
to the baseline, for a 10-rule and a 200-rule set (compiling is most of the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_rules import POOLS, make_rules  # noqa: E402

from router.config.settings import parse_settings  # noqa: E402
from router.rules.holder import RulesHolder  # noqa: E402
from router.rules.sync import RuleSync  # noqa: E402
from router.store import Store  # noqa: E402
from router.store.embedded import EmbeddedRedis  # noqa: E402
from routing_rules import builtin_default  # noqa: E402
from routing_rules.progress import Progress  # noqa: E402

CONFIG = "pools:\n" + "".join(f"  - id: '{p}'\n" for p in POOLS)


def stats(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.fmean(ms), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def baseline(a: Store, b: Store, rounds: int) -> list[float]:
    pubsub = b.client.pubsub()
    await pubsub.subscribe("bench:ping")
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        await a.client.publish("bench:ping", "x")
        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=5) is None:
            pass
        out.append((time.perf_counter() - start) * 1000)
    await pubsub.aclose()
    return out


async def swaps(a: RuleSync, b: RuleSync, sources: list[str], label: str) -> list[float]:
    out = []
    bar = Progress(label, len(sources))
    for i, source in enumerate(sources, 1):
        expected = await a.versions.active_id()
        start = time.perf_counter()
        rs = await a.versions.activate(source, "bench", expected)
        for _ in range(100_000):  # bounded wait for the follower's swap
            if b.holder.current.version == rs.version:
                break
            await asyncio.sleep(0.0002)
        out.append((time.perf_counter() - start) * 1000)
        bar.update(i, i)
    bar.close()
    return out


async def run(rounds: int) -> None:
    settings = parse_settings(CONFIG, "<bench>")
    with tempfile.TemporaryDirectory() as tmp:
        async with EmbeddedRedis(tmp, fsync="no") as server:
            stores = [Store(server.url), Store(server.url)]
            for s in stores:
                await s.open()
            syncs = [RuleSync(s, RulesHolder(builtin_default("presale")), settings) for s in stores]
            for sync in syncs:
                await sync.start()
            follower = asyncio.create_task(syncs[1].run())
            rng = random.Random(11)
            base = await baseline(*stores, rounds)
            results = {"publish (baseline)": base}
            for n in (10, 200):
                # Each round the same set with one rule's priority changed, as an admin edits.
                base_set = make_rules(n, rng)
                sources = [base_set.replace("priority: ", f"priority: {i + 1}", 1) for i in range(rounds)]
                results[f"activate {n} rules"] = await swaps(syncs[0], syncs[1], sources, f"{n} rules")
            syncs[1].stop()
            await follower
            for s in stores:
                await s.close()
    floor = statistics.fmean(base)
    print(f"{'case':<22} {'mean ms':>9} {'p99 ms':>9} {'x baseline':>11}")
    for label, ms in results.items():
        mean, p99 = stats(ms)
        print(f"{label:<22} {mean:>9.2f} {p99:>9.2f} {mean / floor:>11.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    asyncio.run(run(args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
