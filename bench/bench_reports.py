"""Reports on the archive: a 30-day summary of 100,000 conversations, on PostgreSQL and SQLite.

    python bench/bench_reports.py [--conversations 100000] [--days 30] [--runs 5] [--pg-host H]
        [--pg-port P] [--no-sqlite]

Fills a private PostgreSQL database (created on the machine's server, user postgres, and
dropped afterwards) and a SQLite file with the same generated conversations, through the
archive's own migrations, so the indexes are the product's. Then times, per database:

- `summary`: GET /api/v1/reports/summary's query and figures over the whole range (median of
  `--runs`), and narrowed to one agent;
- the baseline: `SELECT count(*)` over the same range, on the same database in the same run.

The figure is the summary's time (goal: under 1 s on PostgreSQL) and its ratio to the baseline,
which says how much is the summary's own work rather than the machine's speed that minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import sqlalchemy as sa

from router.archive import reports
from router.archive.db import Archive
from router.archive.schema import conversations

POOLS = ("presale", "aftersale", "vip", "logistics")
CHANNELS = ("webchat", "wechat", "telegram")
AGENTS = tuple(f"agent{i:02d}" for i in range(20))
BATCH = 5000


def rows(n: int, since: float, days: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` archived conversations created uniformly over `days` from `since`."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        created = since + rnd.random() * days * 86400
        bot = rnd.random() < 0.3
        bot_resolved = bot and rnd.random() < 0.6
        first = None if bot_resolved else rnd.lognormvariate(3.5, 1.0)
        resolution = rnd.lognormvariate(6.0, 1.0)
        rated = rnd.random() < 0.2
        out.append({
            "id": f"c_bench{i:07d}", "version": 1, "customer_id": f"cu_{rnd.randrange(n // 3):07d}",
            "customer_name": "", "channel": rnd.choice(CHANNELS), "account": "shop", "chat": f"chat{i}",
            "identities": "[]", "state": "closed", "pool": rnd.choice(POOLS),
            "agent": None if bot_resolved else rnd.choice(AGENTS), "priority": 0, "created": created,
            "queued_at": created, "assigned_at": None if bot_resolved else created + 5,
            "first_reply_at": None if first is None else created + first, "closed_at": created + resolution,
            "resolution": "bot" if bot_resolved else "resolved", "reopened": 0,
            "messages_in": rnd.randint(1, 12), "messages_out": rnd.randint(0, 12), "first_response_s": first,
            "resolution_s": resolution, "sla_breaches": int(rnd.random() < 0.05),
            "bot_outcome": ("resolved" if bot_resolved else "handed_off") if bot else None,
            "csat_rating": rnd.randint(1, 5) if rated else None, "csat_comment": None,
            "csat_at": created + resolution + 30 if rated else None, "decision": None, "sla": None, "bot": None,
            "archived_at": created + resolution + 1,
        })
    return out


async def fill(archive: Archive, data: list[dict[str, Any]], label: str) -> float:
    t0 = time.perf_counter()
    await archive.migrate()
    for start in range(0, len(data), BATCH):
        async with archive.engine.begin() as conn:
            await conn.execute(sa.insert(conversations), data[start:start + BATCH])
        done = min(start + BATCH, len(data))
        print(f"  {label}: {done:,}/{len(data):,} conversations written", flush=True)
    async with archive.engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - t0


async def timed(archive: Archive, runs: int, since: float, until: float, **narrow: Any) -> tuple[float, dict[str, Any]]:
    times, body = [], {}
    for _ in range(runs):
        t0 = time.perf_counter()
        async with archive.engine.connect() as conn:
            body = await reports.summary(conn, since, until, **narrow)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), body


async def baseline(archive: Archive, runs: int, since: float, until: float) -> float:
    c = conversations.c
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        async with archive.engine.connect() as conn:
            await conn.execute(sa.select(sa.func.count()).where(c.created >= since, c.created < until))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def measure(url: str, label: str, data: list[dict[str, Any]], args: argparse.Namespace, since: float,
                  until: float) -> dict[str, Any]:
    archive = Archive(url)
    try:
        fill_s = await fill(archive, data, label)
        print(f"  {label}: timing the summary ({args.runs} runs)", flush=True)
        await timed(archive, 1, since, until)  # warm the cache and the connection pool
        whole, body = await timed(archive, args.runs, since, until)
        one, _ = await timed(archive, args.runs, since, until, agent=AGENTS[0])
        base = await baseline(archive, args.runs, since, until)
        assert body["conversations"] == len(data), body["conversations"]
        return {"database": label, "conversations": len(data), "fill_s": round(fill_s, 1),
                "summary_s": round(whole, 3), "summary_one_agent_s": round(one, 3),
                "baseline_count_s": round(base, 4), "summary_over_baseline": round(whole / max(base, 1e-6), 1)}
    finally:
        await archive.aclose()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--pg-host", default=os.environ.get("KEFU_TEST_PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("KEFU_TEST_PG_PORT", "5432")))
    p.add_argument("--no-sqlite", action="store_true")
    args = p.parse_args()
    until = time.time()
    since = until - args.days * 86400
    print(f"generating {args.conversations:,} conversations over {args.days} days", flush=True)
    data = rows(args.conversations, since, args.days)
    results = []
    name = f"kefu_bench_reports_{os.getpid()}"
    admin = await asyncpg.connect(host=args.pg_host, port=args.pg_port, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        results.append(await measure(f"postgresql://postgres@{args.pg_host}:{args.pg_port}/{name}", "postgresql",
                                     data, args, since, until))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="kefu-bench-reports-") as tmp:
            results.append(await measure(f"sqlite:///{tmp}/archive.db", "sqlite", data, args, since, until))
    print(json.dumps({"load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
