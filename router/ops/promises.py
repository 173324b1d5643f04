"""SLA promises: the customer is told when to expect an answer (docs/sla.md, "Promises").

A profile with a `promise` (router/ops/sla_profiles.py) makes `sla_start` (router/store/lua/sla_lib.lua)
schedule a `promise` timer, due at once, the first time a conversation gets that profile; a flag
on the conversation makes that once per conversation, whether it came from a new conversation or
a bot handoff, and a reopen does not repeat it. Firing the timer words the promise in the
customer's language with the target's time filled in, and sends it through the outbox on the
customer's own channel (web chat included, `Outbox.tell`), keyed by conversation, so a timer fired twice after a
lost lease still sends one text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.ops.sla import SlaService
    from router.pipeline.outbox import Outbox
    from router.pipeline.transcript import Transcript
    from router.store import Store


TIMER_KIND = "promise"


class Promises:
    """The `promise` timer's handler, with the few parts it needs."""

    def __init__(self, store: Store, sla: SlaService, transcript: Transcript, outbox: Outbox) -> None:
        self.store = store
        self.sla = sla
        self.transcript = transcript
        self.outbox = outbox

    async def fire(self, tid: str, data: dict[str, Any], now: float) -> None:
        """Timer handler: send the conversation's promise, unless it closed first."""
        cid = str(data.get("cid"))
        conv = await self.store.conversations.get(cid)
        if conv is None or conv.state == "closed" or not conv.sla.get("profile"):
            return
        profile = self.sla.profiles.get(str(conv.sla["profile"]))
        if profile is None or profile.promise is None:
            return  # the profile lost its promise since (a restart with new profiles)
        text = profile.promise.text(await self.transcript.customer_language(cid))
        await self.outbox.tell(cid, f"promise:{cid}", text)
