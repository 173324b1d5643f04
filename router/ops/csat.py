"""Customer satisfaction (CSAT): one 1-5 rating per closed conversation, and reports over them.

A rating is final: the first one a customer gives a conversation is kept and a second is refused
(`already_rated`), so a report never moves because someone clicked twice, and the agent a rating
counts for is the one who held the conversation when it closed. A conversation reopened after
it was rated keeps that rating.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from kefu_common.errors import ProtocolError
from router.models import WEBCHAT
from router.store import Store
from router.store.calls.streams import CsatRecord

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
        raise ProtocolError("too_long", f'"comment" is longer than {COMMENT_MAX} characters')
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
