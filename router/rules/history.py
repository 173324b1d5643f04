"""The router's decision history in Redis, read back as trace records (routing_rules/trace.py).

Each conversation keeps the decision record of its last routing and its transcript; the input of
that decision is rebuilt from the message that triggered it (the first customer message, or for
a reopened conversation the last one sent before the decision), the conversation hash (channel,
account, reopened, previous pool) and the customer (segment, tags). The customer's segment and
tags are read as they are now, so a customer who became a VIP since replays as a VIP.

Used by `kefu rules export-trace`, `kefu rules replay` without --trace, and
POST /api/v1/rules/replay. Reading never writes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from router.models import Direction, Message, decode_message
from router.store import Store
from routing_rules.model import RuleInput
from routing_rules.trace import RecordedDecision, TraceRecord

PAGE = 200
MAX_TRANSCRIPT = 500
"""Transcript entries read per conversation; the trigger lies far earlier only in odd cases."""


def _stamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _record(cid: str, conv: dict[str, str], cust: list[str | None], entries: list[Any]) -> TraceRecord | None:
    try:
        dec = json.loads(conv.get("decision") or "null")
    except ValueError:
        return None
    if not isinstance(dec, dict) or not isinstance(dec.get("pool"), str):
        return None
    decided = float(dec.get("decided_at") or conv.get("created") or 0)
    inbound: list[Message] = []
    for _, fields in entries:
        try:
            m = decode_message(fields["m"])
        except (KeyError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        if m.direction is Direction.IN:
            inbound.append(m)
    if not inbound:
        return None
    idx = 0
    reopened = int(conv.get("reopened") or 0) > 0
    if reopened:
        before = [i for i, m in enumerate(inbound) if m.ts <= decided]
        idx = before[-1] if before else 0
    m = inbound[idx]
    segment, tags = cust[0] or "new", cust[1] or "[]"
    inp = RuleInput(
        text=m.text, channel=m.channel, account=m.account, now=_stamp(m.ts or decided),
        kind=m.kind.value, customer_tags=frozenset(str(t) for t in json.loads(tags)),
        segment=segment, message_count=idx + 1, reopened=reopened,
        previous_pool=conv.get("prev_pool") or None,
    )
    recorded = RecordedDecision(
        pool=dec["pool"], priority=int(dec.get("priority") or 0), bot_first=bool(dec.get("bot_first")),
        rule=dec.get("rule"), version=str(dec.get("version") or ""),
    )
    return TraceRecord(_stamp(decided), inp, recorded, cid)


async def candidates(store: Store, since: float | None) -> int:
    """How many conversations were active since `since`: the bound of a progress bar."""
    return await store.rules.active_since(since)


async def records(
    store: Store,
    since: float | None = None,
    until: float | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AsyncIterator[tuple[int, TraceRecord]]:
    """(conversations looked at, record) for decisions made in [since, until), at most `limit`.

    The conversation index is scored by last activity, which is never before the decision, so
    conversations idle since before `since` are not even read.
    """
    seen = found = 0
    total = await candidates(store, since)
    for offset in range(0, total + PAGE, PAGE):  # bounded by the count taken at the start
        page = await store.rules.decided_page(since, offset, PAGE, MAX_TRANSCRIPT)
        if not page:
            break
        for cid, conv, customer, transcript in page:
            seen += 1
            rec = _record(cid, conv, customer, transcript) if conv else None
            if rec is not None and _within(rec.ts.timestamp(), since, until):
                found += 1
                yield seen, rec
                if limit is not None and found >= limit:
                    return
            if progress:
                progress(seen, found)


def _within(ts: float, since: float | None, until: float | None) -> bool:
    return (since is None or ts >= since) and (until is None or ts < until)
