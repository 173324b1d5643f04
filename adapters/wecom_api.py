"""The WeCom API calls the 微信客服 channel makes, with aiohttp: the shared access token
(`gettoken`), `kf/sync_msg`, `kf/send_msg`, `kf/send_msg_on_event`, `kf/service_state/trans`,
and temporary media (`media/get`, `media/upload`), with WeCom's error codes mapped onto the
channel errors an agent reads.

Only `api_base` is called (https://qyapi.weixin.qq.com by default), which tests point at a fake.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp

from adapters.token_api import LOCK_MS, TokenApi
from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.store import Store
from router.store.wecom import WecomRecords

TOKEN_ERRORS = frozenset({40014, 42001, 41001})
"""Invalid, expired or missing access_token: refresh once and try again."""
SYNC_TOKEN_ERRORS = frozenset({95007, 95008})
"""The callback's sync token is invalid or expired: sync_msg is called again without it."""
COUNT_USED_UP = 95001
"""No more messages to this customer until they write again (WeCom's 5 per 48 hours)."""
WINDOW_CLOSED = 95002
"""The 48 hours after the customer's last message are over."""
SESSION_ENDED = 95013
"""The kf session is over (ended in WeCom, or it timed out)."""
INVALID_USER = 40096
"""The external_userid is not a customer of this corp."""
PERMANENT = {
    COUNT_USED_UP: "WeCom allows 5 messages in the 48 hours after the customer's last message; "
                   "they are used up until the customer writes again",
    WINDOW_CLOSED: "the customer's 48-hour reply window has closed; they must write first",
    SESSION_ENDED: "the WeCom session with this customer has ended; they must write again",
    95000: "WeCom does not know this kf account (open_kfid)",
    95004: "WeCom does not know this kf account (open_kfid)",
    95016: "WeCom refused this change of the session's state",
    INVALID_USER: "WeCom does not know this customer (invalid external_userid)",
    40003: "WeCom does not know this customer (invalid user id)",
    40007: "WeCom no longer has this file (its media id is unknown or older than 3 days)",
    40004: "WeCom does not take this type of file",
    40005: "WeCom does not take this file format",
    40006: "the file is over WeCom's size limit for its type",
    48002: "this WeCom app is not allowed to call the 微信客服 API (check the app's API permissions)",
}
DELAY_S = {45009: 300.0, 45033: 60.0, 45011: 60.0}
"""Frequency limits: try again later, not at once."""
MAX_MEDIA_BYTES = 25 * 1024 * 1024
DEFAULT_BASE = "https://qyapi.weixin.qq.com"


def error_for(code: int, errmsg: str) -> RetryableChannelError | PermanentChannelError:
    """WeCom's errcode as the outbox's retry decision, with a reason an agent can read."""
    if code == -1:
        return RetryableChannelError("WeCom is busy; trying again", code=code)
    if code in TOKEN_ERRORS:
        return RetryableChannelError(f"WeCom rejected a fresh access token (errcode {code})", code=code)
    if code in DELAY_S:
        return RetryableChannelError(f"WeCom API frequency limit reached (errcode {code}); trying later",
                                     retry_after=DELAY_S[code], code=code)
    if code in PERMANENT:
        return PermanentChannelError(PERMANENT[code], code=code)
    if 95000 <= code < 96000:
        return PermanentChannelError(f"WeCom refused it for this kf session (errcode {code}: {errmsg})", code=code)
    return PermanentChannelError(f"WeCom refused it (errcode {code}: {errmsg})", code=code)


def client_msgid(reply_id: str, index: int) -> str:
    """Our id for one message of a reply, within WeCom's 32 characters of [0-9a-zA-Z_-]."""
    return hashlib.sha256(f"{reply_id}:{index}".encode()).hexdigest()[:32]


class WecomApi(TokenApi):
    """One account's API: the token shared across processes through Redis, refreshed in one place."""

    label = "WeCom"
    token_errors = TOKEN_ERRORS

    def __init__(self, account: str, corp_id: str, secret: str, api_base: str, store: Store) -> None:
        super().__init__(account, api_base, store)
        self.corp_id = corp_id
        self.secret = secret
        self.records: WecomRecords = store.wecom

    def token_request(self) -> tuple[str, dict[str, str], str]:
        return "gettoken", {"corpid": self.corp_id, "corpsecret": self.secret}, "corp id and secret"

    async def take_lock(self, holder: str) -> bool:
        return await self.records.lock(self.account, "token:lock", holder, LOCK_MS)

    async def release_lock(self, holder: str) -> None:
        await self.store.run(self.records.release(self.account, "token:lock", holder))

    def error(self, code: int, errmsg: str) -> RetryableChannelError | PermanentChannelError:
        return error_for(code, errmsg)

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(payload, ensure_ascii=False).encode()
        return await self._with_token(lambda token: self._call(
            "POST", path, params={"access_token": token}, data=data,
            headers={"Content-Type": "application/json; charset=utf-8"}))

    # -- the kf calls -----------------------------------------------------------------------------
    async def sync_msg(self, kfid: str, cursor: str, token: str, limit: int) -> dict[str, Any]:
        """One page of `kf/sync_msg`; without `token` when WeCom says the callback's has lapsed."""
        payload: dict[str, Any] = {"open_kfid": kfid, "limit": limit, "voice_format": 0}
        if cursor:
            payload["cursor"] = cursor
        if token:
            payload["token"] = token
        try:
            return await self.post("kf/sync_msg", payload)
        except PermanentChannelError as exc:
            if exc.code not in SYNC_TOKEN_ERRORS or not token:
                raise
            payload.pop("token")
            return await self.post("kf/sync_msg", payload)

    async def send_msg(self, kfid: str, user: str, msgid: str, msgtype: str, content: dict[str, Any]) -> None:
        await self.post("kf/send_msg", {"touser": user, "open_kfid": kfid, "msgid": msgid, "msgtype": msgtype,
                                        msgtype: content})

    async def send_on_event(self, code: str, msgid: str, text: str) -> None:
        """The welcome message of an enter_session, with its welcome_code (good for 20 s, once)."""
        await self.post("kf/send_msg_on_event", {"code": code, "msgid": msgid, "msgtype": "text",
                                                 "text": {"content": text}})

    async def trans_state(self, kfid: str, user: str, state: int, servicer: str = "") -> None:
        payload: dict[str, Any] = {"open_kfid": kfid, "external_userid": user, "service_state": state}
        if servicer:
            payload["servicer_userid"] = servicer
        await self.post("kf/service_state/trans", payload)

    # -- media ------------------------------------------------------------------------------------
    async def download(self, media_id: str) -> tuple[bytes, str | None]:
        """`media/get`: a customer's file and its name. Errors come as JSON bodies."""
        token = await self.token()
        for attempt in (1, 2):
            data, name, is_json = await self._get_bytes(media_id, token)
            if not is_json:
                return data, name
            try:
                body = json.loads(data)
            except ValueError:
                return data, name
            code = int(body.get("errcode") or 0) if isinstance(body, dict) else -1
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self._refresh(stale=token)
                continue
            raise error_for(code, str(body.get("errmsg", "") if isinstance(body, dict) else ""))
        raise AssertionError("unreachable")

    async def _get_bytes(self, media_id: str, token: str) -> tuple[bytes, str | None, bool]:
        await self.start()
        assert self.session is not None
        try:
            async with self.session.get(f"{self.api_base}/cgi-bin/media/get",
                                        params={"access_token": token, "media_id": media_id},
                                        timeout=aiohttp.ClientTimeout(total=120)) as r:
                if r.status >= 500 or r.status == 429:
                    raise RetryableChannelError(f"WeCom answered HTTP {r.status} to a media download")
                if r.status != 200:
                    raise PermanentChannelError(f"WeCom refused the media download (HTTP {r.status})")
                data = bytearray()
                async for chunk in r.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > MAX_MEDIA_BYTES:
                        raise PermanentChannelError(
                            f"the file is over {MAX_MEDIA_BYTES // (1024 * 1024)} MB; it was not kept")
                disposition = r.content_disposition
                is_json = r.content_type in ("application/json", "text/plain") and data.lstrip().startswith(b"{")
                return bytes(data), disposition.filename if disposition is not None else None, is_json
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryableChannelError(f"WeCom did not answer a media download: {exc!r}") from None
