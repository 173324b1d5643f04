"""One consumer of a Redis stream's consumer group, as the route worker and the sender use it.

Both read new entries in batches (XREADGROUP) and, every half claim-idle period, take back entries
a consumer that died left pending (XAUTOCLAIM); both keep going through Redis errors. What they do
with the entries differs, so that stays with them.

A poison entry never stops a loop. An entry whose handling failed stays pending, and comes back
by XAUTOCLAIM after the claim-idle time; its failed tries are counted in Redis, so the bound holds
whichever process takes it. At `max_tries`, or at once when it can never succeed (it does not
parse), it moves to the stream's dead letters with the reason, in the same transaction that acks
it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kefu_common.errors import StoreError
from router.store import Store
from router.store.client import REDIS_ERRORS
from router.store.streams import Done, Finished, Streams
from router.store.streams import Entry as Entry
from router.supervisor import Loop

log = logging.getLogger("kefu.streams")


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """Where a stream's poison entries go, and how often one is tried first."""

    stream: str
    tries: str
    """Hash: entry id -> failed tries so far."""
    max_tries: int = 3


class GroupConsumer:
    """This process's consumer in `group` on `stream`, under a name of its own. `streams` is the
    store's view of the partition the stream belongs to (the store's first by default)."""

    def __init__(self, store: Store, stream: str, group: str, claim_idle_ms: int,
                 dead: DeadLetters | None = None, streams: Streams | None = None) -> None:
        self.streams = streams or store.streams
        self.stream = stream
        self.group = group
        self.claim_idle_ms = claim_idle_ms
        self.dead = dead
        self.name = consumer_name()
        self.dead_lettered = 0
        self._last_claim = 0.0
        self._done: list[Done] = []
        """Acks that go out with the next read (`ack_with_read`)."""

    async def ensure(self) -> None:
        await self.streams.ensure_group(self.stream, self.group)

    def claim_due(self) -> bool:
        """True at most once every half claim-idle period: a dead consumer's entries are taken back
        soon after they pass the limit, and a sweep costs little."""
        now = time.monotonic()
        if now - self._last_claim > self.claim_idle_ms / 2000:
            self._last_claim = now
            return True
        return False

    async def claim(self, count: int, start: str = "0-0") -> tuple[str, list[Entry]]:
        """One XAUTOCLAIM page of entries idle past the limit: (where the next page starts, or
        "0-0" at the end; the entries that still exist)."""
        return await self.streams.claim_idle(self.stream, self.group, self.name, self.claim_idle_ms, start, count)

    async def read(self, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer, waiting up to `block_ms` for the first; the acks
        `ack_with_read` kept go first, in the same round trip."""
        done = self._take_done()
        try:
            return await self.streams.read_new(self.stream, self.group, self.name, count, block_ms, done)
        except BaseException:
            self.keep_done(done)  # not sent, or not known to be: they go with the next try
            raise

    def read_along(self, count: int) -> ReadAlong:
        """A read that rides in another round trip's pipeline (the route worker's routes), with
        the acks kept so far, and does not wait: `queue` it, then give `entries` the replies."""
        return ReadAlong(self, count, self._take_done())

    def _take_done(self) -> list[Done]:
        done, self._done = self._done, []
        return done

    def keep_done(self, done: list[Done]) -> None:
        """Acks taken for a round trip that failed: they go with the next read, first."""
        self._done = done + self._done

    async def keep_claimed(self, ids: list[str]) -> None:
        await self.streams.keep_claimed(self.stream, self.group, self.name, ids)

    async def ack(self, ids: Sequence[str], finished: Finished | None = None,
                  routed: Mapping[str, int] | None = None, routed_ttl_s: int = 0) -> None:
        """The entries' effects are in Redis: forget them, and any failed tries they had;
        `finished` and `routed` go into the same round trip (router.store.streams.Streams.done)."""
        if not ids:
            return
        await self.streams.done(self.stream, self.group, ids, tries=self.dead.tries if self.dead else None,
                                finished=finished, routed=routed, routed_ttl_s=routed_ttl_s)

    def queue_ack(self, pipe: Any, ids: Sequence[str], finished: Finished | None = None) -> None:
        """As `ack`, queued into a caller's round trip (a sender's after a reply went out)."""
        self.streams.queue_done(pipe, self.stream, self.group,
                                Done(tuple(ids), self.dead.tries if self.dead else None, finished))

    def ack_with_read(self, ids: Sequence[str], routed: Mapping[str, int] | None = None,
                      routed_ttl_s: int = 0) -> None:
        """As `ack`, sent with the next `read` instead of in a round trip of its own.

        A consumer that reads again as soon as a batch is done loses nothing by it: Redis runs
        the acks just before the read, about when a separate ack would have landed, and the
        loop does not wait for the ack's answer before asking for more. At a peak the route
        worker's turn was a read, the routing and an ack, each waiting its turn on a busy event
        loop; this takes one of three round trips off every batch. `flush` sends what is kept
        (the loop's end)."""
        if ids:
            self._done.append(Done(tuple(ids), self.dead.tries if self.dead else None, None, routed,
                                   routed_ttl_s))

    async def flush(self) -> None:
        """Send the acks kept for the next read now."""
        done = self._take_done()
        if not done:
            return
        try:
            await self.streams.done_all(self.stream, self.group, done)
        except BaseException:
            self.keep_done(done)
            raise

    async def failed(self, entry: Entry, reason: str, *, hopeless: bool = False,
                     finished: Finished | None = None) -> bool:
        """Count a failed try of `entry`; True when that moved it to the dead letters.

        `hopeless`: trying again cannot help (it does not parse), so it moves now. `finished` is
        written in the transaction that moves it.
        """
        if self.dead is None:
            raise TypeError(f"{self.stream}: no dead letters were given to this consumer")
        eid, _ = entry
        tries = 1 if hopeless else await self.streams.count_try(self.dead.tries, eid)
        if not hopeless and tries < self.dead.max_tries:
            log.warning("%s entry %s failed (try %d of %d): %s", self.stream, eid, tries, self.dead.max_tries,
                        reason)
            return False
        await self.streams.move_to_dead_letters(
            self.stream, self.group, self.dead.stream, self.dead.tries, entry,
            {"reason": reason[:2000], "tries": tries, "consumer": self.name}, finished)
        self.dead_lettered += 1
        log.error("%s entry %s moved to the dead letters after %d tries: %s", self.stream, eid, tries, reason)
        return True


class ReadAlong:
    """GroupConsumer.read_along: its acks and its read, queued into a pipeline someone else sends."""

    def __init__(self, consumer: GroupConsumer, count: int, done: list[Done]) -> None:
        self._c, self._count, self._done = consumer, count, done

    def queue(self, pipe: Any) -> None:
        c = self._c
        c.streams.queue_read(pipe, c.stream, c.group, c.name, self._count, None, self._done)

    def entries(self, replies: Sequence[Any]) -> list[Entry]:
        """Its entries, from the replies of what `queue` queued (errors as values). A read that
        failed brings none: the turn's own read comes next and meets the error itself."""
        try:
            return self._c.streams.read_reply(self._c.stream, replies)
        except REDIS_ERRORS as exc:
            log.warning("%s: a read along with the routes failed: %s", self._c.stream, exc)
            return []

    def unsent(self) -> None:
        """The pipeline failed: the acks go with the next read."""
        self._c.keep_done(self._done)


DEAD_LETTER_STREAMS = ("inbound", "outbound", "archive")
"""The streams with dead letters, as the API and `kefu dead-letters` name them."""


def _dead_keys(store: Store, name: str) -> list[tuple[Streams, str]]:
    """Where a stream's dead letters are: one key per partition of the inbound and outbound
    streams, and the archive queue's one."""
    if name == "archive":
        return [(store.streams, store.keys.archive_dead_letters)]
    parts = [store.streams_of(p) for p in range(store.partitions)]
    return [(part, part.keys.inbound_dead_letters if name == "inbound" else part.keys.outbound_dead_letters)
            for part in parts]


async def dead_letter_counts(store: Store) -> dict[str, int]:
    """How many dead letters each stream holds, over all its partitions: /readyz and the
    overview show them."""
    return {name: sum([await streams.length(key) for streams, key in _dead_keys(store, name)])
            for name in DEAD_LETTER_STREAMS}


async def dead_letters(store: Store, name: str, count: int = 100) -> list[dict[str, Any]]:
    """The newest dead letters of the `name` stream (DEAD_LETTER_STREAMS) over all its
    partitions, newest first, as an admin reads them."""
    rows: list[Entry] = []
    for streams, key in _dead_keys(store, name):
        rows += await streams.newest(key, count)
    out = []
    for lid, f in rows:
        try:
            fields = json.loads(f.get("fields") or "{}")
        except ValueError:
            fields = {"raw": f.get("fields")}
        out.append({"id": lid, "entry": f.get("entry"), "reason": f.get("reason"),
                    "tries": int(f.get("tries") or 0), "at": float(f.get("at") or 0), "fields": fields})
    out.sort(key=lambda d: d["at"], reverse=True)
    return out[:count]


class StreamLoop(Loop):
    """A service that consumes one partition of a stream's group in turns: the route worker and
    the sender, one of each per partition in every process.

    It owns this process's consumer, with its dead letters, and runs `_turn` until stopped,
    riding out Redis errors; what a turn does is the subclass's. `self.keys` are the partition's.
    """

    def __init__(self, store: Store, part: int, stream: str, group: str, claim_idle_ms: int,
                 dead: DeadLetters) -> None:
        super().__init__()
        self.store = store
        self.part = part
        self.streams = store.streams_of(part)
        self.keys = self.streams.keys
        self.group = GroupConsumer(store, stream, group, claim_idle_ms, dead, self.streams)
        self.running = False
        if store.partitions > 1:
            self.name = f"{type(self).name} {part}"  # each partition's loop is supervised on its own

    async def run(self) -> None:
        await self.group.ensure()
        self.running = True
        try:
            await keep_going(log, self.name, self._stopping, self._turn)
        finally:
            self.running = False
            try:
                await self._settle()
            except REDIS_ERRORS as exc:
                # Unacked entries stay pending: another consumer claims them, and their routes
                # are applied already, so nothing happens twice.
                log.warning("%s: acks not sent at stop: %s", self.name, exc)

    async def _settle(self) -> None:
        """At the loop's end: send the acks kept for a next read that will not come."""
        await self.group.flush()

    async def _turn(self) -> None:
        raise NotImplementedError


def failure(exc: BaseException) -> str:
    """An exception as a dead letter's reason: its type, which says more than most messages."""
    return f"{type(exc).__name__}: {exc}"


async def keep_going(log: logging.Logger, what: str, stopping: asyncio.Event,
                     turn: Callable[[], Awaitable[None]]) -> None:
    """Run `turn` until `stopping` is set; a Redis error (or a write not yet replicated) costs a
    second's pause, not the loop."""
    while not stopping.is_set():
        try:
            await turn()
        except (*REDIS_ERRORS, StoreError) as exc:
            log.warning("%s: Redis error, retrying in 1s: %s", what, exc)
            await asyncio.sleep(1)
