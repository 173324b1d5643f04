"""Calls of the scripts the background loops run: timers and SLA, queue texts, bot turns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call, opt, text
from router.store.calls.routing import Moved, _moved


@dataclass(frozen=True, slots=True)
class Claimed:
    next_due: float | None
    """The next due time or lease end, whichever is first; None when nothing waits."""
    timers: list[tuple[str, str]]
    """(timer id, data JSON); '' data means the timer was cancelled after it was due."""


@dataclass(frozen=True, slots=True)
class TimerClaim(Call[Claimed]):
    script: ClassVar[str] = "timer_claim"
    now: float
    lease_s: float
    limit: int

    def result(self, reply: Any) -> Claimed:
        return Claimed(float(reply[0]) if reply[0] else None,
                       [(str(t), str(d)) for t, d in zip(reply[1::2], reply[2::2], strict=True)])


@dataclass(frozen=True, slots=True)
class TimerAck(Call[int]):
    script: ClassVar[str] = "timer_ack"
    timer_ids: tuple[str, ...]

    def argv(self) -> list[Any]:
        return list(self.timer_ids)

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class Fired:
    outcome: str
    detail: str


@dataclass(frozen=True, slots=True)
class SlaFire(Call[Fired]):
    script: ClassVar[str] = "sla_fire"
    tid: str
    kind: str
    cid: str
    n: int
    now: float

    def result(self, reply: Any) -> Fired:
        return Fired(text(reply[0]), text(reply[1]))


@dataclass(frozen=True, slots=True)
class Texted:
    send: bool
    """This process should send the text (the position changed and the interval passed)."""
    n: int
    """The number of the text in this conversation, for its idempotent reply id."""
    settled: bool = False
    """Redis now holds this position as the last one texted (sent now or before): the same
    position again needs no call. False when the text waits for the interval to end."""


@dataclass(frozen=True, slots=True)
class QueueText(Call[Texted]):
    """Compare-and-set of the position last texted."""

    script: ClassVar[str] = "queue_text"
    cid: str
    position: int
    now: float
    interval_s: float

    def result(self, reply: Any) -> Texted:
        return Texted(reply[0] == "send", int(reply[1]), reply[0] in ("send", "same"))



@dataclass(frozen=True, slots=True)
class QueueAnnounce(Call[int]):
    """Send places in line: to a pool's first `limit` ('pool') or to one conversation ('conv')."""

    script: ClassVar[str] = "queue_announce"
    mode: str
    target: str
    limit: int

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class Turn:
    """A bot turn taken under a lease: the conversation's facts and the customer lines."""

    state_json: str
    human_replied: bool
    channel: str
    account: str
    chat: str
    customer: str
    pool: str
    linked_order: str | None
    lines: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class BotTake(Call[Turn | None]):
    """None when there is no turn to take (not due, leased, nothing pending, no longer the bot's)."""

    script: ClassVar[str] = "bot_take"
    cid: str
    now: float
    lease_s: float
    token: str

    def result(self, reply: Any) -> Turn | None:
        if reply[0] != "ok":
            return None
        state_json, human, channel, account, chat, customer, pool, linked = reply[1:9]
        return Turn(text(state_json), human == "1", text(channel), text(account), text(chat), text(customer),
                    text(pool), opt(linked), [json.loads(x) for x in reply[9:]])


@dataclass(frozen=True, slots=True)
class BotDone(Call[bool]):
    """Finish a turn; False when the lease was lost meanwhile."""

    script: ClassVar[str] = "bot_done"
    cid: str
    token: str
    taken: int
    state_json: str
    now: float
    turn_json: str = ""
    """The turn's record (topic, FAQ-vs-order arbitration, parts), kept as the conversation's
    `bot_turn`; empty keeps the previous one."""

    def result(self, reply: Any) -> bool:
        return bool(reply[0] == "ok")


@dataclass(frozen=True, slots=True)
class BotHandoff(Call[Moved]):
    """bot -> queued (-> assigned); status 'skip' when the conversation was no longer the bot's."""

    script: ClassVar[str] = "bot_handoff"
    cid: str
    now: float
    pool: str
    priority: int
    skills: tuple[str, ...]
    min_level: int
    reason: str
    intent: str
    order_id: str
    note: str

    def result(self, reply: Any) -> Moved:
        return _moved(reply)


@dataclass(frozen=True, slots=True)
class BotClose(Call[bool]):
    """Close a quiet bot conversation as resolved; False when it was not quiet or not the bot's."""

    script: ClassVar[str] = "bot_close"
    cid: str
    now: float
    idle_before: float

    def result(self, reply: Any) -> bool:
        return bool(reply[0] == "ok")


@dataclass(frozen=True, slots=True)
class Archived(Call[bool]):
    """The archive holds version `v` of a conversation; True when this marked it."""

    script: ClassVar[str] = "archived"
    cid: str
    v: int

    def result(self, reply: Any) -> bool:
        return bool(int(reply))


@dataclass(frozen=True, slots=True)
class Purge(Call[str]):
    """Retention: drop an archived conversation's routing keys; 'ok', or why not ('young', 'skip',
    'gone')."""

    script: ClassVar[str] = "purge"
    cid: str
    closed_before: float

    def result(self, reply: Any) -> str:
        return str(reply[0])
