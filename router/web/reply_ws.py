"""Agent frames that write into a conversation: `reply` (out to the customer, through the outbox)
and `note` (a private note for staff, never sent out).

`agent_ws.HANDLERS` takes these in; each answers the sender with an `ack`. A reply the customer's
channel can never deliver (too long even split, a file or card it cannot send) is refused before
anything changes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from kefu_common.errors import ProtocolError
from router.media.base import media_kind
from router.models import Channel, Kind, MediaRef, PageCard, Reply, Role, new_id
from router.ops.notes import Notes
from router.store.calls import routing as calls
from router.store.calls.agents import Emit
from router.web import access, frames
from router.web.bot_api import check_agent_text
from router.web.cards import page_card

if TYPE_CHECKING:
    from aiohttp import web

    from router.auth import Principal
    from router.runtime import Runtime


class AgentSession(Protocol):
    """What these handlers read of router.web.agent_ws.AgentSession (named here, so the two
    modules do not import each other)."""

    @property
    def rt(self) -> Runtime: ...
    @property
    def who(self) -> Principal: ...
    @property
    def ws(self) -> web.WebSocketResponse: ...


async def reply(session: AgentSession, frame: dict[str, Any]) -> dict[str, Any]:
    rt = session.rt
    cid = frames.text_field(frame, "conversation_id")
    media_id = frames.text_field(frame, "media_id", max_len=64, required=False)
    card = page_card(frame)
    body = frames.text_field(frame, "text", max_len=rt.settings.limits.max_text_chars,
                             required=not (media_id or card))
    client_id = frames.text_field(frame, "client_msg_id")
    media = await _attachment(session, cid, media_id) if media_id else None
    await _deliverable(session, cid, body, media)
    if card is not None:
        await _card_deliverable(session, cid, card)
    warning = check_agent_text(rt, body, client_id)  # raises in block mode: nothing is sent
    if warning:
        await session.ws.send_str(frames.dump(warning))
    to = await rt.store.run(calls.Reply(cid, session.who.agent_id, time.time(), session.who.can(Role.SUPERVISOR)))
    reply = Reply(
        id=new_id("m"), conversation_id=cid, customer_id=to.customer, channel=Channel(to.channel),
        account=to.account, chat=to.chat, text=body, author=session.who.agent_id,
        client_msg_id=client_id, ts=time.time(), kind=Kind.LINK if card else media_kind(media), media=media,
        card=card, author_name=session.who.name,
    )
    mid, new = await rt.outbox.enqueue(reply)
    if new and session.who.can(Role.SUPERVISOR):
        await _tell_assigned(session, reply)
    return {"type": "ack", "client_msg_id": client_id, "message_id": mid, "conversation_id": cid}

async def _tell_assigned(session: AgentSession, reply: Reply) -> None:
    """A supervisor answered in someone else's conversation (joined it): its agent sees the
    answer in their thread, as they see their own."""
    conv = await session.rt.store.conversations.get(reply.conversation_id)
    if conv is None or not conv.agent or conv.agent == session.who.agent_id:
        return
    message = {**reply.public(), "ts": reply.ts}
    await session.rt.store.run(Emit(conv.agent, frames.dump(
        {"type": "message", "conversation_id": reply.conversation_id, "message": message})))

async def _attachment(session: AgentSession, cid: str, media_id: str) -> MediaRef:
    """The file a reply attaches: uploaded for this conversation (POST /api/v1/media) or sent
    in it; any other id is unknown here, forged or not."""
    ref = await session.rt.media.ref(media_id)
    if ref is None or ref.conversation != cid:
        raise ProtocolError("unknown_media", f"no file {media_id} in conversation {cid}; upload it first", 404)
    return ref

async def _deliverable(session: AgentSession, cid: str, body: str, media: MediaRef | None = None) -> None:
    """Refuse, before anything changes, a reply the customer's channel can never deliver
    (longer than its limit allows, even split; a file it cannot send)."""
    # Most replies are text short enough for every channel configured here: then which channel
    # this conversation is on does not matter, and the reply is spared a round trip to read it.
    if media is None and all(a.undeliverable(body) is None for a in session.rt.adapters.values()):
        return
    conv = await session.rt.store.conversation(cid)
    if not conv:
        return  # the reply script says what is wrong with the conversation
    adapter = session.rt.adapters.get((str(conv.get("channel")), str(conv.get("account"))))
    why = adapter.undeliverable(body) if adapter is not None else None
    if media is not None and adapter is not None:
        why = why or adapter.undeliverable_file(media)
    if why:
        raise ProtocolError("undeliverable", why)

async def _card_deliverable(session: AgentSession, cid: str, card: PageCard) -> None:
    """Refuse a page card the conversation's channel cannot send, or whose thumbnail is not an
    image uploaded for this conversation, before anything changes."""
    conv = await session.rt.store.conversation(cid)
    if not conv:
        return  # the reply script says what is wrong with the conversation
    channel = str(conv.get("channel"))
    adapter = session.rt.adapters.get((channel, str(conv.get("account"))))
    if adapter is None or not adapter.capabilities.page_cards:
        raise ProtocolError("undeliverable", f"{channel} cannot send page cards; only mini programs can")
    if card.thumb_media:
        why = adapter.undeliverable_file(await _attachment(session, cid, card.thumb_media))
        if why:
            raise ProtocolError("undeliverable", f"the card's thumbnail: {why}")

async def note(session: AgentSession, frame: dict[str, Any]) -> dict[str, Any]:
    """A private note (router/ops/notes.py): into the transcript for staff, never out."""
    rt = session.rt
    cid = frames.text_field(frame, "conversation_id")
    body = frames.text_field(frame, "text", max_len=rt.settings.limits.max_text_chars)
    client_id = frames.text_field(frame, "client_msg_id")
    if not await access.may_see_conversation(rt, session.who, cid):
        if await rt.store.conversation(cid) is None:
            raise ProtocolError("unknown_conversation", f"no conversation {cid}")
        raise ProtocolError("forbidden", "only staff who may see this conversation write notes in it")
    written = await Notes(rt.store, rt.transcript).write(cid, session.who, body, client_id)
    return {"type": "ack", "client_msg_id": client_id, "message_id": written.message["id"],
            "conversation_id": cid, "note": True, "mentioned": list(written.mentioned)}


HANDLERS = {"reply": reply, "note": note}
