"""Read receipts: the agent's console says which web chat messages it has shown, and the
customer's page marks its own messages 已读 / Read.

The console sends `{"type": "read", "conversation_id", "message_id"}` while the conversation is
open and the page visible. The mark is kept on the conversation (it only moves forward), so a
reloaded chat page gets it in its snapshot, and published to whichever process holds the
customer's socket as `{"type": "read", "conversation_id", "message_id"}`, like typing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kefu_common.errors import ProtocolError
from router.auth import Principal
from router.models import WEBCHAT, could_be_id
from router.store.calls.channels import ReadMark
from router.web import frames

if TYPE_CHECKING:
    from router.runtime import Runtime

CLOCK_SKEW_S = 60
"""A message id may be this far ahead of this process's clock (ids are made on other processes)."""


def id_time(message_id: str) -> float:
    """When new_id made this id (its first 13 hex digits are microseconds since the epoch)."""
    return int(message_id.partition("_")[2][:13], 16) / 1e6


async def from_agent(rt: Runtime, who: Principal, cid: str, message_id: str) -> bool:
    """The agent holding `cid` has seen it up to `message_id`. Only the assigned agent's view
    counts (a supervisor looking in is not the customer's agent); other channels have no receipts
    to show, so their marks go nowhere. Returns whether the customer was told."""
    if not could_be_id("m", message_id) or id_time(message_id) > time.time() + CLOCK_SKEW_S:
        raise ProtocolError("bad_frame", '"message_id" is not a message id')
    conv = await rt.store.conversations.get(cid)
    if conv is None:
        raise ProtocolError("unknown_conversation", f"no conversation {cid}")
    if conv.agent != who.agent_id or conv.state != "assigned" or conv.channel != WEBCHAT or not conv.chat:
        return False
    if not await rt.store.run(ReadMark(cid, message_id)):
        return False
    frame = frames.dump({"type": "read", "conversation_id": cid, "message_id": message_id})
    await rt.store.publish(rt.store.keys.customer_channel, f"{conv.channel}:{conv.chat}\n-\n{frame}")
    return True
