"""Transcripts ({t:<conversation>} slots): each conversation's messages in order, the delivery
status of its replies, and the files fetched for its customers' messages. Appends go through
append_once.lua (calls.streams.AppendOnce)."""

from __future__ import annotations

from typing import Any

import msgspec

from router.models import MediaRef, Message, decode_message
from router.store.keys import Keys


class Transcripts:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def latest(self, cid: str, limit: int) -> list[str]:
        """The encoded messages (the entries' 'm' field) of the last `limit`, oldest first."""
        rows = await self._r.xrevrange(self._k.transcript(cid), count=limit)
        return [fields["m"] for _, fields in reversed(rows)]

    async def after(self, cid: str, entry_id: str, count: int) -> list[tuple[str, str]]:
        """(entry id, encoded message) of up to `count` entries after `entry_id` ('0': from the
        start), oldest first: what a supervisor reading the conversation has not seen yet."""
        start = "-" if entry_id in ("", "0") else f"({entry_id}"
        rows = await self._r.xrange(self._k.transcript(cid), min=start, count=count)
        return [(eid, fields["m"]) for eid, fields in rows]

    async def entry_of(self, cid: str, mid: str) -> str | None:
        """The transcript entry id of message `mid`, if it is in the transcript."""
        entry: str | None = await self._r.hget(self._k.transcript_ids(cid), mid)
        return entry

    async def last_entry(self, cid: str) -> str:
        """The newest entry id of the transcript ('0' when empty)."""
        rows = await self._r.xrevrange(self._k.transcript(cid), count=1)
        return str(rows[0][0]) if rows else "0"

    async def messages(self, cid: str) -> list[Message]:
        """The whole transcript, oldest first."""
        rows = await self._r.xrange(self._k.transcript(cid))
        return [decode_message(fields["m"]) for _, fields in rows]

    async def deliveries(self, cid: str) -> dict[str, str]:
        """Message id -> delivery status JSON."""
        out: dict[str, str] = await self._r.hgetall(self._k.delivery(cid))
        return out

    async def set_delivery(self, cid: str, mid: str, status_json: str) -> None:
        await self._r.hset(self._k.delivery(cid), mid, status_json)

    def queue_delivery(self, pipe: Any, cid: str, mid: str, status_json: str) -> None:
        """`set_delivery` in a caller's round trip."""
        pipe.hset(self._k.delivery(cid), mid, status_json)

    async def attach(self, cid: str, mid: str, record_json: str) -> None:
        """The file fetched for a message, or why it could not be (keys.attachments)."""
        await self._r.hset(self._k.attachments(cid), mid, record_json)

    async def attachments(self, cid: str) -> dict[str, str]:
        """Message id -> attachment JSON."""
        out: dict[str, str] = await self._r.hgetall(self._k.attachments(cid))
        return out


class _Attachment(msgspec.Struct):
    media: MediaRef | None = None
    error: str | None = None


def with_attachments(msgs: list[Message], records: dict[str, str]) -> list[Message]:
    """The messages, each carrying the file fetched for it since it was appended (`attachments`);
    a record of a failed fetch leaves its message without one."""
    out = []
    for m in msgs:
        raw = records.get(m.id)
        if raw is not None and m.media is None:
            ref = msgspec.json.decode(raw, type=_Attachment).media
            if ref is not None:
                m = msgspec.structs.replace(m, media=ref)
        out.append(m)
    return out
