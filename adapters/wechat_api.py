"""The WeChat API calls the adapter makes, with aiohttp: the shared access token,
`message/custom/send`, and temporary media (`media/get` for what customers send, `media/upload`
for what agents attach), with WeChat's error codes mapped onto the channel errors.

wechatpy's client is synchronous and refreshes tokens against the hard-coded real host, so it
is not used here; only `api_base` is called, which tests point at a fake.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from adapters.token_api import LOCK_MS, TokenApi
from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.store import Store
from router.store.calls.channels import LockRelease
from router.store.channels import WechatRecords

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
"""Invalid credential, invalid token, token expired: refresh once and try again."""
DELAY_S = {45009: 300.0, 45011: 60.0}
"""Daily and per-minute API quota reached: try again later, not at once."""
WINDOW_CLOSED = 45015
"""The customer's 48-hour window is over: no reply goes until they write again."""
UNANSWERED_LIMIT = 45047
"""Too many replies since the customer's last message."""
MEDIA_GONE = 40007
"""media/get: the media id is unknown or past WeChat's 3 days."""
MAX_MEDIA_BYTES = 25 * 1024 * 1024
"""A download is cut off past this: WeChat's own limits are 10 MB for images and videos."""
PERMANENT = {
    WINDOW_CLOSED: "the customer's 48-hour reply window has closed; they must write first",
    UNANSWERED_LIMIT: "WeChat's limit of replies without an answer from the customer is used up",
    40003: "WeChat does not know this customer for this account (invalid openid)",
    48001: "this Official Account is not authorised to use the customer-service API",
    MEDIA_GONE: "WeChat no longer has this file (its media id is unknown or older than 3 days)",
    40004: "WeChat does not take this type of file",
    40005: "WeChat does not take this file format",
    40006: "the file is over WeChat's size limit for its type",
}

class WechatApi(TokenApi):
    """One account's API: token shared across processes through Redis, refreshed in one place."""

    label = "WeChat"
    token_errors = TOKEN_ERRORS

    def __init__(self, account: str, app_id: str, app_secret: str, api_base: str,
                 store: Store) -> None:
        super().__init__(account, api_base, store)
        self.app_id = app_id
        self.app_secret = app_secret
        self.records: WechatRecords = store.wechat
        """The shared token and its refresh lock."""

    def token_request(self) -> tuple[str, dict[str, str], str]:
        return "token", {"grant_type": "client_credential", "appid": self.app_id,
                         "secret": self.app_secret}, "app id and secret"

    async def take_lock(self, holder: str) -> bool:
        return await self.records.lock(self.account, holder, LOCK_MS)

    async def release_lock(self, holder: str) -> None:
        await self.store.run(LockRelease(self.store.keys.wechat_token_lock(self.account), holder))

    def error(self, code: int, errmsg: str) -> RetryableChannelError | PermanentChannelError:
        return error_for(code, errmsg)

    async def send_text(self, openid: str, text: str) -> None:
        """`message/custom/send` of a text."""
        await self._send({"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_media(self, openid: str, msgtype: str, media_id: str, title: str = "") -> None:
        """`message/custom/send` of an uploaded image, voice note or video."""
        content: dict[str, str] = {"media_id": media_id}
        if msgtype == "video":
            content["title"] = title
        await self._send({"touser": openid, "msgtype": msgtype, msgtype: content})

    async def user_info(self, openid: str) -> dict[str, Any]:
        """`user/info`: a follower's nickname, headimgurl and (when the account is bound to the
        shop's Open Platform) unionid."""
        return await self._with_token(lambda token: self._call(
            "GET", "user/info", params={"access_token": token, "openid": openid, "lang": "zh_CN"}))

    async def send_card(self, openid: str, title: str, pagepath: str, thumb_media_id: str) -> None:
        """`message/custom/send` of a mini program page card (mini programs' customer service)."""
        await self._send({"touser": openid, "msgtype": "miniprogrampage", "miniprogrampage": {
            "title": title, "pagepath": pagepath, "thumb_media_id": thumb_media_id}})

    async def _send(self, message: dict[str, Any]) -> None:
        """`message/custom/send`, refreshing the token once if WeChat says it is bad."""
        payload = json.dumps(message, ensure_ascii=False).encode()
        await self._with_token(lambda token: self._call(
            "POST", "message/custom/send", params={"access_token": token}, data=payload,
            headers={"Content-Type": "application/json; charset=utf-8"}))

    async def download(self, media_id: str) -> tuple[bytes, str | None]:
        """`media/get`: a customer's file and the name WeChat gives it. A video comes as a
        `video_url`, fetched in turn. Errors arrive as JSON, whatever the Content-Type says."""
        await self.start()
        assert self.session is not None
        token = await self.token()
        for attempt in (1, 2):
            data, name = await self._get_bytes(f"{self.api_base}/cgi-bin/media/get",
                                               {"access_token": token, "media_id": media_id})
            if not data.lstrip().startswith(b"{"):
                return data, name
            try:
                body = json.loads(data)
            except ValueError:
                return data, name  # bytes that happen to start with a brace
            if isinstance(body, dict) and isinstance(body.get("video_url"), str):
                return (await self._get_bytes(body["video_url"], {}))[0], name
            code = int(body.get("errcode") or 0) if isinstance(body, dict) else -1
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self._refresh(stale=token)
                continue
            raise error_for(code, str(body.get("errmsg", "") if isinstance(body, dict) else ""))
        raise AssertionError("unreachable")

    async def _get_bytes(self, url: str, params: dict[str, str]) -> tuple[bytes, str | None]:
        assert self.session is not None
        try:
            async with self.session.get(url, params=params,
                                        timeout=aiohttp.ClientTimeout(total=120)) as r:
                if r.status >= 500 or r.status == 429:
                    raise RetryableChannelError(f"WeChat answered HTTP {r.status} to a media download")
                if r.status != 200:
                    raise PermanentChannelError(f"WeChat refused the media download (HTTP {r.status})")
                data = bytearray()
                async for chunk in r.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > MAX_MEDIA_BYTES:
                        raise PermanentChannelError(
                            f"the file is over {MAX_MEDIA_BYTES // (1024 * 1024)} MB; it was not kept")
                disposition = r.content_disposition
                return bytes(data), disposition.filename if disposition is not None else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryableChannelError(f"WeChat did not answer a media download: {exc!r}") from None


def error_for(code: int, errmsg: str) -> RetryableChannelError | PermanentChannelError:
    """WeChat's errcode as the outbox's retry decision, with a reason an agent can read."""
    if code == -1:
        return RetryableChannelError("WeChat is busy; trying again", code=code)
    if code in TOKEN_ERRORS:
        return RetryableChannelError(f"WeChat rejected a fresh access token (errcode {code})", code=code)
    if code in DELAY_S:
        return RetryableChannelError(f"WeChat API quota reached (errcode {code}); trying later",
                                     retry_after=DELAY_S[code], code=code)
    if code in PERMANENT:
        return PermanentChannelError(PERMANENT[code], code=code)
    return PermanentChannelError(f"WeChat refused the reply (errcode {code}: {errmsg})", code=code)
