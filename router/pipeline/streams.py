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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from kefu_common.errors import StoreError
from router.store import Store
from router.store.client import REDIS_ERRORS
from router.store.keys import Keys
from router.supervisor import Loop

Entry = tuple[str, dict[str, str]]
"""A stream entry: its id and its fields."""

DEAD_LETTERS_MAXLEN = 10_000
"""Dead letters kept per stream; they are for a person to read, not an archive."""

log = logging.getLogger("kefu.streams")


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


async def ensure_group(store: Store, stream: str, group: str) -> None:
    try:
        await store.client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """Where a stream's poison entries go, and how often one is tried first."""

    stream: str
    tries: str
    """Hash: entry id -> failed tries so far."""
    max_tries: int = 3


class GroupConsumer:
    """This process's consumer in `group` on `stream`, under a name of its own."""

    def __init__(self, store: Store, stream: str, group: str, claim_idle_ms: int,
                 dead: DeadLetters | None = None) -> None:
        self.store = store
        self.stream = stream
        self.group = group
        self.claim_idle_ms = claim_idle_ms
        self.dead = dead
        self.name = consumer_name()
        self.dead_lettered = 0
        self._last_claim = 0.0

    async def ensure(self) -> None:
        await ensure_group(self.store, self.stream, self.group)

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
        start, entries, *_ = await self.store.client.xautoclaim(
            self.stream, self.group, self.name, min_idle_time=self.claim_idle_ms, start_id=start, count=count,
        )
        return start, [(eid, fields) for eid, fields in entries if fields]  # deleted since: no fields

    async def read(self, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer, waiting up to `block_ms` for the first."""
        resp = await self.store.client.xreadgroup(self.group, self.name, {self.stream: ">"},
                                                  count=count, block=block_ms)
        return [entry for _, entries in resp or [] for entry in entries]

    async def ack(self, ids: Sequence[str], also: Callable[[Any], None] | None = None) -> None:
        """The entries' effects are in Redis: forget them, and any failed tries they had. `also`
        queues more commands into the same round trip."""
        if not ids:
            return
        pipe = self.store.client.pipeline(transaction=False)
        if also is not None:
            also(pipe)
        pipe.xack(self.stream, self.group, *ids)
        pipe.xdel(self.stream, *ids)
        if self.dead is not None:
            pipe.hdel(self.dead.tries, *ids)
        await pipe.execute()

    async def failed(self, entry: Entry, reason: str, *, hopeless: bool = False,
                     also: Callable[[Any], None] | None = None) -> bool:
        """Count a failed try of `entry`; True when that moved it to the dead letters.

        `hopeless`: trying again cannot help (it does not parse), so it moves now. `also` queues
        more commands, on keys of the stream's hash tag, into the transaction that moves it.
        """
        if self.dead is None:
            raise TypeError(f"{self.stream}: no dead letters were given to this consumer")
        eid, fields = entry
        tries = 1 if hopeless else int(await self.store.client.hincrby(self.dead.tries, eid, 1))
        if not hopeless and tries < self.dead.max_tries:
            log.warning("%s entry %s failed (try %d of %d): %s", self.stream, eid, tries, self.dead.max_tries,
                        reason)
            return False
        pipe = self.store.client.pipeline(transaction=True)
        pipe.xadd(self.dead.stream, {
            "entry": eid, "fields": json.dumps(fields, ensure_ascii=False), "reason": reason[:2000],
            "tries": tries, "at": time.time(), "consumer": self.name,
        }, maxlen=DEAD_LETTERS_MAXLEN, approximate=True)
        pipe.xack(self.stream, self.group, eid)
        pipe.xdel(self.stream, eid)
        pipe.hdel(self.dead.tries, eid)
        if also is not None:
            also(pipe)
        await pipe.execute()
        self.dead_lettered += 1
        log.error("%s entry %s moved to the dead letters after %d tries: %s", self.stream, eid, tries, reason)
        return True


def dead_letter_streams(keys: Keys) -> dict[str, str]:
    """Each stream's name, as the API and `kefu dead-letters` say it, and its dead letters' key."""
    return {"inbound": keys.inbound_dead_letters, "outbound": keys.outbound_dead_letters,
            "archive": keys.archive_dead_letters}


async def dead_letter_counts(store: Store) -> dict[str, int]:
    """How many dead letters each stream holds: /readyz and the overview show them."""
    streams = dead_letter_streams(store.keys)
    pipe = store.client.pipeline(transaction=False)
    for key in streams.values():
        pipe.xlen(key)
    return {name: int(n) for name, n in zip(streams, await pipe.execute(), strict=True)}


async def dead_letters(store: Store, stream: str, count: int = 100) -> list[dict[str, Any]]:
    """The newest dead letters of `stream`, newest first, as an admin reads them."""
    rows = await store.client.xrevrange(stream, count=count)
    out = []
    for lid, f in rows:
        try:
            fields = json.loads(f.get("fields") or "{}")
        except ValueError:
            fields = {"raw": f.get("fields")}
        out.append({"id": lid, "entry": f.get("entry"), "reason": f.get("reason"),
                    "tries": int(f.get("tries") or 0), "at": float(f.get("at") or 0), "fields": fields})
    return out


class StreamLoop(Loop):
    """A service that consumes one stream's group in turns: the route worker and the sender.

    It owns this process's consumer, with its dead letters, and runs `_turn` until stopped,
    riding out Redis errors; what a turn does is the subclass's.
    """

    def __init__(self, store: Store, stream: str, group: str, claim_idle_ms: int, dead: DeadLetters) -> None:
        super().__init__()
        self.store = store
        self.keys = store.keys
        self.group = GroupConsumer(store, stream, group, claim_idle_ms, dead)
        self.running = False

    async def run(self) -> None:
        await self.group.ensure()
        self.running = True
        try:
            await keep_going(log, self.name, self._stopping, self._turn)
        finally:
            self.running = False

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
