"""Customers: one person across channels, and their conversations over time."""

from __future__ import annotations

import json
from typing import Any

from router.models import Customer
from router.store.keys import Keys

PROFILE_FIELDS = ("name", "phone", "segment", "tags", "attrs", "avatar", "product")
"""Hash fields a profile edit may set; tags, attrs and product are JSON."""


def customer(cust: str, data: dict[str, str], identities: set[str]) -> Customer:
    """The struct from the customer's hash and identity set, as read."""
    product = json.loads(data["product"]) if data.get("product") else None
    return Customer(id=cust, name=data.get("name", ""), segment=data.get("segment", "new"),
                    tags=tuple(json.loads(data.get("tags") or "[]")), identities=tuple(sorted(identities)),
                    phone=data.get("phone", ""), attributes=json.loads(data.get("attrs") or "{}"),
                    avatar=data.get("avatar", ""), product=product if isinstance(product, dict) else None,
                    merged_into=data.get("merged_into", ""))


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

    async def exists(self, cust: str) -> bool:
        return bool(await self._r.exists(self._k.customer(cust)))

    async def update(self, cust: str, fields: dict[str, str], *, lock_name: bool = False) -> None:
        """Set profile fields ('' deletes one). `lock_name`: a person or the shop named them, so
        a channel's profile name no longer replaces it (resolve.lua reads `name_locked`)."""
        unknown = set(fields) - set(PROFILE_FIELDS)
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        pipe = self._r.pipeline(transaction=True)
        key = self._k.customer(cust)
        for name, value in fields.items():
            if value == "":
                pipe.hdel(key, name)
            else:
                pipe.hset(key, name, value)
        if lock_name and fields.get("name"):
            pipe.hset(key, "name_locked", "1")
        await pipe.execute()

    async def profile_due(self, ident: str, every_s: int) -> bool:
        """True for the one caller that should ask the channel for this identity's profile now."""
        return bool(await self._r.set(self._k.profile_asked(ident), "1", nx=True, ex=every_s))

    async def channel_profile(self, cust: str, name: str, avatar: str) -> None:
        """What the channel calls the customer: the name unless a person or the shop set one."""
        key = self._k.customer(cust)
        fields = {"avatar": avatar} if avatar else {}
        if name and await self._r.hget(key, "name_locked") != "1":
            fields["name"] = name
        if fields:  # in one write: a console reading between two saw a name without its face
            await self._r.hset(key, mapping=fields)

    async def names(self, custs: list[str]) -> dict[str, str]:
        """Customer id -> name, for lists (one round trip); customers without one are left out."""
        ids = sorted({c for c in custs if c})
        if not ids:
            return {}
        pipe = self._r.pipeline(transaction=False)
        for cust in ids:
            pipe.hget(self._k.customer(cust), "name")
        return {cust: name for cust, name in zip(ids, await pipe.execute(), strict=True) if name}

    async def merged_ids(self, cust: str) -> set[str]:
        """The customers merged into this one (their archived conversations are this one's too)."""
        return set(await self._r.smembers(self._k.customer_merged(cust)))

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
