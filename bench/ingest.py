"""Webhook acks per second, WeChat and Telegram, against a bare aiohttp handler doing the same
checks and parse and one XADD (bench/bare_ingest.py), measured in the same run.

    python -m bench ingest [--quick]

Both servers get the same driver: CONNECTIONS concurrent keep-alive connections posting unique,
validly signed callbacks (new nonce, new message id; customers drawn from a thousand) for the
given seconds. Only 200 answers count. Rounds alternate bare and kefu, so drift in the machine's
load falls on both; the figure is the median round. Goal (issue 21): kefu >= 0.6 x bare.
"""

from __future__ import annotations

import asyncio
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
import psutil

from adapters.wechat_crypto import signature
from bench.common import Row, free_port, py_spy, start_redis
from bench.startup import wait_ready
from router.childproc import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 64
WECHAT_TOKEN = "benchwechattoken"
TELEGRAM_SECRET = "bench-telegram-secret"
CUSTOMERS = 1000

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


def cpu_s(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


async def drive(base: str, make: Callable[[], Request], duration_s: float, pid: int) -> dict[str, Any]:
    """Acks per second over `duration_s` with CONNECTIONS requests in flight, and the server's
    CPU milliseconds per ack: on a machine shared with other work the throughput follows the
    share of the CPU the server gets, its CPU per ack much less so."""
    statuses: Counter[int] = Counter()
    cpu_before = cpu_s(pid)
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
    cpu = cpu_s(pid) - cpu_before
    return {"acks_per_s": statuses[200] / took, "seconds": round(took, 1),
            "cpu_ms_per_ack": round(cpu * 1000 / max(statuses[200], 1), 3),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def measure(duration_s: float, rounds: int, say: Any, profile_dir: Path | None = None) -> list[Row]:
    """`profile_dir`: py-spy samples kefu during its first round of each channel, into
    profile_dir/ingest-CHANNEL.txt."""
    with tempfile.TemporaryDirectory(prefix="kefu-bench-ingest-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis")
        kport, bport = free_port(), free_port()
        (work / "kefu.yaml").write_text(config(bport))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        kefu = subprocess.Popen([sys.executable, "-m", "router", "serve", "--port", str(kport), "--config",
                                 str(work / "kefu.yaml"), "--redis-url", url, "--log-level", "ERROR",
                                 "--data-dir", str(work / "data")],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                preexec_fn=die_with_parent())
        bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_ingest.py"), str(bport), url,
                                 WECHAT_TOKEN, TELEGRAM_SECRET], cwd=ROOT, env=env, preexec_fn=die_with_parent())
        try:
            wait_ready(kefu, f"http://127.0.0.1:{kport}/readyz", say, "kefu serve")
            wait_ready(bare, f"http://127.0.0.1:{bport}/ready", say, "bare handler")
            servers = (f"http://127.0.0.1:{kport}", kefu.pid), (f"http://127.0.0.1:{bport}", bare.pid)
            return asyncio.run(_channels(*servers, duration_s, rounds, say, profile_dir))
        finally:
            for p in (kefu, bare):
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
            redis_proc.terminate()
            redis_proc.wait(10)


async def _channels(kefu: tuple[str, int], bare: tuple[str, int], duration_s: float, rounds: int, say: Any,
                    profile_dir: Path | None) -> list[Row]:
    rows: list[Row] = []
    for name, make in (("wechat", wechat_requests()), ("telegram", telegram_requests())):
        got: dict[str, list[dict[str, Any]]] = {"bare": [], "kefu": []}
        say(f"ingest {name}: warming up both (their Redis pools fill, not counted)")
        await drive(*bare[:1], make, 2.0, bare[1])
        await drive(kefu[0], make, 2.0, kefu[1])
        for i in range(rounds):
            for who, (base, server) in (("bare", bare), ("kefu", kefu)):
                say(f"ingest {name}: {who}, round {i + 1}/{rounds} ({duration_s:.0f} s, {CONNECTIONS} connections)")
                spy = (py_spy(server, duration_s, profile_dir / f"ingest-{name}.txt")
                       if profile_dir is not None and who == "kefu" and i == 0 else None)
                res = await drive(base, make, duration_s, server)
                if spy is not None:
                    await asyncio.to_thread(spy.wait)
                say(f"  {res['acks_per_s']:.0f} acks/s, {res['cpu_ms_per_ack']:.2f} CPU ms per ack, "
                    f"answers {res['statuses']}")
                got[who].append(res)
        k, b = _median(got["kefu"], "acks_per_s"), _median(got["bare"], "acks_per_s")
        kc, bc = _median(got["kefu"], "cpu_ms_per_ack"), _median(got["bare"], "cpu_ms_per_ack")
        detail = {"kefu": got["kefu"], "bare": got["bare"], "cpu_ms_per_ack": {"kefu": kc, "bare": bc}}
        rows.append(Row(f"ingest {name}", f"{k:.0f} acks/s", f"bare handler {b:.0f} acks/s", k / b if b else 0.0,
                        "kefu / bare >= 0.6", detail))
        rows.append(Row("  CPU per ack", f"{kc:.2f} ms", f"bare handler {bc:.2f} ms", bc / kc if kc else 0.0,
                        "bare / kefu >= 0.6", {}))
    return rows


def _median(results: list[dict[str, Any]], field: str) -> float:
    return float(sorted(r[field] for r in results)[len(results) // 2])
