"""The archive worker: reads the archive queue and writes each closed conversation, then acks.

An entry is acked only after its conversation's transaction committed, so a crash or a database
outage delays archiving and loses nothing: a database error leaves the batch pending on this
consumer and the worker retries it (backing off) before it reads anything new; a dead process's
entries are taken back by another with XAUTOCLAIM. A write is idempotent (router.archive.db), so
an entry read twice writes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging

from router.archive.db import DB_ERRORS, Archive
from router.archive.snapshot import take
from router.pipeline.streams import Entry, GroupConsumer, keep_going
from router.store import Store
from router.store.calls.background import Archived
from router.store.keys import ARCHIVE_GROUP

log = logging.getLogger("kefu.archive")

BACKOFF_MAX_S = 5.0


class ArchiveWorker:
    name = "archive worker"

    def __init__(self, store: Store, archive: Archive, batch_size: int = 50, claim_idle_ms: int = 30_000,
                 block_ms: int = 1000) -> None:
        self.store = store
        self.archive = archive
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.consumer = GroupConsumer(store, store.keys.archive_queue, ARCHIVE_GROUP, claim_idle_ms)
        self._stopping = asyncio.Event()
        self._retry = False
        self._backoff = 0.0
        self.written = 0
        self.outage = False
        """True while the database refuses; /readyz and the metrics say so."""

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        # Migrating here, not before start: an archive that is slow or down delays archiving,
        # never the router.
        if not await self.archive.migrate_until_done(self._stopping, log):
            return
        await self.consumer.ensure()
        await keep_going(log, "archive worker", self._stopping, self._turn)

    async def _turn(self) -> None:
        entries: list[Entry] = []
        if self._retry:
            # Our own pending entries first: they failed on the database a moment ago.
            entries = await self.store.archive.own_pending(self.consumer.name, self.batch_size)
            self._retry = bool(entries)
        if not entries and self.consumer.claim_due():
            _, entries = await self.consumer.claim(self.batch_size)
        if not entries:
            entries = await self.consumer.read(self.batch_size, self.block_ms)
        try:
            for eid, fields in entries:
                await self.handle(eid, fields)
        except DB_ERRORS as exc:
            self._retry, self.outage = True, True
            self._backoff = min(BACKOFF_MAX_S, max(0.2, self._backoff * 2))
            log.warning("archive unavailable, retrying in %.1fs (nothing is lost): %s", self._backoff, exc)
            await asyncio.sleep(self._backoff)
            return
        if entries:
            self.outage, self._backoff = False, 0.0

    async def handle(self, eid: str, fields: dict[str, str]) -> None:
        """Write one entry's conversation and ack it; a database error propagates unacked."""
        cid = fields.get("cid", "")
        snap = await take(self.store, cid) if cid else None
        # None: reopened since (its next close enqueues again) or already dropped by retention
        # (which needs it archived first). Either way this entry has nothing left to do.
        if snap is not None:
            if await self.archive.write(snap):
                self.written += 1
            await self.store.run(Archived(cid, snap.version))
        await self.store.archive.done(eid)

    async def backlog(self) -> int:
        """Closed conversations waiting to be archived (acked entries are deleted)."""
        return await self.store.archive.backlog()
