"""Calls of the scripts that move conversations and agents (router/store/lua/*.lua, {rt} slot)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call, opt, text
from router.store.calls.streams import Added
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class Resolved:
    """The customer and open conversation of one inbound message; `dup` when already routed."""

    dup: bool
    customer: str = ""
    cid: str = ""
    state: str = ""
    messages: int = 0
    reopened: int = 0
    previous_pool: str | None = None
    segment: str = "new"
    tags: tuple[str, ...] = ()
    product: dict[str, Any] | None = None
    """What the customer's page shows (kefu('context', ...)), for rules' `product:`."""


@dataclass(frozen=True, slots=True)
class Resolve(Call[Resolved]):
    script: ClassVar[str] = "resolve"
    mid: str
    ident: str
    """'channel:account:user'."""
    new_customer: str
    new_cid: str
    now: float
    reopen_window_s: float
    channel: str
    account: str
    chat: str
    name: str
    avatar: str = ""

    def result(self, reply: Any) -> Resolved:
        return resolved(reply)


def resolved(reply: Any) -> Resolved:
    """resolve_line's answer (line_lib.lua): resolve.lua's reply, or the JSON an inbound entry
    carries when ingest_direct.lua resolved its line."""
    if reply[0] == "dup":
        return Resolved(dup=True)
    _, cust, cid, state, count, reopened, prev_pool, segment, tags, *rest = reply
    product = json.loads(rest[0]) if rest and rest[0] else None
    return Resolved(False, str(cust), str(cid), str(state), int(count), int(reopened), opt(prev_pool),
                    str(segment), tuple(json.loads(tags or "[]")),
                    product if isinstance(product, dict) else None)


@dataclass(frozen=True, slots=True)
class Moved:
    """Where a conversation is after a script moved it, and the queue frame its customer got."""

    status: str
    state: str = ""
    agent: str | None = None
    queue_frame: str = ""


@dataclass(frozen=True, slots=True)
class Routed(Moved):
    """A route's outcome, and its transcript append when the route made it (`Route.line`)."""

    appended: Added | None = None


def _moved(reply: Any) -> Moved:
    return Moved(str(reply[0]), text(reply[1]), opt(reply[2]) if len(reply) > 2 else None,
                 text(reply[3]) if len(reply) > 3 else "")


@dataclass(frozen=True, slots=True)
class Route(Call[Routed]):
    """Apply one routed message; status 'dup' when it already was."""

    script: ClassVar[str] = "route"
    mid: str
    cid: str
    now: float
    message_json: str
    pool: str
    priority: int
    skills: tuple[str, ...]
    min_level: int
    bot_first: bool
    decision_json: str
    applied_ttl_s: int
    bot_window_s: float
    plain: bool = False
    """No file of the channel's still to fetch: as the transcript shows the message, so does the
    event (a new chat's `assigned` event may then carry what its frame shows, lib.lua)."""
    line: str | bytes = ""
    """The transcript entry, appended first in the same script (one server only: the transcript
    is in another slot); the reply then says what `AppendOnce` would (`Routed.appended`)."""
    transcript_max: int = 0

    def result(self, reply: Any) -> Routed:
        moved = _moved(reply)
        appended = Added(reply[4] == "1", text(reply[5])) if len(reply) > 5 and self.line else None
        return Routed(moved.status, moved.state, moved.agent, moved.queue_frame, appended)


@dataclass(frozen=True, slots=True)
class Closed:
    agent: str | None
    """The agent it had."""
    already: bool
    """It was closed before this call, which changed nothing."""


@dataclass(frozen=True, slots=True)
class Close(Call[Closed]):
    """Close a conversation (again, harmlessly, when it is closed already)."""

    script: ClassVar[str] = "close"
    cid: str
    actor: str
    now: float
    resolution: str
    force: bool

    def refusal(self) -> str:
        return f"close {self.cid}"

    def result(self, reply: Any) -> Closed:
        return Closed(opt(reply[1]), len(reply) > 2 and text(reply[2]) == "1")


@dataclass(frozen=True, slots=True)
class Wait(Call[str]):
    """Park a chat waiting for the customer (until a time, or None: until they write), or take it
    back (`park` False); the result is 'waiting', 'woken' or 'active'."""

    script: ClassVar[str] = "wait"
    cid: str
    aid: str
    now: float
    until: float | None
    park: bool

    def refusal(self) -> str:
        return f"change waiting of {self.cid}"

    def result(self, reply: Any) -> str:
        return text(reply[1])


@dataclass(frozen=True, slots=True)
class Transferred:
    outcome: str
    to: str


@dataclass(frozen=True, slots=True)
class Transfer(Call[Transferred]):
    """To an agent or a pool (`kind`); the script owes the transfer note under `id`."""

    script: ClassVar[str] = "transfer"
    cid: str
    actor: str
    force: bool
    kind: str
    target: str
    now: float
    note: str
    id: str

    def refusal(self) -> str:
        return f"transfer {self.cid}"

    def result(self, reply: Any) -> Transferred:
        return Transferred(text(reply[1]), text(reply[2]))


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where an agent's reply goes."""

    channel: str
    account: str
    chat: str
    customer: str


@dataclass(frozen=True, slots=True)
class Reply(Call[ReplyTo]):
    """An agent may reply: stamps the first response (SLA) and quiets the bot."""

    script: ClassVar[str] = "reply"
    cid: str
    actor: str
    now: float
    force: bool

    def refusal(self) -> str:
        return f"reply in {self.cid}"

    def result(self, reply: Any) -> ReplyTo:
        return ReplyTo(text(reply[1]), text(reply[2]), text(reply[3]), text(reply[4]))


@dataclass(frozen=True, slots=True)
class Taken:
    """A line taken in by `IngestDirect`: `new` the first time (`id` is the first time's message
    id either way); `state` the conversation's when the line was routed in the same step
    (assigned or queued), '' when it went into the inbound stream."""

    new: bool
    id: str
    state: str = ""
    pool: str = ""
    cid: str = ""
    customer: str = ""
    opened: bool = False
    """The line opened its conversation in that step (`IngestOpen`)."""


@dataclass(frozen=True, slots=True)
class IngestDirect(Call[Taken]):
    """Take in a customer's text line, routing a follow-up to a held conversation at once
    (ingest_direct.lua); one server only, as its keys span slots."""

    script: ClassVar[str] = "ingest_direct"
    dedupe_key: str
    mid: str
    payload: bytes
    """The inbound stream's entry, as `Ingest` writes it."""
    ttl_s: int
    ident: str
    now: float
    message_json: str
    """The message as agents see it (Message.public)."""
    line_head: str
    """The transcript line around the conversation's and the customer's ids, which only the
    script knows: line_head + cid + line_middle + customer + line_tail."""
    line_middle: str
    line_tail: str
    window_s: float
    applied_ttl_s: int
    transcript_max: int
    name: str
    new_customer: str
    """For a line that opens a conversation, resolved here (Resolve's fields from here on)."""
    new_cid: str
    reopen_window_s: float
    channel: str
    account: str
    chat: str
    avatar: str = ""
    part: int = 0

    def keys(self, k: Keys) -> list[str]:
        p = k.partition(self.part)
        return [k.conv_index, p.inbound_seen(self.dedupe_key), p.inbound, p.inbound_line(self.ident),
                p.inbound_routed(self.ident)]

    def argv(self) -> list[Any]:
        # All but `part`, which picks the keys.
        return [self.mid, self.payload, self.ttl_s, self.ident, self.now, self.message_json, self.line_head,
                self.line_middle, self.line_tail, self.window_s, self.applied_ttl_s, self.transcript_max, self.name,
                self.new_customer, self.new_cid, self.reopen_window_s, self.channel, self.account, self.chat,
                self.avatar]

    def result(self, reply: Any) -> Taken:
        if not int(reply[0]):
            return Taken(False, str(reply[1]))
        if not reply[2]:
            return Taken(True, str(reply[1]))
        state, pool, cid, customer = (str(v) for v in reply[2:6])
        return Taken(True, str(reply[1]), state, pool, cid, customer)


@dataclass(frozen=True, slots=True)
class IngestOpen(Call[Taken | None]):
    """Take in the first line of a sender the router has never seen, with the rules' decision made
    before it (a new customer's facts are the defaults), and route it in the same step
    (ingest_open.lua). None when the sender is known by then or has a line still in the inbound
    stream: nothing was written, and the line is taken in with `IngestDirect`. One server only."""

    script: ClassVar[str] = "ingest_open"
    dedupe_key: str
    mid: str
    ttl_s: int
    ident: str
    now: float
    message_json: str
    """The message as agents see it, with its conversation's and customer's ids."""
    line: bytes
    """The transcript entry."""
    window_s: float
    applied_ttl_s: int
    transcript_max: int
    name: str
    customer: str
    """The ids the new customer and conversation get."""
    cid: str
    reopen_window_s: float
    channel: str
    account: str
    chat: str
    avatar: str
    pool: str
    """The decision, as `Route` carries it."""
    priority: int
    skills: tuple[str, ...]
    min_level: int
    bot_first: bool
    decision_json: str
    part: int = 0

    def keys(self, k: Keys) -> list[str]:
        p = k.partition(self.part)
        return [k.conv_index, p.inbound_seen(self.dedupe_key), p.inbound_line(self.ident), p.inbound_routed(self.ident)]

    def argv(self) -> list[Any]:
        return Call.argv(self)[1:-1]  # all but the dedupe key and `part`, which pick the keys

    def result(self, reply: Any) -> Taken | None:
        if int(reply[0]) == 2:
            return None
        if not int(reply[0]):
            return Taken(False, str(reply[1]))
        state, pool, cid, customer = (str(v) for v in reply[2:6])
        return Taken(True, str(reply[1]), state, pool, cid, customer, opened=True)
