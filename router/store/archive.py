"""What the archive reads of a closed conversation, and its queue in Redis ({rt}: close.lua and
bot_close.lua enqueue in the same step as the close; archived.lua and purge.lua finish), and what
retention deletes after purge.lua (the keys in other slots)."""

from __future__ import annotations

import json
from typing import Any

from router.models import WEBCHAT, Direction, decode_message
from router.store.keys import ARCHIVE_GROUP, Keys


class ArchiveRecords:
    def __init__(self, client: Any, keys: Keys, partitions: int = 1) -> None:
        self._r = client
        self._k = keys
        self._partitions = partitions
        """Of the inbound and outbound streams: where the messages' marks are (Keys.partition)."""

    async def conversation(self, cid: str) -> tuple[dict[str, str], list[str], list[str], dict[str, str],
                                                    str | None, set[str]]:
        """(hash, trail entries, encoded messages, delivery statuses, rating JSON, readers) of one
        conversation, read in one round trip."""
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(self._k.conv(cid))
        pipe.lrange(self._k.conv_trail(cid), 0, -1)
        pipe.xrange(self._k.transcript(cid))
        pipe.hgetall(self._k.delivery(cid))
        pipe.hget(self._k.csat, cid)
        pipe.smembers(self._k.conv_readers(cid))
        conv, trail, entries, delivery, rating, readers = await pipe.execute()
        return conv, trail, [fields["m"] for _, fields in entries], delivery, rating, set(readers)

    async def customer(self, cust: str) -> tuple[dict[str, str], set[str]]:
        """(the customer's hash, their channel identities)."""
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(self._k.customer(cust))
        pipe.smembers(self._k.customer_identities(cust))
        customer, idents = await pipe.execute()
        return customer, set(idents)

    async def requeue(self, cid: str, at: float) -> None:
        """Write the conversation again (e.g. rated after it was archived), at its close version."""
        version = await self._r.hget(self._k.conv(cid), "archive_v")
        await self._r.xadd(self._k.archive_queue, {"cid": cid, "v": version or "1", "at": at})

    async def own_pending(self, consumer: str, count: int) -> list[tuple[str, dict[str, str]]]:
        """This consumer's entries read but not acked (they failed on the database)."""
        resp = await self._r.xreadgroup(ARCHIVE_GROUP, consumer, {self._k.archive_queue: "0"}, count=count)
        return [e for _, es in resp or [] for e in es if e[1]]

    async def done(self, eid: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.xack(self._k.archive_queue, ARCHIVE_GROUP, eid)
        pipe.xdel(self._k.archive_queue, eid)
        await pipe.execute()

    async def backlog(self) -> int:
        """Closed conversations waiting to be archived (acked entries are deleted)."""
        return int(await self._r.xlen(self._k.archive_queue))

    async def states_page(self, cursor: int, count: int) -> tuple[int, list[tuple[str, str | None, str | None,
                                                                               str | None]]]:
        """One ZSCAN page of all conversations: (next cursor, [(id, state, close version,
        archived version)])."""
        cursor, page = await self._r.zscan(self._k.conv_index, cursor, count=count)
        ids = [cid for cid, _ in page]
        pipe = self._r.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(self._k.conv(cid), "state", "archive_v", "archived_v")
        rows = await pipe.execute() if ids else []
        return int(cursor), [(cid, *row) for cid, row in zip(ids, rows, strict=True)]

    async def unarchived_since(self, since: float, limit: int) -> list[str]:
        """Conversations updated at or after `since` whose latest state the archive lacks: open
        ones, and closed ones not yet written (or reopened since). At most `limit`, newest first."""
        ids: list[str] = await self._r.zrevrangebyscore(self._k.conv_index, "+inf", since, start=0, num=limit)
        pipe = self._r.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(self._k.conv(cid), "state", "archive_v", "archived_v")
        rows = await pipe.execute() if ids else []
        return [cid for cid, (state, version, archived) in zip(ids, rows, strict=True)
                if state is not None and (state != "closed" or archived != (version or "1"))]

    async def total(self) -> int:
        return int(await self._r.zcard(self._k.conv_index))

    async def due(self, closed_before: float, count: int) -> list[str]:
        """Archived conversations closed before `closed_before`, oldest first, at most `count`."""
        ids: list[str] = await self._r.zrangebyscore(self._k.archive_done, "-inf", closed_before, start=0, num=count)
        return ids

    async def purging_page(self, cursor: int, count: int) -> tuple[int, dict[str, dict[str, Any]]]:
        """One HSCAN page of conversations whose routing keys purge.lua dropped and whose other
        keys are still to go: (next cursor, {id: {channel, chat, closed_at}})."""
        cursor, page = await self._r.hscan(self._k.archive_purging, cursor, count=count)
        return int(cursor), {cid: json.loads(raw) for cid, raw in page.items()}

    async def finish_purge(self, cid: str, info: dict[str, Any]) -> None:
        """Delete the transcript, delivery statuses, reply bookkeeping, web chat feed entries up to
        the close and the messages' idempotency marks of a conversation purge.lua dropped, then
        forget it from keys.archive_purging; safe to repeat after a crash."""
        k = self._k
        entries = await self._r.xrange(k.transcript(cid))
        msgs = [decode_message(f["m"]) for _, f in entries]
        pipe = self._r.pipeline(transaction=False)
        out = k.partition(Keys.partition_of(cid, self._partitions))  # where its replies' marks are
        for m in msgs:
            if m.direction is Direction.IN:
                part = Keys.partition_of(f"{m.channel}:{m.account}:{m.sender_ref}", self._partitions)
                pipe.delete(k.partition(part).inbound_seen(m.dedupe_key()))
                pipe.delete(k.applied(m.id))
            else:
                pipe.delete(out.outbound_sent(m.id))
        if info.get("channel") == WEBCHAT and info.get("chat"):
            # The visitor's feed keeps later conversations' frames: trim only up to this close.
            cut = int(float(info.get("closed_at") or 0) * 1000) + 1
            pipe.xtrim(k.feed(info["chat"]), minid=f"{cut}-0")
            if msgs:
                pipe.hdel(k.feed_ids(info["chat"]), *[m.id for m in msgs])
        for key in (k.transcript(cid), k.transcript_ids(cid), k.delivery(cid), k.attachments(cid),
                    out.outbound_seq(cid), out.outbound_done(cid)):
            pipe.delete(key)
        pipe.hdel(k.archive_purging, cid)
        await pipe.execute()
