"""The delivery side alone: CPU per frame from the agent pub/sub channel to agent sockets, against
a bare aiohttp subscriber -> socket relay in the same run.

    python bench/bench_fanout.py [--rate 1000] [--seconds 8] [--agents 50] [--rounds 3]
                                 [--burst 1] [--build DIR ...] [--profile DIR]

A private redis-server; frames are published as route.lua's `emit` publishes them
(`agent-id \\n entry-id \\n frame`, a customer's `message` frame of a realistic size) at a steady
rate, spread over `--agents` agent sockets that aiohttp clients hold and read. Two servers, each a
process of its own, started in turn for every round:

- relay: redis-py's pub/sub, the address split off, `send_str` of the frame to the socket;
- kefu: the product's path, `Hub` (router/pipeline/fanout.py) over the store's subscription
  (router/store/pubsub.py), one `Tap` per socket, and `AgentSession`'s frame writer
  (router/web/agent_ws.py), without the rest of a session (no snapshot, no presence).

Each `--build DIR` is a checkout whose `router` the kefu server imports (PYTHONPATH), so two builds
are measured back to back in one run (A/B); without it, this checkout's. CPU is the server
process's user + system time over the round, divided by the frames the clients received; the
latency is publish -> client read, which includes the driver's own scheduling on a shared machine.
Prints one JSON line per round and a summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if os.environ.get("KEFU_BUILD"):  # a kefu server of another checkout (--build)
    sys.path.insert(0, os.environ["KEFU_BUILD"])

from bench.common import free_port, start_redis
from router.childproc import die_with_parent

CONVERSATIONS_PER_AGENT = 4
TEXT = "你好，我想问一下这件羽绒服有没有黑色的，M码还有货吗？今天下单明天能发货吗"


def frame(cid: str, mid: str, sent: float) -> str:
    """A customer's line as route.lua emits it to the agent (the message as the transcript holds it);
    `sent` last, so the client finds it without parsing the frame."""
    message = {"id": mid, "conversation_id": cid, "customer_id": "cu_8f3a91c2", "channel": "webchat",
               "account": "default", "chat": "v_2b7c", "from": "customer", "kind": "text", "text": TEXT,
               "ts": sent, "native_id": mid, "author_name": "顾客 2b7c"}
    body = json.dumps({"type": "message", "conversation_id": cid, "message": message, "notify": False},
                      ensure_ascii=False, separators=(",", ":"))
    return body[:-1] + f',"sent":{sent!r}}}'


# -- the servers (each its own process) ------------------------------------------------------------

async def serve_kefu(port: int, url: str) -> None:
    from types import SimpleNamespace

    from aiohttp import web

    from router.auth import Principal
    from router.config.schema import LimitSettings
    from router.models import Role
    from router.pipeline.fanout import Hub
    from router.store import Store
    from router.web.agent_ws import AgentSession

    store = Store(url)
    await store.open()
    hub = Hub(store)
    hub_task = asyncio.create_task(hub.run())
    await asyncio.wait_for(hub.subscribed.wait(), 10)
    rt: Any = SimpleNamespace(settings=SimpleNamespace(limits=LimitSettings()), store=store, hub=hub)
    held: set[str] = set()

    async def agent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        aid = request.query["id"]
        session = AgentSession(rt, None, None, None, Principal(aid, aid, Role.AGENT), ws)  # type: ignore[arg-type]
        session.tap.go_live()  # no snapshot: only the frames from now on
        hub.add_agent(aid, session.tap)
        held.add(aid)
        try:
            async for _ in ws:
                pass
        finally:
            held.discard(aid)
            hub.remove_agent(aid, session.tap)
            await session.tap.close()
        return ws

    await _run_app(port, agent, held)
    hub.stop()
    await hub_task


async def serve_relay(port: int, url: str) -> None:
    import redis.asyncio as aioredis
    from aiohttp import web

    from router.store.keys import Keys

    client = aioredis.Redis.from_url(url, decode_responses=True)
    pubsub = client.pubsub()
    if await _sharded(client):
        await pubsub.ssubscribe(Keys("kefu").agent_channel)
    else:
        await pubsub.subscribe(Keys("kefu").agent_channel)
    sockets: dict[str, web.WebSocketResponse] = {}

    async def relay() -> None:
        while True:
            msg = await pubsub.get_message(timeout=1.0)
            if msg is None or msg["type"] not in ("message", "smessage"):
                continue
            address, _, rest = msg["data"].partition("\n")
            ws = sockets.get(address)
            if ws is not None:
                await ws.send_str(rest.partition("\n")[2])

    async def agent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        aid = request.query["id"]
        sockets[aid] = ws
        try:
            async for _ in ws:
                pass
        finally:
            sockets.pop(aid, None)
        return ws

    task = asyncio.create_task(relay())
    await _run_app(port, agent, sockets)
    task.cancel()


async def _run_app(port: int, agent: Any, held: Any) -> None:
    from aiohttp import web

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text=str(len(held)))

    app = web.Application()
    app.router.add_get("/ws/agent", agent)
    app.router.add_get("/ready", ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _sharded(client: Any) -> bool:
    """Redis >= 7: the store publishes on shard channels (router/store/pubsub.py), so do we."""
    version = (await client.info("server"))["redis_version"]
    return int(version.split(".")[0]) >= 7


# -- the driver -------------------------------------------------------------------------------------

def _server(kind: str, build: str | None, port: int, url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if build is not None:
        env["KEFU_BUILD"] = build
    return subprocess.Popen([sys.executable, __file__, "serve", kind, str(port), url], env=env,
                            preexec_fn=die_with_parent())


async def one_round(kind: str, build: str | None, url: str, args: argparse.Namespace,
                    profile: Path | None) -> dict[str, Any]:
    port = free_port()
    proc = _server(kind, build, port, url)
    try:
        return await _drive(proc, port, url, args, profile)
    finally:
        proc.terminate()
        proc.wait(10)


async def _drive(proc: subprocess.Popen[bytes], port: int, url: str, args: argparse.Namespace,
                 profile: Path | None) -> dict[str, Any]:
    import redis.asyncio as aioredis

    from router.store.keys import Keys

    base = f"http://127.0.0.1:{port}"
    agents = [f"a{i}" for i in range(args.agents)]
    got = dict.fromkeys(agents, 0)
    late: list[float] = []
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 20
        while True:
            try:
                async with http.get(f"{base}/ready") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.1)
        sockets = [await http.ws_connect(f"{base}/ws/agent?id={a}") for a in agents]
        for _ in range(200):
            if int(await (await http.get(f"{base}/ready")).text()) >= len(agents):
                break
            await asyncio.sleep(0.05)
        total = int(args.rate * args.seconds)
        all_in = asyncio.Event()

        async def read(aid: str, ws: aiohttp.ClientWebSocketResponse) -> None:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    data = msg.data
                    late.append(time.time() - float(data[data.rindex('"sent":') + 7:-1]))
                    got[aid] += 1
                    if len(late) >= total:
                        all_in.set()

        readers = [asyncio.create_task(read(a, ws)) for a, ws in zip(agents, sockets, strict=True)]
        client = aioredis.Redis.from_url(url, decode_responses=True)
        channel = Keys("kefu").agent_channel
        publish = "spublish" if await _sharded(client) else "publish"
        cpu = psutil.Process(proc.pid)
        spy = _py_spy(proc.pid, args.seconds, args.profile_rate, profile) if profile is not None else None
        t0 = cpu.cpu_times()
        start = time.monotonic()
        ms = int(time.time() * 1000)
        sent = 0
        while sent < total:
            due = min(total, (int((time.monotonic() - start) * args.rate / args.burst) + 1) * args.burst)
            if due > sent:
                pipe = client.pipeline(transaction=False)
                for n in range(sent, due):
                    aid = agents[n % len(agents)]
                    cid = f"c_{aid}_{n // len(agents) % CONVERSATIONS_PER_AGENT}"
                    getattr(pipe, publish)(channel, f"{aid}\n{ms}-{n}\n{frame(cid, f'm{n}', time.time())}")
                await pipe.execute()
                sent = due
            await asyncio.sleep(0.001)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), 5)
        t1 = cpu.cpu_times()
        if spy is not None:
            spy.wait(30)
        await client.aclose()
        for r in readers:
            r.cancel()
        for ws in sockets:
            await ws.close()
    received = sum(got.values())
    late.sort()
    cpu_s = (t1.user + t1.system) - (t0.user + t0.system)
    return {"frames": total, "received": received, "cpu_ms_per_frame": round(cpu_s * 1000 / max(received, 1), 4),
            "p50_ms": round(late[len(late) // 2] * 1000, 2) if late else None,
            "p99_ms": round(late[int(len(late) * 0.99)] * 1000, 2) if late else None,
            "load": [round(x, 2) for x in os.getloadavg()]}


def _py_spy(pid: int, seconds: float, rate: int, out: Path) -> subprocess.Popen[bytes]:
    """bench/common.py's py_spy at a chosen rate: a frame costs tens of microseconds, so 100 Hz
    over a round is too few samples to rank the parts of its path."""
    exe = str(Path(sys.executable).with_name("py-spy"))
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([exe, "record", "-p", str(pid), "-d", str(max(1, round(seconds))), "-r", str(rate),
                             "-f", "raw", "-o", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent())


async def main(args: argparse.Namespace) -> None:
    builds: list[str | None] = list(args.build) or [None]
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        redis_proc, url = start_redis(Path(tmp) / "redis")
        try:
            for r in range(args.rounds):
                plan: list[tuple[str, str | None]] = [("relay", None)] + [("kefu", b) for b in builds]
                for kind, build in plan:
                    label = kind if build is None else f"{kind}@{build}"
                    profile = None
                    if args.profile is not None and kind == "kefu":
                        name = Path(build).name if build else "this"
                        profile = Path(args.profile) / f"fanout-{name}-{r}.txt"
                    result = await one_round(kind, build, url, args, profile)
                    result.update(round=r, server=label, rate=args.rate, burst=args.burst, agents=args.agents)
                    print(json.dumps(result), flush=True)
                    print(f"round {r} {label}: {result['cpu_ms_per_frame']:.3f} CPU ms/frame, "
                          f"p50 {result['p50_ms']} / p99 {result['p99_ms']} ms, "
                          f"{result['received']}/{result['frames']} frames, load {result['load']}",
                          file=sys.stderr, flush=True)
        finally:
            redis_proc.terminate()
            redis_proc.wait(10)


def cli() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        kind, port, url = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        asyncio.run(serve_kefu(port, url) if kind == "kefu" else serve_relay(port, url))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=1000.0, help="frames per second, over all agents")
    p.add_argument("--burst", type=int, default=1,
                   help="frames published together, as one route worker's batch publishes them")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--build", action="append", default=[], help="a checkout whose router the kefu server imports")
    p.add_argument("--profile", help="a folder for py-spy samples of each kefu round")
    p.add_argument("--profile-rate", type=int, default=500, help="py-spy samples per second")
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
