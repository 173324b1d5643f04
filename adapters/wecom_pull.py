"""Pulling a WeCom kf account's messages with `kf/sync_msg`, once, whatever the processes.

A callback only says "there is something for open_kfid X" (with a sync token). The callback
handler marks the kf account pending in Redis and acks; `drain` then reads pages until
`has_more` is 0:

- one process at a time per kf account holds the pull lock (SET NX with a lease, renewed before
  each page), and the cursor moves only by compare-and-set from the value the page was read at,
  after the page's messages are ingested: two processes never take the same page, and a holder
  whose lease lapsed stops at its next page;
- a process killed mid-page leaves the cursor where it was: the page is read again, and ingest's
  idempotency on (wecom, account, msgid) drops what was already taken;
- the pending marker is cleared (compare-and-set again) only after a pull read to the end, so a
  callback acked just before a `kill -9` is still pulled: by the sweep every process runs, which
  also retries pulls that failed (WeCom or Redis down);
- a callback that arrives while another process pulls finds the lock held and leaves it its
  marker; the holder looks once more after releasing the lock, so none is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from adapters.wecom_api import WecomApi
from router.store import Store

log = logging.getLogger("kefu.wecom")

Take = Callable[[list[Any]], Awaitable[None]]
"""Ingests one page's entries (skipping malformed ones); raises if any could not be made durable."""


class Puller:
    def __init__(self, account: str, api: WecomApi, store: Store, take: Take, *, limit: int = 1000,
                 lease_s: float = 30.0, sweep_s: float = 5.0) -> None:
        self.account = account
        self.api = api
        self.store = store
        self.records = store.wecom
        self.take = take
        self.limit = limit
        self.lease_ms = int(lease_s * 1000)
        self.sweep_s = sweep_s
        self.pages = 0
        """Pages this process read and ingested (tests, metrics)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def notify(self, kfid: str, token: str) -> None:
        """A callback named `kfid`: mark it pending (durable, before the ack), then pull off the
        request's path."""
        # Unique per callback, so the compare-and-set clearing an older marker keeps this one.
        await self.records.mark_pending(self.account, kfid, f"{time.time_ns()}:{secrets.token_hex(4)}:{token}")
        self._spawn(self.drain(kfid))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The marker stays; the sweep tries again.
            log.warning("wecom %s: pull failed, retried by the sweep: %s", self.account, exc)

    async def drain(self, kfid: str) -> None:
        """Pull `kfid` while it is pending, unless another process holds its pull lock."""
        lock = f"pull:{kfid}"
        while True:
            me = secrets.token_hex(8)
            if not await self.records.lock(self.account, lock, me, self.lease_ms):
                return  # the holder looks again after releasing it
            try:
                while (marker := await self.records.pending(self.account, kfid)) is not None:
                    if not await self._read_all(kfid, marker.split(":", 2)[2], lock, me):
                        return  # our lease lapsed: another process took over
                    await self.store.run(self.records.clear_pending(self.account, kfid, marker))
            finally:
                await self.store.run(self.records.release(self.account, lock, me))
            if await self.records.pending(self.account, kfid) is None:
                return

    async def _read_all(self, kfid: str, token: str, lock: str, me: str) -> bool:
        """Read pages to the end; False when the lock or the cursor was lost to another process."""
        while True:
            if not await self.records.extend(self.account, lock, me, self.lease_ms):
                return False
            cursor = await self.records.cursor(self.account, kfid)
            page = await self.api.sync_msg(kfid, cursor, token, self.limit)
            entries = page.get("msg_list")
            await self.take(entries if isinstance(entries, list) else [])
            self.pages += 1
            nxt = page.get("next_cursor")
            if isinstance(nxt, str) and nxt and nxt != cursor \
                    and not await self.store.run(self.records.advance(self.account, kfid, cursor, nxt)):
                log.warning("wecom %s: the cursor of %s moved under us; leaving the pull to its holder",
                            self.account, kfid)
                return False
            if not page.get("has_more"):
                return True

    async def sweep(self) -> None:
        """Pull every kf account left pending (a process killed after its ack, a failed pull)."""
        for kfid in await self.records.kfids(self.account):
            if await self.records.pending(self.account, kfid) is not None:
                await self.drain(kfid)

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # WeCom or Redis down: the next sweep tries again
                log.warning("wecom %s: sweep failed: %s", self.account, exc)
            await asyncio.sleep(self.sweep_s)

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_loop())

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._sweeper] if self._sweeper else [])]
        self._sweeper = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
