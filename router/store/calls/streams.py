"""Calls of the standalone scripts, each in its own slot: streams with idempotency, rule versions,
ratings. Their keys come from the call, not the routing anchor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class Added:
    """An idempotent append: `new` the first time; `id` is the first time's id either way."""

    new: bool
    id: str


@dataclass(frozen=True, slots=True)
class Ingest(Call[Added]):
    """Append an accepted message to the inbound stream once per channel's dedupe key."""

    script: ClassVar[str] = "ingest"
    dedupe_key: str
    mid: str
    payload: bytes
    ttl_s: int
    ident: str
    """The sender's identity 'channel:account:user': its lines are numbered in order."""
    part: int = 0
    """The inbound partition (Store.inbound_partition): its stream and its idempotency keys."""

    def keys(self, k: Keys) -> list[str]:
        k = k.partition(self.part)
        return [k.inbound_seen(self.dedupe_key), k.inbound, k.inbound_line(self.ident)]

    def argv(self) -> list[Any]:
        return [self.mid, self.payload, self.ttl_s]

    def result(self, reply: Any) -> Added:
        return Added(bool(int(reply[0])), str(reply[1]))


@dataclass(frozen=True, slots=True)
class OutboxEnqueue(Call[Added]):
    """Queue a reply once per (author, client_msg_id), numbered in its conversation's order."""

    script: ClassVar[str] = "outbox_enqueue"
    author: str
    client_msg_id: str
    cid: str
    mid: str
    payload: bytes
    ttl_s: int
    part: int = 0
    """The conversation's outbound partition (Store.outbound_partition)."""

    def keys(self, k: Keys) -> list[str]:
        k = k.partition(self.part)
        return [k.outbound_seen(self.author, self.client_msg_id), k.outbound, k.outbound_seq(self.cid)]

    def argv(self) -> list[Any]:
        return [self.mid, self.payload, self.ttl_s]

    def result(self, reply: Any) -> Added:
        return Added(bool(int(reply[0])), str(reply[1]))


@dataclass(frozen=True, slots=True)
class AppendOnce(Call[Added]):
    """Append to a stream once per message id (a transcript, or a web chat feed that is also
    published to open pages)."""

    script: ClassVar[str] = "append_once"
    stream: str
    ids: str
    mid: str
    payload: str | bytes
    maxlen: int = 0
    """0: no cap."""
    channel: str = ""
    address: str = ""
    """Published as 'address\\nentry id\\npayload' on `channel`, when one is given."""
    bare: bool = False
    """Publish 'address\\nentry id\\n' only: that a line landed, not the line."""

    def keys(self, k: Keys) -> list[str]:
        return [self.stream, self.ids]

    def argv(self) -> list[Any]:
        return [self.mid, self.payload, self.maxlen, self.channel, self.address, "1" if self.bare else "0"]

    def result(self, reply: Any) -> Added:
        return Added(bool(int(reply[0])), str(reply[1]))


@dataclass(frozen=True, slots=True)
class Activated:
    ok: bool
    """False when another version was activated first (the pointer moved)."""
    version: str
    """The new version, or the current one when stale."""


@dataclass(frozen=True, slots=True)
class RulesActivate(Call[Activated]):
    script: ClassVar[str] = "rules_activate"
    expected: str
    source: str
    author: str
    at: float
    diff: str
    summary: str
    hash: str

    def keys(self, k: Keys) -> list[str]:
        return [k.rules_active, k.rules_seq, k.rules_log]

    def result(self, reply: Any) -> Activated:
        return Activated(reply[0] == "ok", str(reply[1]))


@dataclass(frozen=True, slots=True)
class LiveActivate(Call[Activated]):
    """A new version of one live configuration document (router/live), if `expected` is active."""

    script: ClassVar[str] = "live_activate"
    kind: str
    expected: str
    source: str
    author: str
    at: float
    diff: str
    summary: str

    def keys(self, k: Keys) -> list[str]:
        return [k.live_active(self.kind), k.live_seq(self.kind), k.live_log(self.kind)]

    def result(self, reply: Any) -> Activated:
        return Activated(reply[0] == "ok", str(reply[1]))


@dataclass(frozen=True, slots=True)
class CsatRecord(Call[bool]):
    """Record a rating and its indexes; False when the conversation was already rated."""

    script: ClassVar[str] = "csat_record"
    cid: str
    agent: str | None
    rating_json: str
    at: float

    def keys(self, k: Keys) -> list[str]:
        return [k.csat, k.csat_by_time, *([k.csat_agent(self.agent)] if self.agent else [])]

    def argv(self) -> list[Any]:
        return [self.cid, self.rating_json, self.at]

    def result(self, reply: Any) -> bool:
        return bool(reply)
