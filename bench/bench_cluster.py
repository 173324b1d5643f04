"""New chats/s and follow-up messages/s that `kefu serve` sustains at a fixed p99, on one plain
Redis and on a 3+3 Redis Cluster, measured in the same run.

    python bench/bench_cluster.py [--processes 2] [--p99-ms 1000] [--rates 20,40,80,160]
                                  [--step-s 4] [--backends single,cluster] [--partitions 1]
                                  [--scaling [--shops 3]]

For each backend it starts the store (a private redis-server, or 3 masters + 3 replicas of the
machine's redis-server 7, as the tests do), then `--processes` real `kefu serve` processes with
30 agents (cap 100) spread over them. Then, for each offered rate in `--rates` (per second):

- new chats: that many fresh web chat customers per second each send a first line; the latency
  is from the send to the agent's `assigned` frame holding that line;
- follow-ups: customers already assigned send another line at that rate; the latency is from the
  send to the agent's `message` frame.

A step passes when its p99 is at most `--p99-ms` and it delivered everything it sent. The figure
per backend is the highest passing rate's delivered throughput. The summary gives the ratio
cluster / single. Both backends run on this machine, so compare ratios, not absolutes.

`--scaling`: `--shops` shops (namespaces, 3 by default), each with its own processes and agents,
on a Cluster of one master and then of three (no replicas); the load is spread over the shops'
processes, and the summary gives the ratio 3 shards / 1.

`--partitions N` sets `redis.partitions` for every shop on every backend: with `--scaling
--shops 1 --partitions 3` one shop's streams spread over the three masters.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.clients import Socket, agent, customer, msg_id  # noqa: E402
from helpers.procs import Serve  # noqa: E402
from helpers.redis_cluster import RedisCluster  # noqa: E402
from helpers.redis_server import RedisServer  # noqa: E402

from routing_rules.progress import Progress  # noqa: E402

AGENTS = 30
CONFIG = "pools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: a{i}\n    token: agent-token-{i:04d}\n    pools: [presale]\n    max_chats: 100\n" for i in range(AGENTS))


@dataclass
class Step:
    kind: str
    rate: int
    sent: int = 0
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("inf") if not self.latencies else self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100)[98] * 1000

    @property
    def throughput(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


class Watch:
    """When each customer line reached an agent, by message id."""

    def __init__(self, agents: list[Socket]) -> None:
        self.agents = agents
        self.seen: dict[str, float] = {}
        self._counts = [0] * len(agents)

    def poll(self) -> None:
        now = time.monotonic()
        for i, sock in enumerate(self.agents):
            frames = sock.frames[self._counts[i]:]
            self._counts[i] = len(sock.frames)
            for f in frames:
                if f["type"] == "assigned":
                    for m in f["messages"]:
                        self.seen.setdefault(m["id"], now)
                elif f["type"] == "message":
                    self.seen.setdefault(f["message"]["id"], now)


async def _send(sock: Socket, text: str, sent_at: dict[str, float]) -> None:
    cmid = msg_id()
    start = len(sock.frames)
    t0 = time.monotonic()
    await sock.send({"type": "message", "text": text, "client_msg_id": cmid})
    ack = await sock.expect(lambda f: f.get("client_msg_id") == cmid, timeout=30, start=start)
    if ack["type"] == "ack":
        sent_at[ack["message_id"]] = t0


async def _step(kind: str, rate: int, step_s: float, http: aiohttp.ClientSession, bases: list[str],
                watch: Watch, pool: list[Socket], p99_ms: float) -> Step:
    step = Step(kind, rate)
    sent_at: dict[str, float] = {}
    n = int(rate * step_s)
    if kind == "new chats":
        socks = [(await customer(http, bases[i % len(bases)]))[0] for i in range(n)]
        pool.extend(socks)
    else:
        socks = [pool[i % len(pool)] for i in range(n)]
    tasks = []
    t0 = time.monotonic()
    for i, sock in enumerate(socks):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_send(sock, f"{kind} {i}", sent_at)))
        watch.poll()
    await asyncio.gather(*tasks, return_exceptions=True)
    deadline = time.monotonic() + max(10.0, 5 * p99_ms / 1000)
    while time.monotonic() < deadline and not set(sent_at) <= set(watch.seen):
        watch.poll()
        await asyncio.sleep(0.01)
    watch.poll()
    step.sent = len(sent_at)
    step.latencies = [watch.seen[m] - t for m, t in sent_at.items() if m in watch.seen]
    step.delivered = len(step.latencies)
    last = max((watch.seen[m] for m in sent_at if m in watch.seen), default=t0)
    step.seconds = max(last - t0, 1e-9)
    return step


async def run_backend(name: str, url: str, serve_args: list[str], args: argparse.Namespace,
                      tmp: Path, shops: int = 1) -> list[Step]:
    """`shops` > 1: that many shops (namespaces) share the store, each with its own processes and
    agents; the load is spread over them and the figures are their sum."""
    procs = []
    for shop in range(shops):
        cfg = tmp / f"{name}-{shop}.yaml"
        redis = (f"  namespace: shop{shop}\n" if shops > 1 else "") + (
            f"  partitions: {args.partitions}\n" if args.partitions > 1 else "")
        cfg.write_text((f"redis:\n{redis}" if redis else "") + CONFIG)
        procs += [Serve(cfg, url, tmp, extra=serve_args) for _ in range(args.processes)]
    steps: list[Step] = []
    try:
        for p in procs:
            p.wait_ready(180)
        bases = [p.base for p in procs]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = [await agent(http, base, f"agent-token-{i:04d}") for base in bases[::args.processes]
                      for i in range(AGENTS)]
            watch = Watch(agents)
            pool: list[Socket] = []
            rates = [int(r) for r in args.rates.split(",")]
            bar = Progress(f"{name}", 2 * len(rates))
            done = 0
            for kind in ("new chats", "follow-ups"):
                for rate in rates:
                    step = await _step(kind, rate, args.step_s, http, bases, watch, pool, args.p99_ms)
                    steps.append(step)
                    done += 1
                    bar.update(done)
                    print(f"  {name:8} {kind:10} offered {rate:4}/s: delivered {step.throughput:7.1f}/s, "
                          f"p99 {step.p99_ms:7.0f} ms, {step.delivered}/{step.sent}", file=sys.stderr, flush=True)
                    if step.p99_ms > args.p99_ms or step.delivered < step.sent:
                        break
            for sock in [*agents, *pool]:
                await sock.close()
    finally:
        for p in procs:
            p.stop()
    return steps


def best(steps: list[Step], kind: str, p99_ms: float) -> Step | None:
    ok = [s for s in steps if s.kind == kind and s.p99_ms <= p99_ms and s.delivered == s.sent]
    return max(ok, key=lambda s: s.throughput, default=None)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--p99-ms", type=float, default=1000.0)
    ap.add_argument("--rates", default="20,40,80,160")
    ap.add_argument("--step-s", type=float, default=4.0)
    ap.add_argument("--backends", default="single,cluster")
    ap.add_argument("--partitions", type=int, default=1, help="redis.partitions of every shop")
    ap.add_argument("--scaling", action="store_true",
                    help="instead: --shops shops on a Cluster of 1 master, then of 3 masters (no replicas)")
    ap.add_argument("--shops", type=int, default=3, help="with --scaling: how many shops")
    args = ap.parse_args()
    if args.scaling:
        return await scaling(args)
    results: dict[str, list[Step]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as d:
        tmp = Path(d)
        for name in args.backends.split(","):
            if name == "single":
                server = RedisServer(tmp / "single")
                server.start()
                try:
                    results[name] = await run_backend(name, server.url, [], args, tmp)
                finally:
                    server.stop()
            else:
                cluster = RedisCluster(tmp / "cluster")
                cluster.start()
                try:
                    results[name] = await run_backend(name, cluster.url, ["--redis-cluster"], args, tmp)
                finally:
                    cluster.stop()
    print(f"\n{args.processes} kefu serve processes, {AGENTS} agents, {args.partitions} partition(s); "
          f"best rate with p99 <= {args.p99_ms:.0f} ms")
    print(f"{'backend':10} {'new chats/s':>12} {'p99 ms':>8} {'follow-ups/s':>13} {'p99 ms':>8}")
    figures: dict[str, tuple[float, float]] = {}
    for name, steps in results.items():
        new, follow = best(steps, "new chats", args.p99_ms), best(steps, "follow-ups", args.p99_ms)
        cells: list[Any] = []
        for s in (new, follow):
            cells += [f"{s.throughput:.1f}" if s else "-", f"{s.p99_ms:.0f}" if s else "-"]
        print(f"{name:10} {cells[0]:>12} {cells[1]:>8} {cells[2]:>13} {cells[3]:>8}")
        figures[name] = (new.throughput if new else 0.0, follow.throughput if follow else 0.0)
    if "single" in figures and "cluster" in figures and all(figures["single"]):
        (sn, sf), (cn, cf) = figures["single"], figures["cluster"]
        print(f"{'ratio':10} {cn / sn:>12.2f} {'':>8} {cf / sf:>13.2f}   (cluster / single)")
    return 0


async def scaling(args: argparse.Namespace) -> int:
    """`--shops` shops, each with `--processes` routers: one shard against three."""
    results: dict[int, list[Step]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as d:
        for masters in (1, 3):
            cluster = RedisCluster(Path(d) / f"c{masters}", masters=masters, replicas=0)
            cluster.start()
            try:
                results[masters] = await run_backend(f"{masters}-shard", cluster.url, ["--redis-cluster"], args,
                                                     Path(d), shops=args.shops)
            finally:
                cluster.stop()
    print(f"\n{args.shops} shop(s) x {args.processes} kefu serve processes, {args.partitions} partition(s); "
          f"best rate with p99 <= {args.p99_ms:.0f} ms")
    print(f"{'shards':8} {'new chats/s':>12} {'follow-ups/s':>13}")
    figures = {}
    for masters, steps in results.items():
        new, follow = best(steps, "new chats", args.p99_ms), best(steps, "follow-ups", args.p99_ms)
        figures[masters] = (new.throughput if new else 0.0, follow.throughput if follow else 0.0)
        print(f"{masters:<8} {figures[masters][0]:>12.1f} {figures[masters][1]:>13.1f}")
    if all(figures[1]):
        print(f"{'3 / 1':8} {figures[3][0] / figures[1][0]:>12.2f} {figures[3][1] / figures[1][1]:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
