"""The archive worker: reads the archive queue and writes each closed conversation, then acks.

An entry is acked only after its conversation's transaction committed, so a crash or a database
outage delays archiving and loses nothing: a database error leaves the batch pending on this
consumer and the worker retries it (backing off) before it reads anything new; a dead process's
entries are taken back by another with XAUTOCLAIM. A write is idempotent (router.archive.db), so
an entry read twice writes nothing twice.

A poison entry does not block the queue for ever. When a batch fails while the database still
answers, its conversations are written one at a time; one the database refuses (or whose Redis
record cannot be read) counts a failed try, and at `max_tries` moves to the archive's dead
letters (GET /api/v1/dead-letters, `kefu dead-letters`) while the rest are written and acked. An
outage counts nothing: every entry waits, however long it lasts.
"""

from __future__ import annotations

import asyncio
import logging

from kefu_common.errors import ArchiveError, ProtocolError
from router.archive.db import WRITE_ERRORS, Archive, reason, refused
from router.archive.snapshot import Snapshot, take
from router.archive.tokens import tokens
from router.pipeline.streams import DeadLetters, Entry, GroupConsumer, failure, keep_going
from router.store import Store
from router.store.calls.background import Archived
from router.store.keys import ARCHIVE_GROUP

log = logging.getLogger("kefu.archive")

BACKOFF_MAX_S = 5.0

UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, ProtocolError)
"""What reading a conversation's Redis record may raise when the record itself is bad (a trail
entry or message that does not decode): a poison entry, not an outage."""


class ArchiveWorker:
    name = "archive worker"

    def __init__(self, store: Store, archive: Archive, batch_size: int = 50, claim_idle_ms: int = 30_000,
                 block_ms: int = 1000, max_tries: int = 5) -> None:
        self.store = store
        self.archive = archive
        self.batch_size = batch_size
        self.block_ms = block_ms
        k = store.keys
        self.consumer = GroupConsumer(store, k.archive_queue, ARCHIVE_GROUP, claim_idle_ms,
                                      DeadLetters(k.archive_dead_letters, k.archive_tries, max_tries))
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
            entries = await self.store.archive.own_pending(self.consumer.name, self.batch_size)
            self._retry = bool(entries)
        if not entries and self.consumer.claim_due():
            _, entries = await self.consumer.claim(self.batch_size)
        if not entries:
            entries = await self.consumer.read(self.batch_size, self.block_ms)
        if not entries:
            return
        try:
            waiting = await self.handle_batch(entries)
        except ArchiveError as exc:
            self.outage = True
            await self._pause(f"{exc}; nothing is lost")
            return
        self.outage = False
        if waiting:
            await self._pause(f"{waiting} archive entr{'y' if waiting == 1 else 'ies'} failed")
        else:
            self._backoff = 0.0

    async def _pause(self, why: str) -> None:
        self._retry = True
        self._backoff = min(BACKOFF_MAX_S, max(0.2, self._backoff * 2))
        log.warning("%s, retrying in %.1fs", why, self._backoff)
        await asyncio.sleep(self._backoff)

    async def handle(self, eid: str, fields: dict[str, str]) -> None:
        await self.handle_batch([(eid, fields)])

    async def handle_batch(self, entries: list[Entry]) -> int:
        """Write the entries' conversations in one transaction, then mark and ack them.

        Raises ArchiveError, with nothing acked, when the database does not answer. Otherwise returns
        how many entries failed and stay pending for another try (those at `max_tries` went to
        the dead letters instead)."""
        snaps: dict[str, Snapshot] = {}
        owners: dict[str, list[Entry]] = {}
        bad: list[tuple[Entry, str, bool]] = []
        for entry in entries:
            cid = entry[1].get("cid", "")
            if not cid:
                bad.append((entry, "no conversation id in the entry", True))
                continue
            if cid in owners:
                owners[cid].append(entry)
                continue
            owners[cid] = [entry]
            try:
                # None: reopened since (its next close enqueues again) or already dropped by
                # retention (which needs it archived first): nothing left to do for this entry.
                snap = await take(self.store, cid)
            except UNREADABLE as exc:
                bad.append((entry, f"cannot read conversation {cid} from Redis: {failure(exc)}", False))
                del owners[cid]
                continue
            if snap is not None:
                snaps[cid] = snap
        if snaps:
            for cid, err in await self._write(snaps):
                del snaps[cid]
                bad += [(e, f"the archive refused conversation {cid}: {reason(err)}", False)
                        for e in owners.pop(cid)]
        if snaps:
            marks = await self.store.run_many([Archived(cid, snap.version) for cid, snap in snaps.items()])
            for res in marks:
                if isinstance(res, Exception):
                    raise res  # unacked: the batch is written again, which changes nothing
        await self.consumer.ack([eid for es in owners.values() for eid, _ in es])
        waiting = 0
        for entry, why, hopeless in bad:
            waiting += not await self.consumer.failed(entry, why, hopeless=hopeless)
        return waiting

    async def _write(self, snaps: dict[str, Snapshot]) -> list[tuple[str, BaseException]]:
        """Write the batch; on a failure with the database up, each conversation alone, so one
        bad row does not hold back the rest. Returns the conversations the database refused."""
        try:
            self.written += sum(await self.archive.write_many(list(snaps.values())))
            return []
        except WRITE_ERRORS as exc:
            if not refused(exc) or not await self.archive.answers():
                raise ArchiveError(f"the archive did not answer: {exc}") from exc
        out: list[tuple[str, BaseException]] = []
        for cid, snap in snaps.items():
            try:
                self.written += await self.archive.write(snap)
            except WRITE_ERRORS as exc:
                if not refused(exc) or not await self.archive.answers():
                    raise ArchiveError(f"the archive did not answer: {exc}") from exc
                out.append((cid, exc))
        return out

    async def backlog(self) -> int:
        """Closed conversations waiting to be archived (acked entries are deleted)."""
        return await self.store.archive.backlog()
