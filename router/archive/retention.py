"""Retention: archived conversations leave Redis, and the archive prunes what is too old.

A conversation's Redis keys go `redis_after_close_s` after it closed, and only once the archive
holds its latest close (purge.lua checks both in the same step as the deletes). The customer,
their channel identities and their last agent (sticky routing) stay in Redis. The per-message
idempotency marks of its messages go too: a channel retries a webhook for minutes, not for the
retention time. Archive rows older than `archive_days` are pruned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from router.archive.db import DB_ERRORS, Archive
from router.models import WEBCHAT, Direction, decode_message
from router.pipeline.streams import keep_going
from router.store import Store
from router.store.calls.background import Purge

log = logging.getLogger("kefu.retention")

PAGE = 200
PRUNE_EVERY_S = 3600.0


class Retention:
    name = "retention"

    def __init__(self, store: Store, archive: Archive, redis_after_close_s: float, archive_days: float,
                 interval_s: float = 60.0) -> None:
        self.store = store
        self.archive = archive
        self.after_s = redis_after_close_s
        self.archive_days = archive_days
        self.interval_s = interval_s
        self._stopping = asyncio.Event()
        self._last_prune = 0.0
        self.purged = 0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        ready = asyncio.ensure_future(self.archive.ready.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait([ready, stopping], return_when=asyncio.FIRST_COMPLETED)
        for f in (ready, stopping):
            f.cancel()

        async def turn() -> None:
            await self.sweep()
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
            except TimeoutError:
                pass

        await keep_going(log, "retention", self._stopping, turn)

    async def sweep(self, now: float | None = None) -> int:
        """One pass: drop what is due from Redis, finish earlier drops, prune the archive hourly."""
        now = time.time() if now is None else now
        before = now - self.after_s
        dropped = 0
        while not self._stopping.is_set():
            ids: list[str] = await self.store.client.zrangebyscore(self.store.keys.archive_done, "-inf", before,
                                                                   start=0, num=PAGE)
            if not ids:
                break
            for cid in ids:
                res = await self.store.run(Purge(cid, before))
                dropped += res == "ok"
            await self.finish()
            if len(ids) < PAGE:
                break
        await self.finish()
        self.purged += dropped
        if now - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = now
            try:
                pruned = await self.archive.prune(now - self.archive_days * 86400)
                if pruned:
                    log.info("archive: pruned %d conversations closed more than %g days ago", pruned, self.archive_days)
            except DB_ERRORS as exc:
                self._last_prune = 0.0
                log.warning("archive prune failed, will retry: %s", exc)
        return dropped

    async def finish(self) -> None:
        """Delete the transcript, feed entries and message marks of conversations whose routing
        keys are gone (keys.archive_purging); safe to repeat after a crash."""
        k = self.store.keys
        cursor = 0
        while True:
            cursor, todo = await self.store.client.hscan(k.archive_purging, cursor, count=PAGE)
            for cid, raw in todo.items():
                info = json.loads(raw)
                entries = await self.store.client.xrange(k.transcript(cid))
                msgs = [decode_message(f["m"]) for _, f in entries]
                pipe = self.store.client.pipeline(transaction=False)
                out = k.partition(self.store.outbound_partition(cid))  # where its replies' marks are
                for m in msgs:
                    if m.direction is Direction.IN:
                        part = self.store.inbound_partition(f"{m.channel}:{m.account}:{m.sender_ref}")
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
                for key in (k.transcript(cid), k.transcript_ids(cid), k.delivery(cid), out.outbound_seq(cid),
                            out.outbound_done(cid)):
                    pipe.delete(key)
                pipe.hdel(k.archive_purging, cid)
                await pipe.execute()
            if cursor == 0:
                return
