"""What the WeChat and WeCom APIs share: one aiohttp session, JSON calls under `/cgi-bin/`, and
an access token shared by every process through Redis.

Both platforms retire the previous token when a new one is fetched, so processes must share one
and only one of them may refresh it at a time (a lock in Redis); the others wait for the token it
stores. Each API names its token request, its lock and its error codes; the rest is here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

import aiohttp

from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.store import Store

LOCK_MS = 10_000
"""How long one process may take to refresh the token before another may try."""
TOKEN_MARGIN_S = 300
"""Drop the cached token this much before the platform's expiry, so no call uses a dying token."""


class TokenRecords(Protocol):
    async def token(self, account: str) -> str | None: ...

    async def store_token(self, account: str, token: str, ttl_s: int) -> None: ...


class TokenApi:
    """One account's API on a WeChat-family platform. Subclasses set `label`, `token_errors` and
    `records`, and say how the token is asked for, how its lock is taken and released, and how an
    errcode reads to an agent."""

    label: ClassVar[str]
    """The platform's name in errors an agent reads: "WeChat", "WeCom"."""
    token_errors: ClassVar[frozenset[int]]
    """errcodes that mean the token is bad: refresh once and try again."""
    records: TokenRecords

    def __init__(self, account: str, api_base: str, store: Store) -> None:
        self.account = account
        self.api_base = api_base.rstrip("/")
        self.store = store
        self.session: aiohttp.ClientSession | None = None
        self.log = logging.getLogger(f"kefu.{self.label.lower()}")

    # -- what each platform says differently ----------------------------------------------------
    def token_request(self) -> tuple[str, dict[str, str], str]:
        """The token call's path under /cgi-bin/, its query, and what a refusal is of ("the app
        id and secret")."""
        raise NotImplementedError

    async def take_lock(self, holder: str) -> bool:
        raise NotImplementedError

    async def release_lock(self, holder: str) -> None:
        raise NotImplementedError

    def error(self, code: int, errmsg: str) -> RetryableChannelError | PermanentChannelError:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        await self.start()
        assert self.session is not None
        try:
            async with self.session.request(method, f"{self.api_base}/cgi-bin/{path}", **kw) as r:
                if r.status >= 500 or r.status == 429:
                    raise RetryableChannelError(f"{self.label} answered HTTP {r.status}")
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RetryableChannelError(f"{self.label} did not answer: {exc!r}") from None
        if not isinstance(body, dict):
            raise RetryableChannelError(f"{self.label} answered something that is not a JSON object")
        return body

    async def token(self) -> str:
        """The shared token, fetching one if there is none."""
        return await self.records.token(self.account) or await self._refresh(stale=None)

    async def _refresh(self, stale: str | None) -> str:
        """Fetch a token while holding the lock; others wait for the token it stores.

        `stale` is the token an API call rejected: only that one is discarded, so a process
        that saw an old token does not throw away the fresh token another process just got.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCK_MS / 1000
        while True:
            if current := await self._usable(stale):
                return current
            me = secrets.token_hex(8)
            if await self.take_lock(me):
                try:
                    # Look again now that we hold the lock: the process that held it before may
                    # have stored its token after our look. Fetching anyway would cost a call and
                    # retire the token that process's sends are using.
                    return await self._usable(stale) or await self._fetch()
                finally:
                    await self.release_lock(me)
            if loop.time() > deadline:
                raise RetryableChannelError(f"another process is still refreshing the {self.label} access token")
            await asyncio.sleep(0.05)

    async def _usable(self, stale: str | None) -> str | None:
        current = await self.records.token(self.account)
        return current if current and current != stale else None

    async def _fetch(self) -> str:
        path, params, credentials = self.token_request()
        body = await self._call("GET", path, params=params)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            code = body.get("errcode")
            if code == -1:
                raise RetryableChannelError(f"{self.label} is busy (getting the access token)")
            raise PermanentChannelError(
                f"{self.label} refused the {credentials} of account {self.account!r} "
                f"(errcode {code}: {body.get('errmsg', '')})")
        expires = int(body.get("expires_in") or 7200)
        await self.records.store_token(self.account, token, max(60, expires - TOKEN_MARGIN_S))
        self.log.info("%s %s: new access token", self.label.lower(), self.account)
        return token

    async def _with_token(self, call: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """Run an API call with the shared token, refreshing it once if the platform says it is
        bad; the answer when errcode is 0, else the error as a channel error."""
        token = await self.token()
        for attempt in (1, 2):
            body = await call(token)
            code = int(body.get("errcode") or 0)
            if code == 0:
                return body
            if code in self.token_errors and attempt == 1:
                token = await self._refresh(stale=token)
                continue
            raise self.error(code, str(body.get("errmsg", "")))
        raise AssertionError("unreachable")

    async def upload(self, media_type: str, data: bytes, filename: str, mime: str) -> str:
        """`media/upload` of a temporary file (image, voice, video or thumb); its media id, good
        for 3 days. Both platforms take the same form."""
        async def call(token: str) -> dict[str, Any]:
            form = aiohttp.FormData()
            form.add_field("media", data, filename=filename, content_type=mime)
            return await self._call("POST", "media/upload", params={"access_token": token, "type": media_type},
                                    data=form)

        body = await self._with_token(call)
        media_id = body.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise RetryableChannelError(f"{self.label}'s media/upload answered without a media_id")
        return media_id
