"""WeChat's callback payload as our `Message`: the fields `parse_envelope` read
(adapters/wechat_crypto.py) become wechatpy's message with `parse_message`'s own choice of class,
without parsing the XML a second time, and that becomes a normalised `Message`.

The Official Account's adapter (adapters/wechat.py) calls these once per callback, after the
signature checks; nothing here touches the network or Redis.
"""

from __future__ import annotations

from typing import Any

from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage

from kefu_common.errors import ProtocolError
from router.models import Channel, Kind, Message, new_id

CHANNEL = Channel("wechat")

_KINDS = {"text": Kind.TEXT, "image": Kind.IMAGE, "voice": Kind.VOICE, "video": Kind.VIDEO,
          "shortvideo": Kind.VIDEO, "location": Kind.LOCATION, "link": Kind.LINK, "file": Kind.FILE}
_EVENTS = {"subscribe", "subscribe_scan", "unsubscribe", "click", "scan"}


def native_message(raw: dict[str, Any]) -> Any:
    """wechatpy's message or event for the fields parse_envelope read: what its `parse_message`
    makes of the same XML, without parsing it a second time (that was 5% of a callback's CPU).
    `raw` itself is left as it came."""
    fields = dict(raw)  # wechatpy rewrites Event and EventKey of a scan-to-subscribe
    mtype = fields["MsgType"].lower()
    if mtype != "event" and not mtype.startswith("device_"):
        return MESSAGE_TYPES.get(mtype, UnknownMessage)(fields)
    event = fields["Event"].lower() if "Event" in fields else None
    if event is None and mtype.startswith("device_"):
        event = mtype
    elif mtype.startswith("device_"):
        event = f"device_{event}"
    key = fields.get("EventKey")
    if event == "subscribe" and key:
        if key.startswith(("scanbarcode|", "scanimage|")):
            event = fields["Event"] = "subscribe_scan_product"
        elif key.startswith("qrscene_"):
            event = fields["Event"] = "subscribe_scan"
            fields["EventKey"] = key[len("qrscene_"):]
    return EVENT_TYPES.get(event, UnknownMessage)(fields)


def normalise(account: str, native: Any, raw: dict[str, Any]) -> Message:
    """A wechatpy message or event as our Message."""
    sender, created = raw.get("FromUserName"), raw.get("CreateTime")
    if not isinstance(sender, str) or not sender or not isinstance(created, str):
        raise ProtocolError("bad_xml", "a WeChat message needs FromUserName and CreateTime")
    try:
        ts = float(int(created))
    except ValueError:
        raise ProtocolError("bad_xml", "CreateTime is not a number") from None
    mtype = str(raw.get("MsgType", "")).lower()
    msg_id = raw.get("MsgId")
    # Messages are retried with the same MsgId; events have none, and WeChat's own advice is
    # FromUserName + CreateTime.
    native_id = str(msg_id) if mtype != "event" and msg_id else f"{sender}:{created}"
    kind, text, media, name = Kind.UNKNOWN, f"[{mtype or 'unknown'}]", None, None
    if mtype == "event":
        event = str(getattr(native, "event", "") or raw.get("Event", "")).lower()
        if event in _EVENTS:
            kind = Kind.EVENT
            key = getattr(native, "scene_id", None) or getattr(native, "key", None)
            text = f"[{event}{': ' + str(key) if key else ''}]"
        else:
            text = f"[event {event}]"
    elif mtype in _KINDS:
        kind = _KINDS[mtype]
        if mtype == "text":
            text = str(native.content or "")
        elif mtype == "location":
            text = f"{native.label or ''} ({native.location_x}, {native.location_y})".strip()
        elif mtype == "link":
            text = f"{native.title or ''}\n{native.url or ''}".strip()
        elif mtype == "file":  # wechatpy has no type for it: the raw fields
            media = str(raw.get("MediaId") or "") or None
            name = str(raw.get("Title") or raw.get("FileName") or "") or None
            text = name or ""
        else:
            media = str(native.media_id or "") or None
            text = str(raw.get("Recognition") or "") if mtype == "voice" else ""
    return Message(id=new_id("m"), channel=CHANNEL, account=account, native_id=native_id,
                   sender_ref=sender, kind=kind, text=text, native_media=media, native_name=name, ts=ts,
                   raw=raw)
