"""Webhook acks per second, WeChat and Telegram, against a bare aiohttp handler doing the same
checks and parse and one XADD (bench/bare_ingest.py), measured in the same run.

    python -m bench ingest [--quick]

Both servers get the same driver: CONNECTIONS concurrent keep-alive connections posting unique,
validly signed callbacks (new nonce, new message id; customers drawn from a thousand) for the
given seconds. Only 200 answers count. Before the rounds each customer writes (WARMUP_PASSES
times, each pass settled) and kefu is left to route those, text each customer their place in the
queue and look up their profile: a round then measures customers who write again while they
wait, and does not depend on how many first contacts (each a new conversation, a text through
the channel's API and a profile look-up) happen to fall in it. Rounds alternate
bare and kefu, so drift in the machine's load falls on both; the figure is the median round.
Goal (issue 21): kefu >= 0.6 x bare.

kefu is measured in each shape of bench/shapes.py: one all-in-one process, then a web process
taking the webhooks beside a worker routing them. CPU per ack is the shape's whole (every
process), with the web process's share beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import redis

from adapters.wechat_crypto import signature
from bench.common import Row, free_port, py_spy, start_redis
from bench.shapes import ALL_IN_ONE, SHAPES, Running, Shape, cpu_s, start
from bench.startup import wait_ready
from router.childproc import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 64
WECHAT_TOKEN = "benchwechattoken"
TELEGRAM_SECRET = "bench-telegram-secret"
CUSTOMERS = 1000
SETTLE_S = 120.0
WARMUP_PASSES = 3
"""Lines each customer writes to kefu before the rounds, each pass settled before the next. A
first contact also starts a look-up of the customer's channel profile (router/pipeline/
profile_fetch.py), at most BACKLOG at once; one that found the backlog full is started by the
customer's next line. With one pass, hundreds of those look-ups (an HTTP call each through the
channel's client) fell into the timed rounds: 40% of the all-in-one Telegram round's samples."""

Request = tuple[str, bytes, dict[str, str], dict[str, str]]
"""path, body, query, headers"""


def config(api_port: int) -> str:
    # The channel APIs are the bare server's stand-ins. The bot is off and nobody is online:
    # messages wait in the queue, and each new customer is sent its place in it.
    return f"""
pools:
  - id: presale
agents:
  - id: a0
    token: bench-ingest-agent-token
    pools: [presale]
bot:
  enabled: false
channels:
  wechat:
    - account: shop
      app_id: wxbench0000000000
      app_secret: benchsecret
      token: {WECHAT_TOKEN}
      api_base: http://127.0.0.1:{api_port}
  telegram:
    - bot: shopbot
      token: "123456:bench-telegram-token"
      secret_token: {TELEGRAM_SECRET}
      api_base: http://127.0.0.1:{api_port}
"""


def wechat_requests() -> Callable[[], Request]:
    serial = itertools.count(int(time.time() * 1000) * 1000)

    def make() -> Request:
        n = next(serial)
        ts, nonce = str(int(time.time())), f"n{n}"
        body = (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[o{n % CUSTOMERS:06d}]]>"
                f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[这件外套有M码吗]]></Content><MsgId>{n}</MsgId></xml>")
        query = {"signature": signature(WECHAT_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "x"}
        return "/webhooks/wechat/shop", body.encode(), query, {"Content-Type": "text/xml"}

    return make


def telegram_requests() -> Callable[[], Request]:
    serial = itertools.count(int(time.time() * 1000) % 10**9 * 1000)

    def make() -> Request:
        n = next(serial)
        chat = 10_000 + n % CUSTOMERS
        update = {"update_id": n, "message": {"message_id": n, "date": int(time.time()),
                                              "chat": {"id": chat, "type": "private", "first_name": "买家"},
                                              "from": {"id": chat, "is_bot": False, "first_name": "买家"},
                                              "text": "这件外套有M码吗"}}
        return ("/webhooks/telegram/shopbot", json.dumps(update, ensure_ascii=False).encode(), {},
                {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})

    return make


async def drive(base: str, make: Callable[[], Request], duration_s: float, pids: list[int],
                redis_pid: int | None = None) -> dict[str, Any]:
    """Acks per second over `duration_s` with CONNECTIONS requests in flight, and the server's
    CPU milliseconds per ack until it is idle again, summed over `pids` (every process of the
    shape: the worker's routing counts too): on a machine shared with other work the throughput follows the share of
    the CPU the server gets, its CPU per ack much less so. `cpu_ms_per_ack_front` is the first
    process's alone (the one taking the webhooks). On the 2-core machine the server shares the
    CPU with Redis and with this driver, so their CPU per ack is given beside it
    (`redis_cpu_ms_per_ack`, `driver_cpu_ms_per_ack`): what the server makes Redis do counts
    against its acks per second as much as its own work."""
    statuses: Counter[int] = Counter()
    cpu_before = [cpu_s([pid]) for pid in pids]
    redis_before = cpu_s([redis_pid]) if redis_pid is not None else 0.0
    driver_before = time.process_time()
    deadline = time.monotonic() + duration_s

    async def one_connection(http: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            path, body, query, headers = make()
            try:
                async with http.post(base + path, data=body, params=query, headers=headers) as r:
                    await r.read()
                    statuses[r.status] += 1
            except aiohttp.ClientError:
                statuses[0] += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as http:
        await asyncio.gather(*(one_connection(http) for _ in range(CONNECTIONS)))
    took = time.monotonic() - started
    driver = time.process_time() - driver_before
    # The CPU counted runs until the server is idle again: the routing and texts a round's
    # messages cause count to it even when a worker finishes them after the round.
    drained = await settle(pids)
    cpu = [cpu_s([pid]) - b for pid, b in zip(pids, cpu_before, strict=True)]
    redis_cpu = cpu_s([redis_pid]) - redis_before if redis_pid is not None else 0.0
    acks = max(statuses[200], 1)
    return {"acks_per_s": statuses[200] / took, "seconds": round(took, 1), "drained_s": round(drained, 1),
            "cpu_ms_per_ack": round(sum(cpu) * 1000 / acks, 3),
            "cpu_ms_per_ack_front": round(cpu[0] * 1000 / acks, 3),
            "redis_cpu_ms_per_ack": round(redis_cpu * 1000 / acks, 3),
            "driver_cpu_ms_per_ack": round(driver * 1000 / acks, 3),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


async def first_contacts(base: str, make: Callable[[], Request]) -> None:
    """One callback from each customer: their conversations open and are queued, and each is
    texted their place (the stand-in API answers), before any round is timed. Otherwise how many
    of a round's acks are first contacts, several times dearer, would follow the machine's load."""
    left = itertools.count()

    async def one_connection(http: aiohttp.ClientSession) -> None:
        while next(left) < CUSTOMERS:
            path, body, query, headers = make()
            with contextlib.suppress(aiohttp.ClientError):
                async with http.post(base + path, data=body, params=query, headers=headers) as r:
                    await r.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as http:
        await asyncio.gather(*(one_connection(http) for _ in range(CONNECTIONS)))


async def settle(pids: list[int]) -> float:
    """Until the processes are idle (under 5% of a core for a second), at most SETTLE_S: the
    routing and the texts of the first contacts are done. Returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_S:
        before = cpu_s(pids)
        await asyncio.sleep(1.0)
        if cpu_s(pids) - before < 0.05:
            break
    return time.monotonic() - started


def measure(duration_s: float, rounds: int, say: Any, profile_dir: Path | None = None,
            shapes: tuple[Shape, ...] = SHAPES) -> list[Row]:
    """Each shape of kefu (bench/shapes.py) against the bare handler, rounds alternating;
    `profile_dir`: py-spy samples the process taking the webhooks during its first round of each
    channel, into profile_dir/ingest-CHANNEL[-SHAPE].txt."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="kefu-bench-ingest-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis")
        bport = free_port()
        (work / "kefu.yaml").write_text(config(bport))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_ingest.py"), str(bport), url,
                                 WECHAT_TOKEN, TELEGRAM_SECRET], cwd=ROOT, env=env, preexec_fn=die_with_parent())
        try:
            wait_ready(bare, f"http://127.0.0.1:{bport}/ready", say, "bare handler")
            for shape in shapes:
                # Each shape starts from an empty store: the queue the last one left would be its load.
                redis.Redis.from_url(url).flushall()
                with start(shape, work / "kefu.yaml", url, work / shape.name, say) as kefu:
                    rows += asyncio.run(_channels(kefu, (f"http://127.0.0.1:{bport}", bare.pid), duration_s, rounds,
                                                  say, profile_dir, redis_proc.pid))
            return rows
        finally:
            bare.terminate()
            try:
                bare.wait(20)
            except subprocess.TimeoutExpired:
                bare.kill()
            redis_proc.terminate()
            redis_proc.wait(10)


async def _channels(kefu: Running, bare: tuple[str, int], duration_s: float, rounds: int, say: Any,
                    profile_dir: Path | None, redis_pid: int | None = None) -> list[Row]:
    rows: list[Row] = []
    shape = kefu.shape.name
    suffix = "" if kefu.shape == ALL_IN_ONE else f"-{shape.replace('+', '-')}"
    servers = {"bare": (bare[0], [bare[1]]), "kefu": (kefu.bases[0], kefu.pids)}
    for name, make in (("wechat", wechat_requests()), ("telegram", telegram_requests())):
        got: dict[str, list[dict[str, Any]]] = {"bare": [], "kefu": []}
        say(f"ingest {name}, kefu {shape}: warming up both: each of the {CUSTOMERS} customers writes "
            f"(not counted; kefu {WARMUP_PASSES} times)")
        await first_contacts(servers["bare"][0], make)
        for n in range(WARMUP_PASSES):
            await first_contacts(servers["kefu"][0], make)
            say(f"ingest {name}, kefu {shape}: pass {n + 1}/{WARMUP_PASSES}, waiting for kefu to route and "
                f"text those and look up their profiles (at most {SETTLE_S:.0f} s)")
            say(f"  settled in {await settle(kefu.pids):.0f} s")
        for i in range(rounds):
            for who, (base, pids) in servers.items():
                say(f"ingest {name}: {who if who == 'bare' else 'kefu ' + shape}, round {i + 1}/{rounds} "
                    f"({duration_s:.0f} s, {CONNECTIONS} connections, load average {os.getloadavg()[0]:.1f})")
                spy = (py_spy(kefu.front_pids[0], duration_s, profile_dir / f"ingest-{name}{suffix}.txt")
                       if profile_dir is not None and who == "kefu" and i == 0 else None)
                res = await drive(base, make, duration_s, pids, redis_pid)
                if spy is not None:
                    await asyncio.to_thread(spy.wait)
                split = (f" ({res['cpu_ms_per_ack_front']:.2f} in the web process)"
                         if who == "kefu" and len(pids) > 1 else "")
                say(f"  {res['acks_per_s']:.0f} acks/s, {res['cpu_ms_per_ack']:.2f} CPU ms per ack{split}, "
                    f"Redis {res['redis_cpu_ms_per_ack']:.2f}, driver {res['driver_cpu_ms_per_ack']:.2f}, "
                    f"answers {res['statuses']}")
                got[who].append(res)
        k, b = _median(got["kefu"], "acks_per_s"), _median(got["bare"], "acks_per_s")
        kc, bc = _median(got["kefu"], "cpu_ms_per_ack"), _median(got["bare"], "cpu_ms_per_ack")
        kf = _median(got["kefu"], "cpu_ms_per_ack_front")
        detail = {"shape": shape, "kefu": got["kefu"], "bare": got["bare"],
                  "cpu_ms_per_ack": {"kefu": kc, "kefu_front": kf, "bare": bc},
                  "load_average": [round(x, 1) for x in os.getloadavg()]}
        rows.append(Row(f"ingest {name} {shape}", f"{k:.0f} acks/s", f"bare handler {b:.0f} acks/s",
                        k / b if b else 0.0, "kefu / bare >= 0.6", detail))
        cpu = f"{kc:.2f} ms" + (f" (web {kf:.2f})" if len(kefu.pids) > 1 else "")
        rows.append(Row("  CPU per ack", cpu, f"bare handler {bc:.2f} ms", bc / kc if kc else 0.0,
                        "bare / kefu", {}))
    return rows


def _median(results: list[dict[str, Any]], field: str) -> float:
    return float(sorted(r[field] for r in results)[len(results) // 2])
