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
from typing import Any

from router.archive.db import DB_ERRORS, Archive
from router.archive.snapshot import Snapshot, take
from router.archive.tokens import tokens
from router.pipeline.streams import Entry, GroupConsumer, keep_going
from router.store import Store
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
        await asyncio.to_thread(tokens, "预热")  # jieba loads its dictionary off the event loop
        await self.consumer.ensure()
        await keep_going(log, "archive worker", self._stopping, self._turn)

    async def _turn(self) -> None:
        entries: list[Entry] = []
        if self._retry:
            # Our own pending entries first: they failed on the database a moment ago.
            resp = await self.store.client.xreadgroup(ARCHIVE_GROUP, self.consumer.name,
                                                      {self.consumer.stream: "0"}, count=self.batch_size)
            entries = [e for _, es in resp or [] for e in es if e[1]]
            self._retry = bool(entries)
        if not entries and self.consumer.claim_due():
            _, entries = await self.consumer.claim(self.batch_size)
        if not entries:
            entries = await self.consumer.read(self.batch_size, self.block_ms)
        try:
            if entries:
                await self.handle_batch(entries)
        except DB_ERRORS as exc:
            self._retry, self.outage = True, True
            self._backoff = min(BACKOFF_MAX_S, max(0.2, self._backoff * 2))
            log.warning("archive unavailable, retrying in %.1fs (nothing is lost): %s", self._backoff, exc)
            await asyncio.sleep(self._backoff)
            return
        if entries:
            self.outage, self._backoff = False, 0.0

    async def handle(self, eid: str, fields: dict[str, str]) -> None:
        await self.handle_batch([(eid, fields)])

    async def handle_batch(self, entries: list[Entry]) -> None:
        """Write the entries' conversations in one transaction, then mark and ack them; a
        database error propagates with nothing acked."""
        snaps: dict[str, Snapshot] = {}
        for _, fields in entries:
            cid = fields.get("cid", "")
            # None: reopened since (its next close enqueues again) or already dropped by
            # retention (which needs it archived first): nothing left to do for this entry.
            snap = await take(self.store, cid) if cid and cid not in snaps else None
            if snap is not None:
                snaps[cid] = snap
        if snaps:
            self.written += sum(await self.archive.write_many(list(snaps.values())))
        def marks(pipe: Any) -> None:
            for cid, snap in snaps.items():
                self.store.scripts.queue(pipe, "archived", [self.store.keys.conv_index], [cid, snap.version])

        if snaps:
            for res in await self.store.scripts.run(self.store.client, marks):
                if isinstance(res, Exception):
                    raise res  # unacked: the batch is written again, which changes nothing
        ids = [eid for eid, _ in entries]
        pipe = self.store.client.pipeline(transaction=False)
        pipe.xack(self.consumer.stream, ARCHIVE_GROUP, *ids)
        pipe.xdel(self.consumer.stream, *ids)
        await pipe.execute()

    async def backlog(self) -> int:
        """Closed conversations waiting to be archived (acked entries are deleted)."""
        n: int = await self.store.client.xlen(self.store.keys.archive_queue)
        return n
