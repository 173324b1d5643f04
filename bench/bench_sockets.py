"""How many sockets one `kefu serve` holds, and the memory each costs, against a bare aiohttp
WebSocket relay (bench/relay_server.py) holding the same sockets in the same run.

    python bench/bench_sockets.py [--customers 1000] [--agents 50]

Opens the customer sockets (each with its session) and the agent sockets in steps, each kefu socket
waiting for its first frame, then reads the server's RSS. Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import free_port, start_redis
from router.childproc import die_with_parent

STEP = 250


def _config(agents: int) -> str:
    lines = ["pools:", "  - id: presale", "agents:"]
    for i in range(agents):
        lines += [f"  - id: a{i}", f"    token: bench-agent-token-{i}", "    pools: [presale]"]
    return "\n".join(lines) + "\n"


def _serve(args: list[str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=die_with_parent())


async def _wait_up(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(600):
        try:
            async with http.get(url) as r:
                if r.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def _hold(http: aiohttp.ClientSession, base: str, customers: int, agents: int, pid: int,
                label: str, greets: bool = True) -> dict[str, float]:
    """`greets`: the server sends a first frame (kefu's snapshot); the bare relay sends none."""
    proc = psutil.Process(pid)
    held: list[aiohttp.ClientWebSocketResponse] = []
    before = proc.memory_info().rss

    async def customer() -> None:
        async with http.post(f"{base}/api/v1/webchat/sessions") as r:
            token = (await r.json())["session"]
        ws = await http.ws_connect(f"{base}/ws/chat?session={token}")
        if greets:
            await ws.receive(timeout=60)
        held.append(ws)

    async def agent(i: int) -> None:
        ws = await http.ws_connect(f"{base}/ws/agent?token=bench-agent-token-{i}")
        await ws.receive(timeout=60)
        held.append(ws)

    started = time.monotonic()
    for i in range(0, customers, STEP):
        await asyncio.gather(*(customer() for _ in range(min(STEP, customers - i))))
        print(f"{label}: {len(held)} sockets", file=sys.stderr, flush=True)
    await asyncio.gather(*(agent(i) for i in range(agents)))
    await asyncio.sleep(2)
    after = proc.memory_info().rss
    figures = {"sockets": len(held), "open_s": round(time.monotonic() - started, 1),
               "rss_before_mb": round(before / 2**20, 1), "rss_after_mb": round(after / 2**20, 1),
               "kb_per_socket": round((after - before) / len(held) / 1024, 1)}
    for ws in held:
        await ws.close()
    return figures


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--agents", type=int, default=50)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sockets-"))
    redis_proc, url = start_redis(work / "redis")
    (work / "kefu.yaml").write_text(_config(a.agents))
    kport, rport = free_port(), free_port()
    kefu = _serve([sys.executable, "-m", "router", "serve", "--port", str(kport), "--config",
                   str(work / "kefu.yaml"), "--redis-url", url], kport, work)
    relay = _serve([sys.executable, str(Path(__file__).with_name("relay_server.py")), str(rport)], rport, work)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await _wait_up(http, f"http://127.0.0.1:{kport}/readyz")
            await _wait_up(http, f"http://127.0.0.1:{rport}/")
            base = await _hold(http, f"http://127.0.0.1:{rport}", a.customers, 0, relay.pid, "relay", greets=False)
            got = await _hold(http, f"http://127.0.0.1:{kport}", a.customers, a.agents, kefu.pid, "kefu")
        print(json.dumps({"kefu": got, "bare_relay": base,
                          "memory_ratio": round(got["kb_per_socket"] / max(base["kb_per_socket"], 0.1), 2)}))
    finally:
        for p in (kefu, relay, redis_proc):
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
