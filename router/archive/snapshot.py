"""Everything Redis knows about one closed conversation, as the rows the archive writes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from router.models import Direction, Message, Sender, decode_message
from router.store import Store
from router.store.transcripts import with_attachments


@dataclass(slots=True)
class Snapshot:
    """One conversation's archive row, its messages and its events (column name -> value)."""

    row: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def version(self) -> int:
        return int(self.row["version"])


def json_or_text(raw: str | None) -> Any:
    """A JSON field as data; kept as text if some older writer stored something else (also the
    archive's JSON columns: router/archive/db.py), rather than failing the whole view."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _text(s: str | None) -> str:
    """Text as both databases keep it: PostgreSQL's text cannot hold NUL, which a customer can
    send; U+FFFD stands in for it, as for any character that cannot be shown."""
    return (s or "").replace("\x00", "\ufffd")


def _media(m: Message) -> str | None:
    """The media ref as JSON (the archive's `media` column is text); a message from before the
    media store keeps the channel's reference string."""
    if m.media is not None:
        return msgspec.json.encode(m.media).decode()
    return m.native_media


def _direction(m: Message) -> str:
    """The `direction` column: a supervisor's whisper (router/ops/supervise.py) is kept apart from
    other notes, since only supervisors read it once archived."""
    return "whisper" if m.whisper_to() is not None else m.direction.value


def _num(v: str | None) -> float | None:
    return float(v) if v not in (None, "") else None


def readers_of(agent: str | None, named: set[str], trail: list[str]) -> set[str]:
    """Who besides supervisors may read the conversation once archived, as they could while it was
    live: its agent, the agents its notes named, and those who transferred it away (also from the
    trail, for transfers made before transfer.lua kept them as readers)."""
    out = set(named) | ({agent} if agent else set())
    for raw in trail:
        e = json.loads(raw)
        if e.get("kind") == "transfer" and e.get("from"):
            out.add(str(e["from"]))
    return out


async def take(store: Store, cid: str, *, live: bool = False) -> Snapshot | None:
    """The conversation as the archive keeps it; None unless it exists and is closed. `live`:
    an open one too, as the reports count it for today (no close time, no resolution time)."""
    conv, trail, encoded, delivery, rating, readers = await store.archive.conversation(cid)
    if not conv or (conv.get("state") != "closed" and not live):
        return None
    is_closed = conv.get("state") == "closed"
    cust = conv.get("customer") or ""
    customer, idents = await store.archive.customer(cust)
    # With the files fetched for customers' messages since they were appended.
    msgs = with_attachments([decode_message(m) for m in encoded], await store.transcripts.attachments(cid))
    rows = [{
        "conversation_id": cid, "seq": i, "id": m.id, "direction": _direction(m), "sender": m.sender.value,
        "kind": m.kind.value, "author": m.agent_id, "text": _text(m.text), "ts": m.ts, "media": _media(m),
        "delivery": delivery.get(m.id),
    } for i, m in enumerate(msgs)]
    events = []
    dropped = int(conv.get("trail_dropped") or 0)  # the trail is capped; its numbers stay true
    for i, raw in enumerate(trail, start=dropped):
        e = json.loads(raw)
        events.append({"conversation_id": cid, "seq": i, "kind": str(e.get("kind", "")), "at": float(e.get("at", 0)),
                       "agent": e.get("agent") or (e.get("to") if e.get("outcome") == "assigned" else None) or None,
                       "pool": e.get("pool") or None, "data": raw})
    created = _num(conv.get("created")) or 0.0
    closed = (_num(conv.get("closed_at")) or created) if is_closed else None
    first_in = next((m.ts for m in msgs if m.direction is Direction.IN), None)
    first_agent = next((m.ts for m in msgs if m.sender is Sender.AGENT and m.direction is Direction.OUT
                        and first_in is not None and m.ts >= first_in), None)
    sla = conv.get("sla")
    sla_data = json_or_text(sla)
    breaches = sla_data.get("breaches") if isinstance(sla_data, dict) else None
    bot_outcome = ("resolved" if conv.get("resolution") == "bot" else
                   "handed_off" if conv.get("bot_reason") else None)
    csat = json_or_text(rating) if rating else {}
    csat = csat if isinstance(csat, dict) else {}
    bot = ({"reason": conv.get("bot_reason"), "intent": conv.get("bot_intent") or None,
            "order_id": conv.get("bot_order_id") or None, "note": conv.get("bot_note") or "",
            "handed_off_at": _num(conv.get("handed_off_at"))} if conv.get("bot_reason") else None)
    # Kept as Redis holds them, so the archive's view merges them as the live one does.
    decision = {"decision": conv.get("decision"), "assignment": conv.get("assignment")}
    row = {
        "id": cid, "version": int(conv.get("archive_v") or 1), "customer_id": cust,
        "customer_name": _text(customer.get("name")), "channel": conv.get("channel") or "",
        "account": conv.get("account") or "", "chat": conv.get("chat") or "",
        "identities": json.dumps(sorted(idents)), "state": conv.get("state") or "closed",
        "pool": conv.get("pool") or None,
        "agent": conv.get("agent") or None, "priority": int(conv.get("priority") or 0), "created": created,
        "queued_at": _num(conv.get("queued_at")), "assigned_at": _num(conv.get("assigned_at")),
        "first_reply_at": _num(conv.get("first_reply_at")), "closed_at": closed,
        "resolution": conv.get("resolution") or None, "reopened": int(conv.get("reopened") or 0),
        "messages_in": sum(1 for m in msgs if m.direction is Direction.IN),
        "messages_out": sum(1 for m in msgs if m.direction is Direction.OUT),
        "first_response_s": first_agent - first_in if first_agent is not None and first_in is not None else None,
        "resolution_s": closed - created if closed is not None else None,
        "sla_breaches": len(breaches) if isinstance(breaches, dict) else 0,
        "bot_outcome": bot_outcome, "csat_rating": csat.get("rating"),
        "csat_comment": None if csat.get("comment") is None else _text(csat.get("comment")),
        "csat_at": csat.get("at"), "decision": json.dumps(decision, ensure_ascii=False), "sla": sla,
        "bot": json.dumps(bot, ensure_ascii=False) if bot else None,
        "bot_turn": conv.get("bot_turn") or None, "archived_at": time.time(),
        "readers": json.dumps(sorted(readers_of(conv.get("agent"), readers, trail))),
    }
    return Snapshot(row, rows, events)
