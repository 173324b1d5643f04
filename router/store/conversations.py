"""Conversations as the API reads them: one hash per conversation, listed by index sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from router.models import Conversation, ConversationState
from router.store.keys import Keys

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def num(v: str | None) -> float | None:
    return float(v) if v not in (None, "") else None


def merge_record(decision: str | None, assignment: str | None) -> dict[str, Any] | None:
    """The decision record as clients see it: the rules' decision plus the latest choice of agent."""
    if not decision and not assignment:
        return None
    # msgspec, not json: every `assigned` frame and conversation read decodes both (the
    # assignment record lists each agent examined: a KB or two with 20 free), a few times faster.
    out: dict[str, Any] = _decode(decision) if decision else {}
    if assignment:
        out.update(_decode(assignment))
    return out


def sla_view(raw: str | None) -> dict[str, Any]:
    """A conversation's SLA as the API and frames show it; times are epoch seconds."""
    if not raw:
        return {"profile": None, "state": "none"}
    s: dict[str, Any] = _decode(raw)
    for key in ("first_response_due", "first_response_at", "next_response_due", "resolution_due",
                "resolved_at", "escalate_at", "escalated_at"):
        s.setdefault(key, None)
    if not isinstance(s.get("breaches"), dict):
        s["breaches"] = {}
    return s


def _bot(d: dict[str, str]) -> dict[str, Any] | None:
    if not d.get("bot_reason"):
        return None
    return {"reason": d["bot_reason"], "intent": d.get("bot_intent") or None,
            "order_id": d.get("bot_order_id") or None, "note": d.get("bot_note") or "",
            "handed_off_at": num(d.get("handed_off_at"))}


def _json(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    out: dict[str, Any] = _decode(raw)
    return out


def conversation(d: dict[str, str]) -> Conversation:
    """A conversation from its hash (the fields route.lua, resolve.lua and the others write)."""
    return Conversation(
        id=d.get("id") or "", customer_id=d.get("customer"), channel=d.get("channel"),
        account=d.get("account"), chat=d.get("chat"),
        state=ConversationState(d.get("state") or ConversationState.NEW),
        pool=d.get("pool") or None, agent=d.get("agent") or None,
        priority=int(d.get("priority") or 0), messages=int(d.get("messages") or 0),
        reopened=int(d.get("reopened") or 0), created=num(d.get("created")), updated=num(d.get("updated")),
        queued_at=num(d.get("queued_at")), assigned_at=num(d.get("assigned_at")),
        first_reply_at=num(d.get("first_reply_at")), closed_at=num(d.get("closed_at")),
        resolution=d.get("resolution") or None,
        decision=merge_record(d.get("decision"), d.get("assignment")),
        sla=sla_view(d.get("sla")), bot=_bot(d), linked_order=d.get("linked_order") or None,
        bot_turn=_json(d.get("bot_turn")),
        waiting=d.get("waiting") == "1", waiting_until=num(d.get("waiting_until")),
    )


READING_KEPT = 200
"""Conversations kept per agent in keys.agent_reading: older mentions no longer open customers."""


class Conversations:
    """Reads of conversations' routing state; every change goes through a script."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def _each(self, ids: list[str], command: Callable[[Any, str], Any]) -> list[Any]:
        """One command per conversation hash, in one round trip; the replies in the order asked."""
        if not ids:
            return []
        pipe = self._r.pipeline(transaction=False)
        for cid in ids:
            command(pipe, self._k.conv(cid))
        replies: list[Any] = await pipe.execute()
        return replies

    async def get(self, cid: str) -> Conversation | None:
        data: dict[str, str] = await self._r.hgetall(self._k.conv(cid))
        return conversation(data) if data else None

    async def read_mark(self, cid: str) -> str | None:
        """The newest message id the conversation's agent has seen (read_mark.lua), or None."""
        mark = await self._r.hget(self._k.conv(cid), "read")
        return str(mark) if mark else None

    async def add_readers(self, cid: str, agent_ids: tuple[str, ...], now: float) -> None:
        """Let agents named in a note read the conversation (keys.conv_readers, and each agent's
        keys.agent_reading). No routing script reads these keys, so plain writes do; a repeat
        changes nothing but the time."""
        if not agent_ids:
            return
        pipe = self._r.pipeline(transaction=False)
        pipe.sadd(self._k.conv_readers(cid), *agent_ids)
        for aid in agent_ids:
            pipe.zadd(self._k.agent_reading(aid), {cid: now})
            pipe.zremrangebyrank(self._k.agent_reading(aid), 0, -(READING_KEPT + 1))
        await pipe.execute()

    async def reading(self, aid: str) -> list[str]:
        """Conversations a note named the agent in, newest first (some may be gone since)."""
        return list(await self._r.zrevrange(self._k.agent_reading(aid), 0, -1))

    async def is_reader(self, cid: str, agent_id: str) -> bool:
        return bool(await self._r.sismember(self._k.conv_readers(cid), agent_id))

    async def many(self, ids: list[str]) -> list[Conversation]:
        """The ones that exist, in the order asked."""
        rows: list[dict[str, str]] = await self._each(ids, lambda pipe, key: pipe.hgetall(key))
        return [conversation(r) for r in rows if r]

    async def updated_before(self, before: str, offset: int, count: int,
                             lowest: str = "-inf") -> list[tuple[str, float]]:
        """(id, last update) of conversations updated at or before `before` (epoch s, or '+inf')
        and at or after `lowest`, newest first, skipping the first `offset`: the listing's pages
        walk the index by score."""
        page: list[tuple[str, float]] = await self._r.zrevrangebyscore(
            self._k.conv_index, before, lowest, start=offset, num=count, withscores=True)
        return page

    async def held(self, ids: list[str]) -> list[bool]:
        """Whether Redis still holds each conversation (the archive lists those it no longer does)."""
        return [bool(n) for n in await self._each(ids, lambda pipe, key: pipe.exists(key))]

    async def recent_ids(self, count: int) -> list[str]:
        """The `count` most recently updated conversation ids, newest first."""
        ids: list[str] = await self._r.zrevrange(self._k.conv_index, 0, count - 1)
        return ids

    async def queued_since(self, ids: list[str]) -> list[float]:
        """When each of these waiting conversations joined its queue (those that say)."""
        return [float(t) for t in await self._each(ids, lambda pipe, key: pipe.hget(key, "queued_at")) if t]

    async def bot_memory(self, cid: str) -> str | None:
        """The bot's remembered state (BotState JSON) for one conversation, if it has any."""
        state: str | None = await self._r.hget(self._k.bot(cid), "state")
        return state
