"""Customer satisfaction (CSAT): one 1-5 rating per closed conversation, and reports over them.

A rating is final: the first one a customer gives a conversation is kept and a second is refused
(`already_rated`), so a report never moves because someone clicked twice, and the agent a rating
counts for is the one who held the conversation when it closed. A conversation reopened after
it was rated keeps that rating.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kefu_common.errors import ProtocolError
from router.hooks import emit as hooks
from router.models import WEBCHAT, Message
from router.store import Store
from router.store.calls.streams import CsatRecord

if TYPE_CHECKING:
    from router.config.settings import CsatSettings
    from router.pipeline.outbox import Outbox

COMMENT_MAX = 1000
REPORT_ROWS_MAX = 1000
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Rating:
    conversation_id: str
    agent: str | None
    rating: int
    comment: str
    at: float


def parse_frame(frame: dict[str, Any]) -> tuple[str, int, str]:
    """Check a customer's `csat` frame; return (conversation_id, rating, comment)."""
    cid = frame.get("conversation_id")
    if not isinstance(cid, str) or not cid.strip() or len(cid) > 128:
        raise ProtocolError("bad_frame", '"conversation_id" must be a non-empty string')
    rating = frame.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ProtocolError("bad_rating", '"rating" must be a whole number from 1 to 5')
    comment = frame.get("comment", "")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ProtocolError("bad_frame", '"comment" must be a string')
    if len(comment) > COMMENT_MAX:
        raise ProtocolError("too_long", f'"comment" is longer than {COMMENT_MAX} characters',
                            params={"field": "comment", "limit": COMMENT_MAX})
    return cid, rating, comment.strip()


class Csat:
    """Ratings in Redis: a hash by conversation plus time indexes overall and per agent."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.keys = store.keys

    async def customer_of(self, visitor: str) -> str | None:
        """The customer id behind a web chat visitor, once they have written."""
        return await self.store.customers.by_identity(WEBCHAT, "web", visitor)

    async def record(self, customer: str | None, cid: str, rating: int, comment: str,
                     now: float | None = None) -> Rating:
        """Store a rating for `customer`'s closed conversation; refuse anything else unchanged."""
        conv = await self.store.conversations.get(cid)
        if conv is None or customer is None or conv.customer_id != customer:
            # The same answer whether the conversation is missing or someone else's.
            raise ProtocolError("unknown_conversation", f"no conversation {cid} of yours")
        if conv.state != "closed":
            raise ProtocolError("not_closed", "a conversation can be rated once it is closed")
        r = Rating(cid, conv.agent, rating, comment, time.time() if now is None else now)
        if not await self.store.run(CsatRecord(cid, r.agent, json.dumps(asdict(r), ensure_ascii=False), r.at)):
            raise ProtocolError("already_rated", "this conversation has already been rated")
        # The archive may hold the conversation already: queue it again (same close version, so
        # the row is rewritten with the rating).
        await self.store.archive.requeue(cid, r.at)
        await hooks.emit(self.store, f"csat:{cid}", "csat.created", cid, {"conversation_id": cid, **asdict(r)})
        return r

    async def rated(self, cid: str) -> bool:
        return await self.store.ratings.rated(cid)

    async def ratings(self, since: float | None = None, until: float | None = None,
                      agent: str | None = None) -> list[Rating]:
        """Ratings in [since, until], oldest first, for one agent or all."""
        return [Rating(**json.loads(row)) for row in await self.store.ratings.between(since, until, agent)]


def report(ratings: list[Rating], rows: int = REPORT_ROWS_MAX) -> dict[str, Any]:
    """Count and average overall and per agent; the newest `rows` ratings one by one."""
    per_agent: dict[str, list[int]] = {}
    for r in ratings:
        if r.agent:
            per_agent.setdefault(r.agent, []).append(r.rating)
    newest = sorted(ratings, key=lambda r: r.at, reverse=True)[:rows]
    return {
        "overall": _summary([r.rating for r in ratings]),
        "agents": [{"agent": aid, **_summary(v)} for aid, v in sorted(per_agent.items())],
        "conversations": [asdict(r) for r in newest],
    }


def _summary(values: list[int]) -> dict[str, Any]:
    return {"count": len(values), "avg": round(sum(values) / len(values), 2) if values else None}


ASKED_CHANNELS = frozenset({"wechat", "telegram"})
"""Channels without a rating widget, whose customers are asked by text (web chat has its own)."""

_RATING = re.compile(r"\s*([1-5１-５])\s*(?:分|星)?\s*")


def rating_of(text: str) -> int | None:
    """A bare 1-5 (ASCII or full-width, optionally 分 or 星 after it) as a rating; else None."""
    m = _RATING.fullmatch(text or "")
    if m is None:
        return None
    d = m.group(1)
    return int(d) if d.isascii() else ord(d) - ord("０")


def may_be_rating(m: Message) -> bool:
    """A line `ChannelCsat.answer` might take as a rating: the route worker must see it."""
    return m.channel in ASKED_CHANNELS and rating_of(m.text) is not None


class ChannelCsat:
    """CSAT on WeChat and Telegram: a numbered text prompt after an agent's close, and the
    customer's bare 1-5 within `window_s` recorded as the rating instead of routed.

    Anything else the customer sends is routed as usual, and so is a number once the window has
    passed or once the conversation was reopened. The prompt is the outbox's (once per close);
    a crash between the close and the prompt loses the prompt, never a message."""

    def __init__(self, store: Store, outbox: Outbox, settings: CsatSettings) -> None:
        self.store = store
        self.outbox = outbox
        self.settings = settings
        self.csat = Csat(store)

    async def ask(self, cid: str) -> None:
        """After a close: prompt a WeChat or Telegram customer for a rating."""
        if not self.settings.ask_on_channels:
            return
        conv = await self.store.conversations.get(cid)
        if conv is None or conv.channel not in ASKED_CHANNELS or not conv.chat or conv.state != "closed":
            return
        if await self.csat.rated(cid):
            return
        await self.store.ratings.ask(f"{conv.channel}:{conv.account or ''}:{conv.chat}", cid, self.settings.window_s)
        # The close's own key (its time to the millisecond): asking again for the same close repeats
        # nothing, and a chat closed, reopened and closed again within one second is asked twice.
        close_ms = int((conv.closed_at or 0) * 1000)
        await self.outbox.tell(cid, f"csat-ask:{cid}:{close_ms}", self.settings.prompt)

    async def answer(self, m: Message) -> bool:
        """True when `m` was the customer's rating (recorded, thanked, not to be routed)."""
        if m.channel not in ASKED_CHANNELS:
            return False
        rating = rating_of(m.text)
        if rating is None:
            return False
        cid = await self.store.ratings.take_asked(f"{m.channel}:{m.account}:{m.sender_ref}")
        if cid is None:
            return False
        conv = await self.store.conversations.get(cid)
        try:
            await self.csat.record(conv.customer_id if conv else None, cid, rating, "", now=m.ts or None)
        except ProtocolError as exc:
            if exc.code != "already_rated":
                return False  # reopened since, or gone: the number is a message again
            return True
        await self.outbox.tell(cid, f"csat-thanks:{cid}", self.settings.thanks)
        return True
