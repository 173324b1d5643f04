"""`kefu bot ...`: the bot's figures from the command line (reads the same Redis as the server)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from router.cli.server_store import add_store_args, server_store


def add_bot_parsers(sub: Any) -> None:
    unknown = sub.add_parser("unknown", help="questions the bot could not answer, most asked first")
    unknown.add_argument("--top", type=int, default=20, help="how many groups to show (default 20)")
    unknown.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_args(unknown)
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

    async with server_store(args) as store:
        return await unknown_questions(store, args.top)
