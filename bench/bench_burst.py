"""The opening burst alone: rounds of new chats, every customer's first line within a fifth of a
second, against the Redis floor of the same burst taken in the same round.

    python bench/bench_burst.py [--rounds 6] [--chats 200] [--rate 1000] [--agents 20]
                                [--shape all-in-one|web+worker] [--redis-socket tcp|unix]
                                [--build DIR ...] [--profile DIR]

The latency benchmark's goal row opens with this burst (bench/latency.py), and it is where that
row is lost on a slow machine; a whole latency run measures it once, among 10 s of follow-ups.
Here each round is the burst and nothing else, so a change to the new chat's path can be weighed
over many rounds, and the costs are per new chat:

- new chats p50 / p90 / p99: a customer's first line to the agent's `assigned` frame showing it;
- kefu CPU ms per new chat (all the shape's processes) and Redis CPU ms per new chat (INFO's
  used_cpu): a new chat is decided, queued, assigned and announced, so both sides pay;
- Redis commands per new chat (INFO commandstats, those inside scripts too);
- the route workers' wait (`kefu_route_delay_seconds`): the queue the burst met, and how many of
  the new chats they routed (a new web chat visitor's first line is routed as it is taken in);
- the floor: XADD -> XREADGROUP of as many entries at the same rate on the same Redis, just
  before the burst. The ratio is kefu's p99 over the floor's.

Each `--build DIR` is a checkout whose kefu is measured (PYTHONPATH), each on its own redis-server,
all started once; the rounds alternate between them, so a before/after shares the machine's
moods. After each round every agent closes its chats and kefu settles, so each round starts with
none open. Prints one JSON line per round on stdout, progress and a summary (medians per build,
and each build's against the first) on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import py_spy, say, start_redis
from bench.latency import close_all, floor, scrape_stalls, serve_config, settle, stalls_between
from bench.shapes import BY_NAME, Running, Shape, add_build_args, build_names, chosen_builds, cpu_s, start
from router.loadgen.clients import Agent, Customer
from router.loadgen.tally import Tally, percentile

CONNECT_AT_ONCE = 64
SETTLE_BEFORE_S = 0.5
"""Between the last socket's connect and the first line: the connects' own work is done."""


def redis_figures(client: redis.Redis) -> tuple[float, int]:
    """Redis's CPU seconds (user + system) and the commands it has run, scripts' calls included."""
    cpu = client.info("cpu")
    stats = client.info("commandstats")
    calls = sum(int(v["calls"]) for v in stats.values() if isinstance(v, dict))
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), calls


async def _connect(socks: list[Any]) -> None:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(s: Any) -> None:
        async with gate:
            await s.start()

    await asyncio.gather(*(one(s) for s in socks))


async def one_round(kefu: Running, url: str, tokens: list[str], args: argparse.Namespace,
                    profile: Path | None) -> dict[str, Any]:
    """One burst of `args.chats` new chats at `args.rate` into a running shape."""
    base = kefu.bases[0]
    fl = await floor(url, args.rate, args.chats / args.rate)
    tally, run = Tally(), os.urandom(3).hex()
    client = redis.Redis.from_url(url)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        agents = [Agent(t, base, run, 1, http, tally, answer=False) for t in tokens]
        customers = [Customer(i, base, run, ("在吗，这件有货吗",), http, tally) for i in range(args.chats)]
        try:
            await _connect(agents)
            await _connect(customers)
            await asyncio.sleep(SETTLE_BEFORE_S)
            sampler = py_spy(kefu.front_pids[0], args.chats / args.rate + 1, profile) if profile else None
            if sampler is not None:
                await asyncio.sleep(0.3)  # py-spy attaches before the first line
            stalls0, cpu0, (rcpu0, calls0) = await scrape_stalls(kefu.urls), cpu_s(kefu.pids), redis_figures(client)
            t0 = time.monotonic()
            for i, c in enumerate(customers):
                await asyncio.sleep(max(0.0, t0 + i / args.rate - time.monotonic()))
                await c.write(0)
            deadline = time.monotonic() + args.timeout_s
            while time.monotonic() < deadline:  # the tally has no event to wait on; 2 ms is finer than a chat
                if len(tally.first_to_agent_ms) >= args.chats:
                    break
                await asyncio.sleep(0.002)
            took = time.monotonic() - t0
            cpu1, (rcpu1, calls1) = cpu_s(kefu.pids), redis_figures(client)
            held = stalls_between(stalls0, await scrape_stalls(kefu.urls))
            if sampler is not None:
                await asyncio.to_thread(sampler.wait)
        finally:
            await asyncio.gather(*(s.stop() for s in [*customers, *agents]), return_exceptions=True)
            client.close()
    await close_all(base, tokens)
    await settle(kefu.pids, url)
    lat = tally.first_to_agent_ms
    n = max(len(lat), 1)
    return {
        "chats": args.chats, "reached": len(lat), "rate": args.rate,
        "p50_ms": round(percentile(lat, 50), 1), "p90_ms": round(percentile(lat, 90), 1),
        "p99_ms": round(percentile(lat, 99), 1), "all_reached_ms": round(took * 1000, 1),
        "floor_p50_ms": round(percentile(fl, 50), 2), "floor_p99_ms": round(percentile(fl, 99), 2),
        "kefu_cpu_ms_per_chat": round((cpu1 - cpu0) * 1000 / n, 3),
        "redis_cpu_ms_per_chat": round((rcpu1 - rcpu0) * 1000 / n, 3),
        "redis_commands_per_chat": round((calls1 - calls0) / n, 1),
        "route_mean_ms": held.get("route_mean_ms", 0.0), "route_over_25ms": held.get("route_over_25ms", 0.0),
        # A new web chat visitor's first line is routed as it is taken in (ingest_open.lua), so
        # the route workers see a burst's new chats only where that does not apply.
        "routed_by_workers": held.get("route_n", 0.0),
        "load": round(os.getloadavg()[0], 1),
    }


@contextlib.contextmanager
def _deployment(build: Path, shape: Shape, work: Path, unix: bool) -> Iterator[tuple[Running, str, list[str]]]:
    """A redis-server of its own and the shape of `build`'s kefu on it."""
    work.mkdir(parents=True)
    redis_proc, url = start_redis(work / "redis", unix)
    tokens = serve_config(work / "kefu.yaml")
    try:
        with (work / "serve.log").open("wb") as log, \
                start(shape, work / "kefu.yaml", url, work / "data", say, log=log, log_level="WARNING",
                      build=build) as kefu:
            yield kefu, url, tokens
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)


SUMMED = ("p50_ms", "p99_ms", "kefu_cpu_ms_per_chat", "redis_cpu_ms_per_chat", "redis_commands_per_chat",
          "route_mean_ms", "floor_p99_ms", "routed_by_workers")


def summary(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Medians per build, then each build's medians over the first's."""
    lines, first = [], None
    for name, rounds in results.items():
        med = {k: statistics.median(r[k] for r in rounds) for k in SUMMED}
        lines.append(f"{name}: {len(rounds)} rounds, medians: new chats p50 {med['p50_ms']:.1f} / p99 "
                     f"{med['p99_ms']:.1f} ms (floor p99 {med['floor_p99_ms']:.2f} ms), kefu "
                     f"{med['kefu_cpu_ms_per_chat']:.3f} and Redis {med['redis_cpu_ms_per_chat']:.3f} CPU ms and "
                     f"{med['redis_commands_per_chat']:.1f} Redis commands per new chat, route wait "
                     f"{med['route_mean_ms']:.1f} ms ({med['routed_by_workers']:.0f} routed by the route workers)")
        if first is None:
            first = med
        else:
            lines.append("  against the first: " + ", ".join(
                f"{k} {med[k] / first[k]:.2f}x" for k in SUMMED[:5] if first[k]))
    return lines


async def main(args: argparse.Namespace, builds: list[Path]) -> None:
    names = build_names(builds)
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp, contextlib.ExitStack() as stack:
        deployed = []
        for i, build in enumerate(builds):
            say(f"starting {args.shape} of {build}")
            deployed.append(stack.enter_context(_deployment(build, BY_NAME[args.shape], Path(tmp) / str(i),
                                                                args.redis_socket == "unix")))
        for r in range(args.rounds):
            for name, (kefu, url, tokens) in zip(names, deployed, strict=True):
                profile = Path(args.profile) / f"burst-{name}-{r}.txt" if args.profile else None
                res = await one_round(kefu, url, tokens, args, profile)
                res.update(round=r, build=name, shape=args.shape)
                results[name].append(res)
                print(json.dumps(res), flush=True)
                say(f"round {r + 1}/{args.rounds} {name}: {res['reached']}/{res['chats']} new chats reached their "
                    f"agents, p50 {res['p50_ms']} / p99 {res['p99_ms']} ms (floor p99 {res['floor_p99_ms']} ms), "
                    f"kefu {res['kefu_cpu_ms_per_chat']} / Redis {res['redis_cpu_ms_per_chat']} CPU ms and "
                    f"{res['redis_commands_per_chat']} commands a chat, load {res['load']}")
    for line in summary(results):
        say(line)


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--chats", type=int, default=200, help="new chats a burst, one customer each")
    p.add_argument("--rate", type=float, default=1000.0, help="first lines a second within the burst")
    add_build_args(p, "all-in-one")
    p.add_argument("--redis-socket", choices=("tcp", "unix"), default="tcp",
                   help="how kefu and the floor reach Redis: loopback TCP, or a unix socket as the embedded server")
    p.add_argument("--profile", help="a folder for py-spy samples of each burst (the process taking sockets)")
    p.add_argument("--timeout-s", type=float, default=30.0, help="longest a burst may take to reach its agents")
    args = p.parse_args()
    asyncio.run(main(args, chosen_builds(args)))


if __name__ == "__main__":
    cli()
