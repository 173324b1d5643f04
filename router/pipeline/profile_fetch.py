"""What a channel knows about a customer beyond their messages (a WeChat follower's nickname,
avatar and unionid, a Telegram user's profile photo), asked once a day per customer identity,
after routing and never before the ack. A unionid links the customer across the shop's WeChat
accounts (customer_link.lua). A photo the channel hands over as bytes (its URL would carry a
secret) is kept in the media store, owned by the customer, and the avatar is our own URL for it.

Each look-up is a task this fetcher owns; `close` cancels and awaits them. A failure is logged
and leaves the customer as they were: their name is a nicety, not a message."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

from adapters.base import Adapter
from router.media import MediaStore, avatar_owner
from router.models import Message, new_id
from router.store import Store
from router.store.calls.customers import Link

log = logging.getLogger("kefu.profiles")

REFRESH_S = 24 * 3600
"""How long a channel's answer is taken as current (a nickname or avatar changes rarely)."""
AVATAR_PATH = "/api/v1/media/"
"""Where the console reads a picture the router keeps (router/web/media_api.py)."""
BACKLOG = 200
"""Look-ups in flight at most; past it, the next message asks again."""


class ProfileFetcher:
    def __init__(self, store: Store, adapters: Mapping[tuple[str, str], Adapter],
                 media: MediaStore | None = None) -> None:
        self.store = store
        self.adapters = adapters
        self.media = media
        self._tasks: set[asyncio.Task[None]] = set()
        self._asked: dict[str, float] = {}
        """Identity -> when this process last asked: a burst of lines asks once."""

    def schedule(self, msgs: Sequence[Message]) -> None:
        now = time.time()
        for m in msgs:
            ident = f"{m.channel}:{m.account}:{m.sender_ref}"
            adapter = self.adapters.get((str(m.channel), m.account))
            if adapter is None or type(adapter).profile is Adapter.profile or not m.customer_id:
                continue
            if now - self._asked.get(ident, 0.0) < REFRESH_S or len(self._tasks) >= BACKLOG:
                continue
            self._asked[ident] = now
            task = asyncio.create_task(self._run(adapter, m, ident))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, adapter: Adapter, m: Message, ident: str) -> None:
        try:
            if not await self.store.customers.profile_due(ident, REFRESH_S):
                return
            found = await adapter.profile(m.sender_ref)
            if found is None:
                return
            cust = m.customer_id or ""
            if found.union_id:
                linked = await self.store.run(Link(ident, f"unionid:{m.channel}:{found.union_id}", new_id("cu"),
                                                   time.time(), "unionid"))
                cust = linked.customer
            avatar, replaced = found.avatar, ""
            if found.photo and self.media is not None:
                ref = await self.media.put(found.photo, conversation=avatar_owner(cust), channel=str(m.channel),
                                           name="avatar")
                avatar = f"{AVATAR_PATH}{ref.id}"
                before = str((await self.store.customer(cust) or {}).get("avatar") or "")
                replaced = before.removeprefix(AVATAR_PATH) if before.startswith(AVATAR_PATH) else ""
            await self.store.customers.channel_profile(cust, found.name, avatar)
            if replaced and self.media is not None and avatar != f"{AVATAR_PATH}{replaced}":
                # A new photo: the old one is nobody's any more (same bytes keep the same id).
                old = await self.media.ref(replaced)
                if old is not None and old.conversation == avatar_owner(cust):
                    await self.media.delete(replaced)
        except Exception as exc:
            log.warning("profile of %s not fetched: %r", ident, exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
