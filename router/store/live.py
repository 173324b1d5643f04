"""Live configuration documents ({cfg} slot) as read back: pointers, versions, history.
Activation is one script (calls.streams.LiveActivate)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from router.store.keys import Keys


class LiveRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def logo(self) -> str:
        """The URL of the welcome card's logo an admin uploaded; '' when none."""
        return str(await self._r.get(self._k.webchat_logo) or "")

    async def set_logo(self, url: str) -> str:
        """Make `url` the uploaded logo ('' removes it); returns the one it replaced."""
        pipe = self._r.pipeline(transaction=True)
        pipe.get(self._k.webchat_logo)
        if url:
            pipe.set(self._k.webchat_logo, url)
        else:
            pipe.delete(self._k.webchat_logo)
        before, _ = await pipe.execute()
        return str(before or "")

    async def active_id(self, kind: str) -> str:
        """The active version id of `kind`, '' before the first activation."""
        return str(await self._r.get(self._k.live_active(kind)) or "")

    async def active_ids(self, kinds: Iterable[str]) -> dict[str, str]:
        """Every kind's active version id in one round trip (the sync's poll)."""
        kinds = list(kinds)
        pipe = self._r.pipeline(transaction=False)
        for kind in kinds:
            pipe.get(self._k.live_active(kind))
        rows = await pipe.execute()
        return {kind: str(v or "") for kind, v in zip(kinds, rows, strict=True)}

    async def version(self, kind: str, vid: str) -> dict[str, str]:
        """One version's hash ({} when there is no such version)."""
        data: dict[str, str] = await self._r.hgetall(self._k.live_version(kind, vid))
        return data

    async def log(self, kind: str, limit: int) -> list[tuple[str, str, float, str]]:
        """(version, author, at, summary), newest first."""
        ids: list[str] = await self._r.zrevrange(self._k.live_log(kind), 0, limit - 1)
        pipe = self._r.pipeline(transaction=False)
        for vid in ids:
            pipe.hmget(self._k.live_version(kind, vid), "author", "at", "summary")
        rows = await pipe.execute() if ids else []
        return [(vid, r[0] or "", float(r[1] or 0), r[2] or "") for vid, r in zip(ids, rows, strict=True)]

    async def add_pools(self, ids: Iterable[str]) -> None:
        """Make the pools known to the routing scripts (keys.pools); a pool is never removed here:
        its queue may still hold conversations."""
        ids = list(ids)
        if ids:
            await self._r.sadd(self._k.pools, *ids)

    async def agent_ids(self) -> set[str]:
        """The agents Redis knows (keys.agents): what a shift may name."""
        return set(await self._r.smembers(self._k.agents))
