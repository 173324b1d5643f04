"""`kefu migrate`: move the keys of the layout before 0.2 to today's names (router/store/migrate.py).
Stop every `kefu serve` of the shop first; the embedded server is started for the copy when no
Redis URL is given, as `kefu serve` would."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any


def add_migrate_parser(sub: Any) -> None:
    p = sub.add_parser("migrate", help="move keys written before 0.2 to the names with the shop in the hash tag")
    p.add_argument("--config", help="YAML config (redis.url, namespace, cluster); default ./config/kefu.yaml")
    p.add_argument("--redis-url", default=None, help="the router's Redis; default the config's, else embedded")
    p.add_argument("--redis-cluster", action="store_true", help="the Redis URL is one node of a Cluster")
    p.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))
    p.add_argument("--dry-run", action="store_true", help="count the keys to move, change nothing")
    p.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    from router.config.resolve import resolve_settings

    settings = resolve_settings(args.config, Path(args.data_dir))
    url = args.redis_url or os.environ.get("KEFU_REDIS_URL") or settings.redis.url
    cluster = args.redis_cluster or settings.redis.cluster
    return asyncio.run(_run(url, settings.redis.namespace, cluster, Path(args.data_dir), args.dry_run))


async def _run(url: str | None, namespace: str, cluster: bool, data_dir: Path, dry_run: bool) -> int:
    from router.store.embedded import redis_url_for
    from router.store.migrate import migrate_at

    async with redis_url_for(url, data_dir) as live:
        report = await migrate_at(live, cluster and live == url, namespace, dry_run,
                                  progress=lambda n: print(f"  {n} keys ...", flush=True))
    verb = "would move" if dry_run else "moved"
    print(f"namespace {namespace}: {verb} {report.moved} keys to the new names", flush=True)
    if report.gone:
        print(f"{report.gone} keys expired before they were copied", flush=True)
    for key in report.kept[:20]:
        print(f"kept {key}: its new name already holds a value", file=sys.stderr)
    if report.kept:
        print(f"{len(report.kept)} old keys kept; look at them, then delete them", file=sys.stderr)
        return 1
    return 0
