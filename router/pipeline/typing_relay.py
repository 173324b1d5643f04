"""Typing indicators between a web chat customer and their agent.

A `typing` frame is a hint, not part of the conversation: it is published to whichever process
holds the other side's socket and never written to a transcript, feed or event stream, so a
reconnect does not replay stale "is typing" notices. Each socket's frames are throttled, so a
client that sends one per keystroke costs one publish per interval (an agent's frames are still
checked each time, so a wrong conversation id always gets its error frame).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kefu_common.errors import ProtocolError
from router.auth import Principal
from router.models import WEBCHAT, Role
from router.store.calls.customers import CustomerTyping
from router.web import frames

if TYPE_CHECKING:
    from router.runtime import Runtime

INTERVAL_S = 2.0
"""At most one relayed frame per interval per socket and conversation."""
_MAX_TRACKED = 1000


class Throttle:
    """Per-socket gate: True at most once per interval for each key."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def ready(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self._last.get(key, float("-inf")) >= self.interval_s

    def mark(self, key: str, now: float | None = None) -> None:
        if len(self._last) >= _MAX_TRACKED:
            self._last.clear()  # a socket never has this many conversations at once
        self._last[key] = time.monotonic() if now is None else now

    def allow(self, key: str, now: float | None = None) -> bool:
        if not self.ready(key, now):
            return False
        self.mark(key, now)
        return True


async def from_customer(rt: Runtime, visitor: str, gate: Throttle) -> None:
    """A web chat customer is typing: tell the agent holding their open conversation, if any.
    Only a relayed frame starts the interval: typing before an agent took the chat must not
    silence the first keystrokes after."""
    if not gate.ready("customer"):
        return
    # One script finds the agent and publishes: at the peak these come from thousands of pages.
    if await rt.store.run(CustomerTyping(f"{WEBCHAT}:web:{visitor}")):
        gate.mark("customer")


async def from_agent(rt: Runtime, who: Principal, cid: str, gate: Throttle) -> None:
    """An agent is typing in `cid`: tell the web chat customer. Other channels have no indicator
    we can drive, so the frame is accepted and goes nowhere."""
    conv = await rt.store.conversations.get(cid)
    if conv is None:
        raise ProtocolError("unknown_conversation", f"no conversation {cid}")
    if conv.agent != who.agent_id and not who.can(Role.SUPERVISOR):
        raise ProtocolError("not_assigned_to_you", f"{cid} is not assigned to you")
    if conv.state != "assigned" or conv.channel != WEBCHAT or not conv.chat or not gate.allow(cid):
        return
    frame = frames.dump({"type": "typing", "from": "agent", "conversation_id": cid})
    await rt.store.publish(rt.store.keys.customer_channel, f"{conv.channel}:{conv.chat}\n-\n{frame}")
