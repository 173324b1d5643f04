"""Reads that gather what one frame shows from several keys in one round trip.

An agent is sent an `assigned` frame for every conversation it is given: the conversation, its
customer and the transcript with delivery states and fetched files. Read one await at a time that was five round
trips per new chat, the most of any step of routing one (bench/roundtrips.py); pipelined it is
one. The customer's id comes with the event (lib.lua's assign), so the customer's keys go in the
same pipeline; an event without it (a process of an earlier version emitted it) costs a second.

A new chat's first line needs no read at all: its transcript is that line, which rides on the
event, and route.lua puts the conversation and customer hashes on the published copy of the event
(lib.lua's `assigned_view`); `published_view` takes them from there. The stored copy has no view,
so a replayed event is read as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from router.models import Conversation, Customer
from router.store.conversations import conversation
from router.store.customers import customer
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class AssignedView:
    conversation: Conversation | None
    customer: Customer | None
    messages: list[str]
    """The transcript's encoded messages, oldest first (the last `limit`)."""
    deliveries: dict[str, str]
    """Message id -> delivery status JSON."""
    attachments: dict[str, str]
    """Message id -> the file fetched for a customer's message (JSON)."""


def _flat(pairs: object) -> dict[str, str]:
    """A hash as HGETALL gives it inside a script (name, value, ...); cjson writes an empty one as {}."""
    if not isinstance(pairs, list):
        return {}
    return {str(k): str(v) for k, v in zip(pairs[::2], pairs[1::2], strict=False)}


def published_view(event: dict[str, Any]) -> AssignedView | None:
    """The view an `assigned` event brought along from pub/sub, or None when it has none (a
    replay, a conversation with history) and must be read. Its messages are empty: the event's
    trigger is the whole transcript."""
    view = event.get("view")
    if not isinstance(view, dict):
        return None
    conv = _flat(view.get("conv"))
    if not conv:
        return None
    cust_id = conv.get("customer") or ""
    data = _flat(view.get("customer"))
    idents = view.get("idents")
    cust = customer(cust_id, data, {str(i) for i in idents} if isinstance(idents, list) else set()) \
        if cust_id and data else None
    return AssignedView(conversation(conv), cust, [], {}, {})


async def assigned_view(client: Any, keys: Keys, cid: str, customer_hint: str, limit: int) -> AssignedView:
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.conv(cid))
    pipe.xrevrange(keys.transcript(cid), count=limit)
    pipe.hgetall(keys.delivery(cid))
    pipe.hgetall(keys.attachments(cid))
    if customer_hint:
        pipe.hgetall(keys.customer(customer_hint))
        pipe.smembers(keys.customer_identities(customer_hint))
    res = await pipe.execute()
    conv = conversation(res[0]) if res[0] else None
    messages = [fields["m"] for _, fields in reversed(res[1])]
    cust_id = (conv.customer_id if conv else None) or customer_hint
    cust: Customer | None = None
    if cust_id and cust_id == customer_hint:
        cust = customer(cust_id, res[4], res[5]) if res[4] else None
    elif cust_id:
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(keys.customer(cust_id))
        pipe.smembers(keys.customer_identities(cust_id))
        data, idents = await pipe.execute()
        cust = customer(cust_id, data, idents) if data else None
    return AssignedView(conv, cust, messages, res[2], res[3])


async def assigned_views(client: Any, keys: Keys, cids: list[str], limit: int) -> list[AssignedView]:
    """What the `assigned` frames of many conversations show (an agent's snapshot on connect),
    in two round trips however many there are: the conversations with their transcripts, then
    their customers. One await per conversation, two round trips each, made a console with 50
    open chats wait 100 round trips and held the process meanwhile."""
    if not cids:
        return []
    pipe = client.pipeline(transaction=False)
    for cid in cids:
        pipe.hgetall(keys.conv(cid))
        pipe.xrevrange(keys.transcript(cid), count=limit)
        pipe.hgetall(keys.delivery(cid))
        pipe.hgetall(keys.attachments(cid))
    res = await pipe.execute()
    convs = [conversation(res[4 * i]) if res[4 * i] else None for i in range(len(cids))]
    who = sorted({c.customer_id for c in convs if c is not None and c.customer_id})
    people: dict[str, Customer] = {}
    if who:
        pipe = client.pipeline(transaction=False)
        for cust_id in who:
            pipe.hgetall(keys.customer(cust_id))
            pipe.smembers(keys.customer_identities(cust_id))
        found = await pipe.execute()
        people = {cust_id: customer(cust_id, found[2 * i], found[2 * i + 1])
                  for i, cust_id in enumerate(who) if found[2 * i]}
    return [AssignedView(conv, people.get(conv.customer_id or "") if conv else None,
                         [fields["m"] for _, fields in reversed(res[4 * i + 1])], res[4 * i + 2], res[4 * i + 3])
            for i, conv in enumerate(convs)]
