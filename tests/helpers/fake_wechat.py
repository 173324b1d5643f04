"""A fake WeChat API on loopback: `cgi-bin/token`, `cgi-bin/message/custom/send`, and the
temporary media of `cgi-bin/media/get` and `cgi-bin/media/upload`.

Scriptable: push errcodes onto `script` and the next sends answer them in order (0 is
success); `status_script` answers HTTP statuses instead. Every attempt is kept in `attempts`;
the sends WeChat took, in `sent`.

Media as at WeChat: `add_media` puts a customer's file where `media/get` serves it (a video as
JSON with a `video_url` to download, everything else as bytes with `Content-Disposition`); an
error is a JSON body sent as `text/plain`. `get_script` answers the next gets with errcodes or
HTTP statuses (100 to 599 are statuses). `media/upload` keeps what it took in `uploaded`, and
`custom/send` of an image, voice or video refuses a media id that was not uploaded (40007).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

UPLOAD_LIMITS = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024,
                 "thumb": 64 * 1024}
"""Temporary media WeChat takes, by type: bytes at most."""


@dataclass(frozen=True)
class Upload:
    type: str
    filename: str
    content_type: str
    data: bytes


class FakeWechat:
    def __init__(self, app_id: str = "wxfake", app_secret: str = "fake-secret") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.script: list[int] = []
        self.status_script: list[int] = []
        self.attempts: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []
        self.token_calls = 0
        self.token_delay_s = 0.0
        self.hold_tokens: asyncio.Event | None = None
        """When set to an Event, token answers wait for it: a test orders processes' steps."""
        self.valid_tokens: set[str] = set()
        self.media: dict[str, tuple[str, str, bytes]] = {}
        """media id -> (content type, file name, bytes): what customers sent, for media/get."""
        self.get_script: list[int] = []
        self.gets: list[str] = []
        self.get_gate: asyncio.Event | None = None
        self.get_delay_s = 0.0
        """Seconds every media/get waits before answering: a slow media server."""
        """When set to an Event, media/get answers wait for it: a test holds a download open."""
        self.uploaded: dict[str, Upload] = {}
        self.users: dict[str, dict[str, Any]] = {}
        """openid -> what user/info answers (nickname, headimgurl, unionid); unknown: errcode 40003."""
        self.user_info_calls: list[str] = []
        self._n = itertools.count(1)
        self.base = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        app.router.add_get("/cgi-bin/user/info", self.user_info)
        app.router.add_post("/cgi-bin/media/upload", self.media_upload)
        app.router.add_get("/video/{media_id}", self.video_download)
        return app

    async def token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id \
                or q.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        self.token_calls += 1
        if self.token_delay_s:
            await asyncio.sleep(self.token_delay_s)
        if self.hold_tokens is not None:
            await asyncio.wait_for(self.hold_tokens.wait(), 10)
        token = f"TOKEN-{next(self._n)}"
        # A new token invalidates the older ones, as at WeChat (without their 5-minute grace).
        self.valid_tokens = {token}
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw_bodies.append(raw)
        body = json.loads(raw)
        token = request.query.get("access_token", "")
        self.attempts.append({"token": token, **body})
        if self.status_script:
            return web.Response(status=self.status_script.pop(0), text="busy")
        if token not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        code = self.script.pop(0) if self.script else 0
        mtype = body.get("msgtype")
        if code == 0 and mtype in ("image", "voice", "video") and \
                body.get(mtype, {}).get("media_id") not in self.uploaded:
            code = 40007
        if code == 0:
            self.sent.append(body)
        return web.json_response({"errcode": code, "errmsg": "ok" if code == 0 else f"scripted {code}"})

    async def user_info(self, request: web.Request) -> web.Response:
        if request.query.get("access_token", "") not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        openid = request.query.get("openid", "")
        self.user_info_calls.append(openid)
        if openid not in self.users:
            return web.json_response({"errcode": 40003, "errmsg": "invalid openid"})
        return web.json_response({"subscribe": 1, "openid": openid, **self.users[openid]})

    def add_media(self, data: bytes, content_type: str, name: str = "") -> str:
        """A file a customer sent; returns the media id a callback would carry."""
        media_id = f"MEDIA_{next(self._n)}_{len(self.media)}"
        self.media[media_id] = (content_type, name or media_id, data)
        return media_id

    def _error(self, code: int, msg: str) -> web.Response:
        # WeChat answers media errors as JSON labelled text/plain.
        return web.Response(text=json.dumps({"errcode": code, "errmsg": msg}), content_type="text/plain")

    async def media_get(self, request: web.Request) -> web.StreamResponse:
        media_id = request.query.get("media_id", "")
        self.gets.append(media_id)
        if self.get_gate is not None:
            await asyncio.wait_for(self.get_gate.wait(), 30)
        if self.get_delay_s:
            await asyncio.sleep(self.get_delay_s)
        if self.get_script:
            code = self.get_script.pop(0)
            if 100 <= code < 600:
                return web.Response(status=code, text="busy")
            return self._error(code, f"scripted {code}")
        if request.query.get("access_token", "") not in self.valid_tokens:
            return self._error(40001, "invalid credential")
        if media_id not in self.media:
            return self._error(40007, "invalid media_id")
        ctype, name, data = self.media[media_id]
        if ctype.startswith("video/"):
            return web.json_response({"video_url": f"{self.base}/video/{media_id}"})
        return web.Response(body=data, headers={
            "Content-Type": ctype, "Content-Disposition": f'attachment; filename="{name}"'})

    async def video_download(self, request: web.Request) -> web.Response:
        found = self.media.get(request.match_info["media_id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[2], content_type=found[0])

    async def media_upload(self, request: web.Request) -> web.Response:
        if request.query.get("access_token", "") not in self.valid_tokens:
            return self._error(40001, "invalid credential")
        mtype = request.query.get("type", "")
        limit = UPLOAD_LIMITS.get(mtype)
        if limit is None:
            return self._error(40004, "invalid media type")
        form = await request.post()
        field = form.get("media")
        if not isinstance(field, web.FileField):
            return self._error(41005, "media data missing")
        data = field.file.read()
        if not data or len(data) > limit:
            return self._error(40006, "invalid media size")
        media_id = f"UP_{mtype}_{next(self._n)}"
        self.uploaded[media_id] = Upload(mtype, field.filename, field.content_type, data)
        return web.json_response({"type": mtype, "media_id": media_id, "created_at": 1_700_000_000})

    def sent_media(self, openid: str) -> list[Upload]:
        """What the customer was sent as image, voice or video, in order, as uploaded."""
        return [self.uploaded[m[m["msgtype"]]["media_id"]] for m in self.sent
                if m["touser"] == openid and m["msgtype"] in ("image", "voice", "video")]

    def expire_tokens(self) -> None:
        """As if WeChat expired every token (42001 follows for the cached one)."""
        self.valid_tokens = set()


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Run an aiohttp app on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def fake_wechat(**kw: Any) -> AsyncIterator[FakeWechat]:
    fake = FakeWechat(**kw)
    async with serve_app(fake.app()) as base:
        fake.base = base
        yield fake


# -- building callbacks as WeChat does --------------------------------------------------------
def text_xml(openid: str, content: str, msg_id: int, create_time: int = 1_700_000_000,
             to: str = "gh_shop") -> str:
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def media_xml(openid: str, mtype: str, media_id: str, msg_id: int, create_time: int = 1_700_000_000,
              recognition: str = "") -> str:
    """An image, voice, video or shortvideo callback, as WeChat posts it."""
    extra = {"image": f"<PicUrl><![CDATA[http://mmbiz.example/{media_id}]]></PicUrl>",
             "voice": "<Format><![CDATA[amr]]></Format>" + (
                 f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition else ""),
             "video": "<ThumbMediaId><![CDATA[THUMB]]></ThumbMediaId>",
             "shortvideo": "<ThumbMediaId><![CDATA[THUMB]]></ThumbMediaId>"}[mtype]
    return (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[{mtype}]]></MsgType><MediaId><![CDATA[{media_id}]]></MediaId>{extra}"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, create_time: int = 1_700_000_000, key: str = "") -> str:
    extra = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{extra}</xml>")


def signed_query(token: str, encrypted: str | None = None, timestamp: str | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    """The query WeChat adds to a callback; with `encrypted`, the safe-mode fields too. The
    timestamp is now and the nonce new, as WeChat's are, unless given."""
    import time
    import uuid

    from adapters.wechat_crypto import signature

    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    q = {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
         "openid": "x"}
    if encrypted is not None:
        q.update(encrypt_type="aes", msg_signature=signature(token, timestamp, nonce, encrypted))
    return q


def safe_body(encrypted: str) -> str:
    return f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
