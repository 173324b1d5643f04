"""The inbound and outbound streams as consumer groups see them, and the outbox's bookkeeping:
per-conversation send order, sent marks and dead letters ({in} and {out} slots)."""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from router.store.keys import Keys

Entry = tuple[str, dict[str, str]]
"""A stream entry: its id and its fields."""


class Streams:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group (and the stream) unless it exists."""
        try:
            await self._r.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def claim_idle(self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str,
                         count: int) -> tuple[str, list[Entry]]:
        """One XAUTOCLAIM page: where the next page starts ('0-0' at the end), and the entries
        idle past the limit that still exist (a deleted one comes back without fields)."""
        nxt, entries, *_ = await self._r.xautoclaim(stream, group, consumer, min_idle_time=min_idle_ms,
                                                    start_id=start, count=count)
        return str(nxt), [(eid, fields) for eid, fields in entries if fields]

    async def read_new(self, stream: str, group: str, consumer: str, count: int, block_ms: int) -> list[Entry]:
        resp = await self._r.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
        return [entry for _, entries in resp or [] for entry in entries]

    async def keep_claimed(self, stream: str, group: str, consumer: str, ids: list[str]) -> None:
        """Reset the idle clock of entries this consumer still works on, so nobody claims them."""
        await self._r.xclaim(stream, group, consumer, min_idle_time=0, message_ids=ids, justid=True)

    async def done(self, stream: str, group: str, ids: list[str], *, finished: tuple[str, int] | None = None) -> None:
        """Ack and delete entries whose effect is in Redis; with `finished` (conversation id,
        reply number), also record that conversation's reply as finished, in the same round trip."""
        pipe = self._r.pipeline(transaction=False)
        if finished is not None:
            pipe.set(self._k.outbound_done(finished[0]), finished[1])
        pipe.xack(stream, group, *ids)
        pipe.xdel(stream, *ids)
        await pipe.execute()

    async def replies_finished(self, cid: str) -> int:
        """The highest reply number finished (sent or dead) in a conversation."""
        return int(await self._r.get(self._k.outbound_done(cid)) or 0)

    async def was_sent(self, mid: str) -> bool:
        return bool(await self._r.exists(self._k.outbound_sent(mid)))

    async def mark_sent(self, mid: str, ttl_s: int) -> None:
        await self._r.set(self._k.outbound_sent(mid), "1", ex=ttl_s)

    async def length(self, stream: str) -> int:
        return int(await self._r.xlen(stream))

    async def backlog(self, stream: str) -> tuple[int, int]:
        """(pending, lag) of the stream's one consumer group. Redis 7 reports the lag; on 6.2
        acked entries are deleted, so what is left beyond the pending ones is the lag."""
        groups = await self._r.xinfo_groups(stream)
        if not groups:
            return 0, await self.length(stream)
        pending = int(groups[0].get("pending") or 0)
        lag = groups[0].get("lag")
        if lag is None:
            return pending, max(await self.length(stream) - pending, 0)
        return pending, int(lag)

    async def dead_letter(self, fields: dict[str, Any], maxlen: int) -> None:
        await self._r.xadd(self._k.dead, fields, maxlen=maxlen, approximate=True)
