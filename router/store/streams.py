"""The inbound and outbound streams as consumer groups see them, and the outbox's bookkeeping:
per-conversation send order, sent marks and dead letters ({in} and {out} slots).

One `Streams` speaks for one partition: its keys are `Keys.partition(P)`, so every key a
transaction of it touches (the stream, its tries, its dead letters, a conversation's send order)
is in that partition's slot. The archive queue ({rt}) is consumed through the same calls.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from router.store.keys import Keys

log = logging.getLogger("kefu.streams")

Entry = tuple[str, dict[str, str]]
"""A stream entry: its id and its fields."""

DEAD_LETTERS_MAXLEN = 10_000
"""Dead letters kept per stream; they are for a person to read, not an archive."""

Finished = tuple[str, int]
"""(conversation id, reply number): that conversation's reply is finished (sent or dead), so its
next one may go. Written in the same round trip that acks the reply's entry."""


@dataclass(frozen=True, slots=True)
class Done:
    """Entries whose effects are in Redis, to be acked and deleted (`Streams.done`): with the
    failed tries to forget, a reply to mark finished, and each sender's last routed line."""

    ids: tuple[str, ...]
    tries: str | None = None
    finished: Finished | None = None
    routed: Mapping[str, int] | None = None
    routed_ttl_s: int = 0


@dataclass(frozen=True, slots=True)
class GroupState:
    """What a stream's consumer group has not finished, as /metrics shows it."""

    pending: int
    """Read by a consumer, not yet acked."""
    lag: int
    """Not yet read by any consumer."""


def entries_of(resp: Any) -> list[Entry]:
    """The entries of an XREADGROUP reply of one stream."""
    return [entry for _, entries in resp or [] for entry in entries]


class Streams:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    @property
    def keys(self) -> Keys:
        return self._k

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

    async def read_new(self, stream: str, group: str, consumer: str, count: int, block_ms: int | None,
                       done: Sequence[Done] = ()) -> list[Entry]:
        """New entries, waiting up to `block_ms` for the first (None: not at all); `done`, acked
        in the same round trip just before the read (Redis runs a pipeline's commands in order,
        so the acks land before the read starts waiting)."""
        if not done:
            resp = await self._r.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
            return entries_of(resp)
        pipe = self._r.pipeline(transaction=False)
        self.queue_read(pipe, stream, group, consumer, count, block_ms, done)
        return self.read_reply(stream, await pipe.execute(raise_on_error=False))

    def queue_read(self, pipe: Any, stream: str, group: str, consumer: str, count: int, block_ms: int | None,
                   done: Sequence[Done]) -> None:
        """Queue `done`'s acks and then the read into `pipe`; `read_reply` reads their replies."""
        for d in done:
            self.queue_done(pipe, stream, group, d)
        pipe.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)

    @staticmethod
    def read_reply(stream: str, replies: Sequence[Any]) -> list[Entry]:
        """The entries of what `queue_read` queued (its replies, errors as values)."""
        *acks, resp = replies
        if isinstance(resp, Exception):
            raise resp
        for err in (a for a in acks if isinstance(a, Exception)):
            # The read took its entries: raising would strand them until they are claimed. An
            # entry whose ack failed stays pending and comes back the same way, and its second
            # routing meets the `applied` marker.
            log.warning("%s: an ack sent with the read failed: %s", stream, err)
        return entries_of(resp)

    async def keep_claimed(self, stream: str, group: str, consumer: str, ids: list[str]) -> None:
        """Reset the idle clock of entries this consumer still works on, so nobody claims them."""
        await self._r.xclaim(stream, group, consumer, min_idle_time=0, message_ids=ids, justid=True)

    async def done(self, stream: str, group: str, ids: Sequence[str], *, tries: str | None = None,
                   finished: Finished | None = None, routed: Mapping[str, int] | None = None,
                   routed_ttl_s: int = 0) -> None:
        """Ack and delete entries whose effect is in Redis, and forget their failed `tries`; with
        `finished`, also record that conversation's reply as finished, and with `routed`, each
        sender identity's last routed line number, in the same round trip."""
        await self.done_all(stream, group, [Done(tuple(ids), tries, finished, routed, routed_ttl_s)])

    async def done_all(self, stream: str, group: str, done: Sequence[Done]) -> None:
        """Several `done` in one round trip."""
        pipe = self._r.pipeline(transaction=False)
        for d in done:
            self.queue_done(pipe, stream, group, d)
        await pipe.execute()

    def queue_done(self, pipe: Any, stream: str, group: str, d: Done) -> None:
        """Queue `done`'s commands into `pipe` (a caller's round trip)."""
        if d.finished is not None:
            pipe.set(self._k.outbound_done(d.finished[0]), d.finished[1])
        for ident, n in (d.routed or {}).items():
            pipe.set(self._k.inbound_routed(ident), n, ex=d.routed_ttl_s or None)
        pipe.xack(stream, group, *d.ids)
        pipe.xdel(stream, *d.ids)
        if d.tries is not None:
            pipe.hdel(d.tries, *d.ids)

    async def routed_upto(self, idents: Sequence[str]) -> dict[str, int]:
        """Each sender identity's last routed line number (0: none yet)."""
        if not idents:
            return {}
        pipe = self._r.pipeline(transaction=False)
        for ident in idents:
            pipe.get(self._k.inbound_routed(ident))
        return {ident: int(v or 0) for ident, v in zip(idents, await pipe.execute(), strict=True)}

    async def count_try(self, tries: str, eid: str) -> int:
        """One more failed try of an entry; how many it has had."""
        return int(await self._r.hincrby(tries, eid, 1))

    async def move_to_dead_letters(self, stream: str, group: str, dead: str, tries: str, entry: Entry,
                                   record: dict[str, Any], finished: Finished | None = None) -> None:
        """Move an entry to the stream's dead letters with `record` (reason, tries, ...), acking
        and deleting it in the same transaction: it is in one place or the other, never both."""
        eid, fields = entry
        pipe = self._r.pipeline(transaction=True)
        pipe.xadd(dead, {"entry": eid, "fields": json.dumps(fields, ensure_ascii=False), "at": time.time(),
                         **record}, maxlen=DEAD_LETTERS_MAXLEN, approximate=True)
        pipe.xack(stream, group, eid)
        pipe.xdel(stream, eid)
        pipe.hdel(tries, eid)
        if finished is not None:
            pipe.set(self._k.outbound_done(finished[0]), finished[1])
        await pipe.execute()

    async def group_state(self, stream: str) -> GroupState:
        """Pending and lag of the stream's consumer group. Redis 7 reports the lag; on 6.2 acked
        entries are deleted, so what is left beyond the pending ones is the lag."""
        try:
            groups = await self._r.xinfo_groups(stream)
        except ResponseError as exc:
            if "no such key" not in str(exc).lower():
                raise
            return GroupState(0, 0)
        if not groups:
            return GroupState(0, int(await self._r.xlen(stream)))
        pending = int(groups[0].get("pending") or 0)
        lag = groups[0].get("lag")
        if lag is None:
            lag = max(int(await self._r.xlen(stream)) - pending, 0)
        return GroupState(pending, int(lag))

    async def length(self, stream: str) -> int:
        return int(await self._r.xlen(stream))

    async def newest(self, stream: str, count: int) -> list[Entry]:
        return [(eid, fields) for eid, fields in await self._r.xrevrange(stream, count=count)]

    async def replies_finished(self, cid: str) -> int:
        """The highest reply number finished (sent or dead) in a conversation."""
        return int(await self._r.get(self._k.outbound_done(cid)) or 0)

    def queue_was_sent(self, pipe: Any, mid: str) -> None:
        """Whether a reply went out (before a crash, say), asked in a caller's round trip: its
        reply is 1 when it did."""
        pipe.exists(self._k.outbound_sent(mid))

    def queue_mark_sent(self, pipe: Any, mid: str, ttl_s: int) -> None:
        """A reply went out, noted in a caller's round trip (before its entry's ack in it)."""
        pipe.set(self._k.outbound_sent(mid), "1", ex=ttl_s)

    async def dead_letter(self, fields: dict[str, Any], maxlen: int) -> None:
        await self._r.xadd(self._k.dead, fields, maxlen=maxlen, approximate=True)
