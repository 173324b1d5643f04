"""One entry of a `kf/sync_msg` page as our Message.

A customer is addressed by the pair WeCom needs to answer them: the external_userid and the kf
account (open_kfid) they wrote to, kept together as the chat `external_userid@open_kfid`, so a
customer of two kf accounts is two conversations, as in WeCom itself.

Entries are customers' messages (origin 3) and system events (origin 4). What our servicers sent
(origin 5, including our own send_msg replies, which WeCom lists too) is not a customer's message
and is left out, as are events about servicers rather than customers (`servicer_status_change`).
An entry we cannot read raises `Malformed`, which the pull logs with its msgid and skips.
"""

from __future__ import annotations

import re
from typing import Any

from router.models import Channel, Kind, Message, new_id

CHANNEL = Channel("wecom")
ORIGIN_CUSTOMER, ORIGIN_EVENT, ORIGIN_SERVICER = 3, 4, 5
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")

_MEDIA = {"image": Kind.IMAGE, "voice": Kind.VOICE, "video": Kind.VIDEO, "file": Kind.FILE}
SESSION_CHANGES = {1: "a WeCom servicer took the session from the queue", 2: "the session was transferred in WeCom",
                   3: "the session was ended in WeCom", 4: "a WeCom servicer took the ended session up again"}
STATES = {0: "untreated", 1: "smart assistant", 2: "in queue", 3: "human", 4: "ended"}


class Malformed(ValueError):
    """An entry we cannot read; its msgid (when it has one) for the log."""

    def __init__(self, msgid: str, why: str) -> None:
        super().__init__(why)
        self.msgid = msgid


def chat_of(user: str, kfid: str) -> str:
    return f"{user}@{kfid}"


def split_chat(chat: str) -> tuple[str, str]:
    """(external_userid, open_kfid) of a chat made by `chat_of`."""
    user, sep, kfid = chat.rpartition("@")
    if not sep or not user or not kfid:
        raise ValueError(f"not a WeCom chat: {chat!r}")
    return user, kfid


def _str(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _section(entry: dict[str, Any], key: str, msgid: str) -> dict[str, Any]:
    section = entry.get(key)
    if not isinstance(section, dict):
        raise Malformed(msgid, f"a {key} entry without its {key!r} object")
    return section


def parse_entry(account: str, entry: Any) -> Message | None:
    """The Message of one sync_msg entry; None for entries that are not a customer's (see above)."""
    if not isinstance(entry, dict):
        raise Malformed("", "an entry that is not an object")
    msgid = _str(entry, "msgid")
    if not msgid or len(msgid) > 128:
        raise Malformed(msgid, "an entry without a msgid")
    origin = entry.get("origin")
    mtype = _str(entry, "msgtype")
    send_time = entry.get("send_time")
    if not isinstance(send_time, int | float) or isinstance(send_time, bool):
        raise Malformed(msgid, "send_time is not a number")
    if origin == ORIGIN_SERVICER:
        return None
    if mtype == "event":
        return _event(account, entry, msgid, float(send_time))
    if origin != ORIGIN_CUSTOMER:
        raise Malformed(msgid, f"origin {origin!r} for a {mtype!r} message")
    user, kfid = _str(entry, "external_userid"), _str(entry, "open_kfid")
    if not _ID.match(user) or not _ID.match(kfid):
        raise Malformed(msgid, "external_userid or open_kfid missing or malformed")
    kind, text, media = Kind.UNKNOWN, f"[{mtype or 'unknown'}]", None
    if mtype == "text":
        kind, text = Kind.TEXT, _str(_section(entry, "text", msgid), "content")
    elif mtype in _MEDIA:
        media = _str(_section(entry, mtype, msgid), "media_id")
        if not media:
            raise Malformed(msgid, f"a {mtype} without a media_id")
        kind, text = _MEDIA[mtype], ""
    elif mtype == "location":
        loc = _section(entry, "location", msgid)
        label = " ".join(s for s in (_str(loc, "name"), _str(loc, "address")) if s)
        kind, text = Kind.LOCATION, f"{label} ({loc.get('latitude')}, {loc.get('longitude')})".strip()
    elif mtype == "link":
        link = _section(entry, "link", msgid)
        kind = Kind.LINK
        text = "\n".join(s for s in (_str(link, "title"), _str(link, "desc"), _str(link, "url")) if s)
    elif mtype == "miniprogram":
        card = _section(entry, "miniprogram", msgid)
        kind = Kind.LINK
        text = f"[mini program] {_str(card, 'title')}\n{_str(card, 'appid')} {_str(card, 'pagepath')}".strip()
    elif mtype == "business_card":
        card = _section(entry, "business_card", msgid)
        kind, text = Kind.LINK, f"[business card] {_str(card, 'userid')}"
    return Message(id=new_id("m"), channel=CHANNEL, account=account, native_id=msgid,
                   sender_ref=chat_of(user, kfid), kind=kind, text=text, native_media=media,
                   ts=float(send_time), raw=entry)


def _event(account: str, entry: dict[str, Any], msgid: str, ts: float) -> Message | None:
    event = _section(entry, "event", msgid)
    etype = _str(event, "event_type")
    if etype == "servicer_status_change":
        return None  # about a servicer, not a customer: the pull logs it
    user = _str(event, "external_userid") or _str(entry, "external_userid")
    kfid = _str(event, "open_kfid") or _str(entry, "open_kfid")
    if not _ID.match(user) or not _ID.match(kfid):
        raise Malformed(msgid, f"a {etype or 'nameless'} event without external_userid or open_kfid")
    if etype == "enter_session":
        scene, param = _str(event, "scene"), _str(event, "scene_param")
        text = f"[enter_session scene={scene or '-'} scene_param={param or '-'}]"
    elif etype == "msg_send_fail":
        text = (f"[msg_send_fail: a reply did not reach the customer (msgid {_str(event, 'fail_msgid')}, "
                f"fail_type {event.get('fail_type')})]")
    elif etype == "session_status_change":
        change = event.get("change_type")
        what = SESSION_CHANGES.get(change if isinstance(change, int) else -1, f"change_type {change}")
        text = f"[session_status_change: {what}]"
    else:
        text = f"[event {etype or 'unknown'}]"
    return Message(id=new_id("m"), channel=CHANNEL, account=account, native_id=msgid,
                   sender_ref=chat_of(user, kfid), kind=Kind.EVENT, text=text, ts=ts, raw=entry)
