"""Retention: archived conversations leave Redis, and the archive prunes what is too old.

A conversation's Redis keys go `redis_after_close_s` after it closed, and only once the archive
holds its latest close (purge.lua checks both in the same step as the deletes). The customer,
their channel identities and their last agent (sticky routing) stay in Redis. The per-message
idempotency marks of its messages go too: a channel retries a webhook for minutes, not for the
retention time. Archive rows older than `archive_days` are pruned, and the conversation's files
in the media store with them (a file lives as long as the history that shows it); uploads a web
chat customer never sent go after `media.pending_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from router.archive.db import DB_ERRORS, Archive
from router.media.base import MediaStore
from router.pipeline.streams import keep_going
from router.store import Store
from router.store.calls.background import Purge

log = logging.getLogger("kefu.retention")

PAGE = 200
PRUNE_EVERY_S = 3600.0


class Retention:
    name = "retention"

    def __init__(self, store: Store, archive: Archive, redis_after_close_s: float, archive_days: float,
                 interval_s: float = 60.0, media: MediaStore | None = None, pending_s: float = 86400.0) -> None:
        self.store = store
        self.archive = archive
        self.media = media
        self.pending_s = pending_s
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
            ids = await self.store.archive.due(before, PAGE)
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
                files = self.media.delete_conversations if self.media is not None else None
                pruned = await self.archive.prune(now - self.archive_days * 86400, files=files)
                if pruned:
                    log.info("archive: pruned %d conversations closed more than %g days ago", pruned, self.archive_days)
                if self.media is not None:
                    await self.media.sweep_pending(now - self.pending_s)
            except (*DB_ERRORS, OSError) as exc:
                self._last_prune = 0.0
                log.warning("archive prune failed, will retry: %s", exc)
        return dropped

    async def finish(self) -> None:
        """Delete the transcript, feed entries and message marks of conversations whose routing
        keys are gone (keys.archive_purging); safe to repeat after a crash."""
        cursor = 0
        while True:
            cursor, todo = await self.store.archive.purging_page(cursor, PAGE)
            for cid, info in todo.items():
                await self.store.archive.finish_purge(cid, info)
            if cursor == 0:
                return
