"""Versions of the live documents in Redis, as router/rules/versions.py keeps the rules': every
activation keeps the YAML source with its author, time, a unified diff against the version
before and a one-line summary, under an id that only grows ('v1', 'v2', ...). A rollback
activates an old source again as a new version. `activate` compares the caller's idea of the
active version with the pointer, and the script (live_activate.lua) decides for real.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from typing import Any

from kefu_common.errors import ConfigError, ConfigErrors, ProtocolError
from router.live.kinds import KINDS, Context, Kind
from router.rules.versions import StaleVersion
from router.store import Store
from router.store.calls.streams import LiveActivate


def summarize(kind: Kind, old: Any, new: Any, diff: str) -> str:
    """'added: a, b; removed: c; +3 -1 lines'."""
    if old is None:
        n = len(kind.items(new))
        return f"first version, {n} item{'s' * (n != 1)}" if n else "first version"
    if not diff:
        return "same source as before"
    added = sum(1 for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---"))
    before, after = kind.items(old), kind.items(new)
    parts = []
    if gained := [n for n in after if n not in before]:
        parts.append("added: " + ", ".join(gained[:10]) + (" ..." if len(gained) > 10 else ""))
    if lost := [n for n in before if n not in after]:
        parts.append("removed: " + ", ".join(lost[:10]) + (" ..." if len(lost) > 10 else ""))
    parts.append(f"+{added} -{removed} lines")
    return "; ".join(parts)


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise ProtocolError("not_found", f"no live document {name!r}; there are: {', '.join(KINDS)}", 404)
    return kind


class LiveVersions:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def context(self) -> Context:
        return Context(agents=await self.store.live.agent_ids() or None)

    async def check(self, name: str, source: str) -> Any:
        """The parsed document; raises ConfigErrors with every problem (off the event loop: a
        large FAQ takes a moment to check)."""
        kind = kind_of(name)
        ctx = await self.context()
        try:
            return await asyncio.to_thread(kind.check, source, ctx)
        except ConfigErrors:
            raise
        except ConfigError as exc:
            raise ConfigErrors([exc]) from None

    async def active_id(self, name: str) -> str:
        return await self.store.live.active_id(name)

    async def get(self, name: str, vid: str) -> dict[str, Any] | None:
        data = await self.store.live.version(name, vid)
        if not data:
            return None
        return {"kind": name, "version": data["version"], "source": data.get("source", ""),
                "diff": data.get("diff", ""), "author": data.get("author", ""), "at": float(data.get("at") or 0),
                "summary": data.get("summary", ""), "previous": data.get("previous") or None}

    async def active(self, name: str) -> dict[str, Any] | None:
        vid = await self.active_id(name)
        return await self.get(name, vid) if vid else None

    async def history(self, name: str, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.store.live.log(name, limit)
        active = await self.active_id(name)
        return [{"version": vid, "author": author, "at": at, "summary": summary, "active": vid == active}
                for vid, author, at, summary in rows]

    async def activate(self, name: str, source: str, author: str, expected: str, *, note: str = "",
                       parsed: Any = None) -> tuple[str, Any]:
        """Check `source` (unless `parsed` is its result) and make it the active version if
        `expected` still is. Raises ConfigErrors or StaleVersion, storing nothing; returns
        (the new version id, the parsed document)."""
        kind = kind_of(name)
        if parsed is None:
            parsed = await self.check(name, source)
        current = await self.active_id(name)
        if current != expected:
            raise StaleVersion(expected, current)
        old = await self.get(name, expected) if expected else None
        old_source = old["source"] if old else ""
        diff = "".join(difflib.unified_diff(old_source.splitlines(keepends=True), source.splitlines(keepends=True),
                                            fromfile=expected or "(none)", tofile="(new version)"))
        try:
            old_parsed = await self.check(name, old_source) if old else None
        except ConfigErrors:
            old_parsed = None  # an old version that a newer check refuses: summarize as new
        summary = summarize(kind, old_parsed, parsed, diff)
        if note:
            summary = f"{note}; {summary}"
        done = await self.store.run(LiveActivate(name, expected, source, author, time.time(), diff, summary))
        if not done.ok:
            raise StaleVersion(expected, done.version)
        return done.version, parsed
