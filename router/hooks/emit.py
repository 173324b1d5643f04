"""Events that happen outside the routing scripts (a reply or note in the transcript, a rating),
written to the webhook event stream once per event key (hook_emit.lua)."""

from __future__ import annotations

import json
import time
from typing import Any

from router.models import Direction, Message
from router.store import Store
from router.store.calls.hooks import HookEmit

SEEN_TTL_S = 7 * 86400
"""An event key is remembered this long: the longest a step that emits may be retried."""


async def emit(store: Store, key: str, etype: str, cid: str, data: dict[str, Any]) -> bool:
    """Write the event unless no webhook is on or `key` was written before."""
    return await store.run(HookEmit(key, etype, cid, json.dumps(data, ensure_ascii=False), time.time(),
                                    SEEN_TTL_S))


async def message_created(store: Store, msg: Message) -> None:
    """A reply (out) or an internal note (note) is in the transcript; customers' messages are
    emitted by route.lua as they are routed."""
    call = message_created_call(msg)
    if call is not None:
        await store.run(call)


def message_created_call(msg: Message) -> HookEmit | None:
    """`message_created`'s call, for a caller's round trip; None when there is nothing to emit."""
    if msg.direction is Direction.IN or not msg.conversation_id or msg.whisper_to() is not None:
        return None  # a whisper is for one agent, not for the shop's other systems
    data = {"conversation_id": msg.conversation_id, "direction": msg.direction.value, "message": msg.public()}
    return HookEmit(f"msg:{msg.id}", "message.created", msg.conversation_id, json.dumps(data, ensure_ascii=False),
                    time.time(), SEEN_TTL_S)
