"""`kefu migrate`: copy keys of the layout before 0.2 (`NS:{rt}:conv:1`, the namespace outside
the hash tag) to today's names (`{rt:NS}:conv:1`, the namespace inside it).

Each key moves with DUMP and RESTORE (its TTL kept) and the old key is deleted after, so it works
across Cluster slots, where RENAME cannot. Streams keep their entries and consumer groups (with
their pending entries), so nothing accepted is lost or routed twice. Run it with every `kefu serve`
of the shop stopped; run it again after an interruption: a key already copied is not overwritten
(a live router's newer write wins) and the old one is left for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import ResponseError

from router.store.client import make_client

TAGS = ("rt", "in", "out", "bot", "rules", "csat", "t", "f", "wx", "tg", "hook")
"""The tags the old layout used; `t`, `f`, `wx`, `tg` and `hook` carried ids after a colon."""

_OLD = re.compile(r"^(?P<ns>[^{}:]+):\{(?P<tag>[a-z]+)(?::(?P<id>[^{}]*))?\}(?P<rest>.*)$", re.S)


def new_name(key: str, namespace: str) -> str | None:
    """Today's name for a key of the old layout in `namespace`; None when it is not one."""
    m = _OLD.match(key)
    if m is None or m["ns"] != namespace or m["tag"] not in TAGS:
        return None
    inner = f"{m['tag']}:{namespace}" + (f":{m['id']}" if m["id"] is not None else "")
    return f"{{{inner}}}{m['rest']}"


@dataclass
class Report:
    moved: int = 0
    kept: list[str] = field(default_factory=list)
    """Old keys left in place because the new name already held a value."""
    gone: int = 0
    """Old keys that expired or vanished between the scan and the copy."""


async def migrate(raw: Any, namespace: str, dry_run: bool = False,
                  progress: Callable[[int], None] | None = None) -> Report:
    """Move every old-layout key of `namespace`. `raw` is a client that does not decode replies
    (DUMP payloads are bytes), plain or Cluster; `progress` hears the count every 1,000 keys."""
    report = Report()
    seen = 0
    async for item in raw.scan_iter(match=f"{namespace}:{{*", count=1000):
        key = item.decode() if isinstance(item, bytes) else str(item)
        target = new_name(key, namespace)
        if target is None:
            continue
        seen += 1
        if progress and seen % 1000 == 0:
            progress(seen)
        if dry_run:
            report.moved += 1
            continue
        payload = await raw.dump(key)
        if payload is None:
            report.gone += 1
            continue
        ttl = await raw.pttl(key)
        try:
            await raw.restore(target, ttl if ttl > 0 else 0, payload)
        except ResponseError as exc:
            if "BUSYKEY" not in str(exc):
                raise
            report.kept.append(key)
            continue
        await raw.delete(key)
        report.moved += 1
    return report


async def migrate_at(url: str, cluster: bool, namespace: str, dry_run: bool = False,
                     progress: Callable[[int], None] | None = None) -> Report:
    """`migrate` on a connection of its own to `url`, one that does not decode replies (DUMP
    payloads are bytes), closed when done."""
    raw = make_client(url, cluster, decode=False)
    try:
        return await migrate(raw, namespace, dry_run, progress)
    finally:
        await raw.aclose()
