"""`kefu bot ...`: the bot's figures from the command line (reads the same Redis as the server)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any


def add_bot_parsers(sub: Any) -> None:
    unknown = sub.add_parser("unknown", help="questions the bot could not answer, most asked first")
    unknown.add_argument("--top", type=int, default=20, help="how many groups to show (default 20)")
    unknown.add_argument("--json", action="store_true", help="print JSON instead of a table")
    unknown.add_argument("--config", help="YAML config; default ./config/kefu.yaml, else the demo")
    unknown.add_argument("--redis-url", default=None, help="the server's Redis; default its embedded one")
    unknown.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))
    unknown.set_defaults(func=cmd_unknown)


def cmd_unknown(args: argparse.Namespace) -> int:
    if not 1 <= args.top <= 1000:
        print("kefu: --top must be 1 to 1000")
        return 2
    rows = asyncio.run(_unknown(args))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no unanswered questions recorded")
        return 0
    width = max(len(str(r["count"])) for r in rows)
    for r in rows:
        print(f"{r['count']:>{width}}  {r['question']}  (e.g. {r['example']})")
    return 0


async def _unknown(args: argparse.Namespace) -> list[dict[str, Any]]:
    from router.bot.figures import unknown_questions
    from router.config.resolve import resolve_settings
    from router.store import Store
    from router.store.embedded import EmbeddedRedis, redis_url_for

    data_dir = Path(args.data_dir)
    settings = resolve_settings(args.config, data_dir)
    url = args.redis_url or settings.redis.url  # settings.redis.url includes KEFU_REDIS_URL
    embedded = EmbeddedRedis(data_dir)
    if not url and embedded.socket.exists():
        url = embedded.url  # the server is running on this data dir: ask it
    async with redis_url_for(url, data_dir) as resolved:
        store = Store(resolved, settings.redis.namespace, cluster=settings.redis.cluster and resolved == url)
        try:
            return await unknown_questions(store, args.top)
        finally:
            await store.close()
