"""Customer -> agent latency at a rate, against two floors measured in the same run.

    python -m bench latency [--quick]

- floor: Redis alone, XADD then XREADGROUP (BLOCK) on one stream, at the same rate;
- relay: a bare aiohttp WebSocket relay (bench/relay_server.py) driven by `kefu loadgen`'s engine,
  so the clients and the timing are the same as for kefu;
- kefu: on a private redis-server, driven the same way, in each shape of bench/shapes.py (one
  all-in-one `kefu serve`; a web process holding the sockets beside a worker routing), with the
  floors taken again beside each shape. CPU per line is summed over the shape's processes.

The agents only read. After each rate they close every chat it opened and kefu is let settle, so
each rate starts with no chat open, as the first did (before, each rate's agents reconnected to
every chat the earlier rates left open and paid for their snapshots).

Goal (issue 21): at 1,000 msg/s, kefu p99 <= 2 x relay p99 + 3 x floor p99. Each rate starts
with every customer's first line, 200 new chats in a fifth of a second, each decided and assigned;
the rest are follow-ups to chats their agents hold. Both are reported apart beside the whole.

The floor, the relay and kefu run one after the other, 10 s each. `--slice-s 2` has them take
turns instead (bench/slices.py): all three connected, each writes for 2 s while the others
wait, in a rotating order, so the machine's bad seconds fall on all three alike. It is not the
default: each turn starts cold after the others' (kefu's lines in a turn's first 50 ms p50 1.6 /
p99 5.2 ms, after its first 0.2 s 0.8 / 3.0), a cost the relay pays much less of, so taking turns
measured kefu at about twice its p99 run one after the other (docs/performance.md, "Session 21").

Every run, the baselines' included, is watched for pauses of the machine's own (bench/pauses.py,
a real-time-priority process beside the run): a virtual machine that stops every process for a
few milliseconds a few times a second sets the p99 of anything slower than the relay, and the
"machine pauses" row says how much more of its time kefu's run lost to them than the baselines'.

At 1,000 msg/s the run is made once more with the customers joining over RAMP_S seconds (100 new
chats a second, then the full rate: `kefu loadgen --ramp`), against baselines of its own taken
the same way: how a peak that builds up as shoppers arrive fares, beside the opening burst the
goal row keeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from bench import pauses
from bench.common import Row, free_port, py_spy, start_redis
from bench.shapes import ALL_IN_ONE, SHAPES, Running, Shape, cpu_s, start
from bench.slices import Gate, take_turns
from router.childproc import die_with_parent
from router.loadgen import Plan, run
from router.loadgen.run import Clock, WallClock
from router.loadgen.tally import percentile
from router.store.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
AGENTS = 20
CUSTOMERS = 200
RAMP_S = 2.0
ARCHIVE_QUEUE = Keys().archive_queue  # serve_config's shop: the default namespace


async def floor(url: str, rate: float, duration_s: float, clock: Clock | None = None) -> list[float]:
    """Milliseconds from XADD to the XREADGROUP that returns the entry; `clock` as `drive`'s."""
    r = aioredis.from_url(url)
    reader = aioredis.from_url(url)
    stream = f"bench:floor:{rate}"
    await r.xgroup_create(stream, "g", id="$", mkstream=True)
    got: list[float] = []
    total = int(rate * duration_s)

    async def consume() -> None:
        while len(got) < total:
            res = await reader.xreadgroup("g", "c", {stream: ">"}, count=500, block=1000)
            now = time.time()
            for _, entries in res or []:
                for eid, fields in entries:
                    got.append((now - float(fields[b"t"])) * 1000)
                    await reader.xack(stream, "g", eid)

    task = asyncio.create_task(consume())
    clock = clock or WallClock()
    for n in range(total):
        await clock.until(n / rate)
        await r.xadd(stream, {"t": repr(time.time())})
    await asyncio.wait_for(task, 30)
    await r.delete(stream)
    await r.aclose()
    await reader.aclose()
    return got


def wait_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def serve_config(path: Path) -> list[str]:
    tokens = [f"bench-agent-{i:04d}" for i in range(AGENTS)]
    path.write_text("pools:\n  - id: presale\nagents:\n" + "".join(
        f"  - id: a{i}\n    token: {tok}\n    pools: [presale]\n    max_chats: 50\n"
        for i, tok in enumerate(tokens))
        # One customer writes 2.5-10 lines a second here, far above a shopper's 1 a second: the
        # per-customer limit would measure the limiter, not the path.
        + "rate_limits:\n  enabled: false\n")
    return tokens


async def drive(bases: list[str], tokens: list[str], rate: float, duration_s: float,
                ramp_s: float = 0.0, clock: Clock | None = None) -> dict[str, Any]:
    """`kefu loadgen`'s run against `bases`; `clock`: what its lines are due by (a `Gate` when
    the runs take turns), the wall's by default."""
    plan = Plan(bases=tuple(bases), agent_tokens=tuple(tokens), customers=CUSTOMERS, rate=rate, duration_s=duration_s,
                script=("在吗", "有货吗", "什么时候发货", "谢谢"), drain_s=30, answer=False, ramp_s=ramp_s)
    report, _ = await run(plan, progress=False, clock=clock)
    return report


async def close_all(base: str, tokens: list[str], timeout_s: float = 60) -> int:
    """Every agent closes every chat it holds, as a console would; returns how many. The
    agents of `drive` never close, so without this each rate would start with the earlier rates'
    chats open on every console (snapshots, loads, queue scans): a fair rate starts empty."""
    ws_base = base.replace("http", "ws", 1)

    async def one(http: aiohttp.ClientSession, token: str) -> int:
        open_: set[str] = set()
        closed = 0

        async def close_held(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal closed
            snapshot_sent = False
            async for msg in ws:
                frame = json.loads(msg.data)
                kind = frame.get("type")
                if kind == "hello":
                    await ws.send_json({"type": "ping"})  # answered once the snapshot is sent
                elif kind == "assigned":
                    open_.add(frame["conversation"]["id"])
                    await ws.send_json({"type": "close", "conversation_id": frame["conversation"]["id"]})
                elif kind in ("closed", "unassigned") and frame.get("conversation_id") in open_:
                    open_.discard(frame["conversation_id"])
                    closed += 1
                elif kind == "pong":
                    snapshot_sent = True
                if snapshot_sent and not open_:
                    return

        async with http.ws_connect(f"{ws_base}/ws/agent?token={token}") as ws:
            try:
                await asyncio.wait_for(close_held(ws), timeout_s)
            except TimeoutError:  # a machine too loaded to finish: the next rate starts with these
                pass
        return closed

    async with aiohttp.ClientSession() as http:
        closed = await asyncio.gather(*(one(http, t) for t in tokens))
    return sum(closed)


async def scrape_stalls(urls: list[str]) -> dict[str, float]:
    """The processes' loop-lag and GC-pause histograms (router/stalls.py) from /metrics, summed
    over the processes: sample name and labels -> value."""
    out: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:
        for url in urls:
            async with http.get(f"{url}/metrics") as r:
                for key, value in parse_stalls(await r.text()).items():
                    out[key] = out.get(key, 0.0) + value
    return out


def parse_stalls(text: str) -> dict[str, float]:
    """The loop-lag, GC-pause and route-delay samples of one /metrics text: "name,label=value" ->
    value."""
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        if fam.name in ("kefu_event_loop_lag_seconds", "kefu_gc_pause_seconds", "kefu_route_delay_seconds"):
            for s in fam.samples:
                out[s.name + "".join(f",{k}={v}" for k, v in sorted(s.labels.items()))] = s.value
    return out


def stalls_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What the loop went through between two scrapes: the lag timer's runs late by more than
    5 and 25 ms, the collections' number and pause time (ms) by generation, and the lines the route
    workers routed (new chats), with their mean wait (ms) and how many waited over 25 ms."""
    def d(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    ticks = d("kefu_event_loop_lag_seconds_count")
    out = {"lag_over_5ms": ticks - d("kefu_event_loop_lag_seconds_bucket,le=0.005"),
           "lag_over_25ms": ticks - d("kefu_event_loop_lag_seconds_bucket,le=0.025")}
    for gen in range(3):
        out[f"gc{gen}_n"] = d(f"kefu_gc_pause_seconds_count,generation={gen}")
        out[f"gc{gen}_ms"] = round(d(f"kefu_gc_pause_seconds_sum,generation={gen}") * 1000, 1)
    routed = d("kefu_route_delay_seconds_count")
    out["route_n"] = routed
    out["route_mean_ms"] = round(d("kefu_route_delay_seconds_sum") * 1000 / routed, 1) if routed else 0.0
    out["route_over_25ms"] = routed - d("kefu_route_delay_seconds_bucket,le=0.025")
    return out


def say_stalls(s: dict[str, float]) -> str:
    said = (f"loop held > 5 ms {s['lag_over_5ms']:.0f} times (> 25 ms {s['lag_over_25ms']:.0f}); collections "
            + ", ".join(f"gen {g} {s[f'gc{g}_n']:.0f} ({s[f'gc{g}_ms']:.1f} ms)" for g in range(3)))
    if s.get("route_n"):
        said += (f"; the route workers took {s['route_n']:.0f} lines {s['route_mean_ms']:.1f} ms after their intake"
                 f" on average ({s['route_over_25ms']:.0f} over 25 ms)")
    return said


async def settle(pids: list[int], url: str, timeout_s: float = 60) -> None:
    """Wait until the rate's closes are archived and the processes are about idle, so that the
    next rate's CPU is its own. Quiet alone was not enough: the archive worker could still be
    writing the closed chats when the next rate began (a stall in its follow-ups, session 10)."""
    deadline = time.monotonic() + timeout_s
    client = aioredis.Redis.from_url(url)
    try:
        while time.monotonic() < deadline:
            before = cpu_s(pids)
            await asyncio.sleep(0.5)
            if cpu_s(pids) - before < 0.05 and not await client.xlen(ARCHIVE_QUEUE):
                return
    finally:
        await client.aclose()


def measure(rates: list[float], duration_s: float, say: Any, profile_dir: Path | None = None,
            shapes: tuple[Shape, ...] = SHAPES, unix: bool = False, slice_s: float = 0.0) -> list[Row]:
    """Start Redis and the relay, then for each shape of kefu (bench/shapes.py) measure each rate
    against both floors, taken again beside it; `profile_dir`: py-spy samples the process taking
    the sockets at 1,000 msg/s into profile_dir/latency-1000[-SHAPE].txt. `unix`: kefu and the
    Redis floor reach Redis on a unix socket instead of loopback TCP. `slice_s`: the three take
    turns writing this long each (bench/slices.py); 0, the default: one after the other."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis", unix)
        relay_port = free_port()
        relay = subprocess.Popen([sys.executable, str(ROOT / "bench" / "relay_server.py"), str(relay_port)],
                                 preexec_fn=die_with_parent())
        tokens = serve_config(work / "kefu.yaml")
        log = (work / "serve.log").open("wb")
        try:
            wait_port(relay_port)
            for shape in shapes:
                redis.Redis.from_url(url).flushall()  # each shape starts from an empty store
                with start(shape, work / "kefu.yaml", url, work / shape.name, say, log=log,
                           log_level="WARNING") as kefu:
                    rows += asyncio.run(_rates(rates, duration_s, url, (relay_port, relay.pid), kefu, tokens, say,
                                               profile_dir, slice_s))
            return rows
        finally:
            relay.terminate()
            try:
                relay.wait(20)
            except subprocess.TimeoutExpired:
                relay.kill()
            log.close()
            redis_proc.terminate()
            redis_proc.wait(10)


async def _rates(rates: list[float], duration_s: float, url: str, relay: tuple[int, int], kefu: Running,
                 tokens: list[str], say: Any, profile_dir: Path | None, slice_s: float = 0.0) -> list[Row]:
    rows: list[Row] = []
    for rate in rates:
        rows += await _at(rate, 0.0, duration_s, url, relay, kefu, tokens, say, profile_dir, slice_s)
        if rate == 1000:
            rows += await _at(rate, RAMP_S, duration_s, url, relay, kefu, tokens, say, None, slice_s)
    return rows


@dataclass
class Trio:
    """What one `_trio` measured."""

    floor_ms: list[float]
    relay: dict[str, Any]
    """The relay's `kefu loadgen` report."""
    kefu: dict[str, Any]
    pauses: dict[str, dict[str, Any]]
    """The machine's pauses each run met (bench/pauses.py): floor, relay, kefu."""
    cpu_s: dict[str, float]
    """The relay's and kefu's processes' CPU over their runs (taking turns: over their turns)."""


async def _trio(rate: float, ramp_s: float, duration_s: float, url: str, relay: tuple[int, int], kefu: Running,
                tokens: list[str], say: Any, slice_s: float,
                before_kefu: Callable[[], Awaitable[None]] | None = None) -> Trio:
    """The floor, the relay and kefu at `rate` (kefu's customers joining over `ramp_s`): taking
    turns in slices of `slice_s` (bench/slices.py), or with `slice_s` 0 one after the other, as
    until session 21. `before_kefu` is awaited just before kefu's run starts (its profile and
    its loop's count begin there, not in the baselines' runs, where it idles)."""
    relay_port, relay_pid = relay
    relay_base = [f"http://127.0.0.1:{relay_port}"]
    relay_tokens = [f"r{i}" for i in range(AGENTS)]
    if slice_s:
        say(f"latency at {rate:.0f} msg/s: the Redis floor, the bare relay and kefu {kefu.shape.name}"
            + (f" (customers joining over {ramp_s:.0f} s)" if ramp_s else "")
            + f" taking turns, {slice_s:.0f} s each (load average {os.getloadavg()[0]:.1f})")
        # Kefu's and the relay's CPU over their own turns: between them their processes idle,
        # and a kefu process's timers then would count against its lines.
        gates = [Gate(), Gate(lambda: cpu_s([relay_pid])), Gate(lambda: cpu_s(kefu.pids))]
        if before_kefu is not None:
            await before_kefu()
        watch = pauses.Watch()
        fl, rl, kf, _ = await asyncio.gather(
            floor(url, rate, duration_s, gates[0]),
            drive(relay_base, relay_tokens, rate, duration_s, clock=gates[1]),
            drive(kefu.bases, tokens, rate, duration_s, ramp_s, clock=gates[2]),
            take_turns(gates, duration_s, slice_s))
        seen = watch.stop()
        met = {name: pauses.within(seen, g.spans) for name, g in zip(("floor", "relay", "kefu"), gates, strict=True)}
        cpu = {"relay": gates[1].metered, "kefu": gates[2].metered}
    else:
        met, cpu = {}, {}
        say(f"latency at {rate:.0f} msg/s: Redis floor (load average {os.getloadavg()[0]:.1f})")
        watch = pauses.Watch()
        fl = await floor(url, rate, duration_s)
        met["floor"] = watch.stop()
        say(f"latency at {rate:.0f} msg/s: bare WebSocket relay")
        watch, before = pauses.Watch(), cpu_s([relay_pid])
        rl = await drive(relay_base, relay_tokens, rate, duration_s)
        met["relay"], cpu["relay"] = watch.stop(), cpu_s([relay_pid]) - before
        say(f"latency at {rate:.0f} msg/s: kefu {kefu.shape.name}"
            + (f", customers joining over {ramp_s:.0f} s" if ramp_s else ""))
        if before_kefu is not None:
            await before_kefu()
        watch, before = pauses.Watch(), cpu_s(kefu.pids)
        kf = await drive(kefu.bases, tokens, rate, duration_s, ramp_s)
        met["kefu"], cpu["kefu"] = watch.stop(), cpu_s(kefu.pids) - before
    for name in ("floor", "relay"):
        say(f"  during the {name}'s run {pauses.say(met[name], 'the machine')}")
    return Trio(fl, rl, kf, met, cpu)


async def _at(rate: float, ramp_s: float, duration_s: float, url: str, relay: tuple[int, int], kefu: Running,
              tokens: list[str], say: Any, profile_dir: Path | None, slice_s: float) -> list[Row]:
    """One rate's rows: kefu against both baselines, the follow-ups apart, CPU per line, the
    machine's pauses; with `ramp_s`, the customers joining over it (module doc)."""
    shape = kefu.shape.name
    suffix = "" if kefu.shape == ALL_IN_ONE else f"-{shape.replace('+', '-')}"
    spread = 3 if slice_s else 1  # taking turns, kefu writes a third of the time
    started: dict[str, Any] = {}

    async def before_kefu() -> None:
        if profile_dir is not None and rate == 1000:
            started["sampler"] = py_spy(kefu.front_pids[0], duration_s * spread,
                                        profile_dir / f"latency-1000{suffix}.txt")
        started["loop"] = await scrape_stalls(kefu.urls)

    trio = await _trio(rate, ramp_s, duration_s, url, relay, kefu, tokens, say, slice_s, before_kefu)
    fl, rl, kf, seen = trio.floor_ms, trio.relay, trio.kefu, trio.pauses
    cpu = trio.cpu_s["kefu"]
    relay_ms = trio.cpu_s["relay"] * 1000 / max(int(rl["sent"]), 1)
    held = stalls_between(started["loop"], await scrape_stalls(kefu.urls))
    if "sampler" in started:
        await asyncio.to_thread(started["sampler"].wait)
    closed = await close_all(kefu.bases[0], tokens)
    await settle(kefu.pids, url)
    say(f"  closed the {closed} chats of this run; the next starts with none open")
    fp99 = percentile(fl, 99)
    goal = 2 * rl["customer_to_agent_ms"]["p99"] + 3 * fp99
    k = kf["customer_to_agent_ms"]
    lines = max(int(kf["sent"]), 1)
    cpu_ms = cpu * 1000 / lines
    first, follow = kf["first_line_to_agent_ms"], kf["follow_up_to_agent_ms"]
    joining = f", joining over {ramp_s:.0f} s" if ramp_s else ""
    say(f"  kefu {shape}{joining}: p50 {k['p50']:.1f} ms, p99 {k['p99']:.1f} ms; {cpu_ms:.2f} CPU ms per line "
        f"(all its processes, over its {'turns' if slice_s else 'run and its drain'}); "
        f"the {first['n']} new chats' first lines p50 "
        f"{first['p50']:.1f} / p99 {first['p99']:.1f} ms, the {follow['n']} follow-ups p50 "
        f"{follow['p50']:.1f} / p99 {follow['p99']:.1f} ms; {say_stalls(held)}; "
        f"{pauses.say(seen['kefu'], 'the machine')}")
    name = f"  joining over {ramp_s:.0f} s" if ramp_s else f"latency {rate:.0f}/s {shape}"
    rows = [Row(
        name, f"p50 {k['p50']:.1f} / p99 {k['p99']:.1f} ms",
        f"relay p99 {rl['customer_to_agent_ms']['p99']:.1f}, floor p99 {fp99:.1f} ms",
        k["p99"] / goal if goal else float("nan"), "p99 / (2 relay + 3 floor) <= 1",
        {"rate": rate, "shape": shape, "ramp_s": ramp_s, "slice_s": slice_s, "kefu": kf, "relay": rl,
         "floor_ms": {"p50": percentile(fl, 50), "p99": fp99}, "late_or_lost": kf["lost_to_agent"],
         "cpu_ms_per_line": round(cpu_ms, 3), "relay_cpu_ms_per_line": round(relay_ms, 3), "stalls": held,
         "machine_pauses": seen, "load_average": [round(x, 1) for x in os.getloadavg()]})]
    if not ramp_s:
        rows.append(Row("  follow-ups only", f"p50 {follow['p50']:.1f} / p99 {follow['p99']:.1f} ms",
                        f"new chats p50 {first['p50']:.1f} / p99 {first['p99']:.1f} ms",
                        follow["p99"] / goal if goal else float("nan"), "p99 / (2 relay + 3 floor) <= 1", {}))
        rows.append(Row("  CPU per line", f"{cpu_ms:.2f} ms", f"relay {relay_ms:.2f} ms",
                        relay_ms / cpu_ms if cpu_ms else 0.0, "relay / kefu", {}))
    rows.append(pause_row(seen["kefu"], seen))
    return rows


def pause_row(run: dict[str, Any], seen: dict[str, dict[str, Any]]) -> Row:
    """How much of its time a kefu run lost to the machine's pauses, against the baselines' runs
    of the same rate (its ratio: kefu's paused share over theirs; over 1, kefu's run was hit
    harder, and a p99 over the goal may be the machine's)."""
    base = [seen["floor"], seen["relay"]]
    base_share = sum(p["total_ms"] for p in base) / max(sum(p["seconds"] for p in base), 1e-9)
    share = run["total_ms"] / max(run["seconds"], 1e-9)
    ratio = share / base_share if base_share else (0.0 if not share else float("inf"))
    return Row("  machine pauses", f"kefu run {pauses.short(run)}",
               f"relay {pauses.short(seen['relay'])}, floor {pauses.short(seen['floor'])}",
               ratio, "paused share, kefu / baselines", {})
