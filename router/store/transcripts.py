"""Transcripts ({t:<conversation>} slots): each conversation's messages in order, and the
delivery status of its replies. Appends go through append_once.lua (calls.streams.AppendOnce)."""

from __future__ import annotations

from typing import Any

from router.models import Message, decode_message
from router.store.keys import Keys


class Transcripts:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def latest(self, cid: str, limit: int) -> list[str]:
        """The encoded messages (the entries' 'm' field) of the last `limit`, oldest first."""
        rows = await self._r.xrevrange(self._k.transcript(cid), count=limit)
        return [fields["m"] for _, fields in reversed(rows)]

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
