"""What the channel adapters keep in Redis: split replies' progress and webhook nonces (any
channel), the web chat feed a page replays, a WeChat account's shared access token and its
customers' reply quotas, Telegram's moved groups."""

from __future__ import annotations

import time
from typing import Any

from router.store.calls.channels import NonceFirst, WindowOpen
from router.store.coalesce import Coalescer
from router.store.keys import Keys


class ChannelRecords:
    """What any channel keeps: how far a split reply got, and the bodies signed webhook requests
    came with (adapters/replay.py)."""

    def __init__(self, client: Any, keys: Keys, batched: Coalescer | None = None) -> None:
        self._r = client
        self._k = keys
        self._batched = batched

    async def parts_sent(self, reply_id: str) -> int:
        """How many parts of a split reply the channel already took."""
        return int(await self._r.get(self._k.reply_parts(reply_id)) or 0)

    async def mark_parts_sent(self, reply_id: str, n: int, ttl_s: int) -> None:
        await self._r.set(self._k.reply_parts(reply_id), n, ex=ttl_s)

    async def state(self, channel: str, account: str, *parts: str) -> str | None:
        """A value a channel keeps for itself (Keys.channel_state), if it is there."""
        found: str | None = await self._r.get(self._k.channel_state(channel, account, *parts))
        return found

    async def keep_state(self, value: str, channel: str, account: str, *parts: str, ttl_s: int | None = None) -> None:
        """Keep a channel's own value, for `ttl_s` when given; a new channel needs no method here."""
        await self._r.set(self._k.channel_state(channel, account, *parts), value, ex=ttl_s)

    async def first_body(self, key: str, digest: str, ttl_s: int) -> tuple[bool, str | None]:
        """Remember `digest` under `key` (Keys.webhook_nonce) for `ttl_s` unless one is remembered:
        (True, None) when this is the first, else (False, the digest remembered, None if it just
        lapsed). One script call, in the pipeline of the calls made at the same moment."""
        if self._batched is None:
            if await self._r.set(key, digest, nx=True, ex=ttl_s):
                return True, None
            seen: str | None = await self._r.get(key)
            return False, seen
        return await self._batched.run(NonceFirst(key, digest, ttl_s))


class Feeds:
    """Web chat feeds ({f:<visitor>}): what each visitor was shown, for replay on reconnect.
    Entries are added by append_once.lua (calls.streams.AppendOnce); a connecting page's history
    is read by feed_since.lua (calls.channels.FeedSince)."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def after(self, visitor: str, after: str, count: int) -> list[tuple[str, str]]:
        """(entry id, frame) shown after entry `after`, oldest first."""
        entries = await self._r.xrange(self._k.feed(visitor), min=f"({after}", count=count)
        return [(eid, fields["m"]) for eid, fields in entries]


class WechatRecords:
    """One Redis for every process: the access token (each refresh retires the last one at WeChat,
    so processes must share it), its refresh lock, and the 48-hour reply windows."""

    def __init__(self, client: Any, keys: Keys, batched: Coalescer | None = None) -> None:
        self._r = client
        self._k = keys
        self._batched = batched

    async def token(self, account: str) -> str | None:
        found = await self._r.get(self._k.wechat_token(account))
        return str(found) if found else None

    async def store_token(self, account: str, token: str, ttl_s: int) -> None:
        await self._r.set(self._k.wechat_token(account), token, ex=ttl_s)

    async def lock(self, account: str, holder: str, lease_ms: int) -> bool:
        """Take the token-refresh lock for `lease_ms`; False when another process holds it.
        Release it with calls.channels.LockRelease."""
        return bool(await self._r.set(self._k.wechat_token_lock(account), holder, nx=True, px=lease_ms))

    async def open_window(self, account: str, openid: str, window_s: int) -> None:
        """The customer wrote: a fresh window with the full quota, expiring with the window. On
        the webhook path: one script call in the pipeline of the calls made at the same moment."""
        if self._batched is not None:
            await self._batched.run(WindowOpen(account, openid, time.time(), window_s))
            return
        key = self._k.wechat_quota(account, openid)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, mapping={"used": 0, "opened": time.time()})
        pipe.expire(key, window_s)
        await pipe.execute()

    async def window(self, account: str, openid: str) -> tuple[int, float] | None:
        """(replies used, when the window opened), or None when it has closed."""
        used, opened = await self._r.hmget(self._k.wechat_quota(account, openid), "used", "opened")
        if used is None:
            return None
        return int(used), float(opened or 0)

    async def close_window(self, account: str, openid: str) -> None:
        await self._r.delete(self._k.wechat_quota(account, openid))

    async def uploaded(self, account: str, media_id: str) -> str | None:
        """The WeChat media id our file got when uploaded to this account, while it is good."""
        found = await self._r.get(self._k.wechat_upload(account, media_id))
        return str(found) if found else None

    async def remember_upload(self, account: str, media_id: str, wechat_id: str, ttl_s: int) -> None:
        await self._r.set(self._k.wechat_upload(account, media_id), wechat_id, ex=ttl_s)

    async def use_up(self, account: str, openid: str, quota: int) -> None:
        """WeChat says no more replies until the customer answers, whatever we counted."""
        await self._r.hset(self._k.wechat_quota(account, openid), "used", quota)


class TelegramRecords:
    """The chats a Telegram group moved to when it became a supergroup."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def moved_to(self, bot: str, chat: str) -> str | None:
        """A group's new supergroup chat id after it migrated, if it did."""
        found = await self._r.get(self._k.telegram_migrated(bot, chat))
        return str(found) if found else None

    async def record_move(self, bot: str, chat: str, new_chat: str) -> None:
        await self._r.set(self._k.telegram_migrated(bot, chat), new_chat)

    async def file_id(self, bot: str, media_id: str) -> str | None:
        """The file_id Telegram gave our file when this bot sent it before."""
        found = await self._r.get(self._k.telegram_file(bot, media_id))
        return str(found) if found else None

    async def remember_file_id(self, bot: str, media_id: str, file_id: str, ttl_s: int) -> None:
        await self._r.set(self._k.telegram_file(bot, media_id), file_id, ex=ttl_s)
