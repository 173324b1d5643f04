"""Customers: one person across channels, and their conversations over time."""

from __future__ import annotations

import json
from typing import Any

from router.models import Customer
from router.store.keys import Keys


def customer(cust: str, data: dict[str, str], identities: set[str]) -> Customer:
    """The struct from the customer's hash and identity set, as read."""
    return Customer(id=cust, name=data.get("name", ""), segment=data.get("segment", "new"),
                    tags=tuple(json.loads(data.get("tags") or "[]")), identities=tuple(sorted(identities)))


class Customers:
    """Reads of customers; resolve.lua creates and links them."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def get(self, cust: str) -> Customer | None:
        data: dict[str, str] = await self._r.hgetall(self._k.customer(cust))
        if not data:
            return None
        return customer(cust, data, await self._r.smembers(self._k.customer_identities(cust)))

    async def by_identity(self, channel: str, account: str, user: str) -> str | None:
        """The customer id behind a channel identity, once they have written."""
        cust: str | None = await self._r.get(self._k.identity(channel, account, user))
        return cust

    async def identities(self, cust: str) -> set[str]:
        """The channel identities linked to a customer ('channel:account:user')."""
        return set(await self._r.smembers(self._k.customer_identities(cust)))

    async def open_conversation(self, cust: str) -> str | None:
        cid: str | None = await self._r.hget(self._k.customer(cust), "open")
        return cid or None

    async def current_conversation(self, cust: str) -> str | None:
        """The customer's open conversation, else their last one."""
        open_cid, last = await self._r.hmget(self._k.customer(cust), "open", "last_conv")
        return str(open_cid or last) if open_cid or last else None

    async def conversation_ids(self, cust: str, count: int) -> list[str]:
        """The customer's `count` newest conversations, plus the open and last one when the index
        lacks them (conversations opened before the index existed are linked only from the hash)."""
        ids: list[str] = await self._r.zrevrange(self._k.customer_convs(cust), 0, count - 1)
        for extra in await self._r.hmget(self._k.customer(cust), "open", "last_conv"):
            if extra and extra not in ids:
                ids.append(extra)
        return ids
