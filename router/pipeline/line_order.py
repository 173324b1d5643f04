"""A customer's lines are routed in the order they wrote them: the route worker's in-order check.

Several processes read one partition of the inbound stream, so a sender's consecutive lines may
be read by different ones. Line n of a sender goes once line n-1 is routed, by this batch or
before; the rest are held for a later turn of the worker (up to `hold_s`). Redis is asked only
about senders whose previous line this process did not route itself: with one worker process,
or a sender whose lines keep reaching the same one, that is none; and a sender's line 1 (a new
customer's first line: most of a peak's new chats) waits for nothing.
"""

from __future__ import annotations

import logging
import time

from router.models import Message
from router.pipeline.streams import Entry
from router.store.streams import Streams

log = logging.getLogger("kefu.worker")

HOLD_S = 5.0
"""Longest a customer's line waits for their previous one to be routed by another process."""
ROUTED_HERE_MAX = 100_000
"""Senders whose last routed line this process remembers (a few MB); the least recent go first."""


class LineOrder:
    def __init__(self, streams: Streams, claim_idle_ms: int) -> None:
        self.streams = streams
        self.held: dict[str, tuple[Entry, float]] = {}
        """Entries read whose sender's previous line is not routed yet (another process has it),
        by entry id, with when they were first held. They stay pending, and go in a later turn."""
        self._held_since: dict[str, float] = {}
        self._routed_here: dict[str, int] = {}
        """Sender identity -> the highest line number this process routed and acked, least recent
        first. Every line up to it is routed, so the sender's next line may go without asking
        Redis; a line after a gap, or of a sender not here (new, forgotten, another process's,
        or this process restarted), asks Redis as before."""
        self.hold_s = min(HOLD_S, claim_idle_ms / 4000)
        """Longest a line waits for its predecessor: less than the claim-idle time, so nobody
        takes it back meanwhile. A predecessor that long away went with a dead process; its
        line then comes back by XAUTOCLAIM after this one."""

    def take_held(self) -> list[Entry]:
        """The entries held in the last turn, for this one (each keeps when it was first held)."""
        held = [entry for entry, _ in self.held.values()]
        self._held_since = {eid: since for eid, (_, since) in self.held.items()}
        self.held.clear()
        return held

    async def ready(self, msgs: list[tuple[str, Message]], by_id: dict[str, dict[str, str]]
                        ) -> tuple[list[tuple[str, Message]], dict[str, tuple[str, int]]]:
        """The lines that may be routed now, in stream order, and each numbered line's (sender
        identity, number). Line n of a sender goes once line n-1 is routed, by this batch or
        before; the rest are held for a later turn (up to `hold_s`)."""
        lines: dict[str, tuple[str, int]] = {}
        for eid, m in msgs:
            number = by_id[eid].get("n")
            if number:  # entries accepted before lines were numbered go as they come
                lines[eid] = (f"{m.channel}:{m.account}:{m.sender_ref}", int(number))
        if not lines:
            return msgs, lines
        first: dict[str, int] = {}
        for ident, n in lines.values():
            first[ident] = min(n, first.get(ident, n))
        here = self._routed_here
        upto = {ident: here[ident] for ident, n in first.items() if ident in here and n <= here[ident] + 1}
        # A sender's line 1 waits for nothing, so only senders with an earlier line are asked about.
        upto.update((ident, 0) for ident, n in first.items() if n == 1 and ident not in upto)
        ask = sorted(ident for ident in first if ident not in upto)
        if ask:
            upto.update(await self.streams.routed_upto(ask))
        now = time.monotonic()
        ready = []
        for eid, m in msgs:
            if eid not in lines:
                ready.append((eid, m))
                continue
            ident, n = lines[eid]
            since = self._held_since.get(eid, now)
            if n <= upto[ident] + 1 or now - since >= self.hold_s:
                if n > upto[ident] + 1:
                    log.warning("line %d of %s waited %.1fs for line %d; routing it now", n, ident, now - since,
                                upto[ident] + 1)
                upto[ident] = max(upto[ident], n)
                ready.append((eid, m))
            else:
                self.held[eid] = ((eid, by_id[eid]), since)
        return ready, lines

    def remember(self, routed: dict[str, int]) -> None:
        """Note the lines this process just acked (`_routed_here`), forgetting the least recent
        senders past ROUTED_HERE_MAX."""
        here = self._routed_here
        for ident, n in routed.items():
            n = max(n, here.pop(ident, 0))
            here[ident] = n
        while len(here) > ROUTED_HERE_MAX:
            del here[next(iter(here))]
