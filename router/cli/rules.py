"""`kefu rules export-trace`, and `kefu rules replay` without --trace: the history in Redis.

Both only read. The Redis is --redis-url, else KEFU_REDIS_URL, else the config's redis.url,
else the embedded server of --data-dir: the running one when `kefu serve` has it open, otherwise
started from its append-only file for the length of the command.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from router.bot.pii import mask_pii
from router.config.settings import load_settings
from router.rules.history import candidates, records
from router.rules.versions import RuleVersions
from router.store import Store
from router.store.embedded import EmbeddedRedis, redis_url_for
from routing_rules import RuleSet, check_rules
from routing_rules.cli import add_rules_parsers
from routing_rules.cli import iso as iso_time
from routing_rules.progress import Progress
from routing_rules.replay import replay
from routing_rules.ruleset import DEFAULT_TIMEZONE
from routing_rules.trace import TraceRecord, encode_record


def add_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redis-url", default=None, help="the router's Redis (default: KEFU_REDIS_URL, config)")
    p.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"),
                   help="the embedded Redis of `kefu serve --data-dir` when no URL is given")
    p.add_argument("--config", default=None, help="kefu config, for redis.url and redis.namespace")


def add_rules_commands(subparsers: Any) -> None:
    """`kefu rules`: the engine's check, explain and replay, plus what reads the router's Redis."""
    replay_parser = add_rules_parsers(subparsers, history=replay_history)
    add_store_args(replay_parser)
    add_export_parser(subparsers, iso_time)


def add_export_parser(subparsers: Any, iso: Any) -> None:
    p = subparsers.add_parser("export-trace", help="write the decision history in Redis as a JSON Lines trace")
    p.add_argument("--since", type=iso, default=None, help="decisions from (ISO 8601)")
    p.add_argument("--until", type=iso, default=None, help="decisions before (ISO 8601, excluded)")
    p.add_argument("--out", default=None, help="trace file to write; default stdout")
    add_store_args(p)
    p.set_defaults(func=cmd_export_trace)


def _where(args: argparse.Namespace) -> tuple[str | None, str, bool]:
    """(Redis URL or None for the embedded one, key namespace, whether it is a Cluster)."""
    url, namespace, cluster = args.redis_url or os.environ.get("KEFU_REDIS_URL"), "kefu", False
    config = args.config or ("config/kefu.yaml" if Path("config/kefu.yaml").exists() else None)
    if config:
        settings = load_settings(config)
        url, namespace, cluster = url or settings.redis.url, settings.redis.namespace, settings.redis.cluster
    return url, namespace, cluster


@asynccontextmanager
async def history_store(args: argparse.Namespace, url: str | None, namespace: str,
                        cluster: bool = False) -> AsyncIterator[Store]:
    if not url:
        embedded = EmbeddedRedis(args.data_dir)
        if await embedded.answers():  # `kefu serve` has it open: read alongside it
            url = embedded.url
    async with redis_url_for(url, args.data_dir) as live_url:
        store = Store(live_url, namespace, cluster=cluster and live_url == url)
        try:
            await store.open()
            yield store
        finally:
            await store.close()


def _epoch(dt: datetime | None, zone: str) -> float | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(zone))).timestamp()


async def _active_zone(store: Store) -> str:
    """Times given without an offset are read in the active rules' timezone."""
    versions = RuleVersions(store, None, None)
    stored = await versions.get(await versions.active_id())
    rs = check_rules(stored["source"]).ruleset if stored else None
    return rs.timezone if rs is not None else DEFAULT_TIMEZONE


def cmd_export_trace(args: argparse.Namespace) -> int:
    where = _where(args)
    out = Path(args.out).open("w", encoding="utf-8") if args.out else sys.stdout
    try:
        written = asyncio.run(_export(args, where, out))
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {written} decisions" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


async def _export(args: argparse.Namespace, where: tuple[str | None, str, bool], out: TextIO) -> int:
    written = 0
    async with history_store(args, *where) as store:
        zone = await _active_zone(store)
        since, until = _epoch(args.since, zone), _epoch(args.until, zone)
        bar = Progress("export", await candidates(store, since))
        async for _, rec in records(store, since, until, progress=bar.update):
            # A trace leaves the router: phone numbers, ID numbers and addresses are masked.
            masked = dataclasses.replace(rec.input, text=mask_pii(rec.input.text))
            out.write(encode_record(dataclasses.replace(rec, input=masked)) + "\n")
            written += 1
        bar.close()
        # Customers' words leave the router: on the record (docs/admin.md).
        from router.ops.audit import Audit

        await Audit(store).record(None, "export.decision_trace", args.out or "-", addr="cli", detail={
            "by": getpass.getuser(), "since": since, "until": until, "decisions": written})
    return written


async def _collect(args: argparse.Namespace, where: tuple[str | None, str, bool], since: float | None,
                   until: float | None) -> list[tuple[int, TraceRecord]]:
    async with history_store(args, *where) as store:
        bar = Progress("history", await candidates(store, since))
        found = [r async for r in records(store, since, until, progress=bar.update)]
        bar.close()
        return found


def replay_history(args: argparse.Namespace, new: RuleSet, old: RuleSet | None) -> int:
    """`kefu rules replay` without --trace: re-decide the conversations recorded in Redis."""
    since, until = _epoch(args.since, new.timezone), _epoch(args.until, new.timezone)
    recs = asyncio.run(_collect(args, _where(args), since, until))
    bar = Progress("replay", len(recs))
    numbered = [(i, rec) for i, (_, rec) in enumerate(recs, 1)]
    report = replay(numbered, new, old=old, progress=bar.update)
    bar.close()
    for line in report.lines():
        print(line)
    return 0
