"""Soak: conversations opened, answered and closed at a steady rate, with retention at a few
seconds. Redis used_memory levels off instead of growing, and the archive holds every one.

    python bench/soak_archive.py [--conversations 20000] [--rate 25] [--customers 500]
        [--retention-s 3] [--archive-url URL] [--png docs/soak-memory.png] [--csv FILE]

Starts a private redis-server and the router in-process on loopback (web chat, agent `alice`),
and a SQLite archive in a temporary directory unless --archive-url names one. Customers come
back (a pool of `customers` visitors, one conversation at a time each), as a shop's do. The
agent answers every conversation once and closes it. used_memory is sampled every second and
plotted with the number of conversations closed and the archive queue's length.

The figures are ratios within the run: steady-state memory against the memory after the first
tenth of the conversations, and bytes per conversation that retention freed against what the
conversations would hold without it (the growth during the first retention window).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_assign import start_redis

from router.config.settings import parse_settings
from router.runtime import Runtime
from router.store.embedded import find_redis_server
from router.web.app import build_app

CONFIG = """
pools: [{{id: presale}}]
agents:
  - {{id: alice, name: Alice, token: alice-soak-token, pools: [presale], max_chats: 100}}
worker: {{reopen_window_s: 0, claim_idle_ms: 5000}}
bot: {{enabled: false}}
archive: {{url: "{url}", batch_size: 100}}
retention: {{redis_after_close_s: {retention}, sweep_interval_s: 1, idempotency_s: 60}}
"""


class Soak:
    def __init__(self, args: argparse.Namespace, rt: Runtime, base: str) -> None:
        self.args, self.rt, self.base = args, rt, base
        self.closed = 0
        self.failed = 0
        self.samples: list[dict[str, float]] = []
        self.tokens: list[str | None] = [None] * args.customers
        self.free = list(range(args.customers))
        self.freed = asyncio.Event()
        self.started = time.monotonic()

    async def agent(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        """Answers and closes every conversation it is given."""
        ws = await http.ws_connect(f"{self.base}/ws/agent?token=alice-soak-token")
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.receive(), 1)
            except TimeoutError:
                continue
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            f = json.loads(msg.data)
            if f["type"] == "assigned":
                cid = f["conversation"]["id"]
                await ws.send_str(json.dumps({"type": "reply", "conversation_id": cid, "text": "亲，已为您催发",
                                              "client_msg_id": os.urandom(8).hex()}))
                await ws.send_str(json.dumps({"type": "close", "conversation_id": cid}))
        await ws.close()

    async def customer(self, http: aiohttp.ClientSession, c: int, n: int) -> None:
        try:
            if self.tokens[c] is None:
                async with http.post(f"{self.base}/api/v1/webchat/sessions") as r:
                    self.tokens[c] = (await r.json())["session"]
            async with http.ws_connect(f"{self.base}/ws/chat?session={self.tokens[c]}") as ws:
                await ws.send_str(json.dumps({"type": "message", "client_msg_id": os.urandom(8).hex(),
                                              "text": f"订单20241120{n:08d}到哪了"}))
                async with asyncio.timeout(120):
                    async for msg in ws:
                        f = json.loads(msg.data)
                        if f["type"] == "closed":
                            self.closed += 1
                            break
        except Exception as exc:  # a soak counts failures, it does not stop on one
            self.failed += 1
            print(f"conversation {n}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            self.free.append(c)
            self.freed.set()

    async def sample(self, stop: asyncio.Event) -> None:
        r = self.rt.store.client
        archived = 0
        while not stop.is_set():
            mem = int((await r.info("memory"))["used_memory"])
            if len(self.samples) % 5 == 0:
                try:
                    archived = await self.rt.archive.count()
                except Exception:
                    pass
            self.samples.append({"t": time.monotonic() - self.started, "used_memory": mem,
                                 "keys": await r.dbsize(), "closed": self.closed, "archived": archived,
                                 "queue": await self.rt.archiver.backlog()})
            if self.args.png and len(self.samples) % 60 == 0 and len(self.samples) > 10:
                # Partial figures as it goes, so a run stopped early still shows its curve.
                try:
                    figures = report(self, self.args, archived)
                    plot(self, Path(self.args.png), figures)
                    if self.args.csv:
                        write_csv(Path(self.args.csv), self.samples)
                except (StopIteration, ValueError, IndexError):
                    pass
            await asyncio.sleep(1)

    async def run(self) -> None:
        a = self.args
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            agent = asyncio.create_task(self.agent(http, stop))
            sampler = asyncio.create_task(self.sample(stop))
            await asyncio.sleep(1)
            tasks: set[asyncio.Task[None]] = set()
            interval = 1 / a.rate
            next_at = time.monotonic()
            for n in range(a.conversations):
                while not self.free:
                    self.freed.clear()
                    await self.freed.wait()
                c = self.free.pop(random.randrange(len(self.free)))
                t = asyncio.create_task(self.customer(http, c, n))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if n % 1000 == 999:
                    print(f"{n + 1} started, {self.closed} closed, {self.failed} failed, "
                          f"used_memory {self.samples[-1]['used_memory'] / 1e6:.1f} MB", flush=True)
            await asyncio.gather(*tasks)
            # Let retention and the archive catch up with the tail.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if await self.rt.archive.count() >= self.closed and not await self.rt.archiver.backlog():
                    break
                await asyncio.sleep(1)
            await asyncio.sleep(a.retention_s + 3)
            stop.set()
            await asyncio.gather(agent, sampler)


def report(soak: Soak, args: argparse.Namespace, archived: int) -> dict[str, Any]:
    s = soak.samples
    mem = [x["used_memory"] for x in s]
    total = max(soak.closed, 1)
    tenth = next(x["used_memory"] for x in s if x["closed"] >= total / 10)
    half = [x["used_memory"] for x in s if x["closed"] >= total / 2]
    steady = sorted(half)[len(half) // 2]
    # Without retention every conversation would stay: the growth per conversation during the
    # first retention window, before anything was dropped.
    first = next(i for i, x in enumerate(s) if x["closed"] > 0)
    w = [x for x in s[first:] if x["t"] <= s[first]["t"] + args.retention_s]
    grown = (w[-1]["used_memory"] - s[first - 1]["used_memory"]) / max(w[-1]["closed"], 1)
    return {
        "conversations": args.conversations, "closed": soak.closed, "failed": soak.failed, "archived": archived,
        "rate_per_s": args.rate, "retention_s": args.retention_s, "seconds": round(s[-1]["t"], 1),
        "used_memory_start_mb": round(mem[0] / 1e6, 2), "used_memory_max_mb": round(max(mem) / 1e6, 2),
        "used_memory_end_mb": round(mem[-1] / 1e6, 2),
        "steady_over_first_tenth": round(steady / tenth, 3),
        "second_half_max_over_first_tenth": round(max(half) / tenth, 3),
        "bytes_per_conversation_without_retention": round(grown),
        "projected_without_retention_mb": round((mem[0] + grown * args.conversations) / 1e6, 1),
    }


def write_csv(path: Path, samples: list[dict[str, float]]) -> None:
    rows = ["t,used_memory,keys,closed,archived,queue"] + [
        f"{x['t']:.1f},{x['used_memory']},{x['keys']},{x['closed']},{x['archived']},{x['queue']}" for x in samples]
    path.write_text("\n".join(rows) + "\n")


def plot(soak: Soak, path: Path, figures: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = soak.samples
    t = [x["t"] for x in s]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    ax.plot(t, [x["used_memory"] / 1e6 for x in s], color="#c0392b", label="Redis used_memory (MB)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("used_memory (MB)")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(t, [x["closed"] for x in s], color="#2c3e50", linestyle="--", label="conversations closed")
    ax2.plot(t, [x["archived"] for x in s], color="#27ae60", linestyle=":", label="archived")
    ax2.set_ylabel("conversations")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(lines, labels, loc="center right")
    ax.set_title(f"{figures['closed']:,} conversations closed in {figures['seconds']:.0f} s, retention "
                 f"{figures['retention_s']:g} s")
    fig.tight_layout()
    fig.savefig(path)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--conversations", type=int, default=20000)
    p.add_argument("--rate", type=float, default=25.0, help="conversations started per second")
    p.add_argument("--customers", type=int, default=500)
    p.add_argument("--retention-s", type=float, default=3.0)
    p.add_argument("--archive-url", default=None)
    p.add_argument("--png", default=None, help="write the plot here (e.g. docs/soak-memory.png)")
    p.add_argument("--csv", default=None, help="write the samples here")
    p.add_argument("--redis-server", default=None)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kefu-soak-"))
    proc, redis_url = start_redis(args.redis_server or find_redis_server(), work)
    url = args.archive_url or f"sqlite:///{work / 'archive.db'}"
    settings = parse_settings(CONFIG.format(url=url, retention=args.retention_s), "<soak>")
    rt = Runtime(settings, redis_url=redis_url, data_dir=work)
    app = build_app(rt)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        soak = Soak(args, rt, f"http://127.0.0.1:{port}")
        await soak.run()
        figures = report(soak, args, await rt.archive.count())
        print(json.dumps(figures, indent=2))
        if args.csv:
            write_csv(Path(args.csv), soak.samples)
        if args.png:
            plot(soak, Path(args.png), figures)
    finally:
        await runner.cleanup()
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
