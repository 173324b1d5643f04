"""Calls of the outbound-webhook scripts: an event emitted from Python (a reply the channel took,
a note, a rating) onto the event stream, and one event's delivery to one webhook queued once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class HookEmit(Call[bool]):
    """True when the event was written (some webhook is on, and it was not written before)."""

    script: ClassVar[str] = "hook_emit"
    event_key: str
    type: str
    cid: str
    data: str
    now: float
    seen_ttl_s: int

    def result(self, reply: Any) -> bool:
        return bool(int(reply))


@dataclass(frozen=True, slots=True)
class HookEnqueue(Call[bool]):
    """True when the delivery was queued now, False when it had been before."""

    script: ClassVar[str] = "hook_enqueue"
    hook: str
    delivery: str
    type: str
    cid: str
    body: str
    now: float
    record_ttl_s: int
    log_keep: int

    def keys(self, k: Keys) -> list[str]:
        return [k.hook_delivery(self.hook, self.delivery), k.hook_log(self.hook), k.hook_seq(self.hook, self.cid),
                k.hook_deliveries]

    def result(self, reply: Any) -> bool:
        return bool(int(reply))
