"""A reconnect storm: every web chat page of a process comes back at once, as after a deploy, a
load balancer's restart or a network blip at the peak, against a bare aiohttp WebSocket relay
(bench/relay_server.py) taking as many connects in the same round.

    python bench/bench_reconnect.py [--pages 500] [--rounds 3] [--shape web+worker|all-in-one]
                                    [--build DIR ...]

Before the rounds, each page signs in, writes three lines and is told its agent or its place in
line (20 agents with 20 seats each: 400 chats held, the rest wait). Then each round every page
reconnects at once with `last_seen` (its last acked line), and waits for what a page waits for
before it shows anything: its history after `last_seen` and the `conversation` snapshot.

- all in: from the first connect to the last page's snapshot;
- CPU ms per reconnect of the processes holding the sockets, and the relay's per connect (its
  pages wait for the upgrade only: it has no history and no snapshot to send);
- the kefu process's event loop held over 25 ms meanwhile (`kefu_event_loop_lag_seconds`): every
  agent's and customer's frame on that process waits that long.

Each `--build DIR` is a checkout whose kefu is measured, each on its own redis-server, all started
once; the rounds alternate between them. One JSON line per round on stdout; progress and the
medians per build on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import free_port, say, start_redis
from bench.latency import scrape_stalls, serve_config, stalls_between, wait_port
from bench.shapes import BY_NAME, ROOT, Running, add_build_args, build_names, chosen_builds, cpu_s, start
from router.childproc import die_with_parent

LINES = 3
SIGN_IN_AT_ONCE = 50


def config(path: Path) -> list[str]:
    tokens = serve_config(path)
    path.write_text(path.read_text().replace("max_chats: 50", "max_chats: 20"))
    return tokens


async def sign_in(http: aiohttp.ClientSession, base: str, pages: int) -> list[tuple[str, str]]:
    """(session, the id of its last acked line) of `pages` pages that wrote LINES lines each."""
    ws_base = base.replace("http", "ws", 1)
    out: list[tuple[str, str]] = []

    async def one(i: int) -> None:
        async with http.post(f"{base}/api/v1/webchat/sessions") as r:
            token = (await r.json())["session"]
        async with http.ws_connect(f"{ws_base}/ws/chat?session={token}") as ws:
            last = ""
            for j in range(LINES):
                await ws.send_json({"type": "message", "text": f"第{i}位 {j}", "client_msg_id": f"c{j}"})
                while (m := await ws.receive_json(timeout=60)).get("type") != "ack":
                    pass
                last = m["message_id"]
        out.append((token, last))

    for start_at in range(0, pages, SIGN_IN_AT_ONCE):
        await asyncio.gather(*(one(i) for i in range(start_at, min(start_at + SIGN_IN_AT_ONCE, pages))))
    return out


async def storm(http: aiohttp.ClientSession, base: str, pages: list[tuple[str, str]], snapshot: bool) -> float:
    """Every page at once; seconds until the last is ready (its snapshot, or the upgrade alone)."""
    ws_base = base.replace("http", "ws", 1)
    held: list[aiohttp.ClientWebSocketResponse] = []

    async def one(token: str, seen: str) -> None:
        ws = await http.ws_connect(f"{ws_base}/ws/chat?session={token}&last_seen={seen}")
        held.append(ws)
        while snapshot and (await ws.receive_json(timeout=60)).get("type") != "conversation":
            pass

    started = time.monotonic()
    try:
        await asyncio.gather(*(one(t, s) for t, s in pages))
        return time.monotonic() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
        await asyncio.sleep(1.0)  # the closes' own work is done before the next round


@contextlib.contextmanager
def _relay() -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "relay_server.py"), str(port)],
                            preexec_fn=die_with_parent())
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(20)


async def one_round(http: aiohttp.ClientSession, kefu: Running, pages: list[tuple[str, str]],
                    relay: tuple[str, int]) -> dict[str, Any]:
    n = len(pages)
    base, relay_pid = relay
    before = cpu_s([relay_pid])
    relay_s = await storm(http, base, pages, snapshot=False)
    relay_ms = (cpu_s([relay_pid]) - before) * 1000 / n
    loop_before, before = await scrape_stalls(kefu.urls), cpu_s(kefu.front_pids)
    kefu_s = await storm(http, kefu.bases[0], pages, snapshot=True)
    kefu_ms = (cpu_s(kefu.front_pids) - before) * 1000 / n
    held = stalls_between(loop_before, await scrape_stalls(kefu.urls))
    return {"pages": n, "all_in_s": round(kefu_s, 3), "cpu_ms_per_reconnect": round(kefu_ms, 3),
            "relay_all_in_s": round(relay_s, 3), "relay_cpu_ms_per_connect": round(relay_ms, 3),
            "ratio": round(relay_ms / kefu_ms, 3) if kefu_ms else 0.0,
            "loop_held_over_25ms": held.get("lag_over_25ms", 0.0)}


async def main(args: argparse.Namespace, builds: list[Path]) -> None:
    names = build_names(builds)
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="bench-reconnect-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            relay = stack.enter_context(_relay())
            http = await stack.enter_async_context(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)))
            deployed = []
            for i, build in enumerate(builds):
                work = Path(tmp) / str(i)
                proc, url = start_redis(work / "redis")
                stack.callback(proc.terminate)
                tokens = config(work / "kefu.yaml")
                kefu = stack.enter_context(start(BY_NAME[args.shape], work / "kefu.yaml", url, work / "kefu", say,
                                                 log_level="WARNING", build=build))
                agents = [await http.ws_connect(f"{kefu.bases[0].replace('http', 'ws', 1)}/ws/agent?token={t}")
                          for t in tokens]
                for ws in agents:
                    stack.push_async_callback(ws.close)
                say(f"{names[i]}: {args.pages} pages sign in and write {LINES} lines each")
                deployed.append((kefu, await sign_in(http, kefu.bases[0], args.pages)))
            for r in range(args.rounds):
                for name, (kefu, pages) in zip(names, deployed, strict=True):
                    res = await one_round(http, kefu, pages, relay)
                    res.update(round=r, build=name, shape=args.shape)
                    results[name].append(res)
                    print(json.dumps(res), flush=True)
                    say(f"round {r + 1}/{args.rounds} {name}: {res['pages']} pages back in {res['all_in_s']} s, "
                        f"{res['cpu_ms_per_reconnect']} CPU ms each (the relay {res['relay_cpu_ms_per_connect']} ms a "
                        f"connect, all in {res['relay_all_in_s']} s), loop held > 25 ms "
                        f"{res['loop_held_over_25ms']:.0f} times")
    for name, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("all_in_s", "cpu_ms_per_reconnect", "ratio")}
        say(f"medians {name}: all in {med['all_in_s']:.3f} s, {med['cpu_ms_per_reconnect']:.3f} CPU ms a reconnect, "
            f"relay / kefu {med['ratio']:.2f}")


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=500)
    p.add_argument("--rounds", type=int, default=3)
    add_build_args(p, "web+worker")
    args = p.parse_args()
    asyncio.run(main(args, chosen_builds(args)))


if __name__ == "__main__":
    cli()
