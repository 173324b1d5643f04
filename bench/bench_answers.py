"""Chats with answers: agents answer every customer line and close each chat after its last, as at
work, so both directions and the whole life of a conversation are paid for.

    python bench/bench_answers.py [--rounds 3] [--rate 300] [--customers 200] [--duration 10]
                                  [--shape web+worker|all-in-one] [--build DIR ...]

The latency benchmark's agents only read (bench/latency.py), which leaves out what an answer
costs: the reply's checks and its script, the outbox, the sender's delivery to the customer's
feed, the `delivery` frame back to the agent, the transcript and the archive, and the closes and
the returning customers' new conversations. Each round runs `kefu loadgen` with answering agents
(20 agents, 50 seats each) for `--duration` seconds and reports, per customer line:

- CPU ms of each kefu process (its CPU-time clock) and of Redis (INFO's used_cpu);
- customer -> agent and agent -> customer p50 / p99, and anything lost or shown twice.

Each `--build DIR` is a checkout whose kefu is measured, each on its own redis-server, all started
once; the rounds alternate between them, and every chat is closed between rounds. One JSON line
per round on stdout; progress and the medians per build on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import say, start_redis
from bench.latency import close_all, serve_config, settle
from bench.shapes import BY_NAME, Running, add_build_args, build_names, chosen_builds, cpu_s, start
from router.loadgen import Plan, run

SCRIPT = ("在吗", "有货吗", "什么时候发货", "谢谢")


def _redis_cpu(r: redis.Redis) -> float:
    info = r.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def one_round(kefu: Running, tokens: list[str], url: str, args: argparse.Namespace) -> dict[str, Any]:
    r = redis.Redis.from_url(url)
    plan = Plan(bases=tuple(kefu.bases), agent_tokens=tuple(tokens), customers=args.customers, rate=args.rate,
                duration_s=args.duration, script=SCRIPT, drain_s=30, answer=True)
    before, redis_before = [cpu_s([p]) for p in kefu.pids], _redis_cpu(r)
    report, _ = await run(plan, progress=False)
    after, redis_after = [cpu_s([p]) for p in kefu.pids], _redis_cpu(r)
    lines = max(int(report["sent"]), 1)
    out: dict[str, Any] = {f"{role}_cpu_ms": round((a - b) * 1000 / lines, 3)
                           for (role, _), b, a in zip(kefu.procs, before, after, strict=True)}
    out["redis_cpu_ms"] = round((redis_after - redis_before) * 1000 / lines, 3)
    for key, name in (("customer_to_agent_ms", "to_agent"), ("agent_to_customer_ms", "to_customer")):
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = report[key]["p50"], report[key]["p99"]
    out.update({k: report[k] for k in ("sent", "answers_delivered", "lost_to_agent", "lost_to_customer",
                                       "duplicates_at_agent", "duplicates_at_customer")})
    await close_all(kefu.bases[0], tokens)
    await settle(kefu.pids, url)
    return out


async def main(args: argparse.Namespace, builds: list[Path]) -> None:
    names = build_names(builds)
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp, contextlib.ExitStack() as stack:
        deployed = []
        for i, build in enumerate(builds):
            work = Path(tmp) / str(i)
            proc, url = start_redis(work / "redis")
            stack.callback(proc.terminate)
            tokens = serve_config(work / "kefu.yaml")
            say(f"starting {args.shape} of {build}")
            deployed.append((stack.enter_context(start(BY_NAME[args.shape], work / "kefu.yaml", url, work / "kefu",
                                                       say, log_level="WARNING", build=build)), tokens, url))
        for r in range(args.rounds):
            for name, (kefu, tokens, url) in zip(names, deployed, strict=True):
                res = await one_round(kefu, tokens, url, args)
                res.update(round=r, build=name, shape=args.shape, rate=args.rate)
                results[name].append(res)
                print(json.dumps(res), flush=True)
                cpu = ", ".join(f"{k[:-7]} {v}" for k, v in res.items() if k.endswith("_cpu_ms"))
                say(f"round {r + 1}/{args.rounds} {name}: CPU ms a line {cpu}; to the agent p50 "
                    f"{res['to_agent_p50_ms']} / p99 {res['to_agent_p99_ms']} ms, to the customer p50 "
                    f"{res['to_customer_p50_ms']} / p99 {res['to_customer_p99_ms']} ms; lost "
                    f"{res['lost_to_agent']} + {res['lost_to_customer']}")
    for name, rows in results.items():
        keys = [k for k in rows[0] if k.endswith(("_cpu_ms", "_p50_ms", "_p99_ms"))]
        say(f"medians {name}: " + ", ".join(f"{k} {statistics.median(r[k] for r in rows):.3f}" for k in keys))


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rate", type=float, default=300.0, help="customer lines a second; each is answered")
    p.add_argument("--customers", type=int, default=200)
    p.add_argument("--duration", type=float, default=10.0, help="seconds of lines a round")
    add_build_args(p, "web+worker")
    args = p.parse_args()
    asyncio.run(main(args, chosen_builds(args)))


if __name__ == "__main__":
    cli()
