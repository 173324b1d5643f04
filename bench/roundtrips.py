"""Redis round trips per routed message, for a new chat and for a follow-up, counted with the
client's own counter.

    python -m bench roundtrips [--quick]

The router runs in this process on a private redis-server (web chat, AGENTS agents), so the
redis-py connection class can count what it sends: one `send_packed_command` is one write to
Redis, a command or a whole pipeline, so one round trip. Redis's own command count (INFO
`total_commands_processed`) is kept beside it.

A batch of BATCH customers each write one line (a new chat each: routed, assigned, shown to an
agent); once every line reached an agent, each writes a second line (a follow-up in the same
conversation). What the idle loops (heartbeats, blocking stream reads, timers) send in the same
time is measured alone first and taken off. Goal (issue 21): <= 1 round trip per message,
amortised over the batch.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.connection import AbstractConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Row, start_redis
from router.config.settings import parse_settings
from router.loadgen.clients import Agent, Customer
from router.loadgen.tally import Tally
from router.runtime import Runtime
from router.store.connection import _Cheaper
from router.web.app import build_app

AGENTS = 20
BATCH = 200
IDLE_S = 5.0


class Counter:
    """Writes to Redis by this process's redis-py connections, and how many of them were health
    checks: the PING a connection sends before a command when it has sat idle longer than
    `health_check_interval`, or (the cluster client's) when it is new. Those follow from how many
    connections the pools hold and how long they sat, not from the work."""

    writes = 0
    pings = 0

    @classmethod
    def install(cls) -> Callable[[], None]:
        """Count from now on; returns what puts the connection classes back (a test's teardown)."""
        original = AbstractConnection.send_packed_command

        async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
            if not isinstance(self, _Cheaper):  # counted below (it may hand a send on to this)
                cls.writes += 1
            await original(self, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        ping = AbstractConnection._send_ping

        async def counted_ping(self: AbstractConnection) -> None:
            cls.pings += 1
            await ping(self)  # type: ignore[no-untyped-call]

        AbstractConnection._send_ping = counted_ping  # type: ignore[method-assign]
        # The plain client's connection classes (TCP and unix) send by themselves: count those too, once each.
        mine = _Cheaper.send_packed_command

        async def counted_mine(self: _Cheaper, command: Any, check_health: bool = True) -> None:
            cls.writes += 1
            await mine(self, command, check_health)

        _Cheaper.send_packed_command = counted_mine  # type: ignore[method-assign]

        def undo() -> None:
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
            AbstractConnection._send_ping = ping  # type: ignore[method-assign]
            _Cheaper.send_packed_command = mine  # type: ignore[method-assign]

        return undo


def config(batch: int) -> str:
    cap = batch // AGENTS + 1  # a seat for everyone: no queue, the follow-up is the chat's second line
    return ("pools:\n  - id: presale\nagents:\n"
            + "".join(f"  - id: a{i}\n    token: rt-agent-token-{i:03d}\n    pools: [presale]\n    max_chats: {cap}\n"
                      for i in range(AGENTS))
            + "bot:\n  enabled: false\n")


async def _commands(r: Any) -> int:
    return int((await r.info("stats"))["total_commands_processed"])


async def _until(what: str, done: Any, say: Any, timeout_s: float = 600) -> float:
    started = time.monotonic()
    last = started
    while not done():
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"round trips: {what} did not finish in {timeout_s:.0f} s")
        if time.monotonic() - last > 10:
            last = time.monotonic()
            say(f"round trips: still waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _measure(url: str, work: Path, batch: int, say: Any) -> dict[str, Any]:
    settings = parse_settings(config(batch), "<roundtrips>")
    rt = Runtime(settings, redis_url=url, data_dir=work)
    runner = web.AppRunner(build_app(rt), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    stats = aioredis.from_url(url)
    tally, run = Tally(), os.urandom(3).hex()
    out: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = [Agent(f"rt-agent-token-{i:03d}", base, run, 2, http, tally, answer=False) for i in range(AGENTS)]
            customers = [Customer(i, base, run, ("在吗", "这件外套有M码吗"), http, tally) for i in range(batch)]
            say(f"round trips: {AGENTS} agents and {batch} customers connecting")
            await asyncio.gather(*(a.start() for a in agents))
            await asyncio.gather(*(c.start() for c in customers))
            await asyncio.sleep(2)  # the sockets' first frames and snapshots settle
            say(f"round trips: idle for {IDLE_S:.0f} s (what the loops send with nothing to do)")
            w0, c0 = Counter.writes, await _commands(stats)
            await asyncio.sleep(IDLE_S)
            idle_w = (Counter.writes - w0) / IDLE_S
            idle_c = (await _commands(stats) - c0 - 1) / IDLE_S  # less our own INFO
            out["idle_per_s"] = {"round_trips": round(idle_w, 1), "commands": round(idle_c, 1)}
            for seq, phase in ((0, "new chat"), (1, "follow-up")):
                say(f"round trips: {batch} lines, each a {phase}")
                w0, c0 = Counter.writes, await _commands(stats)
                t0 = time.monotonic()
                await asyncio.gather(*(c.write(seq) for c in customers))
                took = await _until(f"{phase} lines at the agents",
                                    lambda n=(seq + 1) * batch: len(tally.delivered) >= n, say)
                await asyncio.sleep(0.5)  # acks and feed writes that follow the agent's frame
                took = time.monotonic() - t0
                writes, commands = Counter.writes - w0, await _commands(stats) - c0 - 1
                # At zero, not below: a busy worker's blocking read comes back with lines (and
                # rides with its routes), so the idle loops send less while a batch is routed than
                # alone, and taking off the idle rate can overshoot what the batch itself sent.
                out[phase] = {"seconds": round(took, 2), "round_trips": writes, "commands": commands,
                              "round_trips_per_msg": round(max(writes - idle_w * took, 0.0) / batch, 2),
                              "commands_per_msg": round((commands - idle_c * took) / batch, 2)}
                say(f"  {out[phase]}")
            await asyncio.gather(*(s.stop() for s in [*customers, *agents]), return_exceptions=True)
    finally:
        await stats.aclose()
        await runner.cleanup()
    return out


def measure(batch: int, say: Any) -> list[Row]:
    Counter.install()
    with tempfile.TemporaryDirectory(prefix="kefu-bench-rt-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis")
        try:
            got = asyncio.run(_measure(url, work, batch, say))
        finally:
            redis_proc.terminate()
            redis_proc.wait(10)
    rows = []
    for phase in ("new chat", "follow-up"):
        g = got[phase]
        rows.append(Row(f"round trips {phase}", f"{g['round_trips_per_msg']:.2f} per message",
                        f"{g['commands_per_msg']:.1f} commands per message", g["round_trips_per_msg"],
                        "<= 1 per message", {**g, "batch": batch, "idle_per_s": got["idle_per_s"]}))
    return rows
