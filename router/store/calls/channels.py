"""Calls of the scripts the channel adapters need: a WeChat customer's reply quota and window,
a signed webhook's nonce, the release of a lock held under a token (the WeChat access-token
refresh), and a web chat page's history since the message it saw last. The webhook path's calls
are scripts so that they share a pipeline with the ingests made at the same moment
(router/store/coalesce.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class QuotaTake(Call[int]):
    """Replies left after this one; -1 when the window has closed, -2 when none are left."""

    script: ClassVar[str] = "quota_take"
    account: str
    openid: str
    quota: int

    def keys(self, k: Keys) -> list[str]:
        return [k.wechat_quota(self.account, self.openid)]

    def argv(self) -> list[Any]:
        return [self.quota]

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class WindowOpen(Call[None]):
    """The customer wrote: a fresh window with the full quota."""

    script: ClassVar[str] = "window_open"
    account: str
    openid: str
    now: float
    window_s: int

    def keys(self, k: Keys) -> list[str]:
        return [k.wechat_quota(self.account, self.openid)]

    def argv(self) -> list[Any]:
        return [self.now, self.window_s]

    def result(self, reply: Any) -> None:
        return None


@dataclass(frozen=True, slots=True)
class NonceFirst(Call[tuple[bool, str | None]]):
    """(True, None) for the first body under the nonce key; else (False, the digest remembered,
    None if it just lapsed)."""

    script: ClassVar[str] = "nonce_first"
    key: str
    digest: str
    ttl_s: int

    def keys(self, k: Keys) -> list[str]:
        return [self.key]

    def argv(self) -> list[Any]:
        return [self.digest, self.ttl_s]

    def result(self, reply: Any) -> tuple[bool, str | None]:
        if int(reply[0]) == 1:
            return True, None
        seen = reply[1] if len(reply) > 1 else None
        return False, (str(seen) if seen else None)


@dataclass(frozen=True, slots=True)
class QuotaRefund(Call[int]):
    script: ClassVar[str] = "quota_refund"
    account: str
    openid: str

    def keys(self, k: Keys) -> list[str]:
        return [k.wechat_quota(self.account, self.openid)]

    def argv(self) -> list[Any]:
        return []

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class LockRelease(Call[bool]):
    script: ClassVar[str] = "lock_release"
    lock: str
    token: str

    def keys(self, k: Keys) -> list[str]:
        return [self.lock]

    def argv(self) -> list[Any]:
        return [self.token]

    def result(self, reply: Any) -> bool:
        return bool(reply)


@dataclass(frozen=True, slots=True)
class CompareSet(Call[bool]):
    """Move `key` from `expected` ('' when absent) to `new` ('' deletes it); False when another
    process moved it first. The WeCom sync cursor and its pending-pull marker."""

    script: ClassVar[str] = "compare_set"
    key: str
    expected: str
    new: str

    def keys(self, k: Keys) -> list[str]:
        return [self.key]

    def argv(self) -> list[Any]:
        return [self.expected, self.new]

    def result(self, reply: Any) -> bool:
        return bool(reply)


@dataclass(frozen=True, slots=True)
class ReadMark(Call[bool]):
    """Move a conversation's read mark (the newest message its agent has seen) forward to
    `message_id`; False when it was already there or past it, or the conversation is gone."""

    script: ClassVar[str] = "read_mark"
    conversation_id: str
    message_id: str

    def keys(self, k: Keys) -> list[str]:
        return [k.conv(self.conversation_id)]

    def argv(self) -> list[Any]:
        return [self.message_id]

    def result(self, reply: Any) -> bool:
        return bool(reply)


@dataclass(frozen=True, slots=True)
class WindowTake(Call[int]):
    """quota_take.lua on any channel's window hash (WeCom's, under Keys.channel_state): replies
    left after this one, -1 when the window has closed, -2 when none are left."""

    script: ClassVar[str] = "quota_take"
    key: str
    quota: int

    def keys(self, k: Keys) -> list[str]:
        return [self.key]

    def argv(self) -> list[Any]:
        return [self.quota]

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class WindowRefund(Call[int]):
    """quota_refund.lua on any channel's window hash."""

    script: ClassVar[str] = "quota_refund"
    key: str

    def keys(self, k: Keys) -> list[str]:
        return [self.key]

    def argv(self) -> list[Any]:
        return []

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class FeedSince(Call[tuple[str, list[tuple[str, str]]]]):
    """(the feed entry the history starts after, [(entry id, frame), ...] after it) for a page that
    saw `last_seen` last ('' for none: the whole feed)."""

    script: ClassVar[str] = "feed_since"
    visitor: str
    last_seen: str
    count: int

    def keys(self, k: Keys) -> list[str]:
        return [k.feed(self.visitor), k.feed_ids(self.visitor)]

    def argv(self) -> list[Any]:
        return [self.last_seen, self.count]

    def result(self, reply: Any) -> tuple[str, list[tuple[str, str]]]:
        rest = reply[1:]
        return str(reply[0]), [(str(rest[i]), str(rest[i + 1])) for i in range(0, len(rest), 2)]
