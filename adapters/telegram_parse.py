"""Telegram updates (the Bot API's JSON) as Messages.

`native_id` is the `update_id`: the ingest's dedupe key remembers it for 7 days, longer than
Telegram keeps an undelivered update (24 h), so a retried webhook is accepted once. A max-id rule
would be wrong: after a week without updates Telegram picks the next id at random.
"""

from __future__ import annotations

from typing import Any

from kefu_common.errors import ProtocolError
from router.models import Channel, Kind, Message, new_id

CHANNEL = Channel("telegram")

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
"""What set-webhook and polling ask for: the updates a customer's words arrive in."""


def parse_update(account: str, data: Any) -> Message | None:
    """One update as a Message, or None for kinds that carry nothing a customer wrote."""
    if not isinstance(data, dict):
        raise ProtocolError("bad_update", "an update must be a JSON object")
    uid = data.get("update_id")
    if not isinstance(uid, int) or isinstance(uid, bool):
        raise ProtocolError("bad_update", "an update needs an integer update_id")
    for field in ("message", "edited_message"):
        m = data.get(field)
        if isinstance(m, dict):
            return _message(account, uid, m, data, edited=field == "edited_message")
    cq = data.get("callback_query")
    if isinstance(cq, dict):
        sender = _dict(cq.get("from"))
        chat = _dict(_dict(cq.get("message")).get("chat")).get("id", sender.get("id"))
        if chat is None:
            raise ProtocolError("bad_update", "callback_query without a user")
        return Message(
            id=new_id("m"), channel=CHANNEL, account=account, native_id=str(uid),
            sender_ref=str(chat), kind=Kind.EVENT, text=f"[button: {cq.get('data', '')}]",
            customer_name=_name(sender), raw=data,
        )
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name(user: dict[str, Any]) -> str | None:
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return name[:64] or None


def _message(account: str, uid: int, m: dict[str, Any], raw: dict[str, Any], edited: bool) -> Message:
    chat = _dict(m.get("chat")).get("id")
    if not isinstance(chat, int | str):
        raise ProtocolError("bad_update", "a message needs chat.id")
    caption = str(m.get("caption") or "")
    kind, text, media, name = Kind.UNKNOWN, "", None, None
    attached = next((f for f in _FILES if isinstance(m.get(f), dict)), None)
    if isinstance(m.get("text"), str):
        kind, text = Kind.TEXT, m["text"]
    elif isinstance(m.get("photo"), list) and m["photo"]:
        # Sizes come smallest first; the agent gets the largest.
        kind, text, media = Kind.IMAGE, caption, _dict(m["photo"][-1]).get("file_id")
    elif attached is not None:
        found = m[attached]
        kind, media = _FILES[attached], found.get("file_id")
        name = str(found.get("file_name") or "") or None
        text = caption or (f"[sticker {found.get('emoji', '')}]".replace(" ]", "]") if attached == "sticker" else "")
        if attached == "document":
            text = caption or name or ""
    elif isinstance(m.get("location"), dict):
        loc = m["location"]
        kind, text = Kind.LOCATION, f"{loc.get('latitude')}, {loc.get('longitude')}"
    elif isinstance(m.get("contact"), dict):
        c = m["contact"]
        who = " ".join(str(c[k]) for k in ("first_name", "last_name") if c.get(k))
        kind, text = Kind.TEXT, f"[contact] {who} {c.get('phone_number', '')}".strip()
    else:
        known = next((k for k in m if k not in _META), "unknown")
        text = f"[{known}]"
    if edited:
        text = f"(edited) {text}"
    ts = m.get("edit_date") if edited and m.get("edit_date") else m.get("date")
    return Message(
        id=new_id("m"), channel=CHANNEL, account=account, native_id=str(uid),
        sender_ref=str(chat), kind=kind, text=text, native_media=str(media) if media else None, native_name=name,
        ts=float(ts) if isinstance(ts, int | float) else 0.0,
        customer_name=_name(_dict(m.get("from"))) or _dict(m.get("chat")).get("title"), raw=raw,
    )


_FILES = {"voice": Kind.VOICE, "audio": Kind.VOICE, "video": Kind.VIDEO, "video_note": Kind.VIDEO,
          "animation": Kind.VIDEO, "sticker": Kind.IMAGE, "document": Kind.FILE}
"""Attachments other than photos, in the order tried: an animation also carries a `document`."""

_META = {"message_id", "from", "chat", "date", "edit_date", "sender_chat", "message_thread_id",
         "forward_origin", "reply_to_message", "entities", "caption_entities", "caption",
         "is_topic_message", "via_bot", "author_signature", "has_protected_content"}
