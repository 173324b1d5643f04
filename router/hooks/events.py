"""The event types a webhook can subscribe to, and the body and signature every delivery has."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

EVENT_TYPES = (
    "conversation.created",
    "conversation.assigned",
    "conversation.transferred",
    "conversation.closed",
    "message.created",
    "csat.created",
    "sla.breached",
)
"""message.created covers the customer's messages (`direction` in), replies (out) and the
internal notes agents see (note)."""

SIGNATURE_HEADER = "X-Kefu-Signature"
EVENT_HEADER = "X-Kefu-Event"
DELIVERY_HEADER = "X-Kefu-Delivery"


def event_id(entry_id: str) -> str:
    """An event's id: its entry on the event stream, so every retry and redelivery carries it."""
    return f"evt_{entry_id.replace('-', '_')}"


def body(eid: str, etype: str, ts: float, data: dict[str, Any]) -> str:
    """The JSON every delivery POSTs: {id, type, ts, data}."""
    return json.dumps({"id": eid, "type": etype, "ts": ts, "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def sign(secret: str, payload: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the exact body bytes with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_ok(secret: str, payload: bytes, given: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return bool(given) and hmac.compare_digest(sign(secret, payload), given or "")
