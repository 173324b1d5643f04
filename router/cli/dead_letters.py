"""`kefu dead-letters`: the stream entries that could not be parsed or handled, newest first."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from router.cli.server_store import add_store_args, server_store

STREAMS = ("inbound", "outbound", "archive")


def add_dead_letters_parser(sub: Any) -> None:
    p = sub.add_parser("dead-letters", help="stream entries moved aside as poison, newest first, with the reason")
    p.add_argument("--stream", choices=STREAMS, help="one stream; all by default")
    p.add_argument("--limit", type=int, default=20, help="entries per stream (default 20, at most 1000)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")
    add_store_args(p)
    p.set_defaults(func=cmd_dead_letters)


def cmd_dead_letters(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        print("kefu: --limit must be 1 to 1000")
        return 2
    found = asyncio.run(_read(args))
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    for name, (count, entries) in found.items():
        print(f"{name}: {count} dead letter{'s' if count != 1 else ''}")
        for e in entries:
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["at"]))
            print(f"  {at}  entry {e['entry']}  tries {e['tries']}  {e['reason']}")
    return 0


async def _read(args: argparse.Namespace) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    from router.pipeline.streams import dead_letter_counts, dead_letters

    async with server_store(args) as store:
        counts = await dead_letter_counts(store)
        return {name: (counts[name], await dead_letters(store, name, args.limit))
                for name in STREAMS if args.stream in (None, name)}
