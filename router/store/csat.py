"""Customer satisfaction ratings ({csat} slot): one JSON record per conversation, indexed by time
overall and per agent. csat_record.lua writes a rating with its indexes."""

from __future__ import annotations

from typing import Any

from router.store.keys import Keys

_CHUNK = 500
"""Ratings read per HMGET, so a long report does not block Redis with one huge reply."""


class Ratings:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def rated(self, cid: str) -> bool:
        return bool(await self._r.hexists(self._k.csat, cid))

    async def between(self, since: float | None, until: float | None, agent: str | None = None) -> list[str]:
        """The rating records (JSON) in [since, until], oldest first, for one agent or all."""
        index = self._k.csat_agent(agent) if agent else self._k.csat_by_time
        ids: list[str] = await self._r.zrangebyscore(index, "-inf" if since is None else since,
                                                     "+inf" if until is None else until)
        out: list[str] = []
        for start in range(0, len(ids), _CHUNK):
            rows: list[str | None] = await self._r.hmget(self._k.csat, ids[start:start + _CHUNK])
            out.extend(row for row in rows if row)
        return out

    async def ask(self, identity: str, cid: str, ttl_s: float) -> None:
        """Remember that `identity` was asked to rate `cid`, for `ttl_s`."""
        await self._r.set(self._k.csat_asked(identity), cid, px=max(1, int(ttl_s * 1000)))

    async def take_asked(self, identity: str) -> str | None:
        """The conversation `identity` was asked to rate, if the prompt is still open; the
        prompt is answered by this (GETDEL), so one reply counts."""
        cid: str | None = await self._r.getdel(self._k.csat_asked(identity))
        return cid

    async def asked(self, identity: str) -> bool:
        return bool(await self._r.exists(self._k.csat_asked(identity)))
