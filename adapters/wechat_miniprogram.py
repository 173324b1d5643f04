"""WeChat mini program customer service (customerServiceMessage): the Official Account adapter
with another token, its own payloads and a card type.

The message push is checked as an Official Account's callback is (signature, replay window, and
with an AES key `msg_signature` and the payload decrypted: adapters/wechat.py) and comes as JSON
or XML, whichever the mini program's console chose. Customers send text, pictures and mini program
page cards, and enter a session (`user_enter_tempsession`, with the page's `SessionFrom`). Replies
go through the same `message/custom/send` with the mini program's own access token, in the same
window and quota; files go as pictures, and a page card goes through `WechatApi.send_card`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from adapters.base import Capabilities, ChannelProfile
from adapters.registry import register
from adapters.wechat import WechatAccountSettings, WechatAdapter
from adapters.wechat_crypto import parse_envelope
from kefu_common.errors import PermanentChannelError, ProtocolError
from router.models import Channel, Kind, Message, PageCard, Reply, new_id

CHANNEL = Channel("miniprogram")


class MiniProgramSettings(WechatAccountSettings, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One mini program under `channels.miniprogram`: its app id and secret, and the message push's
    Token and EncodingAESKey (same meanings as an Official Account's)."""


@register
class MiniProgramAdapter(WechatAdapter):
    channel: ClassVar[Channel] = CHANNEL
    settings_type: ClassVar[type[Any]] = MiniProgramSettings
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quota=True, media_messages=True,
                                                        page_cards=True)
    out_types: ClassVar[dict[str, tuple[str, ...]]] = {"image": ("image/jpeg", "image/png", "image/gif")}
    product: ClassVar[str] = "WeChat mini programs"
    takes: ClassVar[str] = "pictures (JPEG, PNG, GIF)"

    @classmethod
    def records_of(cls, account: str) -> str:
        # A colon no account name has: a mini program and an Official Account both called "shop"
        # keep separate tokens and quotas.
        return f"miniprogram:{account}"

    def encrypted_field(self, body: bytes) -> object:
        if body.lstrip().startswith(b"{"):
            return _json(body).get("Encrypt")
        return parse_envelope(body).get("Encrypt")

    def parse(self, payload: bytes) -> Sequence[Message]:
        raw = _json(payload) if payload.lstrip().startswith(b"{") else parse_envelope(payload)
        return [normalise(self.account, {k: v if isinstance(v, str | dict) else str(v) for k, v in raw.items()})]

    async def profile(self, user: str) -> ChannelProfile | None:
        return None  # a mini program has no user/info: the shop identifies its users itself

    async def send_card(self, reply: Reply, card: PageCard, index: int) -> None:
        """A page card: its thumbnail uploaded first when it is a file of ours (as an image, the
        type the card's thumb_media_id takes), then sent, taking one reply from the window like
        any other message."""
        thumb = card.thumb_media_id
        if card.thumb_media:
            ref = await self.deps.media.ref(card.thumb_media) if self.deps.media is not None else None
            if ref is None:
                raise PermanentChannelError("the card's thumbnail is no longer in the media store")
            refused = self.undeliverable_file(ref)
            if refused is not None:
                raise PermanentChannelError(refused)
            thumb = await self.uploaded(ref, "image")
        await self._spend(reply.chat, self.api.send_card(reply.chat, card.title, card.pagepath, thumb))


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise ProtocolError("bad_json", "the mini program's push is not valid JSON") from None
    if not isinstance(doc, dict):
        raise ProtocolError("bad_json", "expected a JSON object")
    return doc


def normalise(account: str, raw: dict[str, Any]) -> Message:
    """A mini program push (JSON or XML fields alike) as our Message; unknown types are kept."""
    sender, created = raw.get("FromUserName"), raw.get("CreateTime")
    if not isinstance(sender, str) or not sender or not isinstance(created, str):
        raise ProtocolError("bad_payload", "a mini program message needs FromUserName and CreateTime")
    try:
        ts = float(int(created))
    except ValueError:
        raise ProtocolError("bad_payload", "CreateTime is not a number") from None
    mtype = str(raw.get("MsgType", "")).lower()
    msg_id = raw.get("MsgId")
    native_id = str(msg_id) if mtype != "event" and msg_id else f"{sender}:{created}"
    kind, text, media = Kind.UNKNOWN, f"[{mtype or 'unknown'}]", None
    if mtype == "text":
        kind, text = Kind.TEXT, str(raw.get("Content") or "")
    elif mtype == "image":
        kind, text, media = Kind.IMAGE, "", str(raw.get("MediaId") or "") or None
    elif mtype == "miniprogrampage":
        # A card of one of the shop's pages: what the customer is asking about.
        kind = Kind.LINK
        text = f"{raw.get('Title') or ''}\n{raw.get('PagePath') or ''}".strip()
    elif mtype == "event":
        event = str(raw.get("Event", "")).lower()
        if event == "user_enter_tempsession":
            kind = Kind.EVENT
            came_from = str(raw.get("SessionFrom") or "")
            text = f"[{event}{': ' + came_from if came_from else ''}]"
        else:
            text = f"[event {event}]"
    return Message(id=new_id("m"), channel=CHANNEL, account=account, native_id=native_id, sender_ref=sender,
                   kind=kind, text=text, native_media=media, ts=ts, raw=raw)
