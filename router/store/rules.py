"""Routing-rule versions ({rules} slot) as read back, and the scan of past decisions that the
rule history replays. Activation is one script (calls.streams.RulesActivate)."""

from __future__ import annotations

from typing import Any

from router.store.keys import Keys


class RuleRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def active_id(self) -> str:
        """The active version id, '' before the first activation."""
        return str(await self._r.get(self._k.rules_active) or "")

    async def version(self, vid: str) -> dict[str, str]:
        """One version's hash ({} when there is no such version)."""
        data: dict[str, str] = await self._r.hgetall(self._k.rules_version(vid))
        return data

    async def log(self, limit: int) -> list[tuple[str, str, float, str]]:
        """(version, author, at, summary), newest first."""
        ids: list[str] = await self._r.zrevrange(self._k.rules_log, 0, limit - 1)
        pipe = self._r.pipeline(transaction=False)
        for vid in ids:
            pipe.hmget(self._k.rules_version(vid), "author", "at", "summary")
        rows = await pipe.execute()
        return [(vid, r[0] or "", float(r[1] or 0), r[2] or "") for vid, r in zip(ids, rows, strict=True)]

    async def active_since(self, since: float | None) -> int:
        """How many conversations were active since `since` (all, when None)."""
        return int(await self._r.zcount(self._k.conv_index, since if since is not None else "-inf", "+inf"))

    async def decided_page(self, since: float | None, offset: int, count: int,
                           transcript_limit: int) -> list[tuple[str, dict[str, str], list[Any], list[Any]]]:
        """A page of conversations active since `since`, oldest activity first: (id, its hash,
        the customer's [segment, tags], its first `transcript_limit` transcript entries)."""
        ids: list[str] = await self._r.zrangebyscore(self._k.conv_index, since if since is not None else "-inf",
                                                     "+inf", start=offset, num=count)
        if not ids:
            return []
        pipe = self._r.pipeline(transaction=False)
        for cid in ids:
            pipe.hgetall(self._k.conv(cid))
        convs: list[dict[str, str]] = await pipe.execute()
        pipe = self._r.pipeline(transaction=False)
        for conv in convs:
            pipe.hmget(self._k.customer(conv.get("customer") or "-"), "segment", "tags")
            pipe.xrange(self._k.transcript(conv.get("id") or "-"), count=transcript_limit)
        rows = await pipe.execute()
        return [(cid, conv, rows[2 * i], rows[2 * i + 1]) for i, (cid, conv) in enumerate(zip(ids, convs, strict=True))]
