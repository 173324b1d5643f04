"""Cost of choosing an agent among 1,000 with 20 skills, per policy, next to round robin's.

    python bench/bench_assign.py [--quick] [--seed N] [--redis-server PATH] [--no-isolate]

Starts a private redis-server (no persistence) on a free loopback port, configures one pool of
1,000 agents who each hold all 20 skills at random levels 1-5 (cap 5), puts them online, and
fills half the capacity. Then, per policy, it repeats: a new conversation needing one or two
skills at a minimum level (1: 40%, 2: 30%, 3: 20%, 4: 10%) is previewed (the decision alone) and
routed (decision, assignment and bookkeeping, the `route` script), and a random open
conversation is closed, so loads stay where they are.

The decision logic is timed inside Redis: the preview script reads the server clock (TIME)
just before and just after `choose()` (sticky check and the policy's scan), and again after the
decision record is built; the cost of one clock read, measured in the same script, is taken off.
So the figure holds neither the network nor the prelude and argument handling every script pays.
It is given twice: the first call, as routing meets it (caches cold from whatever ran in between,
and any garbage-collection work Redis's Lua owes at that moment), and the best of REPEATS
immediate repeats of the same decision in the same script (DRY: nothing changes between them),
which is the code's own cost without the rest of the machine.

The floor (a script with choose's prelude that returns at once) and the route are whole calls
from SLOWLOG, logged only around those two calls. Round trips per assignment are counted on the
client (every command or pipeline sent) around the route calls, and checked on the server with
INFO commandstats.

This machine is shared and has two cores, so by default (when allowed) redis-server runs with a
real-time scheduling priority on one core and this client on the other, so another process is
not scheduled in the middle of a measured call; the output says whether it did. Compare ratios
to round robin in any case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.childproc import die_with_parent
from router.config.settings import Settings, parse_settings
from router.models import new_id
from router.store import Store
from router.store.embedded import find_redis_server
from router.store.scripts import assemble, render
from routing_rules.progress import Progress

SKILLS = [f"s{i:02d}" for i in range(20)]
LEVELS = [1] * 4 + [2] * 3 + [3] * 2 + [4]
# The preview: the `choose` script with server clock reads around the decision and the record.
# It changes nothing (DRY), like `choose`.
TIMED_CHOOSE = """
DRY = true
local function now_us() local t = redis.call('TIME') return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local t0 = now_us()
local clock = now_us() - t0
local first, least, aid, rec = nil, nil, nil, nil
for i = 1, REPEATS do
  local t1 = now_us()
  aid, rec = choose(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), 'preview')
  local d = now_us() - t1
  first = first or d
  if least == nil or d < least then least = d end
end
local t2 = now_us()
local doc = record_json(rec)
local t3 = now_us()
return {aid or '', doc, clock, first, least, t3 - t2}
"""
REPEATS = 10
SLOWLOG_THRESHOLD_US = 2
SLOWLOG_LEN_PER_ITERATION = 200
SLOWLOG_DRAIN_EVERY = 500  # iterations between reads of the log: a read disturbs the calls right after it
VARIANTS = [
    ("round_robin", "assignment:\n  policy: round_robin"),
    ("least_loaded", "assignment:\n  policy: least_loaded"),
    ("longest_idle", "assignment:\n  policy: longest_idle"),
    ("least_loaded+weighted", "assignment:\n  policy: least_loaded\n  weighted_load: {enabled: true}"),
]


def config(agents: int, rng: random.Random, assignment: str) -> Settings:
    lines = ["pools:", "  - id: shop", "agents:"]
    for i in range(agents):
        skills = ", ".join(f"{s}: {rng.randint(1, 5)}" for s in SKILLS)
        lines += [f"  - id: a{i:04d}", f"    token: token-a{i:04d}", "    pools: [shop]",
                  f"    skills: {{{skills}}}", "    max_chats: 5"]
    return parse_settings("\n".join(lines) + "\n" + assignment + "\n", "<bench>")


class Counted:
    """Counts the client's round trips: each command, or each pipeline, is one."""

    def __init__(self, client: Any) -> None:
        self.n = 0
        original = client.execute_command

        async def execute_command(*args: Any, **kw: Any) -> Any:
            self.n += 1
            return await original(*args, **kw)

        client.execute_command = execute_command


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def run_variant(url: str, name: str, settings: Settings, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    store = Store(url)
    await store.open()
    r = store.client
    await r.flushall()
    await store.sync_config(settings)
    agents = [a.id for a in settings.agents]
    for aid in agents:
        await store.call("status", [aid, "online", time.time(), "bench"])
    clock = [time.time()]

    async def arrive() -> tuple[str, str, list[str], int]:
        clock[0] += 0.01  # time moves on, as it does between real arrivals
        now = clock[0]
        mid, user = new_id("m"), new_id("u")
        res = await store.call("resolve", [mid, f"webchat:shop:{user}", new_id("cu"), new_id("c"), now, 600,
                                           "webchat", "shop", user, ""])
        need = rng.sample(SKILLS, 1 if rng.random() < 0.7 else 2)
        return mid, str(res[2]), need, rng.choice(LEVELS)

    async def route(mid: str, cid: str, need: list[str], level: int) -> Any:
        return await store.call("route", [mid, cid, clock[0], json.dumps({"id": mid}), "shop", 10, json.dumps(need),
                                          level, "0", json.dumps({"pool": "shop"}), 3600])

    open_convs: list[str] = []
    warm = len(agents) * 5 // 2
    progress = Progress(f"{name}: warm-up", warm)
    for i in range(warm):
        mid, cid, need, level = await arrive()
        res = await route(mid, cid, [], 1)
        if res[1] == "assigned":
            open_convs.append(cid)
        progress.update(i + 1)

    # Redis logs the commands a script runs as well as the script. A threshold below every script's
    # cost (the floor alone is several times it) but above most single commands keeps the log to
    # the scripts, so it neither overflows nor slows each inner call by writing an entry for it.
    # Logging is on only around the floor and route calls.
    await r.config_set("slowlog-log-slower-than", -1)
    await r.config_set("slowlog-max-len", SLOWLOG_LEN_PER_ITERATION * SLOWLOG_DRAIN_EVERY + 100)
    await r.slowlog_reset()
    await r.config_resetstat()
    # The floor: the same prelude and arguments, no decision. What is above it is the decision.
    floor_sha = await r.script_load(render("choose", store.keys).rsplit("DRY = true", 1)[0] + "\nreturn 1")
    timed_sha = await r.script_load(assemble(TIMED_CHOOSE.replace("REPEATS", str(REPEATS)), store.keys))
    counter = Counted(r)
    route_trips = 0
    assigned = 0
    examined: list[int] = []
    clock_us: list[float] = []
    logic_us: list[float] = []
    warm_us: list[float] = []
    record_us: list[float] = []
    log: list[dict[str, Any]] = []
    # Reading the log disturbs the calls right after it (a big reply, memory freed): the
    # iterations just after a read still run but are left out of every figure.
    left_out: set[str] = set()
    quiet_after_read = 0

    log_client = aioredis.from_url(url, socket_timeout=300)  # a long log is a big reply

    async def drain_log() -> None:
        nonlocal quiet_after_read
        log.extend(await log_client.slowlog_get(SLOWLOG_LEN_PER_ITERATION * SLOWLOG_DRAIN_EVERY + 100))
        await log_client.slowlog_reset()
        quiet_after_read = 2

    progress = Progress(f"{name}: measuring", n)
    for i in range(n):
        mid, cid, need, level = await arrive()
        preview = await r.evalsha(timed_sha, 1, store.keys.conv_index, cid, "shop", json.dumps(need), level,
                                  clock[0])
        if quiet_after_read:
            quiet_after_read -= 1
            left_out.add(cid)
        else:
            examined.append(json.loads(preview[1])["assignment"]["examined"])
            clock_us.append(float(preview[2]))
            logic_us.append(float(preview[3]))
            warm_us.append(float(preview[4]))
            record_us.append(float(preview[5]))
        # Only the floor and the route are taken from the log; the preview times itself, and its
        # repeats would flood the log with the commands they run.
        await r.config_set("slowlog-log-slower-than", SLOWLOG_THRESHOLD_US)
        await r.evalsha(floor_sha, 1, store.keys.conv_index, cid, "shop", json.dumps(need), level, clock[0])
        before = counter.n
        res = await route(mid, cid, need, level)
        route_trips += counter.n - before
        await r.config_set("slowlog-log-slower-than", -1)
        if res[1] == "assigned":
            assigned += 1
            open_convs.append(cid)
        else:
            await store.call("close", [cid, "bench", clock[0], "bench", "1"])
        victim = open_convs.pop(rng.randrange(len(open_convs)))
        await store.call("close", [victim, "bench", clock[0], "bench", "1"])
        progress.update(i + 1)
        if (i + 1) % SLOWLOG_DRAIN_EVERY == 0:
            await drain_log()
    await drain_log()
    await log_client.aclose()
    stats = await r.info("commandstats")
    await r.config_set("slowlog-log-slower-than", 10000)
    await store.close()
    sha = store.scripts.sha
    durations: dict[str, list[float]] = {"route": [], "floor": []}
    sha = {**sha, "floor": floor_sha}
    for entry in log:
        cmd = entry["command"]
        cmd = cmd.decode() if isinstance(cmd, bytes) else str(cmd)
        parts = cmd.split(" ")
        if len(parts) > 5 and parts[0].upper() == "EVALSHA":
            for script in durations:
                # EVALSHA sha 1 key cid ... (floor); EVALSHA sha 1 key mid cid ... (route)
                if parts[1] == sha[script] and parts[5 if script == "route" else 4] not in left_out:
                    durations[script].append(float(entry["duration"]))
    evalsha = int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    kept = n - len(left_out)
    missing = {k: kept - len(v) for k, v in durations.items() if len(v) != kept}
    if missing:
        # A percentile over a partial log would describe whichever calls happened to be kept.
        raise SystemExit(f"{name}: the slow log missed calls ({missing} of {kept} each); "
                         "raise SLOWLOG_LEN_PER_ITERATION or lower SLOWLOG_THRESHOLD_US")
    return {
        "name": name, "assigned": assigned, "n": n,
        "route": durations["route"], "floor": durations["floor"],
        "clock": clock_us, "logic": logic_us, "warm": warm_us, "record": record_us,
        "trips": route_trips / n, "examined": examined, "evalsha_per_iteration": evalsha / n,
    }


def start_redis(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # A benchmark stopped with Ctrl-C or killed takes its server with it.
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def isolate(pid: int) -> bool:
    """Real-time priority on the last core, so a measured call is not interrupted by the rest of a
    busy machine. Needs root (or CAP_SYS_NICE) on Linux; without it the run goes on as it is."""
    try:
        cpus = os.sched_getaffinity(0)
        redis_cpu = max(cpus)
        os.sched_setaffinity(pid, {redis_cpu})
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(10))
        if len(cpus) > 1:
            os.sched_setaffinity(0, cpus - {redis_cpu})  # this client stays off the server's core
    except (AttributeError, OSError):
        return False
    return True


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-assign-"))
    proc, url = start_redis(args.redis_server or find_redis_server(), workdir)
    isolated = not args.no_isolate and isolate(proc.pid)
    try:
        results = []
        for i, (name, assignment) in enumerate(VARIANTS):
            settings = config(args.agents, random.Random(args.seed), assignment)
            results.append(await run_variant(url, name, settings, args.n, args.seed + i))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, results, isolated)


def report(args: argparse.Namespace, results: list[dict[str, Any]], isolated: bool) -> None:
    def less_clock(res: dict[str, Any], key: str) -> list[float]:
        base = statistics.median(res["clock"])
        return [max(x - base, 0.0) for x in res[key]]

    rr = results[0]
    rr_first, rr_best = less_clock(rr, "logic"), less_clock(rr, "warm")
    rr_route = statistics.median(rr["route"])
    print(f"\n{args.agents} agents x {len(SKILLS)} skills, {args.n} conversations per policy; microseconds "
          f"on the server; redis-server {'isolated (real-time priority, one core)' if isolated else 'not isolated'}")
    print(f"{'':22} {'decision logic, first call':^32} {'best of ' + str(REPEATS):^23} {'record':^11} "
          f"{'':5} {'route':^17}")
    print(f"{'policy':22} {'p50':>5} {'p99':>5} {'p99.9':>5} {'xRR p50':>7} {'xRR p99':>7} "
          f"{'p50':>5} {'p99':>5} {'xRR p99':>7} {'p50':>5} {'p99':>5} {'floor':>5} "
          f"{'p50':>5} {'p99':>5} {'xRR':>5} {'trips':>5} {'examined p50/p99':>16}")
    for res in results:
        first, best, rec = less_clock(res, "logic"), less_clock(res, "warm"), less_clock(res, "record")
        ro = res["route"]
        print(f"{res['name']:22} {statistics.median(first):5.0f} {pct(first, 0.99):5.0f} {pct(first, 0.999):5.0f} "
              f"{statistics.median(first) / max(statistics.median(rr_first), 1.0):7.2f} "
              f"{pct(first, 0.99) / max(pct(rr_first, 0.99), 1.0):7.2f} "
              f"{statistics.median(best):5.0f} {pct(best, 0.99):5.0f} "
              f"{pct(best, 0.99) / max(pct(rr_best, 0.99), 1.0):7.2f} "
              f"{statistics.median(rec):5.0f} {pct(rec, 0.99):5.0f} {statistics.median(res['floor']):5.0f} "
              f"{statistics.median(ro):5.0f} {pct(ro, 0.99):5.0f} {statistics.median(ro) / rr_route:5.2f} "
              f"{res['trips']:5.2f} {statistics.median(res['examined']):>8.0f} / {pct(res['examined'], 0.99):<4.0f}")
    print(f"decision logic: choose() alone (sticky check and the policy's scan), timed by the server clock inside "
          f"the script, less one clock read ({statistics.median(rr['clock']):.0f} us). first call: as routing "
          f"meets it, caches cold from the scripts and client in between. best of {REPEATS}: the same decision "
          "repeated at once in the same script, the least of the repeats: the code's own cost, without "
          "interference from the rest of the machine. record: building the decision record. floor: a script "
          "with choose's prelude that returns at once (SLOWLOG). route: routing a new conversation whole "
          "(decision, assignment, record, frames; SLOWLOG, with Redis's Lua GC step after every 50th script). "
          "trips: client round trips per route.")
    print("evalsha calls per iteration (resolve, preview, floor, route, 1-2 closes): "
          + ", ".join(f"{r['name']} {r['evalsha_per_iteration']:.2f}" for r in results))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 conversations per policy instead of 3000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--no-isolate", action="store_true",
                    help="run redis-server at normal priority (default: real-time priority on one core if allowed)")
    args = ap.parse_args()
    args.n = 300 if args.quick else 3000
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
